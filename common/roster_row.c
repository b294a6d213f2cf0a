/* roster_row: the column table of a roster file and the syntax of each column. */
#include "roster_row.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "region.h"
#include "utf8.h"

typedef enum {
    K_CHANGE, K_NIK, K_TEXT, K_DATE, K_GENDER, K_INSTITUTION, K_ROLE, K_REGION, K_TPS, K_WAGE, K_PROGRAMS
} col_kind;

struct column {
    const char *name;
    unsigned bit;      /* RF_* bit, 0 for the required columns */
    col_kind kind;
    size_t offset;     /* of the target field in roster_change (K_TEXT, K_DATE) */
    size_t size;       /* of a text buffer, NUL included */
};

#define TEXT(name, bit, member) {name, bit, K_TEXT, offsetof(roster_change, member), sizeof(((roster_change *)0)->member)}
#define DATE(name, bit, member) {name, bit, K_DATE, offsetof(roster_change, member), 0}

static const struct column columns[] = {
    {"change", 0, K_CHANGE, 0, 0},
    {"nik", 0, K_NIK, 0, 0},
    TEXT("full_name", RF_FULL_NAME, full_name),
    DATE("birth_date", RF_BIRTH_DATE, birth_date),
    {"gender", RF_GENDER, K_GENDER, 0, 0},
    {"institution", RF_INSTITUTION, K_INSTITUTION, 0, 0},
    {"role", RF_ROLE, K_ROLE, 0, 0},
    {"region_code", RF_REGION, K_REGION, 0, 0},
    {"tps", RF_TPS, K_TPS, 0, 0},
    DATE("term_start", RF_TERM_START, term_start),
    DATE("term_end", RF_TERM_END, term_end),
    {"monthly_wage", RF_WAGE, K_WAGE, 0, 0},
    {"programs", RF_PROGRAMS, K_PROGRAMS, 0, 0},
    TEXT("agreement_id", RF_AGREEMENT, agreement_id),
    TEXT("kpj", RF_KPJ, kpj),
    DATE("effective_date", RF_EFFECTIVE, effective_date),
    TEXT("phone", RF_PHONE, phone),
};
#define NCOLUMNS ((int)(sizeof columns / sizeof columns[0]))

/* The column called name; files mostly have contracts.md's order, so index hint (the
 * name's position in the row) is tried first. */
static const struct column *lookup_at(const char *name, int hint)
{
    if (hint >= 0 && hint < NCOLUMNS && strcmp(columns[hint].name, name) == 0)
        return &columns[hint];
    for (int i = 0; i < NCOLUMNS; i++)
        if (columns[i].name[0] == name[0] && strcmp(columns[i].name, name) == 0)
            return &columns[i];
    return NULL;
}

/* The columns of a row's cells (at most MAP_CELLS): looked up once per header
 * (rowsrc_row.header_id) on each thread, else for this row into own. Returns the column of
 * each cell (NULL: unknown). */
#define MAP_CELLS 64
static _Thread_local struct {
    unsigned long header_id;
    int ncells;
    const struct column *col[MAP_CELLS];
} header_map;

static const struct column *const *cell_columns(const rowsrc_row *row, const struct column **own)
{
    if (!row->header_id) {
        for (int k = 0; k < row->ncells; k++)
            own[k] = lookup_at(row->names[k], k);
        return own;
    }
    if (header_map.header_id != row->header_id || header_map.ncells != row->ncells) {
        for (int k = 0; k < row->ncells; k++)
            header_map.col[k] = lookup_at(row->names[k], k);
        header_map.header_id = row->header_id;
        header_map.ncells = row->ncells;
    }
    return header_map.col;
}

