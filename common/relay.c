/* relay: the shared outbox relay loop (lock, LISTEN, batch, mark) and a relay's main. */
#include "relay.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "histogram.h"
#include "log.h"
#include "metrics_http.h"
#include "pg.h"
#include "publisher.h"

/* What the metrics endpoint reads; the loop writes it under the relay's lock. */
typedef struct relay_metrics {
    long long backlog;        /* -1 until read */
    double oldest_s;
    int lock_held, ready;
    char not_ready[200];
    uint64_t batches, rows, messages, failures;
    histogram batch;
} relay_metrics;

struct relay {
    const config *cfg;
    const relay_def *def;
    PGconn *pg;
    codec *codec;
    publisher *pub;
    long long published;  /* outbox rows marked published by this process */
    char *ids;            /* "{1,2,...}" of the batch being published */
    size_t ids_len, ids_cap;
    volatile sig_atomic_t stopping;
    pthread_mutex_t lock; /* guards m */
    relay_metrics m;
    long long backlog_read_ms; /* monotonic, when the loop last read the backlog */
};

static void set_ready(relay *r, int lock_held, const char *not_ready)
{
    pthread_mutex_lock(&r->lock);
    r->m.lock_held = lock_held;
    r->m.ready = !not_ready;
    snprintf(r->m.not_ready, sizeof r->m.not_ready, "%.*s", (int)sizeof r->m.not_ready - 1,
             not_ready ? not_ready : "");
    pthread_mutex_unlock(&r->lock);
}

static long long mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Read the outbox backlog for the metrics, at most every RELAY_BACKLOG_EVERY_MS. A failure
 * is left to the loop's next statement to report. */
static void read_backlog(relay *r)
{
    char errstr[256];
    PGresult *res;

    if (!r->def->backlog_sql || mono_ms() - r->backlog_read_ms < RELAY_BACKLOG_EVERY_MS)
        return;
    r->backlog_read_ms = mono_ms();
    if (!(res = pg_query(r->pg, r->def->backlog_sql, 0, NULL, errstr, sizeof errstr))) {
        log_debug("outbox backlog not read", "error=\"%s\"", errstr);
        return;
    }
    pthread_mutex_lock(&r->lock);
    r->m.backlog = atoll(PQgetvalue(res, 0, 0));
    r->m.oldest_s = strtod(PQgetvalue(res, 0, 1), NULL);
    pthread_mutex_unlock(&r->lock);
    PQclear(res);
}

relay *relay_new(const config *cfg, const relay_def *def, char *errstr, size_t n)
{
    relay *r = calloc(1, sizeof *r);

    if (!r) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->def = def;
    pthread_mutex_init(&r->lock, NULL);
    r->m.backlog = -1;
    histogram_init(&r->m.batch, histogram_duration_bounds, histogram_duration_nbounds);
    snprintf(r->m.not_ready, sizeof r->m.not_ready, "starting");
    r->backlog_read_ms = -RELAY_BACKLOG_EVERY_MS;
    if (!(r->pg = pg_connect_config(cfg, def->program.name, errstr, n)) ||
        !(r->codec = codec_new(errstr, n)) ||
        !(r->pub = publisher_new(cfg, config_get(cfg, "topic"), errstr, n))) {
        relay_destroy(r);
        return NULL;
    }
    PQsetErrorVerbosity(r->pg, PQERRORS_TERSE);
    return r;
}

void relay_stop(relay *r)
{
    r->stopping = 1;
}

