/* consumer: batch-consumer loop with offsets stored in PostgreSQL and dead letters. */
#include "consumer.h"

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

#include "dates.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"

#define MAX_ATTEMPTS 6

typedef struct reject_item {
    int idx;
    char error_class[24];
    char event_id[37];
    char nik_masked[17];
    char message[400];
} reject_item;

struct consumer_rejects {
    reject_item *items;
    int count, cap;
    int oom;
};

struct consumer {
    rd_kafka_t *rk;
    rd_kafka_t *dlq;
    PGconn *pg;
    char *conninfo, *group, *topic, *dlq_topic;
    consumer_apply_fn apply;
    void *opaque;
    consumer_metrics_fn metrics;
    void *metrics_opaque;
    int max_msgs, max_ms, exit_when_drained, stats_interval_s;
    volatile sig_atomic_t stop;
    int fatal;
    char fatal_msg[512];

    /* Per partition: assigned, at end of log, next offset stored in PostgreSQL (-1 none). */
    int npart;
    unsigned char *assigned, *eof;
    int64_t *expected;

    rd_kafka_message_t **held;
    consumer_msg *msgs;
    int nheld;
    consumer_rejects rej;
    int dlq_failed;
    consumer_stats stats;
};

void consumer_reject(consumer_rejects *rej, int idx, const char *error_class, const char *event_id,
                     const char *nik, const char *fmt, ...)
{
    reject_item *it;
    va_list ap;

    if (rej->count == rej->cap) {
        int cap = rej->cap ? rej->cap * 2 : 64;
        reject_item *grown = realloc(rej->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            rej->oom = 1;
            return;
        }
        rej->items = grown;
        rej->cap = cap;
    }
    it = &rej->items[rej->count++];
    it->idx = idx;
    snprintf(it->error_class, sizeof it->error_class, "%s", error_class);
    snprintf(it->event_id, sizeof it->event_id, "%s", event_id ? event_id : "");
    if (nik && *nik)
        log_mask_nik(nik, it->nik_masked, sizeof it->nik_masked);
    else
        it->nik_masked[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(it->message, sizeof it->message, fmt, ap);
    va_end(ap);
}

static int ensure_partitions(consumer *c, int32_t max_partition)
{
    int n = max_partition + 1;
    if (n <= c->npart)
        return 0;
    unsigned char *a = realloc(c->assigned, (size_t)n);
    if (a)
        c->assigned = a;
    unsigned char *e = realloc(c->eof, (size_t)n);
    if (e)
        c->eof = e;
    int64_t *x = realloc(c->expected, (size_t)n * sizeof *x);
    if (x)
        c->expected = x;
    if (!a || !e || !x)
        return -1;
    for (int i = c->npart; i < n; i++) {
        c->assigned[i] = c->eof[i] = 0;
        c->expected[i] = -1;
    }
    c->npart = n;
    return 0;
}

static int pg_ready(consumer *c, char *errstr, size_t n)
{
    if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
        return 0;
    if (c->pg) {
        PQreset(c->pg);
        if (PQstatus(c->pg) == CONNECTION_OK)
            return 0;
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->pg = pg_connect(c->conninfo, c->group, errstr, n);
    return c->pg ? 0 : -1;
}

/* Read the stored offsets of the group's partitions into c->expected. */
static int load_offsets(consumer *c, char *errstr, size_t n)
{
    const char *params[2] = {c->group, c->topic};
    PGresult *res;

    if (pg_ready(c, errstr, n) < 0)
        return -1;
    res = pg_query(c->pg,
                   "SELECT partition, next_offset FROM consumer_offsets "
                   "WHERE group_id = $1 AND topic = $2",
                   2, params, errstr, n);
    if (!res)
        return -1;
    for (int i = 0; i < c->npart; i++)
        c->expected[i] = -1;
    for (int r = 0; r < PQntuples(res); r++) {
        int32_t p = (int32_t)atoi(PQgetvalue(res, r, 0));
        if (ensure_partitions(c, p) < 0) {
            PQclear(res);
            snprintf(errstr, n, "out of memory");
            return -1;
        }
        c->expected[p] = strtoll(PQgetvalue(res, r, 1), NULL, 10);
    }
    PQclear(res);
    return 0;
}

static void drop_held(consumer *c)
{
    for (int i = 0; i < c->nheld; i++)
        rd_kafka_message_destroy(c->held[i]);
    c->nheld = 0;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    consumer *c = opaque;
    char errstr[512];

    /* The held batch and the stored offsets assume the eager protocol (all partitions
     * revoked, then assigned): refuse an incremental one rather than mis-handle it. */
    if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg,
                 "the cooperative rebalance protocol is not supported; use an eager "
                 "partition.assignment.strategy (range, roundrobin)");
        c->fatal = 1;
        rd_kafka_assign(rk, NULL);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        int32_t maxp = 0;
        for (int i = 0; i < parts->cnt; i++)
            if (parts->elems[i].partition > maxp)
                maxp = parts->elems[i].partition;
        if (ensure_partitions(c, maxp) < 0 || load_offsets(c, errstr, sizeof errstr) < 0) {
            snprintf(c->fatal_msg, sizeof c->fatal_msg,
                     "unable to read stored offsets on assignment: %.400s", errstr);
            c->fatal = 1;
            rd_kafka_assign(rk, NULL);
            return;
        }
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *tp = &parts->elems[i];
            c->assigned[tp->partition] = 1;
            c->eof[tp->partition] = 0;
            tp->offset = c->expected[tp->partition] >= 0 ? c->expected[tp->partition]
                                                         : RD_KAFKA_OFFSET_BEGINNING;
            log_info("partition assigned", "topic=%s partition=%d resume_offset=%" PRId64,
                     c->topic, tp->partition, c->expected[tp->partition]);
        }
        if ((err = rd_kafka_assign(rk, parts))) {
            snprintf(c->fatal_msg, sizeof c->fatal_msg, "unable to take the assignment: %s",
                     rd_kafka_err2str(err));
            c->fatal = 1;
        }
    } else {
        /* The open batch is abandoned: the next owner re-reads it from PostgreSQL's offsets. */
        drop_held(c);
        for (int i = 0; i < parts->cnt; i++)
            if (parts->elems[i].partition < c->npart)
                c->assigned[parts->elems[i].partition] = 0;
        log_info("partitions revoked", "topic=%s count=%d", c->topic, parts->cnt);
        rd_kafka_assign(rk, NULL);
    }
}

