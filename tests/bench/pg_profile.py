#!/usr/bin/env python3
"""PostgreSQL's CPU during a drain by activity, from `perf script -F comm,ip,sym` on stdin
(pg_profile.sh report).

Each sample of a backend (PostgresMain on its stack: the apply connections, and the
other sessions meanwhile, the incident probes' and the bench's sampler's among them) is
counted once, under the first activity of ACTIVITIES whose function is on its call stack
(the order settles nesting: the reference check's index probes count as the trigger, an
INSERT's index entries as index inserts). Only PostgreSQL's exported functions are named
in Debian's binaries (its static ones are not), so the marks are exported ones; a sample
in the executor under none of them counts as the executor's rest (joins, expressions,
sorts), any other as the protocol's and the rest. Samples of postgres processes without
PostgresMain (autovacuum, the checkpointer, the background and WAL writers, and any stack
perf could not unwind) are counted apart.
"""
import collections
import sys

ACTIVITIES = [
    ("PL/pgSQL triggers (mostly the reference check of new coverages, migrations 009/015)",
     {"plpgsql_exec_trigger"}),
    ("COPY into the staging table", {"CopyFrom"}),
    ("planning", {"pg_plan_queries", "GetCachedPlan"}),
    ("index inserts (B-tree descents, page splits, their WAL)", {"ExecInsertIndexTuples"}),
    ("CHECK constraints", {"ExecConstraints"}),
    ("heap inserts (rows, their WAL)", {"heap_insert", "heap_multi_insert"}),
    ("heap updates", {"heap_update"}),
    ("index lookups (the rules' and updates' probes)",
     {"index_getnext_slot", "index_getnext_tid", "btgettuple"}),
    ("sequential scans (the staging table)", {"heap_getnextslot"}),
    ("COMMIT (WAL write and flush)", {"CommitTransactionCommand", "XLogFlush"}),
    ("parse and analyse",
     {"pg_parse_query", "parse_analyze_fixedparams", "pg_analyze_and_rewrite_fixedparams"}),
    ("executor, the rest (joins, expressions, sorts, hashes)", {"standard_ExecutorRun"}),
]


def samples(lines):
    comm, stack = None, []
    for line in lines:
        if not line.strip():
            continue
        if not line[0].isspace():
            if comm is not None:
                yield comm, stack
            comm, stack = line.strip(), []
        else:
            parts = line.split(None, 1)
            stack.append(parts[1].strip() if len(parts) > 1 else "")
    if comm is not None:
        yield comm, stack


def main():
    total = idle = pg = backends = perf = 0
    by = collections.Counter()
    for comm, stack in samples(sys.stdin):
        total += 1
        if comm.startswith("swapper"):
            idle += 1
            continue
        if comm != "postgres":
            perf += comm == "perf"
            continue
        pg += 1
        frames = set(stack)
        if "PostgresMain" not in frames:
            continue  # autovacuum, checkpointer, background and WAL writers
        backends += 1
        for name, marks in ACTIVITIES:
            if frames & marks:
                by[name] += 1
                break
        else:
            by["protocol and the rest"] += 1
    if not backends:
        print("PostgreSQL CPU by activity: not measured (no sample of a PostgreSQL backend)")
        return
    print("PostgreSQL CPU by activity (perf, 199 Hz on every core while the consumer ran: "
          "%d samples, PostgreSQL %.0f%% of them, idle %.0f%%, perf itself %.1f%%;\n"
          "  backends %.0f%% of PostgreSQL's, the rest autovacuum, writers and stacks not unwound):"
          % (total, 100 * pg / total, 100 * idle / total, 100 * perf / total, 100 * backends / pg))
    for name, n in by.most_common():
        print("  %5.1f%%  %s" % (100 * n / backends, name))


if __name__ == "__main__":
    main()
