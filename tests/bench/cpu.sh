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
*)
    echo "usage: cpu.sh snap | cpu.sh diff SNAP_A SNAP_B | cpu.sh ticks PID | cpu.sh producer LOG..." >&2
    exit 2
    ;;
esac
