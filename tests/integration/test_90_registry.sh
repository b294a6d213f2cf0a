#!/usr/bin/env bash
# The schema registry of the stack (Apicurio, PostgreSQL storage): global compatibility
# FULL_TRANSITIVE, every catalog version registered in order under record-name subjects,
# an incompatible schema refused; roster-producer writes the registry's id; a producer at
# a newer schema version (confluent-kafka's AvroSerializer with RosterChange v2 plus a
# field, registered by it) is read by roster-consumer without a rebuild; a registry that is
# down is an error at a producer's start-up and, for an id a consumer has not seen yet, a
# batch retried rather than a dead letter.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"
REG=$SCHEMA_REGISTRY_URL
ROSTER=id.bpjs.adhoc.RosterChange
JSON_CT='Content-Type: application/vnd.schemaregistry.v1+json'
NOWHERE=http://127.0.0.1:1/apis/ccompat/v7
# dc-sulsel publishes to its own topic (on the secure stack; roster.changes without it).
TOPIC=roster.changes
((${STACK_SECURE:-0} == 0)) || TOPIC=roster.changes.dc-sulsel

"$STACK" status | grep '^registry: running' || fail "stack.sh status shows no registry"
assert_eq "global compatibility" FULL_TRANSITIVE \
    "$(curl -fsS "$REG/config" | python3 -c 'import json,sys; print(json.load(sys.stdin)["compatibilityLevel"])')"
subjects=$(curl -fsS "$REG/subjects" | python3 -c 'import json,sys; print(" ".join(sorted(json.load(sys.stdin))))')
assert_match "subjects by record name" \
    "id.bpjs.adhoc.ClaimEvent id.bpjs.adhoc.CoverageChange id.bpjs.adhoc.Incident id.bpjs.adhoc.Invoice $ROSTER" \
    "$subjects"
assert_match "RosterChange versions 1 and 2 in catalog order" '^\[1,2' "$(curl -fsS "$REG/subjects/$ROSTER/versions")"
assert_eq "the registry's storage is its PostgreSQL database" t \
    "$(psql -X -Atq -U registry -d registry -c "SELECT count(*) > 0 FROM pg_tables WHERE schemaname = 'public'")"

# --- an incompatible version is refused by the stack's registry too
code=$(python3 -c 'import json,sys; print(json.dumps({"schema": open(sys.argv[1]).read()}))' \
    "$REPO/tests/schemas/roster_change.required_field.avsc" |
    curl -sS -o refused.json -w '%{http_code}' -X POST -H "$JSON_CT" --data @- "$REG/subjects/$ROSTER/versions")
assert_eq "HTTP status of an incompatible RosterChange" 409 "$code"

# --- roster-producer writes the id the registry gives the latest compiled version
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
cat >roster.csv <<'EOF'
change,nik,full_name,birth_date,gender,institution,role,region_code,tps,term_start,term_end,monthly_wage,programs,agreement_id
ENROLL,7313011501907001,Andi Registri,1990-01-15,L,KPU,KPPS,73.13.01.1001,1,2024-01-01,2024-03-31,1500000,JKK;JKM,PKS-KPU-7313-2023
ENROLL,7313011501907002,Besse Registri,1990-01-15,L,KPU,KPPS,73.13.01.1001,2,2024-01-01,2024-03-31,1500000,JKK;JKM,PKS-KPU-7313-2023
EOF
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>producer.log ||
    fail "roster-producer failed: $(tail -n 5 producer.log)"
v2_id=$(python3 -c 'import json,sys; print(json.dumps({"schema": open(sys.argv[1]).read()}))' \
    "$REPO/schemas/roster_change.v2.avsc" |
    curl -fsS -X POST -H "$JSON_CT" --data @- "$REG/subjects/$ROSTER" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
assert_match "producer logged the id bound" "subject=$ROSTER file=roster_change.v2.avsc id=$v2_id " "$(cat producer.log)"
ids=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$TOPIC" -e -q -f '%k %s\n' 2>/dev/null |
    awk '$1 ~ /^731301150190700[12]$/ {print $1}' | sort -u | wc -l)
assert_eq "records of this test on $TOPIC" 2 "$ids"
header_ids=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$TOPIC" -e -q -f '%k\t%S\n%s\n' 2>/dev/null |
    python3 -c '
import sys
data = sys.stdin.buffer.read(); pos = 0; seen = set()
while pos < len(data):
    nl = data.index(b"\n", pos); key, size = data[pos:nl].decode().split("\t"); size = int(size)
    value = data[nl + 1:nl + 1 + size]; pos = nl + 2 + size
    if key.startswith("73130115019070"): seen.add(int.from_bytes(value[1:5], "big"))
print(" ".join(map(str, sorted(seen))))')
assert_eq "schema id in the wire header" "$v2_id" "$header_ids"

# --- a registry that is down is an error at start-up, naming it
rc=0
"$BIN/roster-producer" --source dc-sulsel --progress never --registry.url "$NOWHERE" roster.csv \
    2>down.log || rc=$?
