/* fuzzcheck: the properties the fuzz targets assert. */
#include "fuzzcheck.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

void fuzzcheck_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("fuzzcheck: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

/* The copy behind the one FILE open at a time (the targets are single-threaded). */
static char *open_copy;

FILE *fuzzcheck_open(const uint8_t *data, size_t size)
{
    FILE *f;

    /* fmemopen wants a buffer of its own; at least one byte, so an empty input works. */
    if (!(open_copy = malloc(size ? size : 1)))
        fuzzcheck_fail("out of memory");
    if (size)
        memcpy(open_copy, data, size);
    if (!(f = fmemopen(open_copy, size, "r")))
        fuzzcheck_fail("fmemopen of %zu bytes failed", size);
    return f;
}

void fuzzcheck_close(FILE *f)
{
    fclose(f);
    free(open_copy);
    open_copy = NULL;
}

void fuzzcheck_text(const char *what, const char *s, size_t size)
{
    const char *end = memchr(s, '\0', size);

    if (!end)
        fuzzcheck_fail("%s is not terminated within %zu bytes", what, size);
    if (!utf8_valid_len(s, (size_t)(end - s)))
        fuzzcheck_fail("%s is not valid UTF-8", what);
}

void fuzzcheck_report(const validate_report *r)
{
    if (r->count < 0 || r->count > (int)(sizeof r->items / sizeof r->items[0]))
        fuzzcheck_fail("report count %d", r->count);
    if (r->errors < 0 || r->warnings < 0 || r->count > r->errors + r->warnings)
        fuzzcheck_fail("report count %d, errors %d, warnings %d", r->count, r->errors, r->warnings);
    for (int i = 0; i < r->count; i++) {
        fuzzcheck_text("an issue's field", r->items[i].field, sizeof r->items[i].field);
        fuzzcheck_text("an issue's rule", r->items[i].rule, sizeof r->items[i].rule);
        if (!r->items[i].field[0] || !r->items[i].rule[0])
            fuzzcheck_fail("an issue without field or rule");
    }
}

/* ---- the PostgreSQL side, restated ---- */

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* uuid: 8-4-4-4-12 hex digits. */
static void check_uuid(const char *what, const char *s, size_t size)
{
    fuzzcheck_text(what, s, size);
    if (strlen(s) != 36)
        fuzzcheck_fail("%s has %zu characters, a uuid 36", what, strlen(s));
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            fuzzcheck_fail("%s is not a uuid at character %d", what, i);
    }
}

