-- 011_service_roles: least privilege. One login role per service, each granted only what
-- its SQL needs; `coverage` stays the owner (migrations, the stack's own tooling) and no
-- service logs in as it. Claims change status and amount only through claim_transition(),
-- which now runs as `claim_workflow`, a role nobody logs in as: no service role may UPDATE
-- claims itself.
--
-- Passwords are not set here: deploy/local/stack.sh sets them (SCRAM) from its secrets
-- directory; production sets them, or certificates, outside the migrations.
--
-- A later migration that adds a table a service uses grants it here-style to that
-- service's role (the roles are listed in README.md, "Security").

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['roster_consumer', 'incident_consumer', 'claims_relay',
                             'coverage_relay', 'lag_monitor', 'claims_officer', 'covadm']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', r);
        END IF;
    END LOOP;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'claim_workflow') THEN
        CREATE ROLE claim_workflow NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END $$;

-- Nothing for anyone by default: each role below gets its own list.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO roster_consumer, incident_consumer, claims_relay,
    coverage_relay, lag_monitor, claims_officer, covadm, claim_workflow;

-- Both consumers: their offsets, what they decided, their dead letters.
GRANT SELECT, INSERT, UPDATE ON consumer_offsets, applied_events TO roster_consumer, incident_consumer;
GRANT SELECT, INSERT ON dead_letters TO roster_consumer, incident_consumer;
GRANT USAGE ON SEQUENCE dead_letters_dead_letter_id_seq TO roster_consumer, incident_consumer;
GRANT SELECT ON data_center_provinces TO roster_consumer, incident_consumer;

-- The roster consumer: workers and their coverages, and the coverage outbox.
GRANT SELECT ON agreements TO roster_consumer;
GRANT SELECT, INSERT, UPDATE ON workers, coverages TO roster_consumer;
GRANT INSERT ON coverage_outbox TO roster_consumer;
GRANT USAGE ON SEQUENCE coverages_coverage_id_seq, coverage_outbox_outbox_id_seq TO roster_consumer;

-- The incident consumer: incidents and their reports, new claims (opened by inserting
-- them with their first transition and event; never updated), a death closing coverage,
-- and the benefit table it copies in at start-up.
GRANT SELECT ON workers, coverages TO incident_consumer;
GRANT UPDATE (deceased_on, updated_event, updated_at) ON workers TO incident_consumer;
GRANT UPDATE (status, valid_to, last_event, updated_at) ON coverages TO incident_consumer;
GRANT SELECT, INSERT ON incidents, incident_reports, claims, claim_documents, claim_transitions,
    claim_outbox TO incident_consumer;
GRANT INSERT ON coverage_outbox TO incident_consumer;
GRANT SELECT, INSERT, UPDATE ON benefit_table TO incident_consumer;
GRANT USAGE ON SEQUENCE claim_transitions_transition_id_seq, claim_outbox_outbox_id_seq,
    coverage_outbox_outbox_id_seq TO incident_consumer;

-- The relays: read their outbox and what it points to, mark rows published.
GRANT SELECT ON claim_outbox, claim_transitions, claims TO claims_relay;
GRANT UPDATE (published_at) ON claim_outbox TO claims_relay;
GRANT SELECT ON coverage_outbox, coverages TO coverage_relay;
GRANT UPDATE (published_at) ON coverage_outbox TO coverage_relay;

-- The lag monitor: the consumers' stored offsets, nothing else.
GRANT SELECT ON consumer_offsets TO lag_monitor;

-- BPJS officers (build/bin/claims): read claims and what they rest on, keep the document
-- checklist, and move claims only through claim_transition() and claim_lock().
GRANT SELECT ON claims_overview, claims, incidents, claim_transitions, claim_outbox, workers,
    coverages, benefit_table TO claims_officer;
GRANT SELECT, INSERT, DELETE ON claim_documents TO claims_officer;
GRANT UPDATE (received_at, received_by) ON claim_documents TO claims_officer;

-- covadm (operators): reference data, reports, dead letters and their replay.
GRANT SELECT, INSERT, UPDATE, DELETE ON data_centers, data_center_provinces, agreements,
    regions TO covadm;
GRANT SELECT ON workers, coverages, consumer_offsets TO covadm;
GRANT SELECT ON dead_letters TO covadm;
GRANT UPDATE (replayed_at, replay_count) ON dead_letters TO covadm;
GRANT SELECT ON applied_events TO covadm;
GRANT UPDATE (outcome) ON applied_events TO covadm;

-- The claim workflow's own role: what claim_transition() does, as that role.
GRANT SELECT, UPDATE ON claims TO claim_workflow;
GRANT SELECT, INSERT ON claim_transitions TO claim_workflow;
GRANT INSERT ON claim_outbox TO claim_workflow;
GRANT SELECT ON claim_status_edges TO claim_workflow;
GRANT USAGE ON SEQUENCE claim_transitions_transition_id_seq, claim_outbox_outbox_id_seq
    TO claim_workflow;

-- A claim's row locked for the caller's transaction, as claim_transition() locks it, for
-- a CLI that checks a claim before it moves it (SELECT ... FOR UPDATE needs UPDATE rights,
-- which no service role has).
CREATE FUNCTION claim_lock(p_claim uuid)
RETURNS TABLE (status text, benefit text, nik char(16))
LANGUAGE sql AS $$
    SELECT c.status, c.benefit, c.nik FROM claims c WHERE c.claim_id = p_claim FOR UPDATE
$$;

-- claim_transition() and claim_lock() run as claim_workflow, with a fixed search_path so
-- that no caller's schema can stand in for a table or function they use. The owner has to
-- be able to create in the schema while it takes the functions over, and only then.
GRANT claim_workflow TO coverage;
GRANT CREATE ON SCHEMA public TO claim_workflow;
ALTER FUNCTION claim_transition(uuid, text, text, text, text, text, text, text, bigint, text)
    OWNER TO claim_workflow;
ALTER FUNCTION claim_transition(uuid, text, text, text, text, text, text, text, bigint, text)
    SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION claim_lock(uuid) OWNER TO claim_workflow;
ALTER FUNCTION claim_lock(uuid) SECURITY DEFINER SET search_path = public, pg_temp;
REVOKE CREATE ON SCHEMA public FROM claim_workflow;
REVOKE ALL ON FUNCTION claim_transition(uuid, text, text, text, text, text, text, text, bigint, text),
    claim_lock(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_transition(uuid, text, text, text, text, text, text, text, bigint, text),
    claim_lock(uuid) TO claims_officer;

-- Analysts (005) keep their views, read-only, and may not move claims either.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM analytics;
GRANT SELECT ON analytics_coverages, analytics_coverage_summary, analytics_incidents,
                analytics_claims, analytics_claims_summary TO analytics;