void relay_destroy(relay *r)
{
    if (!r)
        return;
    publisher_destroy(r->pub);
    codec_destroy(r->codec);
    if (r->pg)
        PQfinish(r->pg);
    free(r->ids);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* Append "id,id,..." to r->ids. */
static int add_ids(relay *r, const char *ids)
{
    size_t len = strlen(ids), need = r->ids_len + len + 3;

    if (need > r->ids_cap) {
        size_t cap = need * 2;
        char *p = realloc(r->ids, cap);
        if (!p)
            return -1;
        r->ids = p;
        r->ids_cap = cap;
    }
    r->ids_len += (size_t)sprintf(r->ids + r->ids_len, "%s%s", r->ids_len > 1 ? "," : "", ids);
    return 0;
}

static long long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Produce the rows of res (rows >= 1) and collect their outbox ids in r->ids. Returns the
 * number of outbox rows taken, -1 + errstr on a fatal failure; *sent and *skipped count
 * the messages produced and the rows marked without one. */
static int produce_rows(relay *r, const PGresult *res, int *sent, int *skipped, char *errstr,
                        size_t n)
{
    const relay_def *d = r->def;
    int rows = PQntuples(res), taken = 0;

    r->ids_len = 0;
    if (add_ids(r, "{") < 0)
        goto oom;
    for (int i = 0; i < rows; i++) {
        relay_msg msg;
        const char *ids = PQgetvalue(res, i, d->ids_column);
        int got = d->encode_row(r->cfg, r->codec, res, i, &msg, errstr, n);

        if (got < 0) {
            /* Publishing past it would put a later event of the same key first. */
            if (i == 0)
                return -1;
            log_error("outbox row not publishable", "outbox_id=%s error=\"%s\"",
                      PQgetvalue(res, i, 0), errstr);
            break;
        }
        if (got == 0) {
            (*skipped)++;
        } else {
            if (publisher_send(r->pub, msg.key, strlen(msg.key), msg.value, msg.len, errstr,
                               n) < 0)
                return -1;
            (*sent)++;
        }
        if (add_ids(r, ids) < 0)
            goto oom;
        taken++;
        for (const char *c = ids; (c = strchr(c, ',')); c++)
            taken++;
    }
    r->ids[r->ids_len++] = '}';
    r->ids[r->ids_len] = '\0';
    return taken;
oom:
    snprintf(errstr, n, "out of memory");
    return -1;
}

/* Publish one batch. Returns the number of outbox rows published and marked, -1 on a
 * PostgreSQL or encoding failure (fatal), -2 when Kafka did not acknowledge the batch. */
static int relay_batch(relay *r, char *errstr, size_t n)
{
    const relay_def *d = r->def;
    char limit[24];
    const char *p[1] = {limit};
    PGresult *res;
    struct timespec start;
    publisher_counts before, after;
    int sent = 0, skipped = 0, taken, rc = -1;

    clock_gettime(CLOCK_MONOTONIC, &start);
    snprintf(limit, sizeof limit, "%lld", config_int(r->cfg, "batch.size"));
    if (!(res = pg_query(r->pg, d->batch_sql, 1, p, errstr, n)))
        return -1;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return 0;
    }
    before = publisher_counts_get(r->pub);
    if ((taken = produce_rows(r, res, &sent, &skipped, errstr, n)) < 0)
        goto out;
    long long deadline = config_int(r->cfg, "delivery.timeout.ms");
    while (publisher_flush(r->pub, 100) > 0 && elapsed_ms(&start) < deadline)
        ;
    after = publisher_counts_get(r->pub);
    if (after.failed > before.failed || after.delivered - before.delivered < sent) {
        snprintf(errstr, n, "%ld of %d %s not acknowledged; the batch stays unpublished",
                 (long)(sent - (after.delivered - before.delivered)), sent, d->unit);
        rc = -2;
        goto out;
    }
    PQclear(res);
    const char *u[1] = {r->ids};
    if (!(res = pg_query(r->pg, d->mark_sql, 1, u, errstr, n)))
        return -1;
    r->published += taken;
    pthread_mutex_lock(&r->lock);
    r->m.batches++;
    r->m.rows += (uint64_t)taken;
    r->m.messages += (uint64_t)sent;
    histogram_observe(&r->m.batch, (double)elapsed_ms(&start) / 1000.0);
    pthread_mutex_unlock(&r->lock);
    if (d->log_skipped)
        log_info("batch published",
                 "topic=%s %s=%d skipped=%d rows=%d marked=%s ms=%lld total=%lld",
                 publisher_topic(r->pub), d->unit, sent, skipped, taken, PQcmdTuples(res),
                 elapsed_ms(&start), r->published);
    else
        log_info("batch published", "topic=%s %s=%d marked=%s ms=%lld total=%lld",
                 publisher_topic(r->pub), d->unit, sent, PQcmdTuples(res), elapsed_ms(&start),
                 r->published);
    rc = taken;
out:
    PQclear(res);
    return rc;
}

