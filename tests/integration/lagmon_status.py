#!/usr/bin/env python3
"""lagmon_status.py URL GROUP FIELD...: print the fields of one group of the lag monitor's
/status.json (status, worst, lag, lag_seconds, members, state, in_kafka, in_postgresql,
offsets_disagree; "rounds" is the document's), space-separated, null as "-", booleans as
1/0. Exit 1 when the monitor does not answer or does not list the group."""
import json
import sys
import urllib.request


def text(v):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


def main():
    url, group, fields = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        with urllib.request.urlopen(url + "/status.json", timeout=5) as r:
            doc = json.load(r)
    except OSError as e:
        print(f"lagmon_status: {e}", file=sys.stderr)
        return 1
    for g in doc["groups"]:
        if g["group"] == group:
            print(" ".join(text(doc[f] if f == "rounds" else g[f]) for f in fields))
            return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
