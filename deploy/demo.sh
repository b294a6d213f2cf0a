#!/usr/bin/env bash
# The README's first command: set up, start the local stack, load reference data, publish a
# generated roster for Wajo (73.13) with some invalid rows, drain it with the roster
# consumer, and print the coverage summary and the rejected rows.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

deploy/local/stack.sh deps
make -s all
deploy/local/stack.sh up --monitoring
# shellcheck disable=SC1091
. "${VAR_DIR:-$root/var}/env"
bin=$root/build/bin
work=$VAR_DIR/demo
mkdir -p "$work"

echo "== the schema registry: every schema version registered (stack.sh up), one subject per record"
for subject in $(curl -fsS "$SCHEMA_REGISTRY_URL/subjects" | tr -d '[]"' | tr ',' ' '); do
    echo "$subject versions $(curl -fsS "$SCHEMA_REGISTRY_URL/subjects/$subject/versions")"
done
echo "compatibility $(curl -fsS "$SCHEMA_REGISTRY_URL/config")"

echo "== reference data"
"$bin/covadm" data-centers load sample/data_centers.csv
"$bin/covadm" agreements load sample/agreements.csv
"$bin/covadm" regions load sample/regions.csv

echo "== roster for Wajo (73.13), seed 2024, with invalid rows"
"$bin/gen_roster" --seed 2024 --regency 73.13 --invalid 9 --updates 2 --terminations 1 \
    --output "$work/roster-wajo.csv" 2>"$work/roster-wajo.expected"
wc -l < "$work/roster-wajo.csv" | sed 's/^/rows (with header): /'

echo "== publish (invalid rows are reported and not sent)"
"$bin/roster-producer" --source dc-sulsel "$work/roster-wajo.csv" 2>&1 | tail -n 20 || true

echo "== a few events the producer accepts but the consumer must refuse"
cat > "$work/roster-late.csv" <<'CSV'
change,nik,effective_date,monthly_wage
UPDATE,7313010101900001,2024-02-01,1300000
TERMINATE,7371016502880002,2024-02-10,
CSV
"$bin/roster-producer" --source dc-sulsel "$work/roster-late.csv" 2>&1 | tail -n 3 || true

echo "== drain the backlog into PostgreSQL"
"$bin/roster-consumer" --exit.when.drained --stats.interval.s 5 2>&1 | grep -E 'msg="(started|progress|stopped)' | tail -n 3

echo "== publish each worker's coverage state to coverage.changes (compacted, for analysts)"
"$bin/coverage-relay" --exit.when.drained 2>&1 | grep -E 'level=(error|warn)' | tail -n 3 || true
echo "records on coverage.changes: $(kcat -C -b "$KAFKA_BOOTSTRAP" -t coverage.changes -e -q -f '%k\n' | grep -c .)"

echo "== coverage in Wajo per kecamatan and role"
"$bin/covadm" summary --regency 73.13
echo "== rejected by the consumer (also on roster.changes.dlq)"
"$bin/covadm" dead-letters --limit 20

echo "== incidents reported on voting day (14 February 2024, WITA)"
# Workers taken from the published roster: three KPPS members, a PPS member, a PTPS.
pick() { awk -F, -v role="$1" -v n="$2" '$1 == "ENROLL" && $7 == role && ++k == n { print $2, $8; exit }' \
    "$work/roster-wajo.csv"; }
