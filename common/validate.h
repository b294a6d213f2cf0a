/* validate: the row rules of a roster change (contracts.md "Roster changes", domain.md
 * "Ad hoc roles"). Producers run them before publishing and consumers again on every
 * decoded event. Pure: no allocation, no I/O; any thread may call it. */
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

/* Count one broken rule (an error, or a warning when warning is set) and, while there is
 * room, add it as the next item with field and the formatted rule (both cut to their
 * buffers). For the rules of other records too (incident.h). */
void validate_add(validate_report *r, int warning, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Check rc against the row rules and fill out (overwritten). today is a day number (dates.h),
 * for "birth_date is not in the future". A NIK whose embedded birth date or gender disagrees
 * with birth_date/gender is a warning on field "nik". Returns out->errors. */
int validate_roster_change(const roster_change *rc, int32_t today, validate_report *out);

#endif