static void on_dlq_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    consumer *c = opaque;
    if (m->err) {
        c->dlq_failed++;
        log_error("dead letter not delivered", "topic=%s error=\"%s\"", c->dlq_topic,
                  rd_kafka_err2str(m->err));
    }
}

consumer *consumer_new(const config *cfg, const char *group, const char *topic,
                       consumer_apply_fn apply, void *opaque, char *errstr, size_t n)
{
    static const char *const consumer_defaults[] = {
        "enable.auto.commit", "false", "enable.auto.offset.store", "false",
        "auto.offset.reset", "earliest", "enable.partition.eof", "true",
        "queued.max.messages.kbytes", "8192", NULL};
    static const char *const dlq_defaults[] = {
        "enable.idempotence", "true", "acks", "all", "linger.ms", "5", NULL};
    consumer *c = calloc(1, sizeof *c);
    rd_kafka_conf_t *conf = NULL;
    char dlq_name[256];

    if (!c) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    c->apply = apply;
    c->opaque = opaque;
    c->max_msgs = (int)config_int(cfg, "batch.max.messages");
    c->max_ms = (int)config_int(cfg, "batch.max.ms");
    c->exit_when_drained = config_bool(cfg, "exit.when.drained");
    c->stats_interval_s = (int)config_int(cfg, "stats.interval.s");
    if (c->max_msgs < 1 || c->max_ms < 1) {
        snprintf(errstr, n, "batch.max.messages and batch.max.ms must be positive");
        goto fail;
    }
    snprintf(dlq_name, sizeof dlq_name, "%s.dlq", topic);
    c->conninfo = strdup(config_get(cfg, "pg") ? config_get(cfg, "pg") : "");
    c->group = strdup(group);
    c->topic = strdup(topic);
    c->dlq_topic = strdup(dlq_name);
    c->held = calloc((size_t)c->max_msgs, sizeof *c->held);
    c->msgs = calloc((size_t)c->max_msgs, sizeof *c->msgs);
    if (!c->conninfo || !c->group || !c->topic || !c->dlq_topic || !c->held || !c->msgs) {
        snprintf(errstr, n, "out of memory");
        goto fail;
    }
    if (!(c->pg = pg_connect(c->conninfo, group, errstr, n)))
        goto fail;

    if (!(conf = kafka_conf_new(cfg, dlq_defaults, NULL, errstr, n)))
        goto fail;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dlq_delivery);
    if (!(c->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, n)))
        goto fail;
    conf = NULL;

    if (!(conf = kafka_conf_new(cfg, consumer_defaults, group, errstr, n)))
        goto fail;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, n)))
        goto fail;
    conf = NULL;
    rd_kafka_poll_set_consumer(c->rk);
    {
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_resp_err_t err;
        rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(c->rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        if (err) {
            snprintf(errstr, n, "unable to subscribe to '%s': %s", topic, rd_kafka_err2str(err));
            goto fail;
        }
    }
    c->stats.lag = -1;
    return c;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    consumer_destroy(c);
    return NULL;
}

