-- 004_claim_workflow: the one function every writer uses to move a claim (claims row,
-- claim_transitions row and claim_outbox row in the caller's transaction), the wake-up
-- the claims relay listens for, and the views officers and analysts read.

-- Move claim p_claim to p_to. The claims triggers (002) enforce the edges and the benefit
-- rules, so an invalid transition raises "claim <id>: transition A -> B is not allowed".
-- p_new_benefit/p_new_program/p_new_amount/p_new_version change the benefit (only a
-- determination does; amount NULL then means "as medically needed"); without a new
-- benefit, a non-NULL p_new_amount or p_new_version replaces the amount or version.
-- Records the claim as it now stands in claim_transitions and queues its event with the
-- stable id claim_event_uuid(claim, ordinal), ordinal counting the claim's transitions
-- from 1 (OPENED). The claim row is locked first, so the transitions of one claim get
-- increasing outbox ids in commit order. Returns the transition_id.
CREATE FUNCTION claim_transition(p_claim uuid, p_to text, p_kind text, p_actor text,
                                 p_reason text DEFAULT NULL,
                                 p_payment_reference text DEFAULT NULL,
                                 p_new_benefit text DEFAULT NULL,
                                 p_new_program text DEFAULT NULL,
                                 p_new_amount bigint DEFAULT NULL,
                                 p_new_version text DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c claims%ROWTYPE;
    v_from text;
    v_tid bigint;
    v_ordinal int;
BEGIN
    SELECT * INTO c FROM claims WHERE claim_id = p_claim FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'claim %: no such claim', p_claim USING ERRCODE = 'no_data_found';
    END IF;
    IF p_kind IS NULL OR p_kind NOT IN ('DOCUMENTS_RECEIVED', 'DETERMINATION', 'APPROVED',
                                        'REJECTED', 'PAID') THEN
        RAISE EXCEPTION 'claim %: % is not a kind of state change (a claim is opened by inserting it)',
            p_claim, coalesce(p_kind, 'NULL') USING ERRCODE = 'check_violation';
    END IF;
    IF (p_kind IN ('APPROVED', 'REJECTED', 'PAID') AND p_to <> p_kind)
       OR (p_kind = 'DOCUMENTS_RECEIVED' AND p_to <> 'UNDER_REVIEW') THEN
        RAISE EXCEPTION 'claim %: a % change cannot lead to %', p_claim, p_kind, p_to
            USING ERRCODE = 'check_violation';
    END IF;
    IF coalesce(p_actor, '') = '' OR length(p_actor) > 64 THEN
        RAISE EXCEPTION 'claim %: the actor must be 1 to 64 characters', p_claim
            USING ERRCODE = 'check_violation';
    END IF;
    IF length(p_reason) > 500 OR length(p_payment_reference) > 64 THEN
        RAISE EXCEPTION 'claim %: a reason is at most 500 and a payment reference at most 64 characters',
            p_claim USING ERRCODE = 'check_violation';
    END IF;
    IF c.status = p_to THEN
        RAISE EXCEPTION 'claim %: transition % -> % is not allowed (already %)',
            p_claim, c.status, p_to, c.status USING ERRCODE = 'check_violation';
    END IF;
    IF p_to = 'REJECTED' AND coalesce(p_reason, '') = '' THEN
        RAISE EXCEPTION 'claim %: a rejection needs a reason', p_claim
            USING ERRCODE = 'check_violation';
    END IF;
    IF p_to = 'PAID' AND coalesce(p_payment_reference, '') = '' THEN
        RAISE EXCEPTION 'claim %: a payment needs a payment reference', p_claim
            USING ERRCODE = 'check_violation';
    END IF;
    v_from := c.status;

    UPDATE claims SET
        status = p_to,
        benefit = coalesce(p_new_benefit, benefit),
        program = coalesce(p_new_program, program),
        amount_idr = CASE WHEN p_new_benefit IS NOT NULL OR p_new_amount IS NOT NULL
                          THEN p_new_amount ELSE amount_idr END,
        benefit_table_version = coalesce(p_new_version, benefit_table_version),
        rejection_reason = CASE WHEN p_to = 'REJECTED' THEN p_reason ELSE rejection_reason END,
        payment_reference = coalesce(p_payment_reference, payment_reference)
    WHERE claim_id = p_claim
    RETURNING * INTO c;

    INSERT INTO claim_transitions (claim_id, from_status, to_status, kind, actor, reason,
                                   program, benefit, amount_idr, benefit_table_version,
                                   payment_reference)
    VALUES (p_claim, v_from, c.status, p_kind, p_actor, p_reason, c.program, c.benefit,
            c.amount_idr, c.benefit_table_version, c.payment_reference)
    RETURNING transition_id INTO v_tid;

    SELECT count(*) INTO v_ordinal FROM claim_transitions WHERE claim_id = p_claim;
    INSERT INTO claim_outbox (event_id, claim_id, transition_id)
    VALUES (claim_event_uuid(p_claim, v_ordinal), p_claim, v_tid);
    RETURN v_tid;
END $$;

-- Wakes the relay (LISTEN claim_outbox) when events are queued; one notification per
-- statement, delivered at commit.
CREATE FUNCTION claim_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('claim_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER claim_outbox_notify AFTER INSERT ON claim_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION claim_outbox_notify();

-- Officers: one row per claim with its checklist progress and last change (raw NIK; the
-- claims CLI masks it in lists).
CREATE VIEW claims_overview AS
SELECT c.claim_id, c.nik, c.incident_id, i.type AS incident_type, i.local_date AS incident_date,
       c.region_code, c.program, c.benefit, c.status, c.amount_idr, c.benefit_table_version,
       c.late_report, c.assessment_required,
       coalesce(d.received, 0) AS documents_received, coalesce(d.total, 0) AS documents_total,
       c.rejection_reason, c.payment_reference, c.opened_at, c.updated_at,
       (SELECT count(*) FROM claim_outbox o
        WHERE o.claim_id = c.claim_id AND o.published_at IS NULL) AS events_unpublished
FROM claims c
JOIN incidents i USING (incident_id)
LEFT JOIN (SELECT claim_id, count(received_at) AS received, count(*) AS total
           FROM claim_documents GROUP BY claim_id) d USING (claim_id);

-- Analysts: pseudonymised claims (no NIK, no names, no free text) and aggregates.
CREATE VIEW analytics_claims AS
SELECT md5(c.claim_id::text) AS claim_key, substr(c.region_code, 1, 4) AS regency,
       c.program, c.benefit, c.status, c.amount_idr, c.late_report,
       i.type AS incident_type, i.circumstance, i.local_date AS incident_date,
       c.opened_at::date AS opened_on,
       (SELECT min(t.at)::date FROM claim_transitions t
        WHERE t.claim_id = c.claim_id AND t.to_status = 'PAID') AS paid_on
FROM claims c JOIN incidents i USING (incident_id);

CREATE VIEW analytics_claims_summary AS
SELECT regency, program, benefit, status, count(*) AS claims, sum(amount_idr) AS amount_idr,
       count(*) FILTER (WHERE late_report) AS late_reports
FROM analytics_claims GROUP BY 1, 2, 3, 4;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analytics') THEN
        GRANT SELECT ON analytics_claims, analytics_claims_summary TO analytics;
    END IF;
END $$;
