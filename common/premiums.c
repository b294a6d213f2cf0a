/* premiums: the versioned rates and billing rules, parsed from TSV, and term premiums. */
#include "premiums.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "errstr.h"
#include "names.h"
#include "roster.h"
#include "textfile.h"

#define RATES_HEADER "version\teffective_from\tscheme\tprogram\trisk_class\tkind\tvalue\tsource"
#define RULES_HEADER "version\teffective_from\tscheme\trule\tvalue\tsource"
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define BP_MAX 10000
#define RISK_MAX 5
#define MIN_DAYS_MAX 28
/* Above this a wage is a data error, and wage x basis points could overflow. */
#define WAGE_MAX 1000000000000LL

static const char *const scheme_names[] = {"BPU", "PU"};
static const char *const kind_names[] = {"pct_of_wage", "min", "flat", "relief_bp",
                                         "jkp_share_bp"};
_Static_assert(COUNT(scheme_names) == PREMIUM_SCHEME__COUNT, "scheme names");
_Static_assert(COUNT(kind_names) == PREMIUM_KIND__COUNT, "kind names");

/* The rates every version must state: scheme, program, risk class. */
static const struct cell {
    premium_scheme scheme;
    unsigned program;
    int risk_class;
} required_cells[] = {
    {PREMIUM_BPU, PROG_JKK, 0}, {PREMIUM_BPU, PROG_JKM, 0}, {PREMIUM_BPU, PROG_JHT, 0},
    {PREMIUM_PU, PROG_JKK, 1},  {PREMIUM_PU, PROG_JKK, 2},  {PREMIUM_PU, PROG_JKK, 3},
    {PREMIUM_PU, PROG_JKK, 4},  {PREMIUM_PU, PROG_JKK, 5},  {PREMIUM_PU, PROG_JKM, 0},
};

/* The rules every version states, per scheme. */
static const struct required_rule {
    premium_scheme scheme;
    const char *rule;
} required_rules[] = {
    {PREMIUM_BPU, PREMIUM_RULE_MIN_DAYS}, {PREMIUM_BPU, PREMIUM_RULE_LAPSE_MONTHS},
    {PREMIUM_BPU, PREMIUM_RULE_ARREARS},  {PREMIUM_PU, PREMIUM_RULE_MIN_DAYS},
};

typedef struct version {
    const char *name;  /* into the rows */
    int32_t from;
    size_t first;      /* index of its first row */
} version;

struct premium_rates {
    premium_rate_row *rows;
    size_t nrows;
    version *versions; /* sorted by from */
    size_t nversions;
};

struct billing_rules {
    billing_rule_row *rows;
    size_t nrows;
    version *versions;
    size_t nversions;
};

const char *premiums_scheme_name(premium_scheme s)
{
    return names_get(scheme_names, COUNT(scheme_names), (int)s);
}

const char *premiums_kind_name(premium_kind k)
{
    return names_get(kind_names, COUNT(kind_names), (int)k);
}

int premiums_scheme_parse(const char *s)
{
    return names_find(scheme_names, COUNT(scheme_names), s);
}

int premiums_kind_parse(const char *s)
{
    return names_find(kind_names, COUNT(kind_names), s);
}

static const char *program_name(unsigned program)
{
    return program == PROG_JKK ? "JKK" : program == PROG_JKM ? "JKM" : "JHT";
}

/* ---- reading the files ---- */

/* Lines of a file after the header: each row's fields and line number. */
typedef struct lines {
    char *copy;
    char **field;  /* nfields per row */
    int *lineno;
    size_t nrows;
} lines;

static void lines_release(lines *l)
{
    free(l->copy);
    free(l->field);
    free(l->lineno);
}

