/* consumer_worker: one apply worker: its thread, connection and batch transactions. */
#include "consumer_worker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dates.h"
#include "dead_letter.h"
#include "log.h"
#include "pg.h"
#include "strbuf.h"
#include "utf8.h"

/* Below this many records a window known to fail is tried one record at a time. */
#define BISECT_LINEAR 8
/* The first wait after a transient failure. */
#define BACKOFF_START_MS 200

typedef enum { TXN_OK, TXN_DATA, TXN_TRANSIENT, TXN_FENCED, TXN_ABORTED } txn_result;

struct consumer_worker {
    int id;
    consumer_shared *sh;
    char *conninfo, *pg_options, *appname;
    PGconn *pg;
    dead_letter_sink *dlq;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;             /* guards slots' states, inbox, abort, quit */
    pthread_cond_t cv;
    consumer_slot slots[2];
    consumer_slot *inbox;           /* READY */
    consumer_slot *cur;             /* APPLYING */
    int abort, quit;
    struct next_offset {            /* per topic partition of one transaction */
        tpmap_entry *tp;
        int64_t next;
    } *next;
    int nnext, next_cap;
    consumer_rejects rej;           /* of the current attempt */
    char sqlstate[6];               /* of the last data failure */
    int in_retry;                   /* counted in sh->retrying */
    int gave_up;                    /* a batch was left unapplied on a stop */
    int64_t commit_us;              /* the last COMMIT's wall time */
    unsigned rng;
};

/* ---- small helpers ---- */

/* Room for n more bytes in s->bytes. */
static int slot_reserve(consumer_slot *s, size_t n)
{
    size_t size = s->size ? s->size : 65536;
    char *grown;

    if (s->used + n <= s->size)
        return 0;
    while (size < s->used + n)
        size *= 2;
    if (!(grown = realloc(s->bytes, size)))
        return -1;
    s->bytes = grown;
    s->size = size;
    return 0;
}

int consumer_slot_add(consumer_slot *s, const rd_kafka_message_t *m, const char *topic)
{
    struct consumer_slot_ref *ref = &s->refs[s->count];

    if (slot_reserve(s, m->key_len + m->len) < 0)
        return -1;
    s->msgs[s->count] = (consumer_msg){topic, m->partition, m->offset, NULL, m->key_len, NULL, m->len,
                                       rd_kafka_message_timestamp(m, NULL)};
    *ref = (struct consumer_slot_ref){s->used, m->key != NULL, m->payload != NULL};
    if (m->key)
        memcpy(s->bytes + s->used, m->key, m->key_len);
    if (m->payload)
        memcpy(s->bytes + s->used + m->key_len, m->payload, m->len);
    s->used += m->key_len + m->len;
    s->count++;
    s->prepared = 0;
    return 0;
}

void consumer_slot_seal(consumer_slot *s)
{
    for (int i = 0; i < s->count; i++) {
        consumer_msg *m = &s->msgs[i];
        const struct consumer_slot_ref *ref = &s->refs[i];
        m->key = ref->has_key ? s->bytes + ref->off : NULL;
        m->value = ref->has_value ? s->bytes + ref->off + m->key_len : NULL;
    }
}

void consumer_slot_clear(consumer_slot *s)
{
    s->used = 0;
    s->count = 0;
    s->prepared = 0;
    consumer_rejects_reset(&s->rej);
    s->state = SLOT_FREE;
}

void consumer_shared_not_ready(consumer_shared *sh, const char *reason)
{
    if (!sh->not_ready_since_us)
        sh->not_ready_since_us = dates_now_us();
    sh->stats.ready = 0;
    snprintf(sh->stats.not_ready_reason, sizeof sh->stats.not_ready_reason, "%s", reason);
}

void consumer_shared_ready(consumer_shared *sh)
{
    if (sh->not_ready_since_us) {
        sh->stats.not_ready_us += dates_now_us() - sh->not_ready_since_us;
        sh->not_ready_since_us = 0;
    }
    sh->stats.ready = 1;
    sh->stats.not_ready_reason[0] = '\0';
}