void consumer_set_metrics(consumer *c, consumer_metrics_fn fn, void *opaque)
{
    c->metrics = fn;
    c->metrics_opaque = opaque;
}

void consumer_stop(consumer *c)
{
    c->stop = 1;
}

const consumer_stats *consumer_get_stats(const consumer *c)
{
    return &c->stats;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Store the batch's next offsets, but only where PostgreSQL still holds the offset this
 * consumer last saw: returns 0, 1 when fenced (another consumer moved it), -1 on error. */
static int fence_and_store(consumer *c, const int64_t *next, char *errstr, size_t n)
{
    for (int p = 0; p < c->npart; p++) {
        char ps[16], nexts[24], exps[24];
        const char *params[5] = {c->group, c->topic, ps, nexts, exps};
        PGresult *res;
        int ok;

        if (next[p] < 0)
            continue;
        snprintf(ps, sizeof ps, "%d", p);
        snprintf(nexts, sizeof nexts, "%" PRId64, next[p]);
        snprintf(exps, sizeof exps, "%" PRId64, c->expected[p]);
        res = pg_query(c->pg,
                       "INSERT INTO consumer_offsets AS o (group_id, topic, partition, next_offset) "
                       "VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, topic, partition) "
                       "DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now() "
                       "WHERE o.next_offset = $5::bigint RETURNING 1",
                       5, params, errstr, n);
        if (!res)
            return -1;
        ok = PQntuples(res) == 1;
        PQclear(res);
        if (!ok) {
            snprintf(errstr, n, "partition %d: stored offset is no longer %" PRId64, p,
                     c->expected[p]);
            return 1;
        }
    }
    return 0;
}

static int record_dead_letters(consumer *c, const consumer_batch *b, char *errstr, size_t n)
{
    for (int i = 0; i < c->rej.count; i++) {
        const reject_item *it = &c->rej.items[i];
        const consumer_msg *m = &b->msgs[it->idx];
        char ps[16], os[24];
        const char *params[9] = {c->group, c->topic, ps, os,
                                 it->event_id[0] ? it->event_id : NULL,
                                 it->nik_masked[0] ? it->nik_masked : NULL,
                                 it->error_class, it->message, NULL};
        PGresult *res;

        snprintf(ps, sizeof ps, "%d", m->partition);
        snprintf(os, sizeof os, "%" PRId64, m->offset);
        res = pg_query(c->pg,
                       "INSERT INTO dead_letters (group_id, topic, partition, kafka_offset, "
                       "event_id, nik_masked, error_class, error_message) "
                       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                       8, params, errstr, n);
        if (!res)
            return -1;
        PQclear(res);
    }
    return 0;
}

static int produce_dead_letters(consumer *c, const consumer_batch *b, char *errstr, size_t n)
{
    char now[40];
    dates_format_timestamp(dates_now_us(), now, sizeof now);
    c->dlq_failed = 0;
    for (int i = 0; i < c->rej.count; i++) {
        const reject_item *it = &c->rej.items[i];
        const consumer_msg *m = &b->msgs[it->idx];
        char ps[16], os[24];
        rd_kafka_headers_t *h = rd_kafka_headers_new(8);
        rd_kafka_resp_err_t err;

        snprintf(ps, sizeof ps, "%d", m->partition);
        snprintf(os, sizeof os, "%" PRId64, m->offset);
        rd_kafka_header_add(h, "dlq.topic", -1, c->topic, -1);
        rd_kafka_header_add(h, "dlq.partition", -1, ps, -1);
        rd_kafka_header_add(h, "dlq.offset", -1, os, -1);
        rd_kafka_header_add(h, "dlq.error.class", -1, it->error_class, -1);
        rd_kafka_header_add(h, "dlq.error.message", -1, it->message, -1);
        rd_kafka_header_add(h, "dlq.group", -1, c->group, -1);
        rd_kafka_header_add(h, "dlq.time", -1, now, -1);
        err = rd_kafka_producev(c->dlq, RD_KAFKA_V_TOPIC(c->dlq_topic),
                                RD_KAFKA_V_KEY(m->key, m->key_len),
                                RD_KAFKA_V_VALUE((void *)m->value, m->value_len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (err) {
            rd_kafka_headers_destroy(h);
            snprintf(errstr, n, "unable to queue dead letter for %s: %s", c->dlq_topic,
                     rd_kafka_err2str(err));
            return -1;
        }
    }
    if (c->rej.count && rd_kafka_flush(c->dlq, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, n, "dead letters to '%s' not flushed within 30 s", c->dlq_topic);
        return -1;
    }
    if (c->dlq_failed) {
        snprintf(errstr, n, "%d dead letters to '%s' failed", c->dlq_failed, c->dlq_topic);
        return -1;
    }
    return 0;
}

static void commit_to_kafka(consumer *c, const int64_t *next)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (int p = 0; p < c->npart; p++)
        if (next[p] >= 0)
            rd_kafka_topic_partition_list_add(l, c->topic, p)->offset = next[p];
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, l, 1);
    if (err)
        log_warn("kafka commit failed", "topic=%s error=\"%s\"", c->topic, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* After a fence: reload the offsets PostgreSQL holds and seek every assigned partition
 * to them. */
static void rewind_to_stored(consumer *c)
{
    char errstr[512];
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_error_t *err;

    if (load_offsets(c, errstr, sizeof errstr) < 0) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "unable to reload offsets: %.400s", errstr);
        c->fatal = 1;
        return;
    }
    /* Every assigned partition, not only the batch's: the reload may have moved any of
     * them, and messages already fetched from the old position must not be applied. */
    l = rd_kafka_topic_partition_list_new(8);
    for (int p = 0; p < c->npart; p++)
        if (c->assigned[p])
            rd_kafka_topic_partition_list_add(l, c->topic, p)->offset =
                c->expected[p] >= 0 ? c->expected[p] : RD_KAFKA_OFFSET_BEGINNING;
    /* A seek that did not happen would let the consumer go on from past the stored offset
     * and skip events for good: stop instead, a restart resumes from PostgreSQL. */
    if ((err = rd_kafka_seek_partitions(c->rk, l, 10000))) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "seek to the stored offsets failed: %s",
                 rd_kafka_error_string(err));
        c->fatal = 1;
        rd_kafka_error_destroy(err);
    }
    for (int i = 0; i < l->cnt && !c->fatal; i++)
        if (l->elems[i].err) {
            snprintf(c->fatal_msg, sizeof c->fatal_msg,
                     "seek of partition %d to the stored offset failed: %s", l->elems[i].partition,
                     rd_kafka_err2str(l->elems[i].err));
            c->fatal = 1;
        }
    rd_kafka_topic_partition_list_destroy(l);
}

