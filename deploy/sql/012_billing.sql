-- 012_billing: premiums and billing. The versioned premium rates and billing rules (copied
-- from deploy/premiums/*.tsv by whoever computes invoices: covadm), budgets on agreements,
-- invoices per agreement and month computed set-based from coverages, payments, lapses of
-- BPU coverage after unpaid months, the billing.invoices outbox, budget warnings and
-- certificate stages. The rules are those of common/premiums.h; test_80_premiums.sh checks
-- that this SQL and that C give the same amounts.
--
-- Grants: the last section grants each service role (deploy/sql/009_service_roles.sql on
-- the security branch) what it needs here, when those roles exist; see README.md
-- "Premiums, invoices and certificates" for the list.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- ---- reference data -------------------------------------------------------------------

-- deploy/premiums/premium_rates.tsv, row for row (risk_class 0 = '-': every class).
CREATE TABLE premium_rates (
    version         text NOT NULL,
    effective_from  date NOT NULL,
    scheme          text NOT NULL CHECK (scheme IN ('BPU', 'PU')),
    program         text NOT NULL CHECK (program IN ('JKK', 'JKM', 'JHT')),
    risk_class      smallint NOT NULL CHECK (risk_class BETWEEN 0 AND 5),
    kind            text NOT NULL CHECK (kind IN ('pct_of_wage', 'min', 'flat', 'relief_bp', 'jkp_share_bp')),
    value           bigint NOT NULL CHECK (value >= 0),
    source          text NOT NULL,
    PRIMARY KEY (version, scheme, program, risk_class, kind)
);

-- deploy/premiums/billing_rules.tsv, row for row.
CREATE TABLE billing_rules (
    version         text NOT NULL,
    effective_from  date NOT NULL,
    scheme          text NOT NULL CHECK (scheme IN ('BPU', 'PU')),
    rule            text NOT NULL,
    value           bigint NOT NULL CHECK (value >= 0),
    source          text NOT NULL,
    PRIMARY KEY (version, scheme, rule)
);

-- An agreement's budget (the APBD or DIPA line, whole rupiah; NULL: none set) and what the
-- roster consumer does with an enrolment that would exceed it; the contribution scheme of
-- its workers (ad hoc workers are BPU) and, for PU, the JKK risk class.
ALTER TABLE agreements
    ADD COLUMN budget_idr       bigint CHECK (budget_idr >= 0),
    ADD COLUMN budget_policy    text NOT NULL DEFAULT 'warn' CHECK (budget_policy IN ('reject', 'warn')),
    ADD COLUMN premium_scheme   text NOT NULL DEFAULT 'BPU' CHECK (premium_scheme IN ('BPU', 'PU')),
    ADD COLUMN jkk_risk_class   smallint CHECK (jkk_risk_class BETWEEN 1 AND 5),
    ADD CONSTRAINT agreements_pu_risk_class CHECK (premium_scheme = 'BPU' OR jkk_risk_class IS NOT NULL);

-- A lapse (unpaid BPU contributions, billing_lapse below) closes a coverage with status
-- LAPSED: lapsed_on is the last day of protection (the end of the last paid month); a term
-- that had started by then ends there (valid_to = lapsed_on), a later one keeps its dates
-- and is never in force (route.h rule 5).
ALTER TABLE coverages DROP CONSTRAINT coverages_status_check;
ALTER TABLE coverages
    ADD COLUMN lapsed_on date,
    ADD CONSTRAINT coverages_status_check
        CHECK (status IN ('ACTIVE', 'TERMINATED', 'CANCELLED', 'LAPSED')),
    ADD CONSTRAINT coverages_lapsed_on CHECK ((status = 'LAPSED') = (lapsed_on IS NOT NULL));

-- ---- the rules, set-based ---------------------------------------------------------------

CREATE FUNCTION month_first(d date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN d - (extract(day FROM d)::int - 1);

CREATE FUNCTION month_last(d date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (month_first(d) + interval '1 month')::date - 1;

-- Every version's rates for every scheme, program and risk class (0..5), a class falling
-- back to the '-' row: the cells the amounts are read from; and every version's rules per
-- scheme. Tables (not views) kept by triggers on premium_rates and billing_rules, so that a
-- lookup per worker-month is an index probe of a few hundred rows.
CREATE TABLE premium_cells (
    version         text NOT NULL,
    effective_from  date NOT NULL,
    next_from       date,                 -- the next version's effective_from
    scheme          text NOT NULL,
    program         text NOT NULL,
    risk_class      smallint NOT NULL,
    pct_bp          bigint,
    min_idr         bigint,
    flat_idr        bigint,
    relief_bp       bigint,
    PRIMARY KEY (scheme, program, risk_class, effective_from)
);

CREATE TABLE billing_rule_sets (
    version         text NOT NULL,
    effective_from  date NOT NULL,
    next_from       date,
    scheme          text NOT NULL,
    min_days        int,
    lapse_after_months int,
    arrears_months  int,
    PRIMARY KEY (scheme, effective_from)
);

CREATE FUNCTION premium_cells_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM premium_cells;
    INSERT INTO premium_cells
    WITH v AS (
        SELECT version, effective_from, lead(effective_from) OVER (ORDER BY effective_from) AS next_from
        FROM (SELECT DISTINCT version, effective_from FROM premium_rates) d)
    SELECT v.version, v.effective_from, v.next_from, s.scheme, p.program, k.risk_class,
           r.pct_bp, r.min_idr, r.flat_idr, r.relief_bp
    FROM v
    CROSS JOIN (VALUES ('BPU'), ('PU')) s (scheme)
    CROSS JOIN (VALUES ('JKK'), ('JKM'), ('JHT')) p (program)
    CROSS JOIN generate_series(0, 5) k (risk_class)
    CROSS JOIN LATERAL (
        SELECT (array_agg(x.value ORDER BY x.risk_class DESC) FILTER (WHERE x.kind = 'pct_of_wage'))[1] AS pct_bp,
               (array_agg(x.value ORDER BY x.risk_class DESC) FILTER (WHERE x.kind = 'min'))[1] AS min_idr,
               (array_agg(x.value ORDER BY x.risk_class DESC) FILTER (WHERE x.kind = 'flat'))[1] AS flat_idr,
               (array_agg(x.value ORDER BY x.risk_class DESC) FILTER (WHERE x.kind = 'relief_bp'))[1] AS relief_bp
        FROM premium_rates x
        WHERE x.version = v.version AND x.scheme = s.scheme AND x.program = p.program
          AND x.risk_class IN (k.risk_class, 0)) r;
    RETURN NULL;
END $$;
CREATE TRIGGER premium_rates_cells AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON premium_rates
    FOR EACH STATEMENT EXECUTE FUNCTION premium_cells_rebuild();

CREATE FUNCTION billing_rule_sets_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM billing_rule_sets;
    INSERT INTO billing_rule_sets
    WITH v AS (
        SELECT version, effective_from, lead(effective_from) OVER (ORDER BY effective_from) AS next_from
        FROM (SELECT DISTINCT version, effective_from FROM billing_rules) d)
    SELECT v.version, v.effective_from, v.next_from, s.scheme,
           (SELECT r.value FROM billing_rules r WHERE r.version = v.version AND r.scheme = s.scheme
              AND r.rule = 'month_owed_min_covered_days')::int,
           (SELECT r.value FROM billing_rules r WHERE r.version = v.version AND r.scheme = s.scheme
              AND r.rule = 'lapse_after_unpaid_months')::int,
           (SELECT r.value FROM billing_rules r WHERE r.version = v.version AND r.scheme = s.scheme
              AND r.rule = 'arrears_payable_months')::int
    FROM v CROSS JOIN (VALUES ('BPU'), ('PU')) s (scheme);
    RETURN NULL;
END $$;
CREATE TRIGGER billing_rules_sets AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON billing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION billing_rule_sets_rebuild();

-- Rules 4 and 5 of premiums.h: the base (flat, or wage x basis points rounded half up, at
-- least min) less the relief, rounded the same way. NULL when the version states no rate.
CREATE FUNCTION premium_base(p_wage bigint, p_pct_bp bigint, p_min bigint, p_flat bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_flat IS NOT NULL THEN p_flat
            WHEN p_pct_bp IS NOT NULL THEN greatest((p_wage * p_pct_bp + 5000) / 10000, coalesce(p_min, 0))
       END;

CREATE FUNCTION premium_apply(p_wage bigint, p_pct_bp bigint, p_min bigint, p_flat bigint,
                              p_relief_bp bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN premium_base(p_wage, p_pct_bp, p_min, p_flat)
       - (premium_base(p_wage, p_pct_bp, p_min, p_flat) * coalesce(p_relief_bp, 0) + 5000) / 10000;

-- The months of one term of one program: days covered, whether the month is owed (rule 2),
-- the rates version and the amount (rules 3-5; NULL when not owed). owed is NULL when no
-- rules version is in force, amount NULL on an owed month when no rate is: callers treat
-- both as "cannot be priced".
CREATE FUNCTION premium_term_months(p_scheme text, p_risk_class int, p_program text,
                                    p_wage bigint, p_from date, p_to date)
RETURNS TABLE (service_month date, covered_days int, owed boolean, rates_version text,
               amount_idr bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT m.month, d.days, d.days >= br.min_days, pc.version,
           CASE WHEN d.days >= br.min_days
                THEN premium_apply(p_wage, pc.pct_bp, pc.min_idr, pc.flat_idr, pc.relief_bp) END
    FROM generate_series(month_first(p_from)::timestamp, month_first(p_to)::timestamp,
                         interval '1 month') g (ts)
    CROSS JOIN LATERAL (SELECT g.ts::date AS month, month_last(g.ts::date) AS last_day) m
    CROSS JOIN LATERAL (SELECT least(p_to, m.last_day) - greatest(p_from, m.month) + 1 AS days) d
    LEFT JOIN billing_rule_sets br ON br.scheme = p_scheme AND br.effective_from <= m.last_day
         AND (br.next_from IS NULL OR m.last_day < br.next_from)
    LEFT JOIN premium_cells pc ON pc.scheme = p_scheme AND pc.program = p_program
         AND pc.risk_class = CASE WHEN p_scheme = 'PU' AND p_program = 'JKK' THEN p_risk_class ELSE 0 END
         AND pc.effective_from <= m.last_day AND (pc.next_from IS NULL OR m.last_day < pc.next_from)
    WHERE p_from <= p_to
$$;

-- The heavy functions below run with jit off: the row estimates of generate_series over
-- timestamps (1000) make the planner JIT-compile a query that runs in milliseconds, which
-- then takes seconds.

-- Coverage as billing sees it: not cancelled, a lapsed term only up to its lapse.
CREATE VIEW coverage_terms AS
SELECT c.*, CASE WHEN c.status = 'LAPSED' THEN least(c.valid_to, c.lapsed_on) ELSE c.valid_to END
            AS covered_to
FROM coverages c
WHERE c.status <> 'CANCELLED' AND NOT (c.status = 'LAPSED' AND c.lapsed_on < c.valid_from);

-- What agreement p_agreement owes for the months p_from..p_to (any day of each): one row
-- per worker, program and month owed. A worker's month of a program is owed once, whoever
-- covered it: days are counted over all the worker's terms of that program (any agreement;
-- terms of one program never overlap) against month_owed_min_covered_days of the scheme of
-- the agreement it is billed to, and it is billed to the term with the most covered days
-- in that month (then the later term). region_code is the kecamatan of the unit of work.
-- amount_idr NULL: cannot be priced (no rules or no rate in force).
CREATE FUNCTION billing_owed(p_agreement text, p_from date, p_to date)
RETURNS TABLE (nik char(16), program text, service_month date, coverage_id bigint,
               region_code text, role text, rates_version text, amount_idr bigint)
LANGUAGE sql STABLE AS $$
    WITH bounds AS (
        SELECT month_first(p_from) AS lo, month_last(p_to) AS hi),
    mine AS (
        SELECT DISTINCT t.nik FROM coverage_terms t, bounds b
        WHERE t.agreement_id = p_agreement AND t.valid_from <= b.hi AND t.covered_to >= b.lo),
    tm AS (
        SELECT t.coverage_id, t.nik, t.program, t.agreement_id, t.region_code, t.role,
               t.monthly_wage, t.valid_from, g.ts::date AS service_month,
               least(t.covered_to, month_last(g.ts::date)) - greatest(t.valid_from, g.ts::date) + 1 AS days
        FROM coverage_terms t JOIN mine USING (nik) CROSS JOIN bounds b
        CROSS JOIN LATERAL generate_series(greatest(month_first(t.valid_from), b.lo)::timestamp,
                                           least(month_first(t.covered_to), b.hi)::timestamp,
                                           interval '1 month') g (ts)
        WHERE t.valid_from <= b.hi AND t.covered_to >= b.lo),
    pick AS (
        SELECT tm.*, sum(tm.days) OVER w AS total_days,
               row_number() OVER (w ORDER BY tm.days DESC, tm.valid_from DESC, tm.coverage_id DESC) AS rn
        FROM tm WINDOW w AS (PARTITION BY tm.nik, tm.program, tm.service_month)),
    -- The rule and rates of each month and program, for this agreement's scheme.
    cells AS (
        SELECT g.ts::date AS service_month, pr.program, br.min_days, pc.version, pc.pct_bp,
               pc.min_idr, pc.flat_idr, pc.relief_bp
        FROM bounds b
        CROSS JOIN generate_series(b.lo::timestamp, b.hi::timestamp, interval '1 month') g (ts)
        CROSS JOIN (VALUES ('JKK'), ('JKM'), ('JHT')) pr (program)
        JOIN agreements a ON a.agreement_id = p_agreement
        LEFT JOIN billing_rule_sets br ON br.scheme = a.premium_scheme
             AND br.effective_from <= month_last(g.ts::date)
             AND (br.next_from IS NULL OR month_last(g.ts::date) < br.next_from)
        LEFT JOIN premium_cells pc ON pc.scheme = a.premium_scheme AND pc.program = pr.program
             AND pc.risk_class = CASE WHEN a.premium_scheme = 'PU' AND pr.program = 'JKK'
                                      THEN a.jkk_risk_class ELSE 0 END
             AND pc.effective_from <= month_last(g.ts::date)
             AND (pc.next_from IS NULL OR month_last(g.ts::date) < pc.next_from))
    SELECT p.nik, p.program, p.service_month, p.coverage_id, left(p.region_code, 6), p.role,
           c.version,
           CASE WHEN c.min_days IS NOT NULL
                THEN premium_apply(p.monthly_wage, c.pct_bp, c.min_idr, c.flat_idr, c.relief_bp) END
    FROM pick p
    JOIN cells c ON c.service_month = p.service_month AND c.program = p.program
    WHERE p.rn = 1 AND p.agreement_id = p_agreement
      AND (c.min_days IS NULL OR p.total_days >= c.min_days)
$$;

-- ---- invoices ---------------------------------------------------------------------------

-- Stable ids (name-based UUIDs, like claims): one invoice per agreement and month, one
-- ISSUED event per invoice.
CREATE FUNCTION invoice_uuid(agreement_id text, billing_month date) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN uuid_generate_v5('5b0b3f3e-8f44-4a57-9a59-3f1c2f6f4e10'::uuid,
                        agreement_id || '|' || to_char(billing_month, 'YYYY-MM'));

CREATE FUNCTION invoice_event_uuid(invoice_id uuid) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN uuid_generate_v5('0d7e8a51-63c4-4f0e-b8a2-0c4f5d8e2b91'::uuid, invoice_id::text || '|ISSUED');

-- One invoice per agreement and billing month: DRAFT while it may be recomputed, then
-- ISSUED, after which neither it nor its items change (triggers below). Payments are a
-- table of their own.
CREATE TABLE invoices (
    invoice_id      uuid PRIMARY KEY,
    agreement_id    text NOT NULL REFERENCES agreements,
    billing_month   date NOT NULL CHECK (billing_month = month_first(billing_month)),
    status          text NOT NULL CHECK (status IN ('DRAFT', 'ISSUED')),
    premium_scheme  text NOT NULL,
    workers         int NOT NULL DEFAULT 0,       -- covered in the billing month
    worker_months   int NOT NULL DEFAULT 0,       -- the billing month's worker-months
    adjustment_worker_months int NOT NULL DEFAULT 0, -- net, of earlier months
    current_idr     bigint NOT NULL DEFAULT 0,    -- the billing month
    adjustment_idr  bigint NOT NULL DEFAULT 0,    -- earlier months, net
    total_idr       bigint NOT NULL DEFAULT 0,
    rates_versions  text[] NOT NULL DEFAULT '{}',
    computed_at     timestamptz NOT NULL DEFAULT now(),
    issued_at       timestamptz,
    issued_by       text,
    UNIQUE (agreement_id, billing_month),
    CHECK ((status = 'ISSUED') = (issued_at IS NOT NULL))
);

-- The ledger: one row per worker, program and month billed (+1 worker-month), or reversed
-- (-1). CURRENT items bill the invoice's own month; ADJUSTMENT items settle an earlier
-- month whose owed state changed since it was billed: the billed state reversed, the state
-- owed now billed again ("reverse and rebill").
CREATE TABLE invoice_items (
    item_id         bigserial PRIMARY KEY,
    invoice_id      uuid NOT NULL REFERENCES invoices ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('CURRENT', 'ADJUSTMENT')),
    service_month   date NOT NULL,
    nik             char(16) NOT NULL,
    program         text NOT NULL,
    coverage_id     bigint,
    region_code     text NOT NULL,
    role            text NOT NULL,
    rates_version   text,
    worker_months   int NOT NULL CHECK (worker_months IN (-1, 1)),
    amount_idr      bigint NOT NULL
);
CREATE INDEX invoice_items_invoice ON invoice_items (invoice_id);
CREATE INDEX invoice_items_worker ON invoice_items (nik, service_month);

-- Invoice lines: by kind, service month, kecamatan, role and program.
CREATE VIEW invoice_lines AS
SELECT invoice_id, kind, service_month, region_code, role, program, rates_version,
       sum(worker_months)::int AS worker_months, sum(amount_idr) AS amount_idr
FROM invoice_items
GROUP BY invoice_id, kind, service_month, region_code, role, program, rates_version;

CREATE FUNCTION invoices_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'ISSUED' THEN
        RAISE EXCEPTION 'invoice % (% %): an issued invoice never changes; later changes go on the next invoice',
            OLD.invoice_id, OLD.agreement_id, to_char(OLD.billing_month, 'YYYY-MM')
            USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER invoices_guard BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_guard();

-- Items of an issued invoice are neither added, changed nor removed (checked per
-- statement, over the rows it touched).
CREATE FUNCTION invoice_items_guard_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_items n JOIN invoices v USING (invoice_id) WHERE v.status = 'ISSUED') THEN
        RAISE EXCEPTION 'invoice items: an issued invoice never changes' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION invoice_items_guard_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_items o JOIN invoices v USING (invoice_id) WHERE v.status = 'ISSUED') THEN
        RAISE EXCEPTION 'invoice items: an issued invoice never changes' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER invoice_items_insert AFTER INSERT ON invoice_items
    REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION invoice_items_guard_new();
CREATE TRIGGER invoice_items_update_old AFTER UPDATE ON invoice_items
    REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION invoice_items_guard_old();
CREATE TRIGGER invoice_items_update_new AFTER UPDATE ON invoice_items
    REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION invoice_items_guard_new();
CREATE TRIGGER invoice_items_delete AFTER DELETE ON invoice_items
    REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION invoice_items_guard_old();

-- (Re)compute the invoice of p_agreement for the month of p_month, unless it is issued:
-- CURRENT items from what the month owes now; ADJUSTMENT items for every earlier month of
-- the agreement's period whose owed state (worker, program: kecamatan, role, amount)
-- differs from what issued invoices billed for it. Recomputing a draft from the same
-- coverages gives the same items. Refused when a later month is issued (its adjustments
-- already settled this month's changes). Returns the invoice id and its status; an issued
-- invoice is returned as it is.
CREATE FUNCTION invoice_compute(p_agreement text, p_month date,
                                OUT invoice_id uuid, OUT status text)
LANGUAGE plpgsql SET work_mem = '64MB' SET jit = off AS $$
#variable_conflict use_column
DECLARE
    a agreements%ROWTYPE;
    v_month date := month_first(p_month);
    v_lo date;
    v_later date;
    bad record;
BEGIN
    SELECT * INTO a FROM agreements ag WHERE ag.agreement_id = p_agreement;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agreement %: no such agreement', p_agreement USING ERRCODE = 'no_data_found';
    END IF;
    -- One computation at a time per agreement (the roster consumer's budget check takes
    -- the same lock).
    PERFORM pg_advisory_xact_lock(73104, hashtext(p_agreement));
    IF v_month < month_first(a.period_start) OR v_month > a.period_end THEN
        RAISE EXCEPTION 'agreement %: % is outside its period %..%', p_agreement,
            to_char(v_month, 'YYYY-MM'), a.period_start, a.period_end USING ERRCODE = 'check_violation';
    END IF;
    invoice_id := invoice_uuid(p_agreement, v_month);
    SELECT v.status INTO status FROM invoices v WHERE v.invoice_id = invoice_compute.invoice_id;
    IF status = 'ISSUED' THEN
        RETURN;
    END IF;
    SELECT max(v.billing_month) INTO v_later FROM invoices v
    WHERE v.agreement_id = p_agreement AND v.status = 'ISSUED' AND v.billing_month > v_month;
    IF v_later IS NOT NULL THEN
        RAISE EXCEPTION 'agreement %: % is issued, so % cannot be billed any more: its changes go on the next invoice',
            p_agreement, to_char(v_later, 'YYYY-MM'), to_char(v_month, 'YYYY-MM')
            USING ERRCODE = 'check_violation';
    END IF;
    v_lo := month_first(a.period_start);

    CREATE TEMP TABLE IF NOT EXISTS tmp_owed (
        nik char(16), program text, service_month date, coverage_id bigint, region_code text,
        role text, rates_version text, amount_idr bigint) ON COMMIT DROP;
    TRUNCATE tmp_owed;
    INSERT INTO tmp_owed SELECT * FROM billing_owed(p_agreement, v_lo, v_month);
    SELECT o.program, o.service_month, o.rates_version INTO bad FROM tmp_owed o
    WHERE o.amount_idr IS NULL LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'agreement %: % % of % cannot be priced: no % rate or billing rule in force (covadm premiums sync)',
            p_agreement, a.premium_scheme, bad.program, to_char(bad.service_month, 'YYYY-MM'),
            coalesce(bad.rates_version, 'premium') USING ERRCODE = 'no_data_found';
    END IF;

    INSERT INTO invoices AS v (invoice_id, agreement_id, billing_month, status, premium_scheme)
    VALUES (invoice_compute.invoice_id, p_agreement, v_month, 'DRAFT', a.premium_scheme)
    ON CONFLICT ON CONSTRAINT invoices_pkey DO UPDATE SET computed_at = now(),
        premium_scheme = EXCLUDED.premium_scheme;
    DELETE FROM invoice_items i WHERE i.invoice_id = invoice_compute.invoice_id;

    INSERT INTO invoice_items (invoice_id, kind, service_month, nik, program, coverage_id,
                               region_code, role, rates_version, worker_months, amount_idr)
    SELECT invoice_compute.invoice_id, 'CURRENT', o.service_month, o.nik, o.program, o.coverage_id,
           o.region_code, o.role, o.rates_version, 1, o.amount_idr
    FROM tmp_owed o WHERE o.service_month = v_month;

    -- Earlier months: what issued invoices billed, net, per worker, program, month and
    -- place; a state that still matches what is owed is left alone.
    WITH billed AS (
        SELECT i.nik, i.program, i.service_month, i.region_code, i.role,
               max(i.coverage_id) AS coverage_id, max(i.rates_version) AS rates_version,
               sum(i.worker_months)::int AS wm, sum(i.amount_idr) AS amount
        FROM invoice_items i JOIN invoices v USING (invoice_id)
        WHERE v.agreement_id = p_agreement AND v.status = 'ISSUED' AND i.service_month < v_month
        GROUP BY i.nik, i.program, i.service_month, i.region_code, i.role
        HAVING sum(i.worker_months) <> 0 OR sum(i.amount_idr) <> 0),
    owed AS (SELECT * FROM tmp_owed o WHERE o.service_month < v_month),
    settled AS (
        SELECT b.nik, b.program, b.service_month FROM billed b
        JOIN owed o USING (nik, program, service_month)
        WHERE b.region_code = o.region_code AND b.role = o.role AND b.wm = 1
          AND b.amount = o.amount_idr
          AND NOT EXISTS (SELECT 1 FROM billed b2 WHERE (b2.nik, b2.program, b2.service_month)
                          = (b.nik, b.program, b.service_month)
                          AND (b2.region_code, b2.role) <> (b.region_code, b.role)))
    INSERT INTO invoice_items (invoice_id, kind, service_month, nik, program, coverage_id,
                               region_code, role, rates_version, worker_months, amount_idr)
    SELECT invoice_compute.invoice_id, 'ADJUSTMENT', b.service_month, b.nik, b.program,
           b.coverage_id, b.region_code, b.role, b.rates_version, -b.wm, -b.amount
    FROM billed b
    WHERE b.wm IN (-1, 1) AND NOT EXISTS (SELECT 1 FROM settled s
                      WHERE (s.nik, s.program, s.service_month) = (b.nik, b.program, b.service_month))
    UNION ALL
    SELECT invoice_compute.invoice_id, 'ADJUSTMENT', o.service_month, o.nik, o.program,
           o.coverage_id, o.region_code, o.role, o.rates_version, 1, o.amount_idr
    FROM owed o
    WHERE NOT EXISTS (SELECT 1 FROM settled s
                      WHERE (s.nik, s.program, s.service_month) = (o.nik, o.program, o.service_month));

    UPDATE invoices v SET
        workers = t.workers, worker_months = t.wm, adjustment_worker_months = t.adj_wm,
        current_idr = t.current_idr, adjustment_idr = t.adj_idr,
        total_idr = t.current_idr + t.adj_idr, rates_versions = t.versions, computed_at = now()
    FROM (SELECT count(DISTINCT i.nik) FILTER (WHERE i.kind = 'CURRENT')::int AS workers,
                 count(DISTINCT (i.nik, i.service_month)) FILTER (WHERE i.kind = 'CURRENT')::int AS wm,
                 (count(DISTINCT (i.nik, i.service_month)) FILTER (WHERE i.kind = 'ADJUSTMENT' AND i.worker_months = 1)
                  - count(DISTINCT (i.nik, i.service_month)) FILTER (WHERE i.kind = 'ADJUSTMENT' AND i.worker_months = -1))::int AS adj_wm,
                 coalesce(sum(i.amount_idr) FILTER (WHERE i.kind = 'CURRENT'), 0) AS current_idr,
                 coalesce(sum(i.amount_idr) FILTER (WHERE i.kind = 'ADJUSTMENT'), 0) AS adj_idr,
                 coalesce(array_agg(DISTINCT i.rates_version) FILTER (WHERE i.rates_version IS NOT NULL), '{}') AS versions
          FROM invoice_items i WHERE i.invoice_id = invoice_compute.invoice_id) t
    WHERE v.invoice_id = invoice_compute.invoice_id;
    status := 'DRAFT';
END $$;

-- Issued invoices waiting for (or already given to) billing-relay, which publishes them to
-- billing.invoices keyed by agreement id.
CREATE TABLE invoice_outbox (
    outbox_id       bigserial PRIMARY KEY,
    event_id        uuid NOT NULL UNIQUE,
    invoice_id      uuid NOT NULL REFERENCES invoices,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz
);
CREATE INDEX invoice_outbox_pending ON invoice_outbox (outbox_id) WHERE published_at IS NULL;

CREATE FUNCTION invoice_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('invoice_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER invoice_outbox_notify AFTER INSERT ON invoice_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION invoice_outbox_notify();

-- Compute the invoice once more and issue it, queueing its event, in the caller's
-- transaction. Returns its id and whether this call issued it (false: it already was).
CREATE FUNCTION invoice_issue(p_agreement text, p_month date, p_actor text,
                              OUT invoice_id uuid, OUT issued_now boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
BEGIN
    IF coalesce(p_actor, '') = '' OR length(p_actor) > 64 THEN
        RAISE EXCEPTION 'invoice: the actor must be 1 to 64 characters' USING ERRCODE = 'check_violation';
    END IF;
    SELECT c.invoice_id, c.status INTO invoice_id, v_status FROM invoice_compute(p_agreement, p_month) c;
    issued_now := v_status = 'DRAFT';
    IF issued_now THEN
        UPDATE invoices v SET status = 'ISSUED', issued_at = now(), issued_by = p_actor
        WHERE v.invoice_id = invoice_issue.invoice_id;
        INSERT INTO invoice_outbox (event_id, invoice_id)
        VALUES (invoice_event_uuid(invoice_issue.invoice_id), invoice_issue.invoice_id);
    END IF;
END $$;

-- ---- payments and lapses ----------------------------------------------------------------

CREATE TABLE invoice_payments (
    payment_id      bigserial PRIMARY KEY,
    invoice_id      uuid NOT NULL REFERENCES invoices,
    amount_idr      bigint NOT NULL CHECK (amount_idr > 0),
    paid_on         date NOT NULL,
    reference       text NOT NULL CHECK (length(reference) BETWEEN 1 AND 64),
    actor           text NOT NULL CHECK (length(actor) BETWEEN 1 AND 64),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (invoice_id, reference)        -- the same payment recorded twice is one payment
);

-- Record a payment of an issued invoice (amount NULL: what is still owed). Returns the
-- payment id, or NULL when this reference was recorded before (nothing changes).
CREATE FUNCTION invoice_pay(p_invoice uuid, p_amount bigint, p_paid_on date, p_reference text,
                            p_actor text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v invoices%ROWTYPE;
    v_paid bigint;
    v_id bigint;
BEGIN
    SELECT * INTO v FROM invoices i WHERE i.invoice_id = p_invoice;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'invoice %: no such invoice', p_invoice USING ERRCODE = 'no_data_found';
    END IF;
    IF v.status <> 'ISSUED' THEN
        RAISE EXCEPTION 'invoice % (% %) is not issued: only an issued invoice can be paid',
            p_invoice, v.agreement_id, to_char(v.billing_month, 'YYYY-MM') USING ERRCODE = 'check_violation';
    END IF;
    IF EXISTS (SELECT 1 FROM invoice_payments p WHERE p.invoice_id = p_invoice AND p.reference = p_reference) THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(sum(p.amount_idr), 0) INTO v_paid FROM invoice_payments p WHERE p.invoice_id = p_invoice;
    IF p_amount IS NULL AND v.total_idr - v_paid <= 0 THEN
        RAISE EXCEPTION 'invoice % (% %) owes nothing (total %, paid %)', p_invoice, v.agreement_id,
            to_char(v.billing_month, 'YYYY-MM'), v.total_idr, v_paid USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO invoice_payments (invoice_id, amount_idr, paid_on, reference, actor)
    VALUES (p_invoice, coalesce(p_amount, v.total_idr - v_paid), p_paid_on, p_reference, p_actor)
    RETURNING payment_id INTO v_id;
    RETURN v_id;
END $$;

-- Each issued invoice with what was paid by a date.
CREATE FUNCTION invoice_balances(p_as_of date)
RETURNS TABLE (invoice_id uuid, agreement_id text, billing_month date, total_idr bigint,
               paid_idr bigint, outstanding_idr bigint, paid_in_full boolean)
LANGUAGE sql STABLE AS $$
    SELECT v.invoice_id, v.agreement_id, v.billing_month, v.total_idr, coalesce(p.paid, 0),
           greatest(v.total_idr - coalesce(p.paid, 0), 0), v.total_idr <= coalesce(p.paid, 0)
    FROM invoices v
    LEFT JOIN (SELECT x.invoice_id, sum(x.amount_idr) AS paid FROM invoice_payments x
               WHERE x.paid_on <= p_as_of GROUP BY x.invoice_id) p USING (invoice_id)
    WHERE v.status = 'ISSUED'
$$;

-- Every lapse recorded, for reports and so that a lapse is applied once.
CREATE TABLE coverage_lapses (
    agreement_id    text NOT NULL REFERENCES agreements,
    nik             char(16) NOT NULL,
    lapsed_on       date NOT NULL,            -- last day of protection
    unpaid_from     date NOT NULL,            -- first unpaid month
    unpaid_months   int NOT NULL,
    as_of           date NOT NULL,
    actor           text NOT NULL,
    coverages       int NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agreement_id, nik, lapsed_on)
);

-- The coverage event of a lapse (coverage_outbox.cause_event, coverages.last_event).
CREATE FUNCTION lapse_event_uuid(agreement_id text, nik text, lapsed_on date) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN uuid_generate_v5('7c1f2d7a-3b9e-4c55-8d0a-6e2f1b4c9a37'::uuid,
                        agreement_id || '|' || nik || '|' || lapsed_on::text);

-- Apply the BPU lapse rule as of p_as_of (one agreement, or all with NULL): a month of a
-- worker is unpaid when the issued invoice of that month billed the worker (a CURRENT
-- item), the month ended before p_as_of and the invoice was not paid in full by payments
-- dated on or before p_as_of. When more than lapse_after_unpaid_months consecutive months
-- of a worker are unpaid, the worker's coverages under that agreement in force after the
-- month before the first of them lapse: status LAPSED, lapsed_on the last day of that
-- month, valid_to cut there for terms that had started; each worker is queued on
-- coverage_outbox. Returns what it closed now; a lapse already recorded is not repeated.
CREATE FUNCTION billing_lapse(p_as_of date, p_agreement text, p_actor text)
RETURNS TABLE (agreement_id text, nik char(16), lapsed_on date, unpaid_from date,
               unpaid_months int, coverages_closed int)
LANGUAGE plpgsql SET jit = off AS $$
#variable_conflict use_column
BEGIN
    IF coalesce(p_actor, '') = '' OR length(p_actor) > 64 THEN
        RAISE EXCEPTION 'lapse: the actor must be 1 to 64 characters' USING ERRCODE = 'check_violation';
    END IF;
    RETURN QUERY
    WITH unpaid AS (
        SELECT DISTINCT b.agreement_id, i.nik, b.billing_month
        FROM invoice_balances(p_as_of) b
        JOIN agreements a ON a.agreement_id = b.agreement_id AND a.premium_scheme = 'BPU'
        JOIN invoice_items i ON i.invoice_id = b.invoice_id AND i.kind = 'CURRENT'
        WHERE NOT b.paid_in_full AND month_last(b.billing_month) < p_as_of
          AND (p_agreement IS NULL OR b.agreement_id = p_agreement)),
    runs AS (
        SELECT u.agreement_id, u.nik, min(u.billing_month) AS first_month, count(*)::int AS months
        FROM (SELECT u.*, (extract(year FROM u.billing_month) * 12 + extract(month FROM u.billing_month))::int
                          - row_number() OVER (PARTITION BY u.agreement_id, u.nik ORDER BY u.billing_month)::int AS grp
              FROM unpaid u) u
        GROUP BY u.agreement_id, u.nik, u.grp),
    due AS (
        SELECT DISTINCT ON (r.agreement_id, r.nik) r.agreement_id, r.nik, r.first_month - 1 AS lapse_date,
               r.first_month, r.months
        FROM runs r
        JOIN billing_rule_sets br ON br.scheme = 'BPU' AND br.effective_from <= month_last(r.first_month)
             AND (br.next_from IS NULL OR month_last(r.first_month) < br.next_from)
        WHERE r.months > br.lapse_after_months
        ORDER BY r.agreement_id, r.nik, r.first_month),
    closed AS (
        UPDATE coverages c SET status = 'LAPSED', lapsed_on = d.lapse_date,
            valid_to = CASE WHEN c.valid_from <= d.lapse_date THEN d.lapse_date ELSE c.valid_to END,
            last_event = lapse_event_uuid(d.agreement_id, d.nik, d.lapse_date), updated_at = now()
        FROM due d
        WHERE c.nik = d.nik AND c.agreement_id = d.agreement_id
          AND c.status IN ('ACTIVE', 'TERMINATED') AND c.valid_to > d.lapse_date
        RETURNING c.agreement_id, c.nik),
    counted AS (
        SELECT d.agreement_id, d.nik, d.lapse_date, d.first_month, d.months, count(*)::int AS n
        FROM due d JOIN closed c ON c.agreement_id = d.agreement_id AND c.nik = d.nik
        GROUP BY d.agreement_id, d.nik, d.lapse_date, d.first_month, d.months),
    recorded AS (
        INSERT INTO coverage_lapses (agreement_id, nik, lapsed_on, unpaid_from, unpaid_months,
                                     as_of, actor, coverages)
        SELECT k.agreement_id, k.nik, k.lapse_date, k.first_month, k.months, p_as_of, p_actor, k.n
        FROM counted k
        ON CONFLICT ON CONSTRAINT coverage_lapses_pkey DO NOTHING),
    queued AS (
        INSERT INTO coverage_outbox (nik, cause_event)
        SELECT k.nik, lapse_event_uuid(k.agreement_id, k.nik, k.lapse_date) FROM counted k
        ORDER BY k.nik)
    SELECT k.agreement_id, k.nik, k.lapse_date, k.first_month, k.months, k.n
    FROM counted k ORDER BY k.agreement_id, k.nik;
END $$;

-- ---- budgets ----------------------------------------------------------------------------

-- What an agreement has committed: issued invoices, adjustments the next invoice will
-- carry for months already billed, and the premiums of every term to its end for months not
-- billed yet (committed = what every month of every term owes). unpriced_months: worker
-- months that cannot be priced (no rate or rule loaded), which the amounts leave out.
CREATE FUNCTION agreement_commitment(p_agreement text)
RETURNS TABLE (issued_idr bigint, pending_idr bigint, projected_idr bigint,
               committed_idr bigint, last_issued date, unpriced_months bigint)
-- plpgsql, so that each call is planned for its agreement (an inlined SQL function called
-- with a column of another table plans far worse).
LANGUAGE plpgsql STABLE SET work_mem = '64MB' SET jit = off AS $$
#variable_conflict use_column
DECLARE
    v_lo date;
    v_hi date;
BEGIN
    SELECT min(t.valid_from), max(t.covered_to) INTO v_lo, v_hi
    FROM coverage_terms t WHERE t.agreement_id = p_agreement;
    RETURN QUERY
    WITH owed AS MATERIALIZED (
        SELECT o.service_month, o.amount_idr
        FROM billing_owed(p_agreement, v_lo, v_hi) o WHERE v_lo IS NOT NULL),
    iss AS (
        SELECT coalesce(sum(v.total_idr), 0)::bigint AS issued, max(v.billing_month) AS last_issued
        FROM invoices v WHERE v.agreement_id = p_agreement AND v.status = 'ISSUED')
    SELECT iss.issued,
           coalesce((SELECT sum(o.amount_idr) FROM owed o WHERE o.service_month <= iss.last_issued), 0)::bigint - iss.issued,
           coalesce((SELECT sum(o.amount_idr) FROM owed o
                     WHERE iss.last_issued IS NULL OR o.service_month > iss.last_issued), 0)::bigint,
           coalesce((SELECT sum(o.amount_idr) FROM owed o), 0)::bigint,
           iss.last_issued,
           (SELECT count(*) FROM owed o WHERE o.amount_idr IS NULL)
    FROM iss;
END $$;

-- The budget rule's running account of what each budgeted agreement has committed, so that
-- the roster consumer need not price a whole agreement in every batch: set exactly from
-- agreement_commitment() when missing or older than the consumer's refresh age (and by
-- covadm agreements status), then raised by the premiums of every enrolment the consumer
-- applies. Terminations between two refreshes leave it high (the guard errs on the safe
-- side); callers hold the agreement's advisory lock (73104, hashtext(agreement_id)).
CREATE TABLE budget_ledger (
    agreement_id    text PRIMARY KEY REFERENCES agreements ON DELETE CASCADE,
    committed_idr   bigint NOT NULL,
    unpriced_months bigint NOT NULL,
    refreshed_at    timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- The ledger row of p_agreement, computed exactly first when it is missing or was last
-- computed more than p_max_age ago. The caller holds the agreement's advisory lock.
CREATE FUNCTION budget_ledger_refresh(p_agreement text, p_max_age interval)
RETURNS budget_ledger LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    r budget_ledger%ROWTYPE;
BEGIN
    SELECT * INTO r FROM budget_ledger l WHERE l.agreement_id = p_agreement;
    IF FOUND AND r.refreshed_at >= now() - p_max_age THEN
        RETURN r;
    END IF;
    INSERT INTO budget_ledger AS l (agreement_id, committed_idr, unpriced_months, refreshed_at, updated_at)
    SELECT p_agreement, k.committed_idr, k.unpriced_months, now(), now()
    FROM agreement_commitment(p_agreement) k
    ON CONFLICT (agreement_id) DO UPDATE SET committed_idr = EXCLUDED.committed_idr,
        unpriced_months = EXCLUDED.unpriced_months, refreshed_at = now(), updated_at = now()
    RETURNING * INTO r;
    RETURN r;
END $$;

-- Enrolments the roster consumer applied although they exceed their agreement's budget
-- (budget_policy warn); with reject they are dead letters instead.
CREATE TABLE budget_warnings (
    warning_id      bigserial PRIMARY KEY,
    agreement_id    text NOT NULL REFERENCES agreements,
    event_id        uuid NOT NULL UNIQUE,
    nik             char(16) NOT NULL,
    cost_idr        bigint,                   -- the enrolment's premiums; NULL: not priceable
    committed_idr   bigint NOT NULL,          -- before it (with earlier ones of its batch)
    budget_idr      bigint NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);

-- ---- certificate stages -----------------------------------------------------------------

-- A stage: the enrolments of one agreement handed over together, by the start of their
-- term (e.g. stage 1 PPK and PPS from January 2023, stage 3 KPPS in January 2024). Stages of
-- an agreement do not overlap, so an enrolment is in at most one.
CREATE TABLE stages (
    agreement_id    text NOT NULL REFERENCES agreements,
    stage_no        int NOT NULL CHECK (stage_no > 0),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    term_from       date NOT NULL,
    term_to         date NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agreement_id, stage_no),
    CHECK (term_from <= term_to),
    CONSTRAINT stages_no_overlap EXCLUDE USING gist (agreement_id WITH =,
        daterange(term_from, term_to, '[]') WITH &&)
);

-- One row per enrolment (enrol event) of a stage, not cancelled: what its certificate says.
CREATE VIEW stage_enrolments AS
SELECT s.agreement_id, s.stage_no, c.enroll_event, c.nik, w.full_name, w.kpj,
       min(c.role) AS role, min(c.institution) AS institution, min(c.region_code) AS region_code,
       min(c.tps) AS tps,
       array_agg(c.program ORDER BY array_position(ARRAY['JKK', 'JKM', 'JHT'], c.program)) AS programs,
       min(c.valid_from) AS valid_from, max(c.valid_to) AS valid_to,
       bool_or(c.status = 'ACTIVE') AS active
FROM stages s
JOIN coverages c ON c.agreement_id = s.agreement_id AND c.valid_from BETWEEN s.term_from AND s.term_to
     AND c.status <> 'CANCELLED'
JOIN workers w ON w.nik = c.nik
GROUP BY s.agreement_id, s.stage_no, c.enroll_event, c.nik, w.full_name, w.kpj;

-- ---- grants -----------------------------------------------------------------------------

-- For the per-service roles of deploy/sql/011_service_roles.sql (a database without them,
-- migrated by hand, runs everything as the owner). billing_relay is new here.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roster_consumer') THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'billing_relay') THEN
        CREATE ROLE billing_relay LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
    GRANT USAGE ON SCHEMA public TO billing_relay;
    -- The roster consumer's budget rule: what agreement_commitment() and
    -- premium_term_months() read, and the warnings it records.
    GRANT SELECT ON premium_rates, billing_rules, premium_cells, billing_rule_sets,
        coverage_terms, invoices, invoice_items TO roster_consumer;
    GRANT SELECT, INSERT ON budget_warnings TO roster_consumer;
    GRANT SELECT, INSERT, UPDATE ON budget_ledger TO roster_consumer;
    GRANT USAGE ON SEQUENCE budget_warnings_warning_id_seq TO roster_consumer;
    -- The incident consumer reads coverages (lapsed_on included) as before.
    -- billing-relay: its outbox and the invoices it points to.
    GRANT SELECT ON invoice_outbox, invoices, invoice_items, invoice_lines, premium_rates
        TO billing_relay;
    GRANT UPDATE (published_at) ON invoice_outbox TO billing_relay;
    -- The coverage relay reads coverages as before (status LAPSED included).
    -- covadm: the premium tables (synced from the files), invoices and their ledger,
    -- payments, lapses (which close coverages and queue coverage_outbox), stages, reports.
    GRANT SELECT, INSERT, UPDATE, DELETE ON premium_rates, billing_rules, stages TO covadm;
    GRANT SELECT, INSERT, DELETE ON premium_cells, billing_rule_sets TO covadm;
    GRANT SELECT, INSERT, UPDATE ON budget_ledger TO covadm;
    GRANT SELECT ON coverage_terms, invoice_lines, stage_enrolments, budget_warnings,
        invoice_outbox TO covadm;
    GRANT SELECT, INSERT, UPDATE, DELETE ON invoices, invoice_items TO covadm;
    GRANT SELECT, INSERT ON invoice_payments, coverage_lapses, invoice_outbox TO covadm;
    GRANT UPDATE (status, lapsed_on, valid_to, last_event, updated_at) ON coverages TO covadm;
    GRANT INSERT ON coverage_outbox TO covadm;
    GRANT USAGE ON SEQUENCE invoice_items_item_id_seq, invoice_payments_payment_id_seq,
        invoice_outbox_outbox_id_seq, coverage_outbox_outbox_id_seq TO covadm;
END $$;
