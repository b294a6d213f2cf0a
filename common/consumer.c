/* consumer: the poll thread of the batch-consumer loop: fetching, batching per worker,
 * rebalances and rewinds. The transactions are consumer_worker.c's. */
#include "consumer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

#include "consumer_worker.h"
#include "dates.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"
#include "tpmap.h"

/* How long the poll thread polls Kafka at a time while a worker waits for a slot: the
 * slot it waits for is taken this soon after the worker frees it. */
#define BLOCKED_POLL_MS 5
/* When every worker waits for a slot, the poll thread waits too (nothing it fetched could
 * go anywhere); after this long it pauses their partitions and polls on, so that the group
 * does not lose it during a long outage. */
#define PAUSE_AFTER_MS 2000
/* How long a rebalance or a rewind waits for the workers' open transactions. */
#define DRAIN_WAIT_MS 60000

struct consumer {
    consumer_shared sh;
    rd_kafka_t *rk;
    PGconn *pg;                     /* the poll thread's, for stored offsets */
    char *conninfo, *pg_options;
    consumer_worker **workers;
    int nworkers;
    int max_msgs, max_ms, exit_when_drained, stats_interval_s;
    int idle_handoff; /* batch.idle.handoff: a worker with nothing to apply takes what is there */
    int64_t cluster_wait_ms;
    int fatal;
    char fatal_msg[512];

    /* Per topic partition: sh.tps (tpmap.h); the poll thread's marks are its entries'
     * assigned, eof and taken. */
    int nassigned;
    int64_t assigned_at_ms;         /* 0 while nothing is assigned */
    /* Per worker: a message waiting for a slot of that worker; meanwhile the worker's
     * partitions are paused while the others' go on, and what was fetched for it before
     * the pause and dropped is read again after a seek. */
    rd_kafka_message_t **pending;
    unsigned char *paused, *dropped;
    int npending;
    int nactive;                    /* workers with assigned partitions */
    int64_t all_waiting_ms;         /* since when every active worker waits; 0 otherwise */
    char kafka_down[128];           /* a cluster-wide Kafka error since the last message */
    int64_t kafka_down_ms;          /* when it began; 0 while Kafka answers */
};

/* ---- topic partitions and stored offsets ---- */

static int worker_of(const consumer *c, const tpmap_entry *e);

/* Every entry of the map, for a loop: for (size_t i = 0; (e = entry(c, i)); i++). */
static tpmap_entry *entry(const consumer *c, size_t i)
{
    return tpmap_at(c->sh.tps, i);
}

static int pg_ready(consumer *c, char *errstr, size_t n)
{
    if (c->pg && PQstatus(c->pg) == CONNECTION_OK)
        return 0;
    if (c->pg) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->pg = pg_connect_with(c->conninfo, c->sh.group, c->pg_options, errstr, n);
    return c->pg ? 0 : -1;
}

/* Read the stored offsets of the group into the entries' expected; on failure every entry
 * is CONSUMER_OFFSET_UNKNOWN (the fence refuses it until read). 0 or -1 + errstr. */
static int load_offsets(consumer *c, char *errstr, size_t n)
{
    consumer_shared *sh = &c->sh;
    const char *params[1] = {sh->group};
    PGresult *res = NULL;
    tpmap_entry *e;
    int rc = -1;

    if (pg_ready(c, errstr, n) == 0)
        res = pg_query(c->pg,
                       "SELECT topic, partition, next_offset FROM consumer_offsets "
                       "WHERE group_id = $1",
                       1, params, errstr, n);
    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; (e = entry(c, i)); i++)
        e->expected = res ? -1 : CONSUMER_OFFSET_UNKNOWN;
    for (int r = 0; res && r < PQntuples(res); r++) {
        /* Only the group's topics this consumer has met: others are another's business. */
        e = tpmap_find(sh->tps, PQgetvalue(res, r, 0), (int32_t)atoi(PQgetvalue(res, r, 1)));
        if (e)
            e->expected = strtoll(PQgetvalue(res, r, 2), NULL, 10);
    }
    pthread_mutex_unlock(&sh->lock);
    if (res) {
        PQclear(res);
        rc = 0;
    }
    return rc;
}

/* Where e starts reading: its stored offset, else the beginning (no stored row means
 * nothing of it was applied; an unknown one is fenced and rewound later). */
static int64_t start_offset(consumer *c, const tpmap_entry *e)
{
    int64_t x;

    pthread_mutex_lock(&c->sh.lock);
    x = e->expected;
    pthread_mutex_unlock(&c->sh.lock);
    return x >= 0 ? x : RD_KAFKA_OFFSET_BEGINNING;
}

