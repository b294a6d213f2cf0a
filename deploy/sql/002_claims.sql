-- 002_claims: incidents after de-duplication, the reports behind them, JKK/JKM claims with
-- their document checklists and state history, the versioned benefit table, and the
-- outbox the claims relay publishes from.

-- Amounts and deadlines by version and effective date; loaded from
-- deploy/benefits/benefit_table.tsv by deploy/local/stack.sh (the TSV is the source).
CREATE TABLE benefit_table (
    version         text NOT NULL,
    effective_from  date NOT NULL,
    key             text NOT NULL,
    value           bigint NOT NULL,
    PRIMARY KEY (version, key)
);

-- One row per incident after de-duplication: reports of the same NIK, type and local date
-- are one incident.
CREATE TABLE incidents (
    incident_id     uuid PRIMARY KEY,
    nik             char(16) NOT NULL CHECK (nik ~ '^[0-9]{16}$'),
    type            text NOT NULL CHECK (type IN ('ACCIDENT', 'DEATH')),
    occurred_at     timestamptz NOT NULL,
    local_date      date NOT NULL,           -- in the time zone of region_code's province
    utc_offset_minutes int NOT NULL,
    region_code     text NOT NULL,
    circumstance    text NOT NULL CHECK (circumstance IN ('ON_DUTY', 'COMMUTING', 'OFF_DUTY')),
    cause           text,
    severity        text,
    first_reported_at timestamptz NOT NULL,
    late_report     boolean NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('CLAIM', 'NO_CLAIM_OFF_DUTY', 'NOT_COVERED', 'REJECTED')),
    outcome_reason  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (nik, type, local_date)
);

-- Every report received (the first one created the incident, later ones are linked).
CREATE TABLE incident_reports (
    event_id        uuid PRIMARY KEY,
    incident_id     uuid NOT NULL REFERENCES incidents,
    report_id       text,
    source          text NOT NULL,
    reporter_institution text NOT NULL CHECK (reporter_institution IN ('KPU', 'BAWASLU', 'FAMILY', 'HEALTH_FACILITY')),
    reporter_name   text,
    reporter_phone  text,
    reported_at     timestamptz NOT NULL,
    description     text CHECK (length(description) <= 2000),
    kafka_partition int NOT NULL,
    kafka_offset    bigint NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incident_reports_incident ON incident_reports (incident_id);

CREATE TABLE claims (
    claim_id        uuid PRIMARY KEY,
    nik             char(16) NOT NULL,
    incident_id     uuid NOT NULL UNIQUE REFERENCES incidents,   -- one incident, one claim
    program         text NOT NULL CHECK (program IN ('JKK', 'JKM')),
    benefit         text NOT NULL CHECK (benefit IN ('JKK_DEATH', 'JKK_DISABILITY', 'JKK_TEMPORARY', 'JKK_MEDICAL', 'JKM')),
    status          text NOT NULL CHECK (status IN ('OPENED', 'AWAITING_DOCUMENTS', 'PENDING_DETERMINATION',
                                                    'UNDER_REVIEW', 'APPROVED', 'REJECTED', 'PAID')),
    amount_idr      bigint CHECK (amount_idr IS NULL OR amount_idr >= 0),  -- NULL: as medically needed
    benefit_table_version text NOT NULL,
    monthly_wage    bigint,
    late_report     boolean NOT NULL DEFAULT false,
    assessment_required boolean NOT NULL DEFAULT false,
    region_code     text NOT NULL,
    rejection_reason text,
    payment_reference text,
    opened_at       timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'PAID' OR payment_reference IS NOT NULL),
    CHECK (status <> 'REJECTED' OR rejection_reason IS NOT NULL),
    CHECK ((program = 'JKM') = (benefit = 'JKM'))
);
CREATE INDEX claims_status ON claims (status);
CREATE INDEX claims_region ON claims (region_code);
CREATE INDEX claims_nik ON claims (nik);