static void update_lag(consumer *c)
{
    int64_t lag = 0;
    for (int p = 0; p < c->npart; p++) {
        int64_t lo, hi;
        if (!c->assigned[p])
            continue;
        if (rd_kafka_get_watermark_offsets(c->rk, c->topic, p, &lo, &hi) || hi < 0) {
            c->stats.lag = -1;
            return;
        }
        int64_t pos = c->expected[p] >= 0 ? c->expected[p] : lo;
        if (hi > pos)
            lag += hi - pos;
    }
    c->stats.lag = lag;
}

/* 0 applied (or fenced and rewound), -1 failed (retry). */
static int try_batch(consumer *c, int64_t *next, char *errstr, size_t n)
{
    consumer_batch b = {c->topic, c->group, c->msgs, c->nheld};
    char rb[256];
    int fenced;

    c->rej.count = 0;
    c->rej.oom = 0;
    if (pg_ready(c, errstr, n) < 0)
        return -1;
    if (pg_exec(c->pg, "BEGIN", errstr, n) < 0)
        return -1;
    if ((fenced = fence_and_store(c, next, errstr, n)) != 0)
        goto rollback;
    if (c->apply(c->opaque, c->pg, &b, &c->rej, errstr, n) < 0)
        goto rollback;
    if (c->rej.oom) {
        snprintf(errstr, n, "out of memory recording rejections");
        goto rollback;
    }
    if (record_dead_letters(c, &b, errstr, n) < 0 || produce_dead_letters(c, &b, errstr, n) < 0)
        goto rollback;
    if (pg_exec(c->pg, "COMMIT", errstr, n) < 0)
        return -1;
    return 0;
rollback:
    pg_exec(c->pg, "ROLLBACK", rb, sizeof rb);
    if (fenced == 1) {
        c->stats.fenced++;
        log_warn("batch fenced; another consumer owns the partition", "topic=%s reason=\"%s\"",
                 c->topic, errstr);
        rewind_to_stored(c);
        return 1;
    }
    return -1;
}

