-- 005_analytics: the read-only role `analytics` and what it may see: aggregate views and
-- pseudonymised rows, never a raw NIK, name or phone number (contracts.md).

CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- The key behind the pseudonyms. Only the owner reads it; a pseudonym is an HMAC of the NIK,
-- so it cannot be reversed by hashing all possible NIKs without the key.
CREATE TABLE pseudonym_key (
    id      int PRIMARY KEY CHECK (id = 1),
    key     bytea NOT NULL
);
INSERT INTO pseudonym_key VALUES (1, gen_random_bytes(32));
REVOKE ALL ON pseudonym_key FROM PUBLIC;

-- A view reads pseudonym_key with its owner's rights, so analysts get pseudonyms without
-- the key; a function would not do: whoever may use it in a view may call it directly, and
-- so compute the pseudonym of any NIK they guess.
CREATE VIEW analytics_coverages AS
SELECT encode(hmac(convert_to(c.nik, 'UTF8'), k.key, 'sha256'), 'hex') AS worker, w.gender,
       extract(year FROM age(c.valid_from, w.birth_date))::int AS age_at_start,
       c.program, c.institution, c.role, c.region_code, c.tps, c.agreement_id,
       c.monthly_wage, c.valid_from, c.valid_to, c.status
FROM coverages c JOIN workers w USING (nik) CROSS JOIN pseudonym_key k;

CREATE VIEW analytics_coverage_summary AS
SELECT left(region_code, 6) AS kecamatan, role, program, status,
       count(DISTINCT nik) AS workers, min(valid_from) AS first_day, max(valid_to) AS last_day
FROM coverages GROUP BY 1, 2, 3, 4;

CREATE VIEW analytics_incidents AS
SELECT encode(hmac(convert_to(i.nik, 'UTF8'), k.key, 'sha256'), 'hex') AS worker, i.type, i.circumstance, i.cause, i.severity,
       i.local_date, i.region_code, i.late_report, i.outcome,
       split_part(i.outcome_reason, ':', 1) AS outcome_reason
FROM incidents i CROSS JOIN pseudonym_key k;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analytics') THEN
        -- Login without a password works only where pg_hba trusts local connections (the
        -- local stack); production sets a password or certificate outside the migrations.
        CREATE ROLE analytics LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END $$;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM analytics;
GRANT USAGE ON SCHEMA public TO analytics;
GRANT SELECT ON analytics_coverages, analytics_coverage_summary, analytics_incidents,
                analytics_claims, analytics_claims_summary TO analytics;
ALTER ROLE analytics SET default_transaction_read_only = on;
