# shellcheck shell=bash
# lib.sh: helpers for the fault tests; every test_*.sh starts with
#   . "$(dirname "$0")/lib.sh"
# It is tests/integration/lib.sh (the env file, $TEST_TMP, start_bg/stop_bg, wait_until,
# fail and the assertions, on_exit) plus helpers for the nodes of the test cluster, which
# tests/faults/run.sh starts with three KRaft nodes (node ids 1..3). They wrap
# deploy/local/stack.sh's per-node commands (kafka-pid, kafka-kill, kafka-start, leader,
# isr, describe, brokers).

# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

# now_ms: wall clock in milliseconds, for timing elections and recoveries.
now_ms() { date +%s%3N; }

# secs_since start_ms: seconds since start_ms, with one decimal.
secs_since() {
    local d=$(($(now_ms) - $1))
    printf '%d.%d' $((d / 1000)) $((d % 1000 / 100))
}

# leader_of topic partition: the node id of the partition's leader as all running nodes
# see it; -1 when there is none, empty while their metadata disagree (just after a change).
leader_of() { "$STACK" leader "$1" "$2" 2>/dev/null || true; }

# controller_of: the node id of the active controller (-1 during an election; empty
# while the running nodes disagree).
controller_of() { "$STACK" controller 2>/dev/null || true; }

# isr_of topic partition: the in-sync replicas' node ids, sorted, comma-separated (empty
# while the running nodes disagree).
isr_of() { "$STACK" isr "$1" "$2" 2>/dev/null || true; }

# has_leader_other_than topic partition node: the running nodes agree that the partition
# has a leader and that it is not that node; sets LEADER to it (for wait_until).
LEADER=
has_leader_other_than() {
    LEADER=$(leader_of "$1" "$2")
    [[ $LEADER =~ ^[0-9]+$ && $LEADER != "$3" ]]
}

# isr_is topic partition ids: the partition's ISR is exactly ids (sorted, "1,2,3").
isr_is() { [[ $(isr_of "$1" "$2") == "$3" ]]; }

# all_isr_full: every partition of every topic has a leader and all replicas in sync.
all_isr_full() {
    local listing
    listing=$("$STACK" describe 2>/dev/null) || return 1
    [[ -n $listing ]] && ! awk '$3 == -1 || $4 != $5 {bad = 1} END {exit !bad}' <<<"$listing"
}

# partition_has topic partition value: some record of the partition has exactly that value.
partition_has() {
    kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -p "$2" -e -q -f '%s\n' 2>/dev/null | grep -qxF "$3"
}

# count_at_least topic n: the topic holds at least n records (for wait_until; topic_count
# in a wait_until argument would be counted once).
count_at_least() { (($(topic_count "$1") >= $2)); }

# kill_node id: kill -9 a Kafka node (fails when it does not run).
kill_node() { "$STACK" kafka-kill "$1"; }

# start_node id: start a stopped node again on its data; returns once it is a broker again.
start_node() { "$STACK" kafka-start "$1"; }

# Leave the cluster whole for the next test: start every node a test killed.
restart_stopped_nodes() {
    local n
    for n in 1 2 3; do
        "$STACK" kafka-pid "$n" >/dev/null 2>&1 || "$STACK" kafka-start "$n" || true
    done
}
on_exit restart_stopped_nodes

# --- the cases' invariants ---------------------------------------------------------------
#
# Each case publishes to topics of its own (case_topics), runs consumers with small
# settings (start_consumer), injects its fault, lets the consumers drain, and ends with
#   check_exactly_once TOPIC GROUP [ROSTER_CSV SKIP_FILE]...
#   finish_case STUCK_S
# which prints the matrix line and fails the case when an invariant broke.

