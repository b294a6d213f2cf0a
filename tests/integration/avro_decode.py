"""avro_decode.py: the tests' own Avro decoder (coverage_changes.py, invoices.py,
test_41_relay_kill.sh), written
apart from common/codec so that it can check it: decode() reads one Confluent-framed value
with its writer schema (WriterSchemas: by schema id, fetched from the schema registry at
$SCHEMA_REGISTRY_URL, the stack's, on first sight of an id, or, without one, read from
schemas/<file> of schemas/catalog.tsv, the compiled-in ids), generically from the schema:
null, booleans, strings, ints and longs, enums, unions and arrays."""
import datetime
import http.client
import json
import os
import time
import urllib.error
import urllib.request

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
NAMESPACE = "id.bpjs.adhoc"
EPOCH = datetime.date(1970, 1, 1)


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
        schema = json.loads(self.fetch("%s/schemas/ids/%d" % (self.url, sid))["schema"])
        if schema.get("name") != self.name:
            raise KeyError("schema id %d is a %s, not a %s" % (sid, schema.get("name"), self.name))
        self[sid] = schema
        return schema

    @staticmethod
    def fetch(url, tries=5):
        """GET url as JSON. The registry may close a connection without answering while
        it is busy (seen once under ASan: RemoteDisconnected); the lookup is idempotent,
        so it is tried again, up to `tries` times, a second apart. An HTTP error status
        is an answer and is raised at once."""
        for attempt in range(tries, 0, -1):
            try:
                with urllib.request.urlopen(url, timeout=30) as r:
                    return json.load(r)
            except urllib.error.HTTPError:
                raise
            except (http.client.HTTPException, ConnectionError, urllib.error.URLError):
                if attempt == 1:
                    raise
                time.sleep(1)


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

    def boolean(self):
        b = self.data[self.pos]
        self.pos += 1
        return b != 0

    def string(self):
        n = self.long()
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s


def read(r, t, named, dates):
    """One value of Avro type t; dates True turns logicalType date into ISO 8601 text."""
    if isinstance(t, str) and t.rsplit(".", 1)[-1] in named:
        t = named[t.rsplit(".", 1)[-1]]  # a named type again, by its name or full name
    if isinstance(t, str):
        return {"null": lambda: None, "boolean": r.boolean, "string": r.string, "int": r.long,
                "long": r.long}[t]()
    if isinstance(t, list):
        return read(r, t[r.long()], named, dates)
    kind = t["type"]
    if kind in ("string", "int", "long"):
        v = read(r, kind, named, dates)
        if dates and t.get("logicalType") == "date":
            v = (EPOCH + datetime.timedelta(days=v)).isoformat()
        return v
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
                items.append(read(r, t["items"], named, dates))
    raise ValueError("unsupported type %r" % (t,))


def define(t, named):
    """Every named type defined in t, by name: a later field may use one that was defined in
    a union branch this value did not take."""
    if isinstance(t, list):
        for b in t:
            define(b, named)
    elif isinstance(t, dict):
        if t.get("type") in ("enum", "record", "fixed"):
            named[t["name"]] = t
        for f in t.get("fields", []):
            define(f["type"], named)
        if "items" in t:
            define(t["items"], named)


def decode(value, schemas, dates=False):
    """A Confluent-framed value as a dict of its fields, with "_schema_id"; ValueError names
    the rule broken and the byte offset in the value."""
    if len(value) < 5 or value[0] != 0:
        raise ValueError("offset 0: not a Confluent-framed value (magic byte 0, 4-byte id)")
    sid = int.from_bytes(value[1:5], "big")
    r, named, rec = Reader(value[5:]), {}, {"_schema_id": sid}
    define(schemas[sid], named)
    for f in schemas[sid]["fields"]:
        try:
            rec[f["name"]] = read(r, f["type"], named, dates)
        except (IndexError, UnicodeDecodeError) as e:
            raise ValueError("offset %d: field %s truncated or not UTF-8 (%s)"
                             % (5 + r.pos, f["name"], e)) from None
    if r.pos != len(value) - 5:
        raise ValueError("offset %d: %d trailing bytes" % (5 + r.pos, len(value) - 5 - r.pos))
    return rec
