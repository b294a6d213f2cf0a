-- 007_dead_letter_bytes: a dead letter keeps the record's bytes, so that it can be replayed
-- after a fix even when the DLQ topic only took a truncated copy, and says what PostgreSQL
-- refused (error class "db": its SQLSTATE).

ALTER TABLE dead_letters
    ADD COLUMN sqlstate     text,
    ADD COLUMN msg_key      bytea,
    ADD COLUMN msg_value    bytea;
