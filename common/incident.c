/* incident: names of the Incident enums, the record's blank state, its event id and rules. */
#include "incident.h"
#include "uuid5.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "names.h"
#include "nik.h"
#include "region.h"

static const char *const type_names[INCIDENT_TYPE__COUNT] = {"ACCIDENT", "DEATH"};
static const char *const circumstance_names[CIRCUMSTANCE__COUNT] = {"ON_DUTY", "COMMUTING", "OFF_DUTY"};
static const char *const cause_names[CAUSE__COUNT] = {"TRAFFIC", "FALL", "VIOLENCE", "ILLNESS",
                                                      "EXHAUSTION", "OTHER"};
static const char *const severity_names[SEVERITY__COUNT] = {"MINOR", "MODERATE", "SERIOUS",
                                                            "PERMANENT_PARTIAL", "PERMANENT_TOTAL"};
static const char *const reporter_names[REPORTER__COUNT] = {"KPU", "BAWASLU", "FAMILY", "HEALTH_FACILITY"};

void incident_init(incident *inc)
{
    memset(inc, 0, sizeof *inc);
    inc->event_time_us = inc->occurred_at_us = inc->reported_at_us = TIME_NONE;
    inc->type = INCIDENT_TYPE_NONE;
    inc->circumstance = CIRCUMSTANCE_NONE;
    inc->cause = CAUSE_NONE;
    inc->severity = SEVERITY_NONE;
    inc->reporter_institution = REPORTER_NONE;
}

const char *incident_type_name(incident_type v) { return names_get(type_names, INCIDENT_TYPE__COUNT, v); }
const char *incident_circumstance_name(incident_circumstance v)
{
    return names_get(circumstance_names, CIRCUMSTANCE__COUNT, v);
}
const char *incident_cause_name(incident_cause v) { return names_get(cause_names, CAUSE__COUNT, v); }
const char *incident_severity_name(incident_severity v) { return names_get(severity_names, SEVERITY__COUNT, v); }
const char *incident_reporter_name(incident_reporter v) { return names_get(reporter_names, REPORTER__COUNT, v); }

int incident_type_parse(const char *s) { return names_find(type_names, INCIDENT_TYPE__COUNT, s); }
int incident_circumstance_parse(const char *s) { return names_find(circumstance_names, CIRCUMSTANCE__COUNT, s); }
int incident_cause_parse(const char *s) { return names_find(cause_names, CAUSE__COUNT, s); }
int incident_severity_parse(const char *s) { return names_find(severity_names, SEVERITY__COUNT, s); }
int incident_reporter_parse(const char *s) { return names_find(reporter_names, REPORTER__COUNT, s); }

#define TEXT(member) uuid5_text(&u, inc->member, sizeof inc->member)

void incident_event_id(incident *inc)
{
    /* A fixed namespace for incident events (itself a random UUID, never to change). */
    static const unsigned char ns[16] = {0x8e, 0x2b, 0x41, 0xc7, 0x5d, 0x90, 0x4a, 0x3e,
                              0xb1, 0x0f, 0x6c, 0x27, 0xd4, 0x83, 0x19, 0xa5};
    uuid5 u;

    uuid5_init(&u);

    TEXT(source);
    uuid5_num(&u, inc->fields);
    TEXT(report_id);
    TEXT(nik);
    uuid5_num(&u, inc->type);
    uuid5_num(&u, inc->occurred_at_us);
    uuid5_num(&u, (inc->fields & IF_REPORTED_AT) ? inc->reported_at_us : TIME_NONE);
    TEXT(region_code);
    uuid5_num(&u, inc->circumstance);
    uuid5_num(&u, (inc->fields & IF_CAUSE) ? (int)inc->cause : -1);
    uuid5_num(&u, (inc->fields & IF_SEVERITY) ? (int)inc->severity : -1);
    TEXT(description);
    uuid5_num(&u, inc->reporter_institution);
    TEXT(reporter_name);
    TEXT(reporter_phone);
    uuid5_finish(&u, ns, inc->event_id);
}

#undef TEXT

/* ---- rules ---- */

/* Length of a terminated text in a fixed buffer, or -1 when it is not terminated. */
static long text_len(const char *s, size_t size)
{
    const char *end = memchr(s, '\0', size);
    return end ? (long)(end - s) : -1;
}

/* A text the record carries: terminated, UTF-8 (validate_text) and, when required, not empty. */
static void check_text(const char *s, size_t size, const char *field, int required, validate_report *r)
{
    if (validate_text(r, field, s, size) == 0 && s[0] == '\0' && required)
        validate_add(r, 0, field, "%s is required", field);
}

static void check_enum(int v, int count, const char *field, int required, validate_report *r)
{
    if (v < 0 && required)
        validate_add(r, 0, field, "%s is required", field);
    else if (v >= count || (v < 0 && v != -1))
        validate_add(r, 0, field, "%s has out-of-range value %d", field, v);
}

static void check_nik(const incident *inc, validate_report *r)
{
    char err[128];

    if (text_len(inc->nik, sizeof inc->nik) <= 0)
        validate_add(r, 0, "nik", "nik is required");
    else if (nik_check(inc->nik, NULL, err, sizeof err) < 0)
        validate_add(r, 0, "nik", "%s", err);
}

