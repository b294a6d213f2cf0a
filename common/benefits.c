/* benefits: the versioned benefit table, parsed from TSV or built from rows. */
#include "benefits.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "textfile.h"

#define HEADER "version\teffective_from\tkey\tvalue"

static const char *const required_keys[] = {
    BENEFIT_JKM_LUMP_SUM,          BENEFIT_JKM_PERIODIC,
    BENEFIT_JKM_FUNERAL,           BENEFIT_JKK_DEATH_WAGE_MULT,
    BENEFIT_JKK_DEATH_FUNERAL,     BENEFIT_JKK_DEATH_PERIODIC,
    BENEFIT_JKK_DISABILITY_WAGE_MULT, BENEFIT_JKK_TEMP_FIRST_MONTHS,
    BENEFIT_JKK_TEMP_FIRST_PCT,    BENEFIT_JKK_TEMP_AFTER_PCT,
    BENEFIT_FIRST_REPORT_HOURS,    BENEFIT_JKK_LAPSE_YEARS,
    BENEFIT_DETERMINATION_DAYS,
};

struct benefit_version {
    const char *name;
    int32_t from;
    const benefit_row **rows; /* this version's rows, into the table's rows */
    size_t nrows;
    size_t first;             /* index of its first row, for error messages */
};

struct benefit_table {
    benefit_row *rows;        /* strings owned (strdup) */
    size_t nrows;
    benefit_version *versions; /* sorted by from, ascending */
    size_t nversions;
};

/* Where error messages point: "name:line: " when lines is set, else "row N: ". */
typedef struct origin {
    const char *name;
    const int *lines;
} origin;

__attribute__((format(printf, 5, 6)))
static void fail_at(char *errstr, size_t errstr_size, const origin *o, size_t row,
                    const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (!errstr || !errstr_size)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (o->lines)
        snprintf(errstr, errstr_size, "%s:%d: %s", o->name, o->lines[row], msg);
    else
        snprintf(errstr, errstr_size, "row %zu: %s", row + 1, msg);
}

static int name_ok(const char *s, size_t max, int lower_only)
{
    size_t n = strlen(s);

    if (n == 0 || n > max)
        return 0;
    for (; *s; s++) {
        int c = (unsigned char)*s;
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!lower_only)
            ok = ok || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

void benefits_destroy(benefit_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows; i++) {
        free((char *)t->rows[i].version);
        free((char *)t->rows[i].key);
    }
    for (size_t i = 0; i < t->nversions; i++)
        free(t->versions[i].rows);
    free(t->rows);
    free(t->versions);
    free(t);
}

static benefit_version *find_version(benefit_table *t, const char *name)
{
    for (size_t i = 0; i < t->nversions; i++)
        if (strcmp(t->versions[i].name, name) == 0)
            return &t->versions[i];
    return NULL;
}

static int cmp_version(const void *a, const void *b)
{
    const benefit_version *x = a, *y = b;

    return (x->from > y->from) - (x->from < y->from);
}

/* Check each row and copy it in; group rows into versions. */
static int add_rows(benefit_table *t, const benefit_row *rows, size_t nrows, const origin *o,
                    char *errstr, size_t errstr_size)
{
    char d1[16], d2[16];

    for (size_t i = 0; i < nrows; i++) {
        const benefit_row *r = &rows[i];
        benefit_version *v;

        if (!r->version || !name_ok(r->version, BENEFITS_VERSION_MAX, 0)) {
            fail_at(errstr, errstr_size, o, i,
                    "version '%s' must be 1-%d letters, digits, '.', '_' or '-'",
                    r->version ? r->version : "", BENEFITS_VERSION_MAX);
            return -1;
        }
        if (!r->key || !name_ok(r->key, BENEFITS_KEY_MAX, 1)) {
            fail_at(errstr, errstr_size, o, i,
                    "key '%s' must be 1-%d lower-case letters, digits or '_'",
                    r->key ? r->key : "", BENEFITS_KEY_MAX);
            return -1;
        }
        if (r->value < 0) {
            fail_at(errstr, errstr_size, o, i, "value %lld of '%s' is negative", r->value,
                    r->key);
            return -1;
        }
        v = find_version(t, r->version);
        if (v && v->from != r->effective_from) {
            fail_at(errstr, errstr_size, o, i,
                    "version '%s' takes effect on %s in an earlier row, not %s", r->version,
                    dates_format(v->from, d1, sizeof d1),
                    dates_format(r->effective_from, d2, sizeof d2));
            return -1;
        }
        for (size_t k = 0; v && k < v->nrows; k++) {
            if (strcmp(v->rows[k]->key, r->key) == 0) {
                fail_at(errstr, errstr_size, o, i, "duplicate key '%s' in version '%s'",
                        r->key, r->version);
                return -1;
            }
        }
        if (!v) {
            for (size_t k = 0; k < t->nversions; k++) {
                if (t->versions[k].from == r->effective_from) {
                    fail_at(errstr, errstr_size, o, i,
                            "versions '%s' and '%s' both take effect on %s",
                            t->versions[k].name, r->version,
                            dates_format(r->effective_from, d1, sizeof d1));
                    return -1;
                }
            }
            v = &t->versions[t->nversions++];
            v->from = r->effective_from;
            v->first = i;
            v->rows = calloc(nrows, sizeof *v->rows);
            if (!v->rows)
                goto oom;
        }
        t->rows[i].version = strdup(r->version);
        t->rows[i].key = strdup(r->key);
        t->nrows = i + 1;
        if (!t->rows[i].version || !t->rows[i].key)
            goto oom;
        t->rows[i].effective_from = r->effective_from;
        t->rows[i].value = r->value;
        v->name = t->rows[v->first].version;
        v->rows[v->nrows++] = &t->rows[i];
    }
    return 0;
oom:
    fail_at(errstr, errstr_size, o, nrows ? nrows - 1 : 0, "out of memory");
    return -1;
}

