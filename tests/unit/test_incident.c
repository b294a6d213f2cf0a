/* Tests for common/incident: enum names, the content-derived event id, the record rules
 * (also driven by data/incident_cases.txt: a valid base report edited by key=value
 * settings). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "incident.h"
#include "support/rulecase.h"

#define CASES_FILE "data/incident_cases.txt"

/* 2024-03-01T00:00:00Z, the "now" of every rule test. */
static int64_t now_us(void)
{
    int64_t us;

    cr_assert_eq(dates_parse_timestamp("2024-03-01T00:00:00Z", &us), 0, "parse now");
    return us;
}

/* A valid DEATH report. */
static incident sample(void)
{
    incident inc;

    incident_init(&inc);
    strcpy(inc.event_id, "8e2b41c7-5d90-5a3e-b10f-6c27d48319a5");
    inc.event_time_us = now_us();
    strcpy(inc.source, "dc-sulsel");
    strcpy(inc.nik, "7313014101900001");
    inc.type = INCIDENT_DEATH;
    cr_assert_eq(dates_parse_timestamp("2024-02-14T21:00:00+08:00", &inc.occurred_at_us), 0, "parse");
    strcpy(inc.region_code, "7313012001");
    inc.circumstance = CIRCUMSTANCE_ON_DUTY;
    inc.reporter_institution = REPORTER_KPU;
    return inc;
}

/* The first issue of r on field, a warning when warning is set, else an error. */
static const validate_issue *find_issue(const validate_report *r, const char *field, int warning)
{
    return rulecase_issue(r, field, "", warning);
}

Test(incident, names_round_trip_and_reject_unknown)
{
    struct {
        const char *(*name)(int);
        int (*parse)(const char *);
        int count;
    } enums[] = {
        {(const char *(*)(int))incident_type_name, incident_type_parse, INCIDENT_TYPE__COUNT},
        {(const char *(*)(int))incident_circumstance_name, incident_circumstance_parse, CIRCUMSTANCE__COUNT},
        {(const char *(*)(int))incident_cause_name, incident_cause_parse, CAUSE__COUNT},
        {(const char *(*)(int))incident_severity_name, incident_severity_parse, SEVERITY__COUNT},
        {(const char *(*)(int))incident_reporter_name, incident_reporter_parse, REPORTER__COUNT},
    };

    for (size_t e = 0; e < sizeof enums / sizeof enums[0]; e++) {
        for (int v = 0; v < enums[e].count; v++) {
            const char *n = enums[e].name(v);
            cr_assert_not_null(n, "enum %zu value %d has no name", e, v);
            cr_assert_eq(enums[e].parse(n), v, "enum %zu: '%s' parses back to %d", e, n, enums[e].parse(n));
        }
        cr_assert_null(enums[e].name(-1), "enum %zu: -1 has a name", e);
        cr_assert_null(enums[e].name(enums[e].count), "enum %zu: count has a name", e);
        cr_assert_eq(enums[e].parse("death"), -1, "enum %zu: lower case accepted", e);
        cr_assert_eq(enums[e].parse(""), -1, "enum %zu: empty accepted", e);
    }
    cr_assert_str_eq(incident_severity_name(SEVERITY_PERMANENT_TOTAL), "PERMANENT_TOTAL", "severity name");
    cr_assert_str_eq(incident_reporter_name(REPORTER_HEALTH_FACILITY), "HEALTH_FACILITY", "reporter name");
}

Test(incident, event_id_is_stable_and_ignores_publishing_time)
{
    incident a = sample(), b = sample();

    incident_event_id(&a);
    b.event_time_us = 123456789;
    strcpy(b.event_id, "not-a-uuid");
    incident_event_id(&b);
    cr_assert_str_eq(a.event_id, b.event_id, "same report, different ids");
    cr_assert_eq(strlen(a.event_id), 36u, "uuid text length %zu", strlen(a.event_id));
    cr_assert_eq(a.event_id[14], '5', "uuid version %c, want 5", a.event_id[14]);
}

Test(incident, event_id_changes_with_every_content_field)
{
    incident base = sample(), v[10];
    int n = 0;

    incident_event_id(&base);
    for (int i = 0; i < 10; i++)
        v[i] = base;
    strcpy(v[n++].source, "dc-other");
    strcpy(v[n++].nik, "7313014101900002");
    v[n++].type = INCIDENT_ACCIDENT;
    v[n++].occurred_at_us += 1;
    strcpy(v[n++].region_code, "7313012002");
    v[n++].circumstance = CIRCUMSTANCE_COMMUTING;
    v[n].fields |= IF_DESCRIPTION, strcpy(v[n++].description, "x");
    v[n].fields |= IF_REPORTED_AT, v[n++].reported_at_us = base.occurred_at_us;
    v[n].fields |= IF_CAUSE, v[n++].cause = CAUSE_FALL;
    v[n++].reporter_institution = REPORTER_FAMILY;
    for (int i = 0; i < n; i++) {
        incident_event_id(&v[i]);
        cr_assert_str_neq(v[i].event_id, base.event_id, "variant %d kept the id", i);
    }
}

