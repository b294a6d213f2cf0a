#!/usr/bin/env bash
# Runs lag-monitor (`--serve HOST:PORT --interval.s N`, Kafka from KAFKA_BOOTSTRAP) and reads
# its names (kafka_consumergroup_lag, kafka_consumergroup_group_lag_seconds,
# kafka_consumergroup_status: 1 OK, 2 WARN, 3 ERR, 4 STOP, 5 STALL, 6 REWIND; labels
# consumergroup, topic, partition).
#
# The lag alert end to end: roster-consumer is stopped while a producer keeps publishing;
# the lag in events and in seconds grows, the status goes WARN and then STOP, and the real
# Prometheus, scraping the lag monitor, reports ConsumerLagHigh (threshold lowered to 15 s)
# firing on /api/v1/alerts; the consumer started again brings the lag back to 0 and the
# status to OK, and the alert resolves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom.sh"
cd "$TEST_TMP"

[[ -x $BIN/lag-monitor ]] || fail "$BIN/lag-monitor is not built; run make first"
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null
fast_rules rules.yml
prom_start "$PWD/rules.yml"

lport=$METRICS_PORT_LAG_MONITOR
G='consumergroup="roster-consumer"'
start_bg lagmon "$BIN/lag-monitor" --serve "127.0.0.1:$lport" --interval.s 1 --window 4 \
    --stop-after.s 3
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

# --- falling behind (WARN), then stopped while events keep coming (STOP)
# Batches of 2 and small fetches: the consumer is slower than the paced producer, and moves
# on every partition; then it stops and the lag grows with no commit at all.
stop_bg roster || fail "roster-consumer did not stop cleanly"
"$BIN/gen_roster" --seed 63 --regency 73.13 --scale-events 20000 --serial-base 6363 \
    --output paced.csv 2>/dev/null
start_bg roster "$BIN/roster-consumer" --metrics.port "$METRICS_PORT_ROSTER_CONSUMER" \
    --batch.max.messages 2 --apply.workers 1 -X max.partition.fetch.bytes=2048
# In a process group of its own, so that stopping it stops both ends of the pipe.
start_bg producer setsid bash -c "python3 '$REPO/tests/integration/pace_lines.py' 500 paced.csv |
    '$BIN/roster-producer' --source dc-sulsel --progress never -"
producer_group=$BG_PID
on_exit kill -TERM -- "-$producer_group"
lag0=$(lag_metric kafka_consumergroup_lag sum)
seen_warn=0 seen_stop=0 deadline=$((SECONDS + 120))
while ((SECONDS < deadline)) && ! ((seen_warn)); do
    [[ $(lag_metric kafka_consumergroup_status max) == 2 ]] && seen_warn=1
    sleep 1
done
((seen_warn)) || fail "the status never was WARN (2) while falling behind"
stop_bg roster || fail "roster-consumer did not stop cleanly"
deadline=$((SECONDS + 120))
while ((SECONDS < deadline)) && ! ((seen_stop)); do
    [[ $(lag_metric kafka_consumergroup_status max) == 4 ]] && seen_stop=1
    sleep 1
done
lag1=$(lag_metric kafka_consumergroup_lag sum)
((seen_stop)) || fail "the status never reached STOP (4): now $(lag_metric kafka_consumergroup_status max)"
echo "ok: status WARN, then STOP"
assert_ge "lag grew (events)" $((lag0 + 20)) "$lag1"
wait_until 120 alert_is firing ConsumerLagHigh consumergroup=roster-consumer ||
    fail "ConsumerLagHigh did not fire (Prometheus: $(prom_value 'max(kafka_consumergroup_group_lag_seconds{consumergroup="roster-consumer"})') s)"
echo "ok: ConsumerLagHigh firing in Prometheus"
assert_ge "lag in seconds" 15 "$(lag_metric kafka_consumergroup_group_lag_seconds max)"

# --- started again: lag 0, status OK, the alert resolves
kill -TERM -- "-$producer_group" 2>/dev/null || true
stop_bg producer || true
consumer
wait_until 180 caught_up || fail "not caught up again: lag $(lag_metric kafka_consumergroup_lag sum)," \
    "status $(lag_metric kafka_consumergroup_status max)"
echo "ok: lag back to 0, status OK"
wait_until 120 alert_is inactive ConsumerLagHigh consumergroup=roster-consumer ||
    fail "ConsumerLagHigh did not resolve"
echo "ok: ConsumerLagHigh resolved"
stop_bg roster || fail "roster-consumer did not stop cleanly"
