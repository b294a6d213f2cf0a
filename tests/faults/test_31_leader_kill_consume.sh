#!/usr/bin/env bash
# The leader of a partition killed -9 while roster-consumer drains a backlog (produced
# before): the consumer fetches from the new leaders once the controllers fence the dead
# node, keeps running, and applies every event once, in order; nothing is lost (the
# records were acknowledged by min.insync.replicas 2 of 3). The node killed is the leader
# of the partition with the most left to apply. Stuck: the longest time the partitions
# the killed node led were not applied further, after the kill.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f31.roster group=f31-roster
case_topics "$topic" 12
load_reference
roster_file good 5000 60000 --updates 3 --terminations 1
publish_rows "$topic" good.csv
rows=$(($(wc -l <good.csv) - 1))
kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -e -q -f '%p\n' | sort -n | uniq -c | awk '{print $2 "|" $1}' >ends.txt

watch_progress "$topic"
start_consumer consumer roster-consumer "$topic" "$group"
applied_at_least() { (($(q "SELECT count(*) FROM applied_events WHERE topic = '$topic'") >= $1)); }
wait_until 60 applied_at_least $((rows / 10)) || fail "no progress: $(tail -n 3 "$(bg_log consumer)")"

# The partition with the most left to apply (its end less its stored offset).
read -r part left < <(q "SELECT partition, next_offset FROM consumer_offsets WHERE group_id = '$group'" |
    awk -F'|' 'NR == FNR {end[$1] = $2; next} {done[$1] = $2}
        END {for (p in end) print p, end[p] - done[p]}' ends.txt - | sort -k2,2nr | head -n 1)
echo "partition $part has $left events left to apply;" \
    "$(q "SELECT count(*) FROM applied_events WHERE topic = '$topic'") of $rows applied"
kill_leader "$topic" "$part"
wait_progress_after "$FAULT" 120 led >/dev/null
applied_led() { q "SELECT count(*) FROM applied_events WHERE topic = '$topic' AND partition IN ($LED)"; }
echo "applied on those partitions: $(applied_led)"

finish_leader_kill "$topic" "$group" good.csv
