# shellcheck shell=bash
# prom.sh: helpers for the tests that start Prometheus (stack.sh up --monitoring) and read
# its HTTP API; sourced after lib.sh.

# prom_start RULES: (re)start the stack's Prometheus with the alert rules file RULES,
# scraping and evaluating every second; stopped when the test ends.
prom_start() {
    PROMETHEUS_RULES=$1 PROMETHEUS_SCRAPE_INTERVAL=1s "$STACK" up --monitoring >prometheus-up.log 2>&1 ||
        fail "stack.sh up --monitoring failed: $(tail -n 5 prometheus-up.log)"
    on_exit "$STACK" monitoring-down
}

# fast_rules FILE: deploy/monitoring/alerts.yml with every `for` at 2s and the lag threshold
# at 15 s instead of 300 s, so a test sees alerts fire within seconds.
fast_rules() {
    sed -E -e 's/for: [0-9]+m/for: 2s/' \
        -e 's/(kafka_consumergroup_group_lag_seconds\)) > 300/\1 > 15/' \
        "$REPO/deploy/monitoring/alerts.yml" >"$1"
    grep -q 'kafka_consumergroup_group_lag_seconds) > 15' "$1" || fail "fast_rules: lag threshold not found"
}

# prom_value QUERY: the first value of an instant query ("" when none).
prom_value() {
    curl -fsS -G --data-urlencode "query=$1" "$PROMETHEUS_URL/api/v1/query" |
        python3 -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}

# alert_state ALERTNAME LABEL=VALUE...: the state of the matching alert in /api/v1/alerts
# (firing or pending), "inactive" when there is none.
alert_state() {
    curl -fsS "$PROMETHEUS_URL/api/v1/alerts" | python3 -c 'import json, sys
want = dict(a.split("=", 1) for a in sys.argv[1:])
states = [a["state"] for a in json.load(sys.stdin)["data"]["alerts"]
          if all(a["labels"].get(k) == v for k, v in want.items())]
print("firing" if "firing" in states else states[0] if states else "inactive")' \
        "alertname=$1" "${@:2}"
}

# alert_is STATE ALERTNAME LABEL=VALUE...: for wait_until.
alert_is() { [[ $(alert_state "${@:2}") == "$1" ]]; }
