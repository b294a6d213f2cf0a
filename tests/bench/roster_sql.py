#!/usr/bin/env python3
"""roster_sql: the roster consumer's batch SQL, read from consumers/roster/roster_apply.c, so a
benchmark replays exactly what the consumer runs.

  roster_sql.py create     the staging table's CREATE statement
  roster_sql.py merge      the statements of one round (merge_round[]), in order, one per
                           line, with $1 (round) and $2 (topic) left as they are

A statement is the concatenation of the adjacent C string literals between two commas of
the array; comments are skipped. Exit status 1 when the file no longer has that shape."""
import os
import re
import sys

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "..", "..", "consumers", "roster", "roster_apply.c")
LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"|(,)')


def literals(body):
    """Statements of a C initializer: adjacent literals joined, split at commas."""
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    out, cur = [], []
    for m in LITERAL.finditer(body):
        if m.group(2):
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(bytes(m.group(1), "utf-8").decode("unicode_escape"))
    if cur:
        out.append("".join(cur))
    return out


def block(src, start, end):
    i = src.find(start)
    if i < 0:
        sys.exit("roster_sql: '%s' not found in %s" % (start, SOURCE))
    j = src.find(end, i)
    return src[i + len(start):j]


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("create", "merge"):
        sys.exit(__doc__.split("\n\n")[1])
    src = open(SOURCE, encoding="utf-8").read()
    if sys.argv[1] == "create":
        stmts = literals(block(src, "static const char create_staging[] =", ";\n"))
    else:
        stmts = literals(block(src, "static const char *const merge_round[] = {", "\n};"))
    if not stmts or any("\n" in s for s in stmts):
        sys.exit("roster_sql: unexpected shape of %s" % SOURCE)
    for s in stmts:
        print(s)


if __name__ == "__main__":
    main()
