#!/usr/bin/env bash
# The claims CLI on the real stack. Claims opened by the incident pipeline (roster-producer,
# roster-consumer, incident-producer, incident-consumer) are walked through the workflow:
# a serious accident to PAID, a death BPJS finds not work-related turned from JKK death into
# JKM (42,000,000 from the benefit table), a work-related death kept as JKK, a rejection;
# each change's transition row and outbox row (stable event id) are asserted, and invalid
# transitions are refused by the database whoever writes (CLI, claim_transition(), a plain
# UPDATE), with nothing written.
. "$(dirname "$0")/lib.sh"

# NIKs of this test only (serials 94xx).
A1=7313011501909401 # serious accident on duty: JKK_TEMPORARY, walked to PAID
D1=7313012002859402 # dies on duty, not work-related after all: becomes JKM, then rejected
D2=7313013003889403 # dies on duty, work-related: stays JKK_DEATH
X1=7313011004929404 # a claim inserted directly in SQL as OPENED
MINE="'$A1','$D1','$D2','$X1'"
ACTOR=officer-kc-sengkang
CLAIMS=("$BIN/claims" --actor "$ACTOR")

cd "$TEST_TMP"
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
cat >roster.csv <<EOF
change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id
ENROLL,$A1,Andi Baso,1990-01-15,L,KPU,KPPS,73.13.01.1001,1,2024-01-01,2024-03-31,1500000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,$D1,Besse Tenri,1985-02-20,L,KPU,KPPS,73.13.01.1001,2,2024-01-01,2024-03-31,1200000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,$D2,Cakra Wijaya,1988-03-30,L,KPU,KPPS,73.13.01.1001,3,2024-01-01,2024-03-31,1100000,JKK;JKM,PKS-KPU-7313-2023
EOF
cat >incidents.csv <<EOF
report_id,nik,type,occurred_at,reported_at,region_code,circumstance,cause,severity,description,reporter_institution,reporter_name,reporter_phone
KPU-401,$A1,ACCIDENT,2024-02-14T10:00:00+08:00,2024-02-14T18:00:00+08:00,73.13.01.1001,ON_DUTY,FALL,SERIOUS,Fell from the TPS stage,KPU,Sekretariat PPS Ritope,
KPU-402,$D1,DEATH,2024-02-14T21:00:00+08:00,2024-02-15T08:00:00+08:00,73.13.01.1001,ON_DUTY,ILLNESS,,Collapsed while counting ballots,KPU,Sekretariat PPS Ritope,
KPU-403,$D2,DEATH,2024-02-14T22:00:00+08:00,2024-02-15T08:00:00+08:00,73.13.01.1001,ON_DUTY,EXHAUSTION,,Collapsed after 20 hours of counting,KPU,Sekretariat PPS Ritope,
EOF
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>roster-producer.log ||
    fail "roster-producer: $(cat roster-producer.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>roster-consumer.log ||
    fail "roster-consumer: $(tail -n 5 roster-consumer.log)"
"$BIN/incident-producer" --source dc-sulsel --progress never incidents.csv 2>incident-producer.log ||
    fail "incident-producer: $(cat incident-producer.log)"
timeout 120 "$BIN/incident-consumer" --exit.when.drained 2>incident-consumer.log ||
    fail "incident-consumer: $(tail -n 5 incident-consumer.log)"

claim_of() { q "SELECT claim_id FROM claims WHERE nik = '$1'"; }
CA=$(claim_of "$A1")
CD1=$(claim_of "$D1")
CD2=$(claim_of "$D2")
assert_match "accident claim id" '^[0-9a-f-]{36}$' "$CA"
assert_match "death claim id" '^[0-9a-f-]{36}$' "$CD1"
assert_eq "opened claims" \
"JKK|JKK_TEMPORARY|AWAITING_DOCUMENTS|1500000
JKK|JKK_DEATH|PENDING_DETERMINATION|79600000
JKK|JKK_DEATH|PENDING_DETERMINATION|74800000" \
    "$(q "SELECT program, benefit, status, amount_idr FROM claims WHERE nik IN ($MINE) ORDER BY nik")"

