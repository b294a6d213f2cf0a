#!/usr/bin/env bash
# Lapse of BPU coverage after more than 3 consecutive unpaid months (billing_rules.tsv). An
# agreement pays January and leaves February to May unpaid. As of 15 May three months are
# unpaid: nothing lapses. As of 1 June four are: `covadm invoices lapse` closes the coverage
# of the worker billed in all four at the end of January (status LAPSED, lapsed_on) and
# queues the change for coverage.changes; workers with fewer unpaid months keep theirs.
# An accident the incident consumer routed to a claim before the lapse keeps its claim; the
# same kind of accident reported after it is not covered, with reason lapsed and the date.
# The next invoice takes back what the lapsed months billed.
. "$(dirname "$0")/lib.sh"

AGR=PKS-T84-7313
cd "$TEST_TMP"
# NIKs of this test only: serials 94xx (gen_roster runs of other tests use 3000-8599), born 4 April 1993.
nik() { printf '7313040404939%03d' "$1"; }
L1=$(nik 401) L2=$(nik 402) L3=$(nik 403)

cat >agreements.csv <<CSV
agreement_id,name,institution,counterparty,bpjs_branch,region_scope,programs,period_start,period_end,funding_source
$AGR,Uji 84,KPU,KPU Kabupaten Wajo,BPJS Ketenagakerjaan KC Sengkang,73.13.04,JKK;JKM,2024-01-01,2024-12-31,APBD
CSV
"$BIN/covadm" agreements load agreements.csv >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
PREMIUMS=(--premium-rates "$REPO/deploy/premiums/premium_rates.tsv"
          --billing-rules "$REPO/deploy/premiums/billing_rules.tsv")
"$BIN/covadm" premiums sync "${PREMIUMS[@]}" >/dev/null
cat >roster.csv <<CSV
change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id
ENROLL,$L1,La Galigo,1993-04-04,L,KPU,PPS,73.13.04.2001,,2024-01-01,2024-12-31,1500000,JKK;JKM,$AGR
ENROLL,$L2,We Tenriabeng,1993-04-04,L,KPU,KPPS,73.13.04.2001,1,2024-01-25,2024-02-25,1000000,JKK;JKM,$AGR
ENROLL,$L3,Sawerigading,1993-04-04,L,KPU,PPS,73.13.04.2002,,2024-04-01,2024-12-31,1300000,JKK;JKM,$AGR
CSV
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>producer.log ||
    fail "roster-producer: $(cat producer.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>consumer.log ||
    fail "roster-consumer: $(tail -n 5 consumer.log)"
grep -q 'msg="stopped".* rejected=0 ' consumer.log || fail "events refused: $(grep 'msg="stopped"' consumer.log)"

for m in 01 02 03 04 05; do
    "$BIN/covadm" invoices issue $AGR 2024-$m "${PREMIUMS[@]}" >issue$m.out || fail "issue 2024-$m: $(cat issue$m.out)"
done
"$BIN/covadm" invoices pay $AGR 2024-01 --reference SP2D-T84-01 --paid-on 2024-01-15 >/dev/null

incident() { # report_id nik occurred_at
    echo "$1,$2,ACCIDENT,$3,$3,73.13.04.2001,ON_DUTY,FALL,MINOR,Jatuh saat bertugas,KPU,Sekretariat PPS,"
}
route_incidents() {
    {
        echo "report_id,nik,type,occurred_at,reported_at,region_code,circumstance,cause,severity,description,reporter_institution,reporter_name,reporter_phone"
        cat
    } >"$1"
    "$BIN/incident-producer" --source dc-sulsel --progress never "$1" 2>"$1.producer.log" ||
        fail "incident-producer: $(cat "$1.producer.log")"
    (cd "$REPO" && timeout 120 "$BIN/incident-consumer" --exit.when.drained) 2>"$1.consumer.log" ||
        fail "incident-consumer: $(tail -n 5 "$1.consumer.log")"
}
outcome() { q "SELECT outcome || '|' || coalesce(outcome_reason, '') FROM incidents WHERE nik = '$1' AND local_date = '$2'"; }