POISON=${POISON:-$REPO/$BUILD/tests/poison}
MATRIX=$VAR_DIR/faults-matrix.txt
CASE_NAME=${TEST_NAME#test_}

# Consumer settings that keep a case short: small batches, a progress line a second, and
# a group session of 10 s (not 45 s) so that a member killed -9 or frozen leaves the group
# quickly. Tests add their own options after these.
CONSUMER_OPTS=(--batch.max.messages 2000 --stats.interval.s 1
    -X session.timeout.ms=10000 -X heartbeat.interval.ms=1000)

# case_topics TOPIC PARTITIONS: create TOPIC and TOPIC.dlq (3 partitions) with the
# cluster's replication factor, and wait until every running node knows them with a full
# ISR. A case's own topics make its offsets its own: every record on TOPIC is the case's.
case_topics() {
    printf '%s\t%s\t-\n%s.dlq\t3\t-\n' "$1" "$2" "$1" >"$TEST_TMP/topics.tsv"
    "$BIN/topics" --replication 3 create "$TEST_TMP/topics.tsv" 2>"$TEST_TMP/topics.log" ||
        fail "creating $1: $(cat "$TEST_TMP/topics.log")"
    if ! wait_until 60 topic_ready "$1" "$2" || ! wait_until 60 topic_ready "$1.dlq" 3; then
        fail "topic $1 not ready: $("$STACK" describe "$1" 2>&1 | head -n 3)"
    fi
    case_acls "$1"
}

# case_acls TOPIC: on the secure stack, what the services' own principals need on a case's
# topic, as deploy/local/stack.sh grants it on roster.changes and incidents: dc-sulsel
# writes it, covadm too (replays), the consumers read it with their groups ("fNN-...") and
# write its DLQ. The case runs as the services do, each with its own principal.
case_acls() {
    local t=$1 svc
    [[ ${STACK_SECURE:-0} == 1 ]] || return 0
    {
        printf 'User:dc-sulsel\ttopic\tliteral\t%s\twrite\tallow\n' "$t"
        printf 'User:covadm\ttopic\tliteral\t%s\twrite\tallow\n' "$t"
        for svc in roster-consumer incident-consumer; do
            printf 'User:%s\ttopic\tliteral\t%s\tread\tallow\n' "$svc" "$t"
            printf 'User:%s\ttopic\tliteral\t%s.dlq\twrite\tallow\n' "$svc" "$t"
            printf 'User:%s\tgroup\tprefixed\t%s-\tread\tallow\n' "$svc" "${t%%.*}"
        done
    } >"$TEST_TMP/acls.tsv"
    "$BIN/topics" --timeout.ms 30000 acls "$TEST_TMP/acls.tsv" 2>"$TEST_TMP/acls.log" ||
        fail "ACLs of $t: $(tail -n 3 "$TEST_TMP/acls.log")"
    # `topics acls` waited for the node that answered; the others apply them a moment apart.
    local n want
    want=$(wc -l <"$TEST_TMP/acls.tsv")
    for n in $("$STACK" brokers); do
        acls_on_node() {
            (($("$BIN/topics" --bootstrap "127.0.0.1:$((KAFKA_PORT + 10 * ($1 - 1)))" list-acls \
                2>/dev/null | grep -cF -e "$t" -e "${t%%.*}-") >= want))
        }
        wait_until 30 acls_on_node "$n" || fail "node $n does not list the ACLs of $t"
    done
}

# topic_ready TOPIC PARTITIONS: the running nodes agree that TOPIC has that many partitions,
# each with a leader and a full ISR.
topic_ready() {
    local listing
    listing=$("$STACK" describe "$1" 2>/dev/null) || return 1
    [[ $(awk '$3 != -1 && $4 == $5' <<<"$listing" | wc -l) == "$2" ]]
}

# load_reference: the sample data centers (dc-sulsel serves province 73).
load_reference() {
    "$BIN/covadm" data-centers load "$REPO/sample/data_centers.csv" >/dev/null
}

# roster_file NAME SERIAL_BASE EVENTS [gen_roster options...]: a roster of EVENTS rows in
# $TEST_TMP/NAME.csv with its agreements loaded. NIK serials start after SERIAL_BASE: give
# every file of every case its own base, 100 apart, so no two share a worker.
roster_file() {
    local name=$1 base=$2 events=$3
    shift 3
    "$BIN/gen_roster" --seed "$base" --serial-base "$base" --scale-events "$events" \
        --agreements-out "$TEST_TMP/$name.agreements.csv" --output "$TEST_TMP/$name.csv" \
        "$@" 2>/dev/null
    "$BIN/covadm" agreements load "$TEST_TMP/$name.agreements.csv" >/dev/null
}

# publish_rows TOPIC FILE [FROM [TO]]: publish data rows FROM..TO (2 = the first data line;
# default all) of a roster CSV with roster-producer; fails unless every row is delivered.
publish_rows() {
    local topic=$1 file=$2 from=${3:-2} to=${4:-} part=$TEST_TMP/part.csv
    { head -n 1 "$file" && sed -n "${from},${to:-\$}p" "$file"; } >"$part"
    "$BIN/roster-producer" --source dc-sulsel --topic "$topic" --progress never "$part" \
        >"$TEST_TMP/producer.log" 2>&1 || fail "roster-producer: $(tail -n 3 "$TEST_TMP/producer.log")"
}

# start_consumer NAME PROGRAM TOPIC GROUP [options...]: run roster-consumer or
# incident-consumer (PROGRAM) on the case's topic with CONSUMER_OPTS; sets BG_PID.
start_consumer() {
    local name=$1 program=$2 topic=$3 group=$4
    shift 4
    start_bg "$name" "$BIN/$program" --topic "$topic" --group "$group" "${CONSUMER_OPTS[@]}" "$@"
}

# assert_running NAME: the consumer started as NAME still runs (it never exits on its own).
assert_running() {
    local pid=${LIB_BG_PIDS[$1]:-}
    if [[ -z $pid ]] || ! alive "$pid"; then
        fail "consumer $1 is gone: $(tail -n 5 "$(bg_log "$1")")"
    fi
}

# stop_consumer NAME: SIGTERM; it must finish, exit 0 and log its clean stop.
stop_consumer() {
    local status=0
    assert_running "$1"
    stop_bg "$1" TERM || status=$?
    assert_eq "exit status of $1 on SIGTERM" 0 "$status"
    grep -q 'msg="stopped"' "$(bg_log "$1")" || fail "$1 did not log a clean stop"
}

# topic_end TOPIC: the number of records on TOPIC (its offsets start at 0: case topics
# are never truncated).
topic_end() { kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -e -q -f 'x\n' 2>/dev/null | wc -l; }

# settled TOPIC GROUP: every record of TOPIC is applied or dead-lettered (for wait_until).
settled() {
    local end
    end=$(topic_end "$1")
    [[ $(q "SELECT (SELECT count(*) FROM applied_events WHERE topic = '$1')
                 + (SELECT count(*) FROM dead_letters d WHERE d.group_id = '$2' AND d.topic = '$1'
                    AND NOT EXISTS (SELECT 1 FROM applied_events a WHERE a.topic = d.topic
                        AND a.partition = d.partition AND a.kafka_offset = d.kafka_offset))" \
        2>/dev/null) == "$end" ]]
}

# wait_settled TOPIC GROUP SECONDS [consumer names...]: wait until settled, failing early
# when a named consumer died.
wait_settled() {
    local topic=$1 group=$2 deadline=$((SECONDS + $3)) name
    shift 3
    while ((SECONDS < deadline)); do
        settled "$topic" "$group" && return 0
        for name in "$@"; do assert_running "$name"; done
        sleep 0.5
    done
    fail "$topic not drained within the time: applied $(q "SELECT count(*) FROM applied_events
        WHERE topic = '$topic'"), dead-lettered $(q "SELECT count(*) FROM dead_letters
        WHERE topic = '$topic'") of $(topic_end "$topic")"
}

# --- progress and how long it stopped ---------------------------------------------------------

# watch_progress TOPIC [NAME [PARTITIONS]]: sample every 0.5 s how many records of TOPIC
# (of PARTITIONS only, e.g. "0,3,7", when given) are applied or dead-lettered, as
# "epoch_ms count" lines ("epoch_ms" alone while PostgreSQL does not answer) in the log of
# the background process NAME (default progress), until the test ends.
watch_progress() {
    local only=
    [[ -n ${3:-} ]] && only=" AND partition IN ($3)"
    # shellcheck disable=SC2016 # the inner shell's variables
    start_bg "${2:-progress}" bash -c '
        while :; do
            c=$(PGCONNECT_TIMEOUT=2 psql -X -Atq -c "SELECT
                    (SELECT count(*) FROM applied_events WHERE topic = '\''$1'\''$2)
                  + (SELECT count(*) FROM dead_letters WHERE topic = '\''$1'\''$2)" 2>/dev/null) || c=
            echo "$(date +%s%3N) $c"
            sleep 0.5
        done' watch "$1" "$only"
}

# stuck_after FAULT_MS [NAME [SETTLE_MS]]: seconds (one decimal) from FAULT_MS until the
# progress sampled by NAME (default progress) grew past what it was SETTLE_MS (default 0)
# after FAULT_MS (or at its first sample, when it started later); "none" when it did not
# grow (yet). A settle time ignores a commit already on its way when the fault came.
stuck_after() {
    awk -v f="$1" -v s="${3:-0}" '
        NF < 2 { next }
        $1 <= f + s || !have { base = $2; have = 1; next }
        $2 > base { printf "%.1f\n", ($1 - f) / 1000; found = 1; exit }
        END { if (!found) print "none" }' "$(bg_log "${2:-progress}")"
}

# wait_progress_after FAULT_MS SECONDS [NAME [SETTLE_MS]]: wait until the progress grew
# after FAULT_MS; prints stuck_after's answer.
wait_progress_after() {
    local deadline=$((SECONDS + $2)) s
    while ((SECONDS < deadline)); do
        s=$(stuck_after "$1" "${3:-}" "${4:-}")
        [[ $s == none ]] || break
        sleep 0.5
    done
    s=$(stuck_after "$1" "${3:-}" "${4:-}")
    [[ $s != none ]] || fail "no progress within $2 s after the fault"
    echo "$s"
}

# resumed_after TOPIC FAULT_MS: seconds (one decimal) from FAULT_MS until the first
# transaction that began after it applied an event of TOPIC (applied_events.applied_at is
# the transaction's start), "none" while there is none. Unlike the sampled progress, a
# commit that was already on its way when the fault came does not count.
resumed_after() {
    local ms
    ms=$(q "SELECT coalesce(floor(extract(epoch FROM min(applied_at)) * 1000)::bigint - $2, -1)
            FROM applied_events WHERE topic = '$1' AND applied_at > to_timestamp($2 / 1000.0)" \
        2>/dev/null) || ms=-1
    if ((ms < 0)); then echo none; else awk -v m="$ms" 'BEGIN {printf "%.1f\n", m / 1000}'; fi
}

# all_resumed_after TOPIC FAULT_MS: once drained, seconds from FAULT_MS until the last
# partition of TOPIC to go on did (each partition's first transaction begun after the
# fault; partitions with nothing left at the fault do not count).
all_resumed_after() {
    q "SELECT coalesce(round(((max(first) - $2) / 1000.0)::numeric, 1), 0) FROM (
           SELECT extract(epoch FROM min(applied_at)) * 1000 AS first
           FROM applied_events WHERE topic = '$1' AND applied_at > to_timestamp($2 / 1000.0)
           GROUP BY partition) x"
}

# wait_resumed TOPIC FAULT_MS SECONDS: wait until resumed_after has an answer and print it.
wait_resumed() {
    local deadline=$((SECONDS + $3)) s
    while s=$(resumed_after "$1" "$2") && [[ $s == none ]]; do
        ((SECONDS < deadline)) || fail "nothing of $1 applied within $3 s after the fault"
        sleep 0.3
    done
    echo "$s"
}

# longest_stall [NAME]: the longest time (seconds, one decimal) the sampled progress stood still
# between its first growth and reaching its final count (a poison that held the consumer
# up shows here).
longest_stall() {
    awk '
        NF < 2 { next }
        { t[n] = $1; c[n] = $2; n++ }
        END {
            final = c[n - 1]; last = -1; worst = 0
            for (i = 1; i < n; i++) {
                if (c[i] <= c[i - 1]) continue
                if (last >= 0 && t[i] - last > worst) worst = t[i] - last
                last = t[i]
                if (c[i] >= final) break
            }
            printf "%.1f\n", worst / 1000
        }' "$(bg_log "${1:-progress}")"
}

# --- exactly once -------------------------------------------------------------------------

CHECK_EVENTS='' CHECK_LOST='' CHECK_DUPLICATED='' CHECK_DEAD='' CHECK_PROBLEMS=() CHECK_ORACLES=0

# check_exactly_once TOPIC GROUP [ROSTER_CSV SKIP_FILE]...: read every (partition, offset)
# of TOPIC with kcat and compare with PostgreSQL:
#  - lost: a record neither in applied_events (topic, partition, kafka_offset) nor in
#    dead_letters (group, topic, partition, kafka_offset);
#  - duplicated: a record applied (outcome APPLIED) and dead-lettered too, or named by two
#    applied_events rows; plus every coverage the oracle does not predict;
#  - a dead_letters row without its copy on TOPIC.dlq (headers dlq.partition, dlq.offset),
#    an applied_events REJECTED row without its dead letter, or a row of either table at
#    an offset the topic does not hold, are problems too.
# With ROSTER_CSV SKIP_FILE pairs: the coverages of each file's workers must equal
# tests/integration/roster_oracle.py's for the file without the lines SKIP_FILE lists
# ("line N: why", the events that were dead-lettered); that catches an event applied
# twice or a worker's events applied out of order. Sets CHECK_EVENTS, CHECK_LOST,
# CHECK_DUPLICATED, CHECK_DEAD and CHECK_PROBLEMS; finish_case reports and asserts.
check_exactly_once() {
    local topic=$1 group=$2 dir=$TEST_TMP/check row extra missing
    shift 2
    mkdir -p "$dir"
    CHECK_PROBLEMS=() CHECK_ORACLES=0
    kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -e -q -f '%p\t%o\n' >"$dir/offsets.tsv" ||
        fail "kcat could not read $topic"
    kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic.dlq" -e -q -f '%h\n' 2>/dev/null |
        awk -v t="$topic" '
            { topic = ""; p = ""; o = ""
              n = split($0, kv, ",")
              for (i = 1; i <= n; i++) {
                  if (kv[i] ~ /^dlq\.topic=/) topic = substr(kv[i], 11)
                  if (kv[i] ~ /^dlq\.partition=/) p = substr(kv[i], 15)
                  if (kv[i] ~ /^dlq\.offset=/) o = substr(kv[i], 12)
              }
              if (topic == t && p != "" && o != "") print p "\t" o }' | sort -u >"$dir/dlq.tsv"
    row=$(psql -X -Atq -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE rec (partition int, kafka_offset bigint);
\copy rec FROM '$dir/offsets.tsv'
CREATE TEMP TABLE dlq (partition int, kafka_offset bigint);
\copy dlq FROM '$dir/dlq.tsv'
-- Hash joins whatever the statistics: a case's rows of applied_events are often not yet
-- analysed, and a NOT EXISTS run as a nested loop over 300,000 records took over 9 minutes.
SET enable_nestloop = off;
ANALYZE rec;
ANALYZE dlq;
CREATE TEMP VIEW a AS SELECT * FROM applied_events WHERE topic = '$topic';
CREATE TEMP VIEW d AS SELECT * FROM dead_letters WHERE topic = '$topic' AND group_id = '$group';
SELECT (SELECT count(*) FROM rec),
       (SELECT count(*) FROM rec r WHERE NOT EXISTS (SELECT 1 FROM a WHERE (a.partition, a.kafka_offset) = (r.partition, r.kafka_offset))
                                      AND NOT EXISTS (SELECT 1 FROM d WHERE (d.partition, d.kafka_offset) = (r.partition, r.kafka_offset))),
       (SELECT count(*) FROM a JOIN d USING (partition, kafka_offset) WHERE a.outcome = 'APPLIED')
     + (SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) n FROM a GROUP BY partition, kafka_offset) x),
       (SELECT count(*) FROM d),
       (SELECT count(*) FROM d WHERE NOT EXISTS (SELECT 1 FROM dlq q WHERE (q.partition, q.kafka_offset) = (d.partition, d.kafka_offset))),
       (SELECT count(*) FROM a WHERE a.outcome = 'REJECTED' AND NOT EXISTS (SELECT 1 FROM d WHERE (d.partition, d.kafka_offset) = (a.partition, a.kafka_offset))),
       (SELECT count(*) FROM a WHERE NOT EXISTS (SELECT 1 FROM rec r WHERE (r.partition, r.kafka_offset) = (a.partition, a.kafka_offset)))
     + (SELECT count(*) FROM d WHERE NOT EXISTS (SELECT 1 FROM rec r WHERE (r.partition, r.kafka_offset) = (d.partition, d.kafka_offset)));
SQL
    ) || fail "check_exactly_once: the comparison in PostgreSQL failed"
    IFS='|' read -r CHECK_EVENTS CHECK_LOST CHECK_DUPLICATED CHECK_DEAD missing rejected extra <<<"$row"
    echo "check: $topic: records=$CHECK_EVENTS lost=$CHECK_LOST duplicated=$CHECK_DUPLICATED" \
        "dead_lettered=$CHECK_DEAD dead_letters_not_on_dlq=$missing rejected_not_dead_lettered=$rejected" \
        "rows_at_no_record=$extra"
    ((missing == 0)) || CHECK_PROBLEMS+=("$missing dead letters of $topic are not on $topic.dlq")
    ((rejected == 0)) || CHECK_PROBLEMS+=("$rejected events rejected by a rule were not dead-lettered")
    ((extra == 0)) || CHECK_PROBLEMS+=("$extra applied_events/dead_letters rows name an offset $topic does not hold")
    ((CHECK_LOST == 0)) || CHECK_PROBLEMS+=("$CHECK_LOST records of $topic neither applied nor dead-lettered")
    ((CHECK_DUPLICATED == 0)) || CHECK_PROBLEMS+=("$CHECK_DUPLICATED records of $topic applied twice")
    while (($# >= 2)); do
        check_oracle "$1" "$2"
        shift 2
    done
}

# check_oracle ROSTER_CSV SKIP_FILE: the coverages of the file's workers against the oracle
# (see check_exactly_once); surplus rows count as duplicated, missing ones as problems.
check_oracle() {
    local csv=$1 skip=$2 base
    base=$TEST_TMP/check/$(basename "$csv" .csv)
    CHECK_ORACLES=$((CHECK_ORACLES + 1))
    python3 "$REPO/tests/integration/roster_oracle.py" "$csv" "$skip" | LC_ALL=C sort >"$base.expected"
    awk -F, 'NR > 1 { print $2 }' "$csv" | sort -u >"$base.niks"
    coverage_rows "$base.niks" >"$base.actual"
    LC_ALL=C comm -13 "$base.expected" "$base.actual" >"$base.surplus"
    LC_ALL=C comm -23 "$base.expected" "$base.actual" >"$base.missing"
    echo "check: oracle $(basename "$csv"): expected=$(wc -l <"$base.expected")" \
        "actual=$(wc -l <"$base.actual") surplus=$(wc -l <"$base.surplus")" \
        "missing=$(wc -l <"$base.missing") (skipped $(grep -c '^line ' "$skip" || true) lines)"
    if [[ -s $base.surplus ]]; then
        CHECK_DUPLICATED=$((CHECK_DUPLICATED + $(wc -l <"$base.surplus")))
        CHECK_PROBLEMS+=("coverages the oracle does not predict ($(basename "$csv")): $(head -n 3 "$base.surplus" | paste -sd';' -)")
    fi
    [[ ! -s $base.missing ]] ||
        CHECK_PROBLEMS+=("coverages missing against the oracle ($(basename "$csv")): $(head -n 3 "$base.missing" | paste -sd';' -)")
}

# finish_case STUCK_S: print the case's matrix line (also appended to
# $VAR_DIR/faults-matrix.txt for run.sh) and fail when check_exactly_once found a problem.
finish_case() {
    local line p
    line="matrix: case=$CASE_NAME events=$CHECK_EVENTS lost=$CHECK_LOST duplicated=$CHECK_DUPLICATED stuck_s=$1 dead_lettered=$CHECK_DEAD"
    echo "$line"
    echo "$line" >>"$MATRIX"
    for p in "${CHECK_PROBLEMS[@]}"; do echo "FAIL: $TEST_NAME: $p" >&2; done
    ((${#CHECK_PROBLEMS[@]} == 0)) || exit 1
    echo "ok: every record of the case applied once or dead-lettered$( ((CHECK_ORACLES == 0)) ||
        echo "; coverages as the oracle says")"
}

# --- poisons ------------------------------------------------------------------------------

# poison LABEL poison-args...: publish one crafted record with $POISON (the "other Kafka
# client", tests/faults/tools/poison.c) and append "label=LABEL partition=P offset=O ..."
# to $TEST_TMP/poisons.txt.
poison() {
    local label=$1 out
    shift
    # As a data center with the right to write the case's topic would (its credentials).
    out=$("$POISON" --config "$COVERAGE_CONFIG_DIR/dc-sulsel.conf" "$@" 2>"$TEST_TMP/poison.err") ||
        fail "poison $label: $(tail -n 3 "$TEST_TMP/poison.err")"
    echo "label=$label $out" >>"$TEST_TMP/poisons.txt"
}

# poison_outcomes TOPIC GROUP: one line per poison of $TEST_TMP/poisons.txt, "LABEL
# dead-lettered CLASS SQLSTATE MESSAGE", "LABEL applied" or "LABEL lost", into
# $TEST_TMP/outcomes.txt (and on stdout).
poison_outcomes() {
    local label p o dead
    : >"$TEST_TMP/outcomes.txt"
    while read -r label p o _; do
        label=${label#label=} p=${p#partition=} o=${o#offset=}
        dead=$(q "SELECT error_class || ' ' || coalesce(sqlstate, '-') || ' '
                         || regexp_replace(error_message, '\s+', ' ', 'g')
                  FROM dead_letters WHERE group_id = '$2' AND topic = '$1'
                  AND partition = $p AND kafka_offset = $o")
        if [[ -n $dead ]]; then
            echo "$label dead-lettered $dead"
        elif [[ -n $(q "SELECT 1 FROM applied_events WHERE topic = '$1' AND partition = $p
                        AND kafka_offset = $o AND outcome = 'APPLIED'") ]]; then
            echo "$label applied"
        else
            echo "$label lost"
        fi
    done <"$TEST_TMP/poisons.txt" | tee "$TEST_TMP/outcomes.txt"
}

# outcome_of LABEL: the outcome line of one poison (after poison_outcomes).
outcome_of() { awk -v l="$1" '$1 == l' "$TEST_TMP/outcomes.txt"; }

# led_by TOPIC NODE: the partitions of TOPIC that NODE leads, comma-separated.
led_by() { "$STACK" describe "$1" | awk -v n="$2" '$3 == n {print $2}' | paste -sd, -; }

# --- a partition leader killed -9 (test_30, test_31) ----------------------------------------

# kill_leader TOPIC PARTITION: kill -9 the node that leads TOPIC/PARTITION, sampling the
# progress of the partitions it led (watch_progress NAME led), and wait until another node
# leads that partition. Sets VICTIM (the node), LED (its partitions, "0,3,7") and FAULT
# (epoch ms of the kill).
kill_leader() {
    local topic=$1 part=$2
    VICTIM=$(leader_of "$topic" "$part")
    assert_match "leader of $topic/$part" '^[123]$' "$VICTIM"
    LED=$(led_by "$topic" "$VICTIM")
    echo "killing node $VICTIM, leader of partitions $LED (active controller: node $(controller_of))"
    FAULT=$(now_ms)
    watch_progress "$topic" led "$LED"
    kill_node "$VICTIM"
    wait_until 60 has_leader_other_than "$topic" "$part" "$VICTIM" ||
        fail "no new leader for $topic/$part"
    echo "node $LEADER leads $topic/$part after $(secs_since "$FAULT")s"
}

# finish_leader_kill TOPIC GROUP ROSTER_CSV: after kill_leader, once the consumer started
# as `consumer` has applied all of TOPIC: report how long the killed node's partitions
# stood still at most, start the node again and wait for every ISR to be full, check that
# each record of ROSTER_CSV was applied exactly once with no dead letter, stop the consumer
# and finish the case.
finish_leader_kill() {
    local topic=$1 group=$2 csv=$3 stuck restart
    wait_settled "$topic" "$group" 300 consumer
    stuck=$(longest_stall led)
    echo "the partitions node $VICTIM led stood still for ${stuck}s at most"
    # The group coordinator may have been on the killed node too: then the consumer's group
    # session times out and it joins again (all partitions revoked and assigned).
    echo "rebalances in the consumer: $(grep -c 'partitions revoked' "$(bg_log consumer)" || true)"
    restart=$(now_ms)
    start_node "$VICTIM"
    wait_until 180 all_isr_full || fail "partitions without a full ISR after restarting node $VICTIM"
    echo "node $VICTIM back with every ISR full after $(secs_since "$restart")s"
    : >"$csv.skip"
    check_exactly_once "$topic" "$group" "$csv" "$csv.skip"
    assert_eq "dead letters" 0 "$CHECK_DEAD"
    stop_consumer consumer
    finish_case "$stuck"
}

# start_producer NAME TOPIC FILE CHUNK PAUSE_S [options...]: roster-producer in the
# background reading FILE from a pipe that passes CHUNK rows, then pauses PAUSE_S seconds,
# so that it publishes for a known while (fault tests kill things meanwhile); its exit
# status is stop_bg's.
start_producer() {
    local name=$1 topic=$2 file=$3 chunk=$4 pause=$5
    shift 5
    # shellcheck disable=SC2016 # the inner shell's variables
    start_bg "$name" bash -c '
        file=$1 chunk=$2 pause=$3
        shift 3
        { head -n 1 "$file"; tail -n +2 "$file" | split -l "$chunk" --filter="cat; sleep $pause"; } |
            "$@" -' producer "$file" "$chunk" "$pause" \
        "$BIN/roster-producer" --source dc-sulsel --topic "$topic" --progress never "$@"
}

# wait_bg NAME SECONDS: wait for a background process to end by itself; returns its exit
# status (fails the test when it is still running after SECONDS).
wait_bg() {
    local pid=${LIB_BG_PIDS[$1]:-} rc=0
    [[ -n $pid ]] || fail "wait_bg: no process named '$1'"
    wait_until "$2" eval "! alive $pid" || fail "$1 still running after $2 s"
    wait "$pid" 2>/dev/null || rc=$?
    unset 'LIB_BG_PIDS[$1]'
    return "$rc"
}