/* Split text into rows of exactly nfields tab-separated fields after the header row. */
static int lines_read(const char *text, const char *name, const char *header, int nfields,
                      lines *l, char *errstr, size_t n)
{
    size_t cap = 1;
    int lineno = 0, have_header = 0;
    char *line, *next;

    memset(l, 0, sizeof *l);
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    l->copy = strdup(text);
    l->field = calloc(cap * (size_t)nfields, sizeof *l->field);
    l->lineno = calloc(cap, sizeof *l->lineno);
    if (!l->copy || !l->field || !l->lineno) {
        snprintf(errstr, n, "%s: out of memory", name);
        return -1;
    }
    for (line = l->copy; line && *line; line = next) {
        char **f = &l->field[l->nrows * (size_t)nfields];
        int k = 0;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line[strcspn(line, "\r")] = '\0';
        lineno++;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (!have_header) {
            if (strcmp(line, header) != 0) {
                char shown[160];
                size_t j = 0;
                for (const char *h = header; *h && j + 6 < sizeof shown; h++) {
                    if (*h == '\t')
                        j += (size_t)snprintf(shown + j, sizeof shown - j, "<TAB>");
                    else
                        shown[j++] = *h;
                }
                shown[j] = '\0';
                snprintf(errstr, n, "%s:%d: expected the header row '%s'", name, lineno, shown);
                return -1;
            }
            have_header = 1;
            continue;
        }
        f[k++] = line;
        for (char *p = line; *p; p++) {
            if (*p != '\t')
                continue;
            *p = '\0';
            if (k == nfields) {
                k++;
                break;
            }
            f[k++] = p + 1;
        }
        if (k != nfields) {
            snprintf(errstr, n, "%s:%d: expected %d tab-separated fields", name, lineno, nfields);
            return -1;
        }
        l->lineno[l->nrows++] = lineno;
    }
    if (!have_header) {
        snprintf(errstr, n, "%s: no header row", name);
        return -1;
    }
    if (l->nrows == 0) {
        snprintf(errstr, n, "%s: no rows", name);
        return -1;
    }
    return 0;
}

__attribute__((format(printf, 5, 6)))
static int fail_at(char *errstr, size_t n, const char *name, int lineno, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(errstr, n, "%s:%d: %s", name, lineno, msg);
    return -1;
}

static int version_name_ok(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > PREMIUMS_VERSION_MAX)
        return 0;
    for (; *s; s++) {
        int c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int value_parse(const char *s, long long *out)
{
    size_t len = strlen(s);

    if (len == 0 || len > 18 || strspn(s, "0123456789") != len)
        return -1;
    *out = strtoll(s, NULL, 10);
    return 0;
}

static int source_ok(const char *s)
{
    size_t len = strlen(s);

    if (len == 0 || len > PREMIUMS_SOURCE_MAX)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20)
            return 0;
    return 1;
}

/* The fields every row starts with: version and effective_from, checked against the
 * versions seen so far (same date within a version, one version per date). Adds a new
 * version to vs. */
static int check_version(const char *name, int lineno, const char *vname, const char *date,
                         size_t row, version *vs, size_t *nvs, int32_t *from, char *errstr,
                         size_t n)
{
    char d1[16], d2[16];

    if (!version_name_ok(vname))
        return fail_at(errstr, n, name, lineno,
                       "version '%s' must be 1-%d letters, digits, '.', '_' or '-'", vname,
                       PREMIUMS_VERSION_MAX);
    if (dates_parse(date, from) < 0)
        return fail_at(errstr, n, name, lineno, "effective_from '%s' is not a YYYY-MM-DD date",
                       date);
    for (size_t i = 0; i < *nvs; i++) {
        if (strcmp(vs[i].name, vname) == 0) {
            if (vs[i].from != *from)
                return fail_at(errstr, n, name, lineno,
                               "version '%s' takes effect on %s in an earlier row, not %s", vname,
                               dates_format(vs[i].from, d1, sizeof d1),
                               dates_format(*from, d2, sizeof d2));
            return 0;
        }
        if (vs[i].from == *from)
            return fail_at(errstr, n, name, lineno, "versions '%s' and '%s' both take effect on %s",
                           vs[i].name, vname, dates_format(*from, d1, sizeof d1));
    }
    vs[*nvs].name = vname;
    vs[*nvs].from = *from;
    vs[*nvs].first = row;
    (*nvs)++;
    return 0;
}

static int cmp_version(const void *a, const void *b)
{
    const version *x = a, *y = b;

    return (x->from > y->from) - (x->from < y->from);
}