assert_eq "exit status of a producer without its registry" 1 "$rc"
assert_match "its message" "roster-producer: schema registry http://127.0.0.1:1/apis/ccompat/v7: looking up subject '$ROSTER'" "$(cat down.log)"

# --- a consumer that meets an id it has not seen while the registry is down retries the
# batch: nothing applied, nothing dead-lettered; with the registry back, all is applied.
dlqs() { dlq_dump roster.changes 'x\n' | grep -c . || true; }
dlq_before=$(dlqs)
start_bg blind "$BIN/roster-consumer" --registry.url "$NOWHERE" --registry.timeout.ms 500 \
    --stats.interval.s 1 --retry.backoff.max.ms 1000
retried() { grep -q 'msg="batch failed; retrying"' "$(bg_log blind)"; }
wait_until 60 retried || fail "no retried batch: $(tail -n 5 "$(bg_log blind)")"
assert_match "the retry names the registry" "127.0.0.1:1" "$(grep -m1 'batch failed; retrying' "$(bg_log blind)")"
stop_bg blind || fail "roster-consumer did not stop cleanly"
assert_eq "workers applied while the registry was down" 0 \
    "$(q "SELECT count(*) FROM workers WHERE nik IN ('7313011501907001', '7313011501907002')")"
assert_eq "dead letters while the registry was down" "$dlq_before" "$(dlqs)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>consumer.log ||
    fail "roster-consumer failed: $(tail -n 5 consumer.log)"
assert_eq "workers applied with the registry" 2 \
    "$(q "SELECT count(*) FROM workers WHERE nik IN ('7313011501907001', '7313011501907002')")"

# --- a producer at a newer version, with no code from us: RosterChange v2 plus a field,
# registered by confluent-kafka's serializer under the record name; the consumer reads it by
# the fields it knows.
py=$(subscriber_python)
cat >newer.py <<'EOF'
import datetime, json, sys, uuid
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient, record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

# The data center's own librdkafka file (TLS, SCRAM) and its topic.
config, topic, registry, v2, niks = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
conf = dict(line.rstrip("\n").split("=", 1) for line in open(config)
            if "=" in line and not line.lstrip().startswith("#"))
schema = json.load(open(v2))
schema["fields"].append({"name": "district_office", "type": ["null", "string"], "default": None,
                         "doc": "A field this project's consumers do not know yet."})
serialize = AvroSerializer(SchemaRegistryClient({"url": registry, "timeout": 30}), json.dumps(schema),
                           conf={"auto.register.schemas": True,
                                 "subject.name.strategy": record_subject_name_strategy})
producer = Producer(dict(conf, **{"enable.idempotence": True}))
for i, nik in enumerate(niks):
    record = {"event_id": str(uuid.uuid4()), "source": "dc-sulsel",
              "event_time": datetime.datetime.now(datetime.timezone.utc), "change": "ENROLL",
              "nik": nik, "full_name": "Cakra Versi Tiga", "birth_date": datetime.date(1990, 1, 15),
              "gender": "L", "institution": "KPU", "role": "KPPS", "region_code": "7313011001",
              "tps": 3 + i, "term_start": datetime.date(2024, 1, 1),
              "term_end": datetime.date(2024, 3, 31), "effective_date": None,
              "monthly_wage": 1500000, "programs": ["JKK", "JKM"],
              "agreement_id": "PKS-KPU-7313-2023", "kpj": None, "phone": None,
              "district_office": "Sengkang"}
    value = serialize(record, SerializationContext(topic, MessageField.VALUE))
    producer.produce(topic, key=nik.encode(), value=value)
assert producer.flush(30) == 0, "records not delivered"
print(int.from_bytes(value[1:5], "big"))
EOF
v3_id=$("$py" newer.py "$COVERAGE_CONFIG_DIR/dc-sulsel.kcat" "$TOPIC" "$REG" "$REPO/schemas/roster_change.v2.avsc" \
    7313011501907003 7313011501907004) || fail "the newer producer failed"
assert_match "RosterChange version 3 registered by the serializer" '^\[1,2,3\]$' \
    "$(curl -fsS "$REG/subjects/$ROSTER/versions")"
[[ $v3_id != "$v2_id" ]] || fail "version 3 has version 2's id $v2_id"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>consumer3.log ||
    fail "roster-consumer failed on version 3: $(tail -n 5 consumer3.log)"
assert_eq "workers of version 3 applied" 2 \
    "$(q "SELECT count(*) FROM workers WHERE nik IN ('7313011501907003', '7313011501907004')
          AND full_name = 'Cakra Versi Tiga'")"
assert_eq "their coverages (JKK and JKM each)" 4 \
    "$(q "SELECT count(*) FROM coverages WHERE nik IN ('7313011501907003', '7313011501907004')")"
assert_eq "dead letters after version 3" "$dlq_before" "$(dlqs)"
