-- 014_lean_roster_writes: the same rules, checked and indexed for less per row.
--
-- A first load inserts one workers row and two or three coverages rows per event, so
-- what each of those rows costs is most of a national drain (issue 8).
--
-- The digit checks. Each regular expression of a CHECK is run on every row inserted:
-- about 1.3 µs for a region code and 1.8 µs for a NIK. A length and "no character that
-- is not a digit" says the same thing for 0.5 and 0.4 µs. The constraints keep their
-- names, so a violation reads as before.
--   workers.nik          16 digits            (length of char(16) ignores its padding)
--   workers.kpj          11 digits, or null
--   coverages.region_code 6 or 10 digits
--
-- The index coverages_nik. Every query that reads it gives the NIK: the roster rules and
-- changes, the incident consumer, coverage-relay, claims, covadm and 009's checks, and a
-- worker has a few rows (one per program and term), so program and valid_from in the key
-- narrowed nothing worth its width. On nik alone the B-tree deduplicates a worker's rows
-- into one entry: about 40% smaller at the same row count, so more of it stays cached
-- during a national load, and each insert writes a shorter tuple.
--
-- Production: on a loaded table, create the new index under another name with CREATE
-- INDEX CONCURRENTLY, drop the old one, and rename; add the checks NOT VALID, then
-- VALIDATE CONSTRAINT, which does not block writes.

ALTER TABLE workers
    DROP CONSTRAINT workers_nik_check,
    ADD CONSTRAINT workers_nik_check CHECK (length(nik) = 16 AND nik !~ '[^0-9]'),
    DROP CONSTRAINT workers_kpj_check,
    ADD CONSTRAINT workers_kpj_check CHECK (length(kpj) = 11 AND kpj !~ '[^0-9]');

ALTER TABLE coverages
    DROP CONSTRAINT coverages_region_code_check,
    ADD CONSTRAINT coverages_region_code_check
        CHECK (octet_length(region_code) IN (6, 10) AND region_code !~ '[^0-9]');

DROP INDEX coverages_nik;
CREATE INDEX coverages_nik ON coverages (nik);