# run_claims expected_exit args...: runs the CLI, output in $OUT, errors in $ERR (none on
# success).
run_claims() {
    local want=$1 rc=0
    shift
    "$@" >out.txt 2>err.txt || rc=$?
    OUT=$(cat out.txt)
    ERR=$(cat err.txt)
    [[ $rc == "$want" ]] || fail "$* exited $rc, expected $want; stdout: $OUT; stderr: $ERR"
    [[ $rc != 0 || -z $ERR ]] || fail "$* succeeded but wrote to stderr: $ERR"
}

# history claim: "from|to|kind|actor|benefit|amount|payment_ref|event_id=uuid(ordinal)|unpublished"
# per transition in order.
history() {
    q "SELECT concat_ws('|', coalesce(t.from_status, '-'), t.to_status, t.kind, t.actor, t.benefit,
                        coalesce(t.amount_idr::text, '-'), coalesce(t.payment_reference, '-'),
                        o.event_id = claim_event_uuid(t.claim_id,
                            (row_number() OVER (ORDER BY t.transition_id))::int),
                        o.published_at IS NULL)
       FROM claim_transitions t JOIN claim_outbox o USING (transition_id)
       WHERE t.claim_id = '$1' ORDER BY o.outbox_id"
}
counts() {
    q "SELECT (SELECT count(*) FROM claim_transitions WHERE claim_id = '$1') || '/' ||
              (SELECT count(*) FROM claim_outbox WHERE claim_id = '$1')"
}

# --- usage errors: exit 2, no connection needed to know
run_claims 2 "$BIN/claims" approve "$CA"
assert_match "a change needs --actor" 'needs --actor' "$ERR"
run_claims 2 "${CLAIMS[@]}" reject "$CA"
assert_match "reject needs --reason" 'needs --reason' "$ERR"
run_claims 2 "${CLAIMS[@]}" pay "$CA"
assert_match "pay needs --payment-reference" 'needs --payment-reference' "$ERR"
run_claims 2 "${CLAIMS[@]}" determine "$CD1" --work-related maybe
run_claims 2 "${CLAIMS[@]}" approve not-a-claim
run_claims 2 "${CLAIMS[@]}" frobnicate "$CA"

# --- the accident: AWAITING_DOCUMENTS -> UNDER_REVIEW -> APPROVED -> PAID
run_claims 1 "${CLAIMS[@]}" approve "$CA"
assert_eq "approve before the documents: the database's rule" \
    "claims: claim $CA: transition AWAITING_DOCUMENTS -> APPROVED is not allowed" "$ERR"
assert_eq "refused approve wrote nothing" "1/1" "$(counts "$CA")"
run_claims 1 "${CLAIMS[@]}" approve 00000000-0000-0000-0000-000000000000
assert_eq "unknown claim" "claims: claim 00000000-0000-0000-0000-000000000000: no such claim" "$ERR"

