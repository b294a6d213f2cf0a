-- 009_set_based_references: the references of coverages to workers and agreements are
-- checked once per statement instead of once per row.
--
-- The two foreign keys of coverages were more than half the cost of the roster consumer's
-- bulk INSERT: each new row ran its own lookup and row lock of its worker and of its
-- agreement. The same rules now hold set-based:
--   * an INSERT into coverages checks all its new rows once, after the statement (a
--     statement-level trigger over its transition table); an UPDATE that changes a
--     coverage's nik or agreement_id checks that row. A miss raises 23503
--     (foreign_key_violation), naming the old constraint;
--   * a DELETE from workers or agreements, or an UPDATE of their key, is refused (23503)
--     while a coverage references a key that is gone after the statement; TRUNCATE of
--     either is refused (0A000) unless coverages is emptied in the same command.
--
-- Concurrency. A foreign key locks the referenced row (FOR KEY SHARE) for every row
-- inserted. Here the rare writer that removes keys locks instead: it takes SHARE on
-- coverages before its first row, so it waits for the transactions writing coverages and
-- keeps new ones out until it commits, and its check, run after its rows, sees every
-- coverage committed before (READ COMMITTED takes a snapshot per statement). An older
-- snapshot could miss one, so removing keys is refused at REPEATABLE READ and
-- SERIALIZABLE; a coverage written at those levels locks its references as a foreign key
-- would. A writer of coverages that also holds a row a remover wants may deadlock with it;
-- PostgreSQL then aborts one of them (a consumer retries its batch).
--
-- The checks are index probes per new row whatever the statistics say: each lookup is an
-- EXISTS subplan (OFFSET 0 keeps it one) and sequential scans are off (SET clauses). The
-- referenced tables grow to millions of rows while a statement adds thousands, a plan
-- cached in a consumer's session for its first batches must stay right for the last ones,
-- and autovacuum may analyse them while a load is in flight (0 rows in many pages). No
-- JIT: the disabled scans' costs would have it compile the checks, which takes longer than
-- running them.

ALTER TABLE coverages DROP CONSTRAINT coverages_nik_fkey,
                      DROP CONSTRAINT coverages_agreement_id_fkey;

