/* dead_letter: where a rejected record goes. A row in dead_letters, with the record's key
 * and value bytes (so covadm can replay it) and, for error class "db", the SQLSTATE; and a
 * copy on <topic>.dlq (the topic the record was read from): the record's bytes unchanged, with the headers contracts.md names
 * (dlq.topic, dlq.partition, dlq.offset, dlq.error.class, dlq.error.message, dlq.group,
 * dlq.time, plus dlq.sqlstate). A record the DLQ cannot take whole (too large for the
 * producer or the topic) goes there cut to dlq.truncate.bytes, marked by the headers
 * dlq.truncated=true and dlq.original.size; the row keeps every byte.
 *
 * A sink is one DLQ producer; use one per thread. */
#ifndef DEAD_LETTER_H
#define DEAD_LETTER_H

#include <stddef.h>
#include <libpq-fe.h>

#include "config.h"
#include "consumer_batch.h"

/* One rejected message of a batch. */
typedef struct dead_letter {
    int idx;                /* index in the batch */
    char error_class[16];   /* decode, validation, rule, db, auth */
    char sqlstate[6];       /* "db": the SQLSTATE PostgreSQL answered; else "" */
    char event_id[37];      /* a UUID, or "" when unknown */
    char nik_masked[17];    /* "" when unknown */
    char message[400];      /* well-formed UTF-8 */
} dead_letter;

typedef struct dead_letter_sink dead_letter_sink;

/* A sink for the dead letters of topic read by group: the producer to <topic>.dlq is made
 * from cfg's Kafka options (idempotent, acks=all) and dlq.truncate.bytes. NULL + errstr. */
dead_letter_sink *dead_letter_sink_new(const config *cfg, const char *topic, const char *group,
                                       char *errstr, size_t errstr_size);
void dead_letter_sink_destroy(dead_letter_sink *s);

/* Insert the rows of the n dead letters of batch b inside the open transaction; a row
 * already there (same group, topic, partition, offset) is left as it is. 0, or -1 + errstr
 * (a pg_* failure). */
int dead_letter_record(const dead_letter_sink *s, PGconn *pg, const consumer_batch *b,
                       const dead_letter *items, int n, char *errstr, size_t errstr_size);

/* Produce the n dead letters of batch b to the DLQ and wait for every acknowledgement.
 * *truncated (may be NULL) counts those sent cut. 0, or -1 + errstr when a message could not
 * be delivered (a transient failure: the batch is retried). */
int dead_letter_produce(dead_letter_sink *s, const consumer_batch *b, const dead_letter *items,
                        int n, int *truncated, char *errstr, size_t errstr_size);

#endif
