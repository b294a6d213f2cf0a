#!/usr/bin/env python3
"""scenarios.py: the incident routing scenario table (tests/unit/data/incident_scenarios.tsv)
turned into pipeline input and checked against the rows the consumers wrote. Used by
test_35_scenarios.sh; every command works in DIR (the test's scratch directory).

  scenarios.py prepare TSV DIR     write agreements.csv, data_centers.csv, roster.csv,
                                   incidents.csv, niks.txt and plan.json
  scenarios.py coverage DIR        compare the coverages of the scenario NIKs with the
                                   table's coverage specs (after the roster consumer)
  scenarios.py determine DIR BIN   apply the table's determinations with BIN/claims
  scenarios.py check DIR PRODLOG   compare incidents, claims and dead letters with the
                                   table's expectations; PRODLOG is incident-producer's
                                   stderr (rows it refused are reported as such)

Each scenario row gets its own worker: NIK = province, regency and kecamatan of the row's
region, birth date DDMMYY, serial 8000 + the row's line number. The worker is a KPPS member
(PPK when the region is a kecamatan) enrolled per coverage term of the row; a TERMINATED
term is enrolled ten days longer and terminated on its end date, a CANCELLED term is
terminated the day before it starts. A recorded death (deceased_on) is a DEATH incident
published before the row's own incident. Database access goes through psql with the PG*
variables of the test stack. Exit status: 0 all compared rows agree, 1 otherwise.
"""
import datetime as dt
import json
import os
import re
import subprocess
import sys

DATA_CENTER = "dc-itest"
REPORT_PREFIX = "SCN-"
SERIAL_BASE = 8000

WIB = {11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 61, 62}
WITA = {51, 52, 53, 63, 64, 65, 71, 72, 73, 74, 75, 76}
WIT = {81, 82, 91, 92, 93, 94, 95, 96}

ROSTER_COLUMNS = ["change", "nik", "full_name", "birth_date", "gender", "institution", "role",
                  "region_code", "tps", "term_start", "term_end", "monthly_wage", "programs",
                  "agreement_id", "effective_date"]
INCIDENT_COLUMNS = ["report_id", "nik", "type", "occurred_at", "reported_at", "region_code",
                    "circumstance", "cause", "severity", "description", "reporter_institution",
                    "reporter_name", "reporter_phone"]


def utc_offset(province):
    """Offset of the province's zone as "+HH:00", or None for an unknown province."""
    for zone, hours in ((WIB, 7), (WITA, 8), (WIT, 9)):
        if province in zone:
            return "+%02d:00" % hours
    return None


def valid_region(code):
    """The domain.md rules a Kemendagri code must follow (enough for this table)."""
    if not re.fullmatch(r"[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{4})?)?)?", code):
        return False
    if utc_offset(int(code[:2])) is None:
        return False
    if len(code) >= 4 and not (1 <= int(code[2:4]) <= 69 or 71 <= int(code[2:4]) <= 99):
        return False
    return True


