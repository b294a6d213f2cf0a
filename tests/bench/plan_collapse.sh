#!/usr/bin/env bash
# plan_collapse.sh: a roster batch planned on the statistics of a fresh load must not take
# much longer than the same batch planned on warm statistics.
#
# What it reproduces: a fresh national load, where the planner believes workers and
# coverages are empty while they fill up. They were ANALYZEd empty before the load, or
# autovacuum analysed them while the first, uncommitted batch was in flight (no live row in
# thousands of pages, so "0 rows" for every size until the next analyse); with two
# consumers, the other one fills them while a plan made for "0 rows" runs. Such a plan
# scans workers or coverages once per staged event: minutes for one batch.
#
# In a scratch database on the running stack (the stack's own data is not touched), with
# the consumer's own statements (read from consumers/roster/roster_apply.c):
#   1. the migrations, the reference data, a synthetic roster (enrolments, updates,
#      terminations) staged in batches as the consumer stages them; the tables ANALYZEd
#      while empty;
#   2. one transaction applies PLAN_BASE_EVENTS events, the first batch through prepared
#      statements whose generic plans are fixed then, on the empty tables, the others
#      planned afresh as the consumer does; inside it, the measured batch runs
#      a. cold_cached: with the plans fixed on the empty tables,
#      b. cold_stats: planned afresh after another session ANALYZEd the tables (0 rows);
#   3. after COMMIT and ANALYZE, the same batch runs warm, and with the staging table
#      ANALYZEd too (which the consumer never does). Every measured batch is undone.
# Prints the timings and their ratios to warm; exit 1 when a ratio exceeds PLAN_MAX_RATIO
# (or a measured batch hit PLAN_TIMEOUT_S), 2 on a setup error.
#
# Needs the stack's env (PGHOST, PGPORT, PGUSER=coverage: `. var/env`) and superuser
# `postgres` over the same socket (the local stack trusts it). tests/bench/run.sh runs it
# after the drain. Environment (defaults): PLAN_BASE_EVENTS (100000), PLAN_BATCH_EVENTS
# (20000, the consumer's batch.max.messages), PLAN_MAX_RATIO (5), PLAN_TIMEOUT_S (60, per
# statement), PLAN_DB (roster_plan_collapse; PLAN_KEEP_DB=1 keeps it), BIN
# (<repo>/build/bin), BENCH_DIR (files in BENCH_DIR/plan_collapse; else a temporary dir).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$REPO/build/bin}
BASE=${PLAN_BASE_EVENTS:-100000}
BATCH=${PLAN_BATCH_EVENTS:-20000}
MAX_RATIO=${PLAN_MAX_RATIO:-5}
TIMEOUT_S=${PLAN_TIMEOUT_S:-60}
DB=${PLAN_DB:-roster_plan_collapse}
TOPIC=roster.changes

say() { printf 'plan_collapse: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 2
}
[[ -n ${PGHOST:-} && -n ${PGPORT:-} ]] || die "no stack env (PGHOST, PGPORT): source var/env first"
WORK=${BENCH_DIR:+$BENCH_DIR/plan_collapse}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
cd "$WORK"

