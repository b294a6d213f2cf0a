#!/usr/bin/env bash
# run.sh: the fault tests on a 3-node Kafka cluster (KRaft, each node broker and
# controller, replication factor 3, min.insync.replicas 2) and PostgreSQL. Starts its own
# stack (VAR_DIR=<repo>/var/faults; Kafka nodes on 22092, 22102, 22112 with controllers on
# 22093, 22103, 22113; PostgreSQL 22432) beside any other stack, runs every
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
# Data starts empty on every run. Exit 0 when every test passed. The suite's machinery is
# tests/lib/suite.sh, shared with tests/integration/run.sh.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export REPO
export BUILD=${BUILD:-build}
export VAR_DIR=${FAULTS_VAR_DIR:-$REPO/var/faults}
# Ports below Linux's ephemeral range (32768-60999), where a client connection's own port
# could hold a listener's port when the stack starts.
export KAFKA_PORT=${FAULTS_KAFKA_PORT:-22092}
export KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1)) PGPORT=${FAULTS_PGPORT:-22432}
export KAFKA_BROKERS=3
export SUITE_TIMEOUT=${FAULTS_TIMEOUT:-600}
# shellcheck source=tests/lib/suite.sh
. "$REPO/tests/lib/suite.sh"
suite_begin faults

# A case that failed is marked in the matrix, or added to it when it ended without a line.
suite_after() {
    local name=$1 rc=$2
    ((rc != 0)) || return 0
    if grep -q "^matrix: case=${name#test_} " "$VAR_DIR/faults-matrix.txt" 2>/dev/null; then
        sed -i "s/^matrix: case=${name#test_} .*/& FAILED/" "$VAR_DIR/faults-matrix.txt"
    else
        echo "matrix: case=${name#test_} FAILED (exit $rc)" >>"$VAR_DIR/faults-matrix.txt"
    fi
}

start=$SECONDS suite_start=$SECONDS
"$STACK" up --brokers 3
echo "run: 3-node stack up in $((SECONDS - start))s"
# shellcheck source=/dev/null
set -a && source "$VAR_DIR/env" && set +a

suite_run "$REPO/tests/faults" "${1:-}"
if [[ -s $VAR_DIR/faults-matrix.txt ]]; then
    echo "matrix (events published, lost, applied twice, seconds stuck after the fault):"
    sed 's/^matrix: /  /' "$VAR_DIR/faults-matrix.txt"
fi
echo "faults: $SUITE_PASSED passed, $SUITE_FAILED failed in $((SECONDS - suite_start))s"
((SUITE_FAILED == 0))
