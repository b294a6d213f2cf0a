#!/usr/bin/env bash
# The README's first command: set up, start the local stack (secure: TLS, SCRAM users, ACLs;
# every program takes its own credentials from $VAR_DIR/secrets), load reference data,
# publish a generated roster for Wajo (73.13) with some invalid rows as data center
# dc-sulsel (to its own topic, roster.changes.dc-sulsel), drain it with the roster consumer,
# and print the coverage summary and the rejected rows; then incidents and claims; then, for
# the Wajo KPU agreement, its first month's invoice (issued and published to
# billing.invoices), its budget status and the certificates of its first stage; and what
# the broker refuses a data center.
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
# The Wajo KPU agreement's budget (APBD line): its row with two more columns.
wajo=PKS-KPU-7313-2023
awk -F, -v id="$wajo" 'NR == 1 { print $0 ",budget_idr,budget_policy" } $1 == id { print $0 ",1500000000,warn" }' \
    sample/agreements.csv >"$work/budget-wajo.csv"
"$bin/covadm" agreements load "$work/budget-wajo.csv"
"$bin/covadm" premiums sync

echo "== roster for Wajo (73.13), seed 2024, with invalid rows"
"$bin/gen_roster" --seed 2024 --regency 73.13 --invalid 9 --updates 2 --terminations 1 \
    --output "$work/roster-wajo.csv" 2>"$work/roster-wajo.expected"
wc -l < "$work/roster-wajo.csv" | sed 's/^/rows (with header): /'

echo "== publish as dc-sulsel, to roster.changes.dc-sulsel (invalid rows are reported and not sent)"
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
echo "== rejected by the consumer (also on roster.changes.dc-sulsel.dlq)"
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

echo "== premiums: the first month's invoice of $wajo (issued; it never changes after this)"
first=$(psql -X -Atc "SELECT to_char(min(valid_from), 'YYYY-MM') FROM coverages WHERE agreement_id = '$wajo'")
"$bin/covadm" invoices issue "$wajo" "$first" --actor demo | sed -n '1,30p'
echo "   ... ($(psql -X -Atc "SELECT count(*) FROM invoice_lines l JOIN invoices v USING (invoice_id)
    WHERE v.agreement_id = '$wajo' AND v.billing_month = '$first-01'") lines in all: covadm invoices show $wajo $first)"
"$bin/billing-relay" --exit.when.drained 2>&1 | grep -E 'level=(error|warn)' | tail -n 3 || true
echo "== invoices published to billing.invoices: $(kcat -C -b "$KAFKA_BOOTSTRAP" -t billing.invoices -e -q -f '%k\n' | grep -c .)"

echo "== budget status: premiums committed (issued + projected to the end of every term) against the budget"
"$bin/covadm" agreements status "$wajo"

echo "== certificate stages of $wajo (by the start of the term) and stage 1's certificates"
"$bin/covadm" stages add "$wajo" 1 --from 2023-01-01 --to 2023-01-31 --name "PPK, PPS dan sekretariat"
"$bin/covadm" stages add "$wajo" 2 --from 2023-02-01 --to 2023-12-31 --name "Pantarlih dan sekretariat PPS"
"$bin/covadm" stages add "$wajo" 3 --from 2024-01-01 --to 2024-12-31 --name "KPPS dan Linmas"
"$bin/covadm" certificates "$wajo" 1 --issued-on 2023-02-01 --out "$work/certificates/$wajo/stage-1"
pdftoppm -png -r 72 -singlefile "$work/certificates/$wajo/stage-1/cert-00001.pdf" "$work/certificate"
pdftoppm -png -r 72 -singlefile "$work/certificates/$wajo/stage-1/summary.pdf" "$work/certificate-summary"
echo "a certificate and the stage summary as pages: $work/certificate.png, $work/certificate-summary.png"

echo "== security: each data center writes only its own topics"
echo "dc-maluku's credentials, publishing as dc-sulsel:"
"$bin/roster-producer" --config "$COVERAGE_CONFIG_DIR/dc-maluku.conf" --source dc-sulsel \
    --progress never "$work/roster-late.csv" 2>&1 | grep -v 'msg="delivery failed"' | tail -n 2 || true
echo "analytics reading roster.changes.dc-sulsel:"
kcat -F "$COVERAGE_CONFIG_DIR/analytics.kcat" -C -t roster.changes.dc-sulsel -e -q 2>&1 |
    grep -o 'Topic authorization failed' | head -n 1 || true
echo "ACLs: $(deploy/local/stack.sh acls | wc -l) (deploy/local/stack.sh acls); principals' files:" \
    "$(cd "$COVERAGE_CONFIG_DIR" && ls -- *.conf | tr '\n' ' ')"

echo "== an analytics subscriber with no code from us (Python confluent-kafka + the registry, as analytics)"
demo_py=$(deploy/local/stack.sh subscriber-python)
timeout 120 "$demo_py" tests/integration/subscriber.py --config "$COVERAGE_CONFIG_DIR/analytics.kcat" \
    --registry "$SCHEMA_REGISTRY_URL" claims | head -n 2 || true

echo "== the services keep running, each with its metrics port"
deploy/local/stack.sh services-up
sleep 3
deploy/local/stack.sh status || true

cat <<MSG

The stack keeps running, secure (README.md, "Security"). Connect with:
  . $VAR_DIR/env && psql                   # PostgreSQL (database coverage, TLS, as the owner)
  kcat -L                                  # Kafka topics (KCAT_CONFIG: the admin's credentials)
  ls $COVERAGE_CONFIG_DIR                  # each principal's config file (0600)
  curl $SCHEMA_REGISTRY_URL/subjects       # the schema registry (Confluent API; README "For analysts")
Where to look (README.md, "Metrics, health and alerts"):
  $PROMETHEUS_URL/alerts                    # Prometheus: alerts (and /graph for queries)
  curl http://127.0.0.1:$METRICS_PORT_ROSTER_CONSUMER/metrics   # roster-consumer (also /healthz, /readyz)
  curl http://127.0.0.1:$METRICS_PORT_INCIDENT_CONSUMER/metrics   # incident-consumer
  curl http://127.0.0.1:$METRICS_PORT_CLAIMS_RELAY/metrics   # claims-relay
  curl http://127.0.0.1:$METRICS_PORT_COVERAGE_RELAY/metrics   # coverage-relay
  deploy/monitoring/dashboard.json         # the Grafana dashboard to import
Stop it with: deploy/local/stack.sh down
MSG