/* A list of the assigned topic partitions of worker w, or of all with w -1 (offsets
 * unset); the caller destroys it. */
static rd_kafka_topic_partition_list_t *assigned_list(const consumer *c, int w)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    tpmap_entry *e;

    for (size_t i = 0; (e = entry(c, i)); i++)
        if (e->assigned && (w < 0 || worker_of(c, e) == w))
            rd_kafka_topic_partition_list_add(l, e->topic, e->partition);
    return l;
}

/* ---- slots ---- */

static void set_paused(consumer *c, int w, int pause, int seek);

/* Drop everything not yet handed to a worker's transaction, and what waits in the inboxes.
 * (What was dropped is read again: by a seek, or by the partition's next owner.) */
static void drop_unapplied(consumer *c, int abort_workers)
{
    for (int w = 0; w < c->nworkers && c->pending && c->paused && c->dropped; w++) {
        if (c->pending[w]) {
            rd_kafka_message_destroy(c->pending[w]);
            c->pending[w] = NULL;
            c->npending--;
        }
        /* The caller seeks, or the partitions go. */
        set_paused(c, w, 0, 0);
        c->dropped[w] = 0;
    }
    for (int w = 0; w < c->nworkers; w++) {
        consumer_slot *s = consumer_worker_filling(c->workers[w]);
        if (s)
            consumer_slot_clear(s);
        consumer_worker_abort(c->workers[w], abort_workers);
    }
    for (size_t i = 0; entry(c, i); i++)
        entry(c, i)->taken = -1;
}

/* Wait (bounded) until no worker has a transaction open, then clear their abort flags. */
static void drain_workers(consumer *c)
{
    for (int w = 0; w < c->nworkers; w++)
        if (!consumer_worker_wait_idle(c->workers[w], DRAIN_WAIT_MS))
            log_warn("worker still busy; going on (its commit will be fenced if stale)",
                     "topic=%s worker=%d", c->sh.topic, w);
    for (int w = 0; w < c->nworkers; w++)
        consumer_worker_abort(c->workers[w], 0);
}

/* Seek every assigned partition (of worker w, or all with w -1) to its stored offset (or
 * where it was taken up to). A seek that did not happen could skip events for good: that
 * is fatal. */
static void seek_assigned(consumer *c, int w, int to_taken)
{
    rd_kafka_topic_partition_list_t *l = assigned_list(c, w);
    rd_kafka_error_t *err;
    tpmap_entry *e;

    for (int i = 0; i < l->cnt; i++) {
        e = tpmap_find(c->sh.tps, l->elems[i].topic, l->elems[i].partition);
        l->elems[i].offset = to_taken && e->taken >= 0 ? e->taken : start_offset(c, e);
    }
    if (l->cnt && (err = rd_kafka_seek_partitions(c->rk, l, 10000))) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "seek to the stored offsets failed: %s",
                 rd_kafka_error_string(err));
        c->fatal = 1;
        rd_kafka_error_destroy(err);
    }
    for (int i = 0; i < l->cnt && !c->fatal; i++)
        if (l->elems[i].err) {
            snprintf(c->fatal_msg, sizeof c->fatal_msg, "seek of %s/%d failed: %s",
                     l->elems[i].topic, l->elems[i].partition,
                     rd_kafka_err2str(l->elems[i].err));
            c->fatal = 1;
        }
    /* A seek back to where they were taken leaves them where they were. */
    for (size_t i = 0; (e = entry(c, i)) && !to_taken; i++)
        if (w < 0 || worker_of(c, e) == w)
            e->eof = 0;
    rd_kafka_topic_partition_list_destroy(l);
}

/* After a fence: drop what is not applied, reload the stored offsets, seek every assigned
 * partition there (not only the fenced one: the reload may have moved any). */
static void rewind_to_stored(consumer *c)
{
    char errstr[512];

    drop_unapplied(c, 1);
    drain_workers(c);
    pthread_mutex_lock(&c->sh.lock);
    c->sh.rewind = 0;
    pthread_mutex_unlock(&c->sh.lock);
    if (load_offsets(c, errstr, sizeof errstr) < 0)
        log_warn("unable to reload stored offsets; reading on, fenced until they load",
                 "topic=%s error=\"%s\"", c->sh.topic, errstr);
    seek_assigned(c, -1, 0);
}

