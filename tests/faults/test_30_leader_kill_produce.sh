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

victim=$(leader_of "$topic" 0)
assert_match "leader of $topic/0" '^[123]$' "$victim"
led=$(led_by "$topic" "$victim")
echo "killing node $victim, leader of partitions $led (active controller: node $(controller_of))"
fault=$(now_ms)
watch_progress "$topic" led "$led"
kill_node "$victim"
wait_until 60 has_leader_other_than "$topic" 0 "$victim" || fail "no new leader for $topic/0"
echo "node $LEADER leads $topic/0 after $(secs_since "$fault")s"

status=0
wait_bg producer 180 || status=$?
assert_eq "roster-producer exit status" 0 "$status"
assert_match "roster-producer summary" "delivered=$rows failed=0" "$(cat "$(bg_log producer)")"
assert_eq "records on $topic (each row once: the idempotent producer)" "$rows" "$(topic_end "$topic")"
wait_progress_after "$fault" 120 led >/dev/null

wait_settled "$topic" "$group" 300 consumer
stuck=$(longest_stall led)
echo "the partitions node $victim led stood still for ${stuck}s at most"
# The group coordinator may have been on the killed node too: then the consumer's group
# session times out and it joins again (all partitions revoked and assigned).
echo "rebalances in the consumer: $(grep -c 'partitions revoked' "$(bg_log consumer)" || true)"
restart=$(now_ms)
start_node "$victim"
wait_until 180 all_isr_full || fail "partitions without a full ISR after restarting node $victim"
echo "node $victim back with every ISR full after $(secs_since "$restart")s"
: >good.skip
check_exactly_once "$topic" "$group" good.csv good.skip
assert_eq "dead letters" 0 "$CHECK_DEAD"
stop_consumer consumer
finish_case "$stuck"