Test(incident, event_id_does_not_confuse_field_boundaries)
{
    incident a = sample(), b = sample();

    a.fields = b.fields = IF_REPORTER_NAME | IF_REPORTER_PHONE;
    strcpy(a.reporter_name, "Andi1");
    strcpy(a.reporter_phone, "23456789");
    strcpy(b.reporter_name, "Andi");
    strcpy(b.reporter_phone, "123456789");
    incident_event_id(&a);
    incident_event_id(&b);
    cr_assert_str_neq(a.event_id, b.event_id, "shifted text between fields gave the same id");
}

Test(incident, valid_reports_pass)
{
    incident inc = sample();
    validate_report r;

    cr_assert_eq(incident_validate(&inc, now_us(), &r), 0, "death: %d errors, first %s: %s", r.errors,
                 r.items[0].field, r.items[0].rule);
    inc.type = INCIDENT_ACCIDENT;
    inc.severity = SEVERITY_PERMANENT_PARTIAL;
    inc.fields |= IF_SEVERITY | IF_REPORTER_PHONE | IF_REPORTED_AT;
    strcpy(inc.reporter_phone, "+6281234567890");
    inc.reported_at_us = inc.occurred_at_us;
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 0, "accident: %d errors, first %s: %s", r.errors,
                 r.items[0].field, r.items[0].rule);
    cr_assert_eq(r.warnings, 0, "warnings %d", r.warnings);
}

Test(incident, every_required_field_is_reported)
{
    incident inc;
    validate_report r;
    const char *required[] = {"source", "nik", "type", "occurred_at", "region_code", "circumstance",
                              "reporter_institution", "event_id", "event_time"};
    int nrow = (int)(sizeof required / sizeof required[0]) - 2;

    incident_init(&inc);
    cr_assert_eq(incident_validate(&inc, now_us(), &r), nrow + 2, "errors %d", r.errors);
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        cr_assert_not_null(find_issue(&r, required[i], 0), "no issue on '%s'", required[i]);
    cr_assert_eq(incident_validate_row(&inc, now_us(), &r), nrow, "row rules: errors %d", r.errors);
    cr_assert_null(find_issue(&r, "event_id", 0), "row rules checked event_id");
}

Test(incident, accident_needs_severity_and_death_warns_on_it)
{
    incident inc = sample();
    validate_report r;

    inc.type = INCIDENT_ACCIDENT;
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "errors %d", r.errors);
    cr_assert_not_null(find_issue(&r, "severity", 0), "accident without severity accepted");
    inc = sample();
    inc.severity = SEVERITY_MINOR;
    inc.fields |= IF_SEVERITY;
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 0, "errors %d", r.errors);
    cr_assert_not_null(find_issue(&r, "severity", 1), "no warning for a death's severity");
}

Test(incident, times_allow_five_minutes_of_skew)
{
    incident inc = sample();
    validate_report r;
    int64_t now = now_us();

    inc.occurred_at_us = now + 4 * 60 * INT64_C(1000000);
    cr_assert_eq(incident_validate(&inc, now, &r), 0, "4 minutes ahead rejected");
    inc.occurred_at_us = now + 6 * 60 * INT64_C(1000000);
    cr_assert_eq(incident_validate(&inc, now, &r), 1, "6 minutes ahead accepted");
    cr_assert_not_null(find_issue(&r, "occurred_at", 0), "issue not on occurred_at");
    inc = sample();
    inc.fields |= IF_REPORTED_AT;
    inc.reported_at_us = now + 6 * 60 * INT64_C(1000000);
    cr_assert_eq(incident_validate(&inc, now, &r), 1, "reported_at in the future accepted");
    cr_assert_not_null(find_issue(&r, "reported_at", 0), "issue not on reported_at");
}

Test(incident, occurred_after_reported_is_an_error)
{
    incident inc = sample();
    validate_report r;

    inc.fields |= IF_REPORTED_AT;
    inc.reported_at_us = inc.occurred_at_us - 1;
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "errors %d", r.errors);
    cr_assert_not_null(find_issue(&r, "occurred_at", 0), "issue not on occurred_at");
    inc.reported_at_us = inc.occurred_at_us;
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 0, "same instant rejected");
}

Test(incident, description_counts_characters_not_bytes)
{
    incident inc = sample();
    validate_report r;
    size_t used = 0;

    inc.fields |= IF_DESCRIPTION;
    /* 2,000 two-byte characters ("é") fit; one more does not. */
    for (int i = 0; i < INCIDENT_DESCRIPTION_MAX; i++, used += 2)
        memcpy(inc.description + used, "\xc3\xa9", 2);
    inc.description[used] = '\0';
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 0, "2000 characters rejected: %s", r.items[0].rule);
    memcpy(inc.description + used, "a", 2);
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "2001 characters accepted");
    cr_assert_not_null(find_issue(&r, "description", 0), "issue not on description");
}