/* Pause or resume the partitions of worker w: the poll thread goes on with the other
 * workers' while w has no slot for the message it waits with. librdkafka drops what it
 * fetched for them before the pause and, on the resume, fetches from after the last
 * message it gave (the pending one, taken by then). With seek, a resume first seeks them
 * to where they were taken up to when on_message dropped some of their messages itself. A
 * partition left paused would stall silently: that is fatal. */
static void set_paused(consumer *c, int w, int pause, int seek)
{
    rd_kafka_topic_partition_list_t *l;
    rd_kafka_resp_err_t err;

    if (c->paused[w] == pause)
        return;
    l = assigned_list(c, w);
    if (pause) {
        err = rd_kafka_pause_partitions(c->rk, l);
        pthread_mutex_lock(&c->sh.lock);
        c->sh.stats.pauses++;
        pthread_mutex_unlock(&c->sh.lock);
    } else {
        if (seek && c->dropped[w])
            seek_assigned(c, w, 1);
        err = rd_kafka_resume_partitions(c->rk, l);
        c->dropped[w] = 0;
    }
    for (int i = 0; i < l->cnt && !err; i++)
        err = l->elems[i].err;
    if (err && !c->fatal) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "unable to %s the partitions of worker %d: %s",
                 pause ? "pause" : "resume", w, rd_kafka_err2str(err));
        c->fatal = 1;
    }
    c->paused[w] = (unsigned char)pause;
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---- rebalances ---- */

static void on_assign(consumer *c, rd_kafka_topic_partition_list_t *parts)
{
    char errstr[512];
    rd_kafka_resp_err_t err;
    int oom = 0;

    pthread_mutex_lock(&c->sh.lock);
    for (int i = 0; i < parts->cnt; i++)
        oom |= !tpmap_get(c->sh.tps, parts->elems[i].topic, parts->elems[i].partition);
    pthread_mutex_unlock(&c->sh.lock);
    if (oom) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "out of memory on assignment");
        c->fatal = 1;
        rd_kafka_assign(c->rk, NULL);
        return;
    }
    if (load_offsets(c, errstr, sizeof errstr) < 0)
        log_warn("unable to read stored offsets on assignment; reading from the beginning,"
                 " fenced until they load", "topic=%s error=\"%s\"", c->sh.topic, errstr);
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &parts->elems[i];
        tpmap_entry *e = tpmap_find(c->sh.tps, tp->topic, tp->partition);
        e->assigned = 1;
        e->eof = 0;
        e->taken = -1;
        tp->offset = start_offset(c, e);
        log_info("partition assigned", "topic=%s partition=%d resume_offset=%" PRId64,
                 tp->topic, tp->partition, tp->offset);
    }
    c->nassigned = parts->cnt;
    c->assigned_at_ms = consumer_mono_ms();
    c->nactive = 0;
    for (int w = 0; w < c->nworkers; w++) {
        rd_kafka_topic_partition_list_t *l = assigned_list(c, w);
        c->nactive += l->cnt > 0;
        rd_kafka_topic_partition_list_destroy(l);
    }
    if ((err = rd_kafka_assign(c->rk, parts))) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "unable to take the assignment: %s",
                 rd_kafka_err2str(err));
        c->fatal = 1;
    }
}

static void on_revoke(consumer *c, rd_kafka_topic_partition_list_t *parts)
{
    /* What is not applied is the next owner's, from PostgreSQL's offsets. */
    drop_unapplied(c, 1);
    drain_workers(c);
    for (size_t i = 0; entry(c, i); i++)
        entry(c, i)->assigned = 0;
    c->nassigned = 0;
    c->assigned_at_ms = 0;
    c->nactive = 0;
    log_info("partitions revoked", "topic=%s count=%d", c->sh.topic, parts->cnt);
    rd_kafka_assign(c->rk, NULL);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    consumer *c = opaque;

    /* The slots and the stored offsets assume the eager protocol (all partitions revoked,
     * then assigned): refuse an incremental one rather than mis-handle it. */
    if (strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg,
                 "the cooperative rebalance protocol is not supported; use an eager "
                 "partition.assignment.strategy (range, roundrobin)");
        c->fatal = 1;
        rd_kafka_assign(rk, NULL);
        return;
    }
    pthread_mutex_lock(&c->sh.lock);
    c->sh.stats.rebalances++;
    pthread_mutex_unlock(&c->sh.lock);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(c, parts);
    else
        on_revoke(c, parts);
}

/* ---- creating ---- */

