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

/* Load and check the benefit table at benefits_path; base_topic and truncate_rows as
 * incident_stage_new's. NULL + errstr on failure. One per batch slot (consumer_handler). */
incident_apply *incident_apply_new(const char *benefits_path, const char *base_topic,
                                   long long truncate_rows, char *errstr, size_t errstr_size);
void incident_apply_destroy(incident_apply *ia);

/* The loaded table; owned by ia. */
const benefit_table *incident_apply_benefits(const incident_apply *ia);

/* The consumer_handler's prepare: decode and re-validate (rejects "decode" and
 * "validation", the record rules of incident.h) and format the staging rows. No database. */
int incident_apply_prepare(void *ctx, const consumer_batch *batch, consumer_rejects *rej,
                           char *errstr, size_t errstr_size);
/* The consumer_handler's apply, after incident_apply_prepare on the same batch. Rejects:
 * "rule" (route.h could not decide; the message says why). */
int incident_apply_batch(void *ctx, PGconn *pg, const consumer_batch *batch,
                         consumer_rejects *rej, char *errstr, size_t errstr_size);

#endif
