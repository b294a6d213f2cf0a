#!/usr/bin/env bash
# apply_alternatives.sh: what two rewrites of the roster consumer's rules would save, measured
# on the tables a drain has just filled, against the consumer's way of today.
#
# Each is measured on batches of fresh events (new event ids, as in a first load) whose
# agreements, institutions, regions, terms, programs and data centers are drawn from the
# drained coverages, each batch in a transaction of its own that is rolled back, with the
# consumer's transaction settings (no sequential scans, no JIT) and its staging emptied
# before each batch, as the consumer's is at each commit. The variants run in a shuffled
# order, ALT_ROUNDS times each, each timed from the staged batch to its last statement; the
# median and quartiles of each are kept, less the median of an empty variant (the timing's
# own round trips), per event:
#   probe+insert  today: each event's applied_events row looked up by index (the duplicates
#                 rule), then the rows inserted (the events' record);
#   on_conflict   one INSERT ... ON CONFLICT DO NOTHING RETURNING, and the events it did not
#                 insert found by an anti-join. An upper bound on what the rewrite saves: the
#                 rewrite would also look up those events' outcomes (a REPLAYING one is decided
#                 again) and mark the rejected ones' records afterwards (rare in a load);
#   ref_probes    today: each event's agreement looked up by index, and the agreement's and
#                 data center's rules evaluated, as the rules query does (a CASE in a
#                 MATERIALIZED CTE over the round's staged rows); PostgreSQL may already hash
#                 the data-center check (a hashed SubPlan: the plan is kept in
#                 apply_alternatives.plan and reported);
#   ref_hashed    the same rules with both tables read once per batch and hash-joined.
# The two reference variants must pass the same events in every batch (their count and the
# sum of their seq), and more than none.
# Prints "<variant> <median> <first quartile> <third quartile>" lines (us per event),
# "checked <batches> <events passed>", "sampled <events a batch>" and "dc_hashed yes|no".
# Exit 2 on an error, named on stderr.
#
# Needs the stack's env (PGHOST, PGPORT, PGUSER=coverage: `. var/env`) and a drained roster
# (coverages, agreements, data_center_provinces). Writes apply_alternatives.{sql,out,err,plan} in
# the current directory. The rolled-back inserts leave dead rows in applied_events (2 x
# ALT_ROUNDS batches) for autovacuum. tests/bench/run.sh runs it after the drain, before its
# ceiling empties the tables. Environment (defaults): ALT_BATCH_EVENTS (7000, the roster
# consumer's batch.max.messages), ALT_ROUNDS (15), ALT_TIMEOUT_S (60, per statement).
set -euo pipefail

BATCH=${ALT_BATCH_EVENTS:-7000}
ROUNDS=${ALT_ROUNDS:-15}
TIMEOUT_S=${ALT_TIMEOUT_S:-60}
die() {
    printf 'apply_alternatives: error: %s\n' "$*" >&2
    exit 2
}
trap 'die "line $LINENO failed"' ERR
[[ -n ${PGHOST:-} && -n ${PGPORT:-} ]] || die "no stack env (PGHOST, PGPORT): source var/env first"

stage="INSERT INTO alt_stg SELECT n, 1, gen_random_uuid(), agreement_id, source, institution,
    region_code, term_start, term_end, programs, 'roster.changes', 0, n FROM alt_src;"
# The agreement's and the data center's rules, as the consumer's rules query words them
# (consumers/roster/roster_apply.c): NULL when the event passes.
rules="CASE
    WHEN %NO_DC% THEN 'source_not_authorised'
    WHEN a.agreement_id IS NULL THEN 'unknown_agreement'
    WHEN a.institution NOT IN (s.institution, 'PEMDA') THEN 'agreement_institution'
    WHEN NOT starts_with(s.region_code, a.region_scope) THEN 'outside_agreement_region'
    WHEN s.term_start < a.period_start OR s.term_end > a.period_end THEN 'outside_agreement_period'
    WHEN NOT (s.programs <@ a.programs) THEN 'program_not_in_agreement'
    END"
dc_cond="d.source = s.source AND d.province = left(s.region_code, 2)::smallint"
probes=${rules//%NO_DC%/NOT EXISTS (SELECT 1 FROM data_center_provinces d WHERE $dc_cond)}
hashed=${rules//%NO_DC%/d.source IS NULL}
declare -A variant=(
    [empty]="SELECT 0;"
    [probe+insert]="SELECT count(d.outcome) FROM alt_stg s
        LEFT JOIN LATERAL (SELECT d.outcome FROM applied_events d
         WHERE d.event_id = s.event_id OFFSET 0) d ON true;
    INSERT INTO applied_events (event_id, topic, partition, kafka_offset, outcome)
     SELECT event_id, topic, partition, kafka_offset, 'APPLIED' FROM alt_stg;"
    [on_conflict]="WITH i AS (INSERT INTO applied_events (event_id, topic, partition, kafka_offset,
        outcome) SELECT event_id, topic, partition, kafka_offset, 'APPLIED' FROM alt_stg
        ON CONFLICT (event_id) DO NOTHING RETURNING event_id)
    SELECT count(*) FROM alt_stg s WHERE NOT EXISTS (SELECT 1 FROM i WHERE i.event_id = s.event_id);"
    [ref_probes]="WITH x AS MATERIALIZED (SELECT s.seq, $probes AS reason FROM alt_stg s
        LEFT JOIN LATERAL (SELECT a.agreement_id, a.institution, a.region_scope, a.period_start,
         a.period_end, a.programs FROM agreements a WHERE a.agreement_id = s.agreement_id OFFSET 0) a
         ON true
        WHERE s.round = 1)
    SELECT 'ref', count(*) FILTER (WHERE reason IS NULL), sum(seq) FILTER (WHERE reason IS NULL)
    FROM x;"
    [ref_hashed]="WITH a AS MATERIALIZED (SELECT agreement_id, institution, region_scope, period_start,
         period_end, programs FROM agreements),
        d AS MATERIALIZED (SELECT source, province FROM data_center_provinces),
        x AS MATERIALIZED (SELECT s.seq, $hashed AS reason FROM alt_stg s
         LEFT JOIN a ON a.agreement_id = s.agreement_id LEFT JOIN d ON $dc_cond
         WHERE s.round = 1)
    SELECT 'ref', count(*) FILTER (WHERE reason IS NULL), sum(seq) FILTER (WHERE reason IS NULL)
    FROM x;"
)
names=(empty probe+insert on_conflict ref_probes ref_hashed)

