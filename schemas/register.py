#!/usr/bin/env python3
"""register.py: register every schema version of catalog.tsv, in order, with a
Confluent-compatible schema registry, under the record-name strategy's subjects.

    python3 schemas/register.py URL                  register (idempotent), print one line each
    python3 schemas/register.py URL --refuse F.avsc  ... then check that the registry refuses
                                                     each F.avsc (under its record's subject)

URL is the Confluent API's base, e.g. http://127.0.0.1:19080/apis/ccompat/v7. Versions of a
subject are registered in catalog order, so the registry checks each against those before it
with its compatibility level (deploy/local/stack.sh sets FULL_TRANSITIVE). The subject of a
schema is its record's full name, and must equal the catalog's subject column.

Exit status: 0 all registered (and all --refuse files refused), 1 otherwise; each failure is
printed as "file: message". Python's standard library only.
"""
import json
import os
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


def catalog(path):
    """The rows of catalog.tsv as (id, subject, version, file), in file order."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            sid, subject, version, name = line.split("\t")
            rows.append((int(sid), subject, int(version), name))
    return rows


def full_name(schema):
    """The record-name strategy's subject: namespace.name of the top-level record."""
    ns, name = schema.get("namespace"), schema["name"]
    return name if "." in name or not ns else ns + "." + name


def post(url, body):
    """POST JSON; (HTTP status, parsed answer)."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": CONTENT_TYPE, "Accept": CONTENT_TYPE})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, {"message": text[:200]}


def register(base, path, subject=None):
    """Register the schema in path; (subject, HTTP status, answer)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    schema = json.loads(text)
    subject = subject or full_name(schema)
    status, answer = post(f"{base}/subjects/{subject}/versions", {"schema": text})
    return subject, status, answer


def main(argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    base = argv[1].rstrip("/")
    refuse = []
    args = argv[2:]
    while args:
        if args[0] == "--refuse" and len(args) >= 2:
            refuse.append(args[1])
            args = args[2:]
        else:
            print(f"register.py: unexpected argument '{args[0]}'", file=sys.stderr)
            return 2
    bad = 0
    for _sid, subject, version, name in catalog(os.path.join(HERE, "catalog.tsv")):
        path = os.path.join(HERE, name)
        with open(path, encoding="utf-8") as f:
            named = full_name(json.load(f))
        if named != subject:
            print(f"{name}: its record is {named}, but catalog.tsv says subject {subject}")
            bad = 1
            continue
        got, status, answer = register(base, path, subject)
        if status == 200 and "id" in answer:
            print(f"registered {name}: subject={got} catalog_version={version} id={answer['id']}")
        else:
            print(f"{name}: subject {got} version {version} refused: HTTP {status}: "
                  f"{answer.get('message', answer)}")
            bad = 1
    for path in refuse:
        got, status, answer = register(base, path)
        if status == 409:
            print(f"refused as it must be {os.path.basename(path)}: subject={got}: "
                  f"{answer.get('message', '')[:160]}")
        else:
            print(f"{path}: the registry did not refuse it (HTTP {status}: {answer})")
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv))
