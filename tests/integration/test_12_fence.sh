#!/usr/bin/env bash
# A consumer that lost its partitions cannot write them: while roster-consumer is paused
# (SIGSTOP), events are published and the stored offsets move past them, as if another
# member of the group had taken the partitions over and applied them. When the paused
# consumer resumes, its batch is fenced: nothing of it is written, and it continues from
# the offsets PostgreSQL holds.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
"$BIN/gen_roster" --seed 31 --serial-base 6000 --regency 73.13 --scale-events 40 --output first.csv 2>/dev/null
"$BIN/gen_roster" --seed 32 --serial-base 6500 --regency 73.71 --scale-events 40 --output second.csv 2>/dev/null
"$BIN/roster-producer" --source dc-sulsel --progress never first.csv 2>/dev/null
TOPIC=roster.changes.dc-sulsel # dc-sulsel's own topic (its config file says so)

start_bg consumer "$BIN/roster-consumer" --stats.interval.s 1
pid=$BG_PID
base_applied=$(q "SELECT count(*) FROM applied_events")
applied() { echo $(($(q "SELECT count(*) FROM applied_events") - base_applied)); }
applied_is() { [ "$(applied)" -eq "$1" ]; }
wait_until 60 applied_is 40 || fail "first file not applied: $(tail -n 5 "$(bg_log consumer)")"

kill -STOP "$pid"
"$BIN/roster-producer" --source dc-sulsel --progress never second.csv 2>/dev/null
# "Another consumer" has applied everything up to the end of each partition.
kcat -C -b "$KAFKA_BOOTSTRAP" -t "$TOPIC" -e -q -f '%p %o\n' |
    awk '{ if ($2 + 1 > end[$1]) end[$1] = $2 + 1 } END { for (p in end) print p, end[p] }' >ends.txt
while read -r p end; do
    q "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
       VALUES ('roster-consumer', '$TOPIC', $p, $end)
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset" >/dev/null
done <ends.txt
kill -CONT "$pid"

wait_until 60 grep -q 'batch fenced' "$(bg_log consumer)" || fail "the stale batch was not fenced"
sleep 2
assert_eq "events of the fenced batch written" 40 "$(applied)"
second_niks=$(awk -F, 'NR > 1 { printf "%s'\''%s'\''", (n++ ? "," : ""), $2 }' second.csv)
assert_eq "workers of the fenced batch" 0 "$(q "SELECT count(*) FROM workers WHERE nik IN ($second_niks)")"
assert_eq "stored offsets untouched by the fenced consumer" "$(awk '{ s += $2 } END { print s }' ends.txt)" \
    "$(q "SELECT sum(next_offset) FROM consumer_offsets WHERE group_id = 'roster-consumer'
          AND topic = '$TOPIC'")"
alive "$pid" || fail "the consumer died after being fenced"

# It goes on from the stored offsets: new events are applied normally.
"$BIN/gen_roster" --seed 33 --serial-base 7000 --regency 73.13 --scale-events 10 --output third.csv 2>/dev/null
"$BIN/roster-producer" --source dc-sulsel --progress never third.csv 2>/dev/null
wait_until 60 applied_is 50 || fail "events after the fence not applied"
status=0
stop_bg consumer TERM || status=$?
assert_eq "exit status on SIGTERM" 0 "$status"
