#!/usr/bin/env python3
"""invoices.py: decode the billing.invoices topic as kcat prints it with -f '%k\\t%S\\n%s\\n'
(stdin) and print every record in topic order, one JSON object a line (dates ISO 8601,
timestamps as microseconds), with the Kafka key as "_key" and the writer schema id as
"_schema_id". Fields are decoded generically from the writer schema of the Confluent
header's schema id (avro_decode.py: the registry, or the catalog), independently of
common/codec.
Exit 1 when a record does not decode, has trailing bytes or its key is not its agreement_id."""
import json
import sys

from avro_decode import WriterSchemas, decode



def main():
    schemas = WriterSchemas("Invoice")
    data = sys.stdin.buffer.read()
    n = 1
    pos = 0
    while pos < len(data):
        nl = data.index(b"\n", pos)
        key, size = data[pos:nl].decode().split("\t")
        size = int(size)
        value = data[nl + 1:nl + 1 + size]
        pos = nl + 1 + size + 1
        try:
            rec = decode(value, schemas, dates=True)
        except (ValueError, KeyError) as e:
            sys.exit("%s: record %d of stdin (key %s): %s" % (sys.argv[0], n, key, e))
        n += 1
        if rec["agreement_id"] != key:
            sys.exit("key %s carries agreement %s" % (key, rec["agreement_id"]))
        rec["_key"] = key
        print(json.dumps(rec, sort_keys=True))


if __name__ == "__main__":
    main()
