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
# Data starts empty on every run (ITEST_KEEP_DATA=1 keeps the previous run's).
# The suite's machinery is tests/lib/suite.sh, shared with tests/faults/run.sh.
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
export SUITE_TIMEOUT=${ITEST_TIMEOUT:-600}
# shellcheck source=tests/lib/suite.sh
. "$REPO/tests/lib/suite.sh"
suite_begin integration

# ITEST_INSECURE=1: on the plaintext stack (`up --insecure`, also for the tests' own `up`);
# the security tests skip.
if [[ ${ITEST_INSECURE:-} == 1 ]]; then export STACK_INSECURE=1; else unset STACK_INSECURE; fi
"$STACK" up
# shellcheck source=/dev/null
set -a && source "$VAR_DIR/env" && set +a

suite_run "$REPO/tests/integration" "${1:-}"
echo "integration: $SUITE_PASSED passed, $SUITE_FAILED failed"
((SUITE_FAILED == 0))