/* Point the versions' names into the table's own rows and sort them by date. */
static void finish_versions(version *vs, size_t nvs, const char *const *row_versions)
{
    for (size_t i = 0; i < nvs; i++)
        vs[i].name = row_versions[vs[i].first];
    qsort(vs, nvs, sizeof *vs, cmp_version);
}

static const version *version_at(const version *vs, size_t nvs, int32_t day)
{
    const version *found = NULL;

    for (size_t i = 0; i < nvs && vs[i].from <= day; i++)
        found = &vs[i];
    return found;
}

/* ---- rates ---- */

void premiums_rates_destroy(premium_rates *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows; i++) {
        free((char *)t->rows[i].version);
        free((char *)t->rows[i].source);
    }
    free(t->rows);
    free(t->versions);
    free(t);
}

/* The row of version v for scheme, program, kind and exactly risk_class, or NULL. */
static const premium_rate_row *rate_exact(const premium_rate_row *rows, size_t nrows,
                                          const char *v, premium_scheme s, unsigned program,
                                          int risk_class, premium_kind kind)
{
    for (size_t i = 0; i < nrows; i++) {
        const premium_rate_row *r = &rows[i];
        if (r->scheme == s && r->program == program && r->risk_class == risk_class &&
            r->kind == kind && strcmp(r->version, v) == 0)
            return r;
    }
    return NULL;
}

/* As rate_exact, falling back from a risk class to the '-' row (every class). */
static const premium_rate_row *rate_find(const premium_rate_row *rows, size_t nrows,
                                         const char *v, premium_scheme s, unsigned program,
                                         int risk_class, premium_kind kind)
{
    const premium_rate_row *r = rate_exact(rows, nrows, v, s, program, risk_class, kind);

    return r || risk_class == 0 ? r : rate_exact(rows, nrows, v, s, program, 0, kind);
}

static int rate_row_check(const char *name, int lineno, char **f, premium_rate_row *r,
                          char *errstr, size_t n)
{
    int bits, k;

    if ((k = premiums_scheme_parse(f[2])) < 0)
        return fail_at(errstr, n, name, lineno, "scheme '%s' must be BPU or PU", f[2]);
    r->scheme = (premium_scheme)k;
    bits = roster_programs_parse(f[3]);
    if (bits != PROG_JKK && bits != PROG_JKM && bits != PROG_JHT)
        return fail_at(errstr, n, name, lineno, "program '%s' must be JKK, JKM or JHT", f[3]);
    r->program = (unsigned)bits;
    if (strcmp(f[4], "-") == 0)
        r->risk_class = 0;
    else if (strlen(f[4]) == 1 && f[4][0] >= '1' && f[4][0] <= '0' + RISK_MAX)
        r->risk_class = f[4][0] - '0';
    else
        return fail_at(errstr, n, name, lineno, "risk_class '%s' must be 1-%d or '-'", f[4],
                       RISK_MAX);
    if ((k = premiums_kind_parse(f[5])) < 0)
        return fail_at(errstr, n, name, lineno,
                       "kind '%s' must be pct_of_wage, min, flat, relief_bp or jkp_share_bp", f[5]);
    r->kind = (premium_kind)k;
    if (value_parse(f[6], &r->value) < 0)
        return fail_at(errstr, n, name, lineno,
                       "value '%s' must be a whole number of digits, no sign or separators", f[6]);
    if (!source_ok(f[7]))
        return fail_at(errstr, n, name, lineno, "source must be 1-%d characters of text",
                       PREMIUMS_SOURCE_MAX);
    if (r->risk_class && !(r->scheme == PREMIUM_PU && r->program == PROG_JKK))
        return fail_at(errstr, n, name, lineno,
                       "a risk class is for PU JKK only; %s %s takes '-'", f[2], f[3]);
    if (!r->risk_class && r->scheme == PREMIUM_PU && r->program == PROG_JKK &&
        (r->kind == PREMIUM_PCT_OF_WAGE || r->kind == PREMIUM_FLAT))
        return fail_at(errstr, n, name, lineno, "a PU JKK %s row needs a risk class 1-%d", f[5],
                       RISK_MAX);
    if ((r->kind == PREMIUM_PCT_OF_WAGE || r->kind == PREMIUM_RELIEF_BP ||
         r->kind == PREMIUM_JKP_SHARE_BP) && r->value > BP_MAX)
        return fail_at(errstr, n, name, lineno, "%s %lld is more than %d basis points (100%%)",
                       f[5], r->value, BP_MAX);
    return 0;
}