static int read_settings(consumer *c, const config *cfg, char *errstr, size_t n)
{
    char options[256];

    c->max_msgs = (int)config_int(cfg, "batch.max.messages");
    c->max_ms = (int)config_int(cfg, "batch.max.ms");
    c->idle_handoff = config_bool(cfg, "batch.idle.handoff");
    c->exit_when_drained = config_bool(cfg, "exit.when.drained");
    c->stats_interval_s = (int)config_int(cfg, "stats.interval.s");
    c->nworkers = (int)config_int(cfg, "apply.workers");
    c->cluster_wait_ms = config_int(cfg, "cluster.wait.s") * 1000;
    c->sh.backoff_max_ms = config_int(cfg, "retry.backoff.max.ms");
    if (c->max_msgs < 1 || c->max_ms < 1 || c->nworkers < 1 || c->nworkers > 16 ||
        c->sh.backoff_max_ms < 200 || c->cluster_wait_ms < 1000) {
        snprintf(errstr, n, "batch.max.messages and batch.max.ms must be positive, "
                            "apply.workers 1-16, retry.backoff.max.ms >= 200, "
                            "cluster.wait.s >= 1");
        return -1;
    }
    snprintf(options, sizeof options,
             "-c lock_timeout=%lld -c statement_timeout=%lld"
             " -c idle_in_transaction_session_timeout=%lld",
             config_int(cfg, "pg.lock_timeout.ms"), config_int(cfg, "pg.statement_timeout.ms"),
             config_int(cfg, "pg.idle_in_transaction_timeout.ms"));
    c->conninfo = strdup(config_get(cfg, "pg") ? config_get(cfg, "pg") : "");
    c->pg_options = strdup(options);
    if (!c->conninfo || !c->pg_options) {
        snprintf(errstr, n, "out of memory");
        return -1;
    }
    return 0;
}

