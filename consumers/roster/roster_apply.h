/* roster_apply: turns a batch of RosterChange events into one set-based PostgreSQL merge.
 *
 * Each event is decoded and re-validated (a producer is not trusted), staged with COPY, and
 * merged in "rounds": round k holds the k-th event of each NIK in the batch, so a round has
 * at most one event per worker and set-based statements keep each worker's order. */
#ifndef ROSTER_APPLY_H
#define ROSTER_APPLY_H

#include <stddef.h>
#include <libpq-fe.h>

#include "consumer.h"

typedef struct roster_apply roster_apply;

/* NULL + errstr on failure. One per consumer thread. */
roster_apply *roster_apply_new(const char *base_topic, char *errstr, size_t errstr_size);
void roster_apply_destroy(roster_apply *ra);

/* The consumer_handler's prepare: decode and re-validate (rejects "decode" and
 * "validation") and assign rounds. No database. */
int roster_apply_prepare(void *ctx, const consumer_batch *batch, consumer_rejects *rej,
                         char *errstr, size_t errstr_size);
/* The consumer_handler's apply, after roster_apply_prepare on the same batch: COPY (the
 * rows made as they are sent, from the events decoded again), the rules (rejects "rule")
 * and the changes, round by round; each event applied (neither rejected nor a
 * re-delivery) is reported with consumer_applied. */
int roster_apply_batch(void *ctx, PGconn *pg, const consumer_batch *batch,
                       consumer_rejects *rej, char *errstr, size_t errstr_size);

#endif
