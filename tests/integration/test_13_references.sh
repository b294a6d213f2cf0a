#!/usr/bin/env bash
# Coverages reference workers and agreements without per-row foreign keys
# (deploy/sql/009): an orphan coverage is refused with SQLSTATE 23503, in a statement of
# many rows too; a worker or agreement that coverages reference cannot be deleted, re-keyed
# or truncated away; the normal path works; and a deletion racing an uncommitted insert
# (either way round) waits for it and is refused, instead of leaving an orphan.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

# NIKs of province 99 and an agreement of this test only.
W1=9913000000000001 W2=9913000000000002 W3=9913000000000003 W4=9913000000000004
AG=PKS-ITEST-REFERENCES AG2=PKS-ITEST-REFERENCES-2

# sqlstate "sql" [psql args...]: run sql; print the SQLSTATE it failed with, or "ok".
sqlstate() {
    local sql=$1 out
    shift
    if out=$(psql -X -Atq -v ON_ERROR_STOP=1 -v VERBOSITY=verbose "$@" -c "$sql" 2>&1); then
        echo ok
    else
        sed -n 's/^\(psql:[^ ]* \)\{0,1\}ERROR:  \([0-9A-Z]\{5\}\): .*/\2/p' <<<"$out" | head -n 1
    fi
}
# coverage nik agreement [program]: the VALUES row of one coverage.
coverage() {
    printf "('%s', '%s', 'KPU', 'KPPS', '7313012001', '%s', 3000000, '2024-01-25', '2024-02-25', 'ACTIVE', gen_random_uuid(), gen_random_uuid())" \
        "$1" "${3:-JKK}" "$2"
}
INSERT_COVERAGE="INSERT INTO coverages (nik, program, institution, role, region_code, agreement_id,
    monthly_wage, valid_from, valid_to, status, enroll_event, last_event) VALUES"
count() { q "SELECT count(*) FROM coverages WHERE nik IN ('$W1', '$W2', '$W3', '$W4')"; }

cleanup() {
    q "DELETE FROM coverages WHERE nik IN ('$W1', '$W2', '$W3', '$W4')" >/dev/null
    q "DELETE FROM workers WHERE nik IN ('$W1', '$W2', '$W3', '$W4')" >/dev/null
    q "DELETE FROM agreements WHERE agreement_id IN ('$AG', '$AG2')" >/dev/null
}
cleanup
on_exit cleanup

q "INSERT INTO agreements (agreement_id, name, institution, counterparty, bpjs_branch, region_scope,
       programs, period_start, period_end, funding_source)
   VALUES ('$AG', 'itest', 'KPU', 'KPU Wajo', 'Sengkang', '73', '{JKK,JKM}', '2024-01-01', '2024-12-31', 'APBD'),
          ('$AG2', 'itest 2', 'KPU', 'KPU Wajo', 'Sengkang', '73', '{JKK,JKM}', '2024-01-01', '2024-12-31', 'APBD')" >/dev/null
q "INSERT INTO workers (nik, full_name, birth_date, gender, province, created_event, updated_event)
   SELECT n, 'Itest', '1990-01-01', 'L', 73, gen_random_uuid(), gen_random_uuid()
   FROM unnest(ARRAY['$W1', '$W2', '$W3', '$W4']) AS n" >/dev/null

# --- the normal path
assert_eq "coverages of known workers, many rows in one statement" ok \
    "$(sqlstate "$INSERT_COVERAGE $(coverage $W1 $AG), $(coverage $W1 $AG JKM), $(coverage $W2 $AG)")"
assert_eq "coverages inserted" 3 "$(count)"
assert_eq "a coverage's wage and status change" ok \
    "$(sqlstate "UPDATE coverages SET monthly_wage = 3500000, status = 'TERMINATED' WHERE nik = '$W2'")"
