#!/usr/bin/env bash
# The incident consumer on the real stack: workers enrolled through the roster pipeline,
# incidents published with incident-producer, and the exact rows incident-consumer writes:
# a JKK death claim pending determination, a second report of the same death linked to the
# one incident, an off-duty accident without a claim, an accident just after the term in
# local time, a late report, a NIK never enrolled, a report after the death, an event the
# routing cannot decide and a record that does not decode (both dead-lettered); the death
# closing the worker's coverage so a later roster UPDATE is dead-lettered; the claims'
# outbox rows; and publishing everything again changing nothing.
. "$(dirname "$0")/lib.sh"

# NIKs of this test only (serials 93xx), so other tests' rows never match.
W1=7313011501909301 # dies on duty; also reported by Bawaslu; later roster UPDATE
W2=7313012002859302 # off-duty accident
W3=7313013003889303 # accident just after the end of the term (local time)
W4=7313011004929304 # serious accident reported late
W5=7313011212959305 # never enrolled
W6=7313012512809306 # accident before any benefit-table version (PP 44/2015 starts 2015-07-01): undecidable
MINE="'$W1','$W2','$W3','$W4','$W5','$W6'"

cd "$TEST_TMP"
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null

cat >roster.csv <<EOF
change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id
ENROLL,$W1,Andi Baso,1990-01-15,L,KPU,KPPS,73.13.01.1001,1,2024-01-01,2024-03-31,1200000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,$W1,Andi Baso,1990-01-15,L,KPU,KPPS,73.13.01.1001,1,2024-06-01,2024-06-30,1200000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,$W2,Besse Tenri,1985-02-20,L,KPU,KPPS,73.13.01.1001,2,2024-01-01,2024-03-31,1100000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,$W3,Cakra Wijaya,1988-03-30,L,KPU,KPPS,73.13.01.1001,3,2024-01-01,2024-02-29,1100000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,$W4,Daeng Muh,1992-04-10,L,KPU,KPPS,73.13.01.1001,4,2024-01-01,2024-03-31,1500000,JKK;JKM,PKS-KPU-7313-2023
EOF
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>roster-producer.log ||
    fail "roster-producer: $(cat roster-producer.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>roster-consumer.log ||
    fail "roster-consumer: $(tail -n 5 roster-consumer.log)"
assert_eq "coverages enrolled" "10" "$(q "SELECT count(*) FROM coverages WHERE nik IN ($MINE)")"

# Times: 73 is WITA (UTC+8). W3's accident is 29 February 16:30Z = 1 March 00:30 WITA.
# W4's report comes 72 hours and 1 second after the accident (deadline 48 hours).
cat >incidents.csv <<EOF
report_id,nik,type,occurred_at,reported_at,region_code,circumstance,cause,severity,description,reporter_institution,reporter_name,reporter_phone
KPU-001,$W1,DEATH,2024-02-14T21:00:00+08:00,2024-02-15T08:00:00+08:00,73.13.01.1001,ON_DUTY,EXHAUSTION,,Collapsed while counting ballots,KPU,Sekretariat PPS Ritope,
BWS-017,$W1,DEATH,2024-02-14T21:30:00+08:00,2024-02-15T10:00:00+08:00,73.13.01.1001,ON_DUTY,EXHAUSTION,,The same death reported by the PTPS,BAWASLU,Panwascam Sabbangparu,+6281234567890
KPU-002,$W2,ACCIDENT,2024-02-10T19:00:00+08:00,2024-02-11T09:00:00+08:00,73.13.01.1001,OFF_DUTY,TRAFFIC,MINOR,Motorbike accident on a private trip,KPU,Sekretariat PPS Ritope,
KPU-003,$W3,ACCIDENT,2024-02-29T16:30:00Z,2024-03-01T09:00:00+08:00,73.13.01.1001,ON_DUTY,FALL,MODERATE,Fell from the TPS stage after midnight,KPU,Sekretariat PPS Ritope,
KPU-004,$W4,ACCIDENT,2024-02-14T10:00:00+08:00,2024-02-17T10:00:01+08:00,73.13.01.1001,COMMUTING,TRAFFIC,SERIOUS,Hit by a truck on the way to the TPS,KPU,Sekretariat PPS Ritope,
KPU-005,$W5,ACCIDENT,2024-02-14T11:00:00+08:00,2024-02-14T12:00:00+08:00,73.13.01.1001,ON_DUTY,FALL,MINOR,Not on any roster,KPU,Sekretariat PPS Ritope,
KPU-006,$W1,ACCIDENT,2024-02-20T11:00:00+08:00,2024-02-20T12:00:00+08:00,73.13.01.1001,ON_DUTY,FALL,MINOR,Reported after the death,KPU,Sekretariat PPS Ritope,
KPU-007,$W6,ACCIDENT,2014-05-01T11:00:00+08:00,2014-05-01T12:00:00+08:00,73.13.01.1001,ON_DUTY,FALL,MINOR,Before the first benefit table,KPU,Sekretariat PPS Ritope,
EOF
"$BIN/incident-producer" --source dc-sulsel --progress never incidents.csv 2>incident-producer.log ||
    fail "incident-producer: $(cat incident-producer.log)"
