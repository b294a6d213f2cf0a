#!/usr/bin/env bash
# A record every check lets through but PostgreSQL refuses: a trigger created for this test
# raises SQLSTATE 23514 (check_violation) for the coverages of one marked worker, whose
# only event (an ENROLL) sits in the middle of a backlog. roster-consumer must find it by
# splitting the batch, dead-letter it alone with error class db and its SQLSTATE (in
# dead_letters and with header dlq.sqlstate on the DLQ), and apply the rest once. Then the
# trigger is dropped and the dead letter replayed (covadm): it is applied once.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f12.roster group=f12-roster
case_topics "$topic" 12
load_reference
roster_file good 2500 3000 --updates 5 --terminations 2

# The marked worker: one with a single row, near the middle of the file.
mid=$(($(wc -l <good.csv) / 2))
read -r marked marked_line < <(awk -F, -v mid="$mid" '
    NR > 1 { n[$2]++; line[$2] = NR }
    END { for (k in n) if (n[k] == 1 && line[k] >= mid) print line[k], k }' good.csv |
    sort -n | head -n 1 | awk '{print $2, $1}')
[[ -n $marked ]] || fail "no worker with a single row in the second half"
echo "marked worker: line $marked_line ($(sed -n "${marked_line}p" good.csv | cut -d, -f1))"

q "CREATE FUNCTION f12_refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$
   BEGIN
       IF NEW.nik = '$marked' THEN
           RAISE EXCEPTION 'f12: coverage refused by the fault test''s trigger'
               USING ERRCODE = 'check_violation';
       END IF;
       RETURN NEW;
   END \$\$;
   CREATE TRIGGER f12_refuse BEFORE INSERT OR UPDATE ON coverages
       FOR EACH ROW EXECUTE FUNCTION f12_refuse()"
drop_trigger() { q "SET client_min_messages = warning; DROP TRIGGER IF EXISTS f12_refuse ON coverages; DROP FUNCTION IF EXISTS f12_refuse()"; }
on_exit drop_trigger

publish_rows "$topic" good.csv
rows=$(($(wc -l <good.csv) - 1))
assert_eq "records on $topic" "$rows" "$(topic_end "$topic")"

watch_progress "$topic"
start_consumer consumer roster-consumer "$topic" "$group"
wait_settled "$topic" "$group" 180 consumer
assert_running consumer

assert_eq "dead letters" "1" "$(q "SELECT count(*) FROM dead_letters WHERE topic = '$topic'")"
assert_match "the dead letter" '^db\|23514\|.*f12: coverage refused' \
    "$(q "SELECT error_class, sqlstate, error_message FROM dead_letters WHERE topic = '$topic'" | tr '\n' ' ')"
assert_eq "the dead letter's key is the marked worker" "$marked" \
    "$(q "SELECT convert_from(msg_key, 'UTF8') FROM dead_letters WHERE topic = '$topic'")"
kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic.dlq" -e -q -f '%h\n' >dlq.txt
# (The error message of PostgreSQL spans lines: ERROR, then CONTEXT.)
assert_match "its DLQ headers" "dlq\.partition=[0-9]+,dlq\.offset=[0-9]+,dlq\.error\.class=db,.*dlq\.sqlstate=23514" \
    "$(tr '\n' ' ' <dlq.txt)"
grep -q 'bisects=[1-9]' "$(bg_log consumer)" || fail "no bisect counted in the progress lines"
grep -q 'record dead-lettered by the database' "$(bg_log consumer)" ||
    fail "the consumer did not log the record it dead-lettered"
assert_eq "coverages of the marked worker" "0" "$(q "SELECT count(*) FROM coverages WHERE nik = '$marked'")"

echo "line $marked_line: refused by the trigger" >good.skip
check_exactly_once "$topic" "$group" good.csv good.skip
stuck=$(longest_stall progress)
((${#CHECK_PROBLEMS[@]} == 0)) || finish_case "$stuck"

# The cause fixed, the dead letter replayed: applied once, nothing else changes.
drop_trigger
"$BIN/covadm" dead-letters replay --topic "$topic" --class db >replay.log 2>&1 ||
    fail "covadm dead-letters replay: $(tail -n 3 replay.log)"
wait_until 30 count_at_least "$topic" $((rows + 1)) || fail "the replay is not on $topic"
wait_settled "$topic" "$group" 60 consumer
programs=$(awk -F, -v l="$marked_line" 'NR == l {print $13 == "" ? 2 : split($13, a, ";")}' good.csv)
assert_eq "coverages of the marked worker after the replay" "$programs" \
    "$(q "SELECT count(*) FROM coverages WHERE nik = '$marked'")"
assert_eq "dead letters after the replay" "1|1" \
    "$(q "SELECT count(*), count(replayed_at) FROM dead_letters WHERE topic = '$topic'")"
: >good.skip
check_exactly_once "$topic" "$group" good.csv good.skip
stop_consumer consumer
finish_case "$stuck"
