"""writer_schemas.py: what the tests' own Avro decoders (coverage_changes.py, invoices.py),
which must not use common/codec, share: Reader, the Avro binary primitives (zig-zag longs,
strings), and WriterSchemas, the writer schemas of one record type by Confluent schema id,
fetched from the schema registry at $SCHEMA_REGISTRY_URL (the stack's) on first sight of an
id, or, without one, read from schemas/<file> of schemas/catalog.tsv (the compiled-in
ids)."""
import json
import os
import urllib.request

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NAMESPACE = "id.bpjs.adhoc"


class WriterSchemas(dict):
    """Writer schemas of the record `name` (e.g. "Invoice") by id."""

    def __init__(self, name):
        super().__init__()
        self.name = name
        self.url = os.environ.get("SCHEMA_REGISTRY_URL", "").rstrip("/")
        if self.url:
            return
        with open(os.path.join(REPO, "schemas", "catalog.tsv")) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                sid, subject, _version, file = line.rstrip("\n").split("\t")
                if subject == "%s.%s" % (NAMESPACE, name):
                    with open(os.path.join(REPO, "schemas", file)) as s:
                        self[int(sid)] = json.load(s)

    def __missing__(self, sid):
        if not self.url:
            raise KeyError("schema id %d is not a %s of the catalog" % (sid, self.name))
        with urllib.request.urlopen("%s/schemas/ids/%d" % (self.url, sid), timeout=30) as r:
            schema = json.loads(json.load(r)["schema"])
        if schema.get("name") != self.name:
            raise KeyError("schema id %d is a %s, not a %s" % (sid, schema.get("name"), self.name))
        self[sid] = schema
        return schema


class Reader:
    """Avro binary primitives over one value's body."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def long(self):
        shift = value = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return (value >> 1) ^ -(value & 1)

    def string(self):
        n = self.long()
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s
