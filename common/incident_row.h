/* incident_row: map a row of an incidents file (contracts.md "Incidents") to an incident.
 * Syntax only (timestamps, enum names, region code form, buffer lengths); the record
 * rules are incident_validate's. Pure: no allocation, no I/O; any thread may call these. */
#ifndef INCIDENT_ROW_H
#define INCIDENT_ROW_H

#include <stddef.h>

#include "incident.h"
#include "rowsrc.h"

/* Fill inc from row: every other field is reset to absent first, while event_id, source
 * and event_time_us are left as they were. Sets an IF_* bit for every optional column
 * with a value; an empty cell is absent, and a missing required value is left for
 * incident_validate to report. An unknown column is an error unless ignore_unknown.
 * Returns 0, or -1 with errstr = "file:line:column: rule". */
int incident_row_parse(const rowsrc_row *row, const char *file, int ignore_unknown, incident *inc,
                       char *errstr, size_t errstr_size);

/* Check a CSV header once up front: unknown columns (unless ignore_unknown) and missing
 * required columns. Returns 0, or -1 with errstr = "file:1:column: rule" (column 0 for a
 * missing column). */
int incident_row_check_header(const char *const *names, int n, const char *file, int ignore_unknown,
                              char *errstr, size_t errstr_size);

#endif
