#!/usr/bin/env python3
"""premium_cases.py CASES RULES: the rows of tests/unit/data/premium_cases.tsv whose rules
column is RULES ("deployed" or a file name), priced by PostgreSQL's premium_term_months
(deploy/sql/012) through psql with the PG* variables, compared with what the file expects
(the amounts common/premiums.c gives in test_premiums). An ERROR row must come out as "cannot
be priced" (a month owed without a rule or rate), or as no month at all for a backwards
term. Prints ok/FAIL per row and exits 1 when any row differs."""
import subprocess
import sys


def rows(path, rules):
    header = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            row = dict(zip(header, cells))
            row["line"] = lineno
            if row["rules"] == rules:
                yield row


def sql_literal(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    path, rules = sys.argv[1], sys.argv[2]
    cases = list(rows(path, rules))
    if not cases:
        sys.exit("no cases with rules %s in %s" % (rules, path))
    values = []
    for c in cases:
        start, end = c["term"].split("..")
        risk = "0" if c["risk"] == "-" else c["risk"]
        values.append("(%s, %s, %s, %s, %s::bigint, %s::date, %s::date)" % (
            sql_literal(c["name"]), sql_literal(c["scheme"]), risk, sql_literal(c["programs"]),
            c["wage"], sql_literal(start), sql_literal(end)))
    query = """
SELECT c.name, count(DISTINCT m.service_month) FILTER (WHERE m.owed),
       coalesce(sum(m.amount_idr) FILTER (WHERE p.program = 'JKK'), 0),
       coalesce(sum(m.amount_idr) FILTER (WHERE p.program = 'JKM'), 0),
       coalesce(sum(m.amount_idr) FILTER (WHERE p.program = 'JHT'), 0),
       coalesce(sum(m.amount_idr), 0),
       coalesce(bool_or(m.owed IS NULL OR (m.owed AND m.amount_idr IS NULL)), false),
       count(m.service_month)
FROM (VALUES %s) c (name, scheme, risk, programs, wage, t_from, t_to)
CROSS JOIN LATERAL unnest(string_to_array(c.programs, ';')) p (program)
LEFT JOIN LATERAL premium_term_months(c.scheme, c.risk, p.program, c.wage, c.t_from, c.t_to) m ON true
GROUP BY c.name""" % ",\n  ".join(values)
    out = subprocess.run(["psql", "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", query],
                         check=True, capture_output=True, text=True).stdout
    got = {}
    for line in out.splitlines():
        name, months, jkk, jkm, jht, total, unpriced, n = line.split("\t")
        got[name] = (int(months), int(jkk), int(jkm), int(jht), int(total), unpriced == "t", int(n))
    failed = 0
    for c in cases:
        g = got.get(c["name"])
        if c["months"] == "ERROR":
            ok = g is not None and (g[5] or g[6] == 0)
            want = "cannot be priced (%s)" % c["total"]
            shown = "unpriced" if g and g[5] else "no months" if g and g[6] == 0 else str(g)
        else:
            want = tuple(int(c[k]) for k in ("months", "jkk", "jkm", "jht", "total"))
            ok = g is not None and not g[5] and g[:5] == want
            shown = str(g[:5]) + (" unpriced" if g and g[5] else "") if g else "nothing"
        print("%s line %d %s: SQL %s, expected %s" % ("ok" if ok else "FAIL", c["line"], c["name"],
                                                      shown, want))
        failed += not ok
    print("premium cases (%s): %d compared, %d differ" % (rules, len(cases), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
