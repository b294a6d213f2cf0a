#!/usr/bin/env bash
# The budget guard. Two agreements with the same small budget (Rp 50,000: two KPPS members
# for a month at the lowest band, Rp 16,800 each, and not three) enrol five members each:
# the one whose budget_policy is reject dead-letters the enrolments that would exceed it
# (error class rule, reason budget_exceeded, also on the DLQ of the topic it came from, with its headers),
# the one whose policy is warn applies them all and records and logs a warning for each over
# the budget. `covadm agreements status` shows the committed premiums against each budget;
# a larger budget and a replay apply the refused enrolments.
. "$(dirname "$0")/lib.sh"

REJ=PKS-T83-REJECT WARN=PKS-T83-WARN
cd "$TEST_TMP"
# NIKs of this test only: serials 93xx (gen_roster runs of other tests use 3000-8599), born 3 March 1992.
nik() { printf '7313030303929%03d' "$1"; }

cat >agreements.csv <<CSV
agreement_id,name,institution,counterparty,bpjs_branch,region_scope,programs,period_start,period_end,funding_source,budget_idr,budget_policy
$REJ,Uji 83 (tolak),KPU,KPU Kabupaten Wajo,BPJS Ketenagakerjaan KC Sengkang,73.13.03,JKK;JKM,2024-01-01,2024-12-31,APBD,50000,reject
$WARN,Uji 83 (peringatan),BAWASLU,Bawaslu Kabupaten Wajo,BPJS Ketenagakerjaan KC Sengkang,73.13.03,JKK;JKM,2024-01-01,2024-12-31,APBN_BAWASLU,50000,warn
CSV
"$BIN/covadm" agreements load agreements.csv >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" premiums sync --premium-rates "$REPO/deploy/premiums/premium_rates.tsv" \
    --billing-rules "$REPO/deploy/premiums/billing_rules.tsv" >/dev/null
assert_eq "budgets loaded" "$REJ|50000|reject
$WARN|50000|warn" \
    "$(q "SELECT agreement_id, budget_idr, budget_policy FROM agreements WHERE agreement_id LIKE 'PKS-T83-%' ORDER BY 1")"

{
    echo "change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id"
    for i in 1 2 3 4 5; do
        echo "ENROLL,$(nik $((100 + i))),Anggota KPPS $i,1992-03-03,L,KPU,KPPS,73.13.03.2001,$i,2024-02-01,2024-02-29,1000000,JKK;JKM,$REJ"
        echo "ENROLL,$(nik $((200 + i))),Pengawas TPS $i,1992-03-03,L,BAWASLU,PTPS,73.13.03.2001,$i,2024-02-01,2024-02-29,1000000,JKK;JKM,$WARN"
    done
} >roster.csv
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>producer.log ||
    fail "roster-producer: $(cat producer.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>consumer.log ||
    fail "roster-consumer: $(tail -n 5 consumer.log)"

workers() { q "SELECT count(DISTINCT nik) FROM coverages WHERE agreement_id = '$1'"; }
assert_eq "reject: enrolments within the budget applied" "2" "$(workers $REJ)"
assert_eq "reject: the others dead-lettered, class rule" "3|rule" \
    "$(q "SELECT count(*), min(error_class) FROM dead_letters
          WHERE error_message LIKE 'budget_exceeded:%agreement $REJ %' AND replayed_at IS NULL")"
assert_match "reject: the reason says what and how much" \
    "budget_exceeded: the enrolment costs Rp 16800 in premiums; with it agreement $REJ would commit Rp (50400|67200|84000) of its budget of Rp 50000" \
    "$(q "SELECT error_message FROM dead_letters WHERE error_message LIKE '%agreement $REJ %' LIMIT 1")"
dlq_dump roster.changes '%h\n' >dlq.headers
assert_eq "reject: on the DLQ topic with their headers" "3" \
    "$(grep 'dlq.error.class=rule' dlq.headers | grep -c "budget_exceeded: .*agreement $REJ ")"

assert_eq "warn: every enrolment applied" "5" "$(workers $WARN)"
assert_eq "warn: a warning for each over the budget" "3|16800|50000" \
    "$(q "SELECT count(*), min(cost_idr), min(budget_idr) FROM budget_warnings WHERE agreement_id = '$WARN'")"
assert_eq "warn: nothing dead-lettered" "0" \
    "$(q "SELECT count(*) FROM dead_letters WHERE error_message LIKE '%$WARN%'")"
assert_eq "warn: logged" "3" "$(grep -c "msg=\"enrolment over budget\" agreement=$WARN" consumer.log)"

"$BIN/covadm" agreements status $REJ >status-rej.out
"$BIN/covadm" agreements status $WARN >status-warn.out
assert_match "status: reject within its budget" "$REJ +BPU +50000 +reject +0 +0 +0 +33600 +33600 +16400 +67\.2 " \
    "$(cat status-rej.out)"
assert_match "status: warn over its budget, with its warnings" \
    "$WARN +BPU +50000 +warn +0 +0 +0 +84000 +84000 +-34000 +168\.0 +0 +0 +3 " "$(cat status-warn.out)"

# A larger budget (the file without budget_policy keeps the policy), then a replay.
cat >budget.csv <<CSV
agreement_id,name,institution,counterparty,bpjs_branch,region_scope,programs,period_start,period_end,funding_source,budget_idr
$REJ,Uji 83 (tolak),KPU,KPU Kabupaten Wajo,BPJS Ketenagakerjaan KC Sengkang,73.13.03,JKK;JKM,2024-01-01,2024-12-31,APBD,100000
CSV
"$BIN/covadm" agreements load budget.csv >/dev/null
assert_eq "budget raised, policy kept" "100000|reject" \
    "$(q "SELECT budget_idr, budget_policy FROM agreements WHERE agreement_id = '$REJ'")"
ids=$(q "SELECT string_agg(dead_letter_id::text, ',') FROM dead_letters
         WHERE error_message LIKE '%agreement $REJ %' AND replayed_at IS NULL")
"$BIN/covadm" dead-letters replay --id "$ids" >replay.out
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>consumer2.log ||
    fail "roster-consumer after the replay: $(tail -n 5 consumer2.log)"
assert_eq "replayed: every enrolment applied now" "5" "$(workers $REJ)"
assert_match "status: the raised budget" "$REJ +BPU +100000 +reject +0 +0 +0 +84000 +84000 +16000 +84\.0 " \
    "$("$BIN/covadm" agreements status $REJ)"
