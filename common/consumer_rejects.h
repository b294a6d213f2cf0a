/* consumer_rejects: what a service decided about the records of a batch, for one
 * transaction: those it rejects, each a dead letter (dead_letter.h) for the dead_letters
 * table and the <topic>.dlq topic, and those it applied, as applied events for the
 * after-commit hook (consumer_batch.h). A service only calls consumer_reject and
 * consumer_applied, from its prepare or apply step (consumer.h); the fields, reset and
 * release are the consumer's own. A list belongs to one batch slot or one worker and is
 * used by one thread at a time. */
#ifndef CONSUMER_REJECTS_H
#define CONSUMER_REJECTS_H

#include <stdint.h>

#include "consumer_batch.h"
#include "dead_letter.h"

/* The sources of a rejects list's applied events, interned; past the limit "other". */
#define CONSUMER_SOURCES_MAX 64
#define CONSUMER_SOURCE_LEN 48

struct consumer_rejects {
    dead_letter *items;
    int count, cap;
    int oom;
    /* consumer_applied: events whose source points into sources. */
    consumer_applied_event *applied;
    int napplied, applied_cap;
    char sources[CONSUMER_SOURCES_MAX][CONSUMER_SOURCE_LEN];
    int nsources;
};

/* Reject batch message idx: it goes to the dead-letter topic with these headers and into
 * the dead_letters table. error_class is a short word (decode, validation, rule, db, auth);
 * event_id (a UUID or NULL) and nik (masked before it is stored; NULL) identify it. */
void consumer_reject(consumer_rejects *rej, int idx, const char *error_class,
                     const char *event_id, const char *nik, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Record that batch message idx was applied, with the data center that published it
 * (source, copied) and its event time (microseconds since the epoch): after COMMIT it reaches
 * the after-commit hook (consumer_on_commit) as one applied event, for the freshness of
 * the data (event time to applied). Call it from apply for each record applied (not for a
 * rejected one or a re-delivery); optional. A transaction that fails forgets its calls. */
void consumer_applied(consumer_rejects *rej, int idx, const char *source, int64_t event_time_us);

/* Reset a rejects list (keeps its storage). */
void consumer_rejects_reset(consumer_rejects *r);
/* Free a rejects list's storage. */
void consumer_rejects_release(consumer_rejects *r);

#endif
