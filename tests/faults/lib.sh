# shellcheck shell=bash
# lib.sh: helpers for the fault tests; every test_*.sh starts with
#   . "$(dirname "$0")/lib.sh"
# It is tests/integration/lib.sh (the env file, $TEST_TMP, start_bg/stop_bg, wait_until,
# fail and the assertions, on_exit) plus helpers for the nodes of the test cluster, which
# tests/faults/run.sh starts with three KRaft nodes (node ids 1..3). They wrap
# deploy/local/stack.sh's per-node commands (kafka-pid, kafka-kill, kafka-start, leader,
# isr, describe, brokers).

# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

# now_ms: wall clock in milliseconds, for timing elections and recoveries.
now_ms() { date +%s%3N; }

# secs_since start_ms: seconds since start_ms, with one decimal.
secs_since() {
    local d=$(($(now_ms) - $1))
    printf '%d.%d' $((d / 1000)) $((d % 1000 / 100))
}

# leader_of topic partition: the node id of the partition's leader as all running nodes
# see it; -1 when there is none, empty while their metadata disagree (just after a change).
leader_of() { "$STACK" leader "$1" "$2" 2>/dev/null || true; }

# controller_of: the node id of the active controller (-1 during an election; empty
# while the running nodes disagree).
controller_of() { "$STACK" controller 2>/dev/null || true; }

# isr_of topic partition: the in-sync replicas' node ids, sorted, comma-separated (empty
# while the running nodes disagree).
isr_of() { "$STACK" isr "$1" "$2" 2>/dev/null || true; }

# has_leader_other_than topic partition node: the running nodes agree that the partition
# has a leader and that it is not that node; sets LEADER to it (for wait_until).
LEADER=
has_leader_other_than() {
    LEADER=$(leader_of "$1" "$2")
    [[ $LEADER =~ ^[0-9]+$ && $LEADER != "$3" ]]
}

# isr_is topic partition ids: the partition's ISR is exactly ids (sorted, "1,2,3").
isr_is() { [[ $(isr_of "$1" "$2") == "$3" ]]; }

# all_isr_full: every partition of every topic has a leader and all replicas in sync.
all_isr_full() {
    local listing
    listing=$("$STACK" describe 2>/dev/null) || return 1
    [[ -n $listing ]] && ! awk '$3 == -1 || $4 != $5 {bad = 1} END {exit !bad}' <<<"$listing"
}

# partition_has topic partition value: some record of the partition has exactly that value.
partition_has() {
    kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -p "$2" -e -q -f '%s\n' 2>/dev/null | grep -qxF "$3"
}

# count_at_least topic n: the topic holds at least n records (for wait_until; topic_count
# in a wait_until argument would be counted once).
count_at_least() { (($(topic_count "$1") >= $2)); }

# kill_node id: kill -9 a Kafka node (fails when it does not run).
kill_node() { "$STACK" kafka-kill "$1"; }

# start_node id: start a stopped node again on its data; returns once it is a broker again.
start_node() { "$STACK" kafka-start "$1"; }

# Leave the cluster whole for the next test: start every node a test killed.
restart_stopped_nodes() {
    local n
    for n in 1 2 3; do
        "$STACK" kafka-pid "$n" >/dev/null 2>&1 || "$STACK" kafka-start "$n" || true
    done
}
on_exit restart_stopped_nodes
