#!/usr/bin/env bash
# make bench / make bench-national: throughput of the roster path on a real local stack, with
# its ceilings measured in the same run.
#   1. generate BENCH_EVENTS roster events (make bench: 1,000,000; make bench-national:
#      7,500,000, the ad hoc workers of a general election) and publish them: producer
#      events/s, and kcat -P sending the same encoded values with the same settings
#      (tests/bench/kcat.sh): the ratio producer / kcat;
#   2. make the WAL files the drain will fill ahead (stack.sh wal-reserve,
#      BENCH_WAL_MB_PER_MILLION 1,600 MB), as on a server past its first load; then drain
#      that backlog with roster-consumer into PostgreSQL: drain events/s and time, peak
#      RSS, while incident latency probes run (incident -> claim in PostgreSQL and on
#      `claims`) for as long as the drain lasts; 50 probes on the idle stack before it say
#      what the incident path costs by itself;
#   3. floor: the rows the drain left (workers, coverages, applied_events, coverage_outbox)
#      written again into empty copies of those tables, nothing checked: PostgreSQL CPU per
#      event, the rate it allows on this machine's cores, and the drain's PostgreSQL CPU
#      against it (BENCH_FLOOR_EVENTS, default 1,000,000, events' share of the rows);
#   3b. two rewrites of the consumer's rules, measured on the drained tables against its
#      statements of today (tests/bench/apply_alternatives.sh, rolled back): what each would
#      save per event, against the drain's CPU per event;
#   4. ceiling: the same rows loaded straight into the same (emptied) tables with COPY plus a
#      set-based merge: ceiling events/s, and the ratio drain / ceiling;
#   5. plan robustness (tests/bench/plan_collapse.sh, in a scratch database): one batch run
#      with the plans chosen while the tables were analysed empty, and with the staging
#      table analysed, each against the same batch on warm statistics.
# Targets (2 cores): producer >= 0.8 x kcat -P; drain >= 41,667 events/s (7.5M in 3
# minutes) and >= 0.5 x ceiling; consumer peak RSS <= 50 MB; incident -> claim p99 < 200 ms;
# a cold or staging-analysed batch <= 5 x warm. A missed target prints MISSED; the run
# fails only when something is wrong (events lost, a step failing).
# Disk: about BENCH_DISK_MB_PER_MILLION (4,300) MB per million events under var/ (CSV, the
# kcat dump, the topics with kcat's three copies, the tables, WAL); checked before anything starts.
# BENCH_CONSUMER_ARGS: extra roster-consumer options for the drain (e.g. --apply.workers 3).
# BENCH_PROFILE (1): what PostgreSQL does during the drain (tests/bench/pg_profile.sh): the
# apply connections' wait events sampled every 100 ms, and where perf can sample every CPU,
# PostgreSQL's CPU by activity. Both cost some CPU, counted in the drain's figures (perf's
# own share is printed); 0 leaves them out.
# Runs on its own stack (var/bench, or BENCH_VAR_DIR) and stops it. As root it sets the host's
# page-cache writeback for the run (deploy/local/writeback.sh) and puts it back at the end.
# When the server preloads pg_stat_statements (deploy/local/postgresql.conf.in), the drain's
# statements are listed by share of execution time (all of them in
# $BENCH_DIR/statements.txt), with the drain's WAL, the checkpoints it caused and the
# dirty pages backends had to evict and write themselves (pg_stat_bgwriter).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
export BIN=$REPO/${BUILD:-build}/bin
export VAR_DIR=${BENCH_VAR_DIR:-$REPO/var/bench}
# Ports below Linux's ephemeral range (32768-60999), as every stack's.
export KAFKA_PORT=${BENCH_KAFKA_PORT:-23092} KAFKA_CONTROLLER_PORT=$((${BENCH_KAFKA_PORT:-23092} + 1))
export PGPORT=${BENCH_PGPORT:-23432}
export BENCH_DIR=$VAR_DIR/work
N=${BENCH_EVENTS:-1000000}
NAME=${BENCH_NAME:-bench}
read -r -a CONSUMER_ARGS <<<"${BENCH_CONSUMER_ARGS:-}"
DRAIN_TARGET=41667   # events/s: 7,500,000 in 180 s
RSS_TARGET_MB=50
export LATENCY_TARGET_MS=${LATENCY_TARGET_MS:-200}

