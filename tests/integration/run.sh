#!/usr/bin/env bash
# run.sh: the integration suite on a real Kafka and PostgreSQL. Starts a test stack
# (VAR_DIR=<repo>/var/test, Kafka 29092/29093, PostgreSQL 25432) beside any developer
# stack, runs every tests/integration/test_*.sh in order, and always stops the stack and
# whatever a test left running, also on failure or Ctrl-C. Builds nothing: run `make`
# first (or `make integration`).
#
#   tests/integration/run.sh [pattern]   only tests whose file name contains pattern
#
# Each test runs as `bash test_x.sh` in its own session with the env file's variables
# exported; its output goes to var/test/logs/<test>.log and is shown when it fails.
# ITEST_TIMEOUT (600) bounds one test in seconds. Exit 0 when every test passed.
# Data starts empty on every run (see below).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export REPO
export BUILD=${BUILD:-build}
# ITEST_VAR_DIR, ITEST_KAFKA_PORT (+1 for the controller) and ITEST_PGPORT let a second
# suite run beside this one.
export VAR_DIR=${ITEST_VAR_DIR:-$REPO/var/test}
export KAFKA_PORT=${ITEST_KAFKA_PORT:-29092}
export KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1)) PGPORT=${ITEST_PGPORT:-25432}
# One Kafka node, whatever the caller's shell exports (the tests expect run/kafka.pid).
export KAFKA_BROKERS=1
STACK=$REPO/deploy/local/stack.sh
LOGS=$VAR_DIR/logs
PIDS_DIR=$VAR_DIR/pids
TIMEOUT=${ITEST_TIMEOUT:-600}
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

# Stop a test's whole session (it runs under setsid, so its pgid is its pid).
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
trap cleanup EXIT
trap 'echo "run: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM

# One suite per VAR_DIR: a second one would stop this one's stack.
mkdir -p "$VAR_DIR"
if [[ -f $VAR_DIR/run.pid ]]; then
    other=$(<"$VAR_DIR/run.pid")
    if [[ $other =~ ^[0-9]+$ && $other != "$$" ]] && alive "$other" &&
        grep -qa 'integration/run.sh' "/proc/$other/cmdline" 2>/dev/null; then
        trap - EXIT
        echo "run: another run.sh (pid $other) uses $VAR_DIR; set ITEST_VAR_DIR," \
            "ITEST_KAFKA_PORT and ITEST_PGPORT to run beside it" >&2
        exit 1
    fi
fi
echo $$ >"$VAR_DIR/run.pid"

# Every run starts from empty topics and an empty database (the Kafka jars are kept);
# ITEST_KEEP_DATA=1 keeps the previous run's data. A stack that a killed run left
# behind is stopped first.
"$STACK" down
if [[ ${ITEST_KEEP_DATA:-} != 1 ]]; then
    find "$VAR_DIR" -mindepth 1 -maxdepth 1 ! -name kafka ! -name run.pid -exec rm -rf {} +
    rm -rf "$VAR_DIR/kafka/data" "$VAR_DIR/kafka/cluster.id"
fi
rm -rf "$LOGS" "$PIDS_DIR" "$VAR_DIR/tmp"
mkdir -p "$LOGS" "$PIDS_DIR"

# ITEST_INSECURE=1: on the plaintext stack (`up --insecure`, also for the tests' own `up`);
# the security tests skip.
if [[ ${ITEST_INSECURE:-} == 1 ]]; then export STACK_INSECURE=1; else unset STACK_INSECURE; fi
"$STACK" up
# shellcheck source=/dev/null
set -a && source "$VAR_DIR/env" && set +a

passed=0 failed=0 failures=()
for t in "$REPO"/tests/integration/test_*.sh; do
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

((failed == 0)) || echo "failed: ${failures[*]}"
((passed + failed > 0)) || { echo "run: no test matched" >&2; exit 1; }
echo "integration: $passed passed, $failed failed"
((failed == 0))
