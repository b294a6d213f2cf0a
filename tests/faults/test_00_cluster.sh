#!/usr/bin/env bash
# The 3-node cluster itself: three secure brokers (TLS between nodes and to the
# controllers, SASL_SSL for clients), topics with replication factor 3 and a full ISR;
# then kill -9 the leader of roster.changes.dc-sulsel partition 0 (the data center's own
# topic), check that another node becomes leader and that producing with acks=all still
# succeeds (min.insync.replicas=2), start the node again and check that the ISR is whole
# again.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

topic=roster.changes.dc-sulsel

# --- the cluster -----------------------------------------------------------------------
"$STACK" status >"$TEST_TMP/status" || fail "stack.sh status: $(cat "$TEST_TMP/status")"
assert_eq "running kafka nodes" "3" "$(grep -c '^kafka node [0-9]: running' "$TEST_TMP/status")"
assert_eq "registered brokers" "1 2 3" "$("$STACK" brokers)"
assert_eq "brokers in KAFKA_BOOTSTRAP" "3" "$(tr ',' '\n' <<<"$KAFKA_BOOTSTRAP" | grep -c .)"
for n in 1 2 3; do
    props=$VAR_DIR/kafka/node$n/server.properties
    for kv in node.id=$n default.replication.factor=3 min.insync.replicas=2 \
        offsets.topic.replication.factor=3 transaction.state.log.replication.factor=3 \
        transaction.state.log.min.isr=2; do
        grep -qx "$kv" "$props" || fail "node $n: no '$kv' in $props"
    done
    grep -qx 'listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL' "$props" ||
        fail "node $n: not every listener is TLS: $(grep '^listener' "$props")"
done
echo "ok: nodes 1..3 configured with RF 3, min.insync.replicas 2, TLS on every listener"

"$STACK" describe "$topic" >"$TEST_TMP/describe"
want=$(awk -F'\t' -v t="$topic" '$1 == t {print $2}' "$VAR_DIR/kafka/topics.tsv")
assert_eq "partitions of $topic" "$want" "$(wc -l <"$TEST_TMP/describe")"
assert_eq "partitions of $topic with replicas 1,2,3 and ISR 1,2,3" "$want" \
    "$(awk '$3 != -1 && $4 == "1,2,3" && $5 == "1,2,3"' "$TEST_TMP/describe" | wc -l)"
while IFS=$'\t' read -r name _; do
    [[ -z $name || $name == \#* ]] && continue
    assert_eq "replication factor of $name" "3" \
        "$("$STACK" describe "$name" | awk '{print split($4, r, ",")}' | sort -u)"
done <"$VAR_DIR/kafka/topics.tsv"
assert_eq "__consumer_offsets replicas" "1,2,3" \
    "$("$STACK" describe __consumer_offsets | awk '{print $4}' | sort -u)"
all_isr_full || fail "some partition has no leader or a partial ISR: $("$STACK" describe)"
echo "ok: every partition has a leader and a full ISR"

# --- kill -9 the leader of partition 0 -----------------------------------------------------
old=$(leader_of "$topic" 0)
assert_match "leader of $topic/0" '^[123]$' "$old"
pid=$("$STACK" kafka-pid "$old")
# Killing the active controller too adds a controller election before the fencing.
controller=$(controller_of)
echo "active controller: node $controller"
start=$(now_ms)
kill_node "$old"
alive "$pid" && fail "node $old (pid $pid) still alive after kafka-kill"
"$STACK" kafka-pid "$old" >/dev/null 2>&1 && fail "kafka-pid $old still answers after the kill"
echo "ok: killed node $old (pid $pid) with SIGKILL"

wait_until 60 has_leader_other_than "$topic" 0 "$old" ||
    fail "no new leader for $topic/0 within 60s: $("$STACK" describe "$topic" | head -n 3)"
new=$LEADER
echo "ok: node $new leads $topic/0 after $(secs_since "$start")s (was node $old)"
others=$(printf '%s\n' 1 2 3 | grep -vx "$old" | paste -sd, -)
wait_until 30 isr_is "$topic" 0 "$others" ||
    fail "ISR of $topic/0 is '$(isr_of "$topic" 0)', want '$others'"
echo "ok: ISR of $topic/0 shrank to $others"
assert_eq "registered brokers without node $old" "${others//,/ }" "$("$STACK" brokers)"

# Producing with acks=all: min.insync.replicas=2 holds with two of three nodes.
before=$(topic_count "$topic")
printf 'fault-test-key:after-kill-%s\n' "$$" |
    kcat -P -b "$KAFKA_BOOTSTRAP" -t "$topic" -p 0 -K: -X acks=all -X message.timeout.ms=30000 \
        2>"$TEST_TMP/kcat.err" || fail "kcat -P acks=all to $topic/0 failed: $(cat "$TEST_TMP/kcat.err")"
wait_until 20 partition_has "$topic" 0 "after-kill-$$" ||
    fail "the record sent to $topic/0 with acks=all is not there"
echo "ok: a record produced to $topic/0 with acks=all reads back"

"$BIN/gen_roster" --seed 1 --scale-events 20 --output "$TEST_TMP/r.csv"
"$BIN/roster-producer" --source dc-sulsel --progress never "$TEST_TMP/r.csv" \
    >"$TEST_TMP/producer.log" 2>&1 ||
    fail "roster-producer with node $old down: $(tail -n 5 "$TEST_TMP/producer.log")"
assert_match "roster-producer summary" 'delivered=20 failed=0' "$(cat "$TEST_TMP/producer.log")"
wait_until 20 count_at_least "$topic" $((before + 21))
assert_eq "records added to $topic" "21" "$(($(topic_count "$topic") - before))"

# --- the node comes back -------------------------------------------------------------------
start=$(now_ms)
start_node "$old"
echo "ok: node $old registered again after $(secs_since "$start")s"
wait_until 120 isr_is "$topic" 0 1,2,3 ||
    fail "ISR of $topic/0 is '$(isr_of "$topic" 0)' 120s after restarting node $old"
echo "ok: ISR of $topic/0 is 1,2,3 again after $(secs_since "$start")s"
wait_until 120 all_isr_full || fail "partitions still without a full ISR: $("$STACK" describe |
    awk '$3 == -1 || $4 != $5' | head -n 5)"
echo "ok: every partition has a full ISR again after $(secs_since "$start")s"
assert_eq "registered brokers" "1 2 3" "$("$STACK" brokers)"
echo "leader of $topic/0 now: node $(leader_of "$topic" 0)"
