#!/usr/bin/env python3
"""subscriber.py: an analytics subscriber with no code from this project: confluent-kafka's
Consumer, its SchemaRegistryClient pointed at the schema registry, and its AvroDeserializer,
which looks every record's writer schema up by the id in the Confluent header.

    subscriber.py [--config FILE] [--bootstrap HOST:PORT] --registry URL TOPIC...

--config: a librdkafka properties file (key=value lines), e.g. the analytics principal's
var/secrets/analytics.kcat on the secure stack (TLS, SCRAM); --bootstrap overrides its
bootstrap.servers.

Reads each TOPIC from the beginning to its end as of the start (every partition, no
consumer group) and prints one JSON line per record:
  {"topic", "partition", "offset", "key", "schema_id", "value"}
with dates and timestamps in ISO 8601, UUIDs as text. Exit status 1 when a record does not decode."""
import argparse
import datetime
import json
import sys
import uuid

from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(v):
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config")
    ap.add_argument("--bootstrap")
    ap.add_argument("--registry", required=True)
    ap.add_argument("topics", nargs="+")
    args = ap.parse_args()

    # The client waits forever for an answer unless given a timeout (seconds; it then retries).
    deserialize = AvroDeserializer(SchemaRegistryClient({"url": args.registry, "timeout": 30}))
    conf = {}
    if args.config:
        with open(args.config) as f:
            conf = dict(line.rstrip("\n").split("=", 1) for line in f
                        if "=" in line and not line.lstrip().startswith("#"))
    if args.bootstrap:
        conf["bootstrap.servers"] = args.bootstrap
    if "bootstrap.servers" not in conf:
        ap.error("--bootstrap or a --config with bootstrap.servers is required")
    conf.update({"group.id": "analytics-subscriber-py", "enable.auto.commit": False,
                 "enable.partition.eof": True})
    consumer = Consumer(conf)
    todo = []
    for topic in args.topics:
        meta = consumer.list_topics(topic, timeout=30).topics[topic]
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
            if high > low:
                todo.append(TopicPartition(topic, p, OFFSET_BEGINNING))
    consumer.assign(todo)
    left = {(tp.topic, tp.partition) for tp in todo}
    bad = 0
    while left:
        msg = consumer.poll(10)
        if msg is None:
            print("subscriber: no record for 10 s, partitions left: %s" % sorted(left),
                  file=sys.stderr)
            return 1
        if msg.error():
            if msg.error().code() == msg.error()._PARTITION_EOF:
                left.discard((msg.topic(), msg.partition()))
                continue
            print("subscriber: %s" % msg.error(), file=sys.stderr)
            return 1
        try:
            value = deserialize(msg.value(), SerializationContext(msg.topic(), MessageField.VALUE))
        except Exception as e:  # a record that does not decode is this test's failure
            print("subscriber: %s/%d@%d: %s" % (msg.topic(), msg.partition(), msg.offset(), e),
                  file=sys.stderr)
            bad += 1
            continue
        print(json.dumps({"topic": msg.topic(), "partition": msg.partition(),
                          "offset": msg.offset(), "key": msg.key().decode(),
                          "schema_id": int.from_bytes(msg.value()[1:5], "big"),
                          "value": plain(value)}, sort_keys=True))
    consumer.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
