/* consumer: the batch-consumer loop shared by the services.
 *
 * poll -> batch (bounded by count and time) -> one PostgreSQL transaction that fences and
 * stores each partition's next offset, applies the batch through the service's apply
 * function, records dead letters -> dead letters produced and flushed -> COMMIT -> offsets
 * committed to Kafka too (so standard tools see the group's progress).
 *
 * On assignment a partition resumes from the offset stored in PostgreSQL. A consumer that
 * lost a partition cannot write it: the stored offset must still be the one it last saw. */
#ifndef CONSUMER_H
#define CONSUMER_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "config.h"

typedef struct consumer consumer;

typedef struct consumer_msg {
    int32_t partition;
    int64_t offset;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    int64_t timestamp_ms;
} consumer_msg;

/* A batch in Kafka order per partition. Valid during the apply call only. */
typedef struct consumer_batch {
    const char *topic;
    const char *group;
    const consumer_msg *msgs;
    int count;
} consumer_batch;

/* What the service's apply function decided to reject (by message index). */
typedef struct consumer_rejects consumer_rejects;

/* Reject batch message idx: it goes to the dead-letter topic with these headers and into
 * the dead_letters table. error_class is a short word (decode, validation, rule). */
void consumer_reject(consumer_rejects *rej, int idx, const char *error_class,
                     const char *event_id, const char *nik, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Apply a batch inside the open transaction. Return 0, or -1 + errstr to roll back (the
 * batch is retried). Must not COMMIT. Called on the consumer's thread. */
typedef int (*consumer_apply_fn)(void *opaque, PGconn *pg, const consumer_batch *batch,
                                 consumer_rejects *rej, char *errstr, size_t errstr_size);

/* Counters after each batch, for metrics exporters. */
typedef struct consumer_stats {
    uint64_t batches, messages, rejected, fenced, retries;
    int64_t last_batch_us;     /* wall time of the last transaction */
    int64_t lag;               /* sum over assigned partitions, -1 unknown */
} consumer_stats;
typedef void (*consumer_metrics_fn)(void *opaque, const consumer_stats *stats);

/* Create a consumer of topic for group. It reads the options of the groups
 * PROGRAM_OPT_KAFKA, _PG and _CONSUMER (common/program.h) and kafka.* from cfg, and takes
 * nothing from cfg after return.
 * NULL + errstr on failure. */
consumer *consumer_new(const config *cfg, const char *group, const char *topic,
                       consumer_apply_fn apply, void *opaque, char *errstr, size_t errstr_size);
void consumer_set_metrics(consumer *c, consumer_metrics_fn fn, void *opaque);
/* Run until consumer_stop() (or a signal handler calling it), drained (exit.when.drained)
 * or a fatal error. Returns 0 or -1 + errstr. */
int consumer_run(consumer *c, char *errstr, size_t errstr_size);
/* Async-signal-safe: ask the loop to finish the open batch and return. */
void consumer_stop(consumer *c);
const consumer_stats *consumer_get_stats(const consumer *c);
/* Close the Kafka consumer (leaving the group) and the database connection. */
void consumer_destroy(consumer *c);

#endif
