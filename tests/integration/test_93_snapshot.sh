#!/usr/bin/env bash
# coverage-relay --snapshot rebuilds coverage.changes while the incremental relay runs: 30
# workers of this test (NIK serials after 7300) are published by a relay that keeps
# running; a snapshot queues every worker with coverages again while three of them are
# terminated. The running relay publishes it all; then every worker of the topic has one
# record more, an unchanged worker's latest record carries the event id and event time it
# was first published with, a terminated one its new state, and each latest state equals
# PostgreSQL's.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/gen_roster" --seed 73 --serial-base 7300 --regency 73.13 --scale-events 30 --output roster.csv 2>/dev/null
awk -F, 'NR > 1 { print $2 }' roster.csv | sort -u >niks.txt
run() { "$@" 2>"$(basename "$1").log" || fail "$(basename "$1") failed: $(tail -n 5 "$(basename "$1").log")"; }
run "$BIN/roster-producer" --source dc-sulsel --progress never roster.csv
run timeout 120 "$BIN/roster-consumer" --exit.when.drained

start_bg relay "$BIN/coverage-relay" --poll.interval.ms 200 --batch.size 5000
pending() { q "SELECT count(*) FROM coverage_outbox WHERE published_at IS NULL"; }
drained() { [[ $(pending) == 0 ]]; }
wait_until 120 drained || fail "the relay did not publish: $(tail -n 5 "$(bg_log relay)")"

dump() { kcat -C -b "$KAFKA_BOOTSTRAP" -t coverage.changes -e -q -f '%k\t%S\n%s\n'; }
decode() { python3 "$REPO/tests/integration/coverage_changes.py" --time "$@"; }
dump | decode >before.txt
records_before=$(topic_count coverage.changes)
workers=$(q "SELECT count(DISTINCT nik) FROM coverages")
assert_ge "workers with coverages" 30 "$workers"

# The snapshot, while three workers are terminated.
read -r n1 n2 n3 < <(head -n 3 niks.txt | paste -sd' ')
{
    echo "change,nik,effective_date"
    for n in $n1 $n2 $n3; do
        echo "TERMINATE,$n,$(q "SELECT min(valid_from) FROM coverages WHERE nik = '$n'")"
    done
} >terminate.csv
run "$BIN/roster-producer" --source dc-sulsel --progress never terminate.csv
start_bg consumer timeout 120 "$BIN/roster-consumer" --exit.when.drained
run "$BIN/coverage-relay" --snapshot
assert_match "snapshot rows" "msg=\"snapshot queued\" channel=coverage_outbox rows=$workers\$" \
    "$(grep 'snapshot queued' coverage-relay.log)"
wait "${LIB_BG_PIDS[consumer]}" || fail "roster-consumer failed: $(tail -n 5 "$(bg_log consumer)")"
unset 'LIB_BG_PIDS[consumer]'
wait_until 180 drained || fail "the running relay did not publish the snapshot: $(tail -n 5 "$(bg_log relay)")"
alive "${LIB_BG_PIDS[relay]}" || fail "the incremental relay stopped"
assert_eq "the running relay holds the lock" 1 \
    "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
          AND (classid::bigint << 32 | objid::bigint) = 7310430002")"

# At least one record more per worker (a terminated worker's own change may share the
# relay's batch with its snapshot row, and a batch publishes one state per worker).
assert_ge "records after the snapshot" $((records_before + workers)) "$(topic_count coverage.changes)"
dump | decode >after.txt
assert_eq "workers on the topic" "$(wc -l <before.txt)" "$(wc -l <after.txt)"
grep -v -e "^$n1|" -e "^$n2|" -e "^$n3|" before.txt >unchanged.before
grep -v -e "^$n1|" -e "^$n2|" -e "^$n3|" after.txt >unchanged.after
diff unchanged.before unchanged.after >stable.diff ||
    fail "republished states, event ids or times changed: $(head -n 4 stable.diff)"
echo "ok: $(wc -l <unchanged.after) unchanged workers republished with their event ids and times"
for n in $n1 $n2 $n3; do
    assert_match "terminated worker ${n:0:4}********${n:12}" '\|TERMINATED\|' "$(grep "^$n|" after.txt)"
    [[ $(grep "^$n|" after.txt | cut -d'|' -f2) != $(grep "^$n|" before.txt | cut -d'|' -f2) ]] ||
        fail "a terminated worker kept its old event id"
done

# And each latest state of this test's workers equals PostgreSQL's (one term each).
q_niks niks.txt "
    SELECT nik, coalesce(string_agg(program, ';' ORDER BY array_position(ARRAY['JKK','JKM','JHT'], program))
                         FILTER (WHERE status <> 'CANCELLED'), ''),
           CASE WHEN bool_or(status <> 'ACTIVE') THEN 'TERMINATED'
                WHEN max(valid_to) < (now() AT TIME ZONE 'UTC')::date THEN 'EXPIRED'
                ELSE 'ACTIVE' END,
           min(valid_from), max(valid_to), min(region_code), min(role), min(institution)
    FROM coverages WHERE nik IN (SELECT nik FROM mine) GROUP BY nik" | LC_ALL=C sort >expected.txt
grep -Ff niks.txt after.txt | cut -d'|' -f1,4-10 | LC_ALL=C sort >actual.txt
diff expected.txt actual.txt >state.diff || fail "states differ from PostgreSQL: $(head -n 6 state.diff)"
assert_eq "this test's workers compared" 30 "$(wc -l <actual.txt)"
stop_bg relay || fail "the relay did not stop cleanly"
