#!/usr/bin/env bash
# kcat.sh: the producer's ceiling, kcat -P sending exactly what roster-producer sends, for
# the benchmarks (producer.sh, run.sh) on a running stack ($KAFKA_BOOTSTRAP).
#   kcat.sh dump CSV DUMP   roster-producer --dump: every row of CSV encoded into DUMP;
#                           fails unless every row was dumped
#   kcat.sh send DUMP N [RATE]
#                           kcat -P sends DUMP (N messages) to the scratch topic bench.kcat
#                           (as many partitions as roster.changes; made when missing) with
#                           the producer's settings (common/publisher.c); prints
#                           "wall user system" seconds, and fails unless the topic grew by N.
#                           With RATE, DUMP reaches kcat's standard input at RATE messages a
#                           second (pace.py), to see what a slower client costs the broker
# Environment: KAFKA_BOOTSTRAP, BIN (build/bin), BENCH_KCAT_TOPIC (bench.kcat), BENCH_SNAPS
# (a file: after sync, `cpu.sh snap` just before kcat -P and just after it, one line each,
# so the topic's offset queries around it, a TLS and SCRAM connection each, are not in
# them; VAR_DIR as cpu.sh needs it).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BIN:-$REPO/build/bin}
TOPIC=${BENCH_KCAT_TOPIC:-bench.kcat}
# The producer's own settings (common/publisher.c), given to kcat as they are.
KCAT_CONF=(-X acks=all -X enable.idempotence=true -X linger.ms=20 -X compression.type=lz4
    -X batch.num.messages=10000 -X batch.size=1000000 -X queue.buffering.max.messages=500000
    -X queue.buffering.max.kbytes=262144 -X message.timeout.ms=30000 -X socket.nagle.disable=true)
# common/ingest.h INGEST_DUMP_KEY_DELIM and INGEST_DUMP_MSG_DELIM as kcat spells them.
KCAT_DELIMS=(-K '\xfe\xfd\xfc|K|' -D '\xfe\xfd\xfc|M|\n')

die() { echo "kcat.sh: $*" >&2; exit 1; }

partitions() { awk -F'\t' '$1 == "roster.changes" { print $2 }' "$REPO/deploy/topics.tsv"; }

# Messages on the scratch topic (sum of the partitions' end offsets).
topic_count() {
    local n=0 p q
    for ((p = 0; p < $(partitions); p++)); do
        q=$(kcat -Q -b "$KAFKA_BOOTSTRAP" -t "$TOPIC:$p:-1" 2>/dev/null | awk '{ print $NF }')
        n=$((n + ${q:-0}))
    done
    echo "$n"
}

case "${1:-}" in
dump)
    [ $# -eq 3 ] || die "usage: kcat.sh dump CSV DUMP"
    rows=$(($(wc -l <"$2") - 1))
    "$BIN/roster-producer" --source dc-sulsel --progress never --dump "$3" "$2" 2>"$3.log" ||
        { tail -n 5 "$3.log" >&2; die "roster-producer --dump failed"; }
    grep -q "^summary: rows=$rows dumped=$rows rejected=0 " "$3.log" ||
        { tail -n 3 "$3.log" >&2; die "not every row of $2 was dumped"; }
    ;;
send)
    [ $# -eq 3 ] || [ $# -eq 4 ] || die "usage: kcat.sh send DUMP N [RATE]"
    [ -n "${KAFKA_BOOTSTRAP:-}" ] || die "KAFKA_BOOTSTRAP is not set"
    tsv=$(mktemp)
    printf '%s\t%s\t-\n' "$TOPIC" "$(partitions)" >"$tsv"
    # An existing topic is kept (and counted from where it is).
    "$BIN/topics" --bootstrap "$KAFKA_BOOTSTRAP" create "$tsv" >/dev/null 2>&1 || true
    rm -f "$tsv"
    before=$(topic_count)
    times=$(mktemp)
    trap 'rm -f "$times"' EXIT    # on every path, a failed kcat -P's too
    kcat=(kcat -P -b "$KAFKA_BOOTSTRAP" -t "$TOPIC" "${KCAT_DELIMS[@]}" "${KCAT_CONF[@]}")
    if [ -n "${BENCH_SNAPS:-}" ]; then
        sync
        "$REPO/tests/bench/cpu.sh" snap >"$BENCH_SNAPS"
    fi
    if [ $# -eq 4 ]; then
        # The dump's bytes a second at RATE messages a second; kcat -P reads standard input.
        bps=$(awk -v r="$4" -v b="$(stat -c %s "$2")" -v n="$3" 'BEGIN { printf "%.0f", r * b / n }')
        "$REPO/tests/bench/pace.py" "$2" "$bps" | /usr/bin/time -f '%e %U %S' -o "$times" "${kcat[@]}" \
            2>"$2.kcat.log" ||
            { tail -n 5 "$2.kcat.log" >&2; die "kcat -P failed sending $2 at $4 messages a second"; }
    else
        /usr/bin/time -f '%e %U %S' -o "$times" "${kcat[@]}" -l "$2" 2>"$2.kcat.log" ||
            { tail -n 5 "$2.kcat.log" >&2; die "kcat -P failed sending $2"; }
    fi
    [ -z "${BENCH_SNAPS:-}" ] || "$REPO/tests/bench/cpu.sh" snap >>"$BENCH_SNAPS"
    after=$(topic_count)
    [ $((after - before)) -eq "$3" ] || die "kcat produced $((after - before)) messages, not $3"
    cat "$times"
    ;;
*)
    die "usage: kcat.sh dump CSV DUMP | kcat.sh send DUMP N [RATE]"
    ;;
esac