Test(incident, field_syntax_rules)
{
    incident inc;
    validate_report r;

    inc = sample();
    strcpy(inc.nik, "7313014101900000");
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "serial 0000 accepted");
    cr_assert_not_null(find_issue(&r, "nik", 0), "issue not on nik");
    inc = sample();
    strcpy(inc.region_code, "73.13.01");
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "dotted region accepted");
    cr_assert_not_null(find_issue(&r, "region_code", 0), "issue not on region_code");
    inc = sample();
    strcpy(inc.region_code, "7370");
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "regency 70 accepted");
    inc = sample();
    inc.fields |= IF_REPORTER_PHONE;
    strcpy(inc.reporter_phone, "0812 3456 789");
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "phone with spaces accepted");
    cr_assert_not_null(find_issue(&r, "reporter_phone", 0), "issue not on reporter_phone");
    strcpy(inc.reporter_phone, "1234567");
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "7-digit phone accepted");
    inc = sample();
    inc.fields |= IF_CAUSE;
    inc.cause = (incident_cause)CAUSE__COUNT;
    cr_assert_eq(incident_validate(&inc, now_us(), &r), 1, "out-of-range cause accepted");
    cr_assert_not_null(find_issue(&r, "cause", 0), "issue not on cause");
}

/* ---- data-driven rule cases ---- */

/* A valid DEATH report, or ACCIDENT: the same with severity MINOR. */
static int base(const char *name, void *rec)
{
    incident *inc = rec;

    if (strcmp(name, "DEATH") != 0 && strcmp(name, "ACCIDENT") != 0)
        return -1;
    *inc = sample();
    if (strcmp(name, "ACCIDENT") == 0) {
        inc->type = INCIDENT_ACCIDENT;
        inc->severity = SEVERITY_MINOR;
        inc->fields |= IF_SEVERITY;
    }
    return 0;
}

#define TEXT(key, member, bit)                                                                     \
    if (strcmp(k, key) == 0) {                                                                     \
        snprintf(inc->member, sizeof inc->member, "%.*s", (int)sizeof inc->member - 1, v);         \
        inc->fields |= bit;                                                                        \
        return;                                                                                    \
    }

static void set_field(void *rec, const char *k, const char *v)
{
    incident *inc = rec;

    TEXT("event_id", event_id, 0)
    TEXT("source", source, 0)
    TEXT("report_id", report_id, IF_REPORT_ID)
    TEXT("nik", nik, 0)
    TEXT("region_code", region_code, 0)
    TEXT("description", description, IF_DESCRIPTION)
    TEXT("reporter_name", reporter_name, IF_REPORTER_NAME)
    TEXT("reporter_phone", reporter_phone, IF_REPORTER_PHONE)
    if (strcmp(k, "event_time") == 0)
        inc->event_time_us = settings_time(v);
    else if (strcmp(k, "occurred_at") == 0)
        inc->occurred_at_us = settings_time(v);
    else if (strcmp(k, "reported_at") == 0)
        inc->reported_at_us = settings_time(v), inc->fields |= IF_REPORTED_AT;
    else if (strcmp(k, "type") == 0)
        inc->type = (incident_type)settings_named(v, incident_type_parse);
    else if (strcmp(k, "circumstance") == 0)
        inc->circumstance = (incident_circumstance)settings_named(v, incident_circumstance_parse);
    else if (strcmp(k, "cause") == 0)
        inc->cause = (incident_cause)settings_named(v, incident_cause_parse),
        inc->fields |= IF_CAUSE;
    else if (strcmp(k, "severity") == 0)
        inc->severity = (incident_severity)settings_named(v, incident_severity_parse),
        inc->fields |= IF_SEVERITY;
    else if (strcmp(k, "reporter_institution") == 0)
        inc->reporter_institution = (incident_reporter)settings_named(v, incident_reporter_parse);
    else
        cr_assert_fail("unknown key '%s' in " CASES_FILE, k);
}
#undef TEXT

static int validate(const void *rec, validate_report *r)
{
    return incident_validate(rec, now_us(), r);
}

static int validate_row(const void *rec, validate_report *r)
{
    return incident_validate_row(rec, now_us(), r);
}

static const rulecase_type rules = {
    .cases = CASES_FILE, .based = 1, .size = sizeof(incident), .base = base, .set = set_field,
    .validate = validate, .validate_row = validate_row,
};

RULECASE_TEST(incident, rule_case, &rules)

Test(incident, case_file_loads)
{
    rulecase_check_file(&rules, 20);
}
