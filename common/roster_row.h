/* roster_row: map a row of a roster file (contracts.md "Roster changes") to a
 * roster_change. Syntax only (dates, integers, enum names, programs, region code form,
 * buffer lengths); the row rules are validate.h's. Pure: no allocation, no I/O; any
 * thread may call these. */
#ifndef ROSTER_ROW_H
#define ROSTER_ROW_H

#include <stddef.h>

#include "roster.h"
#include "rowsrc.h"

/* Fill rc from row: every other field is reset to absent first, while event_id, source
 * and event_time_us are left as they were. Sets an RF_* bit in rc->fields for every
 * optional column with a value; an empty cell is absent. An unknown column is an error
 * unless ignore_unknown; so are a missing or empty 'change' or 'nik'.
 * Returns 0, or -1 with errstr = "file:line:column: rule" (column 0 for a missing column). */
int roster_row_parse(const rowsrc_row *row, const char *file, int ignore_unknown, roster_change *rc,
                     char *errstr, size_t errstr_size);

/* Check a CSV header once up front: unknown columns (unless ignore_unknown) and missing
 * 'change' or 'nik'. Returns 0, or -1 with errstr = "file:1:column: rule". */
int roster_row_check_header(const char *const *names, int n, const char *file, int ignore_unknown,
                            char *errstr, size_t errstr_size);

/* Column name of one RF_* bit (RF_TPS -> "tps"), NULL for anything else. Static storage. */
const char *roster_row_field_name(unsigned rf_bit);

#endif
