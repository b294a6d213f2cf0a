/* Unit tests of common/coverage_change: the rules a CoverageChange must meet (what the
 * coverages table holds), over the records of data/coverage_changes.txt and the
 * edits of data/coverage_change_cases.txt. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage_change.h"
#include "dates.h"
#include "support/datafile.h"
#include "support/settings.h"

#define RECORDS_FILE "data/coverage_changes.txt"
#define CASES_FILE "data/coverage_change_cases.txt"
#define MAX_CASES 64

static int named(const char *v, int (*parse)(const char *))
{
    if (v[0] == '#')
        return atoi(v + 1);
    int x = parse(v);
    cr_assert_neq(x, -1, "unknown name '%s'", v);
    return x;
}

static int32_t day(const char *v)
{
    int32_t d;

    if (strcmp(v, "none") == 0)
        return DATE_NONE;
    if (v[0] == '#')
        return (int32_t)strtol(v + 1, NULL, 10);
    cr_assert_eq(dates_parse(v, &d), 0, "bad date '%s'", v);
    return d;
}

#define TEXT(name, member)                                                                         \
    if (strcmp(k, name) == 0) {                                                                    \
        snprintf(cc->member, sizeof cc->member, "%.*s", (int)sizeof cc->member - 1, v);            \
        return;                                                                                    \
    }

static void set_field(void *rec, const char *k, const char *v)
{
    coverage_change *cc = rec;

    TEXT("event_id", event_id)
    TEXT("source", source)
    TEXT("nik", nik)
    TEXT("region_code", region_code)
    if (strcmp(k, "programs") == 0)
        cc->programs = v[0] == '#' ? (unsigned)atoi(v + 1) : v[0] ? (unsigned)roster_programs_parse(v) : 0;
    else if (strcmp(k, "status") == 0)
        cc->status = (coverage_status)named(v, coverage_status_parse);
    else if (strcmp(k, "valid_from") == 0)
        cc->valid_from = day(v);
    else if (strcmp(k, "valid_to") == 0)
        cc->valid_to = day(v);
    else if (strcmp(k, "role") == 0)
        cc->role = (roster_role)named(v, roster_role_parse);
    else if (strcmp(k, "institution") == 0)
        cc->institution = (roster_institution)named(v, roster_institution_parse);
    else if (strcmp(k, "event_time") == 0) {
        if (v[0] == '#')
            cc->event_time_us = strtoll(v + 1, NULL, 10);
        else
            cr_assert_eq(dates_parse_timestamp(v, &cc->event_time_us), 0, "bad time '%s'", v);
    } else
        cr_assert_fail("unknown key '%s'", k);
}
#undef TEXT

static void init(void *rec)
{
    coverage_change_init(rec);
}

static size_t load_records(coverage_change *out, size_t max)
{
    return settings_load(RECORDS_FILE, out, sizeof *out, max, init, set_field);
}

static void describe(const validate_report *r, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < r->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "[%s: %s] ", r->items[i].field, r->items[i].rule);
}

/* The codec's records: the first three are what the relay publishes; the fourth is an
 * edge case for the codec (empty source) that the rules refuse. */
Test(coverage_change, data_records_pass_but_the_edge_case)
{
    coverage_change recs[8];
    size_t n = load_records(recs, 8);
    validate_report r;
    char got[1024];
    int found = 0;

    cr_assert_eq(n, 4, "%zu records", n);
    for (size_t i = 0; i < 3; i++) {
        coverage_change_validate(&recs[i], &r);
        describe(&r, got, sizeof got);
        cr_assert_eq(r.errors, 0, "record %zu: %s", i + 1, got);
    }
    coverage_change_validate(&recs[3], &r);
    for (int i = 0; i < r.count; i++)
        found |= strcmp(r.items[i].field, "source") == 0;
    cr_assert(found, "the edge case is not refused on source");
}

typedef struct coverage_case {
    int line;
    char name[64];
    char settings[256];
    char expect[8];
    char field[32];
    char rule[120];
} coverage_case;

static int fill_case(const datafile_line *l, void *out)
{
    coverage_case *c = out;

    if (l->nfields < 3)
        return 0;
    memset(c, 0, sizeof *c);
    c->line = l->line;
    snprintf(c->name, sizeof c->name, "%s", l->field[0]);
    snprintf(c->settings, sizeof c->settings, "%s", l->field[1]);
    snprintf(c->expect, sizeof c->expect, "%s", l->field[2]);
    if (l->nfields == 5) {
        snprintf(c->field, sizeof c->field, "%s", l->field[3]);
        snprintf(c->rule, sizeof c->rule, "%s", l->field[4]);
    }
    return 1;
}

ParameterizedTestParameters(coverage_change, rule_case)
{
    static coverage_case tmp[MAX_CASES];
    size_t n = datafile_load(CASES_FILE, 5, tmp, sizeof *tmp, MAX_CASES, fill_case);

    return datafile_params(tmp, n, sizeof *tmp);
}

ParameterizedTest(coverage_case *c, coverage_change, rule_case)
{
    coverage_change recs[8];
    validate_report r;
    char got[1024];
    int found = 0;

    load_records(recs, 8);
    cr_assert_eq(settings_apply(c->settings, &recs[0], set_field), 0, "line %d: bad settings", c->line);
    coverage_change_validate(&recs[0], &r);
    describe(&r, got, sizeof got);
    if (strcmp(c->expect, "OK") == 0) {
        cr_assert_eq(r.errors, 0, "line %d %s: %s", c->line, c->name, got);
        return;
    }
    for (int i = 0; i < r.count; i++)
        found |= strcmp(r.items[i].field, c->field) == 0 && strstr(r.items[i].rule, c->rule) != NULL;
    cr_assert(found, "line %d %s: no error on %s with '%s'; got %s", c->line, c->name, c->field, c->rule, got);
}