# Before any lapse: an accident on 5 March opens a claim.
incident T84-1 "$L1" 2024-03-05T10:00:00+08:00 | route_incidents before.csv
assert_match "before the lapse: covered" "^CLAIM\|jkk_accident" "$(outcome "$L1" 2024-03-05)"

"$BIN/covadm" invoices lapse --as-of 2024-05-15 --agreement $AGR "${PREMIUMS[@]}" >lapse1.out
assert_match "three unpaid months: no lapse" "\(0 rows\)" "$(cat lapse1.out)"
"$BIN/covadm" invoices lapse --as-of 2024-06-01 --agreement $AGR "${PREMIUMS[@]}" >lapse2.out
cat lapse2.out
assert_match "four unpaid months: the lapse" \
    "$AGR +7313\*\*\*\*\*\*\*\*9401 +2024-01-31 +2024-02 +4 +2" "$(cat lapse2.out)"
assert_match "only that worker" "\(1 rows\)" "$(cat lapse2.out)"
assert_eq "coverages of the lapsed worker" "JKK|LAPSED|2024-01-01|2024-01-31|2024-01-31
JKM|LAPSED|2024-01-01|2024-01-31|2024-01-31" \
    "$(q "SELECT program, status, valid_from, valid_to, lapsed_on FROM coverages WHERE nik = '$L1' ORDER BY 1")"
assert_eq "the others keep theirs" "$L2|ACTIVE
$L3|ACTIVE" "$(q "SELECT DISTINCT nik, status FROM coverages WHERE nik IN ('$L2', '$L3') ORDER BY 1")"
assert_eq "the change is queued for coverage.changes" "1" \
    "$(q "SELECT count(*) FROM coverage_outbox WHERE nik = '$L1'
          AND cause_event = lapse_event_uuid('$AGR', '$L1', '2024-01-31')")"
"$BIN/covadm" invoices lapse --as-of 2024-06-01 --agreement $AGR "${PREMIUMS[@]}" >lapse3.out
assert_match "a lapse is applied once" "\(0 rows\)" "$(cat lapse3.out)"

# After the lapse: the same accident on 20 March is not covered; the earlier claim stands.
incident T84-2 "$L1" 2024-03-20T10:00:00+08:00 | route_incidents after.csv
assert_eq "after the lapse: not covered, and why" \
    "NOT_COVERED|lapsed: JKK coverage lapsed on 2024-01-31 (contributions unpaid), incident on 2024-03-20 WITA" \
    "$(outcome "$L1" 2024-03-20)"
assert_match "the claim opened before the lapse stands" "^CLAIM" "$(outcome "$L1" 2024-03-05)"
assert_eq "claims of the worker" "1" "$(q "SELECT count(*) FROM claims WHERE nik = '$L1'")"

# coverage.changes says the coverage ended in January.
timeout 60 "$BIN/coverage-relay" --exit.when.drained 2>relay.log || fail "coverage-relay: $(tail -n 5 relay.log)"
echo "$L1" >niks.txt
kcat -C -b "$KAFKA_BOOTSTRAP" -t coverage.changes -e -q -f '%k\t%S\n%s\n' |
    python3 "$REPO/tests/integration/coverage_changes.py" --niks niks.txt >latest.txt
assert_match "coverage.changes: terminated at the lapse" \
    "^$L1\|[0-9a-f-]+\|coverage-relay\|JKK;JKM\|TERMINATED\|2024-01-01\|2024-01-31\|" "$(cat latest.txt)"

# June takes back what February to May billed for the lapsed worker: 4 x Rp 21,800.
"$BIN/covadm" invoices compute $AGR 2024-06 "${PREMIUMS[@]}" >june.out || fail "June: $(cat june.out)"
assert_eq "June: the lapsed months reversed" "-4|-87200" \
    "$(q "SELECT sum(i.worker_months) / 2, sum(i.amount_idr) FROM invoice_items i JOIN invoices v USING (invoice_id)
          WHERE v.agreement_id = '$AGR' AND v.billing_month = '2024-06-01' AND i.nik = '$L1'")"
assert_match "status: the lapsed worker and the unpaid invoices" "$AGR +BPU +- +warn .* +4 +1 +0 +0" \
    "$("$BIN/covadm" agreements status $AGR "${PREMIUMS[@]}")"