CREATE TABLE claim_documents (
    claim_id        uuid NOT NULL REFERENCES claims,
    document        text NOT NULL,
    received_at     timestamptz,
    received_by     text,
    PRIMARY KEY (claim_id, document)
);

-- Every state change with who, when and why.
CREATE TABLE claim_transitions (
    transition_id   bigserial PRIMARY KEY,
    claim_id        uuid NOT NULL REFERENCES claims,
    from_status     text,
    to_status       text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('OPENED', 'DOCUMENTS_RECEIVED', 'DETERMINATION', 'APPROVED', 'REJECTED', 'PAID')),
    actor           text NOT NULL,
    reason          text,
    -- the claim as it stood after this change, so its event can be published later as it was
    program         text NOT NULL,
    benefit         text NOT NULL,
    amount_idr      bigint,
    benefit_table_version text NOT NULL,
    payment_reference text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claim_transitions_claim ON claim_transitions (claim_id, transition_id);

-- Claim events waiting for (or already given to) the relay, in commit order per claim.
CREATE TABLE claim_outbox (
    outbox_id       bigserial PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    claim_id        uuid NOT NULL REFERENCES claims,
    transition_id   bigint NOT NULL REFERENCES claim_transitions,
    published_at    timestamptz
);
CREATE INDEX claim_outbox_pending ON claim_outbox (outbox_id) WHERE published_at IS NULL;

-- The workflow is enforced by the database, whoever writes: a claim moves only along
-- these edges.
CREATE TABLE claim_status_edges (
    from_status     text NOT NULL,
    to_status       text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO claim_status_edges VALUES
    ('OPENED', 'AWAITING_DOCUMENTS'), ('OPENED', 'PENDING_DETERMINATION'),
    ('OPENED', 'UNDER_REVIEW'), ('OPENED', 'REJECTED'),
    ('PENDING_DETERMINATION', 'AWAITING_DOCUMENTS'), ('PENDING_DETERMINATION', 'REJECTED'),
    ('AWAITING_DOCUMENTS', 'UNDER_REVIEW'), ('AWAITING_DOCUMENTS', 'REJECTED'),
    ('UNDER_REVIEW', 'APPROVED'), ('UNDER_REVIEW', 'REJECTED'),
    ('UNDER_REVIEW', 'AWAITING_DOCUMENTS'),
    ('APPROVED', 'PAID');

CREATE FUNCTION claims_check_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NOT EXISTS (
        SELECT 1 FROM claim_status_edges e WHERE e.from_status = OLD.status AND e.to_status = NEW.status)
    THEN
        RAISE EXCEPTION 'claim %: transition % -> % is not allowed', OLD.claim_id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.status IN ('PAID', 'REJECTED') AND (NEW.amount_idr IS DISTINCT FROM OLD.amount_idr
        OR NEW.benefit IS DISTINCT FROM OLD.benefit) THEN
        RAISE EXCEPTION 'claim %: a % claim cannot change', OLD.claim_id, OLD.status
            USING ERRCODE = 'check_violation';
    END IF;
    -- A JKK death claim becomes JKM only by the determination, before documents are in.
    IF NEW.benefit IS DISTINCT FROM OLD.benefit AND NOT (OLD.benefit = 'JKK_DEATH'
        AND NEW.benefit = 'JKM' AND OLD.status = 'PENDING_DETERMINATION') THEN
        RAISE EXCEPTION 'claim %: benefit % cannot become %', OLD.claim_id, OLD.benefit, NEW.benefit
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER claims_transition BEFORE UPDATE ON claims
    FOR EACH ROW EXECUTE FUNCTION claims_check_transition();

-- A new claim starts in one of the opening states only.
CREATE FUNCTION claims_check_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status NOT IN ('OPENED', 'AWAITING_DOCUMENTS', 'PENDING_DETERMINATION') THEN
        RAISE EXCEPTION 'claim %: a claim cannot be created as %', NEW.claim_id, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER claims_insert BEFORE INSERT ON claims
    FOR EACH ROW EXECUTE FUNCTION claims_check_insert();