run_claims 0 "${CLAIMS[@]}" receive-document "$CA" KPJ_CARD KTP
assert_match "documents missing reported" '5 documents missing' "$OUT"
assert_eq "received documents" "KPJ_CARD|$ACTOR
KTP|$ACTOR" "$(q "SELECT document, received_by FROM claim_documents
                  WHERE claim_id = '$CA' AND received_at IS NOT NULL ORDER BY document")"
assert_eq "still awaiting documents" "AWAITING_DOCUMENTS" \
    "$(q "SELECT status FROM claims WHERE claim_id = '$CA'")"
run_claims 1 "${CLAIMS[@]}" receive-document "$CA" DOCTOR_STATEMENT DEATH_CERTIFICATE
assert_match "unknown document named with the checklist" \
    "claim $CA: document 'DEATH_CERTIFICATE' is not on its checklist \(.*KPJ_CARD.*\)" "$ERR"
assert_eq "a refused command marks nothing" "" \
    "$(q "SELECT received_at FROM claim_documents WHERE claim_id = '$CA' AND document = 'DOCTOR_STATEMENT'")"
run_claims 0 "${CLAIMS[@]}" receive-document "$CA" KTP DOCTOR_STATEMENT PROOF_OF_DUTY CHRONOLOGY \
    WITNESS_STATEMENT_1 WITNESS_STATEMENT_2
assert_match "a repeated document is only noted" 'KTP was already received' "$OUT"
assert_match "all in: UNDER_REVIEW" "claim $CA: AWAITING_DOCUMENTS -> UNDER_REVIEW \(DOCUMENTS_RECEIVED" "$OUT"
run_claims 1 "${CLAIMS[@]}" pay "$CA" --payment-reference TRX-1
assert_eq "pay before approval" \
    "claims: claim $CA: transition UNDER_REVIEW -> PAID is not allowed" "$ERR"
run_claims 0 "${CLAIMS[@]}" approve "$CA"
run_claims 1 "${CLAIMS[@]}" approve "$CA"
assert_match "approve twice" "claim $CA: transition APPROVED -> APPROVED is not allowed" "$ERR"
run_claims 0 "${CLAIMS[@]}" pay "$CA" --payment-reference BNI-2024-000417
assert_eq "accident claim paid" "PAID|BNI-2024-000417|1500000" \
    "$(q "SELECT status, payment_reference, amount_idr FROM claims WHERE claim_id = '$CA'")"
assert_eq "accident history: transitions and outbox events" \
"-|AWAITING_DOCUMENTS|OPENED|incident-consumer|JKK_TEMPORARY|1500000|-|t|t
AWAITING_DOCUMENTS|UNDER_REVIEW|DOCUMENTS_RECEIVED|$ACTOR|JKK_TEMPORARY|1500000|-|t|t
UNDER_REVIEW|APPROVED|APPROVED|$ACTOR|JKK_TEMPORARY|1500000|-|t|t
APPROVED|PAID|PAID|$ACTOR|JKK_TEMPORARY|1500000|BNI-2024-000417|t|t" "$(history "$CA")"
run_claims 1 "${CLAIMS[@]}" reject "$CA" --reason "too late"
assert_eq "a paid claim cannot be rejected" \
    "claims: claim $CA: transition PAID -> REJECTED is not allowed" "$ERR"
run_claims 1 "${CLAIMS[@]}" receive-document "$CA" KTP
assert_match "no documents for a paid claim" "claim $CA: documents are not received for a claim that is PAID" "$ERR"
assert_eq "refusals after payment wrote nothing" "4/4" "$(counts "$CA")"

# --- not work-related: JKK death becomes JKM with the JKM checklist
run_claims 0 "${CLAIMS[@]}" receive-document "$CD1" KPJ_CARD DEATH_CERTIFICATE
assert_eq "documents may arrive before the determination" "PENDING_DETERMINATION" \
    "$(q "SELECT status FROM claims WHERE claim_id = '$CD1'")"
run_claims 1 "${CLAIMS[@]}" approve "$CD1"
assert_eq "approve while pending determination" \
    "claims: claim $CD1: transition PENDING_DETERMINATION -> APPROVED is not allowed" "$ERR"
run_claims 1 "${CLAIMS[@]}" determine "$CA" --work-related no
assert_match "determination only for a pending JKK death" \
    "claim $CA: a determination applies to a JKK_DEATH claim in PENDING_DETERMINATION, not to a JKK_TEMPORARY claim in PAID" "$ERR"
run_claims 0 "${CLAIMS[@]}" determine "$CD1" --work-related no
assert_match "determination printed" "now JKM JKM, amount 42000000 IDR \(benefit table PP49-2023\)" "$OUT"
assert_eq "claim is JKM 42,000,000" "JKM|JKM|AWAITING_DOCUMENTS|42000000|PP49-2023" \
    "$(q "SELECT program, benefit, status, amount_idr, benefit_table_version FROM claims WHERE claim_id = '$CD1'")"
assert_eq "checklist replaced by the JKM list, received state kept" \
"BANK_BOOK|f
DEATH_CERTIFICATE|t
HEIR_STATEMENT|f
KK|f
KTP_DECEASED|f
KTP_HEIRS|f
MARRIAGE_BOOK|f" \
    "$(q "SELECT document, received_at IS NOT NULL FROM claim_documents WHERE claim_id = '$CD1' ORDER BY document")"
assert_match "determination reason recorded" '^determined_not_work_related' \
    "$(q "SELECT reason FROM claim_transitions WHERE claim_id = '$CD1' AND kind = 'DETERMINATION'")"
run_claims 1 "${CLAIMS[@]}" determine "$CD1" --work-related no
assert_match "a second determination is refused" "not to a JKM claim in AWAITING_DOCUMENTS" "$ERR"
run_claims 0 "${CLAIMS[@]}" reject "$CD1" --reason "heirs' documents not submitted within 90 days"
assert_eq "rejected with its reason" "REJECTED|heirs' documents not submitted within 90 days" \
    "$(q "SELECT status, rejection_reason FROM claims WHERE claim_id = '$CD1'")"
assert_eq "death claim history" \
"-|PENDING_DETERMINATION|OPENED|incident-consumer|JKK_DEATH|79600000|-|t|t
PENDING_DETERMINATION|AWAITING_DOCUMENTS|DETERMINATION|$ACTOR|JKM|42000000|-|t|t
AWAITING_DOCUMENTS|REJECTED|REJECTED|$ACTOR|JKM|42000000|-|t|t" "$(history "$CD1")"

# --- work-related: stays JKK death, same amount and checklist
docs_before=$(q "SELECT count(*) FROM claim_documents WHERE claim_id = '$CD2'")
run_claims 0 "${CLAIMS[@]}" determine "$CD2" --work-related yes
assert_eq "work-related death stays JKK" "JKK|JKK_DEATH|AWAITING_DOCUMENTS|74800000" \
    "$(q "SELECT program, benefit, status, amount_idr FROM claims WHERE claim_id = '$CD2'")"
assert_eq "checklist unchanged" "$docs_before" \
    "$(q "SELECT count(*) FROM claim_documents WHERE claim_id = '$CD2'")"

# --- the database refuses invalid transitions from any writer
q "INSERT INTO incidents (incident_id, nik, type, occurred_at, local_date, utc_offset_minutes,
       region_code, circumstance, severity, first_reported_at, late_report, outcome)
   VALUES (incident_uuid('$X1', 'ACCIDENT', '2024-02-14'), '$X1', 'ACCIDENT',
           '2024-02-14T10:00:00+08', '2024-02-14', 480, '7313011001', 'ON_DUTY', 'MINOR',
           '2024-02-14T11:00:00+08', false, 'CLAIM')"
