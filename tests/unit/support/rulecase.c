/* rulecase: running the rule cases of a record type against its validator. */
#include "rulecase.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "datafile.h"

/* The columns of a case line, after the optional base. */
enum { COL_SETTINGS, COL_EXPECT, COL_FIELD, COL_RULE, NCOLS };

/* A case line of a file with a base column (based) or without. */
static int fill(const datafile_line *l, rulecase *c, int based)
{
    char *const *col = l->field + 1 + based;
    int ncols = l->nfields - 1 - based;

    if (ncols < COL_FIELD)
        return 0;
    memset(c, 0, sizeof *c);
    c->line = l->line;
    snprintf(c->name, sizeof c->name, "%s", l->field[0]);
    if (based)
        snprintf(c->base, sizeof c->base, "%s", l->field[1]);
    snprintf(c->settings, sizeof c->settings, "%s", col[COL_SETTINGS]);
    snprintf(c->expect, sizeof c->expect, "%s", col[COL_EXPECT]);
    if (ncols == NCOLS) {
        snprintf(c->field, sizeof c->field, "%s", col[COL_FIELD]);
        snprintf(c->rule, sizeof c->rule, "%s", col[COL_RULE]);
    }
    return 1;
}

static int fill_unbased(const datafile_line *l, void *out)
{
    return fill(l, out, 0);
}

static int fill_based(const datafile_line *l, void *out)
{
    return fill(l, out, 1);
}

/* The cases of t->cases into cases (max of them); their count, 0 when the file cannot be
 * opened. */
static size_t load(const rulecase_type *t, rulecase *cases, size_t max)
{
    return datafile_load(t->cases, NCOLS + 1 + t->based, cases, sizeof *cases, max,
                         t->based ? fill_based : fill_unbased);
}

void rulecase_check_file(const rulecase_type *t, size_t min)
{
    rulecase *cases = malloc(RULECASE_MAX * sizeof *cases);
    size_t n, ok = 0, err = 0;

    cr_assert_not_null(cases, "out of memory");
    n = load(t, cases, RULECASE_MAX);
    for (size_t i = 0; i < n; i++) {
        ok += strcmp(cases[i].expect, "OK") == 0;
        err += strcmp(cases[i].expect, "ERR") == 0;
    }
    free(cases);
    cr_assert_geq(n, min, "%s holds %zu cases, expected at least %zu", t->cases, n, min);
    cr_assert_lt(n, RULECASE_MAX, "%s: more than %d cases; raise RULECASE_MAX", t->cases,
                 RULECASE_MAX);
    cr_assert(ok > 0 && err > 0, "%s needs clean and failing cases: %zu OK, %zu ERR of %zu",
              t->cases, ok, err, n);
}

struct criterion_test_params rulecase_params(const rulecase_type *t)
{
    rulecase *cases = malloc(RULECASE_MAX * sizeof *cases);
    size_t n = cases ? load(t, cases, RULECASE_MAX) : 0;
    struct criterion_test_params p = datafile_params(cases, n, sizeof *cases);

    free(cases);
    return p;
}

const validate_issue *rulecase_issue(const validate_report *r, const char *field, const char *rule,
                                     int warning)
{
    for (int i = 0; i < r->count; i++)
        if (r->items[i].warning == warning && strcmp(r->items[i].field, field) == 0 &&
            strstr(r->items[i].rule, rule))
            return &r->items[i];
    return NULL;
}

static void describe(const validate_report *r, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < r->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "[%s %s: %s] ",
                                 r->items[i].warning ? "W" : "E", r->items[i].field,
                                 r->items[i].rule);
}

/* Errors of r on the envelope fields (which only the full rules check). */
static int envelope_errors(const validate_report *r)
{
    int n = 0;

    for (int i = 0; i < r->count; i++)
        n += !r->items[i].warning && (strcmp(r->items[i].field, "event_id") == 0 ||
                                      strcmp(r->items[i].field, "event_time") == 0);
    return n;
}

void rulecase_expect(const rulecase_type *t, const void *rec, const char *expect, const char *field,
                     const char *rule, const char *what)
{
    validate_report r, row;
    char got[2048];
    int errors = t->validate(rec, &r), warning;

    describe(&r, got, sizeof got);
    cr_assert_eq(errors, r.errors, "%s: returned %d but the report says %d", what, errors,
                 r.errors);
    if (t->validate_row) {
        cr_assert_eq(t->validate_row(rec, &row), r.errors - envelope_errors(&r),
                     "%s: the row rules differ from the full rules by more than the envelope: %s",
                     what, got);
        cr_assert_eq(row.warnings, r.warnings, "%s: the row rules warn differently", what);
    }
    if (strcmp(expect, "OK") == 0) {
        cr_assert_eq(r.errors + r.warnings, 0, "%s: expected a clean report, got %s", what, got);
        return;
    }
    warning = strcmp(expect, "WARN") == 0;
    cr_assert(warning || strcmp(expect, "ERR") == 0, "%s: unknown expectation '%s'", what, expect);
    if (warning)
        cr_assert_eq(r.errors, 0, "%s: a warning case has errors: %s", what, got);
    else
        cr_assert_gt(r.errors, 0, "%s: expected an error, got %s", what, got);
    cr_assert_not_null(rulecase_issue(&r, field, rule, warning),
                       "%s: no %s on %s with '%s'; got %s", what, warning ? "warning" : "error",
                       field, rule, got);
}

/* The records of t->records (a malloc'd array, which the caller frees); *n their count. */
static char *load_records(const rulecase_type *t, size_t *n)
{
    char *recs = malloc(RULECASE_RECORDS * t->size);

    cr_assert_not_null(recs, "out of memory");
    *n = settings_load(t->records, recs, t->size, RULECASE_RECORDS, t->init, t->set);
    return recs;
}

void rulecase_check_records(const rulecase_type *t, size_t n, const char *edge)
{
    size_t count;
    char *recs = load_records(t, &count), what[64];

    cr_assert_eq(count, n + 1, "%s holds %zu records, expected %zu", t->records, count, n + 1);
    for (size_t i = 0; i < count; i++) {
        snprintf(what, sizeof what, "%s record %zu", t->records, i + 1);
        rulecase_expect(t, recs + i * t->size, i < n ? "OK" : "ERR", edge, "", what);
    }
    free(recs);
}

/* rec := the base record of case c. */
static void base(const rulecase_type *t, const rulecase *c, void *rec)
{
    if (t->records) {
        size_t n;
        char *recs = load_records(t, &n);

        memcpy(rec, recs, t->size);
        free(recs);
    } else {
        cr_assert_eq(t->base(c->base, rec), 0, "line %d: unknown base '%s'", c->line, c->base);
    }
}

void rulecase_run(const rulecase_type *t, const rulecase *c)
{
    void *rec = malloc(t->size);
    char what[96];

    cr_assert_not_null(rec, "out of memory");
    snprintf(what, sizeof what, "line %d %s", c->line, c->name);
    base(t, c, rec);
    cr_assert_eq(settings_apply(c->settings, rec, t->set, t->drop), 0, "line %d: bad settings",
                 c->line);
    rulecase_expect(t, rec, c->expect, c->field, c->rule, what);
    free(rec);
}
