-- 001_roster: reference data, workers and coverages, the consumers' offsets and dead letters.
-- Applied once by deploy/local/stack.sh (recorded in schema_migrations).

-- Provincial data centers and the provinces each may publish for.
CREATE TABLE data_centers (
    source      text PRIMARY KEY,
    name        text NOT NULL
);
CREATE TABLE data_center_provinces (
    source      text NOT NULL REFERENCES data_centers ON DELETE CASCADE,
    province    smallint NOT NULL CHECK (province BETWEEN 11 AND 96),
    PRIMARY KEY (source, province)
);

-- Cooperation agreements (PKS) that pay the premiums.
CREATE TABLE agreements (
    agreement_id    text PRIMARY KEY,
    name            text NOT NULL,
    institution     text NOT NULL CHECK (institution IN ('KPU', 'BAWASLU', 'PEMDA')),
    counterparty    text NOT NULL,
    bpjs_branch     text NOT NULL,
    region_scope    text NOT NULL CHECK (region_scope ~ '^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{4})?)?)?$'),
    programs        text[] NOT NULL CHECK (programs <@ ARRAY['JKK', 'JKM', 'JHT'] AND cardinality(programs) > 0),
    period_start    date NOT NULL,
    period_end      date NOT NULL,
    funding_source  text NOT NULL CHECK (funding_source IN ('APBD', 'APBN_KPU', 'APBN_BAWASLU', 'SELF')),
    loaded_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (period_start <= period_end)
);

CREATE TABLE workers (
    nik             char(16) PRIMARY KEY CHECK (nik ~ '^[0-9]{16}$'),
    full_name       text NOT NULL,
    birth_date      date NOT NULL,
    gender          char(1) NOT NULL CHECK (gender IN ('L', 'P')),
    kpj             char(11) CHECK (kpj ~ '^[0-9]{11}$'),
    phone           text,
    province        smallint NOT NULL,       -- province of the unit of work of the latest enrolment
    deceased_on     date,                    -- set by the incident consumer
    created_event   uuid NOT NULL,
    updated_event   uuid NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per worker x program x term. A TERMINATE closes a row on its effective date
-- (status TERMINATED) or cancels a term that had not started yet (status CANCELLED).
CREATE TABLE coverages (
    coverage_id     bigserial PRIMARY KEY,
    nik             char(16) NOT NULL REFERENCES workers,
    program         text NOT NULL CHECK (program IN ('JKK', 'JKM', 'JHT')),
    institution     text NOT NULL CHECK (institution IN ('KPU', 'BAWASLU')),
    role            text NOT NULL,
    region_code     text NOT NULL CHECK (region_code ~ '^[0-9]{6}([0-9]{4})?$'),
    tps             smallint CHECK (tps BETWEEN 1 AND 999),
    agreement_id    text NOT NULL REFERENCES agreements,
    monthly_wage    bigint NOT NULL CHECK (monthly_wage > 0),
    valid_from      date NOT NULL,
    valid_to        date NOT NULL,
    status          text NOT NULL CHECK (status IN ('ACTIVE', 'TERMINATED', 'CANCELLED')),
    enroll_event    uuid NOT NULL,
    last_event      uuid NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (valid_from <= valid_to)
);
-- Overlapping terms of one program are refused by the roster consumer's set-based rule
-- (a worker's events are applied by one consumer, in order). A GiST exclusion constraint
-- would say the same but made bulk enrolment about ten times slower.
CREATE INDEX coverages_nik ON coverages (nik, program, valid_from);
CREATE INDEX coverages_region ON coverages (region_code);
CREATE INDEX coverages_agreement ON coverages (agreement_id);

-- Every event a consumer has decided on, applied or rejected: re-deliveries are no-ops.
CREATE TABLE applied_events (
    event_id        uuid PRIMARY KEY,
    topic           text NOT NULL,
    partition       int NOT NULL,
    kafka_offset    bigint NOT NULL,
    outcome         text NOT NULL,            -- APPLIED or REJECTED
    applied_at      timestamptz NOT NULL DEFAULT now()
);

-- The consumers' position per partition, written in the same transaction as the rows it
-- produced. Consumers resume from here, not from Kafka's committed offsets.
CREATE TABLE consumer_offsets (
    group_id        text NOT NULL,
    topic           text NOT NULL,
    partition       int NOT NULL,
    next_offset     bigint NOT NULL CHECK (next_offset >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- Every record sent to a dead-letter topic, for inspection and replay.
CREATE TABLE dead_letters (
    dead_letter_id  bigserial PRIMARY KEY,
    group_id        text NOT NULL,
    topic           text NOT NULL,
    partition       int NOT NULL,
    kafka_offset    bigint NOT NULL,
    event_id        uuid,
    nik_masked      text,
    error_class     text NOT NULL,
    error_message   text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    replayed_at     timestamptz,
    UNIQUE (group_id, topic, partition, kafka_offset)
);

-- Names of regions (kecamatan and desa) for reports; loaded from sample data or Kemendagri.
CREATE TABLE regions (
    region_code     text PRIMARY KEY CHECK (region_code ~ '^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{4})?)?)?$'),
    name            text NOT NULL
);
