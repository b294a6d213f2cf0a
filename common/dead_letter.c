/* dead_letter: rejected records into dead_letters and onto the DLQ topic. */
#include "dead_letter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

#include "dates.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"

/* How long a dead letter may wait for its acknowledgement before the batch is retried. */
#define DLQ_FLUSH_MS 30000

struct dead_letter_sink {
    rd_kafka_t *rk;
    char topic[256], dlq_topic[256], group[256];
    size_t truncate_bytes;
};

/* The outcome of one produced message, set by the delivery callback. The callback runs
 * only inside our flush calls, on the sink's thread; one whose call gave up on it is
 * abandoned, and the callback frees it when its report finally comes. */
typedef struct delivery {
    int done, abandoned;
    rd_kafka_resp_err_t err;
} delivery;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    delivery *d = m->_private;

    (void)rk;
    (void)opaque;
    if (!d)
        return;
    if (d->abandoned) {
        free(d);
        return;
    }
    d->err = m->err;
    d->done = 1;
}

dead_letter_sink *dead_letter_sink_new(const config *cfg, const char *topic, const char *group,
                                       char *errstr, size_t n)
{
    static const char *const defaults[] = {"enable.idempotence", "true", "acks", "all",
                                           "linger.ms", "5", "message.timeout.ms", "25000",
                                           NULL};
    dead_letter_sink *s = calloc(1, sizeof *s);
    rd_kafka_conf_t *conf = NULL;
    long long cut = config_int(cfg, "dlq.truncate.bytes");

    if (!s) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    snprintf(s->dlq_topic, sizeof s->dlq_topic, "%s.dlq", topic);
    snprintf(s->group, sizeof s->group, "%s", group);
    s->truncate_bytes = cut > 0 ? (size_t)cut : 65536;
    if (!(conf = kafka_conf_new(cfg, defaults, NULL, errstr, n)))
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (!(s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, n))) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    return s;
fail:
    dead_letter_sink_destroy(s);
    return NULL;
}

void dead_letter_sink_destroy(dead_letter_sink *s)
{
    if (!s)
        return;
    if (s->rk) {
        rd_kafka_flush(s->rk, 5000);
        rd_kafka_destroy(s->rk);
    }
    free(s);
}

int dead_letter_record(const dead_letter_sink *s, PGconn *pg, const consumer_batch *b,
                       const dead_letter *items, int n, char *errstr, size_t en)
{
    static const char sql[] =
        "INSERT INTO dead_letters (group_id, topic, partition, kafka_offset, event_id,"
        " nik_masked, error_class, error_message, sqlstate, msg_key, msg_value)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING";
    static const int formats[11] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};

    for (int i = 0; i < n; i++) {
        const dead_letter *it = &items[i];
        const consumer_msg *m = &b->msgs[it->idx];
        char ps[16], os[24];
        const char *params[11] = {s->group, m->topic ? m->topic : s->topic, ps, os,
                                  it->event_id[0] ? it->event_id : NULL,
                                  it->nik_masked[0] ? it->nik_masked : NULL,
                                  it->error_class, it->message,
                                  it->sqlstate[0] ? it->sqlstate : NULL,
                                  m->key, m->value};
        int lengths[11] = {0, 0, 0, 0, 0, 0, 0, 0, 0, (int)m->key_len, (int)m->value_len};
        PGresult *res;

        snprintf(ps, sizeof ps, "%d", m->partition);
        snprintf(os, sizeof os, "%" PRId64, m->offset);
        if (!m->key)
            params[9] = NULL;
        if (!m->value)
            params[10] = NULL;
        if (!(res = pg_query_bin(pg, sql, 11, params, lengths, formats, errstr, en)))
            return -1;
        PQclear(res);
    }
    return 0;
}