static int subscribe(consumer *c, const config *cfg, char *errstr, size_t n)
{
    static const char *const defaults[] = {
        "enable.auto.commit", "false", "enable.auto.offset.store", "false",
        "auto.offset.reset", "earliest", "enable.partition.eof", "true",
        /* Memory against fetching: what librdkafka fetches ahead is most of a consumer's
         * RSS, and a drain waits on fetches when too little is ahead. A 1M-event drain on
         * 2 cores (same stack, same run): 1024 KB ahead in 256 KB fetches ran 22-25k
         * events/s in 46 MB; 2048 KB 30k in 49 MB. A queue under about five fetches of each
         * partition stalls (1024 with 512 KB fetches: 14k/s). Since a waiting worker's
         * partitions are paused and fetched again on its resume, 1536 KB: 20.6k events/s
         * in 49 MB, where the poll thread that waited for every worker ran 15.8-18.9k in
         * 49-50 MB with 2048 KB (another stack, same run). Once the queue is full librdkafka
         * 2.0 fetches again only when its broker thread next wakes (up to a second later),
         * and the apply connections ran out of batches meanwhile. The roster consumer's 2
         * sat idle on average (make bench, 1M, tests/bench/pg_profile.sh as of its first
         * version, which counted from their connect, the group join included): 1536 KB
         * 0.21-0.29 of 2, 3072 KB 0.29, 4096 KB 0.04-0.12 (batches of 10,000 or 7,000); over
         * the drain alone, make bench-national: 1536 KB 0.20. Every consumer fetches this
         * far ahead; the roster consumer's smaller batches pay for the memory
         * (consumers/roster/main.c). */
        "queued.max.messages.kbytes", "4096", "fetch.max.bytes", "1048576",
        "max.partition.fetch.bytes", "393216",
        /* A new data center's topic joins a pattern subscription within 30 s. */
        "topic.metadata.refresh.interval.ms", "30000", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, c->sh.group, errstr, n);
    rd_kafka_topic_partition_list_t *sub;
    rd_kafka_resp_err_t err;

    if (!conf)
        return -1;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    if (!(c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, n))) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    c->sh.rk = c->rk;
    rd_kafka_poll_set_consumer(c->rk);
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, c->sh.topic, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(c->rk, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        snprintf(errstr, n, "unable to subscribe to '%s': %s", c->sh.topic, rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

consumer *consumer_new(const config *cfg, const char *group, const char *topic,
                       const consumer_handler *handler, char *errstr, size_t n)
{
    consumer *c = calloc(1, sizeof *c);

    if (!c) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->sh.lock, NULL);
    pthread_mutex_init(&c->sh.hook_lock, NULL);
    pthread_cond_init(&c->sh.changed, NULL);
    c->sh.handler = *handler;
    c->sh.stats.lag = -1;
    c->sh.group = strdup(group);
    c->sh.topic = strdup(topic);
    c->sh.tps = tpmap_new();
    if (!c->sh.group || !c->sh.topic || !c->sh.tps) {
        snprintf(errstr, n, "out of memory");
        goto fail;
    }
    pthread_mutex_lock(&c->sh.lock);
    consumer_shared_not_ready(&c->sh, "no partition assigned");
    pthread_mutex_unlock(&c->sh.lock);
    if (read_settings(c, cfg, errstr, n) < 0 || pg_ready(c, errstr, n) < 0)
        goto fail;
    if (!(c->workers = calloc((size_t)c->nworkers, sizeof *c->workers)) ||
        !(c->pending = calloc((size_t)c->nworkers, sizeof *c->pending)) ||
        !(c->paused = calloc((size_t)c->nworkers, 1)) || !(c->dropped = calloc((size_t)c->nworkers, 1))) {
        snprintf(errstr, n, "out of memory");
        goto fail;
    }
    for (int w = 0; w < c->nworkers; w++)
        if (!(c->workers[w] = consumer_worker_new(cfg, &c->sh, w, c->max_msgs, errstr, n)))
            goto fail;
    if (subscribe(c, cfg, errstr, n) < 0)
        goto fail;
    return c;
fail:
    consumer_destroy(c);
    return NULL;
}

void consumer_on_batch(consumer *c, consumer_batch_fn fn, void *opaque)
{
    pthread_mutex_lock(&c->sh.hook_lock);
    c->sh.on_batch = fn;
    c->sh.on_batch_opaque = opaque;
    pthread_mutex_unlock(&c->sh.hook_lock);
}

void consumer_on_commit(consumer *c, consumer_commit_fn fn, void *opaque)
{
    pthread_mutex_lock(&c->sh.hook_lock);
    c->sh.on_commit = fn;
    c->sh.on_commit_opaque = opaque;
    pthread_mutex_unlock(&c->sh.hook_lock);
}

void consumer_stop(consumer *c)
{
    c->sh.stop = 1;
}

void consumer_get_stats(consumer *c, consumer_stats *out)
{
    pthread_mutex_lock(&c->sh.lock);
    *out = c->sh.stats;
    if (c->sh.not_ready_since_us)
        out->not_ready_us += dates_now_us() - c->sh.not_ready_since_us;
    pthread_mutex_unlock(&c->sh.lock);
}

/* ---- the loop ---- */

static void update_lag(consumer *c)
{
    int64_t lag = c->nassigned ? 0 : -1;
    tpmap_entry *e;

    for (size_t i = 0; lag >= 0 && (e = entry(c, i)); i++) {
        int64_t lo, hi, x;
        if (!e->assigned)
            continue;
        if (rd_kafka_get_watermark_offsets(c->rk, e->topic, e->partition, &lo, &hi) || hi < 0) {
            lag = -1;
            break;
        }
        pthread_mutex_lock(&c->sh.lock);
        x = e->expected;
        pthread_mutex_unlock(&c->sh.lock);
        if (hi > (x >= 0 ? x : lo))
            lag += hi - (x >= 0 ? x : lo);
    }
    pthread_mutex_lock(&c->sh.lock);
    c->sh.stats.lag = lag;
    pthread_mutex_unlock(&c->sh.lock);
}

static void log_progress(consumer *c)
{
    consumer_stats st;

    update_lag(c);
    consumer_get_stats(c, &st);
    log_info("progress",
             "topic=%s group=%s batches=%" PRIu64 " messages=%" PRIu64 " rejected=%" PRIu64
             " fenced=%" PRIu64 " retries=%" PRIu64 " bisects=%" PRIu64 " pauses=%" PRIu64
             " lag=%" PRId64 " ready=%d txn_s=%.3f commit_s=%.3f",
             c->sh.topic, c->sh.group, st.batches, st.messages, st.rejected, st.fenced,
             st.retries, st.bisects, st.pauses, st.lag, st.ready, (double)st.txn_us_sum / 1e6,
             (double)st.commit_us_sum / 1e6);
}

/* The worker of a topic partition: spread by partition, and by topic among topics. */
static int worker_of(const consumer *c, const tpmap_entry *e)
{
    unsigned h = 0;

    for (const unsigned char *t = (const unsigned char *)e->topic; *t; t++)
        h = h * 31 + *t;
    return (int)((h + (unsigned)e->partition) % (unsigned)c->nworkers);
}

/* Prepare slot s (no database) and hand it to worker w. 0, or -1 when the inbox is taken
 * (the slot stays FILLING, prepared). */
static int hand_off(consumer *c, int w, consumer_slot *s)
{
    consumer_batch b = {c->sh.topic, c->sh.group, s->msgs, s->count};
    char errstr[512];

    consumer_slot_seal(s);
    if (!s->prepared && c->sh.handler.prepare) {
        consumer_rejects_reset(&s->rej);
        /* A failure here is retried by the worker, which prepares again. */
        s->prepared = c->sh.handler.prepare(s->ctx, &b, &s->rej, errstr, sizeof errstr) == 0;
    }
    return consumer_worker_submit(c->workers[w], s);
}

/* Hand off every FILLING slot that is full, past its deadline, or (all) when flushing; with
 * batch.idle.handoff and starved (a poll returned nothing), also those whose
 * worker has nothing to apply: its connection would otherwise sit idle until batch.max.ms
 * while the fetches lag behind it, and the next slot still grows while this one is
 * applied. */
static void hand_off_due(consumer *c, int flush, int starved)
{
    int64_t now = consumer_mono_ms();

    for (int w = 0; w < c->nworkers; w++) {
        consumer_slot *s;
        if (!consumer_worker_filled(c->workers[w]) || !(s = consumer_worker_filling(c->workers[w])))
            continue;
        if (flush || s->count >= s->cap || now >= s->deadline_ms ||
            (starved && c->idle_handoff && consumer_worker_idle(c->workers[w])))
            hand_off(c, w, s);
    }
}

/* With batch.idle.handoff, 1 when a worker has nothing to apply and events wait in its
 * FILLING slot. */
static int idle_with_events(consumer *c)
{
    if (!c->idle_handoff)
        return 0;
    for (int w = 0; w < c->nworkers; w++)
        if (consumer_worker_filled(c->workers[w]) && consumer_worker_idle(c->workers[w]))
            return 1;
    return 0;
}

/* 1 when every assigned partition is at the end of its log. */
static int at_end(const consumer *c)
{
    if (!c->nassigned)
        return 0;
    for (size_t i = 0; entry(c, i); i++)
        if (entry(c, i)->assigned && !entry(c, i)->eof)
            return 0;
    return 1;
}

static int rewind_requested(consumer *c);

/* At the end, and everything taken is applied (and no fence asks to read some again). */
static int all_drained(consumer *c)
{
    if (!at_end(c) || c->npending)
        return 0;
    for (int w = 0; w < c->nworkers; w++)
        if (consumer_worker_filled(c->workers[w]) || !consumer_worker_idle(c->workers[w]))
            return 0;
    /* Last: a worker sets the flag before it becomes idle. */
    return !rewind_requested(c);
}

/* Ready: partitions assigned, Kafka answering, no worker retrying. */
static void update_readiness(consumer *c)
{
    consumer_shared *sh = &c->sh;

    pthread_mutex_lock(&sh->lock);
    if (!c->nassigned)
        consumer_shared_not_ready(sh, "no partition assigned");
    else if (c->kafka_down[0])
        consumer_shared_not_ready(sh, c->kafka_down);
    else if (sh->retrying)
        consumer_shared_not_ready(sh, sh->retry_reason);
    else
        consumer_shared_ready(sh);
    pthread_mutex_unlock(&sh->lock);
}

/* The entry of m's topic partition, NULL when it is not one the consumer met. */
static tpmap_entry *entry_of(consumer *c, const rd_kafka_message_t *m)
{
    tpmap_entry *e;

    pthread_mutex_lock(&c->sh.lock);
    e = tpmap_find(c->sh.tps, rd_kafka_topic_name(m->rkt), m->partition);
    pthread_mutex_unlock(&c->sh.lock);
    return e;
}

/* 1 when m is the last record of its partition as the fetch that brought it saw it (the
 * high watermark librdkafka keeps from each fetch response; no request is sent): the
 * partition is at its end now, not only once the next fetch comes back empty. librdkafka
 * 2.0 reports PARTITION_EOF from that empty fetch, which the broker holds up to
 * fetch.wait.max.ms, and a lone incident would wait for batch.max.ms instead of going to
 * PostgreSQL at once. Exactly the last: a watermark behind m (a new leader's, for a moment)
 * says nothing, and under a transaction or its marker the last record is below it; then
 * PARTITION_EOF decides, as before. */
static int at_high_watermark(consumer *c, const rd_kafka_message_t *m)
{
    int64_t low, high;

    return rd_kafka_get_watermark_offsets(c->rk, rd_kafka_topic_name(m->rkt), m->partition, &low,
                                          &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
           m->offset + 1 == high;
}

/* Take message m, of entry e and worker w, into the worker's filling slot. 0, or -1 when
 * both slots are taken (the caller keeps m pending). */
static int take(consumer *c, rd_kafka_message_t *m, tpmap_entry *e, int w)
{
    consumer_slot *s = consumer_worker_filling(c->workers[w]);

    if (s && s->count >= s->cap && hand_off(c, w, s) == 0)
        s = consumer_worker_filling(c->workers[w]);
    if (!s || s->count >= s->cap)
        return -1;
    if (s->count == 0)
        s->deadline_ms = consumer_mono_ms() + c->max_ms;
    if (consumer_slot_add(s, m, e->topic) < 0)
        return -1; /* out of memory: it waits, as for a full slot */
    e->taken = m->offset + 1;
    e->eof = at_high_watermark(c, m);
    rd_kafka_message_destroy(m);
    return 0;
}

static int64_t expected_of(consumer *c, const tpmap_entry *e)
{
    int64_t x;

    pthread_mutex_lock(&c->sh.lock);
    x = e->expected;
    pthread_mutex_unlock(&c->sh.lock);
    return x;
}

static void on_kafka_error(consumer *c, const rd_kafka_message_t *m)
{
    log_warn("kafka error", "topic=%s error=\"%s\"", c->sh.topic, rd_kafka_message_errstr(m));
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg, "%s", rd_kafka_message_errstr(m));
        c->fatal = 1;
    } else if (m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
               m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        snprintf(c->kafka_down, sizeof c->kafka_down, "kafka: %s", rd_kafka_err2str(m->err));
        if (!c->kafka_down_ms)
            c->kafka_down_ms = consumer_mono_ms();
    }
}