CX=$(q "INSERT INTO claims (claim_id, nik, incident_id, program, benefit, status, amount_idr,
            benefit_table_version, region_code)
        VALUES (claim_uuid(incident_uuid('$X1', 'ACCIDENT', '2024-02-14')), '$X1',
                incident_uuid('$X1', 'ACCIDENT', '2024-02-14'), 'JKK', 'JKK_MEDICAL', 'OPENED',
                NULL, 'PP49-2023', '7313011001') RETURNING claim_id")
sql_err() { psql -X -Atq -v ON_ERROR_STOP=1 -c "$1" 2>&1 >/dev/null && echo "(accepted)" || true; }
assert_match "UPDATE OPENED -> PAID refused" \
    "claim $CX: transition OPENED -> PAID is not allowed" \
    "$(sql_err "UPDATE claims SET status = 'PAID', payment_reference = 'X' WHERE claim_id = '$CX'")"
assert_match "claim_transition OPENED -> APPROVED refused" \
    "claim $CX: transition OPENED -> APPROVED is not allowed" \
    "$(sql_err "SELECT claim_transition('$CX', 'APPROVED', 'APPROVED', 'someone')")"
assert_match "a kind that does not fit the target" "claim $CX: a PAID change cannot lead to REJECTED" \
    "$(sql_err "SELECT claim_transition('$CX', 'REJECTED', 'PAID', 'someone', 'r')")"
assert_match "a claim is not created as PAID" "a claim cannot be created as PAID" \
    "$(sql_err "INSERT INTO claims (claim_id, nik, incident_id, program, benefit, status,
                    benefit_table_version, region_code, payment_reference)
                SELECT gen_random_uuid(), nik, incident_id, program, benefit, 'PAID',
                       benefit_table_version, region_code, 'X' FROM claims WHERE claim_id = '$CX'")"
assert_match "UPDATE changing a paid amount refused" "claim $CA: a PAID claim cannot change" \
    "$(sql_err "UPDATE claims SET amount_idr = 1 WHERE claim_id = '$CA'")"
assert_eq "no transition written for the refused claim" "0/0" "$(counts "$CX")"
run_claims 0 "${CLAIMS[@]}" reject "$CX" --reason "duplicate of KPU-401"
assert_eq "OPENED -> REJECTED is an edge" "OPENED|REJECTED|REJECTED|$ACTOR|JKK_MEDICAL|-|-|t|t" \
    "$(history "$CX")"