/* Queue one dead letter, cut to len bytes of its value (len < value_len: truncated). */
static rd_kafka_resp_err_t queue(dead_letter_sink *s, const consumer_msg *m,
                                 const dead_letter *it, size_t len, const char *now,
                                 delivery **slot)
{
    delivery *d = *slot;
    char ps[16], os[24], size[24], dlq[300];
    const char *topic = m->topic ? m->topic : s->topic;
    rd_kafka_headers_t *h = rd_kafka_headers_new(12);
    rd_kafka_resp_err_t err;

    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    snprintf(ps, sizeof ps, "%d", m->partition);
    snprintf(os, sizeof os, "%" PRId64, m->offset);
    rd_kafka_header_add(h, "dlq.topic", -1, topic, -1);
    rd_kafka_header_add(h, "dlq.partition", -1, ps, -1);
    rd_kafka_header_add(h, "dlq.offset", -1, os, -1);
    rd_kafka_header_add(h, "dlq.error.class", -1, it->error_class, -1);
    rd_kafka_header_add(h, "dlq.error.message", -1, it->message, -1);
    rd_kafka_header_add(h, "dlq.group", -1, s->group, -1);
    rd_kafka_header_add(h, "dlq.time", -1, now, -1);
    if (it->sqlstate[0])
        rd_kafka_header_add(h, "dlq.sqlstate", -1, it->sqlstate, -1);
    if (len < m->value_len) {
        snprintf(size, sizeof size, "%zu", m->value_len);
        rd_kafka_header_add(h, "dlq.truncated", -1, "true", -1);
        rd_kafka_header_add(h, "dlq.original.size", -1, size, -1);
    }
    if (!d || d->done) {
        /* A fresh one: a delivered or refused attempt's report has come. */
        free(d);
        if (!(d = *slot = calloc(1, sizeof *d))) {
            rd_kafka_headers_destroy(h);
            return RD_KAFKA_RESP_ERR__QUEUE_FULL;
        }
    }
    err = rd_kafka_producev(s->rk, RD_KAFKA_V_TOPIC(dlq),
                            RD_KAFKA_V_KEY(m->key, m->key_len),
                            RD_KAFKA_V_VALUE((void *)m->value, len),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                            RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
    if (err) {
        /* Never queued: no report will come for it. */
        rd_kafka_headers_destroy(h);
        d->done = 1;
        d->err = err;
    }
    return err;
}

static int too_large(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

/* The value length of attempt k: whole, then cut, then nothing but the headers. */
static size_t attempt_len(const dead_letter_sink *s, const consumer_msg *m, int k)
{
    if (k == 0)
        return m->value_len;
    if (k == 1)
        return m->value_len < s->truncate_bytes ? m->value_len : s->truncate_bytes;
    return 0;
}

int dead_letter_produce(dead_letter_sink *s, const consumer_batch *b, const dead_letter *items,
                        int n, int *truncated, char *errstr, size_t en)
{
    delivery **d = n ? calloc((size_t)n, sizeof *d) : NULL;
    int *tries = n ? calloc((size_t)n, sizeof *tries) : NULL, left, cut = 0, rc = -1;
    char now[40];

    if (n && (!d || !tries)) {
        snprintf(errstr, en, "out of memory");
        goto out;
    }
    dates_format_timestamp(dates_now_us(), now, sizeof now);
    for (left = n; left > 0;) {
        left = 0;
        for (int i = 0; i < n; i++) {
            const consumer_msg *m = &b->msgs[items[i].idx];
            rd_kafka_resp_err_t err;

            if (d[i] && !d[i]->done)
                continue; /* cannot happen after a flush that succeeded */
            if (d[i] && !d[i]->err)
                continue;
            if (d[i] && !too_large(d[i]->err)) {
                snprintf(errstr, en, "dead letter to '%s' not delivered: %s", s->dlq_topic,
                         rd_kafka_err2str(d[i]->err));
                goto out;
            }
            if (tries[i] == 3) {
                snprintf(errstr, en, "dead letter to '%s' refused even without its value",
                         s->dlq_topic);
                goto out;
            }
            while ((err = queue(s, m, &items[i], attempt_len(s, m, tries[i]), now, &d[i])) &&
                   too_large(err) && tries[i] < 2)
                tries[i]++;
            if (err) {
                snprintf(errstr, en, "unable to queue a dead letter for '%s': %s",
                         s->dlq_topic, rd_kafka_err2str(err));
                goto out;
            }
            tries[i]++;
            left++;
        }
        if (left && rd_kafka_flush(s->rk, DLQ_FLUSH_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, en, "dead letters to '%s' not acknowledged within %d s",
                     s->dlq_topic, DLQ_FLUSH_MS / 1000);
            goto out;
        }
    }
    for (int i = 0; i < n; i++)
        if (attempt_len(s, &b->msgs[items[i].idx], tries[i] - 1) < b->msgs[items[i].idx].value_len) {
            cut++;
            log_warn("dead letter truncated", "topic=%s partition=%d offset=%" PRId64
                     " size=%zu", s->dlq_topic, b->msgs[items[i].idx].partition,
                     b->msgs[items[i].idx].offset, b->msgs[items[i].idx].value_len);
        }
    if (truncated)
        *truncated = cut;
    rc = 0;
out:
    for (int i = 0; d && i < n; i++) {
        if (d[i] && !d[i]->done)
            d[i]->abandoned = 1; /* its report frees it */
        else
            free(d[i]);
    }
    free(d);
    free(tries);
    return rc;
}
