#!/usr/bin/env bash
# Poisoned incident records between good ones: records another Kafka client wrote, each a
# report of its own with one field overwritten: invalid UTF-8 in source, description,
# reporter_name and report_id; an event_id that is not a UUID; event_time of -2^62 and
# +2^62 µs; occurred_at of -2^62 µs; and bytes that are not Avro. They sit in the middle
# of a backlog of good reports (first reports and second reports of the same incident) for
# enrolled workers. incident-consumer drains it: each poison is dead-lettered alone (or
# applied when PostgreSQL can hold it as it is), every good report is applied once (one
# incident per worker and day, each report recorded once), nothing is lost, the consumer
# keeps running.
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

topic=f11.incidents group=f11-incidents
case_topics "$topic" 6
load_reference

# Workers enrolled through the roster pipeline (its own topic), then their incidents.
case_topics f11.roster 3
roster_file workers 2000 300
roster_file base_workers 2100 20
cat workers.csv <(tail -n +2 base_workers.csv) >enroll.csv
publish_rows f11.roster enroll.csv
timeout 120 "$BIN/roster-consumer" --topic f11.roster --group f11-roster --exit.when.drained \
    "${CONSUMER_OPTS[@]}" 2>roster-consumer.log || fail "roster-consumer: $(tail -n 3 roster-consumer.log)"

# incidents_of ROSTER: one ACCIDENT report per worker on its first term's first day at
# 10:00 WITA, and for every third worker a second report of it by Bawaslu an hour later
# (the same incident: linked, no second claim).
incidents_of() {
    echo "report_id,nik,type,occurred_at,reported_at,region_code,circumstance,cause,severity,description,reporter_institution,reporter_name,reporter_phone"
    awk -F, 'NR > 1 && $1 == "ENROLL" && !seen[$2]++ {
        day = $10; region = $8; gsub(/\./, "", region)
        printf "KPU-%s,%s,ACCIDENT,%sT10:00:00+08:00,%sT12:00:00+08:00,%s,ON_DUTY,FALL,MINOR,Fell at the TPS,KPU,Sekretariat PPS,\n", $2, $2, day, day, region
        if (n++ % 3 == 0)
            printf "BWS-%s,%s,ACCIDENT,%sT10:05:00+08:00,%sT13:00:00+08:00,%s,ON_DUTY,FALL,MINOR,The same fall seen by the PTPS,BAWASLU,Panwascam,\n", $2, $2, day, day, region
    }' "$1"
}
incidents_of workers.csv >good.csv
incidents_of base_workers.csv | awk -F, 'NR == 1 || $1 ~ /^KPU-/' >base.csv
rows=$(($(wc -l <good.csv) - 1))
half=$((rows / 2 + 1))
"$BIN/incident-producer" --source dc-sulsel --topic "$topic" --progress never \
    <(sed -n "1,${half}p" good.csv) 2>producer.log || fail "incident-producer: $(tail -n 3 producer.log)"

line=1
p() {
    line=$((line + 1))
    poison "$1" --topic "$topic" --rows base.csv --line "$line" incident "${@:2}"
}
p source_utf8 'source=dc-sulsel\xff'
p description_utf8 'description=Jatuh \xe2\x28\xa1 di TPS'
p reporter_name_utf8 'reporter_name=Sekretariat \xc3'
p report_id_utf8 'report_id=KPU-\xed\xbf\xbf-001'
p event_id_not_uuid event_id=0123456789abcdef
p event_time_min event_time=$((-(1 << 62)))
p event_time_max event_time=$((1 << 62))
p occurred_at_min occurred_at=$((-(1 << 62)))
poison not_avro --topic "$topic" --nik 7313010101012100 raw --size 200 --seed 11

"$BIN/incident-producer" --source dc-sulsel --topic "$topic" --progress never \
    <(head -n 1 good.csv && sed -n "$((half + 1)),\$p" good.csv) 2>producer.log ||
    fail "incident-producer: $(tail -n 3 producer.log)"
published=$(($(wc -l <poisons.txt) + rows))
assert_eq "records on $topic" "$published" "$(topic_end "$topic")"

watch_progress "$topic"
start_consumer consumer incident-consumer "$topic" "$group"
wait_settled "$topic" "$group" 180 consumer
assert_running consumer

poison_outcomes "$topic" "$group"
while read -r label outcome _; do
    case $label in
    event_time_*) [[ $outcome == dead-lettered || $outcome == applied ]] ;;
    *) [[ $outcome == dead-lettered ]] ;;
    esac || fail "poison $label: $outcome"
done <outcomes.txt
echo "ok: every poison dead-lettered (an incident's event_time is not stored; ±2^62 µs may pass)"
assert_match "non-Avro bytes" '^[^ ]+ dead-lettered decode ' "$(outcome_of not_avro)"
while read -r label; do
    assert_match "SQLSTATE of $label" '^[^ ]+ dead-lettered db [0-9A-Z]{5} ' "$(outcome_of "$label")"
done < <(awk '$3 == "db" {print $1}' outcomes.txt)

check_exactly_once "$topic" "$group"
assert_eq "dead letters are the poisons" "$(grep -c ' dead-lettered ' outcomes.txt)" "$CHECK_DEAD"

# Applied once: each good report is one incident_reports row, one incident per worker.
awk -F, 'NR > 1 {print $2}' good.csv | sort -u >good.niks
assert_eq "reports recorded of the good file" "$rows" \
    "$(q_niks good.niks "SELECT count(*) FROM incident_reports r JOIN incidents i USING (incident_id)
                         WHERE i.nik IN (SELECT nik FROM mine)")"
assert_eq "incidents of the good file" "$(wc -l <good.niks)" \
    "$(q_niks good.niks "SELECT count(*) FROM incidents WHERE nik IN (SELECT nik FROM mine)")"
assert_eq "claims of the good file (one per incident, covered on duty)" "$(wc -l <good.niks)" \
    "$(q_niks good.niks "SELECT count(*) FROM claims WHERE nik IN (SELECT nik FROM mine)")"
applied_poisons=$(grep -c ' applied$' outcomes.txt || true)
awk -F, 'NR > 1 {print $2}' base.csv | sort -u >base.niks
assert_eq "reports recorded of the poisons (the applied ones)" "$applied_poisons" \
    "$(q_niks base.niks "SELECT count(*) FROM incident_reports r JOIN incidents i USING (incident_id)
                         WHERE i.nik IN (SELECT nik FROM mine)")"
stuck=$(longest_stall progress)
stop_consumer consumer
finish_case "$stuck"
