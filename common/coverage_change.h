/* coverage_change: the in-memory CoverageChange record (topic coverage.changes, compacted,
 * key NIK), one worker's current coverage state as the coverage relay builds it from
 * PostgreSQL and encodes it. Fields as in schemas/coverage_change.v1.avsc; role,
 * institution and program bits are roster.h's. Pure; any thread. */
#ifndef COVERAGE_CHANGE_H
#define COVERAGE_CHANGE_H

#include <stdint.h>

#include "roster.h"
#include "validate.h"

typedef enum {
    COVERAGE_STATUS_NONE = -1, COVERAGE_ACTIVE, COVERAGE_TERMINATED, COVERAGE_EXPIRED,
    COVERAGE_STATUS__COUNT
} coverage_status;

typedef struct coverage_change {
    char event_id[37];           /* UUID text, stable when the relay publishes again */
    char source[33];             /* publishing service id */
    char nik[17];
    unsigned fields;             /* presence word of optional fields; version 1 has none */
    unsigned programs;           /* PROG_* bits of the current or latest term; 0 = none */
    coverage_status status;
    int32_t valid_from;          /* days since 1970-01-01; DATE_NONE when unset */
    int32_t valid_to;            /* inclusive */
    char region_code[11];        /* plain digits */
    roster_role role;
    roster_institution institution;
    int64_t event_time_us;       /* when the state took effect, UTC */
} coverage_change;

/* Reset every field to absent (texts empty, enums NONE, dates DATE_NONE, programs 0). */
void coverage_change_init(coverage_change *cc);

/* The status name as in Avro; NULL when out of range. */
const char *coverage_status_name(coverage_status v);

/* Parse a status name; the value, or -1 when unknown. */
int coverage_status_parse(const char *s);

/* Check cc as a subscriber receives it against what the coverages table holds (deploy/sql)
 * and fill out (overwritten): event_id a UUID, source an id (validate.h), nik layout
 * (nik.h), programs a subset of JKK, JKM, JHT, status, role and institution in range,
 * valid_from and valid_to within 1900-01-01..2100-12-31 and in order, region_code a plain
 * kecamatan or desa code (region.h), event_time within 1900-01-01..2100-12-31. Returns
 * out->errors. */
int coverage_change_validate(const coverage_change *cc, validate_report *out);

#endif
