#!/usr/bin/env bash
# incident_latency.sh: the "incident reported -> claim visible" latency part of the benchmark
# (target p99 < 1 s while a bulk roster load drains). Called by tests/bench/run.sh with the
# stack up and its env file sourced (KAFKA_BOOTSTRAP, COVERAGE_CONFIG_DIR, PG*; latency_probe
# runs with the stack's latency_probe.conf, the admin's credentials: a test tool, not a data
# center):
#
#   incident_latency.sh start        enroll the probe workers unless PostgreSQL already covers
#                                    them all, then start incident-consumer and claims-relay
#                                    in the background (pids in $BENCH_DIR/*.pid) and wait
#                                    until the consumer owns its partitions
#   incident_latency.sh probe [ARG]  run latency_probe (ARGs are passed on, e.g. --count 50)
#                                    and print its summary lines; exit 1 when a probe timed
#                                    out or failed, 3 when p99 of pg or claims_topic is not
#                                    below LATENCY_TARGET_MS
#   incident_latency.sh stop         stop what start started
#
# Call `start` before the bulk roster load is produced: it runs a roster-consumer with
# --exit.when.drained to apply the probe workers' enrolment. Each probe uses a fresh worker
# (latency_probe skips NIKs that already have an incident), so LATENCY_WORKERS bounds how
# many probes all runs together can make: ~75% of the generated rows are KPPS/LINMAS workers
# covered on the probe date.
#
# Environment (defaults): BIN (<repo>/build/bin), BENCH_DIR (<repo>/var/bench/run),
# LATENCY_WORKERS (1500 roster rows generated), LATENCY_COUNT (200), LATENCY_INTERVAL_MS
# (100), LATENCY_TIMEOUT_MS (30000), LATENCY_TARGET_MS (1000), LATENCY_SOURCE (dc-sulsel),
# LATENCY_CONSUMER_ARGS (extra incident-consumer options, e.g. "--batch.max.ms 20").
# Files in $BENCH_DIR/latency: roster.csv, niks.csv (nik,region_code), logs, probe-N.csv.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=${BIN:-$REPO/build/bin}
BENCH_DIR=${BENCH_DIR:-$REPO/var/bench/run}
WORKERS=${LATENCY_WORKERS:-1500}
COUNT=${LATENCY_COUNT:-200}
INTERVAL_MS=${LATENCY_INTERVAL_MS:-100}
TIMEOUT_MS=${LATENCY_TIMEOUT_MS:-30000}
TARGET_MS=${LATENCY_TARGET_MS:-1000}
SOURCE=${LATENCY_SOURCE:-dc-sulsel}
read -r -a CONSUMER_ARGS <<<"${LATENCY_CONSUMER_ARGS:-}"
# The probe incidents' occurred_at and its local date (WITA): every probe worker must be
# covered for JKK and JKM on that date (gen_roster's KPPS/LINMAS term in 73.13 runs
# 2024-01-25 to 2024-02-25).
OCCURRED_AT=2024-02-14T10:00:00+08:00
PROBE_DATE=2024-02-14
DIR=$BENCH_DIR/latency