/* Digits only, at least one, no sign or separator, at most max. */
static int parse_uint(const char *s, int64_t max, int64_t *out)
{
    int64_t v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        int d = *s - '0';
        if (v > (max - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* The last value each column (by table index) parsed well on this thread, with what it
 * gave: the next row of an export mostly has the same dates, region and programs, and
 * parsing is a pure function of the text, so an equal text gives the same result. */
#define MEMO_TEXT 24
static _Thread_local struct memo {
    char text[MEMO_TEXT];   /* "" when nothing is kept */
    union {
        int32_t days;
        char region[11];
        unsigned programs;
    } u;
} memo[sizeof columns / sizeof columns[0]];

/* The memo of column c when it holds v, else NULL. */
static const struct memo *memo_hit(const struct column *c, const char *v)
{
    const struct memo *m = &memo[c - columns];
    return m->text[0] && strcmp(m->text, v) == 0 ? m : NULL;
}

/* The memo of column c to fill for v, or NULL when v is too long to keep. */
static struct memo *memo_keep(const struct column *c, const char *v)
{
    struct memo *m = &memo[c - columns];
    size_t len = strnlen(v, MEMO_TEXT);
    if (len >= MEMO_TEXT)
        return NULL;
    memcpy(m->text, v, len + 1);
    return m;
}

/* Parse one non-empty cell of column c into rc. Returns 0 or -1 with errstr. */
static int parse_cell(const struct column *c, const char *v, roster_change *rc, const char *file, long line,
                      int col, char *errstr, size_t size)
{
    char *base = (char *)rc;
    int memo_kind = c->kind == K_DATE || c->kind == K_REGION || c->kind == K_PROGRAMS;
    const struct memo *hit = memo_kind ? memo_hit(c, v) : NULL;
    struct memo *keep;
    int64_t n;
    int k;

    if (hit) {
        if (c->kind == K_DATE)
            memcpy(base + c->offset, &hit->u.days, sizeof hit->u.days);
        else if (c->kind == K_REGION)
            memcpy(rc->region_code, hit->u.region, sizeof rc->region_code);
        else
            rc->programs = hit->u.programs;
        return 0;
    }
    switch (c->kind) {
    case K_CHANGE:
        if ((k = roster_change_parse(v)) < 0)
            return rowsrc_error(errstr, size, file, line, col, "unknown change '%.*s': use ENROLL, UPDATE or TERMINATE",
                                (int)utf8_cut(v, 32), v);
        rc->change = (roster_change_kind)k;
        return 0;
    case K_NIK:
        if (strlen(v) >= sizeof rc->nik)
            return rowsrc_error(errstr, size, file, line, col, "nik longer than %zu characters", sizeof rc->nik - 1);
        strcpy(rc->nik, v);
        return 0;
    case K_TEXT: {
        size_t len = strnlen(v, c->size);
        if (len >= c->size)
            return rowsrc_error(errstr, size, file, line, col, "%s longer than %zu bytes", c->name, c->size - 1);
        memcpy(base + c->offset, v, len + 1);
        return 0;
    }
    case K_DATE: {
        int32_t days;
        if (dates_parse(v, &days) != 0)
            return rowsrc_error(errstr, size, file, line, col, "%s is not a calendar date YYYY-MM-DD", c->name);
        memcpy(base + c->offset, &days, sizeof days);
        if ((keep = memo_keep(c, v)))
            keep->u.days = days;
        return 0;
    }
    case K_GENDER:
        if ((v[0] != 'L' && v[0] != 'P') || v[1])
            return rowsrc_error(errstr, size, file, line, col, "gender must be L or P");
        rc->gender = v[0];
        return 0;
    case K_INSTITUTION:
        if ((k = roster_institution_parse(v)) < 0)
            return rowsrc_error(errstr, size, file, line, col, "unknown institution '%.*s': use KPU or BAWASLU",
                                (int)utf8_cut(v, 32), v);
        rc->institution = (roster_institution)k;
        return 0;
    case K_ROLE:
        if ((k = roster_role_parse(v)) < 0)
            return rowsrc_error(errstr, size, file, line, col, "unknown role '%.*s'", (int)utf8_cut(v, 32), v);
        rc->role = (roster_role)k;
        return 0;
    case K_REGION: {
        char why[128] = "";
        if (region_normalize(v, rc->region_code, sizeof rc->region_code, NULL, why, sizeof why) != 0)
            return rowsrc_error(errstr, size, file, line, col, "%s", why);
        if ((keep = memo_keep(c, v)))
            memcpy(keep->u.region, rc->region_code, sizeof keep->u.region);
        return 0;
    }
    case K_TPS:
        if ((k = parse_uint(v, INT_MAX, &n)) != 0)
            return rowsrc_error(errstr, size, file, line, col, k == -2 ? "tps is too large" : "tps must be digits only");
        rc->tps = (int)n;
        return 0;
    case K_WAGE:
        if ((k = parse_uint(v, INT64_MAX, &n)) != 0)
            return rowsrc_error(errstr, size, file, line, col,
                                k == -2 ? "monthly_wage is too large" : "monthly_wage must be whole rupiah, digits only");
        rc->monthly_wage = n;
        return 0;
    case K_PROGRAMS:
        if ((k = roster_programs_parse(v)) < 0)
            return rowsrc_error(errstr, size, file, line, col,
                                "programs must be a ';'-separated subset of JKK, JKM, JHT without repeats");
        rc->programs = (unsigned)k;
        if ((keep = memo_keep(c, v)))
            keep->u.programs = rc->programs;
        return 0;
    }
    return rowsrc_error(errstr, size, file, line, col, "internal error: column kind");
}

int roster_row_parse(const rowsrc_row *row, const char *file, int ignore_unknown, roster_change *rc,
                     char *errstr, size_t errstr_size)
{
    char event_id[sizeof rc->event_id], source[sizeof rc->source];
    int64_t event_time_us = rc->event_time_us;
    int have_change = 0, have_nik = 0;

    memcpy(event_id, rc->event_id, sizeof event_id);
    memcpy(source, rc->source, sizeof source);
    roster_change_init(rc);
    memcpy(rc->event_id, event_id, sizeof event_id);
    memcpy(rc->source, source, sizeof source);
    rc->event_time_us = event_time_us;

    /* Beyond MAP_CELLS cells (a file of unknown columns), each cell is looked up. */
    const struct column *own[MAP_CELLS];
    const struct column *const *map = row->ncells <= MAP_CELLS ? cell_columns(row, own) : NULL;

    for (int i = 0; i < row->ncells; i++) {
        const struct column *c = map ? map[i] : lookup_at(row->names[i], i);
        const char *v = row->values[i];
        int col = row->columns[i];

        if (!c) {
            if (ignore_unknown)
                continue;
            return rowsrc_error(errstr, errstr_size, file, row->line, col, "unknown column '%.*s'",
                                (int)utf8_cut(row->names[i], 64), row->names[i]);
        }
        if (c->kind == K_CHANGE || c->kind == K_NIK) {
            if (!v)
                return rowsrc_error(errstr, errstr_size, file, row->line, col, "'%s' is required and empty", c->name);
            *(c->kind == K_CHANGE ? &have_change : &have_nik) = 1;
        }
        if (!v)
            continue;
        if (parse_cell(c, v, rc, file, row->line, col, errstr, errstr_size) != 0)
            return -1;
        rc->fields |= c->bit;
    }
    if (!have_change)
        return rowsrc_error(errstr, errstr_size, file, row->line, 0, "missing column 'change'");
    if (!have_nik)
        return rowsrc_error(errstr, errstr_size, file, row->line, 0, "missing column 'nik'");
    return 0;
}

int roster_row_check_header(const char *const *names, int n, const char *file, int ignore_unknown,
                            char *errstr, size_t errstr_size)
{
    int have_change = 0, have_nik = 0;

    for (int i = 0; i < n; i++) {
        const struct column *c = lookup_at(names[i], i);
        if (!c) {
            if (ignore_unknown)
                continue;
            return rowsrc_error(errstr, errstr_size, file, 1, i + 1, "unknown column '%.*s'",
                                (int)utf8_cut(names[i], 64), names[i]);
        }
        have_change |= c->kind == K_CHANGE;
        have_nik |= c->kind == K_NIK;
    }
    if (!have_change)
        return rowsrc_error(errstr, errstr_size, file, 1, 0, "missing column 'change'");
    if (!have_nik)
        return rowsrc_error(errstr, errstr_size, file, 1, 0, "missing column 'nik'");
    return 0;
}

const char *roster_row_field_name(unsigned rf_bit)
{
    for (int i = 0; i < NCOLUMNS; i++)
        if (columns[i].bit && columns[i].bit == rf_bit)
            return columns[i].name;
    return NULL;
}
