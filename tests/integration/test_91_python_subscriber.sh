#!/usr/bin/env bash
# An analytics subscriber with no code from us: Python's confluent-kafka, its
# SchemaRegistryClient pointed at the stack's registry and its AvroDeserializer
# (subscriber.py, in a virtual environment under var/cache), reads every record of
# coverage.changes and claims (this test's workers, enrolled and hurt, and every earlier
# test's) and each is checked against PostgreSQL: every record decodes by the registry's
# id for its record's subject; the latest state of each worker with one term equals
# PostgreSQL's; the latest event of each claim has the claim's status, benefit and amount.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
py=$(subscriber_python)

A1=7313011501907101 # serious accident on duty: a JKK_TEMPORARY claim
D1=7313012002857102 # dies on duty: a JKK_DEATH claim, coverage closed
W1=7313013003887103 # enrolled only
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
cat >roster.csv <<EOF
change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id
ENROLL,$A1,Andi Pelanggan,1990-01-15,L,KPU,KPPS,73.13.01.1001,1,2024-01-01,2024-03-31,1500000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,$D1,Besse Pelanggan,1985-02-20,P,KPU,KPPS,73.13.01.1001,2,2024-01-01,2024-03-31,1200000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,$W1,Cakra Pelanggan,1988-03-30,L,KPU,KPPS,73.13.01.1001,3,2024-01-01,2024-03-31,1100000,JKK;JKM,PKS-KPU-7313-2023
EOF
cat >incidents.csv <<EOF
report_id,nik,type,occurred_at,reported_at,region_code,circumstance,cause,severity,description,reporter_institution
KPU-711,$A1,ACCIDENT,2024-02-14T10:00:00+08:00,2024-02-14T18:00:00+08:00,73.13.01.1001,ON_DUTY,FALL,SERIOUS,Fell from the TPS stage,KPU
KPU-712,$D1,DEATH,2024-02-14T21:00:00+08:00,2024-02-15T08:00:00+08:00,73.13.01.1001,ON_DUTY,ILLNESS,,Collapsed while counting,KPU
EOF
run() { "$@" 2>"$(basename "$1").log" || fail "$(basename "$1") failed: $(tail -n 5 "$(basename "$1").log")"; }
run "$BIN/roster-producer" --source dc-sulsel --progress never roster.csv
run timeout 120 "$BIN/roster-consumer" --exit.when.drained
run "$BIN/incident-producer" --source dc-sulsel --progress never incidents.csv
run timeout 120 "$BIN/incident-consumer" --exit.when.drained
run timeout 300 "$BIN/coverage-relay" --exit.when.drained --batch.size 5000
run timeout 120 "$BIN/claims-relay" --exit.when.drained
assert_eq "unpublished outbox rows" "0|0" \
    "$(q "SELECT (SELECT count(*) FROM coverage_outbox WHERE published_at IS NULL),
                 (SELECT count(*) FROM claim_outbox WHERE published_at IS NULL)")"

"$py" "$REPO/tests/integration/subscriber.py" --config "$COVERAGE_CONFIG_DIR/analytics.kcat" \
    --registry "$SCHEMA_REGISTRY_URL" coverage.changes claims >records.jsonl 2>subscriber.err ||
    fail "the subscriber failed: $(tail -n 5 subscriber.err)"
assert_eq "coverage.changes records decoded" "$(topic_count coverage.changes)" \
    "$(grep -c '"topic": "coverage.changes"' records.jsonl)"
assert_eq "claims records decoded" "$(topic_count claims)" "$(grep -c '"topic": "claims"' records.jsonl)"

# PostgreSQL's side: each one-term worker's state (as test_20 computes it) and each claim.
q "SELECT nik, coalesce(string_agg(program, ';' ORDER BY array_position(ARRAY['JKK','JKM','JHT'], program))
                        FILTER (WHERE status <> 'CANCELLED'), ''),
          CASE WHEN bool_or(status <> 'ACTIVE') THEN 'TERMINATED'
               WHEN max(valid_to) < (now() AT TIME ZONE 'UTC')::date THEN 'EXPIRED'
               ELSE 'ACTIVE' END,
          min(valid_from), max(valid_to), min(region_code), min(role), min(institution)
   FROM coverages GROUP BY nik HAVING count(DISTINCT enroll_event) = 1" >workers.psv
