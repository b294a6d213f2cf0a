/* incident_apply: turns a batch of Incident events into one set-based PostgreSQL merge, in
 * three steps: stage (incident_stage.h: decode, re-validate, COPY), then for each round
 * (common/rounds.h: a worker's events keep their order) decide (incident_decide.h: route.h
 * in C) and merge (incident_merge.h: INSERT ... SELECT / UPDATE ... FROM). */
#ifndef INCIDENT_APPLY_H
#define INCIDENT_APPLY_H

#include <stddef.h>
#include <libpq-fe.h>

#include "benefits.h"
#include "consumer.h"

typedef struct incident_apply incident_apply;

/* Load and check the benefit table at benefits_path. NULL + errstr on failure. One per
 * consumer thread. */
incident_apply *incident_apply_new(const char *benefits_path, char *errstr, size_t errstr_size);
void incident_apply_destroy(incident_apply *ia);

/* The loaded table; owned by ia. */
const benefit_table *incident_apply_benefits(const incident_apply *ia);

/* A consumer_apply_fn; opaque is the incident_apply. Rejects: "decode", "validation" (the
 * record rules of incident.h) and "rule" (route.h could not decide; the message says why). */
int incident_apply_batch(void *opaque, PGconn *pg, const consumer_batch *batch,
                         consumer_rejects *rej, char *errstr, size_t errstr_size);

#endif
