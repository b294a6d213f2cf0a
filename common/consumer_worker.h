/* consumer_worker: an apply worker of the consumer (common/consumer.h), and the state the
 * poll thread and the workers share. For consumer.c only.
 *
 * A worker owns a thread, a PostgreSQL connection, a dead-letter sink and two batch slots.
 * A slot goes FREE -> FILLING (the poll thread adds messages and prepares it) -> READY (the
 * worker's inbox) -> APPLYING (the worker) -> FREE. The worker applies a slot in one or more
 * transactions (consumer.h says how failures are handled); after each COMMIT it advances
 * the shared expected offsets and commits them to Kafka. Fenced, it sets the shared rewind
 * flag and drops the rest of the slot. */
#ifndef CONSUMER_WORKER_H
#define CONSUMER_WORKER_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "consumer_batch.h"
#include "consumer_rejects.h"
#include "tpmap.h"

/* A partition whose stored offset could not be read: the fence refuses it until read. */
#define CONSUMER_OFFSET_UNKNOWN INT64_C(-2)

/* What the poll thread and the workers share; lock guards tps (the map, and its entries'
 * expected offsets), stats and rewind. */
typedef struct consumer_shared {
    char *topic, *group;
    consumer_handler handler;
    rd_kafka_t *rk;                 /* the Kafka consumer, for commits (thread-safe) */
    pthread_mutex_t lock;
    pthread_cond_t changed;         /* a worker finished a slot */
    tpmap *tps;                     /* per topic partition; entries' expected under lock */
    int rewind;                     /* a worker was fenced: rewind to stored offsets */
    volatile sig_atomic_t stop;     /* finish the open batches and leave */
    consumer_stats stats;
    int64_t not_ready_since_us;     /* 0 when ready */
    int retrying;                   /* workers retrying a transient failure */
    char retry_reason[160];         /* the last one's error */
    consumer_batch_fn on_batch;     /* after each COMMIT, under hook_lock */
    void *on_batch_opaque;
    consumer_commit_fn on_commit;   /* likewise */
    void *on_commit_opaque;
    pthread_mutex_t hook_lock;
    int64_t backoff_max_ms;
} consumer_shared;

typedef enum { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_APPLYING } consumer_slot_state;

typedef struct consumer_slot {
    consumer_slot_state state;
    /* The messages' keys and values, copied (so librdkafka frees its fetch buffers at once);
     * msgs[i].key and .value point into bytes once consumer_slot_seal ran. */
    char *bytes;
    size_t used, size;
    struct consumer_slot_ref {
        size_t off;                 /* of the key; the value follows it */
        unsigned char has_key, has_value;
    } *refs;
    consumer_msg *msgs;
    int count, cap;
    int64_t deadline_ms;            /* monotonic: hand it off by then */
    void *ctx;                      /* the service's context of this slot */
    consumer_rejects rej;           /* from prepare */
    int prepared;                   /* prepare ran on exactly these messages */
} consumer_slot;

typedef struct consumer_worker consumer_worker;

/* A worker for shared state sh (borrowed; must outlive it), with batch slots of cap
 * messages and the service's contexts, connected to PostgreSQL by cfg's options. Starts its
 * thread. NULL + errstr. */
consumer_worker *consumer_worker_new(const config *cfg, consumer_shared *sh, int id, int cap,
                                     char *errstr, size_t errstr_size);
/* Stop the thread (after its current slot) and free everything; accepts NULL. */
void consumer_worker_destroy(consumer_worker *w);

/* The slot the poll thread may fill (FILLING or FREE, then made FILLING), or NULL when both
 * are taken. Poll thread only. */
consumer_slot *consumer_worker_filling(consumer_worker *w);
/* Hand the FILLING slot to the worker (READY). 0, or -1 when the inbox is taken. */
int consumer_worker_submit(consumer_worker *w, consumer_slot *s);
/* The message count of the worker's FILLING slot (0 when it has none). */
int consumer_worker_filled(consumer_worker *w);
/* 1 when the worker has nothing READY or APPLYING. */
int consumer_worker_idle(consumer_worker *w);
/* Give up: drop a READY slot and abort the APPLYING one at its next retry (set abort) or
 * clear the abort flag; the FILLING slot is the caller's to clear. */
void consumer_worker_abort(consumer_worker *w, int abort);
/* Wait until idle or timeout_ms passed; 1 when idle. */
int consumer_worker_wait_idle(consumer_worker *w, int timeout_ms);

/* Copy message m of topic (an interned name, tpmap.h) into FILLING slot s. 0, or -1 when
 * out of memory. */
int consumer_slot_add(consumer_slot *s, const rd_kafka_message_t *m, const char *topic);
/* Turn the offsets of s's messages into pointers (before prepare and apply). */
void consumer_slot_seal(consumer_slot *s);
/* Empty a slot, back to FREE. */
void consumer_slot_clear(consumer_slot *s);

/* Record readiness in sh's stats, accounting the time not ready (caller holds sh->lock). */
void consumer_shared_not_ready(consumer_shared *sh, const char *reason);
void consumer_shared_ready(consumer_shared *sh);

#endif