/* Per version: no duplicate row, exactly one of flat and pct_of_wage for every required
 * cell, and a min only beside a pct_of_wage. */
static int rates_check_versions(const premium_rates *t, const lines *l, const char *name,
                                char *errstr, size_t n)
{
    for (size_t i = 0; i < t->nrows; i++) {
        const premium_rate_row *r = &t->rows[i];
        if (rate_exact(t->rows, i, r->version, r->scheme, r->program, r->risk_class, r->kind))
            return fail_at(errstr, n, name, l->lineno[i],
                           "duplicate %s %s %s row in version '%s'", scheme_names[r->scheme],
                           program_name(r->program), kind_names[r->kind], r->version);
        if (r->kind == PREMIUM_MIN && !rate_find(t->rows, t->nrows, r->version, r->scheme,
                                                 r->program, r->risk_class ? r->risk_class : 1,
                                                 PREMIUM_PCT_OF_WAGE))
            return fail_at(errstr, n, name, l->lineno[i],
                           "a min needs a pct_of_wage of %s %s in version '%s'",
                           scheme_names[r->scheme], program_name(r->program), r->version);
    }
    for (size_t v = 0; v < t->nversions; v++) {
        const version *ver = &t->versions[v];
        for (int c = 0; c < COUNT(required_cells); c++) {
            const struct cell *cl = &required_cells[c];
            const premium_rate_row *pct = rate_find(t->rows, t->nrows, ver->name, cl->scheme,
                                                    cl->program, cl->risk_class,
                                                    PREMIUM_PCT_OF_WAGE);
            const premium_rate_row *flat = rate_find(t->rows, t->nrows, ver->name, cl->scheme,
                                                     cl->program, cl->risk_class, PREMIUM_FLAT);
            char cls[24] = "";
            if (cl->risk_class)
                snprintf(cls, sizeof cls, " risk class %d", cl->risk_class);
            if (!pct && !flat)
                return fail_at(errstr, n, name, l->lineno[ver->first],
                               "version '%s' states no rate (pct_of_wage or flat) for %s %s%s",
                               ver->name, scheme_names[cl->scheme], program_name(cl->program),
                               cls);
            if (pct && flat)
                return fail_at(errstr, n, name, l->lineno[ver->first],
                               "version '%s' states both pct_of_wage and flat for %s %s%s",
                               ver->name, scheme_names[cl->scheme], program_name(cl->program),
                               cls);
        }
    }
    return 0;
}

premium_rates *premiums_rates_parse(const char *text, const char *name, char *errstr,
                                    size_t n)
{
    premium_rates *t = NULL;
    const char **names = NULL;
    lines l;

    if (lines_read(text, name, RATES_HEADER, 8, &l, errstr, n) < 0)
        goto out;
    if (!(t = calloc(1, sizeof *t)) || !(t->rows = calloc(l.nrows, sizeof *t->rows)) ||
        !(t->versions = calloc(l.nrows, sizeof *t->versions)) ||
        !(names = calloc(l.nrows, sizeof *names))) {
        snprintf(errstr, n, "%s: out of memory", name);
        goto fail;
    }
    for (size_t i = 0; i < l.nrows; i++) {
        char **f = &l.field[i * 8];
        premium_rate_row *r = &t->rows[i];

        if (check_version(name, l.lineno[i], f[0], f[1], i, t->versions, &t->nversions,
                          &r->effective_from, errstr, n) < 0 ||
            rate_row_check(name, l.lineno[i], f, r, errstr, n) < 0)
            goto fail;
        r->version = strdup(f[0]);
        r->source = strdup(f[7]);
        t->nrows = i + 1;
        if (!r->version || !r->source) {
            snprintf(errstr, n, "%s: out of memory", name);
            goto fail;
        }
        names[i] = r->version;
    }
    finish_versions(t->versions, t->nversions, names);
    if (rates_check_versions(t, &l, name, errstr, n) < 0)
        goto fail;
    goto out;
fail:
    premiums_rates_destroy(t);
    t = NULL;
out:
    free(names);
    lines_release(&l);
    return t;
}