assert_eq "a coverage moved to another known worker and agreement" ok \
    "$(sqlstate "UPDATE coverages SET nik = '$W3', agreement_id = '$AG2' WHERE nik = '$W2'")"
assert_eq "an unreferenced worker is deleted" ok "$(sqlstate "DELETE FROM workers WHERE nik = '$W2'")"
assert_eq "an unreferenced worker is re-keyed" ok \
    "$(sqlstate "UPDATE workers SET nik = '$W2' WHERE nik = '$W4'")"
assert_eq "workers' other columns change" ok \
    "$(sqlstate "UPDATE workers SET phone = '+628111', updated_at = now() WHERE nik IN ('$W1', '$W3')")"

# --- orphans are refused
assert_eq "coverage of an unknown NIK" 23503 "$(sqlstate "$INSERT_COVERAGE $(coverage $W4 $AG)")"
assert_eq "coverage under an unknown agreement" 23503 \
    "$(sqlstate "$INSERT_COVERAGE $(coverage $W1 PKS-ITEST-NONE JHT)")"
assert_eq "one orphan among good rows" 23503 \
    "$(sqlstate "$INSERT_COVERAGE $(coverage $W1 $AG JHT), $(coverage $W4 $AG), $(coverage $W3 $AG)")"
assert_eq "coverages after the refused inserts" 3 "$(count)"
msg=$(psql -X -Atq -c "$INSERT_COVERAGE $(coverage $W4 $AG)" 2>&1 || true)
assert_match "the error names the constraint" 'coverages_nik_fkey' "$msg"
assert_match "the error masks the NIK" '9913\*{8}0004' "$msg"
assert_eq "a coverage moved to an unknown NIK" 23503 \
    "$(sqlstate "UPDATE coverages SET nik = '$W4' WHERE nik = '$W3'")"
assert_eq "a coverage moved to an unknown agreement" 23503 \
    "$(sqlstate "UPDATE coverages SET agreement_id = 'PKS-ITEST-NONE' WHERE nik = '$W3'")"

# --- referenced keys stay
assert_eq "deleting a referenced worker" 23503 "$(sqlstate "DELETE FROM workers WHERE nik = '$W1'")"
assert_eq "deleting referenced and unreferenced workers at once" 23503 \
    "$(sqlstate "DELETE FROM workers WHERE nik IN ('$W1', '$W2')")"
assert_eq "re-keying a referenced worker" 23503 \
    "$(sqlstate "UPDATE workers SET nik = '$W4' WHERE nik = '$W1'")"
assert_eq "deleting a referenced agreement" 23503 \
    "$(sqlstate "DELETE FROM agreements WHERE agreement_id = '$AG'")"
assert_eq "re-keying a referenced agreement" 23503 \
    "$(sqlstate "UPDATE agreements SET agreement_id = 'PKS-ITEST-RENAMED' WHERE agreement_id = '$AG2'")"
assert_eq "workers left" 3 "$(q "SELECT count(*) FROM workers WHERE nik IN ('$W1', '$W2', '$W3', '$W4')")"
assert_eq "truncating workers alone" 0A000 "$(sqlstate "BEGIN; TRUNCATE workers; ROLLBACK")"
assert_eq "truncating agreements alone" 0A000 "$(sqlstate "BEGIN; TRUNCATE agreements; ROLLBACK")"
assert_eq "truncating them with coverages" ok \
    "$(sqlstate "BEGIN; TRUNCATE workers, agreements, coverages CASCADE; ROLLBACK")"
assert_eq "deleting a worker at REPEATABLE READ" 0A000 \
    "$(sqlstate "BEGIN ISOLATION LEVEL REPEATABLE READ; DELETE FROM workers WHERE nik = '$W2'; COMMIT")"