/* A data center id that can also name a topic. */
static void check_source(const char *s, size_t size)
{
    size_t n;

    fuzzcheck_text("source", s, size);
    n = strlen(s);
    if (n < 1 || n > 32 ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        fuzzcheck_fail("source is not a data center id");
}

/* date and timestamptz values, within the sane range (PostgreSQL's own ends further). */
static void check_day(const char *what, int32_t day)
{
    if (day < -25567 || day > 47846)
        fuzzcheck_fail("%s %d is outside 1900-01-01..2100-12-31", what, (int)day);
}

static void check_time(const char *what, int64_t us)
{
    if (us < INT64_C(-2208988800000000) || us > INT64_C(4133980799999999))
        fuzzcheck_fail("%s %lld is outside 1900-01-01..2100-12-31", what, (long long)us);
}

/* nik char(16) CHECK (nik ~ '^[0-9]{16}$'). */
static void check_nik(const char *s, size_t size)
{
    fuzzcheck_text("nik", s, size);
    if (strlen(s) != 16 || !digits(s, 16))
        fuzzcheck_fail("nik is not 16 digits");
}

/* region_code CHECK (region_code ~ '^[0-9]{6}([0-9]{4})?$') of coverages. */
static void check_unit_code(const char *s, size_t size)
{
    size_t n;

    fuzzcheck_text("region_code", s, size);
    n = strlen(s);
    if ((n != 6 && n != 10) || !digits(s, n))
        fuzzcheck_fail("region_code is not 6 or 10 digits");
}

static void check_enum(const char *what, int v, int count)
{
    if (v < 0 || v >= count)
        fuzzcheck_fail("%s %d is outside 0..%d", what, v, count - 1);
}

#define TEXT(rec, member) fuzzcheck_text(#member, (rec)->member, sizeof (rec)->member)

void fuzzcheck_roster_ok(const roster_change *rc)
{
    check_uuid("event_id", rc->event_id, sizeof rc->event_id);
    check_source(rc->source, sizeof rc->source);
    check_time("event_time", rc->event_time_us);
    check_enum("change", rc->change, CHANGE__COUNT);
    check_nik(rc->nik, sizeof rc->nik);
    TEXT(rc, full_name);
    TEXT(rc, agreement_id);
    TEXT(rc, phone);
    TEXT(rc, kpj);
    TEXT(rc, region_code);
    if (rc->kpj[0] && (strlen(rc->kpj) != 11 || !digits(rc->kpj, 11)))
        fuzzcheck_fail("kpj is not 11 digits");        /* kpj char(11) CHECK */
    if (rc->region_code[0])
        check_unit_code(rc->region_code, sizeof rc->region_code);
    if (rc->birth_date != DATE_NONE)
        check_day("birth_date", rc->birth_date);
    if (rc->term_start != DATE_NONE)
        check_day("term_start", rc->term_start);
    if (rc->term_end != DATE_NONE)
        check_day("term_end", rc->term_end);
    if (rc->effective_date != DATE_NONE)
        check_day("effective_date", rc->effective_date);
    if (rc->gender != 0 && rc->gender != 'L' && rc->gender != 'P')
        fuzzcheck_fail("gender is not L or P");       /* char(1) CHECK */
    if (rc->tps > 999)
        fuzzcheck_fail("tps %d is not in 1-999", rc->tps);  /* smallint CHECK */
    if ((rc->fields & RF_WAGE) && rc->monthly_wage <= 0)
        fuzzcheck_fail("monthly_wage %lld is not positive", (long long)rc->monthly_wage);
    if (rc->change == CHANGE_ENROLL) {
        check_enum("institution", rc->institution, INST__COUNT);
        check_enum("role", rc->role, ROLE__COUNT);
        if (rc->term_start > rc->term_end)
            fuzzcheck_fail("term_start is after term_end");  /* CHECK valid_from <= valid_to */
        if (rc->programs & ~7u)
            fuzzcheck_fail("programs 0x%x", rc->programs);
    }
}

void fuzzcheck_incident_ok(const incident *inc)
{
    long chars = 0;

    check_uuid("event_id", inc->event_id, sizeof inc->event_id);
    check_source(inc->source, sizeof inc->source);
    check_time("event_time", inc->event_time_us);
    check_nik(inc->nik, sizeof inc->nik);
    check_enum("type", inc->type, INCIDENT_TYPE__COUNT);
    check_time("occurred_at", inc->occurred_at_us);
    if (inc->reported_at_us != TIME_NONE)
        check_time("reported_at", inc->reported_at_us);
    TEXT(inc, region_code);
    if (!inc->region_code[0] || !digits(inc->region_code, strlen(inc->region_code)))
        fuzzcheck_fail("region_code is not digits");
    check_enum("circumstance", inc->circumstance, CIRCUMSTANCE__COUNT);
    if (inc->fields & IF_CAUSE)
        check_enum("cause", inc->cause, CAUSE__COUNT);
    if (inc->fields & IF_SEVERITY)
        check_enum("severity", inc->severity, SEVERITY__COUNT);
    check_enum("reporter_institution", inc->reporter_institution, REPORTER__COUNT);
    TEXT(inc, report_id);
    TEXT(inc, reporter_name);
    TEXT(inc, reporter_phone);
    TEXT(inc, description);
    for (const char *p = inc->description; *p; p++)
        chars += ((unsigned char)*p & 0xc0) != 0x80;
    if (chars > 2000)
        fuzzcheck_fail("description has %ld characters", chars);  /* CHECK length <= 2000 */
}

void fuzzcheck_claim_ok(const claim_event *ev)
{
    check_uuid("event_id", ev->event_id, sizeof ev->event_id);
    check_source(ev->source, sizeof ev->source);
    check_time("event_time", ev->event_time_us);
    check_nik(ev->nik, sizeof ev->nik);
    TEXT(ev, claim_id);
    TEXT(ev, incident_id);
    TEXT(ev, benefit_table_version);
    TEXT(ev, reason);
    TEXT(ev, actor);
    TEXT(ev, payment_reference);
    check_enum("program", ev->program, CLAIM_PROGRAM__COUNT);
    check_enum("benefit", ev->benefit, BENEFIT__COUNT);
    check_enum("to_status", ev->to_status, CLAIM_STATUS__COUNT);
    check_enum("kind", ev->kind, CLAIM_EVENT_KIND__COUNT);
    if ((ev->program == CLAIM_PROGRAM_JKM) != (ev->benefit == BENEFIT_JKM))
        fuzzcheck_fail("program and benefit disagree on JKM");
    if ((ev->fields & CF_AMOUNT) && ev->amount_idr < 0)
        fuzzcheck_fail("amount_idr is negative");
    if (ev->to_status == CLAIM_PAID && !ev->payment_reference[0])
        fuzzcheck_fail("a PAID claim without payment_reference");
    if (ev->to_status == CLAIM_REJECTED && !ev->reason[0])
        fuzzcheck_fail("a REJECTED claim without reason");
}

void fuzzcheck_coverage_ok(const coverage_change *cc)
{
    check_uuid("event_id", cc->event_id, sizeof cc->event_id);
    check_source(cc->source, sizeof cc->source);
    check_time("event_time", cc->event_time_us);
    check_nik(cc->nik, sizeof cc->nik);
    check_enum("status", cc->status, COVERAGE_STATUS__COUNT);
    check_enum("role", cc->role, ROLE__COUNT);
    check_enum("institution", cc->institution, INST__COUNT);
    check_day("valid_from", cc->valid_from);
    check_day("valid_to", cc->valid_to);
    if (cc->valid_from > cc->valid_to)
        fuzzcheck_fail("valid_from is after valid_to");
    check_unit_code(cc->region_code, sizeof cc->region_code);
    if (cc->programs & ~7u)
        fuzzcheck_fail("programs 0x%x", cc->programs);
}
