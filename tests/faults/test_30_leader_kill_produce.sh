#!/usr/bin/env bash
# The leader of a partition killed -9 while roster-producer publishes with acks=all (its
# rows come through a pipe that paces them, so it publishes for some 15 s), with
# roster-consumer applying at the same time. The producer is idempotent: every row is
# delivered exactly once (no duplicate from its retries, none lost with
# min.insync.replicas 2 of 3), and the consumer applies every event once, in order. The
# producer's delivery timeout is 120 s here (--delivery.timeout.ms; default 30 s) so that
# a slow election cannot fail a row: this case is about duplicates and losses. Stuck: the
# longest time the partitions the killed node led were not applied further, after the
# kill (rows keep coming at some 4,000 a second, so it is the election's pause).
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f30.roster group=f30-roster
case_topics "$topic" 12
load_reference
roster_file good 4000 60000 --updates 3 --terminations 1
rows=$(($(wc -l <good.csv) - 1))

watch_progress "$topic"
start_consumer consumer roster-consumer "$topic" "$group"
# The producer starts once the consumer owns the partitions: the kill must find both at work.
assigned() { grep -q 'partition assigned' "$(bg_log consumer)"; }
wait_until 60 assigned || fail "the consumer got no partition: $(tail -n 3 "$(bg_log consumer)")"
start_producer producer "$topic" good.csv 1000 0.25 --delivery.timeout.ms 120000
applied_at_least() { (($(q "SELECT count(*) FROM applied_events WHERE topic = '$topic'") >= $1)); }
wait_until 60 applied_at_least 8000 || fail "no progress: $(tail -n 3 "$(bg_log consumer)")"
assert_running producer

kill_leader "$topic" 0

status=0
wait_bg producer 180 || status=$?
assert_eq "roster-producer exit status" 0 "$status"
assert_match "roster-producer summary" "delivered=$rows failed=0" "$(cat "$(bg_log producer)")"
assert_eq "records on $topic (each row once: the idempotent producer)" "$rows" "$(topic_end "$topic")"
wait_progress_after "$FAULT" 120 led >/dev/null

finish_leader_kill "$topic" "$group" good.csv