# Enough disk for this many events, said before a long run fails half way.
need_mb=$((N / 1000 * ${BENCH_DISK_MB_PER_MILLION:-4300} / 1000))
mkdir -p "$VAR_DIR"
free_mb=$(df -Pm "$VAR_DIR" | awk 'NR == 2 { print $4 }')
if ((free_mb < need_mb)); then
    echo "$NAME: $N events need about $need_mb MB free under $VAR_DIR; $free_mb MB are" >&2
    exit 1
fi

# The host's writeback for a PostgreSQL server under a load (deploy/local/writeback.sh), set
# for the run when root and put back at its end; without it the incident -> claim p99 under
# the drain measures the kernel's 30-second writeback bursts (deploy/local/POSTGRESQL.md).
WRITEBACK_SAVE=$VAR_DIR/writeback.save
writeback=$(deploy/local/writeback.sh show)
if deploy/local/writeback.sh apply "$WRITEBACK_SAVE" 2>/dev/null; then
    writeback="$(deploy/local/writeback.sh show) for the run (was $writeback)"
else
    writeback="$writeback, left as it is (not root): expect writeback bursts in the incident p99"
fi

stop() {
    (cd "$BENCH_DIR" 2>/dev/null && "$REPO/tests/bench/pg_profile.sh" stop) || true
    if [ -x "$REPO/tests/bench/incident_latency.sh" ]; then
        "$REPO/tests/bench/incident_latency.sh" stop >/dev/null 2>&1 || true
    fi
    "$REPO/deploy/local/stack.sh" down >/dev/null 2>&1 || true
    "$REPO/deploy/local/writeback.sh" restore "$WRITEBACK_SAVE" || true
}
trap stop EXIT

# A fresh stack each run: the figures must not depend on what an earlier run left (purge:
# also PostgreSQL's data where $VAR_DIR/pg points, see stack.sh).
deploy/local/stack.sh purge >/dev/null 2>&1 || true
rm -rf "$BENCH_DIR"
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
echo "$NAME: generating $N roster events"
"$BIN/gen_roster" --seed 2024 --scale-events "$N" --agreements-out agreements.csv --output roster.csv 2>/dev/null
"$BIN/covadm" agreements load agreements.csv >/dev/null
# The probes (LATENCY_INTERVAL_MS apart, 100 ms) last about as long as the drain should at
# the target rate; each uses a worker of its own.
probes=$((N / DRAIN_TARGET * 10 + 50))
export LATENCY_COUNT=${LATENCY_COUNT:-$((probes < 200 ? 200 : probes))}
export LATENCY_WORKERS=${LATENCY_WORKERS:-$((LATENCY_COUNT * 2))}
[ -x "$REPO/tests/bench/incident_latency.sh" ] && "$REPO/tests/bench/incident_latency.sh" start
# dc-sulsel publishes the whole roster, so it serves every province in it: beyond a million
# events gen_roster reaches past Sulawesi Selatan, and sample/data_centers.csv (loaded again
# by the probes' start) would make the rest dead letters of the `auth` rule, not a drain.
provinces=$(awk -F, 'NR > 1 { print substr($8, 1, 2) }' roster.csv | sort -u | paste -sd';' -)
printf 'source,name,provinces\ndc-sulsel,Pusdatin Sulawesi Selatan (bench: every province),%s\n' \
    "$provinces" >data_centers.csv
"$BIN/covadm" data-centers load data_centers.csv >/dev/null

# dc-sulsel publishes to its own topic, roster.changes.dc-sulsel (its config file says so).
base_applied=$(psql -Atqc "SELECT count(*) FROM applied_events WHERE topic LIKE 'roster.changes%'")
rejected_now() {
    psql -Atqc "SELECT count(*) FROM applied_events WHERE topic LIKE 'roster.changes%' AND outcome <> 'APPLIED'"
}
base_rejected=$(rejected_now)

