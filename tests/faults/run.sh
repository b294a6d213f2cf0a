#!/usr/bin/env bash
# run.sh: the fault tests on a 3-node Kafka cluster (KRaft, each node broker and
# controller, replication factor 3, min.insync.replicas 2) and PostgreSQL. Starts its own
# stack (VAR_DIR=<repo>/var/faults; Kafka nodes on 49092, 49102, 49112 with controllers on
# 49093, 49103, 49113; PostgreSQL 45432) beside any other stack, runs every
# tests/faults/test_*.sh in order, and always stops the stack and whatever a test left
# running, also on failure or Ctrl-C. Builds nothing: run `make` first (or
# `make test-faults`).
#
#   tests/faults/run.sh [pattern]   only tests whose file name contains pattern
#
# Tests kill and restart nodes with deploy/local/stack.sh kafka-kill / kafka-start (see
# tests/faults/lib.sh). Each test runs as `bash test_x.sh` in its own session with the env
# file's variables exported; its output goes to var/faults/logs/<test>.log and is shown
# when it fails. Each case prints a line
#   matrix: case=<name> events=<n> lost=<n> duplicated=<n> stuck_s=<x> ...
# (tests/faults/lib.sh finish_case), collected in var/faults/faults-matrix.txt and printed
# together at the end ("case=<name> FAILED" for a test that ended without one).
# FAULTS_TIMEOUT (600) bounds one test in seconds; FAULTS_VAR_DIR,
# FAULTS_KAFKA_PORT (node n: +10*(n-1); controllers +1) and FAULTS_PGPORT move the stack.
# Data starts empty on every run. Exit 0 when every test passed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export REPO
export BUILD=${BUILD:-build}
export VAR_DIR=${FAULTS_VAR_DIR:-$REPO/var/faults}
export KAFKA_PORT=${FAULTS_KAFKA_PORT:-49092}
export KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1)) PGPORT=${FAULTS_PGPORT:-45432}
export KAFKA_BROKERS=3
STACK=$REPO/deploy/local/stack.sh
LOGS=$VAR_DIR/logs
PIDS_DIR=$VAR_DIR/pids
TIMEOUT=${FAULTS_TIMEOUT:-600}
FILTER=${1:-}

current_pid=

alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Kill the processes listed in a pids file ("pid name" lines): TERM, then KILL after 10s.
kill_listed() {
    local f=$1 pid name i left
    [[ -f $f ]] || return 0
    left=()
    while read -r pid name; do
        if ! [[ $pid =~ ^[0-9]+$ ]] || ! alive "$pid"; then continue; fi
        echo "run: killing leftover $name (pid $pid)" >&2
        kill -TERM "$pid" 2>/dev/null || true
        left+=("$pid")
    done <"$f"
    for pid in "${left[@]}"; do
        for ((i = 0; i < 100; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    rm -f "$f"
}

# Stop a test's whole session (it runs under setsid, so its pgid is its pid). Kafka nodes a
# test started again run in sessions of their own; the final `stack.sh down` stops them.
kill_test() {
    local pid=$1 i
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? f
    trap - EXIT INT TERM
    [[ -n $current_pid ]] && kill_test "$current_pid"
    for f in "$PIDS_DIR"/*.pids; do
        [[ -e $f ]] && kill_listed "$f"
    done
    "$STACK" down || rc=1
    rm -f "$VAR_DIR/run.pid"
    exit "$rc"
}

# One suite per VAR_DIR: a second one would stop this one's stack.
mkdir -p "$VAR_DIR"
if [[ -f $VAR_DIR/run.pid ]]; then
    other=$(<"$VAR_DIR/run.pid")
    if [[ $other =~ ^[0-9]+$ && $other != "$$" ]] && alive "$other" &&
        grep -qa 'faults/run.sh' "/proc/$other/cmdline" 2>/dev/null; then
        echo "run: another run.sh (pid $other) uses $VAR_DIR; set FAULTS_VAR_DIR," \
            "FAULTS_KAFKA_PORT and FAULTS_PGPORT to run beside it" >&2
        exit 1
    fi
fi
trap cleanup EXIT
trap 'echo "run: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM
echo $$ >"$VAR_DIR/run.pid"

# Every run starts from empty topics and an empty database (the Kafka jars are kept). A
# stack that a killed run left behind is stopped first.
"$STACK" down
find "$VAR_DIR" -mindepth 1 -maxdepth 1 ! -name kafka ! -name run.pid -exec rm -rf {} +
if [[ -d $VAR_DIR/kafka ]]; then
    find "$VAR_DIR/kafka" -mindepth 1 -maxdepth 1 ! -name jars -exec rm -rf {} +
fi
mkdir -p "$LOGS" "$PIDS_DIR"

start=$SECONDS suite_start=$SECONDS
"$STACK" up --brokers 3
echo "run: 3-node stack up in $((SECONDS - start))s"
# shellcheck source=/dev/null
set -a && source "$VAR_DIR/env" && set +a

passed=0 failed=0 failures=()
for t in "$REPO"/tests/faults/test_*.sh; do
    [[ -e $t ]] || continue
    name=$(basename "$t" .sh)
    [[ -z $FILTER || $name == *"$FILTER"* ]] || continue
    start=$SECONDS
    ITEST_PIDS=$PIDS_DIR/$name.pids setsid timeout -k 10 "$TIMEOUT" bash "$t" \
        >"$LOGS/$name.log" 2>&1 </dev/null &
    current_pid=$!
    rc=0
    wait "$current_pid" || rc=$?
    kill_test "$current_pid"
    current_pid=
    kill_listed "$PIDS_DIR/$name.pids"
    if ((rc != 0)); then
        if grep -q "^matrix: case=${name#test_} " "$VAR_DIR/faults-matrix.txt" 2>/dev/null; then
            sed -i "s/^matrix: case=${name#test_} .*/& FAILED/" "$VAR_DIR/faults-matrix.txt"
        else
            echo "matrix: case=${name#test_} FAILED (exit $rc)" >>"$VAR_DIR/faults-matrix.txt"
        fi
    fi
    if ((rc == 0)); then
        passed=$((passed + 1))
        printf 'PASS %s (%ds)\n' "$name" $((SECONDS - start))
    else
        failed=$((failed + 1))
        failures+=("$name")
        ((rc == 124)) && echo "run: $name timed out after ${TIMEOUT}s" >>"$LOGS/$name.log"
        printf 'FAIL %s (%ds, exit %d); last lines of %s:\n' "$name" $((SECONDS - start)) \
            "$rc" "$LOGS/$name.log"
        tail -n 60 "$LOGS/$name.log" | sed 's/^/    /'
    fi
done

if [[ -s $VAR_DIR/faults-matrix.txt ]]; then
    echo "matrix (events published, lost, applied twice, seconds stuck after the fault):"
    sed 's/^matrix: /  /' "$VAR_DIR/faults-matrix.txt"
fi
((failed == 0)) || echo "failed: ${failures[*]}"
((passed + failed > 0)) || {
    echo "run: no test matched" >&2
    exit 1
}
echo "faults: $passed passed, $failed failed in $((SECONDS - suite_start))s"
((failed == 0))