static void check_region(const incident *inc, validate_report *r)
{
    char plain[REGION_DESA + 1], err[128];
    long n = text_len(inc->region_code, sizeof inc->region_code);

    if (n <= 0)
        validate_add(r, 0, "region_code", n == 0 ? "region_code is required" : "region_code is too long");
    else if (region_normalize(inc->region_code, plain, sizeof plain, NULL, err, sizeof err) < 0)
        validate_add(r, 0, "region_code", "%s", err);
    else if (strcmp(plain, inc->region_code) != 0)
        validate_add(r, 0, "region_code", "region_code must be plain digits");
}

static void check_times(const incident *inc, int64_t now_us, validate_report *r)
{
    int64_t latest = now_us + INCIDENT_CLOCK_SKEW_US;
    int has_reported = (inc->fields & IF_REPORTED_AT) && inc->reported_at_us != TIME_NONE;
    int occurred_ok = 0;  /* present and within the sane range, so comparable */

    if (inc->occurred_at_us == TIME_NONE)
        validate_add(r, 0, "occurred_at", "occurred_at is required");
    else if ((occurred_ok = validate_time(r, "occurred_at", inc->occurred_at_us) == 0) &&
             inc->occurred_at_us > latest)
        validate_add(r, 0, "occurred_at", "occurred_at is in the future");
    if ((inc->fields & IF_REPORTED_AT) && !has_reported)
        validate_add(r, 0, "reported_at", "reported_at is marked present but empty");
    /* A consumer stores whatever reported_at holds, present or not. */
    if (!has_reported && inc->reported_at_us != TIME_NONE)
        validate_time(r, "reported_at", inc->reported_at_us);
    if (!has_reported || validate_time(r, "reported_at", inc->reported_at_us) < 0)
        return;
    if (inc->reported_at_us > latest)
        validate_add(r, 0, "reported_at", "reported_at is in the future");
    if (occurred_ok && inc->occurred_at_us > inc->reported_at_us)
        validate_add(r, 0, "occurred_at", "occurred_at is after reported_at");
}

static void check_description(const incident *inc, validate_report *r)
{
    long n, chars = 0;

    if (validate_text(r, "description", inc->description, sizeof inc->description) < 0)
        return;
    /* Well-formed UTF-8: every byte that is not a continuation starts one character. */
    n = (long)strlen(inc->description);
    for (long i = 0; i < n; i++)
        chars += ((unsigned char)inc->description[i] & 0xc0) != 0x80;
    if (chars > INCIDENT_DESCRIPTION_MAX)
        validate_add(r, 0, "description", "description has %ld characters, more than %d", chars,
                     INCIDENT_DESCRIPTION_MAX);
}

static void check_phone(const incident *inc, validate_report *r)
{
    const char *p = inc->reporter_phone;
    long n;

    if (text_len(p, sizeof inc->reporter_phone) < 0)
        goto bad;
    p += *p == '+';
    n = (long)strlen(p);
    if (n < 8 || n > 15 || (long)strspn(p, "0123456789") != n)
        goto bad;
    return;
bad:
    validate_add(r, 0, "reporter_phone", "reporter_phone must be an optional + and 8-15 digits");
}

/* Optional texts: checked when present, and when they hold something without their bit (a
 * consumer might store it all the same). */
static int carried(const incident *inc, unsigned bit, const char *s)
{
    return (inc->fields & bit) || s[0] != '\0';
}

int incident_validate_row(const incident *inc, int64_t now_us, validate_report *out)
{
    validate_report_reset(out);
    validate_source(out, inc->source, sizeof inc->source);
    check_nik(inc, out);
    check_enum(inc->type, INCIDENT_TYPE__COUNT, "type", 1, out);
    check_times(inc, now_us, out);
    check_region(inc, out);
    check_enum(inc->circumstance, CIRCUMSTANCE__COUNT, "circumstance", 1, out);
    if (inc->fields & IF_CAUSE)
        check_enum(inc->cause, CAUSE__COUNT, "cause", 1, out);
    if (inc->fields & IF_SEVERITY)
        check_enum(inc->severity, SEVERITY__COUNT, "severity", 1, out);
    if (inc->type == INCIDENT_ACCIDENT && !(inc->fields & IF_SEVERITY))
        validate_add(out, 0, "severity", "severity is required for an ACCIDENT");
    if (inc->type == INCIDENT_DEATH && (inc->fields & IF_SEVERITY))
        validate_add(out, 1, "severity", "severity is ignored for a DEATH");
    if (carried(inc, IF_DESCRIPTION, inc->description))
        check_description(inc, out);
    check_enum(inc->reporter_institution, REPORTER__COUNT, "reporter_institution", 1, out);
    if (carried(inc, IF_REPORT_ID, inc->report_id))
        check_text(inc->report_id, sizeof inc->report_id, "report_id", 1, out);
    if (carried(inc, IF_REPORTER_NAME, inc->reporter_name))
        check_text(inc->reporter_name, sizeof inc->reporter_name, "reporter_name", 1, out);
    if (carried(inc, IF_REPORTER_PHONE, inc->reporter_phone))
        check_phone(inc, out);
    return out->errors;
}

int incident_validate(const incident *inc, int64_t now_us, validate_report *out)
{
    incident_validate_row(inc, now_us, out);
    validate_event_id(out, inc->event_id, sizeof inc->event_id);
    if (inc->event_time_us == TIME_NONE)
        validate_add(out, 0, "event_time", "event_time is required");
    else
        validate_time(out, "event_time", inc->event_time_us);
    return out->errors;
}
