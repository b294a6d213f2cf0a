#!/usr/bin/env bash
# The incident routing scenario table (tests/unit/data/incident_scenarios.tsv, the one
# test_route.c runs against route.c) on the real stack: each row becomes a worker of its own
# (serials 8xxx) enrolled through roster-producer and roster-consumer so that the coverages
# are those of the row's coverage spec, then the row's incident (after a DEATH recording the
# row's deceased_on, if any) through incident-producer and incident-consumer, then the
# row's determination with `claims determine`; the incidents, claims and dead letters must
# say what the row expects. One producer and one consumer run per phase. scenarios.py does
# the per-row work and prints ok/FAIL/skip per row and the counts.
. "$(dirname "$0")/lib.sh"

# SCENARIO_TABLE: another table of the same format (to see the checks fail, say).
TABLE=${SCENARIO_TABLE:-$REPO/tests/unit/data/incident_scenarios.tsv}
SCEN=$REPO/tests/integration/scenarios.py
MIN_RUN=40 # rows that must run end to end
cd "$TEST_TMP"

python3 "$SCEN" prepare "$TABLE" "$TEST_TMP"
# A data center of its own, onboarded as an operator would: topics, Kafka user and ACLs,
# then its provinces.
"$STACK" onboard dc-itest 2>onboard.log || fail "stack.sh onboard: $(tail -n 5 onboard.log)"
"$BIN/covadm" agreements load agreements.csv >/dev/null
"$BIN/covadm" data-centers load data_centers.csv >/dev/null

# --- roster: every scenario's coverages
"$BIN/roster-producer" --source dc-itest --progress never roster.csv 2>roster-producer.log ||
    fail "roster-producer: $(cat roster-producer.log)"
timeout 120 "$BIN/roster-consumer" --exit.when.drained 2>roster-consumer.log ||
    fail "roster-consumer: $(tail -n 5 roster-consumer.log)"
assert_eq "roster events of the scenarios dead-lettered" "0" \
    "$(q_niks niks.txt "SELECT count(*) FROM dead_letters WHERE group_id = 'roster-consumer'
                        AND nik_masked IN (SELECT left(nik, 4) || '********' || right(nik, 4) FROM mine)")"
python3 "$SCEN" coverage "$TEST_TMP" || fail "coverages differ from the scenarios' coverage specs"

# --- incidents: the producer refuses input errors (exit 1); scenarios.py tells which rows
rc=0
"$BIN/incident-producer" --source dc-itest --progress never incidents.csv 2>incident-producer.log || rc=$?
((rc == 0 || rc == 1)) || fail "incident-producer exit $rc: $(cat incident-producer.log)"
# From $REPO, so the consumer finds deploy/benefits/benefit_table.tsv as in production. In
# batches of 4, with each batch slot's staging tables truncated every 10 rows and emptied by
# DELETE in between (incident_stage.c), so the rows below come through both.
(cd "$REPO" && timeout 120 "$BIN/incident-consumer" --exit.when.drained --batch.max.messages 4 \
    --staging.truncate.rows 10) 2>incident-consumer.log ||
    fail "incident-consumer: $(tail -n 5 incident-consumer.log)"

# --- determinations, then every row against the table
python3 "$SCEN" determine "$TEST_TMP" "$BIN" || fail "claims determine failed"
python3 "$SCEN" check "$TEST_TMP" incident-producer.log || fail "scenario rows disagree with the table"
read -r ran failed skipped <counts
assert_eq "scenario rows failed" "0" "$failed"
assert_ge "scenario rows run end to end" "$MIN_RUN" "$ran"
echo "ok: $ran scenario rows ran end to end, $skipped skipped (reasons above)"
