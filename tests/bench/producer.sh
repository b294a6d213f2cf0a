#!/usr/bin/env bash
# make bench-producer: roster-producer against its ceiling, kcat -P sending the same encoded
# keys and values with the same producer settings, in the same run on its own stack.
#   1. generate BENCH_EVENTS roster rows (default 1,000,000; gen_roster --seed 2024);
#   2. roster-producer --dump writes the keys and values it would send (kcat -P format);
#   3. an untimed run of each side warms the fresh broker and both topics; then rounds,
#      the order swapped in every other to cancel what is left of warm-up effects: roster-producer
#      publishes the CSV to roster.changes, kcat -P the dump to a scratch topic with as many
#      partitions (tests/bench/kcat.sh); each timed with /usr/bin/time (wall seconds, user +
#      system CPU seconds);
#   4. the producer must report every row delivered, and kcat's topic must grow by exactly
#      N messages a run (the dump splits into one message per row);
#   5. one more kcat -P run, held to 0.8 x its rate over the rounds (pace.py), for what the
#      broker costs per event at the target pace (not in the ratio);
#   6. prints events/s and CPU seconds of each per round and over all rounds, the
#      producer's CPU by thread (its summary line: main's, the workers', librdkafka's), the
#      broker's CPU per event at each pace and the producer's CPU budget at the target, and
#      the ratio producer / kcat of the rates over all rounds. Target (2 cores): ratio >= 0.8.
# Environment: BENCH_EVENTS, BENCH_PRODUCER_ROUNDS (4; odd rounds run the producer first,
# even rounds kcat; 0: the stack and the warm-up only, with BENCH_KEEP_STACK=1 to try things on),
# BENCH_PRODUCER_VAR_DIR (var/bench-producer),
# BENCH_PRODUCER_KAFKA_PORT (26092), BENCH_PRODUCER_PGPORT (26432), BENCH_PRODUCER_ARGS
# (extra roster-producer options), BENCH_KEEP_STACK=1 (leave the stack running).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
BIN=$REPO/${BUILD:-build}/bin
export VAR_DIR=${BENCH_PRODUCER_VAR_DIR:-$REPO/var/bench-producer}
# Below the ephemeral range (32768-60999), as every stack's.
export KAFKA_PORT=${BENCH_PRODUCER_KAFKA_PORT:-26092}
export KAFKA_CONTROLLER_PORT=$((KAFKA_PORT + 1))
export PGPORT=${BENCH_PRODUCER_PGPORT:-26432}
WORK=$VAR_DIR/work
N=${BENCH_EVENTS:-1000000}
read -r -a EXTRA <<<"${BENCH_PRODUCER_ARGS:-}"
export BIN BENCH_KCAT_TOPIC=bench.kcat

stop() { [ "${BENCH_KEEP_STACK:-}" = 1 ] || "$REPO/deploy/local/stack.sh" down >/dev/null 2>&1 || true; }
trap stop EXIT

