#!/usr/bin/env bash
# claims-relay under kill -9: 2,000 outbox events (500 claims x 4 transitions, the claims
# interleaved in random order per round). Relay A publishes in small batches; a table lock
# then holds it after a batch was acknowledged by Kafka but before it is marked, and it is
# killed -9 there (its session ends, the UPDATE never commits). Relay B, a standby on the
# advisory lock meanwhile, takes over and drains the outbox. The claims topic, read back and
# decoded, must hold every event id at least once (A's last batch twice), no event id that
# is not in the outbox, each claim's events in one partition and, by first occurrence, in
# transition order, and each event as its transition row says.
. "$(dirname "$0")/lib.sh"

PREFIX=73130195 # NIKs of this test only: 73130195 + 8 digits
CLAIMS=500
cd "$TEST_TMP"

# --- 500 claims opened as the incident consumer opens them, then 3 transitions each
q "INSERT INTO incidents (incident_id, nik, type, occurred_at, local_date, utc_offset_minutes,
       region_code, circumstance, severity, first_reported_at, late_report, outcome)
   SELECT incident_uuid(nik, 'ACCIDENT', '2024-02-14'), nik, 'ACCIDENT',
          '2024-02-14T10:00:00+08', '2024-02-14', 480, '7313011001', 'ON_DUTY', 'SERIOUS',
          '2024-02-14T11:00:00+08', i % 7 = 0, 'CLAIM'
   FROM (SELECT i, '$PREFIX' || lpad(i::text, 8, '0') AS nik
         FROM generate_series(1, $CLAIMS) AS i) s"
q "INSERT INTO claims (claim_id, nik, incident_id, program, benefit, status, amount_idr,
       benefit_table_version, monthly_wage, late_report, region_code)
   SELECT claim_uuid(incident_id), nik, incident_id, 'JKK', 'JKK_TEMPORARY',
          'AWAITING_DOCUMENTS', 1500000, 'PP49-2023', 1500000, late_report, region_code
   FROM incidents WHERE nik LIKE '$PREFIX%'"
q "WITH opened AS (
     INSERT INTO claim_transitions (claim_id, from_status, to_status, kind, actor, reason,
                                    program, benefit, amount_idr, benefit_table_version)
     SELECT claim_id, NULL, status, 'OPENED', 'incident-consumer', 'jkk_accident', program,
            benefit, amount_idr, benefit_table_version
     FROM claims WHERE nik LIKE '$PREFIX%' ORDER BY random() RETURNING transition_id, claim_id)
   INSERT INTO claim_outbox (event_id, claim_id, transition_id)
   SELECT claim_event_uuid(claim_id, 1), claim_id, transition_id FROM opened ORDER BY transition_id"
for step in "'UNDER_REVIEW', 'DOCUMENTS_RECEIVED', 'test-41', 'all documents received'" \
    "'APPROVED', 'APPROVED', 'test-41'" \
    "'PAID', 'PAID', 'test-41', NULL, 'PAY-' || right(nik, 8)"; do
    q "SELECT count(claim_transition(claim_id, $step))
       FROM (SELECT claim_id, nik FROM claims WHERE nik LIKE '$PREFIX%' ORDER BY random()) c" >/dev/null
done
MINE="SELECT claim_id FROM claims WHERE nik LIKE '$PREFIX%'"
assert_eq "outbox rows of this test" "2000" "$(q "SELECT count(*) FROM claim_outbox WHERE claim_id IN ($MINE)")"
assert_eq "event ids are claim_event_uuid(claim, ordinal)" "2000" \
    "$(q "SELECT count(*) FROM (SELECT o.event_id, claim_event_uuid(o.claim_id,
                 (row_number() OVER (PARTITION BY o.claim_id ORDER BY o.outbox_id))::int) AS want
          FROM claim_outbox o WHERE o.claim_id IN ($MINE)) x WHERE event_id = want")"

