#!/usr/bin/env bash
# billing.invoices: an issued invoice reaches the topic through invoice_outbox and
# billing-relay, keyed by agreement id, as an Avro Invoice (decoded by invoices.py from the
# schema files, independently of the codec) that says what the invoices table says. A draft
# is never published; an invoice issued again adds nothing; a batch published again (the
# relay crashed before marking it) carries the same event id.
. "$(dirname "$0")/lib.sh"

AGR=PKS-T85-7313
cd "$TEST_TMP"
# NIKs of this test only: serials 95xx (gen_roster runs of other tests use 3000-8599), born 5 May 1994.
nik() { printf '7313050505949%03d' "$1"; }

cat >agreements.csv <<CSV
agreement_id,name,institution,counterparty,bpjs_branch,region_scope,programs,period_start,period_end,funding_source
$AGR,Uji 85,KPU,KPU Kabupaten Wajo,BPJS Ketenagakerjaan KC Sengkang,73.13.05,JKK;JKM;JHT,2024-01-01,2024-12-31,APBD
CSV
"$BIN/covadm" agreements load agreements.csv >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
PREMIUMS=(--premium-rates "$REPO/deploy/premiums/premium_rates.tsv"
          --billing-rules "$REPO/deploy/premiums/billing_rules.tsv")
cat >roster.csv <<CSV
change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id
ENROLL,$(nik 501),Tenri Abeng,1994-05-05,L,KPU,KPPS,73.13.05.2001,1,2024-01-25,2024-02-25,1200000,JKK;JKM;JHT,$AGR
ENROLL,$(nik 502),Tenri Olle,1994-05-05,L,KPU,KPPS,73.13.05.2001,1,2024-01-25,2024-02-25,1100000,JKK;JKM,$AGR
CSV
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>producer.log ||
    fail "roster-producer: $(cat producer.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>consumer.log ||
    fail "roster-consumer: $(tail -n 5 consumer.log)"
grep -q 'msg="stopped".* rejected=0 ' consumer.log || fail "events refused: $(grep 'msg="stopped"' consumer.log)"

mine() {
    kcat -C -b "$KAFKA_BOOTSTRAP" -t billing.invoices -e -q -f '%k\t%S\n%s\n' |
        python3 "$REPO/tests/integration/invoices.py" | grep "\"_key\": \"$AGR\"" || true
}
relay() { timeout 60 "$BIN/billing-relay" --exit.when.drained 2>>relay.log || fail "billing-relay: $(tail -n 5 relay.log)"; }

"$BIN/covadm" invoices compute $AGR 2024-02 "${PREMIUMS[@]}" >/dev/null
relay
assert_eq "a draft is not published" "0" "$(mine | wc -l)"

"$BIN/covadm" invoices issue $AGR 2024-01 "${PREMIUMS[@]}" --actor finance-85 >/dev/null
relay
mine >events1.jsonl
assert_eq "one event for the issued invoice" "1" "$(wc -l <events1.jsonl)"
ID=$(q "SELECT invoice_id FROM invoices WHERE agreement_id = '$AGR' AND billing_month = '2024-01-01'")
# The writer's schema id: the registry's for the Invoice record (the compiled-in 40 without one).
SID=40
[[ -z ${SCHEMA_REGISTRY_URL:-} ]] ||
    SID=$(curl -fsS "$SCHEMA_REGISTRY_URL/subjects/id.bpjs.adhoc.Invoice/versions/latest" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
EXPECT=$(q "SELECT json_build_object(
    '_key', v.agreement_id, '_schema_id', $SID, 'event_id', invoice_event_uuid(v.invoice_id),
    'source', 'billing-relay', 'invoice_id', v.invoice_id, 'agreement_id', v.agreement_id,
    'billing_month', v.billing_month, 'status', v.status, 'premium_scheme', v.premium_scheme,
    'rates_version', 'PP49-2023', 'workers', v.workers, 'worker_months', v.worker_months,
    'adjustment_worker_months', v.adjustment_worker_months,
    'lines', (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = v.invoice_id),
    'jkk_idr', 23000, 'jkm_idr', 13600, 'jht_idr', 24000,
    'current_idr', v.current_idr, 'adjustment_idr', v.adjustment_idr, 'total_idr', v.total_idr,
    'issued_at', (extract(epoch FROM v.issued_at) * 1000000)::bigint,
    'event_time', (extract(epoch FROM v.issued_at) * 1000000)::bigint, 'issued_by', v.issued_by)
  FROM invoices v WHERE v.invoice_id = '$ID'")
python3 - "$EXPECT" events1.jsonl <<'PY' || fail "the event differs from the invoice"
import json, sys
want = json.loads(sys.argv[1])
got = json.loads(open(sys.argv[2]).readline())
bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
extra = set(got) - set(want)
if bad or extra:
    sys.exit("differs: %r; fields not expected: %r" % (bad, sorted(extra)))
print("ok: the event is the invoice: total %d, workers %d, issued by %s"
      % (got["total_idr"], got["workers"], got["issued_by"]))
PY
assert_eq "January: Rp 12,000 + 11,000 JKK, 2 x 6,800 JKM, Rp 24,000 JHT" "60600" \
    "$(q "SELECT total_idr FROM invoices WHERE invoice_id = '$ID'")"
assert_eq "outbox marked" "0" \
    "$(q "SELECT count(*) FROM invoice_outbox WHERE invoice_id = '$ID' AND published_at IS NULL")"

"$BIN/covadm" invoices issue $AGR 2024-01 "${PREMIUMS[@]}" >/dev/null 2>&1
relay
assert_eq "issued again: nothing more published" "1" "$(mine | wc -l)"

# As if the relay had crashed after Kafka took the batch and before it marked it.
q "UPDATE invoice_outbox SET published_at = NULL WHERE invoice_id = '$ID'"
relay
mine >events2.jsonl
assert_eq "republished: at least once" "2" "$(wc -l <events2.jsonl)"
assert_eq "republished: the same event id" "1" \
    "$(python3 -c 'import json,sys; print(len({json.loads(l)["event_id"] for l in open(sys.argv[1])}))' events2.jsonl)"
