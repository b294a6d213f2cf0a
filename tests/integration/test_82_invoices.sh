#!/usr/bin/env bash
# Invoices per agreement and month. January is computed from the coverages (any covered day
# owes the month in full: billing_rules.tsv), computed again with the same lines and id,
# then issued; PostgreSQL then refuses any change to it, whoever writes. Later roster changes
# (a termination backdated into January before the worker's term began, one backdated
# after it began, a late enrolment starting in January) leave January as issued and come
# as adjustment lines on February's invoice: reverse what was billed, bill what is owed.
# Payments, the list and the stable name-based ids are checked on the way.
. "$(dirname "$0")/lib.sh"

AGR=PKS-T82-7313
cd "$TEST_TMP"
# NIKs of this test only: serials 92xx (gen_roster runs of other tests use 3000-8599), born 2 February 1991.
nik() { printf '7313010202919%03d' "$1"; }
W1=$(nik 201) W2=$(nik 202) W3=$(nik 203) W4=$(nik 204)

cat >agreements.csv <<CSV
agreement_id,name,institution,counterparty,bpjs_branch,region_scope,programs,period_start,period_end,funding_source
$AGR,Perlindungan Badan Ad Hoc Pemilu 2024 KPU Kabupaten Wajo (uji 82),KPU,KPU Kabupaten Wajo,BPJS Ketenagakerjaan KC Sengkang,73.13,JKK;JKM,2024-01-01,2024-12-31,APBD
CSV
"$BIN/covadm" agreements load agreements.csv >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" premiums sync --premium-rates "$REPO/deploy/premiums/premium_rates.tsv" \
    --billing-rules "$REPO/deploy/premiums/billing_rules.tsv" >/dev/null

HEAD=change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id,effective_date
publish() {
    "$BIN/roster-producer" --source dc-sulsel --progress never "$1" 2>"$1.producer.log" ||
        fail "roster-producer $1: $(cat "$1.producer.log")"
    timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>"$1.consumer.log" ||
        fail "roster-consumer $1: $(tail -n 5 "$1.consumer.log")"
    grep -q 'msg="stopped".* rejected=0 ' "$1.consumer.log" ||
        fail "$1: events refused: $(grep 'msg="stopped"' "$1.consumer.log")"
}
cat >roster1.csv <<CSV
$HEAD
ENROLL,$W1,Arung Palakka,1991-02-02,L,KPU,KPPS,73.13.01.2001,1,2024-01-25,2024-02-25,1100000,JKK;JKM,$AGR,
ENROLL,$W2,Besse Kajuara,1991-02-02,L,KPU,KPPS,73.13.01.2001,2,2024-01-15,2024-02-25,1000000,JKK;JKM,$AGR,
ENROLL,$W3,Colliq Pujie,1991-02-02,L,KPU,PPS,73.13.02.1001,,2024-01-01,2024-03-31,1500000,JKK;JKM,$AGR,
CSV
publish roster1.csv

# January: W1 Rp 11,000 + 6,800; W2 Rp 10,000 + 6,800; W3 Rp 15,000 + 6,800.
inv() { q "SELECT $1 FROM invoices WHERE agreement_id = '$AGR' AND billing_month = '$2'"; }
lines() {
    q "SELECT l.kind, to_char(l.service_month, 'YYYY-MM'), l.region_code, l.role, l.program,
              l.worker_months, l.amount_idr FROM invoice_lines l JOIN invoices v USING (invoice_id)
       WHERE v.agreement_id = '$AGR' AND v.billing_month = '$1'
       ORDER BY l.kind DESC, l.service_month, l.region_code, l.role, l.program"
}
"$BIN/covadm" invoices compute $AGR 2024-01 >compute1.out || fail "compute: $(cat compute1.out)"
assert_match "January shown" "workers covered in 2024-01: 3" "$(cat compute1.out)"
assert_eq "January draft" "DRAFT|3|3|56400|0|56400" \
    "$(inv "status, workers, worker_months, current_idr, adjustment_idr, total_idr" 2024-01-01)"
