/* consumer_batch: what a service of the consumer (consumer.h) sees of a batch, and what the
 * poll thread and the apply workers pass along with it: a batch and its messages, the
 * service's handler (prepare and apply), the counters, what one COMMIT did and the hooks
 * that receive them, and the monotonic clock that bounds batches and waits. The rejects a
 * handler fills are consumer_rejects.h's. Services include consumer.h, which brings both.
 *
 * Types and a clock: no state of its own. consumer_mono_ms from any thread. */
#ifndef CONSUMER_BATCH_H
#define CONSUMER_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

typedef struct consumer_msg {
    const char *topic;          /* the topic it was read from (one of a pattern's) */
    int32_t partition;
    int64_t offset;
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    int64_t timestamp_ms;
} consumer_msg;

/* A batch in Kafka order per topic partition; its messages may come from several topics
 * (a subscription by pattern). Valid during the prepare and apply calls only. */
typedef struct consumer_batch {
    const char *topic;          /* the subscription: a topic, or a pattern starting with ^ */
    const char *group;
    const consumer_msg *msgs;
    int count;
} consumer_batch;

/* What the service decided to reject (by message index in the batch): consumer_rejects.h. */
typedef struct consumer_rejects consumer_rejects;

/* The service's part. Each context belongs to one batch slot: the consumer makes two per
 * apply worker and never uses one context on two threads at once. */
typedef struct consumer_handler {
    /* A context for one slot; NULL + errstr on failure. */
    void *(*ctx_new)(void *opaque, char *errstr, size_t errstr_size);
    void (*ctx_destroy)(void *ctx);
    /* Optional: decode, validate and format the batch, without the database (rejects for
     * "decode" and "validation" go here). 0, or -1 + errstr (retried as transient). */
    int (*prepare)(void *ctx, const consumer_batch *b, consumer_rejects *rej, char *errstr,
                   size_t errstr_size);
    /* Apply the prepared batch inside the open transaction; must not COMMIT. 0, or -1 +
     * errstr, the failure of a pg_* call being classified by its SQLSTATE. */
    int (*apply)(void *ctx, PGconn *pg, const consumer_batch *b, consumer_rejects *rej,
                 char *errstr, size_t errstr_size);
    void *opaque; /* for ctx_new */
} consumer_handler;

enum { CONSUMER_CLASS_MAX = 8 };

/* Counters, for logs and metrics exporters. */
typedef struct consumer_stats {
    uint64_t batches, messages, applied, rejected, fenced, retries, bisects, rebalances;
    uint64_t pauses;            /* a worker's partitions paused while both its slots were
                                 * taken; librdkafka fetches again what it held for them */
    uint64_t dlq_truncated;
    struct {
        char name[16];
        uint64_t count;
    } rejected_by_class[CONSUMER_CLASS_MAX]; /* by error class, first seen first */
    int64_t last_batch_us;      /* wall time of the last applied batch */
    int64_t last_txn_us;        /* its PostgreSQL transaction */
    int64_t txn_us_sum;         /* the committed batches' transactions (BEGIN..COMMIT), summed:
                                 * against the apply connections' time, how busy they were */
    int64_t commit_us_sum;      /* of that, their COMMITs (the WAL flush) */
    int64_t lag;                /* sum over assigned partitions, -1 unknown */
    int ready;                  /* 0 while retrying a transient failure, or not assigned */
    int64_t not_ready_us;       /* time spent not ready in total */
    char not_ready_reason[160];
} consumer_stats;

/* Called after each committed batch with a copy of the counters: from a worker thread,
 * one call at a time. */
typedef void (*consumer_batch_fn)(void *opaque, const consumer_stats *stats);

/* One applied event (consumer_applied). */
typedef struct consumer_applied_event {
    const char *source;         /* the publishing data center */
    int64_t event_time_us;
} consumer_applied_event;

/* What one committed transaction did; valid during the hook call only. */
typedef struct consumer_commit {
    int messages;               /* records it stored the offsets of */
    int rejected;               /* of those, dead-lettered */
    int64_t batch_us;           /* the attempt's wall time: prepare when redone, BEGIN..COMMIT */
    int64_t txn_us;             /* BEGIN..COMMIT */
    int64_t committed_us;       /* wall clock after COMMIT, microseconds since the epoch */
    const consumer_applied_event *applied; /* the service's consumer_applied calls, in order */
    int napplied;
} consumer_commit;

/* Called after each COMMIT with what it did: from a worker thread, one call at a time. */
typedef void (*consumer_commit_fn)(void *opaque, const consumer_commit *commit);

/* Monotonic milliseconds. Any thread. */
int64_t consumer_mono_ms(void);

#endif
