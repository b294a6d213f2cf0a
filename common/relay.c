/* relay: the shared outbox relay loop (lock, LISTEN, batch, mark) and a relay's main. */
#include "relay.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "log.h"
#include "pg.h"
#include "publisher.h"

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
};

relay *relay_new(const config *cfg, const relay_def *def, char *errstr, size_t n)
{
    relay *r = calloc(1, sizeof *r);

    if (!r) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->def = def;
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
        if (!waiting++)
            log_info("another relay publishes; standing by", "lock=%s", key);
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
    while (!r->stopping) {
        int done = relay_batch(r, errstr, sizeof errstr);
        if (done == -1)
            goto fail;
        if (done == -2) {
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
    log_error("relay failed", "error=\"%s\" total=%lld", errstr, r->published);
    return -1;
}

static void stop_relay(void *r)
{
    relay_stop(r);
}

int relay_main(int argc, char **argv, const relay_def *def)
{
    char errstr[1024];
    relay *r = NULL;
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
    if (!(r = relay_new(cfg, def, errstr, sizeof errstr))) {
        log_error("unable to start", "error=\"%s\"", errstr);
        goto out;
    }
    program_on_stop(stop_relay, r);
    rc = relay_run(r) < 0 ? 1 : 0;
    program_on_stop(NULL, NULL);
out:
    relay_destroy(r);
    config_destroy(cfg);
    return rc;
}
