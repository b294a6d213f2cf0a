/* incident_merge: the last step, once per round: set-based INSERT ... SELECT / UPDATE ...
 * FROM the staged events and their decisions into incidents, incident_reports, claims,
 * claim_documents, claim_transitions (OPENED), claim_outbox, a death's workers.deceased_on
 * and closed coverages (with coverage_outbox), and applied_events. Identifiers are
 * name-based UUIDs (deploy/sql/003_incidents.sql), so a round merged again gives the same
 * rows. */
#ifndef INCIDENT_MERGE_H
#define INCIDENT_MERGE_H

#include <stddef.h>
#include <libpq-fe.h>

/* Who opens a claim, in claim_transitions.actor. */
#define INCIDENT_MERGE_ACTOR "incident-consumer"

/* Merge round r (each event recorded under the topic it was read from), in the open
 * transaction. 0, or -1 + errstr. */
int incident_merge_round(PGconn *pg, int r, char *errstr, size_t errstr_size);

#endif