static int process_batch(consumer *c)
{
    int64_t started = dates_now_us();
    int64_t *next = malloc((size_t)(c->npart ? c->npart : 1) * sizeof *next);
    char errstr[1024];
    int rc = -1;

    if (!next) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "out of memory");
        c->fatal = 1;
        return -1;
    }
    for (int p = 0; p < c->npart; p++)
        next[p] = -1;
    for (int i = 0; i < c->nheld; i++) {
        rd_kafka_message_t *m = c->held[i];
        c->msgs[i] = (consumer_msg){m->partition, m->offset, m->key, m->key_len,
                                    m->payload, m->len, rd_kafka_message_timestamp(m, NULL)};
        if (m->offset + 1 > next[m->partition])
            next[m->partition] = m->offset + 1;
    }
    for (int attempt = 1;; attempt++) {
        rc = try_batch(c, next, errstr, sizeof errstr);
        if (rc >= 0)
            break;
        c->stats.retries++;
        if (attempt == MAX_ATTEMPTS) {
            snprintf(c->fatal_msg, sizeof c->fatal_msg,
                     "batch failed %d times, giving up: %.400s", attempt, errstr);
            c->fatal = 1;
            break;
        }
        log_warn("batch failed; retrying", "topic=%s attempt=%d error=\"%s\"", c->topic, attempt,
                 errstr);
        sleep((unsigned)(attempt < 4 ? attempt : 4));
    }
    if (rc == 0) {
        for (int p = 0; p < c->npart; p++)
            if (next[p] >= 0)
                c->expected[p] = next[p];
        commit_to_kafka(c, next);
        c->stats.batches++;
        c->stats.messages += (uint64_t)c->nheld;
        c->stats.rejected += (uint64_t)c->rej.count;
        c->stats.last_batch_us = dates_now_us() - started;
        update_lag(c);
        if (c->metrics)
            c->metrics(c->metrics_opaque, &c->stats);
        log_debug("batch applied", "topic=%s messages=%d rejected=%d us=%" PRId64, c->topic,
                  c->nheld, c->rej.count, c->stats.last_batch_us);
    }
    free(next);
    drop_held(c);
    return rc == 0 ? 0 : -1;
}

