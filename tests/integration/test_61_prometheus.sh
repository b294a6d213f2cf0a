#!/usr/bin/env bash
# The monitoring of the local stack, end to end with the real Prometheus (Debian's, started
# by stack.sh up --monitoring with deploy/monitoring/alerts.yml, every `for` shortened):
# it scrapes roster-consumer's metrics port; stopping the consumer fires ServiceDown and
# starting it again resolves it; stopping PostgreSQL fires ServiceNotReady for it, and
# starting PostgreSQL resolves that, all read from Prometheus's /api/v1/alerts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/prom.sh"
cd "$TEST_TMP"

fast_rules rules.yml
prom_start "$PWD/rules.yml"
port=$METRICS_PORT_ROSTER_CONSUMER
consumer() { start_bg roster "$BIN/roster-consumer" --metrics.port "$port" --retry.backoff.max.ms 1000; }

consumer
scraped() { [[ $(prom_value 'up{job="roster-consumer"}') == 1 ]]; }
wait_until 60 scraped || fail "Prometheus does not scrape roster-consumer"
echo "ok: Prometheus scrapes roster-consumer"
has_series() { [[ -n $(prom_value 'consumer_events_consumed_total{job="roster-consumer"}') ]]; }
wait_until 30 has_series || fail "no consumer_events_consumed_total in Prometheus"
ready() { [[ $(prom_value 'service_ready{job="roster-consumer"}') == 1 ]]; }
wait_until 30 ready || fail "roster-consumer not ready in Prometheus"
assert_eq "ServiceDown before the stop" inactive "$(alert_state ServiceDown job=roster-consumer)"

# --- the consumer stopped: ServiceDown fires; started again: it resolves
stop_bg roster || fail "roster-consumer did not stop cleanly"
wait_until 60 alert_is firing ServiceDown job=roster-consumer || fail "ServiceDown did not fire"
echo "ok: ServiceDown fires for roster-consumer"
consumer
wait_until 60 alert_is inactive ServiceDown job=roster-consumer || fail "ServiceDown did not resolve"
echo "ok: ServiceDown resolved"

# --- PostgreSQL stopped: ServiceNotReady fires; started again: it resolves
on_exit "$STACK" pg-start
"$STACK" pg-stop
wait_until 60 alert_is firing ServiceNotReady job=roster-consumer || fail "ServiceNotReady did not fire"
echo "ok: ServiceNotReady fires for roster-consumer: $(curl -s "http://127.0.0.1:$port/readyz")"
"$STACK" pg-start
wait_until 60 alert_is inactive ServiceNotReady job=roster-consumer ||
    fail "ServiceNotReady did not resolve"
echo "ok: ServiceNotReady resolved"
stop_bg roster || fail "roster-consumer did not stop cleanly"