# The statistics of the drain only: pg_stat_statements (when preloaded) and the bgwriter's.
# As the owner `coverage`: the stack made the extension for it (stack.sh pg_extensions).
su_q() { psql -X -Atq -v ON_ERROR_STOP=1 -c "$1"; }
# A backend's CPU time reaches the postmaster's count (cpu.sh) once it has exited and been
# reaped: before a snapshot, wait (up to 10 s) until the sessions matching a condition have
# left pg_stat_activity, then 2 s for their processes to end (without it a 7.5M drain's
# snapshot missed 85% of PostgreSQL's CPU).
sessions_gone() {
    for _ in $(seq 1 100); do
        [ "$(su_q "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND $1")" = 0 ] && break
        sleep 0.1
    done
    sleep 2
}
pgss=0
profile=${BENCH_PROFILE:-1}
[ "$(su_q "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'")" = 1 ] && pgss=1
bgwriter() {
    su_q "SELECT checkpoints_timed, checkpoints_req, buffers_checkpoint, buffers_clean,
                 buffers_backend, pg_current_wal_lsn() FROM pg_stat_bgwriter"
}

# 1. producer, and its ceiling: kcat -P sending the same encoded values with the same
#    settings (kcat.sh). An untimed kcat -P run first warms the fresh broker (JIT, segment
#    files), which would otherwise slow whichever side runs first. Then kcat -P, the
#    producer and kcat -P again, each after what the run before left in the page cache was
#    written back (sync): kcat's rate is that of its two runs together, so a drift across
#    the three (the machine, the broker, the disk filling) weighs on both sides alike. (It
#    did not explain the gap: one kcat -P run after the producer gave 0.67-0.74, and the
#    national run bracketed so still gave 0.73; the gap is the producer's CPU.)
"$REPO/tests/bench/kcat.sh" dump roster.csv dump.bin
"$REPO/tests/bench/kcat.sh" send dump.bin "$N" >/dev/null
# kcat.sh takes the snapshots around kcat -P itself, after sync: its topic's offset queries
# before and after (24 TLS and SCRAM connections) would add ~0.4 s of broker CPU.
kcat_before=$(BENCH_SNAPS=kcat.snaps "$REPO/tests/bench/kcat.sh" send dump.bin "$N")
{ read -r kcat0; read -r kcat1; } <kcat.snaps
sync
cpu0=$("$REPO/tests/bench/cpu.sh" snap)
/usr/bin/time -f '%e %U %S' -o producer.time "$BIN/roster-producer" --source dc-sulsel --progress never \
    roster.csv 2>producer.log
cpu1=$("$REPO/tests/bench/cpu.sh" snap)
producer_rate=$(sed -n 's/^summary: .*rows_per_s=\([0-9]*\).*/\1/p' producer.log)
kcat_after=$(BENCH_SNAPS=kcat.snaps "$REPO/tests/bench/kcat.sh" send dump.bin "$N")
{ read -r kcat2; read -r kcat3; } <kcat.snaps
# kcat's runs as one: "wall user sys" each halved from their sums, the rate from the walls.
kcat_time=$(printf '%s\n%s\n' "$kcat_before" "$kcat_after" |
    awk '{ w += $1; u += $2; s += $3 } END { printf "%.3f %.3f %.3f", w / 2, u / 2, s / 2 }')
kcat_rate=$(awk -v n="$N" '{ printf "%.0f", n / $1 }' <<<"$kcat_time")
kcat_rates=$(printf '%s\n%s\n' "$kcat_before" "$kcat_after" | awk -v n="$N" '{ printf "%s%.0f", (NR > 1 ? ", " : ""), n / $1 }')
# CPU per event of a client ("wall user sys") and of the broker meanwhile, and how busy the
# machine was, over the snapshot pairs that follow (a b [a b]): "client_us broker_us busy_pct"
client_cpu() {
    local t=$1 snaps
    shift
    snaps=$(while (($# >= 2)); do "$REPO/tests/bench/cpu.sh" diff "$1" "$2"; shift 2; done)
    awk -v t="$t" -v n="$N" -v snaps="$snaps" 'BEGIN {
        split(t, x, " "); k = split(snaps, line, "\n")
        for (i = 1; i <= k; i++) { split(line[i], d, " "); busy += d[1]; broker += d[3] }
        printf "%.2f %.2f %.0f", 1e6 * (x[2] + x[3]) / n, 1e6 * broker / k / n, busy / k }'
}
producer_cpu=$(client_cpu "$(cat producer.time)" "$cpu0" "$cpu1")
kcat_cpu=$(client_cpu "$kcat_time" "$kcat0" "$kcat1" "$kcat2" "$kcat3")

# The WAL files the drain will fill, made ahead (about 1.6 GB of WAL per million events):
# on a fresh cluster every 16 MB of WAL is otherwise a new file, made inside whichever
# COMMIT crosses into it, an incident's as often as a batch's (deploy/local/POSTGRESQL.md).
wal_mb=$((N / 1000 * ${BENCH_WAL_MB_PER_MILLION:-1600} / 1000))
"$REPO/deploy/local/stack.sh" wal-reserve "$wal_mb" 2>&1 | sed "s/^stack: /$NAME: /"

# The same probes on the idle stack first (the backlog is published, nothing drains yet):
# what the incident path costs by itself, against which the figures under the drain read.
idle_out=""
if [ -x "$REPO/tests/bench/incident_latency.sh" ]; then
    idle_out=$("$REPO/tests/bench/incident_latency.sh" probe --count 50 2>&1 || true)
fi

# 2. drain (measured from the assignment of the partitions to the consumer's stop, so the
#    group join is not counted), with the incident probes running meanwhile
cpu3=$("$REPO/tests/bench/cpu.sh" snap)
/usr/bin/time -f '%M %U %S' -o consumer.rss "$BIN/roster-consumer" --exit.when.drained \
    --stats.interval.s 5 "${CONSUMER_ARGS[@]}" 2>consumer.log &
consumer=$!
[ "$pgss" = 1 ] && su_q "SELECT pg_stat_statements_reset()" >/dev/null
if [ "$profile" = 1 ]; then "$REPO/tests/bench/pg_profile.sh" start roster_consumer || true; fi
bg0=$(bgwriter)
probe_out=""
if [ -x "$REPO/tests/bench/incident_latency.sh" ]; then
    sleep 5
    probe_out=$("$REPO/tests/bench/incident_latency.sh" probe 2>&1 || true)
fi
wait "$consumer" || { tail -n 20 consumer.log; exit 1; }
"$REPO/tests/bench/pg_profile.sh" stop || true
sessions_gone "usename = 'roster_consumer'"
cpu4=$("$REPO/tests/bench/cpu.sh" snap)
bg1=$(bgwriter)
if [ "$pgss" = 1 ]; then
    # Only the roster consumer's statements (the incident probes run meanwhile): it runs as
    # its own role, roster_consumer (its config file in COVERAGE_CONFIG_DIR says so).
    su_q "SELECT round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS pct,
                 round(total_exec_time / 1000) AS s, calls,
                 round((total_exec_time / greatest(calls, 1))::numeric, 1) AS mean_ms, rows,
                 shared_blks_dirtied AS dirtied, shared_blks_written AS written,
                 round(wal_bytes / 1048576) AS wal_mb,
                 regexp_replace(query, '\s+', ' ', 'g') AS query
          FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
          WHERE r.rolname = 'roster_consumer' AND s.dbid = (SELECT oid FROM pg_database WHERE datname = 'coverage')
            AND (query ~ 'stg_roster|consumer_offsets|dead_letters' OR query IN ('BEGIN', 'COMMIT'))
          ORDER BY total_exec_time DESC" >statements.txt
fi
drain_s=$(awk -v a="$(ts_of 'partition assigned' consumer.log)" -v b="$(tsl_of 'msg="stopped"' consumer.log)" \
    'BEGIN { printf "%.3f", b - a }')
applied=$(($(psql -Atqc "SELECT count(*) FROM applied_events WHERE topic LIKE 'roster.changes%'") - base_applied))
[ "$applied" -eq "$N" ] || { echo "$NAME: only $applied of $N events applied" >&2; exit 1; }
# Generated rows are valid: a rejected one means the bench measured dead-lettering.
rejected=$(($(rejected_now) - base_rejected))
if [ "$rejected" -ne 0 ]; then
    echo "$NAME: $rejected of $N events rejected, e.g. $(psql -Atqc "SELECT error_class || ': ' ||
        left(error_message, 120) FROM dead_letters ORDER BY recorded_at DESC LIMIT 1")" >&2
    exit 1
fi
drain_rate=$(rate "$N" "$drain_s")
rss_mb=$(awk '{ printf "%.1f", $1 / 1024 }' consumer.rss)
coverages=$(psql -Atqc "SELECT count(*) FROM coverages")

# 3. floor: the rows the drain left behind, written again into empty copies of their tables
#    (same columns and indexes, WAL-logged, one transaction; no staging, lookups, rules,
#    de-duplication or offsets): the least PostgreSQL CPU any apply of these events could
#    spend. Each table's share of BENCH_FLOOR_EVENTS events (at most a million) is copied
#    first into unlogged scratch tables; the CPU counted is the measuring session's backend
#    alone (cpu.sh ticks, before and after), so autovacuum working through the drained
#    tables meanwhile is not.
floor_n=$((N < ${BENCH_FLOOR_EVENTS:-1000000} ? N : ${BENCH_FLOOR_EVENTS:-1000000}))
floor_tables="workers coverages applied_events coverage_outbox"
for t in $floor_tables; do
    psql -Atq -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
        -c "DROP TABLE IF EXISTS bench_floor_$t, bench_floor_src_$t" \
        -c "CREATE UNLOGGED TABLE bench_floor_src_$t AS SELECT * FROM $t
            LIMIT (SELECT ceil(count(*) * $floor_n / $N::numeric) FROM $t)" \
        -c "CREATE TABLE bench_floor_$t (LIKE $t INCLUDING ALL)" >/dev/null
done
floor_rows=0
{
    cat <<'PSQL'
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_FLOOR_PID :pid
\! "$BENCH_CPU_SH" ticks "$BENCH_FLOOR_PID"
BEGIN;
PSQL
    for t in $floor_tables; do
        echo "INSERT INTO bench_floor_$t SELECT * FROM bench_floor_src_$t;"
        floor_rows=$((floor_rows + $(psql -Atqc "SELECT count(*) FROM bench_floor_src_$t")))
    done
    cat <<'PSQL'
COMMIT;
\! "$BENCH_CPU_SH" ticks "$BENCH_FLOOR_PID"
PSQL
} >floor.sql
t0=$(now)
BENCH_CPU_SH=$REPO/tests/bench/cpu.sh PGAPPNAME=bench-floor psql -Atq -v ON_ERROR_STOP=1 -f floor.sql >floor.ticks
floor_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
floor_cpu=$(awk -v hz="$(getconf CLK_TCK)" 'NR == 1 { a = $1 } END { printf "%.2f", ($1 - a) / hz }' floor.ticks)
for t in $floor_tables; do psql -Atqc "DROP TABLE bench_floor_$t, bench_floor_src_$t"; done

# 3b. two rewrites of the rules the consumer could make, measured on the drained tables against
#     its statements of today (apply_alternatives.sh; rolled back, before the ceiling empties them)
alt_rc=0
"$REPO/tests/bench/apply_alternatives.sh" >alternatives.txt 2>&1 || alt_rc=$?

# 4. ceiling: same rows, same tables, emptied; COPY into staging + set-based merge
psql -Atqc "TRUNCATE workers, coverages, applied_events CASCADE"
cpu5=$("$REPO/tests/bench/cpu.sh" snap)
t0=$(now)
PGAPPNAME=bench-ceiling psql -v ON_ERROR_STOP=1 -q <<'SQL'
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
sessions_gone "application_name = 'bench-ceiling'"
cpu6=$("$REPO/tests/bench/cpu.sh" snap)
ceiling_coverages=$(psql -Atqc "SELECT count(*) FROM coverages")
ceiling_rate=$(rate "$N" "$ceiling_s")

# 5. plans chosen for analysed empty tables: the same batch cold and warm (plan_collapse.sh)
plan_rc=0
"$REPO/tests/bench/plan_collapse.sh" >plan_collapse.txt 2>&1 || plan_rc=$?

ok() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { print ((op == ">=" ? v >= t : v <= t) ? "ok" : "MISSED") }'; }
ratio=$(awk -v d="$drain_rate" -v c="$ceiling_rate" 'BEGIN { printf "%.2f", d / c }')
echo
echo "== $NAME: $N roster events ($(nproc) cores)"
printf '%-34s %s\n' "host writeback" "$writeback"
[ ${#CONSUMER_ARGS[@]} -eq 0 ] || printf '%-34s %s\n' "roster-consumer options" "${CONSUMER_ARGS[*]}"
printf '%-34s %12s\n' "producer events/s" "$producer_rate"
kratio=$(awk -v p="$producer_rate" -v k="$kcat_rate" 'BEGIN { printf "%.2f", p / k }')
printf '%-34s %12s  %s\n' "kcat -P events/s (same values)" "$kcat_rate" "(before and after the producer: $kcat_rates)"
printf '%-34s %12s  %s\n' "ratio producer / kcat -P" "$kratio" "target >= 0.8: $(ok "$kratio" 0.8 '>=')"
# The machine is shared by the client, the broker and everything else: the CPU each used per
# event says what a faster client could still gain.
read -r pc pb pbusy <<<"$producer_cpu"
read -r kc kb kbusy <<<"$kcat_cpu"
printf '%-34s %12s  %s\n' "producer CPU us/event" "$pc" "(broker meanwhile $pb; machine busy $pbusy%)"
# Its own split (the producer's summary line): the workers' part is the work kcat -P is spared.
printf '%-34s %s\n' "  by thread, us/event" "$("$REPO/tests/bench/cpu.sh" producer producer.log | awk -v n="$N" '{
    printf "main %.2f (read, queue), workers %.2f (parse, check, event id, encode), librdkafka %.2f",
        1e6 * $1 / n, 1e6 * $2 / n, 1e6 * $3 / n }')"
# What the workers may use at the target, beside the event ids' SHA-1 alone (cpu.sh budget).
printf '%-34s %s\n' "  workers' budget at the target" "$("$REPO/tests/bench/cpu.sh" budget "$N" "${kcat_time%% *}" \
    "$("$REPO/tests/bench/cpu.sh" diff "$cpu0" "$cpu1" | cut -d' ' -f2)" "$(($(stat -c %s dump.bin) / N))" producer.log)"
printf '%-34s %12s  %s\n' "kcat -P CPU us/event" "$kc" "(broker meanwhile $kb; machine busy $kbusy%)"
printf '%-34s %12s  %s\n' "drain events/s" "$drain_rate" \
    "target >= $DRAIN_TARGET (7.5M in 180 s): $(ok "$drain_rate" "$DRAIN_TARGET" '>=')"
printf '%-34s %12s  %s\n' "drain time s" "$drain_s" "($coverages coverages)"
# Where the drain's CPU went, per event, against what 2 cores allow at the target rate.
read -r _ ccpu_u ccpu_s <consumer.rss
read -r dbusy dall dbroker dpg drest <<<"$("$REPO/tests/bench/cpu.sh" diff "$cpu3" "$cpu4")"
awk -v n="$N" -v u="$ccpu_u" -v s="$ccpu_s" -v all="$dall" -v b="$dbroker" -v pg="$dpg" -v rest="$drest" \
    -v busy="$dbusy" -v cores="$(nproc)" -v target="$DRAIN_TARGET" 'BEGIN {
    c = u + s; rest -= c
    printf "%-34s %12.1f  (consumer %.1f, PostgreSQL %.1f, broker %.1f, rest %.1f; machine busy %d%%)\n",
        "drain CPU us/event", 1e6 * all / n, 1e6 * c / n, 1e6 * pg / n, 1e6 * b / n, 1e6 * rest / n, busy
    printf "%-34s %12.1f  (%d cores at %d events/s)\n", "  CPU us/event the target allows", 1e6 * cores / target,
        cores, target
}'
read -r _ _ _ cpg _ <<<"$("$REPO/tests/bench/cpu.sh" diff "$cpu5" "$cpu6")"
printf '%-34s %12s  %s\n' "ceiling events/s (COPY + merge)" "$ceiling_rate" "($ceiling_s s, $ceiling_coverages coverages; PostgreSQL CPU $(awk -v p="$cpg" -v n="$N" 'BEGIN { printf "%.1f", 1e6 * p / n }') us/event)"
printf '%-34s %12s  %s\n' "ratio drain / ceiling" "$ratio" "target >= 0.5: $(ok "$ratio" 0.5 '>=')"
# The floor bounds any apply of these events on this machine: its PostgreSQL CPU per event
# alone, spread over every core, caps the rate.
awk -v p="$floor_cpu" -v n="$floor_n" -v rows="$floor_rows" -v s="$floor_s" -v dpg="$dpg" -v dn="$N" \
    -v cores="$(nproc)" 'BEGIN {
    f = 1e6 * p / n; d = 1e6 * dpg / dn
    printf "%-34s %12.1f  (%d events: %d rows written again in %.1f s, indexes, WAL, no checks;\n", \
        "floor PostgreSQL CPU us/event", f, n, rows, s
    printf "%-34s %12s  %d cores allow at most %.0f events/s at it)\n", "", "", cores, (f > 0 ? cores * 1e6 / f : 0)
    printf "%-34s %12.2f  (the drain %.1f us/event)\n", "ratio drain / floor, PostgreSQL CPU", (f > 0 ? d / f : 0), d
}'
# Batches, and how often a worker's partitions were paused with both its slots taken (each
# pause has librdkafka fetch again what it held for them).
sed -n 's/.*msg="stopped".* batches=\([0-9]*\).* pauses=\([0-9]*\).*/\1 \2/p' consumer.log | tail -n 1 |
    awk '{ printf "%-34s %12d  (%d batches: %.2f a batch)\n", "consumer partition pauses", $2, $1,
        $1 ? $2 / $1 : 0 }'
# The apply connections' transactions (BEGIN..COMMIT) summed, against the drain's time: how
# many of them were busy on average, and how much of it the COMMITs (the WAL flush) took.
sed -n 's/.*msg="stopped".* txn_s=\([0-9.]*\) commit_s=\([0-9.]*\).*/\1 \2/p' consumer.log | tail -n 1 |
    awk -v d="$drain_s" '{ printf "%-34s %12.1f  (%.2f connections busy on average; COMMIT %.1f s of it)\n",
        "apply transactions, summed s", $1, (d > 0 ? $1 / d : 0), $2 }'
