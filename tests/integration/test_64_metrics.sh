#!/usr/bin/env bash
# Each service's metrics and health on the real stack: roster-consumer with --metrics.port
# counts what it consumed, applied and dead-lettered (by class) and the freshness of what
# it applied per data center; its /metrics passes promtool check metrics; with PostgreSQL
# stopped it reports not ready on /readyz (503 and the reason), counts its retries once
# events arrive, and is ready again when PostgreSQL is back. coverage-relay as a standby
# (another session holds its lock) is not ready and reports the outbox backlog and its
# age; once it takes the lock it publishes the backlog and is ready.
. "$(dirname "$0")/lib.sh"
cd "$TEST_TMP"

command -v promtool >/dev/null || fail "promtool is not installed (Debian package prometheus)"
"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" agreements load "$REPO/sample/agreements.csv" >/dev/null

port=$METRICS_PORT_ROSTER_CONSUMER
url=http://127.0.0.1:$port
L='topic="roster.changes",consumergroup="roster-consumer"'
# metric SERIES: its value in a fresh scrape of $url (empty when absent).
metric() { curl -fsS "$url/metrics" | awk -v s="$1" '$1 == s { print $2 }'; }
status_of() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
# answers URL CODE: GET URL answers with status CODE (for wait_until).
answers() { [[ $(status_of "$1") == "$2" ]]; }
# int VALUE: a sample value as an integer.
int() { printf '%.0f' "${1:-0}"; }

start_bg roster "$BIN/roster-consumer" --metrics.port "$port" --stats.interval.s 1 \
    --retry.backoff.max.ms 1000
wait_until 60 curl -fsS "$url/readyz" || fail "roster-consumer not ready: $(tail -n 5 "$(bg_log roster)")"
assert_eq "GET /healthz" 200 "$(status_of "$url/healthz")"
assert_eq "GET /readyz" ready "$(curl -fsS "$url/readyz")"
assert_eq "GET /nothing" 404 "$(status_of "$url/nothing")"

