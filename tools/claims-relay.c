/* claims-relay: publishes the claim workflow's outbox (claim_outbox) to the `claims` topic.
 *
 * Loop: read up to batch.size rows WHERE published_at IS NULL in outbox_id order, build each
 * ClaimEvent from its claim_transitions row and claim (NIK, incident, late flag), produce
 * them keyed by claim_id (idempotent producer, acks=all, so a partition keeps the order they
 * were produced in), wait until the whole batch is acknowledged, then set published_at on
 * exactly those rows in one UPDATE (autocommit). A crash between delivery and that UPDATE
 * republishes the batch: at least once on the wire, with the same event ids (subscribers
 * de-duplicate on event_id), and per claim in transition order, since the relay always
 * resumes from the oldest unpublished row.
 *
 * One relay publishes at a time: it holds a session-level advisory lock, and a second relay
 * waits as a standby (two relays taking rows with SKIP LOCKED could put a claim's events on
 * the wire out of order). PostgreSQL drops the lock when the session ends, also on kill -9.
 * Between batches it sleeps up to poll.interval.ms or until NOTIFY claim_outbox (a trigger
 * on claim_outbox, deploy/sql/004), so a new event leaves within milliseconds.
 * SIGINT/SIGTERM finish the current batch and exit. Exit status 0, 1 on a failure, 2 usage. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "claim_event.h"
#include "codec.h"
#include "config.h"
#include "dates.h"
#include "log.h"
#include "pg.h"
#include "publisher.h"

/* pg_advisory_lock key of the relay: hashtext('claims-relay') would do as well, a constant
 * is easier to find in pg_locks. */
#define RELAY_LOCK_KEY "7310430001"