printf '%-34s %12s  %s\n' "consumer peak RSS MB" "$rss_mb" \
    "target <= $RSS_TARGET_MB: $(ok "$rss_mb" "$RSS_TARGET_MB" '<=')"
printf '%-34s %12s  %s\n' "disk used under var MB" "$(du -sm "$VAR_DIR" | cut -f1)" "($VAR_DIR)"
wal_mb=$(psql -Atqc "SELECT round(pg_wal_lsn_diff('${bg1##*|}', '${bg0##*|}') / 1048576)")
awk -F'|' -v a="$bg0" -v wal="$wal_mb" 'BEGIN { split(a, b, "|") } {
    printf "%-34s %12s  (%d timed + %d requested checkpoints)\n", "drain WAL MB", wal,
        $1 - b[1], $2 - b[2]
    printf "%-34s %12.0f  (checkpointer %.0f, bgwriter %.0f)\n", "drain MB written by backends",
        ($5 - b[5]) / 128, ($3 - b[3]) / 128, ($4 - b[4]) / 128
}' <<<"$bg1"
if [ "$pgss" = 1 ]; then
    echo "drain statements by execution time, $(awk -F'|' '{ t += $2 } END { print t }' statements.txt) s" \
        "of the drain's $drain_s s (all in $BENCH_DIR/statements.txt):"
    awk -F'|' 'NR <= 12 { printf "  %5s%% %6ss %7s calls %9s ms/call  %.90s\n", $1, $2, $3, $4, $9 }' statements.txt