# Other tests share the topic and the group: start counting once what they left is taken.
caught_up() { [[ $(int "$(metric "consumer_lag_events{$L}")") == 0 ]]; }
wait_until 120 caught_up || fail "roster-consumer did not catch up with the topic"
consumed0=$(int "$(metric "consumer_events_consumed_total{$L}")")
applied0=$(int "$(metric "consumer_events_applied_total{$L}")")
rule0=$(int "$(metric "consumer_events_dead_lettered_total{$L,error_class=\"rule\"}")")
fresh0=$(int "$(metric "consumer_event_freshness_seconds_count{$L,source=\"dc-sulsel\"}")")

# --- 200 new workers and 2 events the rules refuse
"$BIN/gen_roster" --seed 60 --regency 73.13 --scale-events 200 --serial-base 6060 \
    --output roster.csv 2>/dev/null
cat >refused.csv <<'CSV'
change,nik,effective_date,monthly_wage
UPDATE,7313016006600001,2024-02-01,1300000
UPDATE,7313016006600002,2024-02-01,1300000
CSV
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv >/dev/null 2>&1
"$BIN/roster-producer" --source dc-sulsel --progress never refused.csv >/dev/null 2>&1
consumed_by() { (($(int "$(metric "consumer_events_consumed_total{$L}")") >= consumed0 + $1)); }
wait_until 60 consumed_by 202 || fail "the consumer did not take the 202 events"
curl -fsS "$url/metrics" >metrics.txt
value() { int "$(awk -v s="$1" '$1 == s { print $2 }' metrics.txt)"; }
assert_eq "events consumed" $((consumed0 + 202)) "$(value "consumer_events_consumed_total{$L}")"
assert_eq "events applied" $((applied0 + 200)) "$(value "consumer_events_applied_total{$L}")"
assert_eq "dead letters of class rule" $((rule0 + 2)) \
    "$(value "consumer_events_dead_lettered_total{$L,error_class=\"rule\"}")"
assert_eq "freshness observations of dc-sulsel" $((fresh0 + 200)) \
    "$(value "consumer_event_freshness_seconds_count{$L,source=\"dc-sulsel\"}")"
assert_ge "batches" 1 "$(value "consumer_batches_total{$L}")"
assert_ge "transaction histogram count" 1 "$(value "consumer_pg_transaction_duration_seconds_count{$L}")"
assert_eq "ready in the metrics" 1 "$(value service_ready)"
promtool check metrics <metrics.txt || fail "promtool check metrics refused the scrape"
echo "ok: promtool check metrics"

# --- PostgreSQL stopped: not ready, with the reason; retries once events come
on_exit "$STACK" pg-start
"$STACK" pg-stop
wait_until 15 answers "$url/readyz" 503 || fail "/readyz still answers 200"
assert_match "/readyz reason" "^not ready: postgresql" "$(curl -s "$url/readyz")"
assert_eq "service_ready without PostgreSQL" 0 "$(metric service_ready)"
retries0=$(int "$(metric "consumer_retries_total{$L}")")
# The producer starts although the schema registry cannot answer (its storage is this
# PostgreSQL): it writes the id it bound before (common/schema_cache.h).
"$BIN/roster-producer" --source dc-sulsel --progress never refused.csv >/dev/null 2>outage.log ||
    fail "roster-producer failed during the outage: $(tail -n 3 outage.log)"
assert_match "the producer's schema id during the outage" 'msg="schema bound".* how=cached' \
    "$(grep 'msg="schema bound"' outage.log)"
retrying() { (($(int "$(metric "consumer_retries_total{$L}")") > retries0)); }
wait_until 30 retrying || fail "no retry counted while PostgreSQL is down"
assert_eq "/readyz while retrying" 503 "$(status_of "$url/readyz")"
echo "ok: retrying: $(curl -s "$url/readyz")"
# Keep the outage at least 2 s long: the consumer counts whole seconds not ready below.
sleep 2
"$STACK" pg-start
wait_until 60 curl -fsS "$url/readyz" || fail "not ready again after PostgreSQL came back"
wait_until 30 consumed_by 204 || fail "the events sent during the outage were not consumed"
assert_ge "seconds not ready" 1 "$(int "$(metric "consumer_not_ready_seconds_total{$L}")")"
stop_bg roster || fail "roster-consumer did not stop cleanly"

# --- coverage-relay: a standby reports the backlog; the active one publishes it
rport=$METRICS_PORT_COVERAGE_RELAY
rurl=http://127.0.0.1:$rport
R='outbox="coverage_outbox"'
rmetric() { curl -fsS "$rurl/metrics" | awk -v s="$1" '$1 == s { print $2 }'; }
# Another session holds the relay's lock (7310430002) until it is killed.
start_bg lockholder psql -X -q -c "SELECT pg_advisory_lock(7310430002)" -c "SELECT pg_sleep(300)"
# (A bigint key shows as classid 1, objid 3015462706: its high and low 32 bits.)
lock_taken() {
    [[ $(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
            AND classid = 1 AND objid = 3015462706") == 1 ]]
}
wait_until 10 lock_taken || fail "the lock holder did not take the relay's lock"
start_bg relay "$BIN/coverage-relay" --metrics.port "$rport" --poll.interval.ms 200
wait_until 30 answers "$rurl/readyz" 503 || fail "standby relay not serving"
assert_match "standby /readyz" "^not ready: standby: another relay holds lock 7310430002" \
    "$(curl -s "$rurl/readyz")"
pending=$(q "SELECT count(*) FROM coverage_outbox WHERE published_at IS NULL")
assert_ge "pending outbox rows" 200 "$pending"
has_backlog() { [[ $(rmetric "relay_outbox_backlog_rows{$R}") == "$pending" ]]; }
wait_until 15 has_backlog || fail "backlog $(rmetric "relay_outbox_backlog_rows{$R}"), expected $pending"
assert_eq "standby holds no lock" 0 "$(rmetric "relay_lock_held{$R}")"
assert_ge "age of the oldest pending row" 1 "$(int "$(rmetric "relay_outbox_oldest_age_seconds{$R}")")"
curl -fsS "$rurl/metrics" | promtool check metrics || fail "promtool refused the relay's metrics"
# (Killing psql would leave its backend asleep with the lock.)
q "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
   AND classid = 1 AND objid = 3015462706" >/dev/null
stop_bg lockholder || true
wait_until 30 curl -fsS "$rurl/readyz" || fail "relay not ready after taking the lock"
drained() { [[ $(rmetric "relay_outbox_backlog_rows{$R}") == 0 ]]; }
wait_until 30 drained || fail "backlog not published: $(rmetric "relay_outbox_backlog_rows{$R}")"
assert_eq "the relay holds the lock" 1 "$(rmetric "relay_lock_held{$R}")"
assert_ge "rows published" "$pending" "$(int "$(rmetric "relay_published_rows_total{$R}")")"
assert_eq "oldest age when drained" 0 "$(rmetric "relay_outbox_oldest_age_seconds{$R}")"
stop_bg relay || fail "coverage-relay did not stop cleanly"