assert_eq "agreement upsert of covadm (no key change)" ok \
    "$(sqlstate "INSERT INTO agreements (agreement_id, name, institution, counterparty, bpjs_branch,
        region_scope, programs, period_start, period_end, funding_source)
        SELECT agreement_id, 'itest renamed', institution, counterparty, bpjs_branch, region_scope,
               programs, period_start, period_end, funding_source FROM agreements WHERE agreement_id = '$AG'
        ON CONFLICT (agreement_id) DO UPDATE SET name = EXCLUDED.name")"

# --- races: the remover waits for the writer of coverages, and the other way round.
# until_blocked 'SQL': a statement that returns once another backend running a statement
# that starts with SQL waits on a lock (at most 30 s), so a transaction holds until then.
until_blocked() {
    printf '%s' "DO \$\$ BEGIN FOR i IN 1..300 LOOP PERFORM pg_stat_clear_snapshot();
        EXIT WHEN EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                          AND starts_with(query, '$1')); PERFORM pg_sleep(0.1); END LOOP; END \$\$"
}
# An uncommitted coverage of W2: the deletion of its worker waits for it, then is refused.
start_bg inserter psql -X -Atq -v ON_ERROR_STOP=1 -c "BEGIN" \
    -c "$INSERT_COVERAGE $(coverage $W2 $AG)" -c "SELECT 'inserted'" \
    -c "$(until_blocked "DELETE FROM workers")" -c "COMMIT"
inserter=$BG_PID
wait_until 20 grep -q inserted "$(bg_log inserter)" || fail "the insert did not run: $(cat "$(bg_log inserter)")"
start_bg deleter psql -X -Atq -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
    -c "DELETE FROM workers WHERE nik = '$W2'"
deleter=$BG_PID
wait "$inserter" || fail "the insert failed: $(cat "$(bg_log inserter)")"
wait "$deleter" && fail "the deletion of a worker whose coverage was being inserted succeeded"
assert_match "deletion racing an insert" 'ERROR:  23503' "$(cat "$(bg_log deleter)")"
assert_eq "the worker and its new coverage" "1|1" \
    "$(q "SELECT (SELECT count(*) FROM workers WHERE nik = '$W2'), count(*) FROM coverages WHERE nik = '$W2'")"

# An uncommitted deletion of W4's worker (re-created: W4 was re-keyed to W2 above): a
# coverage of W4 waits for it, then is refused.
q "INSERT INTO workers (nik, full_name, birth_date, gender, province, created_event, updated_event)
   VALUES ('$W4', 'Itest', '1990-01-01', 'L', 73, gen_random_uuid(), gen_random_uuid())" >/dev/null
start_bg remover psql -X -Atq -v ON_ERROR_STOP=1 -c "BEGIN" -c "DELETE FROM workers WHERE nik = '$W4'" \
    -c "SELECT 'deleted'" -c "$(until_blocked "INSERT INTO coverages")" -c "COMMIT"
remover=$BG_PID
wait_until 20 grep -q deleted "$(bg_log remover)" || fail "the deletion did not run: $(cat "$(bg_log remover)")"
start_bg writer psql -X -Atq -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "$INSERT_COVERAGE $(coverage $W4 $AG)"
writer=$BG_PID
wait "$remover" || fail "the deletion failed: $(cat "$(bg_log remover)")"
wait "$writer" && fail "a coverage of a worker being deleted was inserted"
assert_match "insert racing a deletion" 'ERROR:  23503' "$(cat "$(bg_log writer)")"
assert_eq "no coverage of the deleted worker" 0 "$(q "SELECT count(*) FROM coverages WHERE nik = '$W4'")"

# --- what the roster consumer relies on is in place, and the foreign keys are gone
assert_eq "statement-level reference check" "coverages_references" \
    "$(q "SELECT tgname FROM pg_trigger WHERE tgrelid = 'coverages'::regclass AND tgname = 'coverages_references'")"
assert_eq "foreign keys of coverages" 0 \
    "$(q "SELECT count(*) FROM pg_constraint WHERE conrelid = 'coverages'::regclass AND contype = 'f'")"