JAN_ID=$(inv invoice_id 2024-01-01)
assert_eq "the invoice id is name-based" "$(q "SELECT invoice_uuid('$AGR', '2024-01-01')")" "$JAN_ID"
lines 2024-01-01 >jan1.lines
assert_eq "January lines" "CURRENT|2024-01|731301|KPPS|JKK|2|21000
CURRENT|2024-01|731301|KPPS|JKM|2|13600
CURRENT|2024-01|731302|PPS|JKK|1|15000
CURRENT|2024-01|731302|PPS|JKM|1|6800" "$(cat jan1.lines)"
"$BIN/covadm" invoices compute $AGR 2024-01 >compute2.out
lines 2024-01-01 >jan2.lines
assert_eq "recomputed draft: same lines" "$(cat jan1.lines)" "$(cat jan2.lines)"
assert_eq "recomputed draft: same id" "$JAN_ID" "$(inv invoice_id 2024-01-01)"

"$BIN/covadm" invoices issue $AGR 2024-01 --actor finance-kc-sengkang >issue1.out ||
    fail "issue: $(cat issue1.out)"
assert_match "issued" "ISSUED [0-9-]+ [0-9:]+ by finance-kc-sengkang" "$(head -n 1 issue1.out)"
assert_eq "one outbox row for the issued invoice" "1" \
    "$(q "SELECT count(*) FROM invoice_outbox WHERE invoice_id = '$JAN_ID'")"
"$BIN/covadm" invoices issue $AGR 2024-01 >issue2.out 2>issue2.err
assert_match "issuing again changes nothing" "was issued before" "$(cat issue2.err)"
assert_eq "still one outbox row" "1" "$(q "SELECT count(*) FROM invoice_outbox WHERE invoice_id = '$JAN_ID'")"

# An issued invoice never changes, whoever writes.
refused() {
    local what=$1 sql=$2 rc=0
    psql -X -Atq -v ON_ERROR_STOP=1 -c "$sql" >/dev/null 2>refused.err || rc=$?
    [[ $rc != 0 ]] || fail "$what was allowed"
    grep -q "an issued invoice never changes" refused.err || fail "$what: $(cat refused.err)"
    echo "ok: $what refused"
}
refused "changing an issued invoice" "UPDATE invoices SET total_idr = 1 WHERE invoice_id = '$JAN_ID'"
refused "deleting an issued invoice" "DELETE FROM invoices WHERE invoice_id = '$JAN_ID'"
refused "changing an issued item" "UPDATE invoice_items SET amount_idr = 0 WHERE invoice_id = '$JAN_ID'"
refused "removing an issued item" "DELETE FROM invoice_items WHERE invoice_id = '$JAN_ID'"
refused "adding an item to an issued invoice" \
    "INSERT INTO invoice_items (invoice_id, kind, service_month, nik, program, region_code, role,
                                worker_months, amount_idr)
     VALUES ('$JAN_ID', 'CURRENT', '2024-01-01', '$W1', 'JHT', '731301', 'KPPS', 1, 1)"

# The roster changes after January was issued: W2 terminated before her term began
# (cancelled: January is not owed any more), W3 terminated on 20 January (January is still
# owed in full), W4 enrolled late, from 20 January.
cat >roster2.csv <<CSV
$HEAD
TERMINATE,$W2,,,,,,,,,,,,,2024-01-10
TERMINATE,$W3,,,,,,,,,,,,,2024-01-20
ENROLL,$W4,Daeng Manessa,1991-02-02,L,KPU,KPPS,73.13.01.2001,3,2024-01-20,2024-02-25,1200000,JKK;JKM,$AGR,
CSV
publish roster2.csv
assert_eq "coverages after the changes" "$W1|ACTIVE|2024-02-25
$W2|CANCELLED|2024-02-25
$W3|TERMINATED|2024-01-20
$W4|ACTIVE|2024-02-25" \
    "$(q "SELECT DISTINCT nik, status, valid_to FROM coverages WHERE agreement_id = '$AGR' ORDER BY 1")"
