/* Unit tests of common/validate: the roster rules, driven by data/validate_cases.txt
 * (a valid base record per change kind, edited by key=value settings), the row rules
 * producers run (the same less event_id and event_time), the shared checks, plus report
 * limits and untrusted (unterminated) records. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "roster.h"
#include "validate.h"
#include "support/rulecase.h"

#define CASES_FILE "data/validate_cases.txt"

static int32_t today(void)
{
    return dates_from_civil(2024, 6, 1);
}

/* The envelope a consumer sees on every event (a producer checks before setting it). */
static void set_envelope(roster_change *rc)
{
    snprintf(rc->event_id, sizeof rc->event_id, "6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5f");
    rc->event_time_us = settings_time("2024-06-01T08:00:00+08:00");
}

/* A valid KPPS enrolment of a woman born 1990-08-05 (NIK 45-08-90) in Wajo. */
static void base_enroll(roster_change *rc)
{
    roster_change_init(rc);
    set_envelope(rc);
    rc->change = CHANGE_ENROLL;
    snprintf(rc->source, sizeof rc->source, "dc-73");
    snprintf(rc->nik, sizeof rc->nik, "7313014508900001");
    snprintf(rc->full_name, sizeof rc->full_name, "Siti Aminah");
    rc->birth_date = dates_from_civil(1990, 8, 5);
    rc->gender = 'P';
    rc->institution = INST_KPU;
    rc->role = ROLE_KPPS;
    snprintf(rc->region_code, sizeof rc->region_code, "7313012001");
    rc->tps = 3;
    rc->term_start = dates_from_civil(2024, 1, 10);
    rc->term_end = dates_from_civil(2024, 2, 20);
    rc->monthly_wage = 1100000;
    snprintf(rc->agreement_id, sizeof rc->agreement_id, "PKS-7313-2024-001");
    rc->fields = RF_FULL_NAME | RF_BIRTH_DATE | RF_GENDER | RF_INSTITUTION | RF_ROLE | RF_REGION |
                 RF_TPS | RF_TERM_START | RF_TERM_END | RF_WAGE | RF_AGREEMENT;
}

/* ENROLL (base_enroll), UPDATE (monthly_wage from 2024-02-01) or TERMINATE (from
 * 2024-02-01); -1 for another name. */
static int base_record(const char *base, void *rec)
{
    roster_change *rc = rec;

    if (strcmp(base, "ENROLL") == 0) {
        base_enroll(rc);
        return 0;
    }
    if (strcmp(base, "UPDATE") != 0 && strcmp(base, "TERMINATE") != 0)
        return -1;
    roster_change_init(rc);
    set_envelope(rc);
    snprintf(rc->source, sizeof rc->source, "dc-73");
    snprintf(rc->nik, sizeof rc->nik, "7313014508900001");
    rc->effective_date = dates_from_civil(2024, 2, 1);
    rc->fields = RF_EFFECTIVE;
    if (strcmp(base, "UPDATE") == 0) {
        rc->change = CHANGE_UPDATE;
        rc->monthly_wage = 1200000;
        rc->fields |= RF_WAGE;
    } else {
        rc->change = CHANGE_TERMINATE;
    }
    return 0;
}

static const struct {
    const char *key;
    unsigned bit;
} keys[] = {
    {"full_name", RF_FULL_NAME}, {"birth_date", RF_BIRTH_DATE}, {"gender", RF_GENDER},
    {"institution", RF_INSTITUTION}, {"role", RF_ROLE}, {"region_code", RF_REGION},
    {"tps", RF_TPS}, {"term_start", RF_TERM_START}, {"term_end", RF_TERM_END},
    {"monthly_wage", RF_WAGE}, {"programs", RF_PROGRAMS}, {"agreement_id", RF_AGREEMENT},
    {"kpj", RF_KPJ}, {"effective_date", RF_EFFECTIVE}, {"phone", RF_PHONE},
    {"nik", 0}, {"source", 0}, {"change", 0}, {"event_id", 0}, {"event_time", 0},
};

static unsigned key_bit(const char *key)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].key, key) == 0)
            return keys[i].bit;
    cr_assert_fail("unknown key '%s' in " CASES_FILE, key);
    return 0;
}

/* Copy the unescaped value into a text member, cut to its buffer. */
#define SET_TEXT(member) snprintf(rc->member, sizeof rc->member, "%.*s", (int)sizeof rc->member - 1, v)