static void count_class(consumer_stats *st, const char *cls)
{
    for (int i = 0; i < CONSUMER_CLASS_MAX; i++) {
        if (!st->rejected_by_class[i].name[0])
            snprintf(st->rejected_by_class[i].name, sizeof st->rejected_by_class[i].name, "%s",
                     cls);
        if (strcmp(st->rejected_by_class[i].name, cls) == 0) {
            st->rejected_by_class[i].count++;
            return;
        }
    }
}

/* ---- one transaction ---- */

static int grow_next(consumer_worker *w)
{
    int cap = w->next_cap ? w->next_cap * 2 : 32;
    struct next_offset *grown = realloc(w->next, (size_t)cap * sizeof *grown);

    if (!grown)
        return -1;
    w->next = grown;
    w->next_cap = cap;
    return 0;
}

/* The next offset of each topic partition of b into w->next. 0, or -1 when out of memory
 * or a message's topic partition is not in the map (it always is). */
static int batch_next(consumer_worker *w, const consumer_batch *b)
{
    consumer_shared *sh = w->sh;
    int rc = 0;

    w->nnext = 0;
    pthread_mutex_lock(&sh->lock);
    for (int i = 0; i < b->count && rc == 0; i++) {
        const consumer_msg *m = &b->msgs[i];
        int k = w->nnext - 1;
        /* Messages of a topic partition come in runs: look back from the last one. */
        while (k >= 0 && !(w->next[k].tp->partition == m->partition &&
                           w->next[k].tp->topic == m->topic))
            k--;
        if (k < 0) {
            tpmap_entry *tp = tpmap_find(sh->tps, m->topic, m->partition);
            if (!tp || (w->nnext == w->next_cap && grow_next(w) < 0)) {
                rc = -1;
                break;
            }
            k = w->nnext++;
            w->next[k] = (struct next_offset){tp, -1};
        }
        if (m->offset + 1 > w->next[k].next)
            w->next[k].next = m->offset + 1;
    }
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

static int64_t expected_of(consumer_shared *sh, const tpmap_entry *tp)
{
    int64_t e;

    pthread_mutex_lock(&sh->lock);
    e = tp->expected;
    pthread_mutex_unlock(&sh->lock);
    return e;
}

/* Store w->next where PostgreSQL still holds the offset this consumer last saw.
 * TXN_OK, TXN_FENCED, or the failure's class. */
static txn_result fence_and_store(consumer_worker *w, char *errstr, size_t n)
{
    consumer_shared *sh = w->sh;

    for (int k = 0; k < w->nnext; k++) {
        const tpmap_entry *tp = w->next[k].tp;
        char ps[16], nexts[24], exps[24];
        const char *params[5] = {sh->group, tp->topic, ps, nexts, exps};
        int64_t expected = expected_of(sh, tp);
        PGresult *res;
        int ok;

        snprintf(ps, sizeof ps, "%d", tp->partition);
        snprintf(nexts, sizeof nexts, "%" PRId64, w->next[k].next);
        snprintf(exps, sizeof exps, "%" PRId64, expected);
        res = pg_query(w->pg,
                       "INSERT INTO consumer_offsets AS o (group_id, topic, partition, next_offset) "
                       "VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, topic, partition) "
                       "DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now() "
                       "WHERE o.next_offset = $5::bigint RETURNING 1",
                       5, params, errstr, n);
        if (!res)
            return pg_error_classify(w->pg, pg_last_sqlstate()) == PG_ERROR_DATA ? TXN_DATA
                                                                                : TXN_TRANSIENT;
        ok = PQntuples(res) == 1;
        PQclear(res);
        if (!ok) {
            snprintf(errstr, n, "%s/%d: stored offset is no longer %" PRId64, tp->topic,
                     tp->partition, expected);
            return TXN_FENCED;
        }
    }
    return TXN_OK;
}

/* The cheap early look at the fence: whether PostgreSQL still holds the offsets this
 * consumer last saw, read without locking them (fence_and_store takes the locks, after the
 * service's step). A stale consumer then stops before doing the work. TXN_OK, TXN_FENCED,
 * or the failure's class. */
static txn_result fence_check(consumer_worker *w, char *errstr, size_t n)
{
    consumer_shared *sh = w->sh;
    strbuf topics, parts;
    txn_result r = TXN_OK;
    PGresult *res;

    /* The batch's topic partitions as two arrays ('{"a","b"}', '{0,1}'): one round trip. */
    strbuf_init(&topics);
    strbuf_init(&parts);
    for (int k = 0; k < w->nnext; k++) {
        strbuf_printf(&topics, "%s\"%s\"", k ? "," : "{", w->next[k].tp->topic);
        strbuf_printf(&parts, "%s%d", k ? "," : "{", w->next[k].tp->partition);
    }
    strbuf_puts(&topics, "}");
    strbuf_puts(&parts, "}");
    if (topics.failed || parts.failed) {
        strbuf_release(&topics);
        strbuf_release(&parts);
        snprintf(errstr, n, "out of memory");
        return TXN_TRANSIENT;
    }
    const char *params[3] = {sh->group, strbuf_str(&topics), strbuf_str(&parts)};
    res = pg_query(w->pg,
                   "SELECT o.topic, o.partition, o.next_offset FROM consumer_offsets o"
                   " JOIN unnest($2::text[], $3::int[]) AS b(topic, partition)"
                   " USING (topic, partition) WHERE o.group_id = $1",
                   3, params, errstr, n);
    strbuf_release(&topics);
    strbuf_release(&parts);
    if (!res)
        return pg_error_classify(w->pg, pg_last_sqlstate()) == PG_ERROR_DATA ? TXN_DATA
                                                                            : TXN_TRANSIENT;
    /* A partition with no stored row yet is not fenced: fence_and_store inserts it. */
    for (int i = 0; i < PQntuples(res) && r == TXN_OK; i++) {
        const char *topic = PQgetvalue(res, i, 0);
        int p = atoi(PQgetvalue(res, i, 1));
        int64_t stored = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        for (int k = 0; k < w->nnext; k++) {
            const tpmap_entry *tp = w->next[k].tp;
            if (tp->partition != p || strcmp(tp->topic, topic) != 0)
                continue;
            int64_t expected = expected_of(sh, tp);
            if (stored != expected) {
                snprintf(errstr, n, "%s/%d: stored offset is no longer %" PRId64, topic, p,
                         expected);
                r = TXN_FENCED;
            }
            break;
        }
    }
    PQclear(res);
    return r;
}

static int connect_pg(consumer_worker *w, char *errstr, size_t n)
{
    if (w->pg && PQstatus(w->pg) == CONNECTION_OK)
        return 0;
    if (w->pg) {
        PQfinish(w->pg);
        w->pg = NULL;
    }
    w->pg = pg_connect_with(w->conninfo, w->appname, w->pg_options, errstr, n);
    return w->pg ? 0 : -1;
}

/* The class of a failed pg_* call on w->pg; remembers a data failure's SQLSTATE. */
static txn_result classify(consumer_worker *w)
{
    const char *state = pg_last_sqlstate();

    if (pg_error_classify(w->pg, state) == PG_ERROR_DATA) {
        snprintf(w->sqlstate, sizeof w->sqlstate, "%s", state);
        return TXN_DATA;
    }
    return TXN_TRANSIENT;
}

static void rollback(consumer_worker *w)
{
    char ignored[256];

    if (w->pg && PQstatus(w->pg) == CONNECTION_OK &&
        PQtransactionStatus(w->pg) != PQTRANS_IDLE)
        pg_exec(w->pg, "ROLLBACK", ignored, sizeof ignored);
}

/* After COMMIT: advance the expected offsets, commit them to Kafka, count. */
static void committed(consumer_worker *w, const consumer_batch *b, int nrej, int truncated,
                      int64_t started_us, int64_t txn_us)
{
    consumer_shared *sh = w->sh;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    rd_kafka_resp_err_t err;

    pthread_mutex_lock(&sh->lock);
    for (int k = 0; k < w->nnext; k++) {
        w->next[k].tp->expected = w->next[k].next;
        rd_kafka_topic_partition_list_add(l, w->next[k].tp->topic, w->next[k].tp->partition)
            ->offset = w->next[k].next;
    }
    sh->stats.batches++;
    sh->stats.messages += (uint64_t)b->count;
    sh->stats.applied += (uint64_t)(b->count - nrej);
    sh->stats.rejected += (uint64_t)nrej;
    sh->stats.dlq_truncated += (uint64_t)truncated;
    for (int i = 0; i < w->rej.count; i++)
        count_class(&sh->stats, w->rej.items[i].error_class);
    sh->stats.last_batch_us = dates_now_us() - started_us;
    sh->stats.last_txn_us = txn_us;
    sh->stats.txn_us_sum += txn_us;
    sh->stats.commit_us_sum += w->commit_us;
    if (w->in_retry)
        sh->retrying--;
    w->in_retry = 0;
    pthread_mutex_unlock(&sh->lock);
    if (sh->on_batch) {
        consumer_stats st;
        pthread_mutex_lock(&sh->hook_lock);
        pthread_mutex_lock(&sh->lock);
        st = sh->stats;
        pthread_mutex_unlock(&sh->lock);
        sh->on_batch(sh->on_batch_opaque, &st);
        pthread_mutex_unlock(&sh->hook_lock);
    }
    if (sh->on_commit) {
        int64_t now = dates_now_us();
        consumer_commit done = {b->count, nrej, now - started_us, txn_us, now,
                                w->rej.applied, w->rej.napplied};
        pthread_mutex_lock(&sh->hook_lock);
        sh->on_commit(sh->on_commit_opaque, &done);
        pthread_mutex_unlock(&sh->hook_lock);
    }
    if (l->cnt && (err = rd_kafka_commit(sh->rk, l, 1)))
        log_warn("kafka commit failed", "topic=%s error=\"%s\"", sh->topic, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

/* Dead letters, then COMMIT. The class of the failure, or TXN_OK. */
static txn_result finish(consumer_worker *w, const consumer_batch *b, int *truncated,
                         char *errstr, size_t n)
{
    if (w->rej.oom) {
        snprintf(errstr, n, "out of memory recording rejections");
        return TXN_TRANSIENT;
    }
    pg_clear_last_sqlstate();
    if (dead_letter_record(w->dlq, w->pg, b, w->rej.items, w->rej.count, errstr, n) < 0)
        return classify(w);
    if (dead_letter_produce(w->dlq, b, w->rej.items, w->rej.count, truncated, errstr, n) < 0)
        return TXN_TRANSIENT;
    w->commit_us = dates_now_us();
    if (pg_exec(w->pg, "COMMIT", errstr, n) < 0)
        return classify(w);
    w->commit_us = dates_now_us() - w->commit_us;
    return TXN_OK;
}

/* Copy the rejects of a prepare (src) into the attempt's list. */
static void take_rejects(consumer_worker *w, const consumer_rejects *src)
{
    for (int i = 0; i < src->count; i++) {
        consumer_reject(&w->rej, src->items[i].idx, src->items[i].error_class,
                        src->items[i].event_id, NULL, "%s", src->items[i].message);
        if (!w->rej.oom)
            memcpy(w->rej.items[w->rej.count - 1].nik_masked, src->items[i].nik_masked,
                   sizeof src->items[i].nik_masked);
    }
    for (int i = 0; i < src->napplied; i++)
        consumer_applied(&w->rej, 0, src->applied[i].source, src->applied[i].event_time_us);
}

/* One attempt at messages [lo, hi) of slot s in one transaction. */
static txn_result attempt(consumer_worker *w, consumer_slot *s, int lo, int hi, int reuse,
                          char *errstr, size_t n)
{
    consumer_shared *sh = w->sh;
    consumer_batch b = {sh->topic, sh->group, s->msgs + lo, hi - lo};
    int64_t started = dates_now_us(), txn_started;
    int truncated = 0;
    txn_result r;

    consumer_rejects_reset(&w->rej);
    if (reuse) {
        take_rejects(w, &s->rej);
    } else if (sh->handler.prepare &&
               sh->handler.prepare(s->ctx, &b, &w->rej, errstr, n) < 0) {
        return TXN_TRANSIENT;
    }
    if (batch_next(w, &b) < 0) {
        snprintf(errstr, n, "out of memory");
        return TXN_TRANSIENT;
    }
    if (connect_pg(w, errstr, n) < 0)
        return TXN_TRANSIENT;
    txn_started = dates_now_us();
    if (pg_exec(w->pg, "BEGIN", errstr, n) < 0)
        return classify(w);
    /* The fence's locks come after the service's step: a service stages its batch with
     * COPY, and a consumer frozen while it streams the COPY's data keeps its session busy
     * ("active", waiting for the client), which neither statement_timeout nor
     * idle_in_transaction_session_timeout ends. Holding no lock of the stored offsets
     * then, it does not stop the partitions' new owner; it is fenced when it goes on. */
    if ((r = fence_check(w, errstr, n)) != TXN_OK)
        goto rollback;
    pg_clear_last_sqlstate(); /* a failure of apply's own is not the data's fault */
    if (sh->handler.apply(s->ctx, w->pg, &b, &w->rej, errstr, n) < 0) {
        r = classify(w);
        goto rollback;
    }
    if ((r = fence_and_store(w, errstr, n)) != TXN_OK)
        goto rollback;
    if ((r = finish(w, &b, &truncated, errstr, n)) != TXN_OK)
        goto rollback;
    committed(w, &b, w->rej.count, truncated, started, dates_now_us() - txn_started);
    return TXN_OK;
rollback:
    rollback(w);
    return r;
}

/* Dead-letter message idx of s alone (a data failure isolated to it), in a transaction
 * that also stores its offset. */
static txn_result dead_letter_one(consumer_worker *w, consumer_slot *s, int idx,
                                  const char *why, char *errstr, size_t n)
{
    consumer_shared *sh = w->sh;
    consumer_batch b = {sh->topic, sh->group, s->msgs + idx, 1};
    int64_t started = dates_now_us();
    int truncated = 0;
    txn_result r;

    consumer_rejects_reset(&w->rej);
    consumer_reject(&w->rej, 0, "db", NULL, NULL, "%s", why);
    if (!w->rej.oom)
        snprintf(w->rej.items[0].sqlstate, sizeof w->rej.items[0].sqlstate, "%s", w->sqlstate);
    if (batch_next(w, &b) < 0) {
        snprintf(errstr, n, "out of memory");
        return TXN_TRANSIENT;
    }
    if (connect_pg(w, errstr, n) < 0)
        return TXN_TRANSIENT;
    if (pg_exec(w->pg, "BEGIN", errstr, n) < 0)
        return classify(w);
    if ((r = fence_and_store(w, errstr, n)) != TXN_OK ||
        (r = finish(w, &b, &truncated, errstr, n)) != TXN_OK) {
        rollback(w);
        return r == TXN_DATA ? TXN_TRANSIENT : r; /* a dead letter is never refused as data */
    }
    committed(w, &b, 1, truncated, started, dates_now_us() - started);
    log_warn("record dead-lettered by the database", "topic=%s partition=%d offset=%" PRId64
             " sqlstate=%s error=\"%s\"", s->msgs[idx].topic, s->msgs[idx].partition, s->msgs[idx].offset,
             w->rej.items[0].sqlstate, w->rej.items[0].message);
    return TXN_OK;
}

/* ---- retries ---- */

static int should_give_up(consumer_worker *w)
{
    int give_up;

    pthread_mutex_lock(&w->mu);
    give_up = w->abort || w->quit;
    pthread_mutex_unlock(&w->mu);
    return give_up || w->sh->stop;
}

/* Wait before retry number `attempt` (1, 2, ...): exponential from BACKOFF_START_MS, capped,
 * with +-25% jitter, in slices so a stop or abort ends it. 1 when told to give up. */
static int backoff(consumer_worker *w, int attempt)
{
    int64_t ms = BACKOFF_START_MS, until;

    for (int i = 1; i < attempt && ms < w->sh->backoff_max_ms; i++)
        ms *= 2;
    if (ms > w->sh->backoff_max_ms)
        ms = w->sh->backoff_max_ms;
    ms = ms * 3 / 4 + (int64_t)(rand_r(&w->rng) % (unsigned)(ms / 2 + 1));
    until = consumer_mono_ms() + ms;
    while (consumer_mono_ms() < until) {
        struct timespec slice = {0, 50 * 1000000L};
        if (should_give_up(w))
            return 1;
        nanosleep(&slice, NULL);
    }
    return should_give_up(w);
}

/* Enter or leave the retrying state (counted in sh->retrying, read for readiness). */
static void set_retrying(consumer_worker *w, int on, const char *errstr)
{
    consumer_shared *sh = w->sh;

    pthread_mutex_lock(&sh->lock);
    if (on) {
        sh->stats.retries++;
        snprintf(sh->retry_reason, sizeof sh->retry_reason, "%.150s", errstr);
    }
    if (on != w->in_retry)
        sh->retrying += on ? 1 : -1;
    w->in_retry = on;
    pthread_mutex_unlock(&sh->lock);
}

static void note_transient(consumer_worker *w, int tries, const char *errstr)
{
    consumer_shared *sh = w->sh;

    set_retrying(w, 1, errstr);
    /* Every retry at first, then one line in ten: loud, not flooding. */
    if (tries <= 3 || tries % 10 == 0)
        log_warn("batch failed; retrying", "topic=%s worker=%d attempt=%d error=\"%s\"",
                 sh->topic, w->id, tries, errstr);
}

static void note_fenced(consumer_worker *w, const char *errstr)
{
    consumer_shared *sh = w->sh;

    pthread_mutex_lock(&sh->lock);
    sh->stats.fenced++;
    sh->rewind = 1;
    pthread_mutex_unlock(&sh->lock);
    log_warn("batch fenced; another consumer owns the partition", "topic=%s worker=%d reason=\"%s\"",
             sh->topic, w->id, errstr);
}

/* The size of the next attempt after lo, given bad (a prefix end known to fail, -1 none). */
static int next_end(int lo, int bad, int count)
{
    if (bad <= lo)
        return count;
    if (bad - lo <= BISECT_LINEAR)
        return lo + 1;
    return lo + (bad - lo) / 2;
}

/* Apply slot s: every record applied once or dead-lettered, unless fenced or told to give
 * up (then what is left is for the next owner, from the stored offsets). 1 when all of it
 * was, else 0. */
static int apply_slot(consumer_worker *w, consumer_slot *s)
{
    char errstr[1024], why[1024];
    int lo = 0, bad = -1, tries = 0, reuse = s->prepared, raced = 0;

    while (lo < s->count) {
        int hi = next_end(lo, bad, s->count);
        txn_result r = attempt(w, s, lo, hi, reuse && lo == 0 && hi == s->count, errstr,
                               sizeof errstr);
        reuse = 0;
        /* A unique violation may be another transaction's row, committed after this one
         * looked (one NIK enrolled on two topics at once): the record once more sees it
         * and is decided with it, so it is tried again before it is dead-lettered; a
         * second one in a row is the record's own. (Several records are bisected, and
         * the retried parts see the row as well.) */
        if (r == TXN_DATA && hi - lo == 1 && strcmp(w->sqlstate, "23505") == 0 && !raced) {
            raced = 1;
            log_info("unique violation; trying the record again", "topic=%s worker=%d"
                     " error=\"%s\"", w->sh->topic, w->id, errstr);
            continue;
        }
        if (r != TXN_DATA)
            raced = 0;
        if (r == TXN_DATA && hi - lo == 1) {
            snprintf(why, sizeof why, "%s", errstr);
            utf8_scrub(why);
            r = dead_letter_one(w, s, lo, why, errstr, sizeof errstr);
            if (r == TXN_OK) {
                lo++;
                bad = -1;
                tries = 0;
                continue;
            }
        }
        switch (r) {
        case TXN_OK:
            lo = hi;
            tries = 0;
            break;
        case TXN_DATA:
            if (bad < 0) {
                pthread_mutex_lock(&w->sh->lock);
                w->sh->stats.bisects++;
                pthread_mutex_unlock(&w->sh->lock);
                log_warn("batch refused by the database; isolating the record",
                         "topic=%s worker=%d records=%d sqlstate=%s error=\"%s\"",
                         w->sh->topic, w->id, hi - lo, w->sqlstate, errstr);
            }
            bad = hi;
            break;
        case TXN_FENCED:
            note_fenced(w, errstr);
            return 0;
        case TXN_TRANSIENT:
            note_transient(w, ++tries, errstr);
            if (backoff(w, tries))
                return 0;
            break;
        case TXN_ABORTED:
            return 0;
        }
    }
    return 1;
}

/* ---- the thread ---- */

static int rewind_pending(consumer_shared *sh)
{
    int r;

    pthread_mutex_lock(&sh->lock);
    r = sh->rewind;
    pthread_mutex_unlock(&sh->lock);
    return r;
}

static void *run(void *arg)
{
    consumer_worker *w = arg;
    consumer_slot *s;

    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->inbox && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->inbox) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        s = w->cur = w->inbox;
        w->inbox = NULL;
        s->state = SLOT_APPLYING;
        pthread_mutex_unlock(&w->mu);

        /* After a fence, what was fetched before the rewind is not applied: the poll
         * thread reads it again from the stored offsets. Nor is anything after a batch
         * given up on a stop: the fence checks the stored offsets against those this
         * consumer last committed, so a later batch of the same partitions would store
         * offsets past the records left behind, and they would never be applied. */
        if (!rewind_pending(w->sh) && !w->gave_up)
            w->gave_up = !apply_slot(w, s) && w->sh->stop;
        set_retrying(w, 0, NULL);

        pthread_mutex_lock(&w->mu);
        consumer_slot_clear(s);
        w->cur = NULL;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_mutex_lock(&w->sh->lock);
        pthread_cond_broadcast(&w->sh->changed);
        pthread_mutex_unlock(&w->sh->lock);
    }
}

consumer_worker *consumer_worker_new(const config *cfg, consumer_shared *sh, int id, int cap,
                                     char *errstr, size_t n)
{
    consumer_worker *w = calloc(1, sizeof *w);
    char options[256], appname[96];

    if (!w) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    w->id = id;
    w->sh = sh;
    w->rng = (unsigned)(dates_now_us() ^ (id * 2654435761u));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    snprintf(options, sizeof options,
             "-c lock_timeout=%lld -c statement_timeout=%lld"
             " -c idle_in_transaction_session_timeout=%lld",
             config_int(cfg, "pg.lock_timeout.ms"), config_int(cfg, "pg.statement_timeout.ms"),
             config_int(cfg, "pg.idle_in_transaction_timeout.ms"));
    snprintf(appname, sizeof appname, "%s/%d", sh->group, id);
    w->conninfo = strdup(config_get(cfg, "pg") ? config_get(cfg, "pg") : "");
    w->pg_options = strdup(options);
    w->appname = strdup(appname);
    if (!w->conninfo || !w->pg_options || !w->appname) {
        snprintf(errstr, n, "out of memory");
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        consumer_slot *s = &w->slots[i];
        s->cap = cap;
        s->msgs = calloc((size_t)cap, sizeof *s->msgs);
        s->refs = calloc((size_t)cap, sizeof *s->refs);
        if (!s->msgs || !s->refs) {
            snprintf(errstr, n, "out of memory");
            goto fail;
        }
        if (!(s->ctx = sh->handler.ctx_new(sh->handler.opaque, errstr, n)))
            goto fail;
    }
    if (!(w->dlq = dead_letter_sink_new(cfg, sh->topic, sh->group, errstr, n)) ||
        !(w->pg = pg_connect_with(w->conninfo, w->appname, w->pg_options, errstr, n)))
        goto fail;
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        snprintf(errstr, n, "unable to start worker thread: %s", strerror(errno));
        goto fail;
    }
    w->started = 1;
    return w;
fail:
    consumer_worker_destroy(w);
    return NULL;
}

