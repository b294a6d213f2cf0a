#!/usr/bin/env bash
# run.sh: static checks of deploy/monitoring, without any service (part of `make unit`):
# the alert rules (promtool check rules) and their unit tests (promtool test rules
# deploy/monitoring/alerts_test.yml), the Prometheus configuration stack.sh renders
# (promtool check config), and the Grafana dashboard: well-formed JSON whose every panel
# query parses as PromQL (each becomes a recording rule for promtool check rules, with
# Grafana's $__rate_interval as 1m) and names only metrics the services or the lag monitor
# export. Skips (exit 0, says so) when promtool is not installed.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MON=$REPO/deploy/monitoring
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0

check() {
    local what=$1
    shift
    if "$@" >"$TMP/out" 2>&1; then
        passed=$((passed + 1))
        echo "ok: $what"
    else
        failed=$((failed + 1))
        echo "FAIL: $what"
        sed 's/^/    /' "$TMP/out"
    fi
}

if ! command -v promtool >/dev/null 2>&1; then
    echo "monitoring: promtool is not installed (Debian package prometheus); skipped"
    exit 0
fi

check "alert rules parse" promtool check rules "$MON/alerts.yml"
check "alert rules pass alerts_test.yml" promtool test rules "$MON/alerts_test.yml"

VAR_DIR=$TMP/var "$REPO/deploy/local/stack.sh" monitoring-config >"$TMP/prometheus.yml"
check "rendered prometheus.yml" promtool check config "$TMP/prometheus.yml"

# The dashboard's queries as recording rules; the metric names they use into names.txt.
python3 - "$MON/dashboard.json" "$TMP/dashboard_rules.yml" "$TMP/names.txt" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
exprs = []
def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        for t in p.get("targets", []):
            exprs.append((p["title"], t["expr"]))
walk(dash["panels"])
assert dash.get("uid") and dash.get("title"), "dashboard without uid or title"
assert exprs, "no panel query"
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, e) in enumerate(exprs):
        f.write("      - record: dashboard:query_%d\n        expr: %s\n"
                % (i, json.dumps(e.replace("$__rate_interval", "1m"))))
print(len(exprs), "dashboard queries")
# The alerts' expressions too (their lines after "expr:").
alerts, in_expr = [], False
for line in open(sys.argv[1].replace("dashboard.json", "alerts.yml")):
    key = line.strip().split(":", 1)[0]
    if key == "expr":
        alerts.append(line.split("expr:", 1)[1])
        in_expr = True
    elif in_expr and line.startswith(" " * 12) and key not in ("for", "labels", "annotations"):
        alerts.append(line)
    else:
        in_expr = False
words = set()
for e in [e for _, e in exprs] + alerts:
    e = re.sub(r'"[^"]*"', '', e)
    e = re.sub(r'\[[^]]*\]', '', e)
    for w in re.findall(r'[a-zA-Z_:][a-zA-Z0-9_:]*', e):
        words.add(w)
open(sys.argv[3], "w").write("\n".join(sorted(words)) + "\n")
PY
check "dashboard queries parse as PromQL" promtool check rules "$TMP/dashboard_rules.yml"

# Every metric a dashboard query or an alert names is one the services document (README)
# or the lag monitor exports.
known="kafka_consumergroup_lag kafka_consumergroup_current_offset kafka_consumergroup_lag_sum
kafka_consumergroup_group_lag_seconds kafka_topic_partition_current_offset
kafka_consumergroup_status up"
unknown=()
while read -r w; do
    [[ $w == *_bucket ]] && w=${w%_bucket}
    case $w in
    consumer_* | relay_* | service_* | process_* | kafka_* | up) ;;
    *) continue ;; # functions, keywords, labels
    esac
    if [[ " $(echo $known) " != *" $w "* ]] &&
        ! grep -q "\`$w\`" "$REPO/README.md"; then
        unknown+=("$w")
    fi
done <"$TMP/names.txt"
((${#unknown[@]} == 0)) || echo "unknown metrics: ${unknown[*]}"
check "dashboard and alerts name only documented metrics" test "${#unknown[@]}" -eq 0

echo "monitoring: $passed passed, $failed failed"
((failed == 0))
