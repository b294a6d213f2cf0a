-- 008_replay: dead letters published again to their topic (covadm dead-letters replay).
--
-- A replay re-publishes the record unchanged (same event_id). To let the consumer decide it
-- again, covadm first marks its applied_events row (if it was REJECTED) REPLAYING, in its
-- own committed transaction, then publishes, then marks the dead letter replayed. The
-- consumers treat APPLIED and REJECTED as already decided and REPLAYING as new, and write
-- the new outcome over it: a replay published twice is applied at most once.

ALTER TABLE dead_letters ADD COLUMN replay_count int NOT NULL DEFAULT 0;

ALTER TABLE applied_events
    ADD CONSTRAINT applied_events_outcome
    CHECK (outcome IN ('APPLIED', 'REJECTED', 'REPLAYING'));

CREATE INDEX dead_letters_pending ON dead_letters (topic, partition, kafka_offset)
    WHERE replayed_at IS NULL;
