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
#include "support/datafile.h"
#include "support/settings.h"

#define CASES_FILE "data/validate_cases.txt"
#define MAX_CASES 200

typedef struct validate_case {
    int line;
    char name[64];
    char base[16];
    char settings[256];
    char expect[8];  /* OK, ERR or WARN */
    char field[24];
    char rule[120];
} validate_case;

static int32_t today(void)
{
    return dates_from_civil(2024, 6, 1);
}

/* A date "YYYY-MM-DD", "none", or "#N" for a raw day number (to forge bad records). */
static int32_t date(const char *s)
{
    int32_t d;

    if (strcmp(s, "none") == 0)
        return DATE_NONE;
    if (s[0] == '#')
        return (int32_t)strtol(s + 1, NULL, 10);
    cr_assert_eq(dates_parse(s, &d), 0, "bad date '%s' in " CASES_FILE, s);
    return d;
}

/* A timestamp with offset, or "#N" for raw microseconds. */
static int64_t timestamp(const char *s)
{
    int64_t us;

    if (s[0] == '#')
        return strtoll(s + 1, NULL, 10);
    cr_assert_eq(dates_parse_timestamp(s, &us), 0, "bad timestamp '%s' in " CASES_FILE, s);
    return us;
}

/* The envelope a consumer sees on every event (a producer checks before setting it). */
static void set_envelope(roster_change *rc)
{
    snprintf(rc->event_id, sizeof rc->event_id, "6f1c2a3e-8d4b-4c1a-9e2f-0a1b2c3d4e5f");
    rc->event_time_us = timestamp("2024-06-01T08:00:00+08:00");
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

static void base_record(const char *base, roster_change *rc)
{
    if (strcmp(base, "ENROLL") == 0) {
        base_enroll(rc);
        return;
    }
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
        cr_assert_str_eq(base, "TERMINATE", "unknown base '%s' in " CASES_FILE, base);
        rc->change = CHANGE_TERMINATE;
    }
}

