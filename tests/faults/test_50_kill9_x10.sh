#!/usr/bin/env bash
# roster-consumer killed -9 ten times at random points of a 200,000-event backlog (kill k
# at a random point of the k-th tenth or so of the load, a random fraction of a second
# after a commit) and started again at once; the restarted consumer joins the group once
# the killed member's session has timed out (10 s here) and resumes from the offsets
# stored in PostgreSQL. After the tenth kill one more drains the rest and stops on
# SIGTERM. Every event applied once, in order. Stuck: the ten stops added up (from each
# kill until a transaction begun after it applied events).
# FAULTS_SEED fixes the random points (printed, to repeat a run).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

seed=${FAULTS_SEED:-$(($(date +%s) % 32768))}
RANDOM=$seed
echo "seed $seed"
topic=f50.roster group=f50-roster
case_topics "$topic" 12
load_reference
roster_file good 7000 200000 --updates 2 --terminations 1
publish_rows "$topic" good.csv
rows=$(($(wc -l <good.csv) - 1))
assert_eq "records on $topic" "$rows" "$(topic_end "$topic")"

applied() { q "SELECT count(*) FROM applied_events WHERE topic = '$topic'"; }
applied_at_least() { (($(applied) >= $1)); }
total_ms=0 worst_ms=0 fault=
# note_resumed K: how long after kill K (at $fault) the next consumer began applying.
note_resumed() {
    local s ms
    s=$(wait_resumed "$topic" "$fault" 120)
    ms=$(awk -v s="$s" 'BEGIN {print int(s * 1000 + 0.5)}')
    total_ms=$((total_ms + ms))
    ((ms <= worst_ms)) || worst_ms=$ms
    echo "kill $1: applying again after ${s}s"
}
for ((k = 1; k <= 10; k++)); do
    # Kill k comes once the k-th stretch of the load is reached (5% + 8% per kill, plus up
    # to 6% more at random), then 0-700 ms later: anywhere in a transaction.
    target=$((rows * (5 + 8 * (k - 1)) / 100 + RANDOM % (rows * 6 / 100)))
    delay_ms=$((RANDOM % 700))
    start_consumer "consumer$k" roster-consumer "$topic" "$group"
    pid=$BG_PID
    ((k == 1)) || note_resumed $((k - 1))
    wait_until 300 applied_at_least "$target" || fail "consumer $k did not reach $target events"
    sleep "$(awk -v m="$delay_ms" 'BEGIN {printf "%.3f", m / 1000}')"
    assert_running "consumer$k"
    fault=$(now_ms)
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    unset "LIB_BG_PIDS[consumer$k]"
    at=$(applied)
    echo "kill $k: consumer $k (pid $pid) at $target + ${delay_ms} ms: $at of $rows applied"
done
((at < rows)) || fail "the backlog was drained before the tenth kill"

start_consumer final roster-consumer "$topic" "$group"
note_resumed 10
wait_settled "$topic" "$group" 600 final
stuck=$(awk -v t="$total_ms" 'BEGIN {printf "%.1f", t / 1000}')
echo "stuck after the ten kills: ${stuck}s in all, $(awk -v t="$worst_ms" 'BEGIN {printf "%.1f", t / 1000}')s at most"

: >good.skip
check_exactly_once "$topic" "$group" good.csv good.skip
assert_eq "dead letters" 0 "$CHECK_DEAD"
stop_consumer final
finish_case "$stuck"