static benefit_table *build(const benefit_row *rows, size_t nrows, const origin *o,
                            char *errstr, size_t errstr_size)
{
    benefit_table *t = NULL;

    if (nrows == 0) {
        if (errstr && errstr_size)
            snprintf(errstr, errstr_size, "%s: no rows", o->lines ? o->name : "table");
        return NULL;
    }
    t = calloc(1, sizeof *t);
    if (!t)
        goto oom;
    t->rows = calloc(nrows, sizeof *t->rows);
    t->versions = calloc(nrows, sizeof *t->versions);
    if (!t->rows || !t->versions)
        goto oom;
    if (add_rows(t, rows, nrows, o, errstr, errstr_size) < 0)
        goto fail;
    for (size_t i = 0; i < t->nversions; i++) {
        const benefit_version *v = &t->versions[i];
        for (size_t k = 0; k < sizeof required_keys / sizeof required_keys[0]; k++) {
            if (benefits_get(v, required_keys[k]) < 0) {
                fail_at(errstr, errstr_size, o, v->first, "version '%s' lacks key '%s'",
                        v->name, required_keys[k]);
                goto fail;
            }
        }
    }
    qsort(t->versions, t->nversions, sizeof *t->versions, cmp_version);
    return t;
oom:
    if (errstr && errstr_size)
        snprintf(errstr, errstr_size, "out of memory");
fail:
    benefits_destroy(t);
    return NULL;
}

benefit_table *benefits_from_rows(const benefit_row *rows, size_t nrows, char *errstr,
                                  size_t errstr_size)
{
    origin o = {NULL, NULL};

    return build(rows, nrows, &o, errstr, errstr_size);
}

/* Split line in place at tabs into exactly 4 fields; return the field count found. */
static int split4(char *line, char **f)
{
    int n = 0;

    f[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p == '\t') {
            *p = '\0';
            if (n == 4)
                return 5;
            f[n++] = p + 1;
        }
    }
    return n;
}

static int parse_value(const char *s, long long *out)
{
    size_t n = strlen(s);

    if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
        return -1;
    *out = strtoll(s, NULL, 10);
    return 0;
}

benefit_table *benefits_parse(const char *text, const char *name, char *errstr,
                              size_t errstr_size)
{
    size_t cap = 1, nrows = 0;
    char *copy = strdup(text), *line, *next;
    benefit_row *rows = NULL;
    int *lines = NULL, lineno = 0, header = 0;
    benefit_table *t = NULL;
    origin o = {name, NULL};

    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    rows = calloc(cap, sizeof *rows);
    lines = calloc(cap, sizeof *lines);
    if (!copy || !rows || !lines) {
        snprintf(errstr, errstr_size, "%s: out of memory", name);
        goto out;
    }
    for (line = copy; line && *line; line = next) {
        char *f[5];
        benefit_row *r = &rows[nrows];

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line[strcspn(line, "\r")] = '\0';
        lineno++;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (!header) {
            if (strcmp(line, HEADER) != 0) {
                snprintf(errstr, errstr_size, "%s:%d: expected the header row '%s'", name,
                         lineno, "version<TAB>effective_from<TAB>key<TAB>value");
                goto out;
            }
            header = 1;
            continue;
        }
        if (split4(line, f) != 4) {
            snprintf(errstr, errstr_size, "%s:%d: expected 4 tab-separated fields", name,
                     lineno);
            goto out;
        }
        if (dates_parse(f[1], &r->effective_from) < 0) {
            snprintf(errstr, errstr_size, "%s:%d: effective_from '%s' is not a YYYY-MM-DD date",
                     name, lineno, f[1]);
            goto out;
        }
        if (parse_value(f[3], &r->value) < 0) {
            snprintf(errstr, errstr_size,
                     "%s:%d: value '%s' must be a whole number of digits, no sign or separators",
                     name, lineno, f[3]);
            goto out;
        }
        r->version = f[0];
        r->key = f[2];
        lines[nrows++] = lineno;
    }
    if (!header) {
        snprintf(errstr, errstr_size, "%s: no header row", name);
        goto out;
    }
    o.lines = lines;
    t = build(rows, nrows, &o, errstr, errstr_size);
out:
    free(copy);
    free(rows);
    free(lines);
    return t;
}

benefit_table *benefits_load(const char *path, char *errstr, size_t errstr_size)
{
    char *text = textfile_read(path, NULL, errstr, errstr_size);
    benefit_table *t;

    if (!text)
        return NULL;
    t = benefits_parse(text, path, errstr, errstr_size);
    free(text);
    return t;
}

const benefit_version *benefits_at(const benefit_table *t, int32_t local_day)
{
    const benefit_version *found = NULL;

    for (size_t i = 0; i < t->nversions && t->versions[i].from <= local_day; i++)
        found = &t->versions[i];
    return found;
}

const char *benefits_version_name(const benefit_version *v)
{
    return v->name;
}

int32_t benefits_version_from(const benefit_version *v)
{
    return v->from;
}

long long benefits_get(const benefit_version *v, const char *key)
{
    for (size_t i = 0; i < v->nrows; i++)
        if (strcmp(v->rows[i]->key, key) == 0)
            return v->rows[i]->value;
    return -1;
}

size_t benefits_row_count(const benefit_table *t)
{
    return t->nrows;
}

const benefit_row *benefits_row_at(const benefit_table *t, size_t i)
{
    return i < t->nrows ? &t->rows[i] : NULL;
}