static int all_drained(const consumer *c)
{
    int any = 0;
    for (int p = 0; p < c->npart; p++) {
        if (!c->assigned[p])
            continue;
        any = 1;
        if (!c->eof[p])
            return 0;
    }
    return any;
}

static void log_progress(consumer *c)
{
    update_lag(c);
    log_info("progress",
             "topic=%s group=%s batches=%" PRIu64 " messages=%" PRIu64 " rejected=%" PRIu64
             " fenced=%" PRIu64 " retries=%" PRIu64 " lag=%" PRId64,
             c->topic, c->group, c->stats.batches, c->stats.messages, c->stats.rejected,
             c->stats.fenced, c->stats.retries, c->stats.lag);
}

int consumer_run(consumer *c, char *errstr, size_t n)
{
    int64_t deadline = 0, next_stats = mono_ms() + c->stats_interval_s * 1000;

    while (!c->stop && !c->fatal) {
        int64_t now = mono_ms();
        int timeout = c->nheld ? (int)(deadline > now ? deadline - now : 0) : 200;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout);

        if (m) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (m->partition < c->npart)
                    c->eof[m->partition] = 1;
                rd_kafka_message_destroy(m);
            } else if (m->err) {
                log_warn("kafka error", "topic=%s error=\"%s\"", c->topic,
                         rd_kafka_message_errstr(m));
                if (m->err == RD_KAFKA_RESP_ERR__FATAL ||
                    m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                    snprintf(c->fatal_msg, sizeof c->fatal_msg, "%s", rd_kafka_message_errstr(m));
                    c->fatal = 1;
                }
                rd_kafka_message_destroy(m);
            } else if (m->partition >= c->npart || !c->assigned[m->partition] ||
                       m->offset < c->expected[m->partition]) {
                /* Not ours, or already applied (stored offset is past it): skip. */
                rd_kafka_message_destroy(m);
            } else {
                c->eof[m->partition] = 0;
                if (c->nheld == 0)
                    deadline = mono_ms() + c->max_ms;
                c->held[c->nheld++] = m;
            }
        }
        if (c->nheld &&
            (c->nheld >= c->max_msgs || mono_ms() >= deadline || all_drained(c)))
            process_batch(c);
        else if (!c->nheld && c->exit_when_drained && all_drained(c))
            break;
        if (c->stats_interval_s > 0 && mono_ms() >= next_stats) {
            log_progress(c);
            next_stats = mono_ms() + c->stats_interval_s * 1000;
        }
    }
    /* On a stop request the open batch is finished, not abandoned. */
    if (c->nheld && !c->fatal)
        process_batch(c);
    log_progress(c);
    if (c->fatal) {
        snprintf(errstr, n, "%s", c->fatal_msg);
        return -1;
    }
    return 0;
}

void consumer_destroy(consumer *c)
{
    if (!c)
        return;
    if (c->rk) {
        rd_kafka_consumer_close(c->rk);
        drop_held(c);
        rd_kafka_destroy(c->rk);
    }
    if (c->dlq) {
        rd_kafka_flush(c->dlq, 10000);
        rd_kafka_destroy(c->dlq);
    }
    if (c->pg)
        PQfinish(c->pg);
    free(c->rej.items);
    free(c->held);
    free(c->msgs);
    free(c->assigned);
    free(c->eof);
    free(c->expected);
    free(c->conninfo);
    free(c->group);
    free(c->topic);
    free(c->dlq_topic);
    free(c);
}