premium_rates *premiums_rates_load(const char *path, char *errstr, size_t n)
{
    char *text = textfile_read(path, NULL, errstr, n);
    premium_rates *t = text ? premiums_rates_parse(text, path, errstr, n) : NULL;

    free(text);
    return t;
}

size_t premiums_rates_count(const premium_rates *t)
{
    return t->nrows;
}

const premium_rate_row *premiums_rates_row(const premium_rates *t, size_t i)
{
    return i < t->nrows ? &t->rows[i] : NULL;
}

const char *premiums_rates_version_at(const premium_rates *t, int32_t local_day)
{
    const version *v = version_at(t->versions, t->nversions, local_day);

    return v ? v->name : NULL;
}

/* ---- rules ---- */

void premiums_rules_destroy(billing_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrows; i++) {
        free((char *)r->rows[i].version);
        free((char *)r->rows[i].rule);
        free((char *)r->rows[i].source);
    }
    free(r->rows);
    free(r->versions);
    free(r);
}

static const billing_rule_row *rule_find(const billing_rule_row *rows, size_t nrows,
                                         const char *v, premium_scheme s, const char *rule)
{
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].scheme == s && strcmp(rows[i].rule, rule) == 0 &&
            strcmp(rows[i].version, v) == 0)
            return &rows[i];
    return NULL;
}

static int rule_row_check(const char *name, int lineno, char **f, billing_rule_row *r,
                          char *errstr, size_t n)
{
    int k, known = 0;

    if ((k = premiums_scheme_parse(f[2])) < 0)
        return fail_at(errstr, n, name, lineno, "scheme '%s' must be BPU or PU", f[2]);
    r->scheme = (premium_scheme)k;
    for (int i = 0; i < COUNT(required_rules); i++)
        known |= strcmp(required_rules[i].rule, f[3]) == 0;
    if (!known)
        return fail_at(errstr, n, name, lineno, "unknown rule '%s' (known: %s, %s, %s)", f[3],
                       PREMIUM_RULE_MIN_DAYS, PREMIUM_RULE_LAPSE_MONTHS, PREMIUM_RULE_ARREARS);
    if (value_parse(f[4], &r->value) < 0)
        return fail_at(errstr, n, name, lineno,
                       "value '%s' must be a whole number of digits, no sign or separators", f[4]);
    if (!source_ok(f[5]))
        return fail_at(errstr, n, name, lineno, "source must be 1-%d characters of text",
                       PREMIUMS_SOURCE_MAX);
    if (strcmp(f[3], PREMIUM_RULE_MIN_DAYS) == 0 && (r->value < 1 || r->value > MIN_DAYS_MAX))
        return fail_at(errstr, n, name, lineno,
                       "%s %lld must be 1-%d (every month has at least %d days)",
                       PREMIUM_RULE_MIN_DAYS, r->value, MIN_DAYS_MAX, MIN_DAYS_MAX);
    if (strcmp(f[3], PREMIUM_RULE_LAPSE_MONTHS) == 0 && r->value < 1)
        return fail_at(errstr, n, name, lineno, "%s must be at least 1",
                       PREMIUM_RULE_LAPSE_MONTHS);
    return 0;
}

