/* fuzzcheck: what the fuzz targets assert besides "no crash, no leak, no UBSan report":
 * what a report or an error message may hold (it can end up in PostgreSQL text, so it
 * must be valid UTF-8), and what a record the rules accept must be for PostgreSQL (the
 * column types and CHECK constraints of deploy/sql, restated here independently of the
 * rules). A broken property prints what broke and aborts, which libFuzzer reports as a
 * crash with the input that caused it. Single-threaded, like the targets. */
#ifndef FUZZCHECK_H
#define FUZZCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "claim_event.h"
#include "coverage_change.h"
#include "incident.h"
#include "roster.h"
#include "validate.h"

/* Print "fuzzcheck: " and the message to stderr, then abort. */
void fuzzcheck_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A FILE reading the size bytes at data (a copy; an empty input works too), one open at a
 * time. fuzzcheck_close closes it and frees the copy. */
FILE *fuzzcheck_open(const uint8_t *data, size_t size);
void fuzzcheck_close(FILE *f);

/* s (a buffer of size bytes) holds a terminated, valid UTF-8 text. what names it. */
void fuzzcheck_text(const char *what, const char *s, size_t size);

/* Every item of r has a terminated UTF-8 field and rule; the counts agree. */
void fuzzcheck_report(const validate_report *r);

/* What PostgreSQL requires of a record the full rules accepted. */
void fuzzcheck_roster_ok(const roster_change *rc);
void fuzzcheck_incident_ok(const incident *inc);
void fuzzcheck_claim_ok(const claim_event *ev);
void fuzzcheck_coverage_ok(const coverage_change *cc);

#endif
