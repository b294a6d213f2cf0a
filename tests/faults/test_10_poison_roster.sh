#!/usr/bin/env bash
# Poisoned roster records between good ones: records another Kafka client wrote (not our
# producer, so nothing checked them), each an ENROLL of a worker of its own with one field
# overwritten: invalid UTF-8 in full_name, agreement_id and source; an event_id that is
# not a UUID (alone, and with a rule broken too); event_time of -2^62 and +2^62 µs;
# term_end of 2^31-2 days; birth_date of -2^31+2 days; and bytes that are not Avro. They
# sit in the middle of a backlog of good events (ENROLL, UPDATE, TERMINATE) on the same
# partitions. roster-consumer drains it: each poison is dead-lettered alone (or, when
# PostgreSQL can store it as it is, applied), every good event is applied once and in
# order, nothing is lost, the consumer keeps running.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f10.roster group=f10-roster
case_topics "$topic" 12
load_reference
roster_file good 1000 4000 --updates 5 --terminations 2
roster_file base 1100 20
assert_eq "poison base rows of distinct workers" 20 "$(awk -F, 'NR > 1 {print $2}' base.csv | sort -u | wc -l)"

rows=$(($(wc -l <good.csv) - 1))
half=$((rows / 2 + 1))
publish_rows "$topic" good.csv 2 "$half"

# One poison per base row (line 2, 3, ...). Time in µs, dates in days since 1970-01-01.
line=1
p() {
    line=$((line + 1))
    poison "$1" --topic "$topic" --rows base.csv --line "$line" roster "${@:2}"
    echo "line $line: poison $1" >>poisoned_lines.txt
}
p full_name_continuation 'full_name=Andi \x80Baso'
p full_name_truncated 'full_name=Andi Baso\xe2\x82'
p full_name_surrogate 'full_name=Andi \xed\xa0\x80'
p agreement_id_utf8 'agreement_id=PKS-KPU-7313-2023\xff'
p source_utf8 'source=dc-sulsel\xc0\xaf'
p event_id_not_uuid event_id=not-a-uuid
p event_id_not_uuid_and_rule event_id=not-a-uuid-either term_end=0
p event_time_min event_time=$((-(1 << 62)))
p event_time_max event_time=$((1 << 62))
p term_end_max term_end=$(((1 << 31) - 2))
p birth_date_min birth_date=$((-(1 << 31) + 2))
poison not_avro --topic "$topic" --nik 7313010101011100 raw --size 300 --seed 10
printf '\x00\x00\x00\x00\x01\x48' >truncated.bin # the wire header, then 1 byte of body
poison avro_truncated --topic "$topic" --nik 7313010101011101 raw --value-file truncated.bin

publish_rows "$topic" good.csv $((half + 1))
published=$(($(wc -l <poisons.txt) + rows))
assert_eq "records on $topic" "$published" "$(topic_end "$topic")"

watch_progress "$topic"
start_consumer consumer roster-consumer "$topic" "$group"
wait_settled "$topic" "$group" 180 consumer
assert_running consumer

poison_outcomes "$topic" "$group"
while read -r label outcome _; do
    case $label in
    event_time_max) [[ $outcome == dead-lettered || $outcome == applied ]] ;;
    *) [[ $outcome == dead-lettered ]] ;;
    esac || fail "poison $label: $outcome"
done <outcomes.txt
echo "ok: every poison dead-lettered (event_time +2^62 µs is a time PostgreSQL can hold)"
assert_match "non-UUID event_id with a broken rule" '^[^ ]+ dead-lettered validation ' \
    "$(outcome_of event_id_not_uuid_and_rule)"
assert_match "non-Avro bytes" '^[^ ]+ dead-lettered decode ' "$(outcome_of not_avro)"
assert_match "truncated Avro" '^[^ ]+ dead-lettered decode ' "$(outcome_of avro_truncated)"
while read -r label; do
    assert_match "SQLSTATE of $label" '^[^ ]+ dead-lettered db [0-9A-Z]{5} ' "$(outcome_of "$label")"
done < <(awk '$3 == "db" {print $1}' outcomes.txt)

# The oracle: the good file whole; of the base file, the poisons that were applied.
: >good.skip
awk 'NR > 1 {print "line " NR ": not published"}' base.csv >base.skip
while read -r label outcome _; do
    [[ $outcome == applied ]] || continue
    n=$(awk -v l="$label" '$NF == l {sub(/:$/, "", $2); print $2}' poisoned_lines.txt)
    sed -i "/^line $n: /d" base.skip
done <outcomes.txt
check_exactly_once "$topic" "$group" good.csv good.skip base.csv base.skip
assert_eq "dead letters are the poisons" "$(grep -c ' dead-lettered ' outcomes.txt)" "$CHECK_DEAD"
stuck=$(longest_stall progress)
grep -q 'ready=0' "$(bg_log consumer)" && echo "(the consumer reported not ready at some time)"
stop_consumer consumer
finish_case "$stuck"
