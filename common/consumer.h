/* consumer: the batch-consumer loop shared by the services.
 *
 * The poll thread (the one that calls consumer_run) fetches and groups messages into
 * batches, one stream of batches per apply worker: a topic partition always goes to the
 * same worker (spread by partition number, and by topic among topics), so it is applied in
 * order on one connection. A batch is bounded by count and time (batch.max.messages,
 * batch.max.ms); with batch.idle.handoff a worker with nothing to apply takes its batch as
 * it is when a poll returns nothing, for any partition, rather than wait for the bounds.
 * The poll thread runs the service's prepare step (decode, validate, format: no database)
 * on a worker's next batch while the worker applies the previous one. A worker holding both
 * its batches (one applying, one ready) holds back only its own partitions: they are paused
 * and the other workers' are fetched on; when every worker is full, the poll thread waits
 * for one.
 *
 * A worker applies a batch in one PostgreSQL transaction of its own connection: a look at
 * the fence (below) without locks, the service's apply step, then fence and store the next
 * offset of each partition of the batch (the locks come after the apply step, so that a
 * consumer frozen in the middle of its staging COPY holds none its successor needs), the
 * dead letters (dead_letters rows and <topic>.dlq messages, flushed before COMMIT),
 * COMMIT; then
 * the offsets are committed to Kafka too (so standard tools see the group's progress).
 * A worker that lost a partition cannot write it: the stored offset must still be the one
 * it last saw (the fence). On assignment a partition resumes from the offset stored in
 * PostgreSQL.
 *
 * A failure is classified (pg.h, pg_error_classify):
 *  - data (a value PostgreSQL refuses: SQLSTATE class 22, 23 or 54): the batch is split to
 *    find the record, by prefixes (each prefix that applies is committed, exactly once;
 *    halving the failing one, one by one below a few records); that record alone is
 *    dead-lettered with error class "db" and its SQLSTATE;
 *  - transient (anything else: lost connection, server shutdown, lock or statement
 *    timeout, deadlock, serialization, Kafka transport): retried with capped exponential
 *    backoff and jitter for as long as it takes, never dead-lettered; meanwhile the
 *    consumer reports not ready (consumer_get_stats) and still stops within seconds when
 *    asked (the batch is then left for the next owner);
 *  - fenced: rolled back, and every assigned partition rewound to PostgreSQL's offsets.
 * A dead letter the DLQ topic cannot take whole goes there truncated (header
 * dlq.truncated) and whole into dead_letters, from which covadm can replay it.
 *
 * This header owns the consumer's handle and its life. What a service sees of a batch (its
 * messages, the handler the service fills, the counters and what a COMMIT did, for the
 * hooks) is consumer_batch.h's; how it rejects a record or reports one applied
 * (consumer_reject, consumer_applied) is consumer_rejects.h's. Both come with this header.
 *
 * Threads: consumer_run on one thread; consumer_stop from any thread or a signal handler;
 * consumer_get_stats from any thread. */
#ifndef CONSUMER_H
#define CONSUMER_H

#include <stddef.h>

#include "config.h"
#include "consumer_batch.h"
#include "consumer_rejects.h"

typedef struct consumer consumer;

/* Create a consumer of topic for group. It reads the options of the groups
 * PROGRAM_OPT_KAFKA, _PG and _CONSUMER (common/program.h) and kafka.* from cfg, and takes
 * nothing from cfg after return. handler is copied. NULL + errstr on failure. */
consumer *consumer_new(const config *cfg, const char *group, const char *topic,
                       const consumer_handler *handler, char *errstr, size_t errstr_size);
/* Set the after-batch callback (before consumer_run). */
void consumer_on_batch(consumer *c, consumer_batch_fn fn, void *opaque);
/* Set the after-commit callback (before consumer_run), e.g. for histograms. */
void consumer_on_commit(consumer *c, consumer_commit_fn fn, void *opaque);
/* Run until consumer_stop() (the open batches are finished), drained (exit.when.drained)
 * or a fatal error. Returns 0 or -1 + errstr. */
int consumer_run(consumer *c, char *errstr, size_t errstr_size);
/* Async-signal-safe: ask the loop to finish the open batches and return. */
void consumer_stop(consumer *c);
/* A copy of the counters. */
void consumer_get_stats(consumer *c, consumer_stats *out);
/* Close the Kafka consumer (leaving the group), the workers and the connections. */
void consumer_destroy(consumer *c);

#endif
