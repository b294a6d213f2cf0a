#!/usr/bin/env bash
# make bench: throughput of the roster path on a real local stack, with its ceiling
# measured in the same run.
#   1. generate BENCH_EVENTS roster events (default 1,000,000) and publish them: producer events/s;
#   2. drain that backlog with roster-consumer into PostgreSQL: drain events/s and peak RSS,
#      while incident latency probes run (incident -> claim in PostgreSQL and on `claims`);
#   3. ceiling: the same rows loaded straight into the same (emptied) tables with COPY plus a
#      set-based merge: ceiling events/s, and the ratio drain / ceiling.
# Targets (2 cores): producer >= 200,000 events/s; drain >= 0.5 x ceiling; consumer peak RSS
# <= 200 MB; incident -> claim p99 < 1 s. Runs on its own stack (var/bench) and stops it.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
export BIN=$REPO/${BUILD:-build}/bin
export VAR_DIR=${BENCH_VAR_DIR:-$REPO/var/bench}
export KAFKA_PORT=${BENCH_KAFKA_PORT:-33092} KAFKA_CONTROLLER_PORT=$((${BENCH_KAFKA_PORT:-33092} + 1))
export PGPORT=${BENCH_PGPORT:-33432}
export BENCH_DIR=$VAR_DIR/work
N=${BENCH_EVENTS:-1000000}

stop() {
    if [ -x "$REPO/tests/bench/incident_latency.sh" ]; then
        "$REPO/tests/bench/incident_latency.sh" stop >/dev/null 2>&1 || true
    fi
    "$REPO/deploy/local/stack.sh" down >/dev/null 2>&1 || true
}
trap stop EXIT

# A fresh stack each run: the figures must not depend on what an earlier run left.
deploy/local/stack.sh down >/dev/null 2>&1 || true
rm -rf "$VAR_DIR/pg" "$VAR_DIR/kafka/data" "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
deploy/local/stack.sh up >"$BENCH_DIR/stack.log" 2>&1 || { cat "$BENCH_DIR/stack.log"; exit 1; }
# shellcheck disable=SC1091
. "$VAR_DIR/env"
cd "$BENCH_DIR"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ts_of() { date -d "$(grep -m1 "$1" "$2" | sed 's/^ts=\([^ ]*\).*/\1/')" +%s.%N; }
tsl_of() { date -d "$(grep "$1" "$2" | tail -n 1 | sed 's/^ts=\([^ ]*\).*/\1/')" +%s.%N; }

"$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
echo "bench: generating $N roster events"
"$BIN/gen_roster" --seed 2024 --scale-events "$N" --agreements-out agreements.csv --output roster.csv 2>/dev/null
"$BIN/covadm" agreements load agreements.csv >/dev/null
[ -x "$REPO/tests/bench/incident_latency.sh" ] && "$REPO/tests/bench/incident_latency.sh" start

# dc-sulsel publishes to its own topic, roster.changes.dc-sulsel (its config file says so).
base_applied=$(psql -Atqc "SELECT count(*) FROM applied_events WHERE topic LIKE 'roster.changes%'")

# 1. producer
"$BIN/roster-producer" --source dc-sulsel --progress never roster.csv 2>producer.log
producer_rate=$(sed -n 's/^summary: .*rows_per_s=\([0-9]*\).*/\1/p' producer.log)

# 2. drain (measured from the assignment of the partitions to the consumer's stop, so the
#    group join is not counted), with the incident probes running meanwhile
/usr/bin/time -f '%M' -o consumer.rss "$BIN/roster-consumer" --exit.when.drained \
    --stats.interval.s 5 2>consumer.log &
consumer=$!
probe_out=""
if [ -x "$REPO/tests/bench/incident_latency.sh" ]; then
    sleep 5
    probe_out=$("$REPO/tests/bench/incident_latency.sh" probe 2>&1 || true)
