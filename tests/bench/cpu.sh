#!/usr/bin/env bash
# cpu.sh: where the CPU goes during a benchmark step, for the benchmarks (run.sh, producer.sh)
# on a running stack ($VAR_DIR).
#   cpu.sh snap          one line: the machine's busy and total clock ticks (/proc/stat), and
#                        the ticks of the Kafka broker and of PostgreSQL (every process of the
#                        cluster, with the ended backends the postmaster reaped)
#   cpu.sh diff A B      from two snaps: "busy_pct busy_s broker_s pg_s rest_s", CPU seconds
#                        of all cores, rest_s the busy time of everything else
#   cpu.sh ticks PID     the clock ticks one process has used (with its reaped children)
#   cpu.sh producer LOG...  from producers' summary lines (cpu_s, main_cpu_s, workers_cpu_s),
#                        summed over the logs: "main_s workers_s librdkafka_s", librdkafka's
#                        threads being the rest of the process's CPU
#   cpu.sh budget EVENTS KCAT_WALL_S BUSY_S BYTES LOG...
#                        the producer's workers' CPU budget per event at 0.8 x kcat -P's
#                        rate: the cores' time at that rate less what all else used while the
#                        producer ran (BUSY_S, the machine's busy seconds over the runs of
#                        LOG..., less the workers'), the machine taken as 100% busy and the
#                        broker as it was at the producer's own pace (producer.sh also
#                        measures it at the target pace);
#                        beside what the workers used and the SHA-1 of a BYTES-long event id
#                        name alone (openssl speed); EVENTS and KCAT_WALL_S over all runs
# Environment: VAR_DIR (the stack's).
set -euo pipefail

# utime + stime + cutime + cstime of pid, 0 when it is gone.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

case "${1:-}" in
snap)
    read -r busy total < <(awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat)
    broker=0
    [ -f "$VAR_DIR/run/kafka.pid" ] && broker=$(ticks "$(cat "$VAR_DIR/run/kafka.pid")")
    pg=0
    if [ -f "$VAR_DIR/pg/data/postmaster.pid" ]; then
        pm=$(head -n 1 "$VAR_DIR/pg/data/postmaster.pid")
        pg=$(ticks "$pm")
        for c in $(pgrep -P "$pm" || true); do pg=$((pg + $(ticks "$c"))); done
    fi
    echo "$busy $total $broker $pg"
    ;;
ticks)
    [ $# -eq 2 ] || { echo "usage: cpu.sh ticks PID" >&2; exit 2; }
    ticks "$2"
    ;;
diff)
    [ $# -eq 3 ] || { echo "usage: cpu.sh diff SNAP_A SNAP_B" >&2; exit 2; }
    awk -v a="$2" -v b="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        busy = (y[1] - x[1]) / hz; total = (y[2] - x[2]) / hz
        broker = (y[3] - x[3]) / hz; pg = (y[4] - x[4]) / hz
        printf "%.0f %.1f %.1f %.1f %.1f\n", (total > 0 ? 100 * busy / total : 0), busy, broker, pg, busy - broker - pg
    }'
    ;;
producer)
    [ $# -ge 2 ] || { echo "usage: cpu.sh producer LOG..." >&2; exit 2; }
    shift
    awk '/^summary: / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2] }; n++ }
        END { if (!n) { for (i = 1; i < ARGC; i++) f = f " " ARGV[i]
                        print "cpu.sh: no line starting \"summary: \" in" f > "/dev/stderr"; exit 1 }
              printf "%.3f %.3f %.3f\n", v["main_cpu_s"], v["workers_cpu_s"],
                  v["cpu_s"] - v["main_cpu_s"] - v["workers_cpu_s"] }' "$@"
    ;;
budget)
    [ $# -ge 6 ] || { echo "usage: cpu.sh budget EVENTS KCAT_WALL_S BUSY_S BYTES LOG..." >&2; exit 2; }
    events=$2 kwall=$3 busy=$4 bytes=$5
    shift 5
    split=$("$0" producer "$@")
    # openssl speed prints kB/s (1000 bytes) hashed at that length: a name and its namespace.
    sha_kbs=$(openssl speed -evp sha1 -bytes "$bytes" -seconds 1 2>/dev/null |
        awk '$1 == "sha1" { sub(/k$/, "", $2); print $2 }')
    awk -v e="$events" -v kw="$kwall" -v busy="$busy" -v b="$bytes" -v kbs="${sha_kbs:-0}" \
        -v cores="$(nproc)" -v sp="$split" 'BEGIN {
        split(sp, x, " ")
        at = 1e6 * cores * kw / 0.8 / e             # core-us per event at 0.8 x kcat -P
        rest = 1e6 * busy / e - 1e6 * x[2] / e      # all but the workers, per event
        printf "<= %.2f (%d cores at 0.8 x kcat -P: %.2f, less %.2f for all else); they used %.2f", \
            at - rest, cores, at, rest, 1e6 * x[2] / e
        if (kbs > 0)
            printf "; SHA-1 of a %d-byte name alone %.2f", b, 1e6 * b / (kbs * 1000)
    }'
    ;;
*)
    echo "usage: cpu.sh snap | cpu.sh diff SNAP_A SNAP_B | cpu.sh ticks PID | cpu.sh producer LOG..." \
        "| cpu.sh budget EVENTS KCAT_WALL_S BUSY_S BYTES LOG..." >&2
    exit 2
    ;;
esac
