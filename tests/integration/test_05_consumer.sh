#!/usr/bin/env bash
# The batch-consumer loop of common/consumer.c: $BUILD/tests/test_consumer (Criterion,
# tests/integration/consumer/test_consumer.c) drives it with librdkafka's mock cluster for
# Kafka and this stack's PostgreSQL for the offsets, dead letters and its own rows.
. "$(dirname "$0")/lib.sh"

prog=$REPO/$BUILD/tests/test_consumer
[[ -x $prog ]] || fail "$prog is not built; run make first"
on_exit q "DROP TABLE IF EXISTS consumer_test_applied, consumer_test_guard"
cd "$TEST_TMP"

"$prog" --jobs 4 --short-filename --verbose || fail "test_consumer failed"
assert_eq "offsets left by test_consumer" 0 \
    "$(q "SELECT count(*) FROM consumer_offsets WHERE group_id LIKE 'test\_consumer.%'")"
assert_eq "dead letters left by test_consumer" 0 \
    "$(q "SELECT count(*) FROM dead_letters WHERE group_id LIKE 'test\_consumer.%'")"