-- A NIK as the logs show it: 7313********0001.
CREATE FUNCTION mask_nik(nik text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN left(nik, 4) || '********' || right(nik, 4);

-- Raises the foreign key error of coverages_nik_fkey or coverages_agreement_id_fkey for a
-- coverage whose worker (p_nik not NULL) or agreement is missing.
CREATE FUNCTION coverages_reference_missing(p_nik text, p_agreement text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_nik IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "coverages" violates foreign key constraint "coverages_nik_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'coverages_nik_fkey',
                  TABLE = 'coverages', SCHEMA = current_schema(),
                  DETAIL = format('Key (nik)=(%s) is not present in table "workers".', mask_nik(p_nik));
    END IF;
    RAISE EXCEPTION 'insert or update on table "coverages" violates foreign key constraint "coverages_agreement_id_fkey"'
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'coverages_agreement_id_fkey',
              TABLE = 'coverages', SCHEMA = current_schema(),
              DETAIL = format('Key (agreement_id)=(%s) is not present in table "agreements".', p_agreement);
END $$;

-- AFTER INSERT ON coverages FOR EACH STATEMENT: every new row's worker and agreement exist.
CREATE FUNCTION coverages_check_inserted() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off
AS $$
DECLARE
    v_key text;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM FROM new_coverages n CROSS JOIN LATERAL (SELECT FROM workers w
            WHERE w.nik = n.nik OFFSET 0 FOR KEY SHARE) w;
        PERFORM FROM (SELECT DISTINCT agreement_id FROM new_coverages) n
            CROSS JOIN LATERAL (SELECT FROM agreements a
            WHERE a.agreement_id = n.agreement_id OFFSET 0 FOR KEY SHARE) a;
    END IF;
    SELECT n.nik INTO v_key FROM new_coverages n
    WHERE NOT EXISTS (SELECT FROM workers w WHERE w.nik = n.nik OFFSET 0) LIMIT 1;
    IF FOUND THEN
        PERFORM coverages_reference_missing(v_key, NULL);
    END IF;
    SELECT n.agreement_id INTO v_key FROM (SELECT DISTINCT agreement_id FROM new_coverages) n
    WHERE NOT EXISTS (SELECT FROM agreements a WHERE a.agreement_id = n.agreement_id OFFSET 0)
    LIMIT 1;
    IF FOUND THEN
        PERFORM coverages_reference_missing(NULL, v_key);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER coverages_references AFTER INSERT ON coverages
    REFERENCING NEW TABLE AS new_coverages
    FOR EACH STATEMENT EXECUTE FUNCTION coverages_check_inserted();

-- AFTER UPDATE OF nik, agreement_id ON coverages FOR EACH ROW, when either changed.
CREATE FUNCTION coverages_check_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM FROM workers WHERE nik = NEW.nik FOR KEY SHARE;
        PERFORM FROM agreements WHERE agreement_id = NEW.agreement_id FOR KEY SHARE;
    END IF;
    IF NOT EXISTS (SELECT FROM workers WHERE nik = NEW.nik) THEN
        PERFORM coverages_reference_missing(NEW.nik, NULL);
    END IF;
    IF NOT EXISTS (SELECT FROM agreements WHERE agreement_id = NEW.agreement_id) THEN
        PERFORM coverages_reference_missing(NULL, NEW.agreement_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER coverages_references_changed AFTER UPDATE OF nik, agreement_id ON coverages
    FOR EACH ROW WHEN (OLD.nik IS DISTINCT FROM NEW.nik
                       OR OLD.agreement_id IS DISTINCT FROM NEW.agreement_id)
    EXECUTE FUNCTION coverages_check_updated();

-- BEFORE DELETE or UPDATE OF the key ON workers/agreements FOR EACH STATEMENT: keep
-- writers of coverages out until this transaction ends (see the top of this file).
CREATE FUNCTION coverages_lock_for_key_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% on table "%" is refused at % isolation', TG_OP, TG_TABLE_NAME,
            upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'Removing a key referenced by coverages is checked at READ COMMITTED only.',
                  HINT = 'Run it in a READ COMMITTED transaction.';
    END IF;
    LOCK TABLE coverages IN SHARE MODE;
    RETURN NULL;
END $$;

-- Raises the foreign key error of a removed worker or agreement still referenced.
CREATE FUNCTION coverages_key_still_referenced(p_table text, p_column text, p_key text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "coverages_%_fkey" on table "coverages"',
        p_table, p_column
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = format('coverages_%s_fkey', p_column),
              TABLE = p_table, SCHEMA = current_schema(),
              DETAIL = format('Key (%s)=(%s) is still referenced from table "coverages".', p_column,
                              CASE WHEN p_column = 'nik' THEN mask_nik(p_key) ELSE p_key END);
END $$;

-- AFTER DELETE ON workers FOR EACH STATEMENT: no coverage references a deleted NIK.
CREATE FUNCTION workers_check_deleted() RETURNS trigger
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off
AS $$
DECLARE
    v_key text;
BEGIN
    SELECT o.nik INTO v_key FROM old_workers o
    WHERE EXISTS (SELECT FROM coverages c WHERE c.nik = o.nik OFFSET 0)
      AND NOT EXISTS (SELECT FROM workers w WHERE w.nik = o.nik OFFSET 0) LIMIT 1;
    IF FOUND THEN
        PERFORM coverages_key_still_referenced('workers', 'nik', v_key);
    END IF;
    RETURN NULL;
END $$;

-- AFTER UPDATE OF nik ON workers FOR EACH ROW, when it changed: the old NIK is no longer
-- referenced, unless another row took it in the same statement.
CREATE FUNCTION workers_check_rekeyed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM coverages WHERE nik = OLD.nik)
       AND NOT EXISTS (SELECT FROM workers WHERE nik = OLD.nik) THEN
        PERFORM coverages_key_still_referenced('workers', 'nik', OLD.nik);
    END IF;
    RETURN NULL;
END $$;

-- AFTER DELETE ON agreements FOR EACH STATEMENT: no coverage references a deleted
-- agreement. Agreements are deleted by hand, if ever: a scan of coverages is fine.
CREATE FUNCTION agreements_check_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_key text;
BEGIN
    SELECT o.agreement_id INTO v_key FROM old_agreements o
    WHERE o.agreement_id IN (SELECT c.agreement_id FROM coverages c)
      AND NOT EXISTS (SELECT FROM agreements a WHERE a.agreement_id = o.agreement_id) LIMIT 1;
    IF FOUND THEN
        PERFORM coverages_key_still_referenced('agreements', 'agreement_id', v_key);
    END IF;
    RETURN NULL;
END $$;

-- AFTER UPDATE OF agreement_id ON agreements FOR EACH ROW, when it changed.
CREATE FUNCTION agreements_check_rekeyed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM coverages WHERE agreement_id = OLD.agreement_id)
       AND NOT EXISTS (SELECT FROM agreements WHERE agreement_id = OLD.agreement_id) THEN
        PERFORM coverages_key_still_referenced('agreements', 'agreement_id', OLD.agreement_id);
    END IF;
    RETURN NULL;
END $$;

-- AFTER TRUNCATE ON workers/agreements: only together with coverages (or once it is empty).
CREATE FUNCTION coverages_check_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM coverages) THEN
        RAISE EXCEPTION 'cannot truncate table "%" while table "coverages" references it', TG_TABLE_NAME
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Truncate table "coverages" at the same time.';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER workers_lock_coverages BEFORE DELETE OR UPDATE OF nik ON workers
    FOR EACH STATEMENT EXECUTE FUNCTION coverages_lock_for_key_removal();
CREATE TRIGGER workers_references_deleted AFTER DELETE ON workers
    REFERENCING OLD TABLE AS old_workers
    FOR EACH STATEMENT EXECUTE FUNCTION workers_check_deleted();
CREATE TRIGGER workers_references_rekeyed AFTER UPDATE OF nik ON workers
    FOR EACH ROW WHEN (OLD.nik IS DISTINCT FROM NEW.nik)
    EXECUTE FUNCTION workers_check_rekeyed();
CREATE TRIGGER workers_references_truncated AFTER TRUNCATE ON workers
    FOR EACH STATEMENT EXECUTE FUNCTION coverages_check_truncated();

CREATE TRIGGER agreements_lock_coverages BEFORE DELETE OR UPDATE OF agreement_id ON agreements
    FOR EACH STATEMENT EXECUTE FUNCTION coverages_lock_for_key_removal();
CREATE TRIGGER agreements_references_deleted AFTER DELETE ON agreements
    REFERENCING OLD TABLE AS old_agreements
    FOR EACH STATEMENT EXECUTE FUNCTION agreements_check_deleted();
CREATE TRIGGER agreements_references_rekeyed AFTER UPDATE OF agreement_id ON agreements
    FOR EACH ROW WHEN (OLD.agreement_id IS DISTINCT FROM NEW.agreement_id)
    EXECUTE FUNCTION agreements_check_rekeyed();
CREATE TRIGGER agreements_references_truncated AFTER TRUNCATE ON agreements
    FOR EACH STATEMENT EXECUTE FUNCTION coverages_check_truncated();
