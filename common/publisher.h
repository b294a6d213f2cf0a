/* publisher: one Kafka topic producer for the producers' programs: idempotent, acks=all,
 * batched and compressed by default; every "kafka.*" config entry passes through to
 * librdkafka and overrides a default. Counts messages sent (queued), delivered and failed.
 * A publisher is used by one thread (its delivery reports run inside its own calls). */
#ifndef PUBLISHER_H
#define PUBLISHER_H

#include <stddef.h>

#include "config.h"

typedef struct publisher publisher;

typedef struct publisher_counts {
    long sent;       /* queued with publisher_send */
    long delivered;  /* acknowledged by the brokers */
    long failed;     /* reported as failed by a delivery report */
} publisher_counts;

/* A producer for topic with cfg's "bootstrap" (bootstrap.servers, when set), its
 * "delivery.timeout.ms" (message.timeout.ms, unless kafka.message.timeout.ms is set) and
 * kafka.* entries (cfg is only read during this call). NULL with errstr filled on a bad property
 * or when librdkafka cannot start. Free with publisher_destroy. */
publisher *publisher_new(const config *cfg, const char *topic, char *errstr, size_t errstr_size);

/* Queue one message (key and value are copied): publisher_send_many of one. Waits while
 * the local queue is full, serving delivery reports meanwhile. Returns 0, or -1 with
 * errstr filled. */
int publisher_send(publisher *p, const void *key, size_t keylen, const void *value, size_t len,
                   char *errstr, size_t errstr_size);

/* One message for publisher_send_many: key and value are copied when it is queued. */
typedef struct publisher_msg {
    const void *key;
    size_t keylen;
    const void *value;
    size_t len;
} publisher_msg;

/* Queue n messages in their order, as n publisher_send calls would, at less cost a message
 * (librdkafka reads the clock and takes the topic's lock once for up to
 * PUBLISHER_BATCH of them). Waits while the local queue is full. Returns 0, or -1 with
 * errstr filled and *failed set to the index of the first message that could not be
 * queued: those before it were, and those after it that librdkafka took on their own (a
 * message it refuses alone, e.g. one above kafka.message.max.bytes, does not stop it). */
#define PUBLISHER_BATCH 512
int publisher_send_many(publisher *p, const publisher_msg *msgs, int n, int *failed, char *errstr,
                        size_t errstr_size);

/* Serve delivery reports for up to timeout_ms (0: only those ready) and return the number of
 * messages still waiting for one. */
int publisher_flush(publisher *p, int timeout_ms);

/* Why Kafka refused this producer, "" while it did not: the first authentication failure
 * (credentials wrong or missing, TLS) or authorization failure (the principal may not write
 * the topic), as a sentence naming the topic. Waiting does not cure a refusal: a caller
 * stops flushing and reports it. Owned by p. */
const char *publisher_refusal(const publisher *p);

/* The counts so far. */
publisher_counts publisher_counts_get(const publisher *p);

/* The topic name (owned by p). */
const char *publisher_topic(const publisher *p);

/* Destroy without waiting for delivery (flush first). Accepts NULL. */
void publisher_destroy(publisher *p);

#endif
