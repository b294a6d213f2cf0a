-- 010_hot_path_indexes: every index an enrolment writes is one a query reads.
--
-- Each coverage row the roster consumer inserts updates every index of coverages; each
-- costs about a tenth of that INSERT. Who reads them (the consumers, coverage-relay,
-- claims, covadm, the analytics views):
--   coverages_pkey (coverage_id)     kept: ascending, so cheap to extend; orders a worker's
--                                    rows for the incident consumer, the relay and claims
--   coverages_nik (nik, program, valid_from)
--                                    kept: every roster rule and change, the incident
--                                    consumer, coverage-relay, claims, 009's checks
--   coverages_agreement (agreement_id)
--                                    dropped: no query filters or joins coverages on
--                                    agreement_id; only the foreign key's delete check did,
--                                    and deleting an agreement (by hand, if ever) may scan
--   coverages_region (region_code)   now BRIN: only `covadm summary --regency` reads it
--                                    (starts_with, a range scan under the C collation), and
--                                    rosters arrive region by region, so block ranges hold
--                                    few regions; a few kB instead of a B-tree written per
--                                    row, and a report on one regency still skips most of
--                                    the table (ranges filled since the last vacuum are
--                                    read whole until autovacuum summarises them; asking
--                                    for that per range, autosummarize, overflows its queue
--                                    on a bulk load)
-- workers and applied_events have their primary keys only, which every batch probes.
--
-- Production: on a loaded table, build the new index first with CREATE INDEX CONCURRENTLY
-- (a BRIN build is one pass over coverages), then drop the old ones.

DROP INDEX coverages_agreement;
DROP INDEX coverages_region;
CREATE INDEX coverages_region ON coverages USING brin (region_code) WITH (pages_per_range = 32);