def parse_time(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def local_date(ts, province):
    off = utc_offset(province)
    tz = dt.timezone(dt.timedelta(hours=int(off[1:3])))
    return parse_time(ts).astimezone(tz).date()


def parse_coverage(spec):
    """'-' -> None, 'NONE' -> [], else a list of terms (programs, from, to, status, wage);
    a LAPSED status carries its lapse date (LAPSED@YYYY-MM-DD)."""
    if spec == "-":
        return None
    if spec == "NONE":
        return []
    terms = []
    for part in spec.split("|"):
        progs, period, status, wage = part.split(":")
        start, end = period.split("..")
        terms.append({"programs": progs.split(","), "from": start, "to": end,
                      "status": status, "wage": int(wage)})
    return terms


def read_table(path):
    """The scenario rows with their line numbers, as dicts keyed by the header's names."""
    header, rows = None, []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if header is None:
                header = cells
                continue
            if len(cells) != len(header):
                sys.exit("%s:%d: %d columns, the header has %d" % (path, lineno, len(cells), len(header)))
            row = dict(zip(header, cells))
            row["line"] = lineno
            rows.append(row)
    return rows


def csv_cell(v):
    if v is None or v == "-":
        return ""
    v = str(v)
    if any(c in v for c in ',"\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def write_csv(path, columns, records):
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(columns) + "\n")
        for r in records:
            f.write(",".join(csv_cell(r.get(c)) for c in columns) + "\n")


def mask(nik):
    return nik[:4] + "*" * 8 + nik[12:]


# ---- prepare ----

def worker_for(row):
    """The roster region (a valid one: the row's own unless the row tests an invalid code),
    role, tps, NIK and birth date of the row's worker."""
    region = row["region_code"]
    if not valid_region(region):
        region = region[:2] + "71011001"
    line = row["line"]
    birth = dt.date(1970 + line % 30, 1 + line % 12, 1 + line % 28)
    kec = region[4:6] if len(region) >= 6 else "01"
    nik = "%s%s%s%02d%02d%02d%04d" % (region[:2], region[2:4], kec, birth.day, birth.month,
                                       birth.year % 100, SERIAL_BASE + line)
    if len(region) == 10:
        role, tps = "KPPS", 1 + line % 20
    elif len(region) == 6:
        role, tps = "PPK", None
    else:
        sys.exit("line %d: region %s is neither a desa nor a kecamatan" % (line, region))
    return {"nik": nik, "birth": birth.isoformat(), "region": region, "role": role, "tps": tps}


def roster_records(row, w):
    """ENROLL (and TERMINATE) rows producing the row's coverage spec. Terms that end TERMINATED
    or CANCELLED come first: a TERMINATE ends every active term of the worker, so the terms
    that stay ACTIVE are enrolled after it."""
    terms = parse_coverage(row["coverage"])
    if not terms:
        return []
    base = {"nik": w["nik"], "full_name": "Skenario %d" % row["line"], "birth_date": w["birth"],
            "gender": "L", "institution": "KPU", "role": w["role"], "region_code": w["region"],
            "tps": w["tps"], "agreement_id": "PKS-ITEST-" + w["region"][:2]}
    out = []
    for t in sorted(terms, key=lambda t: t["status"] == "ACTIVE"):
        end = dt.date.fromisoformat(t["to"])
        if t["status"] == "TERMINATED":
            end += dt.timedelta(days=10)
        out.append(dict(base, change="ENROLL", term_start=t["from"], term_end=end.isoformat(),
                        monthly_wage=t["wage"], programs=";".join(t["programs"])))
        if t["status"] == "TERMINATED":
            out.append({"change": "TERMINATE", "nik": w["nik"], "effective_date": t["to"]})
        elif t["status"] == "CANCELLED":
            day_before = dt.date.fromisoformat(t["from"]) - dt.timedelta(days=1)
            out.append({"change": "TERMINATE", "nik": w["nik"], "effective_date": day_before.isoformat()})
        elif t["status"] != "ACTIVE":
            sys.exit("line %d: unknown coverage status %s" % (row["line"], t["status"]))
    return out


def incident_record(row, nik, report_id, reporter="KPU"):
    return {"report_id": report_id, "nik": nik, "type": row["type"], "occurred_at": row["occurred_at"],
            "reported_at": row["reported_at"], "region_code": row["region_code"],
            "circumstance": row["circumstance"], "cause": row["cause"], "severity": row["severity"],
            "description": "scenario %s" % row["name"], "reporter_institution": reporter,
            "reporter_name": "itest 35"}


def prior_death(row, w):
    """The report that records the row's deceased_on: the same death reported by another body
    when the row itself is a DEATH on that day, else a death at noon local time that day."""
    if row["deceased_on"] == "-":
        return None
    rid = "%s%d-D" % (REPORT_PREFIX, row["line"])
    province = int(row["region_code"][:2])
    if row["type"] == "DEATH" and local_date(row["occurred_at"], province).isoformat() == row["deceased_on"]:
        return incident_record(row, w["nik"], rid, reporter="BAWASLU")
    noon = "%sT12:00:00%s" % (row["deceased_on"], utc_offset(province))
    return {"report_id": rid, "nik": w["nik"], "type": "DEATH", "occurred_at": noon,
            "reported_at": noon.replace("T12:", "T13:"), "region_code": w["region"],
            "circumstance": "OFF_DUTY", "cause": "ILLNESS", "description": "recorded death",
            "reporter_institution": "FAMILY", "reporter_name": "itest 35"}


def cmd_prepare(tsv, d):
    rows = read_table(tsv)
    roster, incidents, plan = [], [], []
    provinces = set()
    for row in rows:
        entry = {k: row[k] for k in row}
        if row["coverage"] == "NONE":
            entry["skip"] = ("coverage NONE: a worker row without coverage rows cannot be made"
                             " through the roster pipeline (every ENROLL creates coverages)")
            plan.append(entry)
            continue
        if "LAPSED" in row["coverage"]:
            entry["skip"] = ("coverage LAPSED: a lapse comes from unpaid invoices, not from the"
                             " roster (test_84_lapse.sh runs one end to end)")
            plan.append(entry)
            continue
        w = worker_for(row)
        entry.update(nik=w["nik"], report_id="%s%d" % (REPORT_PREFIX, row["line"]))
        provinces.add(w["region"][:2])
        roster.extend(roster_records(row, w))
        prior = prior_death(row, w)
        if prior:
            incidents.append(prior)
            entry["prior_report_id"] = prior["report_id"]
            entry["prior_linked"] = prior["type"] == row["type"] and prior["occurred_at"] == row["occurred_at"]
        incidents.append(incident_record(row, w["nik"], entry["report_id"]))
        entry["csv_line"] = len(incidents) + 1
        plan.append(entry)
    # Prior deaths come before the scenario incidents of their NIK (same partition, in order).
    agreements = [{"agreement_id": "PKS-ITEST-" + p, "name": "Integration test 35 province " + p,
                   "institution": "KPU", "counterparty": "KPU Provinsi " + p,
                   "bpjs_branch": "BPJS Ketenagakerjaan test", "region_scope": p,
                   "programs": "JKK;JKM;JHT", "period_start": "2010-01-01",
                   "period_end": "2035-12-31", "funding_source": "APBD"} for p in sorted(provinces)]
    write_csv(os.path.join(d, "agreements.csv"),
              ["agreement_id", "name", "institution", "counterparty", "bpjs_branch", "region_scope",
               "programs", "period_start", "period_end", "funding_source"], agreements)
    write_csv(os.path.join(d, "data_centers.csv"), ["source", "name", "provinces"],
              [{"source": DATA_CENTER, "name": "Integration test 35",
                "provinces": ";".join(sorted(provinces))}])
    write_csv(os.path.join(d, "roster.csv"), ROSTER_COLUMNS, roster)
    write_csv(os.path.join(d, "incidents.csv"), INCIDENT_COLUMNS, incidents)
    with open(os.path.join(d, "niks.txt"), "w") as f:
        f.writelines(e["nik"] + "\n" for e in plan if "nik" in e)
    with open(os.path.join(d, "plan.json"), "w") as f:
        json.dump(plan, f, indent=1)
    print("prepared %d scenarios: %d roster rows, %d incident reports, provinces %s"
          % (len(plan), len(roster), len(incidents), ",".join(sorted(provinces))))


# ---- database ----

def query(sql):
    """Rows of sql as lists of strings (NULL -> None)."""
    out = subprocess.run(["psql", "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-P", "null=\\N",
                          "-F", "\x1f", "-c", sql], check=True, capture_output=True, text=True).stdout
    return [[None if v == "\\N" else v for v in line.split("\x1f")]
            for line in out.splitlines()]


def load_plan(d):
    with open(os.path.join(d, "plan.json")) as f:
        return json.load(f)


def nik_list(plan):
    return ",".join("'%s'" % e["nik"] for e in plan if "nik" in e)


# ---- coverage ----

def cmd_coverage(d):
    """Deaths close coverages: a worker already dead (by the incidents of an earlier run on
    kept data, ITEST_KEEP_DATA=1) is left out."""
    plan = load_plan(d)
    dead = set(r[0] for r in query("SELECT nik FROM workers WHERE deceased_on IS NOT NULL"
                                   " AND nik IN (%s)" % nik_list(plan)))
    if dead:
        print("coverages: %d workers left out, dead since an earlier run" % len(dead))
    plan = [e for e in plan if e.get("nik") not in dead]
    want = set()
    for e in plan:
        if "nik" not in e:
            continue  # a skipped row has no worker
        for t in parse_coverage(e["coverage"]) or []:
            for p in t["programs"]:
                want.add((e["nik"], p, t["from"], t["to"], t["status"], str(t["wage"])))
    got = set(tuple(r) for r in query(
        "SELECT nik, program, valid_from, valid_to, status, monthly_wage FROM coverages"
        " WHERE nik IN (%s)" % nik_list(plan)))
    for r in sorted(want - got):
        print("FAIL coverage missing: %s" % "|".join(r))
    for r in sorted(got - want):
        print("FAIL coverage unexpected: %s" % "|".join(r))
    if want != got:
        return 1
    print("ok coverages: %d rows as the coverage specs say" % len(got))
    return 0


# ---- determinations ----

def claim_of(report_id, nik):
    rows = query("SELECT c.claim_id FROM incident_reports r JOIN claims c USING (incident_id)"
                 " WHERE r.report_id = '%s' AND c.nik = '%s'" % (report_id, nik))
    return rows[0][0] if rows else None


def cmd_determine(d, bindir):
    plan = load_plan(d)
    rc = 0
    for e in plan:
        if "nik" not in e or e["determination"] == "-":
            continue
        claim = claim_of(e["report_id"], e["nik"])
        if claim and query("SELECT 1 FROM claim_transitions WHERE claim_id = '%s'"
                           " AND kind = 'DETERMINATION'" % claim):
            continue  # determined by an earlier run (ITEST_KEEP_DATA=1)
        if not claim:
            print("FAIL %d %s: no claim to determine" % (e["line"], e["name"]))
            rc = 1
            continue
        work = "yes" if e["determination"] == "WORK" else "no"
        r = subprocess.run([os.path.join(bindir, "claims"), "--actor", "itest-35", "determine",
                            claim, "--work-related", work], capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL %d %s: claims determine --work-related %s: exit %d: %s"
                  % (e["line"], e["name"], work, r.returncode, r.stderr.strip()))
            rc = 1
    return rc


# ---- check ----

def producer_refusals(path):
    """incidents.csv line -> the producer's messages for it."""
    refused = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^incidents\.csv:(\d+):\d+: (.*)$", line.strip())
            if m and not m.group(2).startswith("warning:"):
                refused.setdefault(int(m.group(1)), []).append(m.group(2))
    return refused


INCIDENT_SQL = """
SELECT r.report_id, i.nik, i.outcome, i.outcome_reason, i.late_report,
       (SELECT count(*) FROM incident_reports r2 WHERE r2.incident_id = i.incident_id),
       c.program, c.benefit, c.status, coalesce(c.amount_idr, -1), c.late_report,
       c.assessment_required, c.benefit_table_version, c.rejection_reason,
       (SELECT string_agg(document, ',' ORDER BY document) FROM claim_documents d
        WHERE d.claim_id = c.claim_id),
       (SELECT t.reason FROM claim_transitions t WHERE t.claim_id = c.claim_id
        AND t.kind = 'DETERMINATION' ORDER BY t.transition_id DESC LIMIT 1)
FROM incident_reports r JOIN incidents i USING (incident_id)
LEFT JOIN claims c USING (incident_id)
WHERE r.report_id LIKE '%s%%' AND i.nik IN (%s)
"""
FIELDS = ["report_id", "nik", "outcome", "reason", "late", "reports", "program", "benefit",
          "status", "amount", "claim_late", "assess", "version", "rejection", "documents",
          "determination_reason"]


def compare(e, got):
    """Differences between row e's expectation and the incident (and claim) found."""
    diffs = []
    late = "late" in e["flags"].split(",")

    def eq(what, want, have):
        if want != have:
            diffs.append("%s %s, got %s" % (what, want, have))

    if got["nik"] != e["nik"]:
        diffs.append("incident of NIK %s, got %s" % (e["nik"], got["nik"]))
    determined = e["determination"] != "-"
    claim = got["benefit"] is not None
    if determined:
        # The incident keeps the first decision (a JKK death claim); the claim shows the
        # determination.
        eq("incident outcome", "CLAIM", got["outcome"])
        if not claim:
            return diffs + ["a claim, got none"]
        reason = got["determination_reason"] or ""
        if e["outcome"] == "REJECTED":
            eq("claim status", "REJECTED", got["status"])
            reason = got["rejection"] or reason
    else:
        eq("outcome", e["outcome"], got["outcome"])
        reason = got["reason"] or ""
        if e["outcome"] != "CLAIM" and claim:
            diffs.append("no claim, got %s %s" % (got["benefit"], got["status"]))
    if e["reason"] not in reason:
        diffs.append("reason containing '%s', got '%s'" % (e["reason"], reason))
    eq("late_report", "t" if late else "f", got["late"])
    if e["outcome"] == "CLAIM":
        if not claim:
            return diffs + ["a %s claim, got none" % e["benefit"]]
        eq("benefit", e["benefit"], got["benefit"])
        eq("program", "JKM" if e["benefit"] == "JKM" else "JKK", got["program"])
        eq("status", e["status"], got["status"])
        eq("amount_idr", e["amount_idr"], got["amount"])
        eq("claim late_report", "t" if late else "f", got["claim_late"])
        eq("assessment_required", "t" if "assess" in e["flags"].split(",") else "f", got["assess"])
        eq("benefit_table_version", e["table_version"], got["version"])
        docs = set((got["documents"] or "").split(","))
        for doc in e["documents"].split(","):
            if doc == "-":
                continue
            if doc.startswith("!") and doc[1:] in docs:
                diffs.append("no document %s, got it" % doc[1:])
            elif not doc.startswith("!") and doc not in docs:
                diffs.append("document %s, got %s" % (doc, got["documents"]))
    elif e["outcome"] == "REJECTED" and determined:
        eq("claim late_report", "t" if late else "f", got["claim_late"])
    if e.get("prior_linked"):
        eq("reports of the death (the recorded one and this one)", "2", got["reports"])
    return diffs


def cmd_check(d, prodlog):
    plan = load_plan(d)
    refused = producer_refusals(prodlog)
    niks = nik_list(plan)
    incidents = {r[0]: dict(zip(FIELDS, r)) for r in query(INCIDENT_SQL % (REPORT_PREFIX, niks))}
    dead = {}
    for nik_masked, cls, msg in query(
            "SELECT nik_masked, error_class, error_message FROM dead_letters"
            " WHERE group_id = 'incident-consumer' AND topic IN ('incidents', 'incidents.%s')"
            % DATA_CENTER +
            " AND nik_masked IN (%s)" % ",".join("'%s'" % mask(e["nik"]) for e in plan if "nik" in e)):
        dead.setdefault(nik_masked, []).append("%s: %s" % (cls, msg))
    ran = failed = 0
    skipped = []
    for e in plan:
        tag = "%d %s" % (e["line"], e["name"])
        if "skip" in e:
            skipped.append((tag, e["skip"]))
            print("skip %s: %s" % (tag, e["skip"]))
            continue
        if e.get("prior_report_id") and e["prior_report_id"] not in incidents:
            print("FAIL %s: the death recording deceased_on (%s) has no incident"
                  % (tag, e["prior_report_id"]))
            failed += 1
            ran += 1
            continue
        if e["csv_line"] in refused:
            msg = "; ".join(refused[e["csv_line"]])
            if e["outcome"] == "ERROR":
                why = "input error refused by incident-producer (%s); expected '%s'" % (msg, e["reason"])
                skipped.append((tag, why))
                print("skip %s: %s" % (tag, why))
            else:
                ran += 1
                failed += 1
                print("FAIL %s: expected %s, got refused by incident-producer: %s" % (tag, e["outcome"], msg))
            continue
        ran += 1
        if e["outcome"] == "ERROR":
            letters = dead.get(mask(e["nik"]), [])
            diffs = []
            if not any(e["reason"] in m for m in letters):
                diffs.append("a dead letter containing '%s', got %s" % (e["reason"], letters or "none"))
            if e["report_id"] in incidents:
                diffs.append("no incident, got %s" % incidents[e["report_id"]]["outcome"])
        elif e["report_id"] not in incidents:
            diffs = ["%s, got no incident (dead letters: %s)" % (e["outcome"], dead.get(mask(e["nik"]), "none"))]
        else:
            diffs = compare(e, incidents[e["report_id"]])
        if diffs:
            failed += 1
            print("FAIL %s: expected %s" % (tag, "; expected ".join(diffs)))
        else:
            print("ok %s" % tag)
    print("scenarios: %d rows, %d ran end to end (%d ok, %d failed), %d skipped"
          % (len(plan), ran, ran - failed, failed, len(skipped)))
    for tag, why in skipped:
        print("  skipped %s: %s" % (tag, why))
    with open(os.path.join(d, "counts"), "w") as f:
        f.write("%d %d %d\n" % (ran, failed, len(skipped)))
    return 1 if failed else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "prepare":
        return cmd_prepare(argv[2], argv[3]) or 0
    if len(argv) == 3 and argv[1] == "coverage":
        return cmd_coverage(argv[2])
    if len(argv) == 4 and argv[1] == "determine":
        return cmd_determine(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "check":
        return cmd_check(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
