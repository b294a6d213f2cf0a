#!/usr/bin/env bash
# One NIK enrolled by two transactions at once (two data centers, or two consumers): the
# roster consumer's rules look while the other transaction's worker row is not committed
# yet, so they find no worker and the consumer inserts one. That INSERT waits for the
# other transaction and fails with 23505 once it commits. The consumer then tries the same
# record again, whose rules now see the worker: the enrolment is applied over it (the
# worker row takes the event's data, the coverages are written), nothing is
# dead-lettered, and the retry is logged.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
"$BIN/gen_roster" --seed 14 --serial-base 8300 --regency 73.13 --scale-events 1 --output one.csv 2>/dev/null
assert_eq "rows in the roster" 1 "$(($(wc -l <one.csv) - 1))"
read -r change nik name < <(awk -F, 'NR == 2 { print $1, $2, $3 }' one.csv)
assert_eq "the row's change" ENROLL "$change"
base_dead=$(q "SELECT count(*) FROM dead_letters")

# The other transaction: the worker's row, committed only once another session waits for it.
psql -X -Atq -v ON_ERROR_STOP=1 >holder.log 2>&1 <<SQL &
BEGIN;
INSERT INTO workers (nik, full_name, birth_date, gender, province, created_event, updated_event)
VALUES ('$nik', 'Nama Lain', '1990-01-01', 'L', 73, gen_random_uuid(), gen_random_uuid());
DO \$\$ BEGIN
    FOR i IN 1..900 LOOP
        EXIT WHEN EXISTS (SELECT FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted);
        PERFORM pg_sleep(0.1);
    END LOOP;
END \$\$;
COMMIT;
SQL
holder=$!
holding() { [[ $(q "SELECT count(*) FROM workers WHERE nik = '$nik'") == 0 ]] &&
    [[ $(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_locks%' AND state = 'active'
            AND pid <> pg_backend_pid()") -ge 1 ]]; }
wait_until 30 holding || fail "the other transaction did not start: $(cat holder.log)"

"$BIN/roster-producer" --source dc-sulsel --progress never one.csv 2>producer.log ||
    fail "producer: $(tail -n 3 producer.log)"
start_bg consumer "$BIN/roster-consumer" --log.level info
applied() { [[ $(q "SELECT count(*) FROM coverages WHERE nik = '$nik'") -ge 1 ]]; }
wait_until 90 applied || fail "the enrolment was not applied: $(tail -n 5 "$(bg_log consumer)")"
wait "$holder" || fail "the other transaction failed: $(cat holder.log)"

grep -q 'msg="unique violation; trying the record again"' "$(bg_log consumer)" ||
    fail "no retry logged: $(tail -n 5 "$(bg_log consumer)")"
assert_eq "the event's record" APPLIED "$(q "SELECT a.outcome FROM applied_events a
    WHERE a.event_id = (SELECT enroll_event FROM coverages WHERE nik = '$nik' LIMIT 1)")"
assert_eq "the worker's name, from the event" "$name" "$(q "SELECT full_name FROM workers WHERE nik = '$nik'")"
assert_eq "dead letters" "$base_dead" "$(q "SELECT count(*) FROM dead_letters")"
status=0
stop_bg consumer TERM || status=$?
assert_eq "exit status on SIGTERM" 0 "$status"
