-- 006_coverage_outbox: workers whose coverage changed, waiting for (or already given to) the
-- coverage relay, which publishes each worker's current state to coverage.changes.
-- Written by the roster consumer (every applied event) and the incident consumer (a death
-- closing the coverage) in the transaction that changed the coverage.

CREATE TABLE coverage_outbox (
    outbox_id       bigserial PRIMARY KEY,
    nik             char(16) NOT NULL,
    cause_event     uuid NOT NULL,              -- the event that changed the worker's coverage
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz
);
CREATE INDEX coverage_outbox_pending ON coverage_outbox (outbox_id) WHERE published_at IS NULL;

-- Wakes the relay (LISTEN coverage_outbox) when rows are queued; one notification per
-- statement, delivered at commit.
CREATE FUNCTION coverage_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coverage_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER coverage_outbox_notify AFTER INSERT ON coverage_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION coverage_outbox_notify();