# A fresh stack each run; the Kafka jars are copied from another stack when there is one,
# which spares a Maven run.
# (purge: also PostgreSQL's data where $VAR_DIR/pg points, see stack.sh).
deploy/local/stack.sh purge >/dev/null 2>&1 || true
rm -rf "$WORK"
mkdir -p "$WORK" "$VAR_DIR/kafka"
if [ ! -f "$VAR_DIR/kafka/jars/.complete" ]; then
    for jars in "$REPO"/var/kafka/jars "$REPO"/var/*/kafka/jars; do
        if [ -f "$jars/.complete" ]; then
            rm -rf "$VAR_DIR/kafka/jars"
            cp -r "$jars" "$VAR_DIR/kafka/jars"
            break
        fi
    done
fi
deploy/local/stack.sh up >"$WORK/stack.log" 2>&1 || { cat "$WORK/stack.log"; exit 1; }
# shellcheck disable=SC1091
. "$VAR_DIR/env"
cd "$WORK"

echo "bench-producer: generating $N roster rows"
"$BIN/gen_roster" --seed 2024 --scale-events "$N" --output roster.csv 2>/dev/null
"$REPO/tests/bench/kcat.sh" dump roster.csv dump.bin

# "wall user sys" of one timed run; the command's stderr goes to $1.log.
timed() {
    local name=$1
    shift
    /usr/bin/time -f '%e %U %S' -o "$name.time" "$@" 2>"$name.log" || {
        echo "bench-producer: $name failed:" >&2
        tail -n 5 "$name.log" >&2
        exit 1
    }
    cat "$name.time"
}
run_producer() {
    timed "producer$1" "$BIN/roster-producer" --source dc-sulsel --progress never \
        --bootstrap "$KAFKA_BOOTSTRAP" "${EXTRA[@]}" roster.csv
    grep -q "^summary: rows=$N sent=$N rejected=0 warnings=0 delivered=$N failed=0 " "producer$1.log" ||
        { echo "bench-producer: producer run $1 did not deliver $N:" >&2; tail -n 3 "producer$1.log" >&2; exit 1; }
}

# A fresh broker runs its first million messages slower (JIT), and so does a topic its first
# (new segment and index files): an untimed run of each side into its own topic first, so
# neither timed side pays for it.
echo "bench-producer: warm-up (kcat -P, then roster-producer, not timed)"
"$REPO/tests/bench/kcat.sh" send dump.bin "$N" >/dev/null
run_producer 0 >/dev/null
# Out of the rounds' producer*.log, which the report reads.
mv producer0.log warmup-producer.log && mv producer0.time warmup-producer.time
ROUNDS=${BENCH_PRODUCER_ROUNDS:-4}
if ((ROUNDS == 0)); then
    echo "bench-producer: no rounds (BENCH_PRODUCER_ROUNDS=0), nothing to report"
    exit 0
fi
ptimes=() ktimes=()
# The machine's busy time and the broker's CPU while each side runs (cpu.sh), summed.
pbusy="0 0 0 0" kbusy="0 0 0 0"
measured() {
    local a b t
    # What the run before left in the page cache is written back first, not during this one.
    sync
    a=$("$REPO/tests/bench/cpu.sh" snap)
    t=$("$@")
    b=$("$REPO/tests/bench/cpu.sh" snap)
    echo "$t"
    echo "$a" >&3
    echo "$b" >&3
}
# The same for kcat -P ([RATE] as kcat.sh send's), whose snaps kcat.sh takes around kcat -P
# itself: the offset queries before and after it, 24 TLS and SCRAM connections, cost the
# broker about 0.4 s a run, and their waits counted as idle machine time.
kcat_measured() {
    local t
    t=$(BENCH_SNAPS="$WORK/kcat.snaps" "$REPO/tests/bench/kcat.sh" send dump.bin "$N" "$@")
    echo "$t"
    cat "$WORK/kcat.snaps" >&3
}
add_snaps() {
    local a b
    { read -r a; read -r b; } <"$1"
    awk -v s="$2" -v a="$a" -v b="$b" 'BEGIN { split(s, x, " "); split(a, p, " "); split(b, q, " ")
        for (i = 1; i <= 4; i++) x[i] += q[i] - p[i]; print x[1], x[2], x[3], x[4] }'
}
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then
        echo "bench-producer: round $r (roster-producer, then kcat -P)"
        ptimes+=("$(measured run_producer "$r" 3>psnap)")
        ktimes+=("$(kcat_measured 3>ksnap)")
    else
        echo "bench-producer: round $r (kcat -P, then roster-producer)"
        ktimes+=("$(kcat_measured 3>ksnap)")
        ptimes+=("$(measured run_producer "$r" 3>psnap)")
    fi
    pbusy=$(add_snaps psnap "$pbusy")
    kbusy=$(add_snaps ksnap "$kbusy")
done

# Each time is "wall user system"; rates from wall seconds, CPU = user + system.
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
sum() { printf '%s\n' "$@" | awk '{ w += $1; c += $2 + $3 } END { printf "%.3f %.3f", w, c }'; }
read -r pwall pcpu <<<"$(sum "${ptimes[@]}")"
read -r kwall kcpu <<<"$(sum "${ktimes[@]}")"
# The broker's CPU per event depends on the client's pace, and not only through the
# batches' size (roster-producer at linger.ms 200 sends full batches and costs the broker no
# less per event). kcat -P held to the target pace (0.8 x its rate over the rounds) shows
# what the broker costs there; it is not part of the ratio.
target=$(awk -v n=$((ROUNDS * N)) -v w="$kwall" 'BEGIN { printf "%.0f", 0.8 * n / w }')
echo "bench-producer: kcat -P held to 0.8 x its rate ($target events/s), not in the ratio"
kcat_measured "$target" 3>qsnap >/dev/null
qbusy=$(add_snaps qsnap "0 0 0 0")
ratio=$(awk -v p="$pwall" -v k="$kwall" 'BEGIN { printf "%.2f", k / p }')
size=$(stat -c %s dump.bin)
echo
echo "== bench-producer: $N roster events, $((size / N)) bytes a message in the dump ($(nproc) cores, $ROUNDS rounds)"
printf '%-8s %16s %12s %10s %10s %8s\n' "round" "producer ev/s" "kcat ev/s" "ratio" "prod CPU" "kcat CPU"
for ((r = 0; r < ROUNDS; r++)); do
    read -r pw pu ps <<<"${ptimes[r]}"
    read -r kw ku ks <<<"${ktimes[r]}"
    printf '%-8s %16s %12s %10s %10s %8s\n' "$((r + 1))" "$(rate "$N" "$pw")" "$(rate "$N" "$kw")" \
        "$(awk -v p="$pw" -v k="$kw" 'BEGIN { printf "%.2f", k / p }')" \
        "$(awk -v u="$pu" -v s="$ps" 'BEGIN { printf "%.2f", u + s }')" \
        "$(awk -v u="$ku" -v s="$ks" 'BEGIN { printf "%.2f", u + s }')"
done
printf '%-34s %12s  (CPU s per run %.2f)\n' "producer events/s" "$(rate $((ROUNDS * N)) "$pwall")" \
    "$(awk -v c="$pcpu" -v r="$ROUNDS" 'BEGIN { print c / r }')"
printf '%-34s %12s  (CPU s per run %.2f)\n' "kcat -P events/s (same values)" "$(rate $((ROUNDS * N)) "$kwall")" \
    "$(awk -v c="$kcpu" -v r="$ROUNDS" 'BEGIN { print c / r }')"
# Both sides share 2 cores with the broker: when the machine is busy throughout, a client's
# own CPU per event is what decides its rate.
busy_line() {
    awk -v s="$1" -v r="$ROUNDS" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(s, x, " ")
        printf "%.0f%% (broker CPU s per run %.2f)", 100 * x[1] / x[2], x[3] / hz / r }'
}
# The producer's own split of its CPU (its summary line): what kcat -P does too (main's
# thread reading and queueing, librdkafka's threads compressing and sending) and what only
# the producer does (the workers: parse, check, event id, encode).
split_line() {
    "$REPO/tests/bench/cpu.sh" producer producer*.log | awk -v r="$ROUNDS" -v kc="$kcpu" '{
        printf "main %.2f (read, queue), workers %.2f (parse, check, event id, encode), librdkafka %.2f; kcat -P %.2f in all",
            $1 / r, $2 / r, $3 / r, kc / r }'
}
printf '%-34s %s\n' "producer CPU s per run, by thread" "$(split_line)"
# What the workers may use at the target (cpu.sh budget), beside the event ids' SHA-1 alone:
# their form is part of every published id (contracts.md).
printf '%-34s %s\n' "workers CPU us/event at the target" "$("$REPO/tests/bench/cpu.sh" budget $((ROUNDS * N)) \
    "$kwall" "$(awk -v s="$pbusy" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(s, x, " "); print x[1] / hz }')" \
    "$((size / N))" producer*.log)"
printf '%-34s %s\n' "machine busy, producer runs" "$(busy_line "$pbusy")"
printf '%-34s %s\n' "machine busy, kcat -P runs" "$(busy_line "$kbusy")"
# The broker's CPU per event at each pace, and so what the producer's own CPU per event may
# be at the target: the cores' time at 0.8 x kcat -P's rate less the broker's at that pace
# (an upper bound: the machine 100% busy, nothing else running).
awk -v p="$pbusy" -v k="$kbusy" -v q="$qbusy" -v e=$((ROUNDS * N)) -v n="$N" -v t="$target" \
    -v pc="$pcpu" -v cores="$(nproc)" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(p, x, " "); split(k, y, " "); split(q, z, " ")
    pb = 1e6 * x[3] / hz / e; kb = 1e6 * y[3] / hz / e; qb = 1e6 * z[3] / hz / n
    at = 1e6 * cores / t
    printf "%-34s kcat -P at its rate %.2f, at 0.8 x (%d/s) %.2f; the producer at its rate %.2f\n", \
        "broker CPU us/event by pace", kb, t, qb, pb
    printf "%-34s <= %.2f (%d cores at 0.8 x kcat -P: %.2f, less the broker at that pace %.2f); it used %.2f\n", \
        "producer CPU us/event at the target", at - qb, cores, at, qb, 1e6 * pc / e }'
printf '%-34s %12s  target >= 0.8: %s\n' "ratio producer / kcat -P" "$ratio" \
    "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.8 ? "ok" : "MISSED") }')"