q "SELECT claim_id, nik, program, benefit, status, coalesce(amount_idr::text, '') FROM claims" >claims.psv

cat >check.py <<'EOF'
import json, sys, urllib.request

registry = sys.argv[1]
workers = {l.split("|")[0]: l.rstrip("\n").split("|") for l in open("workers.psv")}
claims = {l.split("|")[0]: l.rstrip("\n").split("|") for l in open("claims.psv")}
latest, subjects, bad = {}, {}, []
for line in open("records.jsonl"):
    r = json.loads(line)
    sid = r["schema_id"]
    if sid not in subjects:
        with urllib.request.urlopen("%s/schemas/ids/%d/versions" % (registry, sid)) as f:
            subjects[sid] = json.load(f)[0]["subject"]
    want = {"coverage.changes": "id.bpjs.adhoc.CoverageChange", "claims": "id.bpjs.adhoc.ClaimEvent"}
    if subjects[sid] != want[r["topic"]]:
        bad.append("%s@%d: schema id %d is %s" % (r["topic"], r["offset"], sid, subjects[sid]))
    key = (r["topic"], r["key"])
    if key not in latest or (r["partition"], r["offset"]) > (latest[key]["partition"], latest[key]["offset"]):
        latest[key] = r
compared = {"coverage.changes": 0, "claims": 0}
for (topic, key), r in sorted(latest.items()):
    v = r["value"]
    if topic == "coverage.changes" and key in workers:
        got = [v["nik"], ";".join(v["programs"]), v["status"], v["valid_from"], v["valid_to"],
               v["region_code"], v["role"], v["institution"]]
        if got != workers[key]:
            bad.append("worker %s: topic %s, PostgreSQL %s" % (key[:4], got[1:], workers[key][1:]))
        compared[topic] += 1
    elif topic == "claims":
        c = claims.get(key)
        got = [v["claim_id"], v["nik"], v["program"], v["benefit"], v["to_status"],
               "" if v["amount_idr"] is None else str(v["amount_idr"])]
        if c is None:
            bad.append("claim %s is on the topic, not in PostgreSQL" % key)
        elif got != c:
            bad.append("claim %s: topic %s, PostgreSQL %s" % (key, got[2:], c[2:]))
        compared[topic] += 1
for b in bad[:10]:
    print("mismatch:", b)
print("compared: workers=%d claims=%d schema_ids=%s" % (compared["coverage.changes"], compared["claims"],
      ",".join("%d:%s" % kv for kv in sorted(subjects.items()))))
sys.exit(1 if bad else 0)
EOF
out=$(python3 check.py "$SCHEMA_REGISTRY_URL") || fail "records differ from PostgreSQL: $out"
echo "$out"
assert_match "workers compared" 'workers=[1-9]' "$out"
assert_match "claims compared" 'claims=[1-9]' "$out"

# This test's own: three states and two claims, as PostgreSQL has them.
mine=$(python3 -c '
import json, sys
for l in open("records.jsonl"):
    r = json.loads(l); v = r["value"]
    if r["key"] in sys.argv[1:] or v.get("nik") in sys.argv[1:] and r["topic"] == "claims":
        print(r["topic"], v["nik"][-4:], v.get("status") or v.get("to_status"), v.get("benefit", "-"))
' "$A1" "$D1" "$W1" | sort -u)
echo "$mine"
assert_match "the dead worker's state" "coverage.changes 7102 TERMINATED" "$mine"
assert_match "the injured worker's claim" "claims 7101 AWAITING_DOCUMENTS JKK_TEMPORARY" "$mine"
assert_match "the death claim" "claims 7102 PENDING_DETERMINATION JKK_DEATH" "$mine"
