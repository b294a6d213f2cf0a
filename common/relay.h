/* relay: the outbox relay loop shared by the relay programs. One relay publishes at a time:
 * it holds a session-level advisory lock while another waits as a standby (PostgreSQL
 * drops the lock when the session ends, also on kill -9). It LISTENs on a channel and
 * between batches sleeps up to poll.interval.ms or until a NOTIFY arrives. A batch: read
 * up to batch.size pending rows in outbox order, encode and produce each, wait until the
 * whole batch is acknowledged (up to delivery.timeout.ms), then mark exactly those outbox
 * rows published in one UPDATE (autocommit). A batch Kafka did not acknowledge is retried
 * with a new producer; a crash before the UPDATE republishes the batch (at least once).
 * A relay program takes the option groups RELAY_OPTIONS and its own rows "topic" and
 * "source" (the id written into every message).
 *
 * With metrics.port set, relay_main serves /metrics, /healthz and /readyz (metrics_http.h)
 * with the families, labelled outbox (the channel's name): relay_outbox_backlog_rows and
 * relay_outbox_oldest_age_seconds (read every RELAY_BACKLOG_EVERY_MS, also by a standby),
 * relay_lock_held, relay_batches_total, relay_published_rows_total,
 * relay_messages_sent_total, relay_delivery_failures_total and the histogram
 * relay_batch_duration_seconds. Ready: it holds the lock and its last batch was
 * acknowledged by Kafka (a standby is not ready; a relay that lost PostgreSQL exits). */
#ifndef RELAY_H
#define RELAY_H

#include <stddef.h>
#include <libpq-fe.h>

#include "codec.h"
#include "config.h"
#include "program.h"

/* The shared option groups of a relay program (common/program.h). */
#define RELAY_OPTIONS \
    (PROGRAM_OPT_KAFKA | PROGRAM_OPT_PG | PROGRAM_OPT_RELAY | PROGRAM_OPT_METRICS | PROGRAM_OPT_REGISTRY)

/* One message to produce, filled by a relay_def's encode_row. */
typedef struct relay_msg {
    char key[64];       /* the message key, NUL-terminated */
    const void *value;  /* the encoded value; must stay valid until the next encode */
    size_t len;
} relay_msg;

/* Static description of a relay; not copied, must outlive the relay. */
typedef struct relay_def {
    /* Name (log and application name), usage text and option rows. */
    program_def program;
    const char *lock_key;    /* pg_advisory_lock key, a decimal constant */
    const char *channel;     /* LISTEN channel */
    /* The batch query: $1 is batch.size; rows in publish order, column 0 the outbox id
     * named in logs, column ids_column the outbox ids the row stands for ("7" or "7,9"). */
    const char *batch_sql;
    int ids_column;
    /* The UPDATE marking rows published: $1 is a bigint[] of outbox ids. */
    const char *mark_sql;
    /* The backlog: one row, the number of unpublished outbox rows and the age in seconds
     * of the oldest (0 when none). */
    const char *backlog_sql;
    const char *unit;        /* what a message is in log lines: "events", "states" */
    int log_skipped;         /* log skipped= and rows= on "batch published" */
    /* After a batch that marked rows but was not full, read the next batch at once
     * instead of sleeping. */
    int drain_eagerly;
    /* Encode row `row` of a batch result. Returns 1 with *msg filled to produce it, 0 to
     * mark its outbox rows published without producing anything, or -1 + errstr when the
     * row cannot be encoded (the batch then ends before it; fatal for a batch's first row). */
    int (*encode_row)(const config *cfg, codec *cd, const PGresult *res, int row,
                      relay_msg *msg, char *errstr, size_t errstr_size);
    /* Optional: the name of a boolean option of the program's own rows and the statement it
     * runs instead of the loop (one that queues everything again, in one transaction,
     * without the relay's lock, so the relay that runs publishes it, and answers one row:
     * how many rows it queued). NULL: none. */
    const char *snapshot_option;
    const char *snapshot_sql;
} relay_def;

typedef struct relay relay;

/* How often the loop reads the outbox backlog for the metrics. */
#define RELAY_BACKLOG_EVERY_MS 5000

/* Connect to PostgreSQL ("pg", def->program.name as application name), create the codec and
 * the producer for "topic". cfg and def are borrowed and must outlive the relay. NULL +
 * errstr on failure. Free with relay_destroy. */
relay *relay_new(const config *cfg, const relay_def *def, char *errstr, size_t errstr_size);

/* LISTEN, wait for the lock, then publish batches until relay_stop (the current batch is
 * finished first), or until the outbox is drained with exit.when.drained. Logs how it ended
 * ("stopped", "outbox drained" or "relay failed"). 0, or -1 after a failure. Main thread. */
int relay_run(relay *r);

/* Ask relay_run to return after the current batch. Async-signal-safe. */
void relay_stop(relay *r);

/* Close the connection and the producer (without waiting for deliveries). Accepts NULL. */
void relay_destroy(relay *r);

/* The main of a relay program: start the program (common/program.h), stop on
 * SIGINT/SIGTERM, run (or, with the snapshot option set, queue the snapshot, log
 * "snapshot queued" with its rows, and return). Returns main's exit status: 0 after --help or a clean end,
 * 1 when it could not start or failed, 2 for bad usage. Call once, from main. */
int relay_main(int argc, char **argv, const relay_def *def);

#endif
