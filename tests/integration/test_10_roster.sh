#!/usr/bin/env bash
# The roster pipeline end to end on the real stack: a generated Wajo roster with invalid
# rows is published (each invalid row reported as file:line:column and not sent), drained
# by roster-consumer, and the coverages compared row for row with an independent oracle
# (roster_oracle.py); publishing the same file again changes nothing; events the producer
# accepts but the rules refuse, and a record that does not decode, go to the DLQ of the
# topic they came from (roster.changes.dc-sulsel.dlq, roster.changes.dc-maluku.dlq,
# roster.changes.dlq) with their headers and to dead_letters.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null

# --- a bad agreements file is refused whole, each error at file:line:column
agreements=$(q "SELECT count(*) FROM agreements")
cat >bad-agreements.csv <<CSV
agreement_id,name,institution,counterparty,bpjs_branch,region_scope,programs,period_start,period_end,funding_source
PKS-GOOD-7313,Good,KPU,KPU Wajo,KC Sengkang,73.13,JKK;JKM,2023-01-01,2024-12-31,APBD
PKS-BAD-7313,Bad,KPPS,KPU Wajo,KC Sengkang,73.70,JKK;JKX,2024-12-31,2023-01-01,APBD
CSV
status=0
"$BIN/covadm" agreements load bad-agreements.csv 2>covadm.err || status=$?
assert_eq "covadm exit status on a bad file" 1 "$status"
assert_match "institution error" "^bad-agreements\.csv:3:3: institution" "$(sed -n 1p covadm.err)"
grep -q "^bad-agreements\.csv:3:6: " covadm.err || fail "region_scope error not at 3:6: $(cat covadm.err)"
grep -q "^bad-agreements\.csv:3:7: programs" covadm.err || fail "programs error not at 3:7: $(cat covadm.err)"
grep -q "^bad-agreements\.csv:3:9: period_end is before period_start" covadm.err ||
    fail "period error not at 3:9: $(cat covadm.err)"
assert_eq "nothing loaded from a bad file" "$agreements" "$(q "SELECT count(*) FROM agreements")"

# Other tests share the stack: count from what is there now.
base_applied=$(q "SELECT count(*) FROM applied_events")
base_offsets=$(q "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = 'roster-consumer'")
base_dead=$(q "SELECT count(*) FROM dead_letters")
base_dlq=$(dlq_dump roster.changes '%o\n' | grep -c . || true)
decided() { echo $(($(q "SELECT count(*) FROM applied_events") - base_applied)); }

"$BIN/gen_roster" --seed 11 --regency 73.13 --updates 3 --terminations 2 --invalid 7 \
    --output roster.csv 2>invalid.txt
rows=$(($(wc -l <roster.csv) - 1))

# --- producer: invalid rows reported with file:line:column and the rule, not sent
status=0
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>producer.log || status=$?
assert_eq "producer exit status with rejected rows" 1 "$status"
assert_match "summary line" "^summary: rows=$rows sent=$((rows - 7)) rejected=7 " \
    "$(grep '^summary:' producer.log)"
# Its CPU split: main's thread and the worker's (the default one) are parts of the whole.
grep '^summary:' producer.log | tr ' ' '\n' | awk -F= '{ v[$1] = $2 }
    END { exit !("workers_cpu_s" in v && v["cpu_s"] > 0 && v["main_cpu_s"] > 0 &&
                 v["main_cpu_s"] + v["workers_cpu_s"] <= v["cpu_s"] + 0.002) }' ||
    fail "summary's CPU split (cpu_s >= main_cpu_s + workers_cpu_s): $(grep '^summary:' producer.log)"
while read -r _ line _; do
    line=${line%:}
    grep -qE "^roster\.csv:$line:[0-9]+: " producer.log ||
        fail "invalid row at line $line not reported as roster.csv:$line:<column>: rule"
done <invalid.txt

# --- consumer: drain, then compare every coverage with the oracle
timeout 180 "$BIN/roster-consumer" --exit.when.drained 2>consumer.log ||
    fail "roster-consumer failed: $(tail -n 5 consumer.log)"
python3 "$REPO/tests/integration/roster_oracle.py" roster.csv invalid.txt | LC_ALL=C sort >expected.txt
awk -F, 'NR > 1 { print $2 }' roster.csv | sort -u >niks.txt
coverage_rows niks.txt >actual.txt
assert_ge "coverages expected" 50000 "$(wc -l <expected.txt)"
diff expected.txt actual.txt >coverage.diff || fail "coverages differ from the oracle: $(head -n 5 coverage.diff)"
assert_eq "workers" "$(cut -d'|' -f1 expected.txt | sort -u | wc -l)" \
    "$(q_niks niks.txt "SELECT count(*) FROM workers WHERE nik IN (SELECT nik FROM mine)")"
assert_eq "events decided" "$((rows - 7))" "$(decided)"
assert_eq "dead letters after a clean file" "$base_dead" "$(q "SELECT count(*) FROM dead_letters")"

# --- publishing the same file again changes nothing
full() { q "SELECT md5(string_agg(c::text, ',' ORDER BY coverage_id)) FROM coverages c"; }
before=$(full)
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>/dev/null || true
timeout 180 "$BIN/roster-consumer" --exit.when.drained 2>consumer2.log ||
    fail "second roster-consumer failed: $(tail -n 5 consumer2.log)"