billing_rules *premiums_rules_parse(const char *text, const char *name, char *errstr,
                                    size_t n)
{
    billing_rules *r = NULL;
    const char **names = NULL;
    lines l;

    if (lines_read(text, name, RULES_HEADER, 6, &l, errstr, n) < 0)
        goto out;
    if (!(r = calloc(1, sizeof *r)) || !(r->rows = calloc(l.nrows, sizeof *r->rows)) ||
        !(r->versions = calloc(l.nrows, sizeof *r->versions)) ||
        !(names = calloc(l.nrows, sizeof *names))) {
        snprintf(errstr, n, "%s: out of memory", name);
        goto fail;
    }
    for (size_t i = 0; i < l.nrows; i++) {
        char **f = &l.field[i * 6];
        billing_rule_row *row = &r->rows[i];

        if (check_version(name, l.lineno[i], f[0], f[1], i, r->versions, &r->nversions,
                          &row->effective_from, errstr, n) < 0 ||
            rule_row_check(name, l.lineno[i], f, row, errstr, n) < 0)
            goto fail;
        if (rule_find(r->rows, i, f[0], row->scheme, f[3])) {
            fail_at(errstr, n, name, l.lineno[i], "duplicate %s %s in version '%s'", f[2], f[3],
                    f[0]);
            goto fail;
        }
        row->version = strdup(f[0]);
        row->rule = strdup(f[3]);
        row->source = strdup(f[5]);
        r->nrows = i + 1;
        if (!row->version || !row->rule || !row->source) {
            snprintf(errstr, n, "%s: out of memory", name);
            goto fail;
        }
        names[i] = row->version;
    }
    finish_versions(r->versions, r->nversions, names);
    for (size_t v = 0; v < r->nversions; v++)
        for (int k = 0; k < COUNT(required_rules); k++)
            if (!rule_find(r->rows, r->nrows, r->versions[v].name, required_rules[k].scheme,
                           required_rules[k].rule)) {
                fail_at(errstr, n, name, l.lineno[r->versions[v].first],
                        "version '%s' lacks %s %s", r->versions[v].name,
                        scheme_names[required_rules[k].scheme], required_rules[k].rule);
                goto fail;
            }
    goto out;
fail:
    premiums_rules_destroy(r);
    r = NULL;
out:
    free(names);
    lines_release(&l);
    return r;
}

billing_rules *premiums_rules_load(const char *path, char *errstr, size_t n)
{
    char *text = textfile_read(path, NULL, errstr, n);
    billing_rules *r = text ? premiums_rules_parse(text, path, errstr, n) : NULL;

    free(text);
    return r;
}

size_t premiums_rules_count(const billing_rules *r)
{
    return r->nrows;
}

const billing_rule_row *premiums_rules_row(const billing_rules *r, size_t i)
{
    return i < r->nrows ? &r->rows[i] : NULL;
}

const char *premiums_rules_version_at(const billing_rules *r, int32_t local_day)
{
    const version *v = version_at(r->versions, r->nversions, local_day);

    return v ? v->name : NULL;
}

long long premiums_rule(const billing_rules *r, int32_t local_day, premium_scheme s,
                        const char *rule)
{
    const version *v = version_at(r->versions, r->nversions, local_day);
    const billing_rule_row *row = v ? rule_find(r->rows, r->nrows, v->name, s, rule) : NULL;

    return row ? row->value : -1;
}

/* ---- computing ---- */

int32_t premiums_month_first(int32_t local_day)
{
    int y, m, d;

    dates_to_civil(local_day, &y, &m, &d);
    return dates_from_civil(y, m, 1);
}

int32_t premiums_month_last(int32_t local_day)
{
    int y, m, d;

    dates_to_civil(local_day, &y, &m, &d);
    return m == 12 ? dates_from_civil(y + 1, 1, 1) - 1 : dates_from_civil(y, m + 1, 1) - 1;
}

int premiums_covered_days(int32_t month_day, int32_t from, int32_t to)
{
    int32_t first = premiums_month_first(month_day), last = premiums_month_last(month_day);
    int32_t lo = from > first ? from : first, hi = to < last ? to : last;

    return hi >= lo ? (int)(hi - lo + 1) : 0;
}

int premiums_month_owed(const billing_rules *r, premium_scheme s, int32_t month_day,
                        int32_t from, int32_t to, char *errstr, size_t n)
{
    int32_t last = premiums_month_last(month_day);
    long long min_days = premiums_rule(r, last, s, PREMIUM_RULE_MIN_DAYS);
    char d[16];

    if (min_days < 0) {
        snprintf(errstr, n, "no billing rules version in force on %s for %s",
                 dates_format(last, d, sizeof d), premiums_scheme_name(s) ? premiums_scheme_name(s)
                                                                          : "?");
        return -1;
    }
    return premiums_covered_days(month_day, from, to) >= min_days;
}

