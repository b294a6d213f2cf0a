# shellcheck shell=bash
# suite.sh: what the integration suite (tests/integration/run.sh) and the fault suite
# (tests/faults/run.sh) share: one suite per VAR_DIR, a stack that starts from empty data,
# each test in its own session with a time limit, and whatever a test or the suite left
# running stopped at the end, also on failure or Ctrl-C. A runner sets REPO, VAR_DIR and
# the stack's ports, sources this file, then calls
#   suite_begin NAME          take VAR_DIR (refused while another suite of NAME holds it),
#                             stop a stack a killed run left behind, empty the data
#   suite_run DIR FILTER      run every DIR/test_*.sh whose name contains FILTER; after
#                             each test, the hook suite_after NAME RC when the runner
#                             defines it; counts in SUITE_PASSED, SUITE_FAILED, SUITE_FAILURES
# Each test runs as `bash test_x.sh` under `setsid timeout SUITE_TIMEOUT` with the env
# file's variables exported (the runner sources it); ITEST_PIDS names the file where the
# test's start_bg lists what it started. Its output goes to $VAR_DIR/logs/<test>.log and
# is shown when it fails.

STACK=$REPO/deploy/local/stack.sh
LOGS=$VAR_DIR/logs
PIDS_DIR=$VAR_DIR/pids
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}
suite_current_pid=

alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# Kill the processes listed in a pids file ("pid name" lines): TERM, then KILL after 10s.
kill_listed() {
    local f=$1 pid name i left
    [[ -f $f ]] || return 0
    left=()
    while read -r pid name; do
        if ! [[ $pid =~ ^[0-9]+$ ]] || ! alive "$pid"; then continue; fi
        echo "run: killing leftover $name (pid $pid)" >&2
        kill -TERM "$pid" 2>/dev/null || true
        left+=("$pid")
    done <"$f"
    for pid in "${left[@]}"; do
        for ((i = 0; i < 100; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    rm -f "$f"
}

# Stop a test's whole session (it runs under setsid, so its pgid is its pid). Kafka nodes a
# test started again run in sessions of their own; the final `stack.sh down` stops them.
kill_test() {
    local pid=$1 i
    kill -TERM -- "-$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 -- "-$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
}

suite_cleanup() {
    local rc=$? f
    trap - EXIT INT TERM
    [[ -n $suite_current_pid ]] && kill_test "$suite_current_pid"
    for f in "$PIDS_DIR"/*.pids; do
        [[ -e $f ]] && kill_listed "$f"
    done
    "$STACK" down || rc=1
    rm -f "$VAR_DIR/run.pid"
    exit "$rc"
}

suite_begin() {
    local name=$1 other
    mkdir -p "$VAR_DIR"
    if [[ -f $VAR_DIR/run.pid ]]; then
        other=$(<"$VAR_DIR/run.pid")
        if [[ $other =~ ^[0-9]+$ && $other != "$$" ]] && alive "$other" &&
            grep -qa "$name/run.sh" "/proc/$other/cmdline" 2>/dev/null; then
            echo "run: another run.sh (pid $other) uses $VAR_DIR; give this one another" \
                "VAR_DIR and ports (see the top of tests/$name/run.sh)" >&2
            exit 1
        fi
    fi
    trap suite_cleanup EXIT
    trap 'echo "run: interrupted" >&2; exit 130' INT
    trap 'exit 143' TERM
    echo $$ >"$VAR_DIR/run.pid"
    # Every run starts from empty topics and an empty database (the Kafka jars are kept;
    # purge also removes PostgreSQL's data where $VAR_DIR/pg points, see stack.sh);
    # ITEST_KEEP_DATA=1 keeps the previous run's data.
    if [[ ${ITEST_KEEP_DATA:-} == 1 ]]; then
        "$STACK" down
    else
        "$STACK" purge
        find "$VAR_DIR" -mindepth 1 -maxdepth 1 ! -name kafka ! -name run.pid -exec rm -rf {} +
    fi
    rm -rf "$LOGS" "$PIDS_DIR" "$VAR_DIR/tmp"
    mkdir -p "$LOGS" "$PIDS_DIR"
    # The programs' per-user cache (the schema ids bound before: common/schema_cache.h) is
    # the suite's, never the caller's home.
    export XDG_CACHE_HOME=$VAR_DIR/xdg-cache
}

suite_run() {
    local dir=$1 filter=$2 t name start rc
    SUITE_PASSED=0 SUITE_FAILED=0 SUITE_FAILURES=()
    for t in "$dir"/test_*.sh; do
        [[ -e $t ]] || continue
        name=$(basename "$t" .sh)
        [[ -z $filter || $name == *"$filter"* ]] || continue
        start=$SECONDS
        ITEST_PIDS=$PIDS_DIR/$name.pids setsid timeout -k 10 "$SUITE_TIMEOUT" bash "$t" \
            >"$LOGS/$name.log" 2>&1 </dev/null &
        suite_current_pid=$!
        rc=0
        wait "$suite_current_pid" || rc=$?
        kill_test "$suite_current_pid"
        suite_current_pid=
        kill_listed "$PIDS_DIR/$name.pids"
        if declare -F suite_after >/dev/null; then suite_after "$name" "$rc"; fi
        if ((rc == 0)); then
            SUITE_PASSED=$((SUITE_PASSED + 1))
            printf 'PASS %s (%ds)\n' "$name" $((SECONDS - start))
        else
            SUITE_FAILED=$((SUITE_FAILED + 1))
            SUITE_FAILURES+=("$name")
            ((rc == 124)) && echo "run: $name timed out after ${SUITE_TIMEOUT}s" >>"$LOGS/$name.log"
            printf 'FAIL %s (%ds, exit %d); last lines of %s:\n' "$name" $((SECONDS - start)) \
                "$rc" "$LOGS/$name.log"
            tail -n 60 "$LOGS/$name.log" | sed 's/^/    /'
        fi
    done
    ((SUITE_FAILED == 0)) || echo "failed: ${SUITE_FAILURES[*]}"
    ((SUITE_PASSED + SUITE_FAILED > 0)) || { echo "run: no test matched" >&2; exit 1; }
}