/* One polled event. */
static void on_message(consumer *c, rd_kafka_message_t *m)
{
    tpmap_entry *e = m->rkt ? entry_of(c, m) : NULL;

    if (!m->err || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        c->kafka_down[0] = '\0';
        c->kafka_down_ms = 0;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        /* (A seek clears it; librdkafka drops what was fetched before a seek.) */
        if (e)
            e->eof = 1;
        rd_kafka_message_destroy(m);
    } else if (m->err) {
        on_kafka_error(c, m);
        rd_kafka_message_destroy(m);
    } else if (!e || !e->assigned || m->offset < expected_of(c, e) || (e->taken >= 0 && m->offset < e->taken)) {
        /* Not ours, or already applied or taken. */
        rd_kafka_message_destroy(m);
    } else {
        int w = worker_of(c, e);
        if (c->pending[w]) {
            /* Fetched for a worker that waits (read again after the seek that resumes
             * it): dropped means paused, and that partition is not at its end before. */
            c->dropped[w] = 1;
            e->eof = 0;
            set_paused(c, w, 1, 0);
            rd_kafka_message_destroy(m);
        } else if (take(c, m, e, w) < 0) {
            c->pending[w] = m;
            c->npending++;
            /* The others go on; when none can, the poll thread waits (consumer_run). */
            if (c->npending < c->nactive)
                set_paused(c, w, 1, 0);
        }
    }
}