/* value x bp / 10000, rounded to the nearest whole, halves up (value, bp >= 0). */
static long long apply_bp(long long value, long long bp)
{
    return (value * bp + BP_MAX / 2) / BP_MAX;
}

int premiums_month_amount(const premium_rates *t, int32_t month_day, premium_scheme s,
                          unsigned program, int risk_class, long long wage, long long *amount,
                          const char **version_out, char *errstr, size_t n)
{
    int32_t last = premiums_month_last(month_day);
    const version *v = version_at(t->versions, t->nversions, last);
    const premium_rate_row *pct, *flat, *min, *relief;
    int cls = s == PREMIUM_PU && program == PROG_JKK ? risk_class : 0;
    long long base;
    char d[16];

    if (!premiums_scheme_name(s) || (program != PROG_JKK && program != PROG_JKM &&
                                     program != PROG_JHT))
        return errstr_fail(errstr, n, "unknown scheme %d or program %u", (int)s, program);
    if (wage < 0 || wage > WAGE_MAX)
        return errstr_fail(errstr, n, "wage %lld is out of range", wage);
    if (s == PREMIUM_PU && program == PROG_JKK && (cls < 1 || cls > RISK_MAX))
        return errstr_fail(errstr, n, "PU JKK needs a risk class 1-%d, not %d", RISK_MAX, cls);
    if (!v)
        return errstr_fail(errstr, n, "no premium rates version in force on %s",
                        dates_format(last, d, sizeof d));
    pct = rate_find(t->rows, t->nrows, v->name, s, program, cls, PREMIUM_PCT_OF_WAGE);
    flat = rate_find(t->rows, t->nrows, v->name, s, program, cls, PREMIUM_FLAT);
    min = rate_find(t->rows, t->nrows, v->name, s, program, cls, PREMIUM_MIN);
    relief = rate_find(t->rows, t->nrows, v->name, s, program, cls, PREMIUM_RELIEF_BP);
    if (flat)
        base = flat->value;
    else if (pct)
        base = apply_bp(wage, pct->value);
    else
        return errstr_fail(errstr, n, "premium rates version '%s' states no rate for %s %s",
                        v->name, premiums_scheme_name(s), program_name(program));
    if (!flat && min && base < min->value)
        base = min->value;
    if (relief)
        base -= apply_bp(base, relief->value);
    *amount = base;
    if (version_out)
        *version_out = v->name;
    return 0;
}

int premiums_term(const premium_rates *t, const billing_rules *r, premium_scheme s,
                  int risk_class, unsigned programs, long long wage, int32_t from, int32_t to,
                  premium_term *out, char *errstr, size_t n)
{
    static const unsigned progs[] = {PROG_JKK, PROG_JKM, PROG_JHT};

    memset(out, 0, sizeof *out);
    if (from > to)
        return errstr_fail(errstr, n, "term starts after it ends");
    if (!programs || (programs & ~(unsigned)(PROG_JKK | PROG_JKM | PROG_JHT)))
        return errstr_fail(errstr, n, "programs must be a non-empty set of JKK, JKM, JHT");
    for (int32_t m = premiums_month_first(from); m <= to; m = premiums_month_last(m) + 1) {
        int owed = premiums_month_owed(r, s, m, from, to, errstr, n);
        if (owed < 0)
            return -1;
        if (!owed)
            continue;
        out->months++;
        for (int k = 0; k < COUNT(progs); k++) {
            long long amount;
            if (!(programs & progs[k]))
                continue;
            if (premiums_month_amount(t, m, s, progs[k], risk_class, wage, &amount, NULL,
                                      errstr, n) < 0)
                return -1;
            if (progs[k] == PROG_JKK)
                out->jkk += amount;
            else if (progs[k] == PROG_JKM)
                out->jkm += amount;
            else
                out->jht += amount;
            out->total += amount;
        }
    }
    return 0;
}
