#!/usr/bin/env bash
# A consumer frozen while it streams its staging COPY: roster-consumer A is stopped
# (SIGSTOP) at the moment one of its sessions is in "COPY stg_roster ... FROM STDIN" waiting
# for data from A (state active, wait_event ClientRead). No timeout ends such a session:
# idle_in_transaction_session_timeout does not apply to a running statement, and PostgreSQL
# acts on statement_timeout only when the client sends again. So A's session and whatever
# it locked stay as long as A is frozen. Consumer B of the same group takes over when A's
# group session times out (10 s) and must finish the whole backlog while A is still frozen
# there: A took no lock of the stored offsets before its COPY. A is then resumed: its
# batch is fenced, nothing is written twice, and both stop cleanly.
# Catching A with COPY data still unsent needs a COPY larger than what the sockets between
# A and its server process hold, and Linux grows a receive buffer up to tcp_rmem's maximum
# (32 MB on some machines) while the reader keeps up. So A applies whole batches of
# 100,000 events (about 25 MB of rows) on one connection (batch.idle.handoff off: it would
# hand the idle connection its first fetches as they are), and the test first freezes A's
# server process as soon as the COPY shows, which stops the buffers growing; then A, while
# it is still sending; then it lets the server process drain what was sent, to wait for
# the rest in ClientRead.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f41.roster group=f41-roster
case_topics "$topic" 12
load_reference
roster_file good 8000 300000 --updates 2 --terminations 1
publish_rows "$topic" good.csv
rows=$(($(wc -l <good.csv) - 1))

start_consumer consumerA roster-consumer "$topic" "$group" --batch.max.messages 100000 \
    --batch.max.ms 60000 --batch.idle.handoff=false --apply.workers 1
a=$BG_PID
backend=
resume_a() {
    kill -CONT "$a" 2>/dev/null || true
    [[ -z $backend ]] || kill -CONT "$backend" 2>/dev/null || true
}
on_exit resume_a
# A runs alone, so every "<group>/<n>" session is A's.
a_copying() {
    q "SELECT pid FROM pg_stat_activity WHERE application_name LIKE '$group/%'
       AND state = 'active' AND query LIKE 'COPY stg_roster%'"
}
a_waiting_in_copy() {
    q "SELECT pid FROM pg_stat_activity WHERE application_name LIKE '$group/%'
       AND state = 'active' AND wait_event = 'ClientRead' AND query LIKE 'COPY stg_roster%'"
}
a_waits_or_finished() { [[ -n $(a_waiting_in_copy) || -z $(a_copying) ]]; }
frozen=0 tries=0
deadline=$((SECONDS + 120))
while ((!frozen && SECONDS < deadline)); do
    backend=$(a_copying)
    [[ -n $backend ]] || continue
    kill -STOP "$backend"
    sleep 0.2
    kill -STOP "$a"
    fault=$(now_ms)
    tries=$((tries + 1))
    kill -CONT "$backend"
    wait_until 10 a_waits_or_finished || true
    if [[ -n $(a_waiting_in_copy) ]]; then frozen=1; else kill -CONT "$a"; fi
done
((frozen)) || fail "could not stop consumer A in the middle of a COPY ($tries tries)"
session=$(a_waiting_in_copy)
echo "consumer A stopped in a COPY (try $tries) with" \
    "$(q "SELECT count(*) FROM applied_events WHERE topic = '$topic'") of $rows applied; A's sessions:"
q "SELECT application_name, pid, state, wait_event, left(query, 40) FROM pg_stat_activity
   WHERE application_name LIKE '$group/%'" | sed 's/^/    /'

start_consumer consumerB roster-consumer "$topic" "$group" --batch.max.messages 100000
wait_settled "$topic" "$group" 240 consumerB
stuck=$(all_resumed_after "$topic" "$fault")
echo "consumer B finished the backlog; every partition applied again ${stuck}s after A froze"
assert_eq "A's session, still waiting in its COPY" "$session" "$(a_waiting_in_copy)"

lines_a=$(wc -l <"$(bg_log consumerA)")
kill -CONT "$a"
a_moved_on() { tail -n +"$lines_a" "$(bg_log consumerA)" | grep -q 'batch fenced\|partitions revoked'; }
wait_until 60 a_moved_on || fail "consumer A neither fenced nor rebalanced after its resume"
sleep 3
echo "consumer A after the resume: fenced batches $(tail -n +"$lines_a" "$(bg_log consumerA)" |
    grep -c 'batch fenced' || true)"
assert_running consumerA
assert_running consumerB
wait_settled "$topic" "$group" 60 consumerA consumerB

: >good.skip
check_exactly_once "$topic" "$group" good.csv good.skip
assert_eq "dead letters" 0 "$CHECK_DEAD"
stop_consumer consumerA
stop_consumer consumerB
finish_case "$stuck"
