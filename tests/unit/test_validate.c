/* Unit tests of common/validate: the roster row rules, driven by data/validate_cases.txt
 * (a valid base record per change kind, edited by key=value settings), plus report limits
 * and untrusted (unterminated) records. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "roster.h"
#include "validate.h"
#include "support/datafile.h"

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

static int32_t date(const char *s)
{
    int32_t d;

    if (strcmp(s, "none") == 0)
        return DATE_NONE;
    cr_assert_eq(dates_parse(s, &d), 0, "bad date '%s' in " CASES_FILE, s);
    return d;
}

/* A valid KPPS enrolment of a woman born 1990-08-05 (NIK 45-08-90) in Wajo. */
static void base_enroll(roster_change *rc)
{
    roster_change_init(rc);
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
    {"nik", 0}, {"source", 0}, {"change", 0},
};

static unsigned key_bit(const char *key)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].key, key) == 0)
            return keys[i].bit;
    cr_assert_fail("unknown key '%s' in " CASES_FILE, key);
    return 0;
}

static void set_field(roster_change *rc, const char *key, const char *v)
{
    rc->fields |= key_bit(key);
    if (!strcmp(key, "nik")) snprintf(rc->nik, sizeof rc->nik, "%s", v);
    else if (!strcmp(key, "source")) snprintf(rc->source, sizeof rc->source, "%s", v);
    else if (!strcmp(key, "change")) rc->change = (roster_change_kind)named(v, roster_change_parse);
    else if (!strcmp(key, "full_name")) snprintf(rc->full_name, sizeof rc->full_name, "%s", v);
    else if (!strcmp(key, "birth_date")) rc->birth_date = date(v);
    else if (!strcmp(key, "gender")) rc->gender = v[0];
    else if (!strcmp(key, "institution")) rc->institution = (roster_institution)named(v, roster_institution_parse);
    else if (!strcmp(key, "role")) rc->role = (roster_role)named(v, roster_role_parse);
    else if (!strcmp(key, "region_code")) snprintf(rc->region_code, sizeof rc->region_code, "%s", v);
    else if (!strcmp(key, "tps")) rc->tps = atoi(v);
    else if (!strcmp(key, "term_start")) rc->term_start = date(v);
    else if (!strcmp(key, "term_end")) rc->term_end = date(v);
    else if (!strcmp(key, "monthly_wage")) rc->monthly_wage = strtoll(v, NULL, 10);
    else if (!strcmp(key, "programs")) rc->programs = (unsigned)named(v, roster_programs_parse);
    else if (!strcmp(key, "agreement_id")) snprintf(rc->agreement_id, sizeof rc->agreement_id, "%s", v);
    else if (!strcmp(key, "kpj")) snprintf(rc->kpj, sizeof rc->kpj, "%s", v);
    else if (!strcmp(key, "effective_date")) rc->effective_date = date(v);
    else if (!strcmp(key, "phone")) snprintf(rc->phone, sizeof rc->phone, "%s", v);
}

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

ParameterizedTest(validate_case *c, validate, row_case)
{
    roster_change rc;
    validate_report r;
    char got[2048];

    base_record(c->base, &rc);
    apply_settings(&rc, c->settings);
    int errors = validate_roster_change(&rc, today(), &r);
    describe(&r, got, sizeof got);

    cr_assert_eq(errors, r.errors, "line %d %s: returned %d but report says %d", c->line, c->name, errors,
                 r.errors);
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
