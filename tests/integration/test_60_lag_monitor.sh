#!/usr/bin/env bash
# The lag monitor on the real stack. A slowed roster-consumer falls behind a producer that
# keeps producing: its group goes WARN; the consumer stops: lag and lag seconds grow, the
# group (no running member now) goes ERR with its partitions STOP; restarted, the lag
# returns to 0 and the group to OK. A Kafka-only group without members shows its lag; a
# PostgreSQL offset far from Kafka's is flagged. /metrics passes `promtool check metrics`
# but for the one lint on kafka_exporter's name kafka_consumergroup_lag_sum; the one-shot
# table and JSON and --watch print; the status page is screenshot by headless Chromium
# into $VAR_DIR/artifacts (kept after the run) and checked not blank.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

ARTIFACTS=$VAR_DIR/artifacts
mkdir -p "$ARTIFACTS"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
LINT='kafka_consumergroup_lag_sum non-histogram and non-summary metrics should not have "_sum" suffix'
RED=c62828 AMBER=ef8f00 GREEN=2e7d32

field() { python3 "$REPO/tests/integration/lagmon_status.py" "$URL" "$@"; }
# group_is GROUP STATUS [WORST]: the group's status (and worst partition status) now.
group_is() {
    local got
    got=$(field "$1" status worst) || return 1
    [[ ${got%% *} == "$2" && ( -z ${3:-} || ${got#* } == "$3" ) ]]
}
lag_is_zero() { [[ $(field "$1" lag status) == "0 OK" ]]; }
has_members() { [[ $(field "$1" members) =~ ^[1-9] ]]; }
listed() { field "$1" status >/dev/null; }

# screenshot NAME: the status page as $ARTIFACTS/NAME.png, in a fresh browser profile.
screenshot() {
    local profile
    profile=$(mktemp -d "$TEST_TMP/chromium.XXXXXX")
    rm -f "$ARTIFACTS/$1.png"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --screenshot="$ARTIFACTS/$1.png" --window-size=1200,900 \
        "$URL/" >"chromium-$1.log" 2>&1 || fail "chromium: $(tail -n 3 "chromium-$1.log")"
    [[ -s $ARTIFACTS/$1.png ]] || fail "no screenshot $ARTIFACTS/$1.png"
    echo "screenshot: $ARTIFACTS/$1.png"
}

# --- data: a roster to trickle in, a Kafka-only group left behind ---------------------
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
# 150,000 events: the paced producer below runs for ~100 s, still producing when STOP is
# read even when WARN takes half a minute and STOP more than 30 s after it (an ASan build on
# a loaded machine: with 80,000, ~53 s, a CI run's producer ended first).
"$BIN/gen_roster" --seed 60 --serial-base 8500 --scale-events 150000 \
    --agreements-out agreements.csv --output roster.csv 2>/dev/null
"$BIN/covadm" agreements load agreements.csv >/dev/null
head -n 2001 roster.csv >first.csv
TOPIC=roster.changes.dc-sulsel # dc-sulsel publishes to its own topic
"$BIN/roster-producer" --source dc-sulsel --progress never first.csv 2>producer0.log ||
    fail "producer: $(tail -n 3 producer0.log)"
# A group that read some and left: no member, offsets in Kafka only.
kcat -b "$KAFKA_BOOTSTRAP" -G lag-test-idle -o beginning -e -q -c 500 "$TOPIC" \
    >/dev/null 2>kcat.log || fail "kcat: $(tail -n 3 kcat.log)"

# STOP after 10 s without a commit. The slowed consumer below commits a partition once per
# pass over all 12 (some 30 batches of 2 events, each its own transaction): on a loaded
# machine a pass can take over 3 s, and a 3 s floor read the moving consumer as stopped
# (a CI run never saw WARN in 90 s).
start_bg monitor "$BIN/lag-monitor" --serve "127.0.0.1:$PORT" --interval.s 1 --window 4 \
    --stop-after.s 10
MONITOR_LOG=$(bg_log monitor)
wait_until 30 listed lag-test-idle || fail "monitor not answering: $(tail -n 5 "$MONITOR_LOG")"
curl -sf "$URL/healthz" | grep -qx ok || fail "/healthz"

# --- a group with no running member still shows its lag --------------------------------
read -r idle_lag idle_members idle_kafka idle_pg <<<"$(field lag-test-idle lag members in_kafka in_postgresql)"
assert_ge "lag of the group without members" 1 "$idle_lag"
assert_eq "its members" 0 "$idle_members"
assert_eq "its offsets come from Kafka" "1 0" "$idle_kafka $idle_pg"

# --- falling behind: WARN ----------------------------------------------------------------
# Batches of 2 and small fetches: the consumer is slower than the producer below, and
# moves on every partition.
start_bg consumer "$BIN/roster-consumer" --batch.max.messages 2 --apply.workers 1 \
    -X max.partition.fetch.bytes=2048
wait_until 60 has_members roster-consumer || fail "roster-consumer did not join: $(tail -n 5 "$(bg_log consumer)")"
start_bg producer bash -c "python3 '$REPO/tests/integration/pace_lines.py' 1500 roster.csv |
    '$BIN/roster-producer' --source dc-sulsel --progress never -"
PRODUCER_PID=$BG_PID
wait_until 90 group_is roster-consumer WARN ||
    fail "roster-consumer not WARN: $(field roster-consumer status worst lag members);" \
        "consumer: $(tail -n 3 "$(bg_log consumer)")"
read -r lag1 secs1 <<<"$(field roster-consumer lag lag_seconds)"
echo "falling behind: WARN with lag $lag1, ${secs1}s"

# --- stopped while producing: lag and lag seconds grow, STOP -------------------------------
stop_bg consumer TERM || fail "roster-consumer did not stop cleanly"
wait_until 60 group_is roster-consumer ERR STOP ||
    fail "roster-consumer not ERR/STOP: $(field roster-consumer status worst lag)"
read -r lag_stop <<<"$(field roster-consumer lag)"
kill -0 "$PRODUCER_PID" 2>/dev/null ||
    fail "the paced producer ended before STOP was read: nothing left to make the lag grow"
sleep 2
read -r lag2 secs2 members2 state2 <<<"$(field roster-consumer lag lag_seconds members state)"
echo "stopped: ERR (STOP) with lag $lag_stop, then $lag2, ${secs2}s, members $members2, state $state2"
assert_ge "lag grew while stopped" $((lag_stop + 1)) "$lag2"
python3 -c "import sys; sys.exit(not float('$secs2') > float('$secs1'))" ||
    fail "lag seconds did not grow: $secs1 -> $secs2"
assert_eq "no running member, and still its lag" "0 Empty" "$members2 $state2"
grep -q 'msg="group status" group=roster-consumer status=WARN' "$MONITOR_LOG" ||
    fail "no WARN line in the monitor's log"
grep -q 'msg="group status" group=roster-consumer status=ERR was=WARN' "$MONITOR_LOG" ||
    fail "no ERR line after WARN in the monitor's log: $(grep 'group status' "$MONITOR_LOG" | tail -n 5)"

# --- /metrics: the exporters' names, and promtool --------------------------------------
curl -sf "$URL/metrics" >"$ARTIFACTS/lag-monitor-metrics.txt" || fail "GET /metrics"
for name in kafka_consumergroup_lag kafka_consumergroup_current_offset \
    kafka_consumergroup_lag_sum kafka_consumergroup_group_lag_seconds \
    kafka_topic_partition_current_offset kafka_consumergroup_status \
    kafka_consumergroup_group_status; do
    grep -q "^$name{" "$ARTIFACTS/lag-monitor-metrics.txt" || fail "no $name samples"
done
grep -q '^kafka_consumergroup_status{consumergroup="roster-consumer",topic="'"$TOPIC"'",partition="[0-9]*"} 4$' \
    "$ARTIFACTS/lag-monitor-metrics.txt" || fail "no STOP (4) partition status in /metrics"
grep -q '^kafka_consumergroup_group_status{consumergroup="roster-consumer"} 3$' \
    "$ARTIFACTS/lag-monitor-metrics.txt" || fail "group status not ERR (3) in /metrics"
rc=0
promtool check metrics <"$ARTIFACTS/lag-monitor-metrics.txt" >promtool.out 2>&1 || rc=$?
assert_eq "promtool exit status (3: lint only)" 3 "$rc"
assert_eq "promtool's only lint" "$LINT" "$(cat promtool.out)"

screenshot lag-monitor-stopped
python3 "$REPO/tests/integration/png_check.py" "$ARTIFACTS/lag-monitor-stopped.png" \
    --size 1200x900 --colour "$RED" || fail "the stopped page's screenshot is blank or has no red status"

# --- PostgreSQL's offset far from Kafka's is flagged ---------------------------------------
q "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
   SELECT 'lag-test-idle', '$TOPIC', p, 90000 FROM generate_series(0, 11) p"
disagrees() { [[ $(field lag-test-idle offsets_disagree in_postgresql) =~ ^[1-9][0-9]*\ 1$ ]]; }
wait_until 30 disagrees || fail "no disagreement flagged: $(field lag-test-idle offsets_disagree in_postgresql)"
grep -q 'msg="offsets disagree" group=lag-test-idle' "$MONITOR_LOG" || fail "no disagreement logged"
grep -q '^lagmon_offsets_disagree{consumergroup="lag-test-idle",.*} 1$' <(curl -sf "$URL/metrics") ||
    fail "no lagmon_offsets_disagree 1 in /metrics"
q "DELETE FROM consumer_offsets WHERE group_id = 'lag-test-idle'"

# --- restarted: lag back to 0, OK ----------------------------------------------------------
wait "$PRODUCER_PID" || fail "producer failed: $(tail -n 3 "$(bg_log producer)")"
start_bg consumer2 "$BIN/roster-consumer"
wait_until 180 lag_is_zero roster-consumer ||
    fail "lag did not return to 0: $(field roster-consumer lag status worst)"
assert_eq "lag seconds after catching up" "0.0" "$(field roster-consumer lag_seconds)"
echo "caught up: $(field roster-consumer status lag members state)"
sleep 3 # a few rounds of OK on the chart
screenshot lag-monitor
python3 "$REPO/tests/integration/png_check.py" "$ARTIFACTS/lag-monitor.png" --size 1200x900 \
    --colour "$GREEN" || fail "the page's screenshot is blank or has no green status"

# --- the one-shot table, JSON and --watch ---------------------------------------------------
"$BIN/lag-monitor" --groups roster-consumer,no-such-group >table.txt 2>table.err ||
    fail "one-shot: $(cat table.err)"
cat table.txt
grep -Eq '^roster-consumer +- +- +Stable +1 +0 ' table.txt || fail "one-shot table line"
grep -Eq '^no-such-group +NOTFOUND ' table.txt || fail "a group asked for but absent is NOTFOUND"
"$BIN/lag-monitor" --json --samples 2 --interval.s 1 --groups roster-consumer >one.json 2>one.err ||
    fail "one-shot JSON: $(cat one.err)"
python3 - one.json "$TOPIC" <<'PY' || fail "one-shot JSON content"
import json, sys
d = json.load(open(sys.argv[1]))
g = d["groups"][0]
assert d["rounds"] == 2 and g["group"] == "roster-consumer", d
assert g["status"] == "OK" and g["lag"] == 0 and g["in_postgresql"], g
mine = [p for p in g["partitions"] if p["topic"] == sys.argv[2]]
assert len(mine) == 12, (len(mine), sorted({p["topic"] for p in g["partitions"]}))
PY
timeout -s INT 4 "$BIN/lag-monitor" --watch --interval.s 1 --groups roster-consumer >watch.txt 2>watch.err || true
assert_ge "tables printed by --watch in 4 s" 2 "$(grep -c '^lag as of' watch.txt)"

status=0
stop_bg monitor TERM || status=$?
assert_eq "monitor exit status after SIGTERM" 0 "$status"
cp "$MONITOR_LOG" "$ARTIFACTS/lag-monitor.log"
echo "artifacts: $(ls "$ARTIFACTS" | tr '\n' ' ')"
