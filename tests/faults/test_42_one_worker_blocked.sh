#!/usr/bin/env bash
# One apply worker stuck, the other goes on: roster-consumer (2 apply workers) drains a
# backlog on 12 partitions while another session holds the stored-offset rows of the
# partitions of worker 0 (SELECT ... FOR UPDATE in consumer_offsets) for 40 s, so every
# transaction of worker 0 waits at its fence for pg.lock_timeout.ms and is retried, and
# its batches pile up. Worker 1's partitions must be applied to their end meanwhile: the
# poll thread pauses only the stuck worker's partitions and keeps feeding the other (it used
# to wait for the stuck worker with every partition behind it). Once the lock goes, worker
# 0 catches up: every event applied once, in order, none dead-lettered.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f42.roster group=f42-roster
case_topics "$topic" 12
load_reference
roster_file good 6200 24000 --updates 3 --terminations 1
publish_rows "$topic" good.csv
rows=$(($(wc -l <good.csv) - 1))

# The partitions of each worker, as common/consumer.c's worker_of spreads them: the topic
# name's hash (h = h * 31 + byte, 32 bits) plus the partition, modulo the workers.
worker_parts() {
    python3 -c '
import sys
h = 0
for b in sys.argv[1].encode():
    h = (h * 31 + b) & 0xffffffff
print(",".join(str(p) for p in range(12) if (h + p) % 2 == int(sys.argv[2])))' "$topic" "$1"
}
stuck_parts=$(worker_parts 0) free_parts=$(worker_parts 1)
echo "worker 0 (held): partitions $stuck_parts; worker 1: partitions $free_parts"

# The stored offsets of every partition, at 0, and those of worker 0 held by another session
# before the consumer starts: each transaction of worker 0 then waits at its fence.
q "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
   SELECT '$group', '$topic', p, 0 FROM generate_series(0, 11) p"
start_bg locker psql -X -Atq -v ON_ERROR_STOP=1 -c "BEGIN;
    SELECT partition FROM consumer_offsets WHERE group_id = '$group' AND topic = '$topic'
        AND partition IN ($stuck_parts) FOR UPDATE;
    SELECT pg_sleep(40);
    COMMIT"
held() { [[ $(q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                 WHERE a.query LIKE '%pg_sleep(40)%' AND l.locktype = 'transactionid' AND a.pid <> pg_backend_pid()") -ge 1 ]]; }
wait_until 10 held || fail "the locker did not take its locks: $(tail -n 3 "$(bg_log locker)")"
start_consumer consumerA roster-consumer "$topic" "$group" --apply.workers 2 --pg.lock_timeout.ms 2000
fault=$(now_ms)
applied_in() { q "SELECT count(*) FROM applied_events WHERE topic = '$topic' AND partition IN ($1)"; }
end_of() {
    local p n=0
    for p in ${1//,/ }; do
        n=$((n + $(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -p "$p" -e -q -f 'x\n' 2>/dev/null | wc -l)))
    done
    echo "$n"
}
free_end=$(end_of "$free_parts")
stuck_at=0

# Worker 1's partitions to their end while worker 0 is held (30 s of the lock's 40).
free_done() { (($(applied_in "$free_parts") == free_end)); }
wait_until 30 free_done ||
    fail "worker 1 stopped while worker 0 was held: $(applied_in "$free_parts") of $free_end applied" \
        "$(secs_since "$fault")s after the start"
echo "worker 1's partitions applied to their end $(secs_since "$fault")s after the start"
assert_running locker
held_count=$(applied_in "$stuck_parts")
((held_count == stuck_at)) || fail "worker 0 applied $((held_count - stuck_at)) events through the lock"
echo "ok: worker 0 applied nothing while held ($held_count)"
grep -q 'batch failed; retrying' "$(bg_log consumerA)" ||
    fail "worker 0 never reported its retries: $(tail -n 3 "$(bg_log consumerA)")"

wait_settled "$topic" "$group" 180 consumerA
: >good.skip
stuck=$(all_resumed_after "$topic" "$fault")
check_exactly_once "$topic" "$group" good.csv good.skip
assert_eq "dead letters" 0 "$CHECK_DEAD"
stop_consumer consumerA
finish_case "$stuck"
