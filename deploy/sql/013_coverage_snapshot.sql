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
-- enrolment and now; in NIK order. It first waits for the changes being applied to commit
-- and holds new ones off until it commits (SHARE ROW EXCLUSIVE on coverage_outbox: the
-- consumers' inserts wait, the relay's marking does not), so that each row's cause event is
-- that of the state the relay will read: a change committed between the snapshot's read
-- and its insert would otherwise be republished under its previous event id. Returns the
-- rows queued. SECURITY DEFINER (the owner's rights), so the relay's role needs only
-- EXECUTE, not INSERT nor the table lock.
CREATE FUNCTION coverage_snapshot() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    queued bigint;
BEGIN
    LOCK TABLE coverage_outbox IN SHARE ROW EXCLUSIVE MODE;
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