static void set_field(void *rec, const char *key, const char *v)
{
    roster_change *rc = rec;

    rc->fields |= key_bit(key);
    if (!strcmp(key, "nik")) SET_TEXT(nik);
    else if (!strcmp(key, "source")) SET_TEXT(source);
    else if (!strcmp(key, "event_id")) SET_TEXT(event_id);
    else if (!strcmp(key, "event_time")) rc->event_time_us = settings_time(v);
    else if (!strcmp(key, "change")) rc->change = (roster_change_kind)settings_named(v, roster_change_parse);
    else if (!strcmp(key, "full_name")) SET_TEXT(full_name);
    else if (!strcmp(key, "birth_date")) rc->birth_date = settings_day(v);
    else if (!strcmp(key, "gender")) rc->gender = v[0];
    else if (!strcmp(key, "institution"))
        rc->institution = (roster_institution)settings_named(v, roster_institution_parse);
    else if (!strcmp(key, "role")) rc->role = (roster_role)settings_named(v, roster_role_parse);
    else if (!strcmp(key, "region_code")) SET_TEXT(region_code);
    else if (!strcmp(key, "tps")) rc->tps = atoi(v);
    else if (!strcmp(key, "term_start")) rc->term_start = settings_day(v);
    else if (!strcmp(key, "term_end")) rc->term_end = settings_day(v);
    else if (!strcmp(key, "monthly_wage")) rc->monthly_wage = strtoll(v, NULL, 10);
    else if (!strcmp(key, "programs")) rc->programs = (unsigned)settings_named(v, roster_programs_parse);
    else if (!strcmp(key, "agreement_id")) SET_TEXT(agreement_id);
    else if (!strcmp(key, "kpj")) SET_TEXT(kpj);
    else if (!strcmp(key, "effective_date")) rc->effective_date = settings_day(v);
    else if (!strcmp(key, "phone")) SET_TEXT(phone);
}
#undef SET_TEXT

/* "-key": the field absent (tps 0 too). */
static void drop_field(void *rec, const char *key)
{
    roster_change *rc = rec;

    rc->fields &= ~key_bit(key);
    if (strcmp(key, "tps") == 0)
        rc->tps = 0;
}

static int validate(const void *rec, validate_report *r)
{
    return validate_roster_change(rec, today(), r);
}

static int validate_row(const void *rec, validate_report *r)
{
    return validate_roster_row(rec, today(), r);
}

static const rulecase_type rules = {
    .cases = CASES_FILE, .based = 1, .size = sizeof(roster_change), .base = base_record,
    .set = set_field, .drop = drop_field, .validate = validate, .validate_row = validate_row,
};

RULECASE_TEST(validate, row_case, &rules)

Test(validate, case_file_loads)
{
    rulecase_check_file(&rules, 25);
}

Test(validate, empty_enroll_keeps_first_sixteen_issues)
{
    roster_change rc;
    validate_report r;

    roster_change_init(&rc);
    rc.change = CHANGE_ENROLL;
    int errors = validate_roster_change(&rc, today(), &r);
    cr_assert_gt(errors, 10, "an empty ENROLL has only %d errors", errors);
    cr_assert_leq(r.count, 16, "report holds %d items", r.count);
    cr_assert_eq(r.count, errors < 16 ? errors : 16, "count %d for %d errors", r.count, errors);
    cr_assert_not_null(rulecase_issue(&r, "nik", "nik is required", 0), "missing nik not reported");
}

