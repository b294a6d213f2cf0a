/* fuzz_validate: the input is a roster or incidents file; each row is parsed into a record
 * (roster_row, incident_row) and checked by the rules a producer runs, then given an
 * envelope (the content-derived event_id, a fixed event_time) and checked by the rules a
 * consumer runs.
 *
 * The first byte chooses how the rest is read: bit 0 set = incidents (else roster), bit 1
 * set = JSON Lines (else CSV), bit 2 set = unknown columns ignored. The seeds start with
 * a printable choice ('0'..'7').
 *
 * Asserts besides memory safety: reports hold UTF-8 (they end up in PostgreSQL), the
 * producer's rules and the consumer's agree on a record with a valid envelope, and a
 * record the rules accept is one PostgreSQL accepts (fuzzcheck_*_ok). */
#include <stdint.h>
#include <string.h>

#include "support/fuzzcheck.h"
#include "incident.h"
#include "incident_row.h"
#include "roster.h"
#include "roster_row.h"
#include "rowsrc.h"
#include "validate.h"

#define MAX_ROWS 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "Now" for every rule: fixed, so a run is reproducible. 2024-06-01T00:00:00Z. */
#define NOW_US INT64_C(1717200000000000)
#define TODAY 19875

/* Both layers of rules agree, and an accepted record fits PostgreSQL. */
static void check_roster(roster_change *rc)
{
    validate_report row, full;

    snprintf(rc->source, sizeof rc->source, "dc-fuzz");
    validate_roster_row(rc, TODAY, &row);
    fuzzcheck_report(&row);
    roster_event_id(rc);
    rc->event_time_us = NOW_US;
    validate_roster_change(rc, TODAY, &full);
    fuzzcheck_report(&full);
    if (full.errors != row.errors || full.warnings != row.warnings)
        fuzzcheck_fail("row rules %d/%d, full rules %d/%d", row.errors, row.warnings, full.errors,
                       full.warnings);
    if (full.errors == 0)
        fuzzcheck_roster_ok(rc);
}

static void check_incident(incident *inc)
{
    validate_report row, full;

    snprintf(inc->source, sizeof inc->source, "dc-fuzz");
    incident_validate_row(inc, NOW_US, &row);
    fuzzcheck_report(&row);
    incident_event_id(inc);
    inc->event_time_us = NOW_US;
    incident_validate(inc, NOW_US, &full);
    fuzzcheck_report(&full);
    if (full.errors != row.errors || full.warnings != row.warnings)
        fuzzcheck_fail("row rules %d/%d, full rules %d/%d", row.errors, row.warnings, full.errors,
                       full.warnings);
    if (full.errors == 0)
        fuzzcheck_incident_ok(inc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static roster_change rc;
    static incident inc;
    int is_incident, ignore_unknown, n, r;
    rowsrc_format fmt;
    const rowsrc_row *row;
    const char **names;
    char err[1024];
    FILE *f;
    rowsrc *rs;

    if (size < 1)
        return 0;
    is_incident = data[0] & 1;
    fmt = data[0] & 2 ? ROWSRC_JSONL : ROWSRC_CSV;
    ignore_unknown = (data[0] & 4) != 0;
    f = fuzzcheck_open(data + 1, size - 1);
    if (!(rs = rowsrc_new(f, "fuzz", fmt, err, sizeof err)))
        goto out;
    n = rowsrc_header(rs, &names);
    if (fmt == ROWSRC_CSV &&
        (is_incident ? incident_row_check_header : roster_row_check_header)((const char *const *)names, n, "fuzz",
                                                                            ignore_unknown, err, sizeof err) < 0)
        goto out;
    roster_change_init(&rc);
    incident_init(&inc);
    for (int rows = 0; rows < MAX_ROWS && (r = rowsrc_next(rs, &row, err, sizeof err)) != 0; rows++) {
        if (r < 0)
            continue;
        if (is_incident) {
            if (incident_row_parse(row, "fuzz", ignore_unknown, &inc, err, sizeof err) == 0)
                check_incident(&inc);
        } else if (roster_row_parse(row, "fuzz", ignore_unknown, &rc, err, sizeof err) == 0) {
            check_roster(&rc);
        }
    }
out:
    rowsrc_destroy(rs);
    fuzzcheck_close(f);
    return 0;
}
