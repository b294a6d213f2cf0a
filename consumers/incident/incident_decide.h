/* incident_decide: the second step, once per round. One query reads what the decisions
 * need (re-delivery, the incident already known under the same NIK, type and local date,
 * the worker and all of its coverages); route.h decides each new incident in C; the
 * decisions are copied into stg_incident_decision with a state: NEW (opens an incident, and
 * a claim when the outcome says so), LINK (a report of a known incident) or REJECT (route
 * could not decide; the event is rejected with error class "rule"). Re-deliveries get no
 * row. NEW and LINK events are reported applied (consumer_applied: source, event time). Every value written is taken from route_decision; nothing is re-derived here. */
#ifndef INCIDENT_DECIDE_H
#define INCIDENT_DECIDE_H

#include <stddef.h>
#include <libpq-fe.h>

#include "benefits.h"
#include "consumer.h"
#include "incident_stage.h"

typedef struct incident_decide incident_decide;

/* NULL when out of memory. */
incident_decide *incident_decide_new(void);
void incident_decide_destroy(incident_decide *d);

/* Decide round r of the staged batch (pend: incident_stage_pending) with table t, in the
 * open transaction. 0, or -1 + errstr. */
int incident_decide_round(incident_decide *d, PGconn *pg, int r, const incident_pending *pend,
                          const benefit_table *t, consumer_rejects *rej, char *errstr,
                          size_t errstr_size);

#endif
