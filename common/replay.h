/* replay: dead letters back to their source topic, after the cause was fixed (a reference
 * row loaded, a constraint changed, a bug fixed). The record goes back byte for byte (its
 * event_id unchanged), so the consumers decide it once more and never twice:
 *   1. the chosen dead letters' applied_events rows that say REJECTED become REPLAYING, in
 *      a committed transaction (deploy/sql/007: the consumers decide REPLAYING events again
 *      and treat APPLIED and REJECTED ones as already decided);
 *   2. the records are produced to the topic they came from (idempotent, acks=all), with a
 *      header replay.dead_letter_id, and every acknowledgement is awaited;
 *   3. the delivered ones are marked replayed (replayed_at, replay_count).
 * A crash between 2 and 3 leaves them unmarked: replaying them again publishes them again,
 * and the consumer applies at most one copy. A record rejected again becomes a new dead
 * letter (at its new offset). Called from main's thread. */
#ifndef REPLAY_H
#define REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "config.h"

/* Which dead letters; NULL / -1 fields do not filter. At least one filter must be set. */
typedef struct replay_filter {
    const char *topic;
    int partition;             /* -1: any */
    int64_t from_offset;       /* -1: no lower bound */
    int64_t to_offset;         /* -1: no upper bound (inclusive) */
    const char *error_class;
    const char *ids;           /* comma-separated dead_letter_id list */
    long limit;                /* at most this many */
    int again;                 /* also those already replayed */
} replay_filter;

typedef struct replay_counts {
    long selected, replayed, no_bytes;
} replay_counts;

/* Replay the dead letters f selects, through pg and a producer made from cfg's Kafka
 * options. Fills *out. 0, or -1 + errstr (nothing marked replayed that was not delivered). */
int replay_dead_letters(const config *cfg, PGconn *pg, const replay_filter *f,
                        replay_counts *out, char *errstr, size_t errstr_size);

#endif
