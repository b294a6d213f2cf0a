-- 013_coverage_snapshot: `coverage-relay --snapshot` queues the current state of every worker
-- again (a new subscriber, or coverage.changes lost to a retention accident) as outbox rows
-- that repeat the worker's last cause event and its time, so the relay republishes each state
-- with the event id and event time it was first published with. event_at is that time (NULL:
-- created_at, every row the consumers write); created_at stays the time the row was queued,
-- so the backlog's age still says how long the relay is behind.

ALTER TABLE coverage_outbox ADD COLUMN event_at timestamptz;


-- coverage_snapshot(): the snapshot itself, one transaction: every worker with coverages
-- queued again with the cause event and time of its latest outbox row (the state's event
-- id and time when it was last published), or, for a worker that never had one, its latest
-- enrolment and now; in NIK order. Every change of a worker's coverage writes `coverages`
-- and its outbox row in one transaction (roster-consumer, incident-consumer's deaths,
-- covadm's lapses), so the snapshot first takes SHARE on `coverages`: the changes being
-- applied commit before its read, and new ones wait until it commits (or, past their
-- lock_timeout, retry their batch). Each row's cause event is then that of the state it
-- saw: a change committed between the read and the insert would otherwise be queued before
-- the snapshot's rows and republished after them under its previous event id. The relay's
-- marking (coverage_outbox) does not wait. Returns the rows queued. SECURITY DEFINER (the
-- owner's rights), so the relay's role needs only EXECUTE, not INSERT nor the lock.
CREATE FUNCTION coverage_snapshot() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    queued bigint;
BEGIN
    LOCK TABLE coverages IN SHARE MODE;
    INSERT INTO coverage_outbox (nik, cause_event, event_at)
    SELECT w.nik, coalesce(o.cause_event, w.enroll_event), coalesce(o.at, now())
    FROM (SELECT nik, (array_agg(enroll_event ORDER BY coverage_id DESC))[1] AS enroll_event
          FROM coverages GROUP BY nik) w
    LEFT JOIN (SELECT DISTINCT ON (nik) nik, cause_event,
                      coalesce(event_at, created_at) AS at
               FROM coverage_outbox ORDER BY nik, outbox_id DESC) o USING (nik)
    ORDER BY w.nik;
    GET DIAGNOSTICS queued = ROW_COUNT;
    RETURN queued;
END
$$;
REVOKE ALL ON FUNCTION coverage_snapshot() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION coverage_snapshot() TO coverage_relay;
