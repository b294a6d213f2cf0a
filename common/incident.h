/* incident: the in-memory Incident record (topic incidents) shared by the incident
 * producer, the codec and the incident consumer: enum names, the content-derived event id
 * and the record rules (contracts.md "Incidents"). Pure: no allocation, no I/O; any thread
 * may call these. */
#ifndef INCIDENT_H
#define INCIDENT_H

#include <stddef.h>
#include <stdint.h>

#include "validate.h"

/* Microseconds since the epoch; TIME_NONE marks an absent timestamp. */
#define TIME_NONE INT64_MIN
/* Longest description in characters (UTF-8 code points), per contracts.md. */
#define INCIDENT_DESCRIPTION_MAX 2000
/* Clock skew tolerated when checking that a time is not in the future. */
#define INCIDENT_CLOCK_SKEW_US (5 * 60 * INT64_C(1000000))
/* The topic of incidents; "incidents.<source>" is a data center's own (source_topic.h). */
#define INCIDENT_TOPIC "incidents"

/* Every enum uses -1 for "absent" so a record read from a file can say what it lacks. */
typedef enum { INCIDENT_TYPE_NONE = -1, INCIDENT_ACCIDENT, INCIDENT_DEATH, INCIDENT_TYPE__COUNT } incident_type;
typedef enum {
    CIRCUMSTANCE_NONE = -1, CIRCUMSTANCE_ON_DUTY, CIRCUMSTANCE_COMMUTING, CIRCUMSTANCE_OFF_DUTY,
    CIRCUMSTANCE__COUNT
} incident_circumstance;
typedef enum {
    CAUSE_NONE = -1, CAUSE_TRAFFIC, CAUSE_FALL, CAUSE_VIOLENCE, CAUSE_ILLNESS, CAUSE_EXHAUSTION,
    CAUSE_OTHER, CAUSE__COUNT
} incident_cause;
typedef enum {
    SEVERITY_NONE = -1, SEVERITY_MINOR, SEVERITY_MODERATE, SEVERITY_SERIOUS,
    SEVERITY_PERMANENT_PARTIAL, SEVERITY_PERMANENT_TOTAL, SEVERITY__COUNT
} incident_severity;
typedef enum {
    REPORTER_NONE = -1, REPORTER_KPU, REPORTER_BAWASLU, REPORTER_FAMILY, REPORTER_HEALTH_FACILITY,
    REPORTER__COUNT
} incident_reporter;

/* Which optional fields a record carries. */
enum {
    IF_REPORT_ID = 1 << 0, IF_REPORTED_AT = 1 << 1, IF_CAUSE = 1 << 2, IF_SEVERITY = 1 << 3,
    IF_DESCRIPTION = 1 << 4, IF_REPORTER_NAME = 1 << 5, IF_REPORTER_PHONE = 1 << 6
};

typedef struct incident {
    char event_id[37];             /* UUID text, stable across re-publishing */
    char source[33];               /* publishing data center id */
    int64_t event_time_us;         /* when published, UTC */
    unsigned fields;               /* IF_* bits of the optional fields present */
    char report_id[65];
    char nik[17];                  /* "" = absent */
    incident_type type;
    int64_t occurred_at_us;        /* TIME_NONE = absent */
    int64_t reported_at_us;        /* TIME_NONE = absent: the time of publishing */
    char region_code[11];          /* plain digits, "" = absent */
    incident_circumstance circumstance;
    incident_cause cause;
    incident_severity severity;
    char description[4 * INCIDENT_DESCRIPTION_MAX + 1]; /* UTF-8, room for 2,000 characters */
    incident_reporter reporter_institution;
    char reporter_name[101];
    char reporter_phone[21];
} incident;

/* Reset every field to absent (event_id and source empty, times TIME_NONE, enums NONE). */
void incident_init(incident *inc);

/* Names as they appear in files, Avro and SQL; NULL when out of range. */
const char *incident_type_name(incident_type v);
const char *incident_circumstance_name(incident_circumstance v);
const char *incident_cause_name(incident_cause v);
const char *incident_severity_name(incident_severity v);
const char *incident_reporter_name(incident_reporter v);

/* Parse a name; the value, or -1 when unknown. */
int incident_type_parse(const char *s);
int incident_circumstance_parse(const char *s);
int incident_cause_parse(const char *s);
int incident_severity_parse(const char *s);
int incident_reporter_parse(const char *s);

/* Derive inc->event_id from the source and the report's content (a name-based UUID,
 * version 5; event_id and event_time excluded), so publishing the same report again gives
 * the same id. An absent reported_at stays absent in the hash. */
void incident_event_id(incident *inc);

/* Check inc against the row rules and fill out (overwritten): the record as a producer has
 * it before publishing, source set but event_id and event_time not yet. Required fields
 * present, source a data center id (validate_source), nik layout (nik.h), region_code a
 * valid plain code (region.h), severity required for ACCIDENT (a warning when given for
 * DEATH), occurred_at and reported_at within 1900-01-01..2100-12-31 (validate_time) and not
 * later than now_us + INCIDENT_CLOCK_SKEW_US, occurred_at not after reported_at, every text
 * terminated valid UTF-8, description at most 2,000 characters, reporter_phone an optional
 * '+' and 8-15 digits. Fields are named as contracts.md's columns. Returns out->errors. */
int incident_validate_row(const incident *inc, int64_t now_us, validate_report *out);

/* The full rules of an incident as consumed: the row rules plus event_id a UUID
 * (validate_event_id) and event_time present and within 1900-01-01..2100-12-31. Returns
 * out->errors. */
int incident_validate(const incident *inc, int64_t now_us, validate_report *out);

#endif
