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

from writer_schemas import Reader, WriterSchemas

EPOCH = datetime.date(1970, 1, 1)


def read(r, t, named):
    if isinstance(t, str) and t in named:
        t = named[t]
    if isinstance(t, str):
        return {"string": r.string, "int": r.long, "long": r.long}[t]()
    if isinstance(t, list):
        return read(r, t[r.long()], named)
    kind = t["type"]
    if kind in ("string", "int", "long"):
        return read(r, kind, named)
    if kind == "enum":
        named[t["name"]] = t
        return t["symbols"][r.long()]
    if kind == "array":
        items = []
        while True:
            n = r.long()
            if n == 0:
                return items
            if n < 0:
                n = -n
                r.long()
            for _ in range(n):
                items.append(read(r, t["items"], named))
    raise ValueError("unsupported type %r" % (t,))


def decode(value, schemas):
    if len(value) < 5 or value[0] != 0:
        raise ValueError("not a Confluent-framed value")
    sid = int.from_bytes(value[1:5], "big")
    schema = schemas[sid]
    r, named, rec = Reader(value[5:]), {}, {}
    for f in schema["fields"]:
        rec[f["name"]] = read(r, f["type"], named)
    if r.pos != len(value) - 5:
        raise ValueError("%d trailing bytes" % (len(value) - 5 - r.pos))
    return rec


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
    pos, latest = 0, {}
    while pos < len(data):
        nl = data.index(b"\n", pos)
        key, size = data[pos:nl].decode().split("\t")
        size = int(size)
        value = data[nl + 1:nl + 1 + size]
        pos = nl + 1 + size + 1
        rec = decode(value, schemas)
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