/* An enum or bit field from a name, or "#N" for a raw number (to forge bad records). */
static int named(const char *v, int (*parse)(const char *))
{
    if (v[0] == '#')
        return atoi(v + 1);
    int x = parse(v);
    cr_assert_neq(x, -1, "unknown name '%s' in " CASES_FILE, v);
    return x;
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

static void set_field(roster_change *rc, const char *key, const char *raw)
{
    char v[256];

    settings_unescape(v, sizeof v, raw);
    rc->fields |= key_bit(key);
    if (!strcmp(key, "nik")) SET_TEXT(nik);
    else if (!strcmp(key, "source")) SET_TEXT(source);
    else if (!strcmp(key, "event_id")) SET_TEXT(event_id);
    else if (!strcmp(key, "event_time")) rc->event_time_us = timestamp(v);
    else if (!strcmp(key, "change")) rc->change = (roster_change_kind)named(v, roster_change_parse);
    else if (!strcmp(key, "full_name")) SET_TEXT(full_name);
    else if (!strcmp(key, "birth_date")) rc->birth_date = date(v);
    else if (!strcmp(key, "gender")) rc->gender = v[0];
    else if (!strcmp(key, "institution")) rc->institution = (roster_institution)named(v, roster_institution_parse);
    else if (!strcmp(key, "role")) rc->role = (roster_role)named(v, roster_role_parse);
    else if (!strcmp(key, "region_code")) SET_TEXT(region_code);
    else if (!strcmp(key, "tps")) rc->tps = atoi(v);
    else if (!strcmp(key, "term_start")) rc->term_start = date(v);
    else if (!strcmp(key, "term_end")) rc->term_end = date(v);
    else if (!strcmp(key, "monthly_wage")) rc->monthly_wage = strtoll(v, NULL, 10);
    else if (!strcmp(key, "programs")) rc->programs = (unsigned)named(v, roster_programs_parse);
    else if (!strcmp(key, "agreement_id")) SET_TEXT(agreement_id);
    else if (!strcmp(key, "kpj")) SET_TEXT(kpj);
    else if (!strcmp(key, "effective_date")) rc->effective_date = date(v);
    else if (!strcmp(key, "phone")) SET_TEXT(phone);
}
#undef SET_TEXT

/* Apply "key=value|-key|..." to rc; "-" alone changes nothing. */
static void apply_settings(roster_change *rc, const char *settings)
{
    char buf[256], *item, *next;

    if (strcmp(settings, "-") == 0)
        return;
    snprintf(buf, sizeof buf, "%s", settings);
    for (item = buf; item; item = next) {
        next = strchr(item, '|');
        if (next)
            *next++ = '\0';
        if (item[0] == '-') {
            rc->fields &= ~key_bit(item + 1);
            if (!strcmp(item + 1, "tps"))
                rc->tps = 0;
            continue;
        }
        char *eq = strchr(item, '=');
        cr_assert_not_null(eq, "setting '%s' lacks '=' in " CASES_FILE, item);
        *eq = '\0';
        set_field(rc, item, eq + 1);
    }
}

static int fill_case(const datafile_line *l, void *out)
{
    validate_case *c = out;

    if (l->nfields < 4)
        return 0;
    memset(c, 0, sizeof *c);
    c->line = l->line;
    snprintf(c->name, sizeof c->name, "%s", l->field[0]);
    snprintf(c->base, sizeof c->base, "%s", l->field[1]);
    snprintf(c->settings, sizeof c->settings, "%s", l->field[2]);
    snprintf(c->expect, sizeof c->expect, "%s", l->field[3]);
    if (l->nfields == 6) {
        snprintf(c->field, sizeof c->field, "%s", l->field[4]);
        snprintf(c->rule, sizeof c->rule, "%s", l->field[5]);
    }
    return 1;
}

static size_t load_cases(validate_case *out, size_t max)
{
    return datafile_load(CASES_FILE, 6, out, sizeof *out, max, fill_case);
}

static const validate_issue *find_issue(const validate_report *r, const char *field, const char *rule,
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
        used += (size_t)snprintf(buf + used, size - used, "[%s %s: %s] ", r->items[i].warning ? "W" : "E",
                                 r->items[i].field, r->items[i].rule);
}

ParameterizedTestParameters(validate, row_case)
{
    static validate_case tmp[MAX_CASES];
    size_t n = load_cases(tmp, MAX_CASES);

    return datafile_params(tmp, n, sizeof *tmp);
}

/* Errors of r on the envelope fields (which only the full rules check). */
static int envelope_errors(const validate_report *r)
{
    int n = 0;

    for (int i = 0; i < r->count; i++)
        n += !r->items[i].warning &&
             (strcmp(r->items[i].field, "event_id") == 0 || strcmp(r->items[i].field, "event_time") == 0);
    return n;
}

ParameterizedTest(validate_case *c, validate, row_case)
{
    roster_change rc;
    validate_report r, row;
    char got[2048];

    base_record(c->base, &rc);
    apply_settings(&rc, c->settings);
    int errors = validate_roster_change(&rc, today(), &r);
    describe(&r, got, sizeof got);

    cr_assert_eq(errors, r.errors, "line %d %s: returned %d but report says %d", c->line, c->name, errors,
                 r.errors);
    cr_assert_eq(validate_roster_row(&rc, today(), &row), r.errors - envelope_errors(&r),
                 "line %d %s: the row rules differ from the full rules by more than the envelope: %s", c->line,
                 c->name, got);
    cr_assert_eq(row.warnings, r.warnings, "line %d %s: the row rules warn differently", c->line, c->name);
    if (strcmp(c->expect, "OK") == 0) {
        cr_assert_eq(r.errors + r.warnings, 0, "line %d %s: expected a clean row, got %s", c->line, c->name,
                     got);
    } else if (strcmp(c->expect, "ERR") == 0) {
        cr_assert_gt(r.errors, 0, "line %d %s: expected an error, got %s", c->line, c->name, got);
        cr_assert_not_null(find_issue(&r, c->field, c->rule, 0), "line %d %s: no error on %s with '%s'; got %s",
                           c->line, c->name, c->field, c->rule, got);
    } else {
        cr_assert_str_eq(c->expect, "WARN", "line %d %s: unknown expectation", c->line, c->name);
        cr_assert_eq(r.errors, 0, "line %d %s: a warning case has errors: %s", c->line, c->name, got);
        cr_assert_not_null(find_issue(&r, c->field, c->rule, 1), "line %d %s: no warning on %s with '%s'; got %s",
                           c->line, c->name, c->field, c->rule, got);
    }
}

Test(validate, case_file_loads)
{
    static validate_case tmp[MAX_CASES];
    size_t n = load_cases(tmp, MAX_CASES), errs = 0;

    for (size_t i = 0; i < n; i++)
        errs += strcmp(tmp[i].expect, "ERR") == 0;
    cr_assert_geq(n, 25, "%s holds %zu cases, expected at least 25", CASES_FILE, n);
    cr_assert(errs > 0 && errs < n, "%s needs clean and failing cases: %zu of %zu fail", CASES_FILE, errs, n);
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
    cr_assert_not_null(find_issue(&r, "nik", "nik is required", 0), "missing nik not reported");
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
        cr_assert_not_null(find_issue(&r, fields[i], "", 0), "unterminated %s not reported", fields[i]);
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
    cr_assert_null(find_issue(&r, "birth_date", "future", 0), "birth_date equal to today called future");
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
    cr_assert_not_null(find_issue(&r, "event_id", "event_id is required", 0), "no event_id error");
}

Test(validate, sane_range_ends_are_the_first_and_last_day)
{
    int32_t first, last;

    cr_assert_eq(dates_parse("1900-01-01", &first), 0, "parse");
    cr_assert_eq(dates_parse("2100-12-31", &last), 0, "parse");
    cr_assert_eq(VALIDATE_DAY_MIN, first, "VALIDATE_DAY_MIN %d is not 1900-01-01 (%d)", VALIDATE_DAY_MIN, first);
    cr_assert_eq(VALIDATE_DAY_MAX, last, "VALIDATE_DAY_MAX %d is not 2100-12-31 (%d)", VALIDATE_DAY_MAX, last);
    cr_assert_eq(VALIDATE_TIME_MIN_US, timestamp("1900-01-01T00:00:00Z"), "VALIDATE_TIME_MIN_US");
    cr_assert_eq(VALIDATE_TIME_MAX_US, timestamp("2100-12-31T23:59:59.999999Z"), "VALIDATE_TIME_MAX_US");
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
    cr_assert_not_null(find_issue(&r, "event_id", "UUID", 0), "unterminated event_id not reported");
}