say() { printf 'incident_latency: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# pid of a service started here when it still runs.
service_pid() {
    local f=$BENCH_DIR/$1.pid pid
    [[ -f $f ]] || return 1
    pid=$(<"$f")
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    echo "$pid"
}

# Probe workers: KPPS and LINMAS rows of a roster of their own (serials above 9000, so no
# NIK is shared with the bulk load), covered for JKK and JKM on PROBE_DATE.
write_roster() {
    "$BIN/gen_roster" --seed 77 --serial-base 9000 --regency 73.13 --scale-events "$WORKERS" \
        --output "$DIR/roster.all.csv"
    awk -F, -v d="$PROBE_DATE" -v roster="$DIR/roster.csv" -v niks="$DIR/niks.csv" '
        NR == 1 {
            for (i = 1; i <= NF; i++) col[$i] = i
            print > roster
            print "nik,region_code" > niks
            next
        }
        $col["change"] == "ENROLL" && ($col["role"] == "KPPS" || $col["role"] == "LINMAS") &&
        $col["term_start"] <= d && d <= $col["term_end"] &&
        ($col["programs"] == "" || ($col["programs"] ~ /JKK/ && $col["programs"] ~ /JKM/)) {
            print > roster
            print $col["nik"] "," $col["region_code"] > niks
        }' "$DIR/roster.all.csv"
}

# Number of niks.csv workers covered for JKK and JKM on PROBE_DATE.
covered() {
    psql -X -Atq -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE probe_niks (nik char(16) PRIMARY KEY, region_code text);
\copy probe_niks FROM '$DIR/niks.csv' WITH (FORMAT csv, HEADER true)
SELECT count(*) FROM probe_niks p
WHERE (SELECT count(DISTINCT c.program) FROM coverages c
       WHERE c.nik = p.nik AND c.program IN ('JKK', 'JKM') AND c.status = 'ACTIVE'
         AND c.valid_from <= DATE '$PROBE_DATE' AND c.valid_to >= DATE '$PROBE_DATE') = 2;
SQL
}

enroll() {
    local want have i
    write_roster
    want=$(($(wc -l <"$DIR/niks.csv") - 1))
    ((want > 0)) || die "gen_roster gave no KPPS/LINMAS worker covered on $PROBE_DATE"
    have=$(covered)
    if ((have == want)); then
        say "$want probe workers already enrolled"
        return 0
    fi
    say "enrolling $want probe workers"
    (
        cd "$REPO"
        "$BIN/covadm" agreements load sample/agreements.csv
        "$BIN/covadm" data-centers load sample/data_centers.csv
    ) >"$DIR/covadm.log" 2>&1 || die "covadm: $(tail -n 5 "$DIR/covadm.log")"
    "$BIN/roster-producer" --source "$SOURCE" --progress never "$DIR/roster.csv" \
        2>"$DIR/roster-producer.log" ||
        die "roster-producer: $(tail -n 5 "$DIR/roster-producer.log")"
    timeout 600 "$BIN/roster-consumer" --exit.when.drained 2>"$DIR/roster-consumer.log" ||
        die "roster-consumer: $(tail -n 5 "$DIR/roster-consumer.log")"
    # Another roster-consumer of the group may have applied part of it: wait for all.
    for ((i = 0; i < 120; i++)); do
        have=$(covered)
        ((have == want)) && return 0
        sleep 1
    done
    die "only $have of $want probe workers are covered on $PROBE_DATE"
}

# start_service name log args...: run a program in the background, its pid in $BENCH_DIR.
start_service() {
    local name=$1 log=$2
    shift 2
    if service_pid "$name" >/dev/null; then
        say "$name already running (pid $(service_pid "$name"))"
        return 0
    fi
    (cd "$REPO" && exec "$@") >>"$log" 2>&1 </dev/null &
    echo $! >"$BENCH_DIR/$name.pid"
    sleep 0.5
    service_pid "$name" >/dev/null || die "$name exited at once: $(tail -n 5 "$log")"
}

cmd_start() {
    local parts n i
    mkdir -p "$DIR"
    enroll
    start_service incident-consumer "$DIR/incident-consumer.log" "$BIN/incident-consumer" \
        --stats.interval.s 60 "${CONSUMER_ARGS[@]}"
    start_service claims-relay "$DIR/claims-relay.log" "$BIN/claims-relay"
    # A probe sent before the consumer owns its partitions would measure the group join.
    parts=$("$BIN/topics" --bootstrap "$KAFKA_BOOTSTRAP" list | awk -F'\t' '$1 == "incidents" {print $2}')
    parts=${parts:-1}
    for ((i = 0; i < 300; i++)); do
        n=$(grep -c 'partition assigned.*topic=incidents' "$DIR/incident-consumer.log" || true)
        ((n >= parts)) && break
        service_pid incident-consumer >/dev/null ||
            die "incident-consumer died: $(tail -n 5 "$DIR/incident-consumer.log")"
        sleep 0.1
    done
    ((n >= parts)) || say "warning: incident-consumer owns $n of $parts partitions after 30s"
    say "incident-consumer (pid $(service_pid incident-consumer)) and" \
        "claims-relay (pid $(service_pid claims-relay)) running"
}

cmd_probe() {
    local runs csv out rc=0 p99
    mkdir -p "$DIR"
    [[ -f $DIR/niks.csv ]] || die "no $DIR/niks.csv: run '$0 start' first"
    service_pid incident-consumer >/dev/null || die "incident-consumer is not running ('$0 start')"
    service_pid claims-relay >/dev/null || die "claims-relay is not running ('$0 start')"
    runs=$(find "$DIR" -maxdepth 1 -name 'probe-*.csv' | wc -l)
    csv=$DIR/probe-$((runs + 1)).csv
    out=$("$BIN/latency_probe" --log.level warn --niks "$DIR/niks.csv" --source "$SOURCE" --count "$COUNT" \
        --interval.ms "$INTERVAL_MS" --timeout.ms "$TIMEOUT_MS" --occurred-at "$OCCURRED_AT" \
        --csv "$csv" "$@" 2>>"$DIR/latency_probe.log") || rc=$?
    printf '%s\n' "$out"
    ((rc == 0)) || {
        say "latency_probe exited $rc (see $DIR/latency_probe.log, $csv)"
        return "$rc"
    }
    for m in pg claims_topic; do
        p99=$(sed -n "s/^latency $m: .* p99_ms=\([0-9.]*\).*/\1/p" <<<"$out")
        [[ -n $p99 ]] || die "no p99 for $m in the probe's output"
        if awk -v v="$p99" -v t="$TARGET_MS" 'BEGIN { exit !(v >= t) }'; then
            say "target missed: $m p99 ${p99} ms >= ${TARGET_MS} ms"
            rc=3
        fi
    done
    return "$rc"
}

cmd_stop() {
    local name pid i
    for name in incident-consumer claims-relay; do
        pid=$(service_pid "$name") || {
            rm -f "$BENCH_DIR/$name.pid"
            continue
        }
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 200; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            say "$name ignored SIGTERM for 20s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$BENCH_DIR/$name.pid"
    done
}

[[ -x $BIN/latency_probe ]] || die "no $BIN/latency_probe; run make first"
[[ -n ${KAFKA_BOOTSTRAP:-} ]] || die "KAFKA_BOOTSTRAP is not set; source the stack's env file"
mkdir -p "$BENCH_DIR"
case ${1:-} in
start) cmd_start ;;
probe)
    shift
    cmd_probe "$@"
    ;;
stop) cmd_stop ;;
*)
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