/* Sleep up to ms, or until a notification or a signal arrives; consume notifications. */
static int wait_for_work(PGconn *pg, long long ms, char *errstr, size_t n)
{
    int sock = PQsocket(pg);
    fd_set fds;
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    PGnotify *note;

    if (sock < 0) {
        snprintf(errstr, n, "no PostgreSQL connection");
        return -1;
    }
    /* A notification may already sit in libpq's buffer (it arrived during the last batch). */
    if (!PQconsumeInput(pg)) {
        snprintf(errstr, n, "%s", PQerrorMessage(pg));
        return -1;
    }
    if ((note = PQnotifies(pg))) {
        do
            PQfreemem(note);
        while ((note = PQnotifies(pg)));
        return 0;
    }
    FD_ZERO(&fds);
    FD_SET(sock, &fds);
    if (select(sock + 1, &fds, NULL, NULL, &tv) < 0 && errno != EINTR) {
        snprintf(errstr, n, "select: %s", strerror(errno));
        return -1;
    }
    if (!PQconsumeInput(pg)) {
        snprintf(errstr, n, "%s", PQerrorMessage(pg));
        return -1;
    }
    while ((note = PQnotifies(pg)))
        PQfreemem(note);
    return 0;
}

/* Wait (as a standby) until this session holds the relay lock; 1 when taken, 0 when
 * stopping, -1 on error. */
static int take_lock(relay *r, char *errstr, size_t n)
{
    const char *key = r->def->lock_key;
    char sql[96];
    int waiting = 0;

    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%s)", key);
    while (!r->stopping) {
        PGresult *res = pg_query(r->pg, sql, 0, NULL, errstr, n);
        if (!res)
            return -1;
        int got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (got) {
            if (waiting)
                log_info("relay lock taken", "lock=%s", key);
            return 1;
        }
        if (!waiting++) {
            log_info("another relay publishes; standing by", "lock=%s", key);
            snprintf(sql, sizeof sql, "standby: another relay holds lock %s", key);
            set_ready(r, 0, sql);
            snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%s)", key);
        }
        read_backlog(r);
        if (wait_for_work(r->pg, config_int(r->cfg, "poll.interval.ms"), errstr, n) < 0)
            return -1;
    }
    return 0;
}

int relay_run(relay *r)
{
    char errstr[1024], listen[128];
    long long batch = config_int(r->cfg, "batch.size"), interval = config_int(r->cfg, "poll.interval.ms");
    int got;

    snprintf(listen, sizeof listen, "LISTEN %s", r->def->channel);
    if (pg_exec(r->pg, listen, errstr, sizeof errstr) < 0)
        goto fail;
    if ((got = take_lock(r, errstr, sizeof errstr)) <= 0) {
        if (got < 0)
            goto fail;
        return 0;
    }
    set_ready(r, 1, NULL);
    while (!r->stopping) {
        int done;
        read_backlog(r);
        done = relay_batch(r, errstr, sizeof errstr);
        if (done == -1)
            goto fail;
        if (done >= 0)
            set_ready(r, 1, NULL);
        if (done == -2) {
            char why[200];
            snprintf(why, sizeof why, "kafka: %.180s", errstr);
            set_ready(r, 1, why);
            pthread_mutex_lock(&r->lock);
            r->m.failures++;
            pthread_mutex_unlock(&r->lock);
            /* A new producer: the old one may be in a fatal idempotence state. */
            log_warn("batch not delivered; retrying with a new producer", "error=\"%s\"", errstr);
            publisher_destroy(r->pub);
            if (!(r->pub = publisher_new(r->cfg, config_get(r->cfg, "topic"), errstr,
                                         sizeof errstr)))
                goto fail;
        }
        if (done == batch)
            continue;
        if (done == 0 && config_bool(r->cfg, "exit.when.drained")) {
            log_info("outbox drained", "total=%lld", r->published);
            return 0;
        }
        if (done > 0 && r->def->drain_eagerly)
            continue;
        if (wait_for_work(r->pg, interval, errstr, sizeof errstr) < 0)
            goto fail;
    }
    log_info("stopped", "total=%lld", r->published);
    return 0;
fail:
    set_ready(r, 0, errstr);
    log_error("relay failed", "error=\"%s\" total=%lld", errstr, r->published);
    return -1;
}

/* ---- metrics ---- */