unpublished() { q "SELECT count(*) FROM claim_outbox WHERE published_at IS NULL"; }
published_mine() {
    q "SELECT count(*) FROM claim_outbox WHERE published_at IS NOT NULL AND claim_id IN ($MINE)"
}
at_least() { (($("$1") >= $2)); }
# sessions waiting for a lock, by application_name
lock_waiters() { q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1' AND wait_event_type = 'Lock'"; }
relay_a_blocked() { (($(lock_waiters test41-relay-a) == 1)); }
terminate() { q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '$1'"; }

# --- relay A: small batches, so it is mid-run when it dies
start_bg relay-a env PGAPPNAME=test41-relay-a "$BIN/claims-relay" \
    --batch.size 20 -X linger.ms=50
RELAY_A=$BG_PID
wait_until 60 at_least published_mine 100 || fail "relay A published nothing: $(tail -n 5 "$(bg_log relay-a)")"

# --- hold A between delivery and marking: a SHARE lock on claim_outbox lets it read and
# publish a batch but blocks its UPDATE; then A dies there, and its session with it (the
# UPDATE never commits), as in a crash after the brokers acknowledged the batch.
start_bg locker env PGAPPNAME=test41-locker psql -X -q \
    -c "BEGIN; LOCK TABLE claim_outbox IN SHARE MODE; SELECT pg_sleep(300)"
wait_until 60 relay_a_blocked || fail "relay A never blocked on marking its batch"

# --- relay B waits on the advisory lock while A holds it
start_bg relay-b "$BIN/claims-relay" --batch.size 50 --poll.interval.ms 100 --exit.when.drained
RELAY_B=$BG_PID
wait_until 30 grep -q 'standing by' "$(bg_log relay-b)" || fail "relay B did not stand by"
assert_eq "relay B has published nothing while A holds the lock" "" \
    "$(grep 'batch published' "$(bg_log relay-b)" || true)"

left=$(unpublished)
echo "killing relay A: $(published_mine) of this test's events marked, $left rows unpublished"
kill -9 "$RELAY_A"
assert_eq "relay A's session ended" "1" "$(terminate test41-relay-a)"
terminate test41-locker >/dev/null
stop_bg locker || true
assert_ge "rows left for the standby" 1 "$left"
b_done() { ! alive "$RELAY_B"; }
wait_until 120 b_done || fail "relay B did not drain: $(tail -n 5 "$(bg_log relay-b)")"
rc=0
wait "$RELAY_B" || rc=$?
assert_eq "relay B exit status" "0" "$rc"
grep -q 'relay lock taken' "$(bg_log relay-b)" || fail "relay B never took the lock"
assert_eq "outbox drained" "0" "$(unpublished)"

# --- read the topic back and check it against the outbox
q "SELECT o.event_id, o.claim_id, row_number() OVER (PARTITION BY o.claim_id ORDER BY o.outbox_id),
          c.nik, t.to_status, t.kind, coalesce(t.from_status, ''), coalesce(t.amount_idr::text, ''),
          coalesce(t.payment_reference, ''), c.late_report
   FROM claim_outbox o JOIN claim_transitions t USING (transition_id) JOIN claims c
     ON c.claim_id = o.claim_id
   WHERE o.claim_id IN ($MINE)" -F $'\t' >expected.tsv
kcat -C -b "$KAFKA_BOOTSTRAP" -t claims -e -q -f '%p %o %S\n%s\n' >topic.bin
PYTHONPATH="$REPO/tests/integration" python3 - expected.tsv topic.bin <<'PY'
import sys

from avro_decode import WriterSchemas, decode as avro_decode

CLAIM_EVENTS = WriterSchemas("ClaimEvent")  # refuses an id of another record


def decode(v):
    ev = avro_decode(v, CLAIM_EVENTS)
    assert ev["source"] == "claims-relay", f"source {ev['source']}"
    for k in ("from_status", "payment_reference"):
        ev[k] = ev[k] or ""
    ev["amount_idr"] = "" if ev["amount_idr"] is None else str(ev["amount_idr"])
    ev["late_report"] = "t" if ev["late_report"] else "f"
    return ev

expected, order = {}, {}
for line in open(sys.argv[1]):
    eid, cid, ordinal, nik, to, kind, frm, amount, ref, late = line.rstrip("\n").split("\t")
    expected[eid] = dict(claim_id=cid, nik=nik, to_status=to, kind=kind, from_status=frm,
                         amount_idr=amount, payment_reference=ref, late_report=late)
    order.setdefault(cid, []).append((int(ordinal), eid))
claims = {cid: [e for _, e in sorted(v)] for cid, v in order.items()}

data, pos, seen, first, parts, mine = open(sys.argv[2], "rb").read(), 0, {}, {}, {}, 0
while pos < len(data):
    nl = data.index(b"\n", pos)
    p, o, size = map(int, data[pos:nl].split())
    value = data[nl + 1:nl + 1 + size]
    pos = nl + 1 + size + 1
    ev = decode(value)
    if ev["claim_id"] not in claims:
        continue  # another test's claim
    mine += 1
    eid = ev["event_id"]
    if eid not in expected:
        sys.exit(f"FAIL: event {eid} of claim {ev['claim_id']} is not in the outbox")
    want = expected[eid]
    for k, v in want.items():
        if ev[k] != v:
            sys.exit(f"FAIL: event {eid}: {k} is {ev[k]!r}, outbox says {v!r}")
    parts.setdefault(ev["claim_id"], set()).add(p)
    seen[eid] = seen.get(eid, 0) + 1
    if seen[eid] == 1:
        first.setdefault(ev["claim_id"], []).append((p, o, eid))

missing = [e for e in expected if e not in seen]
if missing:
    sys.exit(f"FAIL: {len(missing)} events never arrived, e.g. {missing[:3]}")
for cid, evs in claims.items():
    if len(parts[cid]) != 1:
        sys.exit(f"FAIL: claim {cid} spread over partitions {sorted(parts[cid])}")
    got = [e for _, _, e in sorted(first[cid])]
    if got != evs:
        sys.exit(f"FAIL: claim {cid}: events arrived in order {got}, transitions say {evs}")
dups = sum(n - 1 for n in seen.values())
if dups == 0:
    sys.exit("FAIL: no event arrived twice, yet relay A died after its batch was delivered")
print(f"ok: {len(expected)} events of {len(claims)} claims all arrived, in transition order per "
      f"claim; {mine} records read, {dups} duplicates from the republished batch")
PY
# --- a relay sleeping on a long poll interval wakes on NOTIFY claim_outbox
start_bg relay-c "$BIN/claims-relay" --poll.interval.ms 60000
sleep 1
NIK=${PREFIX}99999999
q "INSERT INTO incidents (incident_id, nik, type, occurred_at, local_date, utc_offset_minutes,
       region_code, circumstance, severity, first_reported_at, late_report, outcome)
   VALUES (incident_uuid('$NIK', 'ACCIDENT', '2024-02-15'), '$NIK', 'ACCIDENT',
           '2024-02-15T10:00:00+08', '2024-02-15', 480, '7313011001', 'ON_DUTY', 'MINOR',
           '2024-02-15T11:00:00+08', false, 'CLAIM')"
q "WITH c AS (INSERT INTO claims (claim_id, nik, incident_id, program, benefit, status,
                  benefit_table_version, region_code)
              VALUES (claim_uuid(incident_uuid('$NIK', 'ACCIDENT', '2024-02-15')), '$NIK',
                      incident_uuid('$NIK', 'ACCIDENT', '2024-02-15'), 'JKK', 'JKK_MEDICAL',
                      'AWAITING_DOCUMENTS', 'PP49-2023', '7313011001') RETURNING *),
        t AS (INSERT INTO claim_transitions (claim_id, to_status, kind, actor, program, benefit,
                  benefit_table_version)
              SELECT claim_id, status, 'OPENED', 'test-41', program, benefit, benefit_table_version
              FROM c RETURNING transition_id, claim_id)
   INSERT INTO claim_outbox (event_id, claim_id, transition_id)
   SELECT claim_event_uuid(claim_id, 1), claim_id, transition_id FROM t"
t0=$SECONDS
new_published() { [[ $(q "SELECT count(*) FROM claim_outbox o JOIN claims c USING (claim_id)
                             WHERE c.nik = '$NIK' AND o.published_at IS NOT NULL") == 1 ]]; }
wait_until 10 new_published || fail "relay C did not wake up on NOTIFY"
echo "ok: relay C published the new event after $((SECONDS - t0))s (poll interval 60s)"
stop_bg relay-c || fail "relay C did not stop cleanly on SIGTERM: $(tail -n 3 "$(bg_log relay-c)")"
grep -q 'msg="stopped"' "$(bg_log relay-c)" || fail "relay C did not log its stop"
echo "PASS: $TEST_NAME"
