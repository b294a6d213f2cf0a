#!/usr/bin/env python3
"""roster_oracle: the coverages a roster CSV must produce, computed independently of the
consumer (plain Python over the file), for the integration tests to compare exactly.

usage: roster_oracle.py roster.csv skip_lines.txt
skip_lines.txt holds "line N: ..." rows (the generator's invalid rows, which the producer
rejects). Prints one line per coverage, '|'-separated and sorted:
nik|program|institution|role|region_code|tps|agreement_id|monthly_wage|valid_from|valid_to|status
"""
import csv
import re
import sys


def main():
    path, skip_path = sys.argv[1], sys.argv[2]
    skip = set()
    with open(skip_path) as f:
        for line in f:
            m = re.match(r"line (\d+):", line)
            if m:
                skip.add(int(m.group(1)))
    coverages = {}  # nik -> list of dicts
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            lineno = reader.line_num
            if lineno in skip:
                continue
            nik, change = row["nik"], row["change"]
            if change == "ENROLL":
                for prog in (row.get("programs") or "JKK;JKM").split(";"):
                    coverages.setdefault(nik, []).append({
                        "program": prog, "institution": row["institution"],
                        "role": row["role"], "region_code": row["region_code"].replace(".", ""),
                        "tps": row.get("tps") or "", "agreement_id": row["agreement_id"],
                        "monthly_wage": row["monthly_wage"], "valid_from": row["term_start"],
                        "valid_to": row["term_end"], "status": "ACTIVE"})
            elif change == "UPDATE":
                eff = row["effective_date"]
                for c in coverages.get(nik, []):
                    if c["status"] == "ACTIVE" and c["valid_from"] <= eff <= c["valid_to"]:
                        if row.get("monthly_wage"):
                            c["monthly_wage"] = row["monthly_wage"]
                        if row.get("term_end"):
                            c["valid_to"] = row["term_end"]
            elif change == "TERMINATE":
                eff = row["effective_date"]
                for c in coverages.get(nik, []):
                    if c["status"] == "ACTIVE" and c["valid_to"] >= eff:
                        if c["valid_from"] > eff:
                            c["status"] = "CANCELLED"
                        else:
                            c["valid_to"], c["status"] = eff, "TERMINATED"
    out = []
    for nik, rows in coverages.items():
        for c in rows:
            out.append("|".join([nik, c["program"], c["institution"], c["role"], c["region_code"],
                                 c["tps"], c["agreement_id"], c["monthly_wage"], c["valid_from"],
                                 c["valid_to"], c["status"]]))
    for line in sorted(out):
        print(line)


if __name__ == "__main__":
    main()