# A record that is not Avro at all goes to the dead letters as "decode".
printf 'not an incident' | kcat -P -b "$KAFKA_BOOTSTRAP" -t incidents -k "$W6" -X acks=all
# From the test's scratch directory, so the benefit table is found next to the program.
timeout 120 "$BIN/incident-consumer" --exit.when.drained 2>incident-consumer.log ||
    fail "incident-consumer: $(tail -n 5 incident-consumer.log)"

# --- the benefit table is in PostgreSQL as in the file
assert_eq "benefit_table rows" "$(grep -c '^PP' "$REPO/deploy/benefits/benefit_table.tsv")" \
    "$(q "SELECT count(*) FROM benefit_table")"
assert_eq "benefit_table PP49-2023 jkm_lump_sum" "2023-10-06|20000000" \
    "$(q "SELECT effective_from, value FROM benefit_table WHERE version = 'PP49-2023' AND key = 'jkm_lump_sum'")"

# --- incidents, one per NIK, type and local date
assert_eq "incidents" \
"$W1|DEATH|2024-02-14|480|f|CLAIM|jkk_death
$W1|ACCIDENT|2024-02-20|480|f|REJECTED|worker_deceased
$W2|ACCIDENT|2024-02-10|480|f|NO_CLAIM_OFF_DUTY|off_duty
$W3|ACCIDENT|2024-03-01|480|f|NOT_COVERED|after_term
$W4|ACCIDENT|2024-02-14|480|t|CLAIM|jkk_accident
$W5|ACCIDENT|2024-02-14|480|f|NOT_COVERED|not_enrolled" \
    "$(q "SELECT nik, type, local_date, utc_offset_minutes, late_report, outcome,
                 split_part(outcome_reason, ':', 1)
          FROM incidents WHERE nik IN ($MINE)
          ORDER BY array_position(ARRAY[$MINE]::text[], nik::text), local_date")"
assert_eq "after-term reason" \
    "after_term: JKK coverage ended 2024-02-29, incident on 2024-03-01 WITA" \
    "$(q "SELECT outcome_reason FROM incidents WHERE nik = '$W3'")"
assert_eq "death incident first reported by KPU" "t" \
    "$(q "SELECT first_reported_at = '2024-02-15T08:00:00+08:00' FROM incidents
          WHERE nik = '$W1' AND type = 'DEATH'")"

# --- the duplicate report is linked to the same incident
assert_eq "reports of the death" "BAWASLU|BWS-017|+6281234567890
KPU|KPU-001|" \
    "$(q "SELECT r.reporter_institution, r.report_id, coalesce(r.reporter_phone, '')
          FROM incident_reports r JOIN incidents i USING (incident_id)
          WHERE i.nik = '$W1' AND i.type = 'DEATH' ORDER BY 1")"
assert_eq "reports of my incidents (all but the dead-lettered one)" "7" \
    "$(q "SELECT count(*) FROM incident_reports r JOIN incidents i USING (incident_id) WHERE i.nik IN ($MINE)")"

# --- claims: exactly the death and the late serious accident
assert_eq "claims" \
"$W1|JKK|JKK_DEATH|PENDING_DETERMINATION|79600000|1200000|f|f|PP49-2023|7313011001
$W4|JKK|JKK_TEMPORARY|AWAITING_DOCUMENTS|1500000|1500000|t|f|PP49-2023|7313011001" \
    "$(q "SELECT c.nik, program, benefit, status, amount_idr, monthly_wage, c.late_report,
                 assessment_required, benefit_table_version, c.region_code
          FROM claims c WHERE c.nik IN ($MINE) ORDER BY c.nik DESC")"
assert_eq "claim belongs to the death incident" "1" \
    "$(q "SELECT count(*) FROM claims c JOIN incidents i USING (incident_id)
          WHERE c.nik = '$W1' AND i.type = 'DEATH'")"
assert_eq "death checklist" \
    "BANK_BOOK,CHRONOLOGY,DEATH_CERTIFICATE,DOCTOR_STATEMENT,HEIR_STATEMENT,KK,KPJ_CARD,KTP_DECEASED,KTP_HEIRS,MARRIAGE_BOOK,PROOF_OF_DUTY,WITNESS_STATEMENT_1,WITNESS_STATEMENT_2" \
    "$(q "SELECT string_agg(document, ',' ORDER BY document) FROM claim_documents d
          JOIN claims c USING (claim_id) WHERE c.nik = '$W1' AND d.received_at IS NULL")"
assert_eq "traffic accident checklist has the police report" "6|1" \
    "$(q "SELECT count(*), count(*) FILTER (WHERE document = 'POLICE_REPORT') FROM claim_documents
          JOIN claims c USING (claim_id) WHERE c.nik = '$W4'")"

# --- first transition and outbox row per claim
assert_eq "transitions" \
"$W1||PENDING_DETERMINATION|OPENED|incident-consumer|JKK_DEATH|79600000|PP49-2023
$W4||AWAITING_DOCUMENTS|OPENED|incident-consumer|JKK_TEMPORARY|1500000|PP49-2023" \
    "$(q "SELECT c.nik, t.from_status, t.to_status, t.kind, t.actor, t.benefit, t.amount_idr,
                 t.benefit_table_version
          FROM claim_transitions t JOIN claims c USING (claim_id)
          WHERE c.nik IN ($MINE) ORDER BY c.nik DESC")"
assert_eq "outbox rows with stable event ids" "2|2|2" \
    "$(q "SELECT count(*), count(*) FILTER (WHERE o.event_id = claim_event_uuid(o.claim_id, 1)),
                 count(*) FILTER (WHERE t.claim_id = o.claim_id AND t.kind = 'OPENED')
          FROM claim_outbox o JOIN claims c USING (claim_id)
          JOIN claim_transitions t USING (transition_id) WHERE c.nik IN ($MINE)")"

# --- the death closes the worker's coverage from the next local day
assert_eq "deceased_on" "2024-02-14" "$(q "SELECT deceased_on FROM workers WHERE nik = '$W1'")"
assert_eq "W1 coverages after the death" \
"JKK|2024-01-01|2024-02-14|TERMINATED
JKM|2024-01-01|2024-02-14|TERMINATED
JKK|2024-06-01|2024-06-30|CANCELLED
JKM|2024-06-01|2024-06-30|CANCELLED" \
    "$(q "SELECT program, valid_from, valid_to, status FROM coverages WHERE nik = '$W1'
          ORDER BY valid_from, program")"
assert_eq "other workers' coverage untouched" "6" \
    "$(q "SELECT count(*) FROM coverages WHERE nik IN ('$W2','$W3','$W4') AND status = 'ACTIVE'")"

# --- dead letters of the incident consumer
assert_eq "undecidable incident dead-lettered" \
    "rule|7313********9306|no benefit table version in force on 2014-05-01" \
    "$(q "SELECT error_class, nik_masked, error_message FROM dead_letters
          WHERE group_id = 'incident-consumer' AND nik_masked = '7313********9306'")"
assert_eq "undecidable incident has no incident row" "0" \
    "$(q "SELECT count(*) FROM incidents WHERE nik = '$W6'")"
assert_ge "undecodable record dead-lettered" 1 \
    "$(q "SELECT count(*) FROM dead_letters WHERE group_id = 'incident-consumer'
          AND topic = 'incidents' AND error_class = 'decode'")"
assert_ge "records on incidents.dlq (the undecodable one)" 1 "$(topic_count incidents.dlq)"
assert_ge "records on incidents.dc-sulsel.dlq (the undecidable one)" 1 \
    "$(topic_count incidents.dc-sulsel.dlq)"

# --- a roster change for the dead worker is dead-lettered by the roster consumer
printf 'change,nik,effective_date,monthly_wage\nUPDATE,%s,2024-03-01,1300000\n' "$W1" >update.csv
"$BIN/roster-producer" --source dc-sulsel --progress never update.csv 2>>roster-producer.log ||
    fail "roster-producer (update): $(cat roster-producer.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>>roster-consumer.log ||
    fail "roster-consumer (update): $(tail -n 5 roster-consumer.log)"
assert_eq "roster UPDATE after the death" "rule|worker_deceased: the worker died on 2024-02-14" \
    "$(q "SELECT error_class, error_message FROM dead_letters
          WHERE group_id = 'roster-consumer' AND nik_masked = '7313********9301'")"
assert_eq "wage unchanged by the refused UPDATE" "1200000" \
    "$(q "SELECT DISTINCT monthly_wage FROM coverages WHERE nik = '$W1'")"

# --- publishing the same incidents again changes nothing
snapshot() {
    q "SELECT (SELECT string_agg(concat_ws('|', incident_id, outcome, outcome_reason, late_report,
                                           first_reported_at), ',' ORDER BY incident_id)
               FROM incidents WHERE nik IN ($MINE)),
              (SELECT count(*) FROM incident_reports r JOIN incidents i USING (incident_id)
               WHERE i.nik IN ($MINE)),
              (SELECT string_agg(concat_ws('|', claim_id, status, amount_idr, updated_at), ','
                                 ORDER BY claim_id) FROM claims WHERE nik IN ($MINE)),
              (SELECT count(*) FROM claim_documents JOIN claims c USING (claim_id) WHERE c.nik IN ($MINE)),
              (SELECT count(*) FROM claim_transitions JOIN claims c USING (claim_id) WHERE c.nik IN ($MINE)),
              (SELECT count(*) FROM claim_outbox JOIN claims c USING (claim_id) WHERE c.nik IN ($MINE)),
              (SELECT string_agg(concat_ws('|', coverage_id, valid_to, status, updated_at), ','
                                 ORDER BY coverage_id) FROM coverages WHERE nik IN ($MINE)),
              (SELECT string_agg(concat_ws('|', nik, deceased_on, updated_at), ',' ORDER BY nik)
               FROM workers WHERE nik IN ($MINE)),
              (SELECT count(*) FROM dead_letters WHERE group_id = 'incident-consumer'
               AND error_class <> 'decode')"
}
before=$(snapshot)
"$BIN/incident-producer" --source dc-sulsel --progress never incidents.csv 2>>incident-producer.log ||
    fail "incident-producer (again): $(cat incident-producer.log)"
timeout 120 "$BIN/incident-consumer" --exit.when.drained 2>incident-consumer-2.log ||
    fail "incident-consumer (again): $(tail -n 5 incident-consumer-2.log)"
assert_match "second run read the re-published reports" 'msg="stopped" messages=([8-9]|[1-9][0-9]+) rejected=0' \
    "$(grep 'msg="stopped"' incident-consumer-2.log)"
assert_eq "rows after publishing again" "$before" "$(snapshot)"
