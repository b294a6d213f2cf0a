#!/usr/bin/env bash
# A consumer frozen inside its transaction while another takes over: roster-consumer A
# drains a backlog alone and is stopped (SIGSTOP) while one of its sessions
# ("<group>/<worker>" in pg_stat_activity) is inside a transaction that has written shared
# rows (workers, coverages, applied_events, the stored offsets): the row locks of the
# events it was applying. Consumer B of the same group is started. B gets the partitions
# once A's group session times out (10 s here) and can write those events once PostgreSQL
# ends A's idle transaction: pg.idle_in_transaction_timeout.ms is lowered to 20 s here
# (default 60 s), and pg.statement_timeout.ms to 30 s (default 5 min) for a statement
# A's session was still running. B must finish the backlog. After 60 s A is resumed
# (SIGCONT): its transaction is gone and its stored offsets moved on, so it is fenced and
# writes nothing twice; it rejoins the group and keeps running, and both stop cleanly on
# SIGTERM. Every event applied once, in order. (A consumer frozen in its staging COPY,
# which no timeout ends, is test_41.)
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f40.roster group=f40-roster
case_topics "$topic" 12
load_reference
roster_file good 6000 60000 --updates 3 --terminations 1
publish_rows "$topic" good.csv
rows=$(($(wc -l <good.csv) - 1))
timeouts=(--pg.idle_in_transaction_timeout.ms 20000 --pg.statement_timeout.ms 30000)

start_consumer consumerA roster-consumer "$topic" "$group" "${timeouts[@]}"
a=$BG_PID
applied_at_least() { (($(q "SELECT count(*) FROM applied_events WHERE topic = '$topic'") >= $1)); }
wait_until 60 applied_at_least $((rows / 10)) || fail "no progress: $(tail -n 3 "$(bg_log consumerA)")"

# A's sessions in a transaction that wrote shared rows, by the statement it ran last
# (A runs alone, so every "<group>/<n>" session is A's).
in_txn() {
    q "SELECT application_name || ' ' || pid || ' ' || state || ' ' || left(regexp_replace(query, '\s+', ' ', 'g'), 60)
       FROM pg_stat_activity WHERE application_name LIKE '$group/%' AND xact_start IS NOT NULL
       AND state IN ('active', 'idle in transaction')
       AND query ~ '^(INSERT INTO (workers|coverages|coverage_outbox|applied_events|consumer_offsets|dead_letters)|UPDATE (workers|coverages)) '"
}
stopped=0
for ((try = 0; try < 400 && !stopped; try++)); do
    [[ -n $(in_txn) ]] || { sleep 0.02; continue; }
    kill -STOP "$a"
    fault=$(now_ms)
    sleep 0.5
    if [[ -n $(in_txn) ]]; then
        stopped=1
    else
        kill -CONT "$a" # it committed just before the stop: try again
    fi
done
((stopped)) || fail "could not stop consumer A inside a transaction"
echo "consumer A stopped (pid $a) with $(q "SELECT count(*) FROM applied_events WHERE topic = '$topic'")" \
    "of $rows applied; its sessions in a transaction:"
in_txn | sed 's/^/    /'
resume_a() { kill -CONT "$a" 2>/dev/null || true; }
on_exit resume_a

start_consumer consumerB roster-consumer "$topic" "$group" "${timeouts[@]}"
echo "consumer B applying $(wait_resumed "$topic" "$fault" 58)s after A froze"
while (($(now_ms) - fault < 60000)); do
    sleep 1
    assert_running consumerB
done
echo "consumer A resumed after $(secs_since "$fault")s"
lines_a=$(wc -l <"$(bg_log consumerA)")
kill -CONT "$a"

wait_settled "$topic" "$group" 300 consumerA consumerB
stuck=$(all_resumed_after "$topic" "$fault")
echo "every partition applied again ${stuck}s after A froze (A's transaction ended by" \
    "PostgreSQL after 20 s idle; B's lock waits end at pg.lock_timeout.ms, then retried)"
sleep 3 # A's retry after the resume, if it was still waiting, fails its fence meanwhile
assert_running consumerA
assert_running consumerB
tail -n +"$lines_a" "$(bg_log consumerA)" >a_after.log
echo "consumer A after the resume: fenced batches $(grep -c 'batch fenced' a_after.log || true)," \
    "rebalances $(grep -c 'partitions revoked' a_after.log || true)"
grep -q 'batch fenced\|partitions revoked' a_after.log ||
    fail "consumer A neither fenced nor rebalanced after its resume: $(tail -n 5 a_after.log)"
grep -q 'terminating connection due to idle-in-transaction timeout\|server closed the connection' \
    "$(bg_log consumerA)" && echo "(A's session was ended by PostgreSQL while A was frozen)"

: >good.skip
check_exactly_once "$topic" "$group" good.csv good.skip
assert_eq "dead letters" 0 "$CHECK_DEAD"
stop_consumer consumerA
stop_consumer consumerB
finish_case "$stuck"