void consumer_worker_destroy(consumer_worker *w)
{
    if (!w)
        return;
    if (w->started) {
        pthread_mutex_lock(&w->mu);
        w->quit = 1;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    for (int i = 0; i < 2; i++) {
        consumer_slot *s = &w->slots[i];
        consumer_slot_clear(s);
        if (s->ctx)
            w->sh->handler.ctx_destroy(s->ctx);
        free(s->bytes);
        free(s->refs);
        free(s->msgs);
        consumer_rejects_release(&s->rej);
    }
    dead_letter_sink_destroy(w->dlq);
    if (w->pg)
        PQfinish(w->pg);
    consumer_rejects_release(&w->rej);
    free(w->next);
    free(w->conninfo);
    free(w->pg_options);
    free(w->appname);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

consumer_slot *consumer_worker_filling(consumer_worker *w)
{
    consumer_slot *found = NULL;

    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < 2 && !found; i++)
        if (w->slots[i].state == SLOT_FILLING)
            found = &w->slots[i];
    for (int i = 0; i < 2 && !found; i++)
        if (w->slots[i].state == SLOT_FREE) {
            found = &w->slots[i];
            found->state = SLOT_FILLING;
        }
    pthread_mutex_unlock(&w->mu);
    return found;
}

int consumer_worker_submit(consumer_worker *w, consumer_slot *s)
{
    int rc = -1;

    pthread_mutex_lock(&w->mu);
    if (!w->inbox) {
        s->state = SLOT_READY;
        w->inbox = s;
        pthread_cond_broadcast(&w->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int consumer_worker_filled(consumer_worker *w)
{
    int n = 0;

    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < 2; i++)
        if (w->slots[i].state == SLOT_FILLING)
            n = w->slots[i].count;
    pthread_mutex_unlock(&w->mu);
    return n;
}

int consumer_worker_idle(consumer_worker *w)
{
    int idle;

    pthread_mutex_lock(&w->mu);
    idle = !w->inbox && !w->cur;
    pthread_mutex_unlock(&w->mu);
    return idle;
}

void consumer_worker_abort(consumer_worker *w, int abort)
{
    pthread_mutex_lock(&w->mu);
    w->abort = abort;
    if (abort && w->inbox) {
        consumer_slot_clear(w->inbox);
        w->inbox = NULL;
    }
    pthread_mutex_unlock(&w->mu);
}

int consumer_worker_wait_idle(consumer_worker *w, int timeout_ms)
{
    int64_t until = consumer_mono_ms() + timeout_ms;
    int idle;

    pthread_mutex_lock(&w->mu);
    while (!(idle = !w->inbox && !w->cur) && consumer_mono_ms() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    pthread_mutex_unlock(&w->mu);
    return idle;
}
