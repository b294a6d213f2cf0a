#!/usr/bin/env python3
"""invoices.py: decode the billing.invoices topic as kcat prints it with -f '%k\\t%S\\n%s\\n'
(stdin) and print every record in topic order, one JSON object a line (dates ISO 8601,
timestamps as microseconds), with the Kafka key as "_key" and the writer schema id as
"_schema_id". Fields are decoded generically from the writer schema of the Confluent
header's schema id (writer_schemas.py: the registry, or the catalog), independently of
common/codec.
Exit 1 when a record does not decode, has trailing bytes or its key is not its agreement_id."""
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
        v = read(r, kind, named)
        if t.get("logicalType") == "date":
            v = (EPOCH + datetime.timedelta(days=v)).isoformat()
        return v
    if kind == "enum":
        named[t["name"]] = t
        return t["symbols"][r.long()]
    raise ValueError("unsupported type %r" % (t,))


def decode(value, schemas):
    if len(value) < 5 or value[0] != 0:
        raise ValueError("not a Confluent-framed value")
    sid = int.from_bytes(value[1:5], "big")
    r, named, rec = Reader(value[5:]), {}, {"_schema_id": sid}
    for f in schemas[sid]["fields"]:
        rec[f["name"]] = read(r, f["type"], named)
    if r.pos != len(value) - 5:
        raise ValueError("%d trailing bytes" % (len(value) - 5 - r.pos))
    return rec


def main():
    schemas = WriterSchemas("Invoice")
    data = sys.stdin.buffer.read()
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        key, size = data[pos:nl].decode().split("\t")
        size = int(size)
        value = data[nl + 1:nl + 1 + size]
        pos = nl + 1 + size + 1
        rec = decode(value, schemas)
        if rec["agreement_id"] != key:
            sys.exit("key %s carries agreement %s" % (key, rec["agreement_id"]))
        rec["_key"] = key
        print(json.dumps(rec, sort_keys=True))


if __name__ == "__main__":
    main()
