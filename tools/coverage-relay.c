/* coverage-relay: publishes the current coverage state of every worker queued in
 * coverage_outbox (deploy/sql/006) to the compacted `coverage.changes` topic, keyed by NIK.
 *
 * Loop: take up to batch.size rows WHERE published_at IS NULL in outbox_id order, collapse
 * them to distinct NIKs (the highest outbox_id per NIK gives the cause event and the
 * event_time), read each worker's current state from coverages in the same query (so every
 * outbox row seen is committed and its change visible), produce one CoverageChange per NIK
 * in order of that highest outbox_id, wait until the whole batch is acknowledged, then set
 * published_at on exactly the rows taken in one UPDATE (autocommit). A crash between
 * delivery and that UPDATE republishes the same states with the same event ids: event_id is
 * the v5 UUID of (NIK, cause event), so it is stable, and the topic is compacted anyway.
 *
 * The current state: a worker's terms are its coverages grouped by enrol event. The term
 * is the earliest one not cancelled whose valid_to is today (UTC) or later, else the most
 * recent one not cancelled, else (everything cancelled) the latest enrolment. status is
 * TERMINATED when the term was closed early (a TERMINATE or a death) or cancelled, EXPIRED
 * when its valid_to is past, else ACTIVE; programs are the term's programs not cancelled.
 *
 * One relay publishes at a time (session advisory lock; a second relay stands by), so a
 * worker's states reach the topic in outbox order. Between batches it sleeps up to
 * poll.interval.ms or until NOTIFY coverage_outbox. SIGINT/SIGTERM finish the current batch
 * and exit. Exit status 0, 1 on a failure, 2 usage.
 *
 * The lock / LISTEN / poll loop mirrors tools/claims-relay.c; it is not shared yet. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "codec.h"
#include "config.h"
#include "coverage_change.h"
#include "log.h"
#include "pg.h"
#include "publisher.h"
#include "roster.h"
#include "uuid5.h"

/* pg_advisory_lock key of this relay (claims-relay holds 7310430001). */
#define RELAY_LOCK_KEY "7310430002"

