#!/usr/bin/env python3
"""coverage_changes.py: decode the coverage.changes topic as kcat prints it with
-f '%k\\t%S\\n%s\\n' (stdin) and print the latest record per NIK (the last one read for
the key: one key lives in one partition, read in order), one line each:

  nik|event_id|source|programs (;)|status|valid_from|valid_to|region_code|role|institution

Fields are decoded generically from the writer schema named by the Confluent header's
schema id: fetched from the schema registry at $SCHEMA_REGISTRY_URL (the stack's), or,
without one, schemas/<file> of schemas/catalog.tsv (the compiled-in ids). --all prints
every record in topic order instead. --niks FILE keeps only the NIKs listed in FILE.
--time adds |event_time (microseconds) to each line."""
import datetime
import json
import sys

from avro_decode import WriterSchemas, decode

EPOCH = datetime.date(1970, 1, 1)


def line_of(rec, with_time=False):
    day = lambda d: (EPOCH + datetime.timedelta(days=d)).isoformat()
    fields = [rec["nik"], rec["event_id"], rec.get("source", ""), ";".join(rec["programs"]),
              rec["status"], day(rec["valid_from"]), day(rec["valid_to"]),
              rec["region_code"], rec["role"], rec["institution"]]
    if with_time:
        fields.append(str(rec["event_time"]))
    return "|".join(fields)


def main():
    args = sys.argv[1:]
    every = "--all" in args
    with_time = "--time" in args
    keep = None
    if "--niks" in args:
        with open(args[args.index("--niks") + 1]) as f:
            keep = {l.strip() for l in f if l.strip()}
    schemas = WriterSchemas("CoverageChange")
    data = sys.stdin.buffer.read()
    n = 1
    pos, latest = 0, {}
    while pos < len(data):
        nl = data.index(b"\n", pos)
        key, size = data[pos:nl].decode().split("\t")
        size = int(size)
        value = data[nl + 1:nl + 1 + size]
        pos = nl + 1 + size + 1
        try:
            rec = decode(value, schemas)
        except (ValueError, KeyError) as e:
            sys.exit("%s: record %d of stdin (key %s): %s" % (sys.argv[0], n, key, e))
        n += 1
        if rec["nik"] != key:
            raise ValueError("key %s carries NIK %s" % (key, rec["nik"]))
        if keep is not None and key not in keep:
            continue
        if every:
            print(line_of(rec, with_time))
        latest[key] = rec
    if not every:
        for key in sorted(latest):
            print(line_of(latest[key], with_time))


if __name__ == "__main__":
    main()