/* Take the messages that wait for their workers' slots where a slot is free now and, with
 * resume, resume those workers' partitions. */
static void take_pending(consumer *c, int resume)
{
    for (int w = 0; w < c->nworkers && c->npending; w++) {
        if (!c->pending[w] || take(c, c->pending[w], entry_of(c, c->pending[w]), w) < 0)
            continue;
        c->pending[w] = NULL;
        c->npending--;
        if (resume)
            set_paused(c, w, 0, 1);
    }
}

/* Pause the partitions of every worker that waits for a slot. */
static void pause_waiting(consumer *c)
{
    for (int w = 0; w < c->nworkers; w++)
        if (c->pending[w])
            set_paused(c, w, 1, 0);
}

/* Every worker waits for a slot: wait (bounded) for one of them to change. */
static void wait_for_workers(consumer *c)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 50 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->sh.lock);
    pthread_cond_timedwait(&c->sh.changed, &c->sh.lock, &ts);
    pthread_mutex_unlock(&c->sh.lock);
}

static int rewind_requested(consumer *c)
{
    int r;

    pthread_mutex_lock(&c->sh.lock);
    r = c->sh.rewind;
    pthread_mutex_unlock(&c->sh.lock);
    return r;
}

/* With exit.when.drained: nothing assigned, or Kafka unreachable, for cluster.wait.s is an
 * error (a service without it waits for the cluster as long as it takes). */