static const config_option options[] = {
    {"bootstrap", CONFIG_STR, "127.0.0.1:19092", "KAFKA_BOOTSTRAP", "Kafka bootstrap servers"},
    {"pg", CONFIG_STR, "", "COVERAGE_PG", "PostgreSQL connection string (or PG* variables)"},
    {"topic", CONFIG_STR, "coverage.changes", NULL, "topic the coverage states go to"},
    {"source", CONFIG_STR, "coverage-relay", NULL, "id written as every event's source"},
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

/* Columns of the batch query: one row per NIK. */
enum {
    B_LAST_ID, B_IDS, B_NIK, B_CAUSE, B_AT_US, B_PROGRAMS, B_STATUS, B_FROM, B_TO, B_REGION,
    B_ROLE, B_INSTITUTION
};

#define TODAY "(now() AT TIME ZONE 'UTC')::date"

static const char batch_sql[] =
    "WITH b AS ("
    " SELECT outbox_id, nik, cause_event, created_at FROM coverage_outbox"
    " WHERE published_at IS NULL ORDER BY outbox_id LIMIT $1),"
    " n AS ("
    " SELECT nik, max(outbox_id) AS last_id,"
    "  (array_agg(cause_event ORDER BY outbox_id DESC))[1] AS cause_event,"
    "  (array_agg(created_at ORDER BY outbox_id DESC))[1] AS at,"
    "  string_agg(outbox_id::text, ',' ORDER BY outbox_id) AS ids"
    " FROM b GROUP BY nik),"
    " terms AS ("
    " SELECT c.nik, bool_and(c.status = 'CANCELLED') AS cancelled,"
    "  bool_or(c.status = 'TERMINATED') AS terminated,"
    "  coalesce(min(c.valid_from) FILTER (WHERE c.status <> 'CANCELLED'), min(c.valid_from))"
    "   AS valid_from,"
    "  coalesce(max(c.valid_to) FILTER (WHERE c.status <> 'CANCELLED'), max(c.valid_to))"
    "   AS valid_to,"
    "  coalesce(string_agg(c.program, ';' ORDER BY c.program)"
    "   FILTER (WHERE c.status <> 'CANCELLED'), '') AS programs,"
    "  min(c.region_code) AS region_code, min(c.role) AS role,"
    "  min(c.institution) AS institution, max(c.coverage_id) AS last_coverage"
    " FROM coverages c WHERE c.nik IN (SELECT nik FROM n) GROUP BY c.nik, c.enroll_event),"
    " cur AS ("
    " SELECT DISTINCT ON (nik) * FROM terms"
    " ORDER BY nik, cancelled, valid_to < " TODAY ","
    "  CASE WHEN valid_to >= " TODAY " THEN valid_from END, valid_to DESC, last_coverage DESC)"
    " SELECT n.last_id, n.ids, n.nik, n.cause_event,"
    "  (extract(epoch FROM n.at) * 1000000)::bigint, t.programs,"
    "  CASE WHEN t.cancelled OR t.terminated THEN 'TERMINATED'"
    "   WHEN t.valid_to < " TODAY " THEN 'EXPIRED' ELSE 'ACTIVE' END,"
    "  t.valid_from - DATE '1970-01-01', t.valid_to - DATE '1970-01-01', t.region_code,"
    "  t.role, t.institution"
    " FROM n LEFT JOIN cur t USING (nik) ORDER BY n.last_id";

typedef struct relay {
    const config *cfg;
    PGconn *pg;
    publisher *pub;
    codec *codec;
    long long published;  /* outbox rows marked published by this process */
    char *ids;            /* "{1,2,...}" of the batch being published */
    size_t ids_len, ids_cap;
} relay;

/* The event id of a state: v5 UUID of (NIK, cause event) in a namespace of its own. */
static void state_event_id(const char *nik, const char *cause, char *out)
{
    /* A fixed namespace for coverage states (itself a random UUID, never to change). */
    static const unsigned char ns[16] = {233, 213, 161, 168, 137, 243, 76, 107,
                                         181, 109, 85, 50, 211, 99, 235, 127};
    uuid5 u;

    uuid5_init(&u);
    uuid5_text(&u, "coverage.changes", 32);
    uuid5_text(&u, nik, 16);
    uuid5_text(&u, cause, 36);
    uuid5_finish(&u, ns, out);
}

/* One batch row as a CoverageChange; -1 with errstr for a value the schema cannot hold. */
static int row_to_state(const PGresult *res, int row, coverage_change *cc, const char *source,
                        char *errstr, size_t n)
{
    const char *programs = PQgetvalue(res, row, B_PROGRAMS);
    int bits = *programs ? roster_programs_parse(programs) : 0;

    coverage_change_init(cc);
    snprintf(cc->source, sizeof cc->source, "%s", source);
    snprintf(cc->nik, sizeof cc->nik, "%s", PQgetvalue(res, row, B_NIK));
    state_event_id(cc->nik, PQgetvalue(res, row, B_CAUSE), cc->event_id);
    cc->event_time_us = atoll(PQgetvalue(res, row, B_AT_US));
    cc->programs = bits > 0 ? (unsigned)bits : 0;
    cc->status = (coverage_status)coverage_status_parse(PQgetvalue(res, row, B_STATUS));
    cc->valid_from = atoi(PQgetvalue(res, row, B_FROM));
    cc->valid_to = atoi(PQgetvalue(res, row, B_TO));
    snprintf(cc->region_code, sizeof cc->region_code, "%s", PQgetvalue(res, row, B_REGION));
    cc->role = (roster_role)roster_role_parse(PQgetvalue(res, row, B_ROLE));
    cc->institution = (roster_institution)roster_institution_parse(PQgetvalue(res, row,
                                                                             B_INSTITUTION));
    if (bits < 0 || cc->status == COVERAGE_STATUS_NONE || cc->role == ROLE_NONE ||
        cc->institution == INST_NONE || strlen(PQgetvalue(res, row, B_REGION)) >= sizeof cc->region_code)
        return snprintf(errstr, n, "outbox row %s: programs '%s', role '%s', institution '%s' or"
                        " region '%s' is not in the CoverageChange schema",
                        PQgetvalue(res, row, B_LAST_ID), programs, PQgetvalue(res, row, B_ROLE),
                        PQgetvalue(res, row, B_INSTITUTION), PQgetvalue(res, row, B_REGION)), -1;
    return 0;
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

/* Publish one batch. Returns the number of outbox rows published and marked, -1 on a
 * PostgreSQL or encoding failure (fatal), -2 when Kafka did not acknowledge the batch. */
static int relay_batch(relay *r, char *errstr, size_t n)
{
    char limit[24];
    const char *p[1] = {limit};
    PGresult *res;
    struct timespec start;
    publisher_counts before;
    int rows, sent = 0, taken = 0, skipped = 0, rc = -1;

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
    r->ids_len = 0;
    if (add_ids(r, "{") < 0)
        goto oom;
    for (int i = 0; i < rows; i++) {
        coverage_change cc;
        const void *val;
        size_t len;
        const char *ids = PQgetvalue(res, i, B_IDS);

        if (PQgetisnull(res, i, B_STATUS)) {
            char masked[20];
            /* Nothing to publish for a worker without coverages; the rows are done. */
            log_warn("worker has no coverage", "nik=%s outbox_id=%s",
                     log_mask_nik(PQgetvalue(res, i, B_NIK), masked, sizeof masked),
                     PQgetvalue(res, i, B_LAST_ID));
            skipped++;
        } else if (row_to_state(res, i, &cc, config_get(r->cfg, "source"), errstr, n) < 0 ||
                   codec_encode_coverage_change(r->codec, &cc, 0, &val, &len, errstr, n) < 0) {
            /* Publishing past it would put this worker's later state first. */
            if (i == 0)
                goto out;
            log_error("outbox row not publishable", "outbox_id=%s error=\"%s\"",
                      PQgetvalue(res, i, B_LAST_ID), errstr);
            break;
        } else {
            if (publisher_send(r->pub, cc.nik, strlen(cc.nik), val, len, errstr, n) < 0)
                goto out;
            sent++;
        }
        if (add_ids(r, ids) < 0)
            goto oom;
        taken++;
        for (const char *c = ids; (c = strchr(c, ',')); c++)
            taken++;
    }
    r->ids[r->ids_len++] = '}';
    r->ids[r->ids_len] = '\0';
    long long deadline = config_int(r->cfg, "delivery.timeout.ms");
    while (publisher_flush(r->pub, 100) > 0 && elapsed_ms(&start) < deadline)
        ;
    publisher_counts after = publisher_counts_get(r->pub);
    if (after.failed > before.failed || after.delivered - before.delivered < sent) {
        snprintf(errstr, n, "%ld of %d states not acknowledged; the batch stays unpublished",
                 (long)(sent - (after.delivered - before.delivered)), sent);
        rc = -2;
        goto out;
    }
    PQclear(res);
    const char *u[1] = {r->ids};
    if (!(res = pg_query(r->pg,
                         "UPDATE coverage_outbox SET published_at = now()"
                         " WHERE outbox_id = ANY ($1::bigint[]) AND published_at IS NULL",
                         1, u, errstr, n)))
        return -1;
    r->published += taken;
    log_info("batch published", "topic=%s states=%d skipped=%d rows=%d marked=%s ms=%lld total=%lld",
             publisher_topic(r->pub), sent, skipped, taken, PQcmdTuples(res), elapsed_ms(&start),
             r->published);
    rc = taken;
    goto out;
oom:
    snprintf(errstr, n, "out of memory");
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

    if (pg_exec(r->pg, "LISTEN coverage_outbox", errstr, sizeof errstr) < 0)
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
        if (done > 0)
            continue;
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
        fputs("usage: coverage-relay [options]\n"
              "Publishes the current coverage state of every worker queued in coverage_outbox\n"
              "to the coverage.changes topic, keyed by NIK, at least once.\n\n"
              "options:\n", stdout);
        config_usage(options, stdout);
        rc = 0;
        goto out;
    case -1:
        fprintf(stderr, "coverage-relay: %s\n", errstr);
        goto out;
    }
    if (rest != 0 || (level = log_level_parse(config_get(cfg, "log.level"))) < 0 ||
        config_int(cfg, "batch.size") < 1 || config_int(cfg, "poll.interval.ms") < 1) {
        fprintf(stderr, "coverage-relay: unexpected argument, or bad log.level, batch.size or"
                        " poll.interval.ms (see --help)\n");
        goto out;
    }
    log_init("coverage-relay", (log_level)level);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = 1;
    r.cfg = cfg;
    if (!(r.pg = pg_connect(config_get(cfg, "pg"), "coverage-relay", errstr, sizeof errstr)) ||
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