fi
wait "$consumer" || { tail -n 20 consumer.log; exit 1; }
drain_s=$(awk -v a="$(ts_of 'partition assigned' consumer.log)" -v b="$(tsl_of 'msg="stopped"' consumer.log)" \
    'BEGIN { printf "%.3f", b - a }')
applied=$(($(psql -Atqc "SELECT count(*) FROM applied_events WHERE topic LIKE 'roster.changes%'") - base_applied))
[ "$applied" -eq "$N" ] || { echo "bench: only $applied of $N events applied" >&2; exit 1; }
drain_rate=$(rate "$N" "$drain_s")
rss_mb=$(awk '{ printf "%.1f", $1 / 1024 }' consumer.rss)
coverages=$(psql -Atqc "SELECT count(*) FROM coverages")

# 3. ceiling: same rows, same tables, emptied; COPY into staging + set-based merge
psql -Atqc "TRUNCATE workers, coverages, applied_events CASCADE"
t0=$(now)
psql -v ON_ERROR_STOP=1 -q <<'SQL'
CREATE TEMP TABLE raw (change text, nik text, full_name text, birth_date date, gender text,
    institution text, role text, region_code text, tps smallint, term_start date, term_end date,
    monthly_wage bigint, programs text, agreement_id text, kpj text, effective_date date, phone text);
\copy raw FROM 'roster.csv' WITH (FORMAT csv, HEADER)
BEGIN;
INSERT INTO workers AS w (nik, full_name, birth_date, gender, kpj, phone, province, created_event, updated_event)
SELECT nik, full_name, birth_date, gender, kpj, phone, left(region_code, 2)::smallint,
       gen_random_uuid(), gen_random_uuid()
FROM raw WHERE change = 'ENROLL'
ON CONFLICT (nik) DO UPDATE SET full_name = EXCLUDED.full_name, updated_event = EXCLUDED.updated_event;
INSERT INTO coverages (nik, program, institution, role, region_code, tps, agreement_id, monthly_wage,
                       valid_from, valid_to, status, enroll_event, last_event)
SELECT r.nik, p.program, r.institution, r.role, replace(r.region_code, '.', ''), r.tps, r.agreement_id,
       r.monthly_wage, r.term_start, r.term_end, 'ACTIVE', gen_random_uuid(), gen_random_uuid()
FROM raw r CROSS JOIN LATERAL unnest(string_to_array(coalesce(r.programs, 'JKK;JKM'), ';')) AS p(program)
WHERE r.change = 'ENROLL';
COMMIT;
SQL
ceiling_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
ceiling_coverages=$(psql -Atqc "SELECT count(*) FROM coverages")
ceiling_rate=$(rate "$N" "$ceiling_s")

ok() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { print ((op == ">=" ? v >= t : v <= t) ? "ok" : "MISSED") }'; }
ratio=$(awk -v d="$drain_rate" -v c="$ceiling_rate" 'BEGIN { printf "%.2f", d / c }')
echo
echo "== bench: $N roster events ($(nproc) cores)"
printf '%-34s %12s  %s\n' "producer events/s" "$producer_rate" "target >= 200000: $(ok "$producer_rate" 200000 '>=')"
printf '%-34s %12s  %s\n' "drain events/s" "$drain_rate" "($drain_s s, $coverages coverages)"
printf '%-34s %12s  %s\n' "ceiling events/s (COPY + merge)" "$ceiling_rate" "($ceiling_s s, $ceiling_coverages coverages)"
printf '%-34s %12s  %s\n' "ratio drain / ceiling" "$ratio" "target >= 0.5: $(ok "$ratio" 0.5 '>=')"
printf '%-34s %12s  %s\n' "consumer peak RSS MB" "$rss_mb" "target <= 200: $(ok "$rss_mb" 200 '<=')"
if [ -n "$probe_out" ]; then
    echo "$probe_out" | grep -E '^latency|timeouts' | sed 's/^/incident -> claim, /'
fi
