#!/usr/bin/env bash
# pg_profile.sh: what PostgreSQL does during a drain, for run.sh (make bench, make
# bench-national), on a running stack ($VAR_DIR), its files in the current directory.
#   pg_profile.sh start ROLE   in the background until stop (a sampler still running from
#                              an earlier start is stopped first):
#                              - every 100 ms, what ROLE's apply connections (application
#                                name GROUP/N, consumer_worker.c) are doing: running a
#                                statement (on a core, or waiting for one: PostgreSQL shows no
#                                wait event for either), waiting (IO, LWLock, Lock, other),
#                                waiting for the consumer (inside a statement: COPY data; or
#                                between two of a transaction's statements), idle (no batch);
#                              - when perf can sample every CPU (root, or perf_event_paranoid
#                                <= 0), a CPU profile with call stacks, 199 Hz on every core
#   pg_profile.sh stop         ends both
#   pg_profile.sh report [FROM TO]
#                              prints both: the apply connections on average over the
#                              samples taken between FROM and TO (epoch seconds: the drain's
#                              start and end; all samples without them), and PostgreSQL's
#                              backends' CPU samples by what the stack shows them doing
#                              (tests/bench/pg_profile.py); "not measured" and why otherwise
# Both cost CPU of their own (perf's sampling, the sampler's backend), counted in the
# drain's figures: BENCH_PROFILE=0 (run.sh) leaves them out.
# The two answer where a drain's time goes when the apply connections are busy and the
# cores are not: waiting on I/O or locks shows as wait events, on the cores as CPU samples.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

perf_usable() {
    command -v perf >/dev/null 2>&1 || { echo "perf is not installed (Debian: linux-perf)"; return 1; }
    if [ "$(id -u)" != 0 ] && [ "$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null || echo 2)" -gt 0 ]; then
        echo "perf cannot sample every CPU as $(id -un) (kernel.perf_event_paranoid > 0)"
        return 1
    fi
    perf record -q -e cpu-clock -a -o /dev/null -- true >/dev/null 2>&1 ||
        { echo "perf record -a fails here"; return 1; }
}

case "${1:-}" in
start)
    role=${2:?usage: pg_profile.sh start ROLE}
    bash "$0" stop
    rm -f waits.txt waits.err perf.data perf.log perf.why perf.script perf.script.err
    # One line a sample: its time; the apply connections running a statement, of them not
    # waiting, on IO, LWLock, Lock, the consumer (Client: COPY data), another wait; in a
    # transaction between statements; idle; their wait events.
    printf '%s\n\\watch 0.1\n' "SELECT extract(epoch FROM clock_timestamp()),
        count(*) FILTER (WHERE state = 'active'),
        count(*) FILTER (WHERE state = 'active' AND wait_event_type IS NULL),
        count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'IO'),
        count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'LWLock'),
        count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock'),
        count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Client'),
        count(*) FILTER (WHERE state = 'active' AND wait_event_type NOT IN ('IO', 'LWLock', 'Lock', 'Client')),
        count(*) FILTER (WHERE state LIKE 'idle in transaction%'),
        count(*) FILTER (WHERE state = 'idle'),
        coalesce(string_agg(wait_event_type || ':' || wait_event, ' ')
                 FILTER (WHERE state = 'active' AND wait_event IS NOT NULL
                         AND wait_event_type <> 'Client'), '')
        FROM pg_stat_activity WHERE usename = '$role' AND application_name ~ '/[0-9]+\$'" |
        setsid "$REPO/deploy/local/stack.sh" psql -X -At -F '|' >waits.txt 2>waits.err &
    echo "psql $!" >pg_profile.pids
    if why=$(perf_usable); then
        perf record -q --no-buildid -e cpu-clock -F 199 -a -g -o perf.data >/dev/null 2>perf.log &
        echo "perf $!" >>pg_profile.pids
    else
        echo "$why" >perf.why
    fi
    ;;
stop)
    [ -f pg_profile.pids ] || exit 0
    # The sampler's session (stack.sh and its psql) ends on SIGTERM; perf writes perf.data
    # out on SIGINT.
    while read -r what pid; do
        if [ "$what" = perf ]; then kill -INT "$pid"; else kill -TERM -- "-$pid"; fi 2>/dev/null || true
    done <pg_profile.pids
    while read -r _ pid; do
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done <pg_profile.pids
    rm -f pg_profile.pids
    ;;
report)
    # Only the drain's samples: between FROM and TO, and with the apply connections there.
    [ -s waits.txt ] || echo "apply connections: not measured (no samples)"
    [ ! -s waits.txt ] || awk -F'|' -v from="${2:-0}" -v to="${3:-1e12}" 'function pct(x, of) { return of > 0 ? 100 * x / of : 0 }
    NF >= 11 && $1 >= from && $1 <= to && $2 + $9 + $10 > 0 {
        n++; act += $2; cpu += $3; io += $4; lw += $5; lk += $6; cli += $7; oth += $8; txn += $9; idle += $10
        k = split($11, w, " "); for (i = 1; i <= k; i++) seen[w[i]]++
    } END {
        if (!n) { print "apply connections: not measured (no sample of their sessions)"; exit }
        top = ""; for (e in seen) if (top == "" || seen[e] > seen[top]) top = e
        printf "apply connections, sampled every 100 ms (%d samples), on average of %.1f:\n", n, (act + txn + idle) / n
        printf "  %.2f running a statement: %.0f%% not waiting (on a core, or for one), IO %.0f%%, LWLock %.0f%%, Lock %.0f%%, other %.0f%%%s\n",
            (act - cli) / n, pct(cpu, act - cli), pct(io, act - cli), pct(lw, act - cli),
            pct(lk, act - cli), pct(oth, act - cli), (top == "" ? "" : sprintf(" (most seen: %s)", top))
        printf "  %.2f waiting for the consumer (%.2f for COPY data, %.2f between statements), %.2f idle (no batch)\n",
            (cli + txn) / n, cli / n, txn / n, idle / n
    }' waits.txt || echo "apply connections: not measured (the summary failed)"
    [ -s waits.err ] && echo "  (the sampler: $(tail -n 1 waits.err))"
    if [ -f perf.why ]; then
        echo "PostgreSQL CPU by activity: not measured: $(cat perf.why)"
    elif [ -s perf.data ]; then
        # (The stacks as text are about 1 kB a sample: removed once read.)
        if perf script -i perf.data -F comm,ip,sym >perf.script 2>perf.script.err; then
            python3 "$HERE/pg_profile.py" <perf.script ||
                echo "PostgreSQL CPU by activity: not measured: pg_profile.py failed"
            rm -f perf.script
        else
            rm -f perf.script
            echo "PostgreSQL CPU by activity: not measured: perf script failed ($(tail -n 1 perf.script.err))"
        fi
    else
        echo "PostgreSQL CPU by activity: not measured: perf wrote no samples ($(tail -n 1 perf.log 2>/dev/null))"
    fi
    ;;
*)
    echo "usage: pg_profile.sh start ROLE | stop | report [FROM TO]" >&2
    exit 2
    ;;
esac
