#!/usr/bin/env bash
# NEEDS lag-monitor (tools/daemons/lag-monitor, branch lagmon): skipped, saying so, while
# $BIN/lag-monitor is not built. Written against its documented CLI (`lag-monitor --serve
# HOST:PORT --interval.s N`, Kafka from KAFKA_BOOTSTRAP) and names (kafka_consumergroup_lag,
# kafka_consumergroup_group_lag_seconds, kafka_consumergroup_status: 1 OK, 2 WARN, 3 ERR,
# 4 STOP, 5 STALL, 6 REWIND; labels consumergroup, topic, partition); to be checked when
# the branches meet.
#
# The lag alert end to end: roster-consumer is stopped while a producer keeps publishing;
# the lag in events and in seconds grows, the status goes WARN and then STOP, and the real
# Prometheus, scraping the lag monitor, reports ConsumerLagHigh (threshold lowered to 15 s)
# firing on /api/v1/alerts; the consumer started again brings the lag back to 0 and the
# status to OK, and the alert resolves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom.sh"
cd "$TEST_TMP"

if [[ ! -x $BIN/lag-monitor ]]; then
    echo "SKIP: $TEST_NAME: $BIN/lag-monitor is not built (branch lagmon); nothing checked"
    exit 0
fi
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
fast_rules rules.yml
prom_start "$PWD/rules.yml"

lport=$METRICS_PORT_LAG_MONITOR
G='consumergroup="roster-consumer"'
start_bg lagmon "$BIN/lag-monitor" --serve "127.0.0.1:$lport" --interval.s 1
# lag_metric NAME AGG: AGG (sum or max) of NAME's samples for the roster consumer group,
# from the lag monitor's own /metrics ("" when it has none).
lag_metric() {
    curl -fsS "http://127.0.0.1:$lport/metrics" | awk -v n="$1" -v agg="$2" -v g="$G" '
        index($0, n "{") == 1 && index($0, g) { v = $NF + 0; s += v; if (!seen || v > m) m = v; seen = 1 }
        END { if (seen) printf "%.0f\n", agg == "sum" ? s : m }'
}
consumer() { start_bg roster "$BIN/roster-consumer" --metrics.port "$METRICS_PORT_ROSTER_CONSUMER"; }

# --- caught up: lag 0, status OK
"$BIN/gen_roster" --seed 62 --regency 73.13 --scale-events 20 --serial-base 6262 \
    --output roster.csv 2>/dev/null
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv >/dev/null 2>&1
consumer
caught_up() { [[ $(lag_metric kafka_consumergroup_lag sum) == 0 && $(lag_metric kafka_consumergroup_status max) == 1 ]]; }
wait_until 120 caught_up || fail "not caught up: lag $(lag_metric kafka_consumergroup_lag sum)," \
    "status $(lag_metric kafka_consumergroup_status max)"
echo "ok: lag 0, status OK"

# --- the consumer stopped while events keep coming
stop_bg roster || fail "roster-consumer did not stop cleanly"
producing() {
    local i
    for ((i = 0; i < 240; i++)); do
        "$BIN/roster-producer" --source dc-sulsel --progress never roster.csv >/dev/null 2>&1 || true
        sleep 1
    done
}
start_bg producer producing
lag0=$(lag_metric kafka_consumergroup_lag sum)
seen_warn=0 seen_stop=0 lag_s=0 deadline=$((SECONDS + 240))
while ((SECONDS < deadline)) && ! ((seen_stop)); do
    st=$(lag_metric kafka_consumergroup_status max)
    [[ $st == 2 ]] && seen_warn=1
    [[ $st == 4 ]] && seen_stop=1
    sleep 1
done
lag1=$(lag_metric kafka_consumergroup_lag sum)
lag_s=$(lag_metric kafka_consumergroup_group_lag_seconds max)
((seen_warn)) || fail "the status never was WARN (2) before STOP"
((seen_stop)) || fail "the status never reached STOP (4): now $(lag_metric kafka_consumergroup_status max)"
echo "ok: status WARN, then STOP"
assert_ge "lag grew (events)" $((lag0 + 20)) "$lag1"
assert_ge "lag in seconds" 15 "$lag_s"
wait_until 120 alert_is firing ConsumerLagHigh consumergroup=roster-consumer ||
    fail "ConsumerLagHigh did not fire (Prometheus: $(prom_value 'max(kafka_consumergroup_group_lag_seconds{consumergroup="roster-consumer"})') s)"
echo "ok: ConsumerLagHigh firing in Prometheus"

# --- started again: lag 0, status OK, the alert resolves
stop_bg producer || true
consumer
wait_until 180 caught_up || fail "not caught up again: lag $(lag_metric kafka_consumergroup_lag sum)," \
    "status $(lag_metric kafka_consumergroup_status max)"
echo "ok: lag back to 0, status OK"
wait_until 120 alert_is inactive ConsumerLagHigh consumergroup=roster-consumer ||
    fail "ConsumerLagHigh did not resolve"
echo "ok: ConsumerLagHigh resolved"
stop_bg roster || fail "roster-consumer did not stop cleanly"