# As the owner `coverage` (CREATEDB, stack.sh pg_bootstrap): no superuser needed.
su_sql() { psql -X -Atq -v ON_ERROR_STOP=1 -U coverage -d coverage -c "$1"; }
db() { psql -X -Atq -v ON_ERROR_STOP=1 -U coverage -d "$DB" "$@"; }
drop_db() { su_sql "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }

# --- 1. scratch database, reference data, the staged roster
drop_db
[[ ${PLAN_KEEP_DB:-} == 1 ]] || trap drop_db EXIT
su_sql "CREATE DATABASE $DB OWNER coverage TEMPLATE template0 ENCODING 'UTF8'" >/dev/null ||
    die "unable to create database $DB"
for f in "$REPO"/deploy/sql/[0-9][0-9][0-9]_*.sql; do
    PGOPTIONS='-c client_min_messages=warning' db --single-transaction -f "$f" >/dev/null ||
        die "migration $(basename "$f") failed"
done
conn="host=$PGHOST port=$PGPORT user=coverage dbname=$DB"
"$BIN/gen_roster" --seed 2024 --scale-events $((BASE + BATCH)) --updates 10 --terminations 5 \
    --agreements-out agreements.csv --output roster.csv 2>/dev/null || die "gen_roster failed"
"$BIN/covadm" --pg "$conn" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
"$BIN/covadm" --pg "$conn" agreements load agreements.csv >/dev/null
# As roster_apply.c stages them: plain region codes, ENROLL's effective date its
# term_start, its programs JKK;JKM by default; round k = the k-th event of a NIK in its batch.
db >/dev/null <<SQL
CREATE TABLE raw (n bigserial, change text, nik text, full_name text, birth_date date,
    gender text, institution text, role text, region_code text, tps smallint, term_start date,
    term_end date, monthly_wage bigint, programs text, agreement_id text, kpj text,
    effective_date date, phone text);
\copy raw (change, nik, full_name, birth_date, gender, institution, role, region_code, tps, term_start, term_end, monthly_wage, programs, agreement_id, kpj, effective_date, phone) FROM 'roster.csv' WITH (FORMAT csv, HEADER)
CREATE TABLE stg_src AS
SELECT (n - 1)::int AS seq, ((n - 1) / $BATCH)::int AS batch,
       row_number() OVER (PARTITION BY (n - 1) / $BATCH, nik ORDER BY n)::int AS round,
       ((n - 1) % 12)::int AS partition, n AS kafka_offset, gen_random_uuid() AS event_id,
       'dc-sulsel'::text AS source, change, nik::char(16) AS nik,
       full_name, birth_date, gender::char(1) AS gender, institution, role,
       replace(region_code, '.', '') AS region_code, tps, term_start, term_end,
       CASE WHEN change = 'ENROLL' THEN coalesce(effective_date, term_start) ELSE effective_date END
           AS effective_date,
       monthly_wage,
       CASE WHEN change = 'ENROLL' THEN string_to_array(coalesce(programs, 'JKK;JKM'), ';') END
           AS programs,
       agreement_id, kpj::char(11) AS kpj, phone
FROM raw;
-- No autoanalyze between the steps: it would re-plan the prepared statements.
ALTER TABLE workers SET (autovacuum_enabled = off);
ALTER TABLE coverages SET (autovacuum_enabled = off);
ALTER TABLE applied_events SET (autovacuum_enabled = off);
ALTER TABLE coverage_outbox SET (autovacuum_enabled = off);
-- 2. analysed while empty
ANALYZE workers, coverages, applied_events, coverage_outbox;
SQL

# --- 3./4. one session: prime, load, measure
mapfile -t stmts < <("$REPO/tests/bench/roster_sql.py" merge) || die "roster_sql.py merge failed"
create=$("$REPO/tests/bench/roster_sql.py" create) || die "roster_sql.py create failed"
# Emptied by DELETE rather than ON COMMIT: truncating it at each commit would invalidate the
# plans this session keeps on purpose.
create=${create% ON COMMIT DELETE ROWS}
batches=$((BASE / BATCH))
measured=$batches
nparams() { # highest $n a statement names (pg_exec_each passes only those)
    local s=$1 n=2
    while ((n > 0)) && [[ $s != *"\$$n"* ]]; do n=$((n - 1)); done
    echo "$n"
}
args() { case $1 in 0) ;; 1) echo "($2)" ;; *) echo "($2, '$TOPIC')" ;; esac; }
cols="seq, round, partition, kafka_offset, event_id, source, change, nik, full_name, birth_date, gender, institution, role, region_code, tps, term_start, term_end, effective_date, monthly_wage, programs, agreement_id, kpj, phone"
# Each staged row names the topic it came from (stg_roster.topic, NOT NULL), as the consumer's COPY does.
stage() { echo "INSERT INTO stg_roster ($cols, topic) SELECT $cols, '$TOPIC' FROM stg_src WHERE batch = $1;"; }
rounds_of() { db -c "SELECT coalesce(max(round), 0) FROM stg_src WHERE batch = $1"; }
# A round with the prepared statements (plans kept) or planned afresh (parameters inlined).
prepared_round() {
    local k
    for k in "${!stmts[@]}"; do echo "EXECUTE m$k$(args "$(nparams "${stmts[$k]}")" "$1");"; done
}
fresh_round() {
    local s
    for s in "${stmts[@]}"; do
        s=${s//\$1/$1}
        echo "${s//\$2/\'$TOPIC\'};"
    done
}
# measure LABEL BATCH ROUND_FN [analyse]: the batch's merge, timed, then undone (inside the
# load's transaction with a savepoint, else in a transaction of its own).
measure() {
    local r n
    n=$(rounds_of "$2")
    echo "\\set LAST_ERROR_SQLSTATE 00000"
    if [[ $in_load == 1 ]]; then echo "SAVEPOINT measured;"; else echo "BEGIN;"; fi
    stage "$2"
    [[ ${4:-} == analyse ]] && echo "ANALYZE stg_roster;"
    echo "SELECT clock_timestamp() AS t0 \\gset"
    for ((r = 1; r <= n; r++)); do "$3" "$r"; done
    if [[ $in_load == 1 ]]; then echo "ROLLBACK TO SAVEPOINT measured;"; else echo "ROLLBACK;"; fi
    echo "SELECT '$1', round(extract(epoch FROM clock_timestamp() - :'t0')::numeric, 3), :'LAST_ERROR_SQLSTATE';"
}
{
    echo "SET plan_cache_mode = force_generic_plan;"
    echo "$create;"
    for k in "${!stmts[@]}"; do echo "PREPARE m$k AS ${stmts[$k]};"; done
    # The load, in flight: one transaction. Its first batch fixes the prepared statements'
    # plans while the tables are analysed and empty.
    in_load=1
    echo "BEGIN;"
    stage 0
    n=$(rounds_of 0)
    for ((r = 1; r <= n; r++)); do prepared_round "$r"; done
    echo "DELETE FROM stg_roster;"
    for ((b = 1; b < batches; b++)); do
        stage "$b"
        n=$(rounds_of "$b")
        for ((r = 1; r <= n; r++)); do fresh_round "$r"; done
        echo "DELETE FROM stg_roster;"
    done
    echo "SELECT 'loaded', (SELECT count(*) FROM workers), (SELECT count(*) FROM coverages);"
    echo "\\set ON_ERROR_STOP 0"
    echo "SET LOCAL statement_timeout = '${TIMEOUT_S}s';"
    measure cold_cached "$measured" prepared_round
    # Autovacuum's view of a load in flight: no live row in thousands of pages.
    echo "\\! psql -X -q -d $DB -c 'ANALYZE workers, coverages, applied_events, coverage_outbox'"
    echo "SELECT 'analysed', (SELECT reltuples FROM pg_class WHERE oid = 'workers'::regclass),"
    echo "       (SELECT relpages FROM pg_class WHERE oid = 'workers'::regclass);"
    measure cold_stats "$measured" fresh_round
    echo "\\set ON_ERROR_STOP 1"
    echo "COMMIT;"
    in_load=0
    echo "ANALYZE workers, coverages, applied_events, coverage_outbox;"
    measure warm "$measured" fresh_round
    measure staging_analysed "$measured" fresh_round analyse
} >session.sql
say "applying $BASE events in $batches batches of $BATCH, then measuring batch $measured"
db -f session.sql >session.out 2>session.err || die "session failed: $(tail -n 5 session.err)"

field() { awk -F'|' -v k="$1" -v f="$2" '$1 == k { print $f }' session.out; }
warm=$(field warm 2)
[[ -n $warm && -n $(field cold_cached 2) && -n $(field cold_stats 2) && -n $(field staging_analysed 2) ]] ||
    die "no timings in $WORK/session.out"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.001) }'; }