read -r k1 r1 < <(pick KPPS 1)
read -r k2 r2 < <(pick KPPS 2)
read -r k3 r3 < <(pick KPPS 3)
read -r p1 q1 < <(pick PPS 1)
read -r t1 s1 < <(pick PTPS 1)
cat > "$work/incidents.csv" <<CSV
report_id,nik,type,occurred_at,reported_at,region_code,circumstance,cause,severity,description,reporter_institution,reporter_name
KPU-7313-001,$k1,DEATH,2024-02-14T23:40:00+08:00,2024-02-15T07:30:00+08:00,$r1,ON_DUTY,EXHAUSTION,,Collapsed while counting ballots,KPU,Sekretariat PPS
BWS-7313-017,$k1,DEATH,2024-02-14T23:45:00+08:00,2024-02-15T09:10:00+08:00,$r1,ON_DUTY,EXHAUSTION,,Same death reported by the PTPS,BAWASLU,Panwascam
KPU-7313-002,$k2,ACCIDENT,2024-02-14T06:10:00+08:00,2024-02-14T12:00:00+08:00,$r2,COMMUTING,TRAFFIC,SERIOUS,Motorbike hit on the way to the TPS,KPU,Sekretariat PPS
KPU-7313-003,$k3,ACCIDENT,2024-02-20T19:00:00+08:00,2024-02-21T08:00:00+08:00,$r3,OFF_DUTY,FALL,MINOR,Fell at home,FAMILY,Keluarga
KPU-7313-004,$p1,ACCIDENT,2024-02-12T10:00:00+08:00,2024-02-16T10:00:00+08:00,$q1,ON_DUTY,FALL,MODERATE,Fell while carrying ballot boxes (reported late),KPU,Sekretariat PPK
BWS-7313-005,$t1,ACCIDENT,2024-03-10T10:00:00+08:00,2024-03-10T12:00:00+08:00,$s1,ON_DUTY,FALL,MINOR,After the PTPS term ended,BAWASLU,Panwascam
CSV
"$bin/incident-producer" --source dc-sulsel --progress never "$work/incidents.csv" 2>&1 | tail -n 1 || true
(cd "$root" && "$bin/incident-consumer" --exit.when.drained 2>&1 | grep -E 'msg="stopped' | tail -n 1)
"$bin/claims-relay" --exit.when.drained 2>&1 | grep -E 'msg="(stopped|drained)' | tail -n 1 || true
echo "== incidents and their outcomes"
psql -X -P pager=off -c "SELECT type, circumstance, local_date, outcome, outcome_reason, late_report,
    (SELECT count(*) FROM incident_reports r WHERE r.incident_id = i.incident_id) AS reports
  FROM incidents i ORDER BY occurred_at"
echo "== claims opened (BPJS officers: build/bin/claims list / show / determine / approve / pay)"
"$bin/claims" list
echo "== claim events published to the claims topic: $(kcat -C -b "$KAFKA_BOOTSTRAP" -t claims -e -q -f '%k\n' | grep -c .)"

echo "== an analytics subscriber with no code from us (Python confluent-kafka + the registry)"
demo_py=$(deploy/local/stack.sh subscriber-python)
"$demo_py" tests/integration/subscriber.py --bootstrap "$KAFKA_BOOTSTRAP" \
    --registry "$SCHEMA_REGISTRY_URL" claims | head -n 2 || true

echo "== the services keep running, each with its metrics port"
deploy/local/stack.sh services-up
sleep 3
deploy/local/stack.sh status || true

cat <<MSG

The stack keeps running. Connect with:
  . $VAR_DIR/env && psql                   # PostgreSQL (database coverage)
  kcat -b \$KAFKA_BOOTSTRAP -L              # Kafka topics
  curl \$SCHEMA_REGISTRY_URL/subjects       # the schema registry (Confluent API; README "For analysts")
Where to look (README.md, "Metrics, health and alerts"):
  $PROMETHEUS_URL/alerts                    # Prometheus: alerts (and /graph for queries)
  curl http://127.0.0.1:$METRICS_PORT_ROSTER_CONSUMER/metrics   # roster-consumer (also /healthz, /readyz)
  curl http://127.0.0.1:$METRICS_PORT_INCIDENT_CONSUMER/metrics   # incident-consumer
  curl http://127.0.0.1:$METRICS_PORT_CLAIMS_RELAY/metrics   # claims-relay
  curl http://127.0.0.1:$METRICS_PORT_COVERAGE_RELAY/metrics   # coverage-relay
  deploy/monitoring/dashboard.json         # the Grafana dashboard to import
Stop it with: deploy/local/stack.sh down
MSG