"$BIN/covadm" invoices compute $AGR 2024-01 >compute3.out 2>compute3.err
assert_match "January is issued" "is issued and never changes" "$(cat compute3.err)"
assert_eq "January unchanged" "$(cat jan1.lines)" "$(lines 2024-01-01)"

# February: W1 and W4 this month; for January, W2 reversed and W4 billed (W3 untouched).
"$BIN/covadm" invoices compute $AGR 2024-02 >feb.out || fail "compute February: $(cat feb.out)"
assert_eq "February totals" "DRAFT|2|36600|0|2000|38600" \
    "$(inv "status, workers, current_idr, adjustment_worker_months, adjustment_idr, total_idr" 2024-02-01)"
assert_eq "February lines" "CURRENT|2024-02|731301|KPPS|JKK|2|23000
CURRENT|2024-02|731301|KPPS|JKM|2|13600
ADJUSTMENT|2024-01|731301|KPPS|JKK|0|2000
ADJUSTMENT|2024-01|731301|KPPS|JKM|0|0" "$(lines 2024-02-01)"
assert_eq "the adjustment items: W2 reversed, W4 billed" "$W2|JKK|-1|-10000
$W2|JKM|-1|-6800
$W4|JKK|1|12000
$W4|JKM|1|6800" \
    "$(q "SELECT i.nik, i.program, i.worker_months, i.amount_idr
          FROM invoice_items i JOIN invoices v USING (invoice_id)
          WHERE v.agreement_id = '$AGR' AND v.billing_month = '2024-02-01' AND i.kind = 'ADJUSTMENT'
          ORDER BY i.nik, i.program")"
assert_match "February shown with its adjustment" "ADJUSTMENT +2024-01 +73.13.01" "$(cat feb.out)"
"$BIN/covadm" invoices issue $AGR 2024-02 >/dev/null
# Once February is issued its adjustments are billed: March has nothing more for January.
"$BIN/covadm" invoices compute $AGR 2024-03 >/dev/null
assert_eq "March: nothing left to adjust" "0|0|0" "$(inv "workers, adjustment_idr, total_idr" 2024-03-01)"

# Payments and the list.
"$BIN/covadm" invoices pay $AGR 2024-01 --reference SP2D-0001 --paid-on 2024-01-15 >pay1.out
assert_match "January paid in full" "paid Rp 56400 of Rp 56400, outstanding Rp 0" "$(cat pay1.out)"
"$BIN/covadm" invoices pay $AGR 2024-01 --reference SP2D-0001 --paid-on 2024-01-15 >pay2.out
assert_match "a payment recorded twice is one" "was recorded before" "$(cat pay2.out)"
"$BIN/covadm" invoices pay $AGR 2024-02 --reference SP2D-0002 --amount 30000 --paid-on 2024-02-15 >pay3.out
assert_match "February paid in part" "paid Rp 30000 of Rp 38600, outstanding Rp 8600" "$(cat pay3.out)"
rc=0
"$BIN/covadm" invoices pay $AGR 2024-03 --reference X-1 >/dev/null 2>pay4.err || rc=$?
assert_eq "a draft cannot be paid" "1" "$rc"
assert_match "a draft cannot be paid: why" "only an issued invoice can be paid" "$(cat pay4.err)"
"$BIN/covadm" invoices list --agreement $AGR >list.out
assert_match "list: January" "$AGR +2024-01 +ISSUED +3 +56400 +0 +56400 +56400 +0 " "$(cat list.out)"
assert_match "list: February" "$AGR +2024-02 +ISSUED +2 +36600 +2000 +38600 +30000 +8600 " "$(cat list.out)"
rc=0
"$BIN/covadm" invoices compute $AGR 2023-12 >/dev/null 2>outside.err || rc=$?
assert_eq "a month outside the agreement" "1" "$rc"
assert_match "outside: why" "is outside its period" "$(cat outside.err)"
