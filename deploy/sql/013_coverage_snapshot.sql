-- 013_coverage_snapshot: `coverage-relay --snapshot` queues the current state of every worker
-- again (a new subscriber, or coverage.changes lost to a retention accident) as outbox rows
-- that repeat the worker's last cause event and its time, so the relay republishes each state
-- with the event id and event time it was first published with. event_at is that time (NULL:
-- created_at, every row the consumers write); created_at stays the time the row was queued,
-- so the backlog's age still says how long the relay is behind.

ALTER TABLE coverage_outbox ADD COLUMN event_at timestamptz;

-- The snapshot is the relay's own statement: its role (011_service_roles) may queue rows,
-- those columns and no others.
GRANT INSERT (nik, cause_event, event_at) ON coverage_outbox TO coverage_relay;
GRANT USAGE ON SEQUENCE coverage_outbox_outbox_id_seq TO coverage_relay;
