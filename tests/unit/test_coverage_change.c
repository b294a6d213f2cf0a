/* Unit tests of common/coverage_change: the rules a CoverageChange must meet (what the
 * coverages table holds), over the records of data/coverage_changes.txt and the
 * edits of data/coverage_change_cases.txt. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage_change.h"
#include "support/rulecase.h"

#define RECORDS_FILE "data/coverage_changes.txt"
#define CASES_FILE "data/coverage_change_cases.txt"

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
        cc->programs = (unsigned)(v[0] ? settings_named(v, roster_programs_parse) : 0);
    else if (strcmp(k, "status") == 0)
        cc->status = (coverage_status)settings_named(v, coverage_status_parse);
    else if (strcmp(k, "valid_from") == 0)
        cc->valid_from = settings_day(v);
    else if (strcmp(k, "valid_to") == 0)
        cc->valid_to = settings_day(v);
    else if (strcmp(k, "role") == 0)
        cc->role = (roster_role)settings_named(v, roster_role_parse);
    else if (strcmp(k, "institution") == 0)
        cc->institution = (roster_institution)settings_named(v, roster_institution_parse);
    else if (strcmp(k, "event_time") == 0)
        cc->event_time_us = settings_time(v);
    else
        cr_assert_fail("unknown key '%s'", k);
}
#undef TEXT

static void init(void *rec)
{
    coverage_change_init(rec);
}

static int validate(const void *rec, validate_report *r)
{
    return coverage_change_validate(rec, r);
}

static const rulecase_type rules = {
    .cases = CASES_FILE, .size = sizeof(coverage_change), .records = RECORDS_FILE, .init = init,
    .set = set_field, .validate = validate,
};

/* The codec's records: the first three are what the relay publishes; the fourth is an
 * edge case for the codec (empty source) that the rules refuse. */
Test(coverage_change, data_records_pass_but_the_edge_case)
{
    rulecase_check_records(&rules, 3, "source");
}

RULECASE_TEST(coverage_change, rule_case, &rules)
