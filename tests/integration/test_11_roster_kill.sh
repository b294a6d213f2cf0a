#!/usr/bin/env bash
# Exactly once across a crash: roster-consumer is killed with SIGKILL in the middle of a
# 200,000-event backlog, restarted, and every event must be applied once: the coverages
# equal the oracle's and applied_events holds each event once. Then SIGTERM mid-run must
# finish the open batch and exit 0, and a restart completes the backlog.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/gen_roster" --seed 99 --serial-base 3000 --scale-events 200000 --updates 2 --terminations 1 \
    --agreements-out agreements.csv --output roster.csv 2>/dev/null
"$BIN/covadm" agreements load agreements.csv >/dev/null
events=$(($(wc -l <roster.csv) - 1))
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>producer.log ||
    fail "producer: $(tail -n 3 producer.log)"

# Other tests share the database: count from what is there now.
base_applied=$(q "SELECT count(*) FROM applied_events")
base_offsets=$(q "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = 'roster-consumer'")
base_dead=$(q "SELECT count(*) FROM dead_letters")
applied() { echo $(($(q "SELECT count(*) FROM applied_events") - base_applied)); }
applied_at_least() { [ "$(applied)" -ge "$1" ]; }
start_bg consumer1 "$BIN/roster-consumer" --batch.max.messages 5000
wait_until 120 applied_at_least 40000 || fail "consumer made no progress: $(tail -n 5 "$(bg_log consumer1)")"
kill -9 "$BG_PID"
wait "$BG_PID" 2>/dev/null || true
partial=$(applied)
[ "$partial" -lt "$events" ] || fail "the backlog was drained before the kill; make it larger"
echo "killed with $partial of $events events applied"

# SIGTERM: the open batch is finished, the group left, exit status 0.
start_bg consumer2 "$BIN/roster-consumer" --batch.max.messages 5000
wait_until 120 applied_at_least $((partial + 20000)) || fail "restarted consumer made no progress"
status=0
stop_bg consumer2 TERM || status=$?
assert_eq "exit status after SIGTERM" 0 "$status"
grep -q 'msg="stopped"' "$(bg_log consumer2)" || fail "no clean stop logged"

timeout 300 "$BIN/roster-consumer" --exit.when.drained 2>consumer3.log ||
    fail "final consumer failed: $(tail -n 5 consumer3.log)"
assert_eq "events applied exactly once" "$events" "$(applied)"
# The stop line sums the committed transactions' time and, within it, their COMMITs'.
read -r txn_s commit_s <<<"$(sed -n 's/.*msg="stopped".* txn_s=\([0-9.]*\) commit_s=\([0-9.]*\).*/\1 \2/p' consumer3.log)"
echo "final consumer: txn_s=$txn_s commit_s=$commit_s"
awk -v t="${txn_s:-0}" -v c="${commit_s:-0}" 'BEGIN { exit !(t > 0 && c > 0 && c <= t) }' ||
    fail "want 0 < commit_s <= txn_s in the stop line: $(grep 'msg="stopped"' consumer3.log)"
assert_eq "stored offsets advanced by the events" "$((base_offsets + events))" \
    "$(q "SELECT sum(next_offset) FROM consumer_offsets WHERE group_id = 'roster-consumer'")"
printf '' >skip.txt
python3 "$REPO/tests/integration/roster_oracle.py" roster.csv skip.txt >expected.txt
awk -F, 'NR > 1 { print $2 }' roster.csv | sort -u >niks.txt
coverage_rows niks.txt >actual.txt
LC_ALL=C sort -o expected.txt expected.txt
assert_ge "coverages expected" 350000 "$(wc -l <expected.txt)"
diff expected.txt actual.txt >coverage.diff || fail "coverages differ from the oracle: $(head -n 5 coverage.diff)"
assert_eq "nothing dead-lettered" "$base_dead" "$(q "SELECT count(*) FROM dead_letters")"