# --- list masks NIKs, show does not
run_claims 0 "$BIN/claims" list --region 73.13.01 --program JKK
assert_match "list masks the NIK" '7313\*{8}9401' "$OUT"
[[ $OUT != *"$A1"* && $OUT != *"$D2"* ]] || fail "list printed a full NIK: $OUT"
assert_match "list shows the paid claim" "$CA .*PAID" "$OUT"
[[ $OUT != *"$CD1"* ]] || fail "--program JKK listed the JKM claim"
run_claims 0 "$BIN/claims" list --status PAID --region 73.13
assert_eq "list --status PAID (this test's claims)" "1" "$(grep -c -e "$CA" -e "$CD1" -e "$CD2" <<<"$OUT")"
run_claims 2 "$BIN/claims" list --status DONE
run_claims 0 "$BIN/claims" show "$CD1"
assert_match "show prints the full NIK" "nik +$D1" "$OUT"
assert_match "show lists documents" "DEATH_CERTIFICATE +received" "$OUT"
assert_match "show lists transitions" "PENDING_DETERMINATION +AWAITING_DOCUMENTS +DETERMINATION" "$OUT"
run_claims 1 "$BIN/claims" show 00000000-0000-0000-0000-000000000000

# --- analysts see no NIK
assert_eq "analytics_claims has no nik column" "0" \
    "$(q "SELECT count(*) FROM information_schema.columns
          WHERE table_name = 'analytics_claims' AND column_name IN ('nik', 'claim_id', 'reason')")"
assert_eq "analytics summary counts this test's paid claim" "t" \
    "$(q "SELECT sum(claims) >= 1 FROM analytics_claims_summary WHERE status = 'PAID' AND benefit = 'JKK_TEMPORARY'")"

# --- every claim change of the suite so far left a transition row and a claims event
# (claim_transition() is the only way a service role can change a claim; this checks that
# nothing changed one behind its back). The relay publishes the outbox, analytics reads it.
timeout 120 "$BIN/claims-relay" --exit.when.drained >relay.log 2>&1 ||
    fail "claims-relay: $(tail -n 5 relay.log)"
assert_eq "claims without a transition" "0" \
    "$(q "SELECT count(*) FROM claims c
          WHERE NOT EXISTS (SELECT 1 FROM claim_transitions t WHERE t.claim_id = c.claim_id)")"
assert_eq "claims not as their last transition left them" "0" \
    "$(q "SELECT count(*) FROM claims c CROSS JOIN LATERAL (
              SELECT * FROM claim_transitions t WHERE t.claim_id = c.claim_id
              ORDER BY t.transition_id DESC LIMIT 1) t
          WHERE (c.status, c.program, c.benefit, c.amount_idr, c.benefit_table_version,
                 c.payment_reference)
                IS DISTINCT FROM (t.to_status, t.program, t.benefit, t.amount_idr,
                                  t.benefit_table_version, t.payment_reference)")"
assert_eq "transitions without exactly one outbox event" "0" \
    "$(q "SELECT count(*) FROM claim_transitions t
          WHERE (SELECT count(*) FROM claim_outbox o WHERE o.transition_id = t.transition_id) <> 1")"
assert_eq "outbox events not published" "0" "$(q "SELECT count(*) FROM claim_outbox WHERE published_at IS NULL")"
q "SELECT event_id FROM claim_outbox ORDER BY 1" >outbox-events.txt
# The event ids on `claims` (the first field of every ClaimEvent), read as analytics.
kcat -F "$COVERAGE_CONFIG_DIR/analytics.kcat" -C -t claims -e -q -f '%S\n%s\n' 2>/dev/null |
    python3 -c '
import sys
data = sys.stdin.buffer.read()
i = 0
while i < len(data):
    j = data.index(b"\n", i)
    n = int(data[i:j]); v = data[j + 1:j + 1 + n]; i = j + 2 + n
    r, shift, k = 0, 0, 5
    while True:
        c = v[k]; k += 1; r |= (c & 0x7F) << shift; shift += 7
        if not c & 0x80: break
    size = (r >> 1) ^ -(r & 1)
    print(v[k:k + size].decode())
' | sort -u >topic-events.txt
missing=$(comm -23 outbox-events.txt topic-events.txt | wc -l)
assert_eq "outbox events missing from the claims topic" "0" "$missing"
echo "ok: $(wc -l <outbox-events.txt) claim changes, each with a transition row and an event on claims"
echo "PASS: $TEST_NAME"
