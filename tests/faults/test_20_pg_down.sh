#!/usr/bin/env bash
# PostgreSQL stopped for 60 s in the middle of a drain, as in a crash (pg_ctl -m
# immediate: every session cut at once, no checkpoint). roster-consumer must stay alive,
# report not ready (ready=0 in its progress lines) while it retries, keep its partitions
# (no rebalance), and finish the backlog by itself once PostgreSQL is back: every event
# applied once, in order. The retry backoff is capped at 5 s here (--retry.backoff.max.ms;
# default 30 s) so that the time stuck is the outage plus a few seconds.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f20.roster group=f20-roster
case_topics "$topic" 12
load_reference
roster_file good 3000 40000 --updates 3 --terminations 1
publish_rows "$topic" good.csv
rows=$(($(wc -l <good.csv) - 1))

pg_back() { "$STACK" pg-start >/dev/null 2>&1 || true; }
on_exit pg_back
start_consumer consumer roster-consumer "$topic" "$group" --retry.backoff.max.ms 5000
applied_at_least() { (($(q "SELECT count(*) FROM applied_events WHERE topic = '$topic'") >= $1)); }
wait_until 120 applied_at_least $((rows / 5)) || fail "no progress: $(tail -n 5 "$(bg_log consumer)")"
# Progress lines come each second: the first may follow the first 8,000 events.
reported_ready() { grep -q 'ready=1' "$(bg_log consumer)"; }
wait_until 10 reported_ready || fail "the consumer never reported ready"
revoked_before=$(grep -c 'partitions revoked' "$(bg_log consumer)" || true)
lines_before=$(wc -l <"$(bg_log consumer)")

echo "stopping postgresql with $(q "SELECT count(*) FROM applied_events WHERE topic = '$topic'") of $rows applied"
fault=$(now_ms)
"$STACK" pg-stop immediate
for ((i = 0; i < 60; i++)); do
    sleep 1
    assert_running consumer
done
tail -n +"$lines_before" "$(bg_log consumer)" >outage.log
grep -q 'ready=0' outage.log || fail "the consumer did not report not ready during the outage"
grep -q 'batch failed; retrying' outage.log || fail "the consumer did not log its retries"
"$STACK" pg-start
echo "postgresql back after $(secs_since "$fault")s"

echo "applying again $(wait_resumed "$topic" "$fault" 120)s after the fault"
wait_settled "$topic" "$group" 300 consumer
stuck=$(all_resumed_after "$topic" "$fault")
echo "every partition applied again ${stuck}s after the fault"
assert_running consumer
tail -n 3 "$(bg_log consumer)" | grep -q 'ready=1' || sleep 2
tail -n 5 "$(bg_log consumer)" | grep -q 'ready=1' || fail "not ready again after the outage"
assert_eq "rebalances during the outage" "$revoked_before" \
    "$(grep -c 'partitions revoked' "$(bg_log consumer)" || true)"
grep 'progress' outage.log | grep -o 'retries=[0-9]*' | tail -n 1

: >good.skip
check_exactly_once "$topic" "$group" good.csv good.skip
assert_eq "dead letters (an outage is never the data's fault)" 0 "$CHECK_DEAD"
stop_consumer consumer
finish_case "$stuck"
