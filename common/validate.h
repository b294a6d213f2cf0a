/* validate: the rules of a roster change (contracts.md "Roster changes", domain.md
 * "Ad hoc roles", and everything deploy/sql would refuse), the report every record type's
 * rules fill, and the checks all of them share. Producers run the row rules before
 * publishing and consumers the full rules again on every decoded event, so a record
 * PostgreSQL would refuse is refused before SQL. Pure: no allocation, no I/O; any thread
 * may call these. */
#ifndef VALIDATE_H
#define VALIDATE_H

#include <stdint.h>

#include "roster.h"

/* One broken rule. field is the contracts.md column name ("nik", "region_code", "tps",
 * "term_end", ...); rule is a lower-case sentence saying the rule. */
typedef struct validate_issue {
    char field[24];
    char rule[160];
    int warning;
} validate_issue;

/* items holds the first 16 issues; errors and warnings count them all, so count may be
 * smaller than errors + warnings. */
typedef struct validate_report {
    validate_issue items[16];
    int count;
    int errors;
    int warnings;
} validate_report;

/* Empty r: only its counts, as items past count are never read (zeroing all 16 items
 * cost the producer more than a row's check). */
void validate_report_reset(validate_report *r);

/* Count one broken rule (an error, or a warning when warning is set) and, while there is
 * room, add it as the next item with field and the formatted rule (both cut to their
 * buffers). For the rules of other records too (incident.h). */
void validate_add(validate_report *r, int warning, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The range of every date and timestamp a record carries: 1900-01-01 to 2100-12-31 (UTC
 * for timestamps). PostgreSQL's own ranges are far wider but still end (a date of 2^31-2
 * days is refused); a value outside this one is a typo or a forged record. */
#define VALIDATE_DAY_MIN (-25567)  /* 1900-01-01 as a day number (dates.h) */
#define VALIDATE_DAY_MAX 47846     /* 2100-12-31 */
#define VALIDATE_TIME_MIN_US (VALIDATE_DAY_MIN * INT64_C(86400000000))
#define VALIDATE_TIME_MAX_US ((VALIDATE_DAY_MAX + 1) * INT64_C(86400000000) - 1)
/* Longest data center id (the source of an event). */
#define VALIDATE_SOURCE_MAX 32

/* Check rc against the row rules and fill out (overwritten): the record as a producer has
 * it before publishing, source set but event_id and event_time not yet. today is a day
 * number (dates.h), for "birth_date is not in the future". Every text the record carries
 * must be terminated, valid UTF-8 and within its buffer; every date within
 * VALIDATE_DAY_MIN..MAX; source a data center id (validate_source). A NIK whose embedded
 * birth date or gender disagrees with birth_date/gender is a warning on field "nik".
 * Returns out->errors. */
int validate_roster_row(const roster_change *rc, int32_t today, validate_report *out);

/* The full rules of a roster change as consumed: the row rules plus event_id a UUID
 * (validate_event_id) and event_time within VALIDATE_TIME_MIN_US..MAX_US. Returns
 * out->errors. */
int validate_roster_change(const roster_change *rc, int32_t today, validate_report *out);

/* The checks the rules of every record type share. Each adds an error on field (a rule
 * naming the field; never the offending bytes, which may be anything) and returns -1, or
 * returns 0. */

/* s, a buffer of size bytes, holds a NUL-terminated, well-formed UTF-8 text. */
int validate_text(validate_report *r, const char *field, const char *s, size_t size);
/* day (dates.h) is within VALIDATE_DAY_MIN..MAX. */
int validate_day(validate_report *r, const char *field, int32_t day);
/* us (microseconds since the epoch) is within VALIDATE_TIME_MIN_US..MAX_US. */
int validate_time(validate_report *r, const char *field, int64_t us);
/* event_id (a buffer of size bytes) is a UUID as PostgreSQL's uuid type takes it and
 * every program writes it: 8-4-4-4-12 hex digits (either case). */
int validate_event_id(validate_report *r, const char *event_id, size_t size);
/* source (a buffer of size bytes) is a data center id: 1-32 ASCII letters, digits, '.', '_'
 * or '-' (so it can also name a topic, roster.changes.<source>). */
int validate_source(validate_report *r, const char *source, size_t size);

/* 1 when s is a UUID text of 8-4-4-4-12 hex digits, else 0. */
int validate_is_uuid(const char *s);

#endif
