# shellcheck shell=bash
# lib.sh: helpers for the integration tests; every test_*.sh starts with
#   . "$(dirname "$0")/lib.sh"
# It sources the stack's env file ($VAR_DIR/env: KAFKA_BOOTSTRAP, PG* as the owner
# `coverage` over TLS, COVERAGE_CONFIG_DIR where each program finds its own credentials,
# KCAT_CONFIG the admin's), makes a private $TEST_TMP, and on exit stops what start_bg
# started and removes $TEST_TMP. On the secure stack (the default) a data center's
# producer publishes to its own topic, e.g. roster.changes.dc-sulsel, and dead letters go
# to that topic's DLQ (dlq_topics, dlq_dump).
# A test fails on the first failed assertion or command (set -euo pipefail); it must not
# set its own EXIT trap (use on_exit instead).
#
# Variables: REPO, BIN (the built programs), STACK (deploy/local/stack.sh), TEST_NAME,
# TEST_TMP, plus the env file's. run.sh sets ITEST_PIDS, the file where started pids are
# recorded so it can kill leftovers even when a test dies hard.

set -euo pipefail

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-build}
BIN=${BIN:-$REPO/$BUILD/bin}
STACK=$REPO/deploy/local/stack.sh
VAR_DIR=${VAR_DIR:-$REPO/var/test}
TEST_NAME=$(basename "$0" .sh)
export REPO BUILD BIN STACK

if [[ ! -f $VAR_DIR/env ]]; then
    echo "FAIL: $TEST_NAME: no $VAR_DIR/env; is the test stack up?" >&2
    exit 1
fi
# shellcheck source=/dev/null
source "$VAR_DIR/env"

mkdir -p "$VAR_DIR/tmp"
TEST_TMP=$(mktemp -d "$VAR_DIR/tmp/$TEST_NAME.XXXXXX")
chmod 755 "$TEST_TMP"
ITEST_PIDS=${ITEST_PIDS:-$TEST_TMP/pids}
declare -A LIB_BG_PIDS=()
LIB_ON_EXIT=()

# fail "message": fail the test now.
fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    exit 1
}

# assert_eq "what" expected actual
assert_eq() {
    [[ $2 == "$3" ]] || fail "$1: expected '$2', got '$3'"
    echo "ok: $1 = '$3'"
}

# assert_ge "what" minimum actual (integers)
assert_ge() {
    [[ $3 =~ ^-?[0-9]+$ ]] || fail "$1: '$3' is not an integer"
    (($3 >= $2)) || fail "$1: expected >= $2, got $3"
    echo "ok: $1 = $3 (>= $2)"
}

# assert_match "what" extended-regex actual
assert_match() {
    [[ $3 =~ $2 ]] || fail "$1: '$3' does not match /$2/"
    echo "ok: $1 matches /$2/"
}

# q "sql" [psql args...]: run one statement on the stack's database as `coverage`;
# prints rows unaligned, '|'-separated, no header.
q() {
    local sql=$1
    shift
    psql -X -Atq -v ON_ERROR_STOP=1 "$@" -c "$sql"
}

# q_niks file "sql": like q, with a temporary table mine(nik) holding the NIKs listed in
# file (one per line), for statements about one test's workers (lists too long for argv).
q_niks() {
    psql -X -Atq -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE mine (nik char(16) PRIMARY KEY);
\copy mine FROM '$1'
$2
SQL
}

# coverage_rows file: this file's workers' coverages in the form roster_oracle.py prints.
coverage_rows() {
    q_niks "$1" "SELECT nik, program, institution, role, region_code, coalesce(tps::text, ''),
                        agreement_id, monthly_wage, valid_from, valid_to, status
                 FROM coverages WHERE nik IN (SELECT nik FROM mine)" | LC_ALL=C sort
}

# q_as role "sql": like q, as another role (its password from the stack's PGPASSFILE).
q_as() {
    local role=$1 sql=$2
    psql -X -Atq -v ON_ERROR_STOP=1 -U "$role" -c "$sql"
}

# topic_count topic: number of records now in the topic (all partitions).
topic_count() {
    kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -e -q -f 'x\n' 2>/dev/null | wc -l
}

# dlq_topics base: the dead-letter topics of a base topic, its own and each data center's
# (roster.changes.dlq, roster.changes.dc-sulsel.dlq, ...), one a line.
dlq_topics() {
    "$BIN/topics" --bootstrap "$KAFKA_BOOTSTRAP" list 2>/dev/null |
        awk -F'\t' -v b="$1." 'index($1, b) == 1 && $1 ~ /\.dlq$/ {print $1}' | sort
}

# dlq_dump base format: the records of every DLQ topic of base, in kcat's -f format.
dlq_dump() {
    local t
    for t in $(dlq_topics "$1"); do
        kcat -C -b "$KAFKA_BOOTSTRAP" -t "$t" -e -q -f "$2"
    done
}

# start_bg name cmd...: run cmd in the background, output to $TEST_TMP/name.log;
# sets BG_PID. The pid is killed when the test ends (and by run.sh after it).
start_bg() {
    local name=$1
    shift
    "$@" >"$TEST_TMP/$name.log" 2>&1 &
    BG_PID=$!
    LIB_BG_PIDS[$name]=$BG_PID
    echo "$BG_PID $name" >>"$ITEST_PIDS"
}

# bg_log name: path of the output of a start_bg process.
bg_log() { echo "$TEST_TMP/$1.log"; }

# alive pid: the process exists and is not a zombie.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# stop_bg name [signal]: signal (TERM) and wait up to 15s, then KILL; returns the
# process's exit status (for checking a clean shutdown).
stop_bg() {
    local pid=${LIB_BG_PIDS[$1]:-} i rc=0
    [[ -n $pid ]] || fail "stop_bg: no process named '$1'"
    kill -"${2:-TERM}" "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || rc=$?
    unset 'LIB_BG_PIDS[$1]'
    return "$rc"
}

# wait_until timeout_s cmd...: poll cmd every 0.2s until it succeeds; returns 1 (and says
# what it waited for) on timeout.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    while ((SECONDS < deadline)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    "$@" >/dev/null 2>&1 && return 0
    echo "timed out waiting for: $*" >&2
    return 1
}

# on_exit cmd...: run cmd when the test ends, before the background processes stop.
on_exit() { LIB_ON_EXIT+=("$(printf '%q ' "$@")"); }

lib_cleanup() {
    local rc=$? c name
    for c in "${LIB_ON_EXIT[@]}"; do eval "$c" || true; done
    for name in "${!LIB_BG_PIDS[@]}"; do stop_bg "$name" >/dev/null 2>&1 || true; done
    if [[ ${KEEP_TMP:-} == 1 ]]; then
        echo "kept $TEST_TMP" >&2
    else
        rm -rf "$TEST_TMP"
    fi
    exit "$rc"
}
trap lib_cleanup EXIT

# subscriber_python: print the python of the analytics subscribers' virtual environment
# (confluent-kafka with Avro and the registry client, from PyPI), made once under var/cache
# and kept between runs (deploy/local/stack.sh subscriber-python).
subscriber_python() { "$STACK" subscriber-python || fail "no Python environment for the subscribers"; }
