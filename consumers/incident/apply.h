/* apply: turns a batch of Incident events into one set-based PostgreSQL merge.
 *
 * Each event is decoded and re-validated (a producer is not trusted), staged with COPY and
 * merged in "rounds" (common/rounds.h), so a worker's events keep their order. Per round,
 * one query reads what the decisions need (re-delivery, the incident already known under
 * the same NIK, type and local date, the worker and all of its coverages); route.h decides
 * in C; the decisions are staged with COPY and written by INSERT ... SELECT / UPDATE ...
 * FROM: incidents, incident_reports, claims, claim_documents, claim_transitions (OPENED),
 * claim_outbox, a death's workers.deceased_on and closed coverages, applied_events.
 * Identifiers are name-based UUIDs (deploy/sql/003_incidents.sql), so a batch applied again
 * gives the same rows. */
#ifndef INCIDENT_APPLY_H
#define INCIDENT_APPLY_H

#include <stddef.h>
#include <libpq-fe.h>

#include "benefits.h"
#include "consumer.h"
#include "incident.h"
#include "route.h"

#define INCIDENT_APPLY_ACTOR "incident-consumer"

typedef struct incident_apply incident_apply;

/* Load and check the benefit table at benefits_path. NULL + errstr on failure. One per
 * consumer thread. */
incident_apply *incident_apply_new(const char *benefits_path, char *errstr, size_t errstr_size);
void incident_apply_destroy(incident_apply *ia);

/* The loaded table; owned by ia. */
const benefit_table *incident_apply_benefits(const incident_apply *ia);

/* Upsert every row of the loaded table into benefit_table (one statement, in its own
 * transaction when none is open). 0, or -1 + errstr. */
int incident_apply_sync_benefits(incident_apply *ia, PGconn *pg, char *errstr,
                                 size_t errstr_size);

/* A consumer_apply_fn; opaque is the incident_apply. Rejects: "decode", "validation" (the
 * record rules of incident.h) and "rule" (route.h could not decide; the message says why). */
int incident_apply_batch(void *opaque, PGconn *pg, const consumer_batch *batch,
                         consumer_rejects *rej, char *errstr, size_t errstr_size);

/* Map a decoded, valid incident to route's input (enums by name; now_us is the time of
 * publishing, event_time). Pure. 0, or -1 + errstr for a value route has no name for. */
int incident_apply_route_input(const incident *inc, route_incident *out, char *errstr,
                               size_t errstr_size);

/* The monthly wage of the JKK coverage in force on local_date (status not CANCELLED,
 * valid_from <= local_date <= valid_to), or -1 when none: the wage a JKK claim records. */
long long incident_apply_jkk_wage(const route_coverage *cov, int ncov, int32_t local_date);

#endif