static int cluster_gone(consumer *c, int64_t unassigned_ms)
{
    int64_t now = consumer_mono_ms();

    if (!c->exit_when_drained)
        return 0;
    if (!c->nassigned && now - unassigned_ms >= c->cluster_wait_ms) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg,
                 "no partition of '%s' assigned within %" PRId64 " s: is the Kafka cluster"
                 " reachable and the topic there?", c->sh.topic, c->cluster_wait_ms / 1000);
        return 1;
    }
    if (c->kafka_down_ms && now - c->kafka_down_ms >= c->cluster_wait_ms) {
        snprintf(c->fatal_msg, sizeof c->fatal_msg,
                 "Kafka unreachable for %" PRId64 " s (%s); giving up before the end of '%s'",
                 c->cluster_wait_ms / 1000, c->kafka_down, c->sh.topic);
        return 1;
    }
    return 0;
}

static void finish_open(consumer *c)
{
    take_pending(c, 0);
    for (int i = 0; i < 2 && !c->fatal; i++) {
        hand_off_due(c, 1, 0);
        for (int w = 0; w < c->nworkers; w++)
            consumer_worker_wait_idle(c->workers[w], DRAIN_WAIT_MS);
        take_pending(c, 0);
    }
    if (c->npending)
        drop_unapplied(c, 0);
}

int consumer_run(consumer *c, char *errstr, size_t n)
{
    int64_t next_stats = consumer_mono_ms() + c->stats_interval_s * 1000;
    int64_t started = consumer_mono_ms(), unassigned_since = started;

    while (!c->sh.stop && !c->fatal) {
        if (rewind_requested(c)) {
            rewind_to_stored(c);
            continue;
        }
        rd_kafka_message_t *m;
        int starved = 0; /* a poll ran and returned nothing */

        take_pending(c, 1);
        m = NULL;
        if (c->npending && c->npending >= c->nactive) {
            /* Every worker holds both slots (a backlog faster than PostgreSQL, or retrying
             * through an outage): wait for one; after PAUSE_AFTER_MS, with their partitions
             * paused, the group, readiness and progress lines go on too. */
            if (!c->all_waiting_ms)
                c->all_waiting_ms = consumer_mono_ms();
            wait_for_workers(c);
            if (consumer_mono_ms() - c->all_waiting_ms >= PAUSE_AFTER_MS) {
                pause_waiting(c);
                starved = !(m = rd_kafka_consumer_poll(c->rk, 0));
            }
        } else {
            /* A worker that waits has its partitions paused while the others' go on. */
            c->all_waiting_ms = 0;
            if (c->npending)
                pause_waiting(c);
            /* An idle worker whose slot fills (batch.idle.handoff): look without waiting
             * whether more is fetched; if not, it gets the slot as it is (hand_off_due). */
            int wait_ms = c->npending ? BLOCKED_POLL_MS : idle_with_events(c) ? 0 : 50;
            starved = !(m = rd_kafka_consumer_poll(c->rk, wait_ms));
        }
        if (m)
            on_message(c, m);
        hand_off_due(c, at_end(c), starved);
        update_readiness(c);
        if (c->nassigned) {
            unassigned_since = 0;
        } else if (!unassigned_since) {
            unassigned_since = consumer_mono_ms();
        }
        if (c->exit_when_drained && all_drained(c))
            break;
        if (cluster_gone(c, unassigned_since ? unassigned_since : started))
            c->fatal = 1;
        if (c->stats_interval_s > 0 && consumer_mono_ms() >= next_stats) {
            log_progress(c);
            next_stats = consumer_mono_ms() + c->stats_interval_s * 1000;
        }
    }
    /* On a stop request the open batches are finished, not abandoned. */
    if (!c->fatal)
        finish_open(c);
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
        drop_unapplied(c, 1);
        drain_workers(c);
        rd_kafka_consumer_close(c->rk);
    }
    for (int w = 0; c->workers && w < c->nworkers; w++)
        consumer_worker_destroy(c->workers[w]);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    if (c->pg)
        PQfinish(c->pg);
    free(c->workers);
    free(c->pending);
    free(c->paused);
    free(c->dropped);
    free(c->conninfo);
    free(c->pg_options);
    tpmap_destroy(c->sh.tps);
    free(c->sh.group);
    free(c->sh.topic);
    pthread_mutex_destroy(&c->sh.lock);
    pthread_mutex_destroy(&c->sh.hook_lock);
    pthread_cond_destroy(&c->sh.changed);
    free(c);
}