static int render_metrics(void *opaque, promtext *p)
{
    relay *r = opaque;
    const promtext_label l[1] = {{"outbox", r->def->channel}};
    char err[8];

    pthread_mutex_lock(&r->lock);
    if (r->m.backlog >= 0) {
        promtext_family(p, "relay_outbox_backlog_rows", PROMTEXT_GAUGE,
                        "Outbox rows not yet published (read every few seconds).");
        promtext_sample(p, l, 1, (double)r->m.backlog);
        promtext_family(p, "relay_outbox_oldest_age_seconds", PROMTEXT_GAUGE,
                        "Age of the oldest unpublished outbox row, 0 when none.");
        promtext_sample(p, l, 1, r->m.oldest_s);
    }
    promtext_family(p, "relay_lock_held", PROMTEXT_GAUGE,
                    "1 when this relay holds the lock and publishes, 0 as a standby.");
    promtext_sample(p, l, 1, r->m.lock_held);
    promtext_family(p, "relay_batches_total", PROMTEXT_COUNTER,
                    "Batches published and marked.");
    promtext_sample(p, l, 1, (double)r->m.batches);
    promtext_family(p, "relay_published_rows_total", PROMTEXT_COUNTER,
                    "Outbox rows marked published.");
    promtext_sample(p, l, 1, (double)r->m.rows);
    promtext_family(p, "relay_messages_sent_total", PROMTEXT_COUNTER,
                    "Messages Kafka acknowledged.");
    promtext_sample(p, l, 1, (double)r->m.messages);
    promtext_family(p, "relay_delivery_failures_total", PROMTEXT_COUNTER,
                    "Batches Kafka did not acknowledge in time (retried).");
    promtext_sample(p, l, 1, (double)r->m.failures);
    promtext_family(p, "relay_batch_duration_seconds", PROMTEXT_HISTOGRAM,
                    "Wall time of a published batch: read, produce, acknowledged, marked.");
    histogram_write(&r->m.batch, p, l, 1);
    pthread_mutex_unlock(&r->lock);
    return promtext_finish(p, NULL, err, sizeof err) ? 0 : -1;
}

static int relay_ready(void *opaque, char *reason, size_t size)
{
    relay *r = opaque;
    int ready;

    pthread_mutex_lock(&r->lock);
    ready = r->m.ready;
    snprintf(reason, size, "%s", r->m.not_ready);
    pthread_mutex_unlock(&r->lock);
    return ready;
}

static void stop_relay(void *r)
{
    relay_stop(r);
}

/* The snapshot option: run def->snapshot_sql (one row, one column: the rows queued) in one
 * transaction; main's exit status. */
static int queue_snapshot(const config *cfg, const relay_def *def)
{
    PGconn *pg = program_connect_pg(&def->program, cfg);
    PGresult *res;
    int rc = 1;

    if (!pg)
        return 1;
    res = PQexec(pg, def->snapshot_sql);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
        log_info("snapshot queued", "channel=%s rows=%s", def->channel, PQgetvalue(res, 0, 0));
        rc = 0;
    } else {
        log_error("snapshot failed", "channel=%s error=\"%s\"", def->channel,
                  PQresultErrorMessage(res));
    }
    PQclear(res);
    PQfinish(pg);
    return rc;
}

int relay_main(int argc, char **argv, const relay_def *def)
{
    char errstr[1024];
    relay *r = NULL;
    metrics_http *http = NULL;
    metrics_http_handler mh = {render_metrics, relay_ready, NULL};
    int rc, nargs;
    config *cfg = program_start(&def->program, argc, argv, &nargs, &rc);

    if (!cfg)
        return rc;
    rc = 2;
    if (config_int(cfg, "batch.size") < 1 || config_int(cfg, "poll.interval.ms") < 1) {
        fprintf(stderr, "%s: batch.size and poll.interval.ms must be positive\n",
                def->program.name);
        goto out;
    }
    rc = 1;
    if (def->snapshot_sql && config_bool(cfg, def->snapshot_option)) {
        rc = queue_snapshot(cfg, def);
        goto out;
    }
    mh.opaque = r = relay_new(cfg, def, errstr, sizeof errstr);
    if (!r || metrics_http_start_config(cfg, &mh, &http, errstr, sizeof errstr) < 0) {
        log_error("unable to start", "error=\"%s\"", errstr);
        goto out;
    }
    if (http)
        log_info("serving metrics", "metrics=%s:%d", config_get(cfg, "metrics.host"),
                 metrics_http_port(http));
    program_on_stop(stop_relay, r);
    rc = relay_run(r) < 0 ? 1 : 0;
    program_on_stop(NULL, NULL);
out:
    metrics_http_stop(http);
    relay_destroy(r);
    config_destroy(cfg);
    return rc;
}
