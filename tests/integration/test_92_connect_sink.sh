#!/usr/bin/env bash
# Kafka Connect with no line of our code lands coverage.changes in an analytics PostgreSQL
# database: Apache Kafka's Connect worker (3.9.1, standalone), the Debezium JDBC sink and
# Apicurio's Avro converter reading the stack's registry, configured by the files of
# deploy/connect/ exactly as README "For analysts" runs them. The table (key nik) must
# hold the latest state of every worker on the topic, as our own decoder reads it, and
# follow a change made while the worker runs.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

CONNECT_DIR=$("$STACK" connect-jars) || fail "Kafka Connect's jars could not be resolved"
export CONNECT_DIR CONNECT_PORT=$((KAFKA_PORT - 10))
# The stack made the database and its role; the worker's and sink's files carry the
# credentials of the Kafka user analytics and the role analytics_sink.
conf=$("$STACK" connect-config) || fail "stack.sh connect-config failed"
sink() { psql -X -Atq -U analytics_sink -d analytics_sink -c "$1"; }
PGOPTIONS="-c client_min_messages=warning" sink "DROP TABLE IF EXISTS coverage_changes" >/dev/null

"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/gen_roster" --seed 72 --serial-base 7200 --regency 73.13 --scale-events 20 --output roster.csv 2>/dev/null
awk -F, 'NR > 1 { print $2 }' roster.csv | sort -u >niks.txt
run() { "$@" 2>"$(basename "$1").log" || fail "$(basename "$1") failed: $(tail -n 5 "$(basename "$1").log")"; }
run "$BIN/roster-producer" --source dc-sulsel --progress never roster.csv
run timeout 120 "$BIN/roster-consumer" --exit.when.drained
run timeout 300 "$BIN/coverage-relay" --exit.when.drained --batch.size 5000

# The worker, from the repository's root (plugin.path is relative to it).
rm -rf "$VAR_DIR/connect"
mkdir -p "$VAR_DIR/connect"
export conf
start_bg connect bash -c 'cd "$REPO" && exec java -Xmx512m \
    -Dlog4j.configuration=file:deploy/connect/log4j.properties -cp "$CONNECT_DIR/lib/*" \
    org.apache.kafka.connect.cli.ConnectStandalone \
    "$conf/worker.properties" "$conf/coverage-sink.properties"'
dump() { kcat -C -b "$KAFKA_BOOTSTRAP" -t coverage.changes -e -q -f '%k\t%S\n%s\n'; }
keys=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t coverage.changes -e -q -f '%k\n' | sort -u | wc -l)
landed() { [[ $(sink "SELECT count(*) FROM coverage_changes" 2>/dev/null) == "$keys" ]]; }
wait_until 240 landed ||
    fail "coverage_changes has $(sink 'SELECT count(*) FROM coverage_changes' 2>&1) rows, the topic $keys keys: $(grep -a -m3 ERROR "$(bg_log connect)")"
echo "ok: $keys workers landed"
grep -q 'io.apicurio.registry.utils.converter.AvroConverter' "$(bg_log connect)" ||
    fail "the worker did not load Apicurio's converter"

# Every row equals the latest record of its key as our decoder reads it.
table() {
    sink "SELECT nik, event_id, source, array_to_string(programs, ';'), status, valid_from,
                 valid_to, region_code, role, institution FROM coverage_changes" | LC_ALL=C sort
}
dump | python3 "$REPO/tests/integration/coverage_changes.py" | LC_ALL=C sort >topic.txt
table >table.txt
diff topic.txt table.txt >rows.diff || fail "the sink's rows differ from the topic: $(head -n 6 rows.diff)"
assert_eq "this test's workers in the sink" 20 \
    "$(grep -cFf niks.txt table.txt)"
assert_eq "primary key" "nik" \
    "$(sink "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
              AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'coverage_changes'::regclass
              AND i.indisprimary")"

# A change while the worker runs: two workers terminated, upserted in place.
read -r n1 n2 < <(head -n 2 niks.txt | paste -sd' ')
{
    echo "change,nik,effective_date"
    for n in $n1 $n2; do
        echo "TERMINATE,$n,$(q "SELECT min(valid_from) FROM coverages WHERE nik = '$n'")"
    done
} >terminate.csv
run "$BIN/roster-producer" --source dc-sulsel --progress never terminate.csv
run timeout 120 "$BIN/roster-consumer" --exit.when.drained
run timeout 120 "$BIN/coverage-relay" --exit.when.drained
terminated() {
    [[ $(sink "SELECT count(*) FROM coverage_changes WHERE nik IN ('$n1', '$n2') AND status = 'TERMINATED'") == 2 ]]
}
wait_until 120 terminated || fail "the sink did not take the terminations"
assert_eq "rows after the change (upserts, no new rows)" "$keys" "$(sink "SELECT count(*) FROM coverage_changes")"
stop_bg connect || true