# A batch's worth of the drained roster (every k-th coverage, spread over the table), each
# with a data center serving its province.
psql -X -Atq -v ON_ERROR_STOP=1 -c "SELECT count(*) FROM coverages" >/dev/null 2>apply_alternatives.err ||
    die "psql failed: $(grep -m1 ERROR apply_alternatives.err || tail -n 1 apply_alternatives.err)"
{
    cat <<SQL
\\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SET statement_timeout = '${TIMEOUT_S}s';
CREATE TEMP TABLE alt_src AS
SELECT row_number() OVER () AS n, c.agreement_id, d.source, c.institution, c.region_code,
       c.valid_from AS term_start, c.valid_to AS term_end, ARRAY[c.program] AS programs
FROM (SELECT agreement_id, institution, region_code, valid_from, valid_to, program FROM coverages
      WHERE coverage_id % greatest((SELECT count(*) FROM coverages) / $BATCH, 1) = 0
      LIMIT $BATCH) c
CROSS JOIN LATERAL (SELECT source FROM data_center_provinces
                    WHERE province = left(c.region_code, 2)::smallint LIMIT 1) d;
SELECT 'sampled', count(*) FROM alt_src;
CREATE TEMP TABLE alt_stg (seq bigint, round int, event_id uuid, agreement_id text, source text,
    institution text, region_code text, term_start date, term_end date, programs text[],
    topic text, partition int, kafka_offset bigint);
SET enable_seqscan = off;
SET jit = off;
SQL
    # How today's rules plan the data-center rule: by index per event, or hashed once.
    echo "BEGIN;"
    echo "$stage"
    echo "\\o apply_alternatives.plan"
    echo "EXPLAIN (COSTS OFF, VERBOSE) ${variant[ref_probes]}"
    echo "\\o"
    echo "ROLLBACK;"
    for ((r = 0; r < ROUNDS; r++)); do
        order=$(printf '%s\n' "${names[@]}" | shuf)
        for name in $order; do
            echo "TRUNCATE alt_stg;"
            echo "BEGIN;"
            echo "$stage"
            echo "SELECT clock_timestamp() AS t0 \\gset"
            echo "${variant[$name]}"
            echo "SELECT 'time', '$name', extract(epoch FROM clock_timestamp() - :'t0');"
            echo "ROLLBACK;"
        done
    done
} >apply_alternatives.sql

psql -X -Atq -F ' ' -f apply_alternatives.sql >apply_alternatives.out 2>apply_alternatives.err ||
    die "psql failed: $(grep -m1 ERROR apply_alternatives.err || tail -n 1 apply_alternatives.err)"
sampled=$(awk '$1 == "sampled" { print $2 }' apply_alternatives.out)
[[ ${sampled:-0} -gt 0 ]] || die "no coverages to draw a batch from"
# Each batch gives two "ref" lines, one a variant: the same events passed (their count and
# the sum of their seq) on every line.
refs=$(awk '$1 == "ref" { n[$2 " " $3]++; v = $2; c++ }
    END { k = 0; for (x in n) k++; print (k == 1 && c % 2 == 0 ? c / 2 : 0), v + 0 }' \
    apply_alternatives.out)
read -r checked passed <<<"$refs"
[[ $checked -gt 0 && $passed -gt 0 ]] ||
    die "the reference variants disagree, or pass no event: $(awk '$1 == "ref" { print $2, $3 }' \
        apply_alternatives.out | sort | uniq -c | tr -s ' \n' ' ')"
[[ -s apply_alternatives.plan ]] || die "no plan of today's rules in apply_alternatives.plan"
dc_hashed=no
grep -q 'hashed SubPlan' apply_alternatives.plan && dc_hashed=yes
awk -v n="$sampled" '
    $1 == "time" { t[$2, ++c[$2]] = $3 }
    # The q-quantile (0.25, 0.5, 0.75) of variant v: the nearest rank.
    function quantile(v, q,    k, i, j, x, a) {
        k = c[v]
        for (i = 1; i <= k; i++) a[i] = t[v, i]
        for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
        i = int(q * (k - 1) + 1.5)
        return a[i]
    }
    END {
        base = quantile("empty", 0.5)
        split("probe+insert on_conflict ref_probes ref_hashed", vs, " ")
        for (i = 1; i <= 4; i++)
            printf "%s %.2f %.2f %.2f\n", vs[i], 1e6 * (quantile(vs[i], 0.5) - base) / n,
                1e6 * (quantile(vs[i], 0.25) - base) / n, 1e6 * (quantile(vs[i], 0.75) - base) / n
    }' apply_alternatives.out
echo "checked $checked $passed"
echo "sampled $sampled"
echo "dc_hashed $dc_hashed"
