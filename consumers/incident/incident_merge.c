/* incident_merge: write a round's decisions into the incident and claim tables. */
#include "incident_merge.h"

#include <stdio.h>

#include "pg.h"

/* The merge of one round. $1 = round. States: NEW opens an incident (and a
 * claim when the outcome says so), LINK adds a report to a known incident, REJECT is an
 * event route could not decide (dead-lettered). Re-deliveries have no decision row. */
#define FROM_ROUND(states)                                                                         \
    " FROM stg_incident s JOIN stg_incident_decision d USING (seq)"                                \
    " WHERE s.round = $1 AND d.state IN (" states ")"
#define INCIDENT_ID "incident_uuid(s.nik, s.type, s.local_date)"
#define CLAIM_ID "claim_uuid(" INCIDENT_ID ")"

static const char *const merge_round[] = {
    "INSERT INTO incidents (incident_id, nik, type, occurred_at, local_date, utc_offset_minutes,"
    " region_code, circumstance, cause, severity, first_reported_at, late_report, outcome,"
    " outcome_reason)"
    " SELECT " INCIDENT_ID ", s.nik, s.type, s.occurred_at, s.local_date, s.utc_offset_minutes,"
    "  s.region_code, s.circumstance, s.cause, s.severity, s.reported_at, d.late_report,"
    "  d.outcome, d.outcome_reason"
    FROM_ROUND("'NEW'"),

    "INSERT INTO incident_reports (event_id, incident_id, report_id, source,"
    " reporter_institution, reporter_name, reporter_phone, reported_at, description,"
    " kafka_partition, kafka_offset)"
    " SELECT s.event_id, " INCIDENT_ID ", s.report_id, s.source, s.reporter_institution,"
    "  s.reporter_name, s.reporter_phone, s.reported_at, s.description, s.partition,"
    "  s.kafka_offset"
    FROM_ROUND("'NEW', 'LINK'"),

    "INSERT INTO claims (claim_id, nik, incident_id, program, benefit, status, amount_idr,"
    " benefit_table_version, monthly_wage, late_report, assessment_required, region_code)"
    " SELECT " CLAIM_ID ", s.nik, " INCIDENT_ID ", d.program, d.benefit, d.status,"
    "  d.amount_idr, d.table_version, d.monthly_wage, d.late_report, d.assessment_required,"
    "  s.region_code"
    FROM_ROUND("'NEW'") " AND d.outcome = 'CLAIM'",

    "INSERT INTO claim_documents (claim_id, document)"
    " SELECT " CLAIM_ID ", doc.document"
    " FROM stg_incident s JOIN stg_incident_decision d USING (seq)"
    " CROSS JOIN LATERAL unnest(d.documents) AS doc(document)"
    " WHERE s.round = $1 AND d.state = 'NEW' AND d.outcome = 'CLAIM'",

    "WITH opened AS ("
    " INSERT INTO claim_transitions (claim_id, from_status, to_status, kind, actor, reason,"
    "  program, benefit, amount_idr, benefit_table_version)"
    " SELECT " CLAIM_ID ", NULL, d.status, 'OPENED', '" INCIDENT_MERGE_ACTOR "',"
    "  d.outcome_reason, d.program, d.benefit, d.amount_idr, d.table_version"
    FROM_ROUND("'NEW'") " AND d.outcome = 'CLAIM'"
    " ORDER BY s.seq RETURNING transition_id, claim_id)"
    " INSERT INTO claim_outbox (event_id, claim_id, transition_id)"
    " SELECT claim_event_uuid(claim_id, 1), claim_id, transition_id FROM opened"
    " ORDER BY transition_id",

    /* A death closes the worker's coverage from the next local day. */
    "UPDATE workers w SET deceased_on = least(w.deceased_on, s.local_date),"
    " updated_event = s.event_id, updated_at = now()"
    FROM_ROUND("'NEW'") " AND d.death AND w.nik = s.nik",

    "UPDATE coverages c SET"
    " status = CASE WHEN c.valid_from > s.local_date THEN 'CANCELLED' ELSE 'TERMINATED' END,"
    " valid_to = CASE WHEN c.valid_from > s.local_date THEN c.valid_to ELSE s.local_date END,"
    " last_event = s.event_id, updated_at = now()"
    FROM_ROUND("'NEW'") " AND d.death AND c.nik = s.nik AND c.status <> 'CANCELLED'"
    " AND c.valid_to > s.local_date",

    /* The coverage relay publishes the closed coverage (deploy/sql/006). */
    "INSERT INTO coverage_outbox (nik, cause_event)"
    " SELECT s.nik, s.event_id"
    FROM_ROUND("'NEW'") " AND d.death ORDER BY s.seq",

    "INSERT INTO applied_events (event_id, topic, partition, kafka_offset, outcome)"
    " SELECT s.event_id, s.topic, s.partition, s.kafka_offset,"
    "  CASE WHEN d.state = 'REJECT' THEN 'REJECTED' ELSE 'APPLIED' END"
    FROM_ROUND("'NEW', 'LINK', 'REJECT'")
    " ON CONFLICT (event_id) DO UPDATE SET topic = EXCLUDED.topic,"
    "  partition = EXCLUDED.partition, kafka_offset = EXCLUDED.kafka_offset,"
    "  outcome = EXCLUDED.outcome, applied_at = now()"
    " WHERE applied_events.outcome = 'REPLAYING'",
};

int incident_merge_round(PGconn *pg, int r, char *errstr, size_t n)
{
    char round[16];
    const char *params[1] = {round};

    snprintf(round, sizeof round, "%d", r);
    return pg_exec_each(pg, merge_round, sizeof merge_round / sizeof *merge_round, 1, params,
                        errstr, n);
}
