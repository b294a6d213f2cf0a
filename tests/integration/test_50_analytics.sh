#!/usr/bin/env bash
# The analytics role reads the pseudonymised and aggregate views, and nothing else: no raw
# NIK, name or phone in what it can see, no base table, no writes.
. "$(dirname "$0")/lib.sh"

visible=$(q "SELECT count(*) FROM coverages")
assert_eq "analytics sees every coverage, pseudonymised" "$visible" \
    "$(q_as analytics "SELECT count(*) FROM analytics_coverages")"
[ "$visible" -gt 0 ] || fail "no coverages to look at: run after the roster tests"
for t in workers coverages incidents claims dead_letters pseudonym_key incident_reports; do
    if q_as analytics "SELECT 1 FROM $t LIMIT 1" >/dev/null 2>&1; then
        fail "analytics can read table $t"
    fi
done
if q_as analytics "SELECT key FROM pseudonym_key" >/dev/null 2>&1; then
    fail "analytics can read the pseudonym key"
fi
if q_as analytics "CREATE TABLE x (a int)" >/dev/null 2>&1; then
    fail "analytics can write"
fi
# No column of any view it may read holds a NIK-shaped value, a worker's name or phone
# (pseudonyms and claim keys are hex, which may hold digit runs by chance: checked apart).
for v in analytics_coverages analytics_coverage_summary analytics_incidents analytics_claims \
    analytics_claims_summary; do
    hits=$(q_as analytics "SELECT count(*) FROM $v t
        WHERE (to_jsonb(t) - 'worker' - 'claim_key')::text ~ '(^|[^0-9])[0-9]{16}([^0-9]|$)'")
    assert_eq "NIK-shaped values in $v" 0 "$hits"
done
assert_eq "pseudonyms that are not 64 hex digits" 0 \
    "$(q_as analytics "SELECT count(*) FROM analytics_coverages WHERE worker !~ '^[0-9a-f]{64}$'")"
name=$(q "SELECT full_name FROM workers LIMIT 1")
assert_eq "a worker's name in analytics_coverages" 0 \
    "$(q_as analytics "SELECT count(*) FROM analytics_coverages t WHERE strpos(t::text, \$\$${name}\$\$) > 0")"
assert_eq "one pseudonym per worker" "$(q "SELECT count(DISTINCT nik) FROM coverages")" \
    "$(q_as analytics "SELECT count(DISTINCT worker) FROM analytics_coverages")"