Test(validate, unterminated_strings_are_errors_not_overreads)
{
    roster_change rc;
    validate_report r;

    base_enroll(&rc);
    rc.fields |= RF_KPJ | RF_PHONE;
    memset(rc.nik, '7', sizeof rc.nik);
    memset(rc.source, 'a', sizeof rc.source);
    memset(rc.full_name, 'a', sizeof rc.full_name);
    memset(rc.region_code, '7', sizeof rc.region_code);
    memset(rc.kpj, '1', sizeof rc.kpj);
    memset(rc.phone, '1', sizeof rc.phone);
    memset(rc.agreement_id, 'a', sizeof rc.agreement_id);
    validate_roster_change(&rc, today(), &r);

    static const char *const fields[] = {"nik", "source", "full_name", "region_code", "kpj", "phone",
                                         "agreement_id"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        cr_assert_not_null(rulecase_issue(&r, fields[i], "", 0), "unterminated %s not reported", fields[i]);
}

Test(validate, report_is_reset_between_calls)
{
    roster_change rc;
    validate_report r;

    roster_change_init(&rc);
    rc.change = CHANGE_ENROLL;
    validate_roster_change(&rc, today(), &r);
    base_enroll(&rc);
    cr_assert_eq(validate_roster_change(&rc, today(), &r), 0, "valid row after a bad one has errors");
    cr_assert_eq(r.count, 0, "stale items left: %d", r.count);
}

Test(validate, birth_today_is_not_future)
{
    roster_change rc;
    validate_report r;

    roster_change_init(&rc);
    rc.change = CHANGE_UPDATE;
    snprintf(rc.source, sizeof rc.source, "dc-73");
    snprintf(rc.nik, sizeof rc.nik, "7313014508900001");
    rc.effective_date = today();
    rc.birth_date = today();
    rc.fields = RF_EFFECTIVE | RF_BIRTH_DATE;
    validate_roster_change(&rc, today(), &r);
    cr_assert_null(rulecase_issue(&r, "birth_date", "future", 0), "birth_date equal to today called future");
}

Test(validate, row_rules_leave_the_envelope_to_the_producer)
{
    roster_change rc;
    validate_report r;

    base_enroll(&rc);
    rc.event_id[0] = '\0';
    rc.event_time_us = 0;
    cr_assert_eq(validate_roster_row(&rc, today(), &r), 0, "row rules checked the envelope: %s: %s",
                 r.items[0].field, r.items[0].rule);
    cr_assert_eq(validate_roster_change(&rc, today(), &r), 1, "full rules: %d errors", r.errors);
    cr_assert_not_null(rulecase_issue(&r, "event_id", "event_id is required", 0), "no event_id error");
}

Test(validate, sane_range_ends_are_the_first_and_last_day)
{
    int32_t first, last;

    cr_assert_eq(dates_parse("1900-01-01", &first), 0, "parse");
    cr_assert_eq(dates_parse("2100-12-31", &last), 0, "parse");
    cr_assert_eq(VALIDATE_DAY_MIN, first, "VALIDATE_DAY_MIN %d is not 1900-01-01 (%d)", VALIDATE_DAY_MIN, first);
    cr_assert_eq(VALIDATE_DAY_MAX, last, "VALIDATE_DAY_MAX %d is not 2100-12-31 (%d)", VALIDATE_DAY_MAX, last);
    cr_assert_eq(VALIDATE_TIME_MIN_US, settings_time("1900-01-01T00:00:00Z"), "VALIDATE_TIME_MIN_US");
    cr_assert_eq(VALIDATE_TIME_MAX_US, settings_time("2100-12-31T23:59:59.999999Z"), "VALIDATE_TIME_MAX_US");
}

Test(validate, uuid_shape)
{
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        {"6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5f", 1},
        {"6F1C2A3E-8D4B-4C1A-9E2F-0A1B2C3D4E5F", 1},
        {"00000000-0000-0000-0000-000000000000", 1},
        {"6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5", 0},
        {"6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5f0", 0},
        {"6f1c2a3e8d4b-4c1a-9e2f-0a1b2c3d4e5f-", 0},
        {"{6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5}", 0},
        {"6g1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5f", 0},
        {"", 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(validate_is_uuid(cases[i].s), cases[i].ok, "'%s'", cases[i].s);
}

Test(validate, unterminated_envelope_is_an_error_not_an_overread)
{
    roster_change rc;
    validate_report r;

    base_enroll(&rc);
    memset(rc.event_id, 'a', sizeof rc.event_id);
    validate_roster_change(&rc, today(), &r);
    cr_assert_not_null(rulecase_issue(&r, "event_id", "UUID", 0), "unterminated event_id not reported");
}

/* The checks keep the last valid region_code a thread saw: a row with the same code must
 * still be judged on its own role, and a bad code after a good one still refused. */
Test(validate, a_region_seen_before_is_judged_the_same)
{
    roster_change rc;
    validate_report r;

    for (int pass = 0; pass < 2; pass++) {
        base_enroll(&rc);
        cr_assert_eq(validate_roster_change(&rc, today(), &r), 0, "pass %d: the base row is valid", pass);
        rc.role = ROLE_PPK;
        rc.fields &= ~(unsigned)RF_TPS;
        rc.tps = 0;
        cr_assert_eq(validate_roster_change(&rc, today(), &r), 1, "pass %d: a PPK in a desa", pass);
        cr_assert_not_null(rulecase_issue(&r, "region_code", "is a desa; role PPK works in a kecamatan", 0),
                           "pass %d: the level is still checked", pass);
        base_enroll(&rc);
        snprintf(rc.region_code, sizeof rc.region_code, "7313014001");
        cr_assert_eq(validate_roster_change(&rc, today(), &r), 1, "pass %d: desa 4001", pass);
        cr_assert_not_null(rulecase_issue(&r, "region_code", "must start with 1", 0), "pass %d", pass);
        snprintf(rc.region_code, sizeof rc.region_code, "73.13.01");
        cr_assert_eq(validate_roster_change(&rc, today(), &r), 1, "pass %d: dotted", pass);
        cr_assert_not_null(rulecase_issue(&r, "region_code", "must be plain digits", 0), "pass %d", pass);
    }
}