static const config_option options[] = {
    {"bootstrap", CONFIG_STR, "127.0.0.1:19092", "KAFKA_BOOTSTRAP", "Kafka bootstrap servers"},
    {"pg", CONFIG_STR, "", "COVERAGE_PG", "PostgreSQL connection string (or PG* variables)"},
    {"topic", CONFIG_STR, "claims", NULL, "topic the claim events go to"},
    {"source", CONFIG_STR, "claims-relay", NULL, "id written as every event's source"},
    {"batch.size", CONFIG_INT, "500", NULL, "outbox rows per batch (one flush, one UPDATE)"},
    {"poll.interval.ms", CONFIG_INT, "1000", NULL,
     "longest sleep between polls when no NOTIFY arrives"},
    {"delivery.timeout.ms", CONFIG_INT, "130000", NULL,
     "longest wait for a batch's acknowledgements before it is retried"},
    {"exit.when.drained", CONFIG_BOOL, "false", NULL, "exit 0 once no unpublished row is left"},
    {"log.level", CONFIG_STR, "info", NULL, "debug, info, warn or error"},
    {NULL, 0, NULL, NULL, NULL},
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Columns of the batch query. */
enum {
    B_OUTBOX_ID, B_EVENT_ID, B_CLAIM_ID, B_INCIDENT_ID, B_NIK, B_PROGRAM, B_BENEFIT, B_FROM,
    B_TO, B_KIND, B_AMOUNT, B_VERSION, B_REASON, B_ACTOR, B_PAYMENT_REF, B_LATE, B_AT_US
};

static const char batch_sql[] =
    "SELECT o.outbox_id, o.event_id, o.claim_id, c.incident_id, c.nik, t.program, t.benefit,"
    " t.from_status, t.to_status, t.kind, t.amount_idr, t.benefit_table_version,"
    " coalesce(t.reason, ''), t.actor, t.payment_reference, c.late_report,"
    " (extract(epoch FROM t.at) * 1000000)::bigint"
    " FROM claim_outbox o JOIN claim_transitions t USING (transition_id)"
    " JOIN claims c ON c.claim_id = o.claim_id"
    " WHERE o.published_at IS NULL ORDER BY o.outbox_id LIMIT $1";

typedef struct relay {
    const config *cfg;
    PGconn *pg;
    publisher *pub;
    codec *codec;
    long long published;  /* rows marked published by this process */
    char *ids;            /* "{1,2,...}" of the batch being published */
    size_t ids_cap;
} relay;

/* Copy a text column into a fixed field; a too long value is cut and said so. */
static void copy_text(char *dst, size_t size, const PGresult *res, int row, int col,
                      const char *what, const char *event_id)
{
    const char *v = PQgetvalue(res, row, col);
    if (strlen(v) >= size)
        log_warn("field truncated", "event_id=%s field=%s length=%zu max=%zu", event_id, what,
                 strlen(v), size - 1);
    snprintf(dst, size, "%s", v);
}

/* One outbox row as a ClaimEvent; -1 with errstr for a value the schema has no symbol for. */
static int row_to_event(const PGresult *res, int row, claim_event *ev, const char *source,
                        char *errstr, size_t n)
{
    const char *id = PQgetvalue(res, row, B_EVENT_ID);

    claim_event_init(ev);
    snprintf(ev->source, sizeof ev->source, "%s", source);
    copy_text(ev->event_id, sizeof ev->event_id, res, row, B_EVENT_ID, "event_id", id);
    copy_text(ev->claim_id, sizeof ev->claim_id, res, row, B_CLAIM_ID, "claim_id", id);
    copy_text(ev->incident_id, sizeof ev->incident_id, res, row, B_INCIDENT_ID, "incident_id", id);
    copy_text(ev->nik, sizeof ev->nik, res, row, B_NIK, "nik", id);
    copy_text(ev->reason, sizeof ev->reason, res, row, B_REASON, "reason", id);
    copy_text(ev->actor, sizeof ev->actor, res, row, B_ACTOR, "actor", id);
    copy_text(ev->benefit_table_version, sizeof ev->benefit_table_version, res, row, B_VERSION,
              "benefit_table_version", id);
    ev->fields |= CF_TABLE_VERSION;
    ev->program = (claim_program)claim_program_parse(PQgetvalue(res, row, B_PROGRAM));
    ev->benefit = (claim_benefit)claim_benefit_parse(PQgetvalue(res, row, B_BENEFIT));
    ev->to_status = (claim_status)claim_status_parse(PQgetvalue(res, row, B_TO));
    ev->kind = (claim_event_kind)claim_event_kind_parse(PQgetvalue(res, row, B_KIND));
    if (!PQgetisnull(res, row, B_FROM)) {
        ev->from_status = (claim_status)claim_status_parse(PQgetvalue(res, row, B_FROM));
        ev->fields |= CF_FROM_STATUS;
        if (ev->from_status == CLAIM_STATUS_NONE)
            goto bad;
    }
    if (!PQgetisnull(res, row, B_AMOUNT)) {
        ev->amount_idr = atoll(PQgetvalue(res, row, B_AMOUNT));
        ev->fields |= CF_AMOUNT;
    }
    if (!PQgetisnull(res, row, B_PAYMENT_REF)) {
        copy_text(ev->payment_reference, sizeof ev->payment_reference, res, row, B_PAYMENT_REF,
                  "payment_reference", id);
        ev->fields |= CF_PAYMENT_REF;
    }
    ev->late_report = strcmp(PQgetvalue(res, row, B_LATE), "t") == 0;
    ev->event_time_us = atoll(PQgetvalue(res, row, B_AT_US));
    if (ev->program == CLAIM_PROGRAM_NONE || ev->benefit == BENEFIT_NONE ||
        ev->to_status == CLAIM_STATUS_NONE || ev->kind == CLAIM_EVENT_KIND_NONE)
        goto bad;
    return 0;
bad:
    snprintf(errstr, n, "outbox row %s (event %s): program '%s', benefit '%s', status '%s' -> '%s'"
             " or kind '%s' is not in the ClaimEvent schema",
             PQgetvalue(res, row, B_OUTBOX_ID), id, PQgetvalue(res, row, B_PROGRAM),
             PQgetvalue(res, row, B_BENEFIT), PQgetvalue(res, row, B_FROM),
             PQgetvalue(res, row, B_TO), PQgetvalue(res, row, B_KIND));
    return -1;
}

/* Room in r->ids for rows outbox ids as a PostgreSQL array literal. */
static int reserve_ids(relay *r, int rows)
{
    size_t need = (size_t)rows * 21 + 3;
    if (need > r->ids_cap) {
        char *p = realloc(r->ids, need);
        if (!p)
            return -1;
        r->ids = p;
        r->ids_cap = need;
    }
    return 0;
}

static long long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000LL + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Publish one batch. Returns the number of rows published and marked, -1 on a PostgreSQL
 * or encoding failure (fatal), -2 when Kafka did not acknowledge the batch (retry later). */
static int relay_batch(relay *r, char *errstr, size_t n)
{
    char limit[24];
    const char *p[1] = {limit};
    PGresult *res;
    struct timespec start;
    publisher_counts before;
    size_t used = 1;
    int rows, sent = 0, rc = -1;

    clock_gettime(CLOCK_MONOTONIC, &start);
    snprintf(limit, sizeof limit, "%lld", config_int(r->cfg, "batch.size"));
    if (!(res = pg_query(r->pg, batch_sql, 1, p, errstr, n)))
        return -1;
    rows = PQntuples(res);
    if (rows == 0) {
        PQclear(res);
        return 0;
    }
    before = publisher_counts_get(r->pub);
    if (reserve_ids(r, rows) < 0) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    r->ids[0] = '{';
    for (int i = 0; i < rows; i++) {
        claim_event ev;
        const void *val;
        size_t len;

        if (row_to_event(res, i, &ev, config_get(r->cfg, "source"), errstr, n) < 0 ||
            codec_encode_claim_event(r->codec, &ev, 0, &val, &len, errstr, n) < 0) {
            /* Publishing past a row that cannot be encoded would reorder its claim. */
            if (sent == 0)
                goto out;
            log_error("outbox row not publishable", "outbox_id=%s error=\"%s\"",
                      PQgetvalue(res, i, B_OUTBOX_ID), errstr);
            break;
        }
        if (publisher_send(r->pub, ev.claim_id, strlen(ev.claim_id), val, len, errstr, n) < 0)
            goto out;
        used += (size_t)sprintf(r->ids + used, "%s%s", sent ? "," : "",
                                PQgetvalue(res, i, B_OUTBOX_ID));
        sent++;
    }
    r->ids[used++] = '}';
    r->ids[used] = '\0';
    long long deadline = config_int(r->cfg, "delivery.timeout.ms");
    while (publisher_flush(r->pub, 100) > 0 && elapsed_ms(&start) < deadline)
        ;
    publisher_counts after = publisher_counts_get(r->pub);
    if (after.failed > before.failed || after.delivered - before.delivered < sent) {
        snprintf(errstr, n, "%ld of %d events not acknowledged; the batch stays unpublished",
                 (long)(sent - (after.delivered - before.delivered)), sent);
        rc = -2;
        goto out;
    }
    PQclear(res);
    const char *u[1] = {r->ids};
    if (!(res = pg_query(r->pg,
                         "UPDATE claim_outbox SET published_at = now()"
                         " WHERE outbox_id = ANY ($1::bigint[]) AND published_at IS NULL",
                         1, u, errstr, n)))
        return -1;
    r->published += sent;
    log_info("batch published", "topic=%s events=%d marked=%s ms=%lld total=%lld",
             publisher_topic(r->pub), sent, PQcmdTuples(res), elapsed_ms(&start), r->published);
    rc = sent;
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
    int waiting = 0;

    while (!stopping) {
        PGresult *res = pg_query(r->pg, "SELECT pg_try_advisory_lock(" RELAY_LOCK_KEY ")", 0,
                                 NULL, errstr, n);
        if (!res)
            return -1;
        int got = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
        PQclear(res);
        if (got) {
            if (waiting)
                log_info("relay lock taken", "lock=%s", RELAY_LOCK_KEY);
            return 1;
        }
        if (!waiting++)
            log_info("another relay publishes; standing by", "lock=%s", RELAY_LOCK_KEY);
        if (wait_for_work(r->pg, config_int(r->cfg, "poll.interval.ms"), errstr, n) < 0)
            return -1;
    }
    return 0;
}

static int run(relay *r)
{
    char errstr[1024];
    long long batch = config_int(r->cfg, "batch.size"), interval = config_int(r->cfg, "poll.interval.ms");
    int got;

    if (pg_exec(r->pg, "LISTEN claim_outbox", errstr, sizeof errstr) < 0)
        goto fail;
    if ((got = take_lock(r, errstr, sizeof errstr)) <= 0) {
        if (got < 0)
            goto fail;
        return 0;
    }
    while (!stopping) {
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
        if (wait_for_work(r->pg, interval, errstr, sizeof errstr) < 0)
            goto fail;
    }
    log_info("stopped", "total=%lld", r->published);
    return 0;
fail:
    log_error("relay failed", "error=\"%s\" total=%lld", errstr, r->published);
    return 1;
}

int main(int argc, char **argv)
{
    char errstr[1024];
    config *cfg = config_new(options);
    relay r = {0};
    int rest = 0, rc = 2, level;
    struct sigaction sa;

    if (!cfg)
        return 2;
    switch (config_parse_args(cfg, argc - 1, argv + 1, &rest, errstr, sizeof errstr)) {
    case 1:
        fputs("usage: claims-relay [options]\n"
              "Publishes claim_outbox rows to the claims topic, oldest first, at least once.\n\n"
              "options:\n", stdout);
        config_usage(options, stdout);
        rc = 0;
        goto out;
    case -1:
        fprintf(stderr, "claims-relay: %s\n", errstr);
        goto out;
    }
    if (rest != 0 || (level = log_level_parse(config_get(cfg, "log.level"))) < 0 ||
        config_int(cfg, "batch.size") < 1 || config_int(cfg, "poll.interval.ms") < 1) {
        fprintf(stderr, "claims-relay: unexpected argument, or bad log.level, batch.size or"
                        " poll.interval.ms (see --help)\n");
        goto out;
    }
    log_init("claims-relay", (log_level)level);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = 1;
    r.cfg = cfg;
    if (!(r.pg = pg_connect(config_get(cfg, "pg"), "claims-relay", errstr, sizeof errstr)) ||
        !(r.codec = codec_new(errstr, sizeof errstr)) ||
        !(r.pub = publisher_new(cfg, config_get(cfg, "topic"), errstr, sizeof errstr))) {
        log_error("unable to start", "error=\"%s\"", errstr);
        goto out;
    }
    PQsetErrorVerbosity(r.pg, PQERRORS_TERSE);
    rc = run(&r);
out:
    publisher_destroy(r.pub);
    codec_destroy(r.codec);
    if (r.pg)
        PQfinish(r.pg);
    free(r.ids);
    config_destroy(cfg);
    return rc;
}