rc=0
# line LABEL TEXT: one measured batch against warm; a ratio above the bound, or an error
# (57014, or 25P02 after it: stopped by statement_timeout), fails.
line() {
    local t r note=""
    t=$(field "$1" 2)
    r=$(ratio "$t" "$warm")
    if [[ $(field "$1" 3) != 00000 ]]; then
        note="  (failed, SQLSTATE $(field "$1" 3): timed out after ${TIMEOUT_S} s? see $WORK/session.err)"
        rc=1
    fi
    awk -v r="$r" -v m="$MAX_RATIO" 'BEGIN { exit !(r > m) }' && rc=1
    printf '%-48s %9s s  ratio %s%s\n' "$2" "$t" "$r" "$note"
}
echo "== plan collapse: batch of $BATCH events on $(field loaded 2) workers, $(field loaded 3) coverages"
printf '%-48s %9s s\n' "warm (analysed, planned afresh)" "$warm"
line cold_cached "cold: plans fixed on the analysed empty tables"
line cold_stats "cold: analysed in flight ($(field analysed 2) rows in $(field analysed 3) pages)"
line staging_analysed "warm, staging table analysed"
if ((rc)); then
    echo "plan collapse: FAILED (a ratio above $MAX_RATIO)"
else
    echo "plan collapse: ok (ratios <= $MAX_RATIO)"
fi
exit "$rc"