fi
# (A diagnostic: it fails nothing.)
if [ "$profile" = 1 ]; then
    "$REPO/tests/bench/pg_profile.sh" report "$(ts_of 'partition assigned' consumer.log)" \
        "$(tsl_of 'msg="stopped"' consumer.log)" || true
fi
if [ "$plan_rc" -le 1 ]; then
    echo "plan collapse, one batch against warm statistics (target: ratios <= 5: $(
        [ "$plan_rc" = 0 ] && echo ok || echo MISSED)):"
    grep -E '^(warm|cold)' plan_collapse.txt | sed 's/^/  /'
else
    echo "plan collapse: not measured: $(tail -n 3 plan_collapse.txt)"
fi
# (A diagnostic: it fails nothing.) Per event, against the drain's CPU per event.
if [ "$alt_rc" = 0 ]; then
    echo "apply alternatives, on the drained tables (batches of fresh events, rolled back):" \
        "us/event, median [quartiles]"
    awk -v all="$dall" -v n="$N" '{ v[$1] = $2; lo[$1] = $3; hi[$1] = $4 } END {
        d = 1e6 * all / n
        row("the events'"'"' record: looked up, then inserted", "probe+insert", "")
        row("  INSERT ... ON CONFLICT instead (at best)", "on_conflict", "probe+insert")
        row("agreement by index, data center " (v["dc_hashed"] == "yes" ? "hashed" : "by index"),
            "ref_probes", "")
        row("  both read once per batch and hash-joined", "ref_hashed", "ref_probes")
        printf "  (both reference variants passed the same %d of %d events in each of %d batches)\n",
            lo["checked"], v["sampled"], v["checked"]
    }
    function row(label, k, was,    x) {
        printf "  %-46s %6.2f [%.2f, %.2f]", label, v[k], lo[k], hi[k]
        if (was != "") {
            x = v[was] - v[k]
            printf ": %s %.2f (%.1f%% of the drain'"'"'s %.1f CPU us/event)", (x < 0 ? "costs" : "saves"),
                (x < 0 ? -x : x), (d > 0 ? 100 * (x < 0 ? -x : x) / d : 0), d
        }
        printf "\n"
    }' alternatives.txt
else
    echo "apply alternatives: not measured: $(tail -n 2 alternatives.txt)"
fi
if [ -n "$idle_out" ]; then
    echo "$idle_out" | grep -E '^latency (pg|claims_topic)' | sed 's/^/incident -> claim, idle stack, /'
fi
if [ -n "$probe_out" ]; then
    echo "$probe_out" | grep -E '^latency|timeouts' | sed 's/^/incident -> claim, under the drain, /'
    for m in pg claims_topic; do
        p99=$(sed -n "s/^latency $m: .* p99_ms=\([0-9.]*\).*/\1/p" <<<"$probe_out")
        [ -n "$p99" ] && printf '%-34s %12s  %s\n' "incident -> claim p99 ms ($m)" "$p99" \
            "target < $LATENCY_TARGET_MS: $(awk -v v="$p99" -v t="$LATENCY_TARGET_MS" 'BEGIN { print (v < t ? "ok" : "MISSED") }')"
    done
fi