assert_eq "coverages after re-publishing (incl. updated_at)" "$before" "$(full)"
assert_eq "events decided after re-publishing" "$((rows - 7))" "$(decided)"
assert_eq "offsets stored = records consumed" "$((base_offsets + 2 * (rows - 7)))" \
    "$(q "SELECT sum(next_offset) FROM consumer_offsets WHERE group_id = 'roster-consumer'")"

# --- events the producer accepts but the consumer's rules refuse
dl_from=$(q "SELECT coalesce(max(dead_letter_id), 0) FROM dead_letters")
enrolled=$(awk -F, '$1 == "ENROLL" && $7 == "KPPS" { print; exit }' roster.csv)
IFS=, read -r _ nik name birth gender inst role region tps start end wage progs agr _ <<<"$enrolled"
cat >refused.csv <<CSV
change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id,effective_date
UPDATE,7313010101909901,,,,,,,,,,1300000,,,2024-02-01
ENROLL,7313010202909902,Nur Aisyah,1990-02-02,L,KPU,KPPS,73.13.01.1001,1,2024-01-25,2024-02-25,1100000,JKK;JKM,PKS-KPU-9999-2023,
ENROLL,$nik,$name,$birth,$gender,$inst,$role,$region,$tps,$start,$end,$((wage + 1000)),$progs,$agr,
TERMINATE,7313010303909903,,,,,,,,,,,,,2024-02-01
CSV
"$BIN/roster-producer" --source dc-sulsel --progress never refused.csv 2>refused.log ||
    fail "producer refused rows it should send: $(cat refused.log)"
# A data center publishing outside its provinces (dc-maluku serves 81 only): class auth.
"$BIN/gen_roster" --seed 5 --serial-base 8000 --regency 73.13 --scale-events 3 --output foreign.csv 2>/dev/null
"$BIN/roster-producer" --source dc-maluku --progress never foreign.csv 2>/dev/null ||
    fail "producer refused the foreign rows"
printf 'garbage' | kcat -P -b "$KAFKA_BOOTSTRAP" -t roster.changes -k 7313010404909904 -X acks=all
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>consumer3.log ||
    fail "third roster-consumer failed: $(tail -n 5 consumer3.log)"

dl() { q "SELECT count(*) FROM dead_letters WHERE dead_letter_id > $dl_from AND error_message LIKE '$1%'"; }
assert_eq "UPDATE of an unknown NIK" 1 "$(dl 'unknown_worker: UPDATE')"
assert_eq "TERMINATE of an unknown NIK" 1 "$(dl 'unknown_worker: TERMINATE')"
assert_eq "ENROLL with an unknown agreement" 1 "$(dl 'unknown_agreement')"
assert_eq "ENROLL overlapping a term" 1 "$(dl 'overlapping_term')"
assert_eq "source not authorised" 3 "$(dl 'source_not_authorised: data center dc-maluku')"
assert_eq "... as class auth, from its own topic" "3" \
    "$(q "SELECT count(*) FROM dead_letters WHERE dead_letter_id > $dl_from AND error_class = 'auth'
          AND topic = 'roster.changes.dc-maluku'")"
assert_eq "undecodable record" 1 \
    "$(q "SELECT count(*) FROM dead_letters WHERE dead_letter_id > $dl_from AND error_class = 'decode'")"
assert_eq "nothing else rejected" 8 "$(q "SELECT count(*) FROM dead_letters WHERE dead_letter_id > $dl_from")"
assert_eq "NIKs masked in dead_letters" 0 \
    "$(q "SELECT count(*) FROM dead_letters WHERE nik_masked IS NOT NULL AND nik_masked !~ '^[0-9]{4}\*{8}[0-9]{4}$'")"

# The DLQ topics hold the same 8 records, bytes unchanged, with the headers contracts.md
# lists: each on the DLQ of its own topic.
dlq_dump roster.changes '%h\n' >dlq-headers.txt
total=$(grep -c . dlq-headers.txt)
assert_eq "new records on the roster DLQs" 8 "$((total - base_dlq))"
assert_ge "on roster.changes.dc-maluku.dlq" 3 "$(topic_count roster.changes.dc-maluku.dlq)"
assert_ge "on roster.changes.dlq (the undecodable one)" 1 "$(topic_count roster.changes.dlq)"
for h in dlq.topic=roster.changes dlq.partition= dlq.offset= dlq.error.class= dlq.error.message= \
    dlq.group=roster-consumer dlq.time=; do
    assert_eq "records with header $h" "$total" "$(grep -c "$h" dlq-headers.txt)"
done
assert_eq "undecodable record's bytes kept" "garbage" \
    "$(kcat -C -b "$KAFKA_BOOTSTRAP" -t roster.changes.dlq -e -q -f '%s\n' | grep -c garbage | sed 's/^1$/garbage/')"
grep -q 'dlq.topic=roster.changes.dc-sulsel,' dlq-headers.txt ||
    fail "no dead letter from roster.changes.dc-sulsel: $(head -n 3 dlq-headers.txt)"
