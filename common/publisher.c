/* publisher: a librdkafka producer on one topic with delivery counting. */
#include "publisher.h"

#include <stdio.h>
#include <stdlib.h>
#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "log.h"

/* Delivery reports printed before the rest are only counted. */
#define LOGGED_FAILURES 10
/* Messages queued between two servings of delivery reports (a power of 2). */
#define POLL_EVERY 64

struct publisher {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    publisher_counts counts;
    char topic_name[256];
    char principal[128];  /* kafka.sasl.username, "" without one */
    char refusal[512];
    rd_kafka_message_t batch[PUBLISHER_BATCH];  /* publisher_send_many's */
};

/* Errors that say the broker will not take this principal's records, whatever the wait. */
static int is_refusal(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
           err == RD_KAFKA_RESP_ERR__AUTHENTICATION;
}

static void refuse(publisher *p, rd_kafka_resp_err_t err, const char *detail)
{
    if (p->refusal[0])
        return;
    if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
        err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)
        snprintf(p->refusal, sizeof p->refusal,
                 "Kafka refused to let principal '%s' write to topic '%s' (%s): a data center"
                 " may write only its own topics", p->principal[0] ? p->principal : "ANONYMOUS",
                 p->topic_name, rd_kafka_err2name(err));
    else
        snprintf(p->refusal, sizeof p->refusal,
                 "Kafka refused the credentials (%s: %s): check kafka.sasl.username, the"
                 " password and kafka.security.protocol in the config file",
                 rd_kafka_err2name(err), detail);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    publisher *p = opaque;

    log_error("kafka error", "client=%s error=%s detail=\"%s\"", rd_kafka_name(rk),
              rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
    if (is_refusal((rd_kafka_resp_err_t)err))
        refuse(p, (rd_kafka_resp_err_t)err, reason);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    publisher *p = opaque;

    (void)rk;
    if (!m->err) {
        p->counts.delivered++;
        return;
    }
    if (is_refusal(m->err))
        refuse(p, m->err, rd_kafka_err2str(m->err));
    if (++p->counts.failed <= LOGGED_FAILURES)
        log_error("delivery failed", "topic=%s partition=%d error=\"%s\"", rd_kafka_topic_name(m->rkt),
                  m->partition, rd_kafka_err2str(m->err));
}

static rd_kafka_conf_t *make_conf(const config *cfg, publisher *p, char *errstr, size_t n)
{
    static const char *const defaults[] = {
        "enable.idempotence", "true", "acks", "all", "linger.ms", "20",
        "batch.num.messages", "10000", "batch.size", "1000000", "compression.type", "lz4",
        "queue.buffering.max.messages", "500000", "queue.buffering.max.kbytes", "262144",
        "message.timeout.ms", "120000",
        /* No Nagle: librdkafka 2.0 leaves it on, and the last piece of a produce request
         * then waits for the broker's delayed ACK, 40 ms added to every acks=all produce
         * (an incident's way to its claim: make bench). */
        "socket.nagle.disable", "true", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, NULL, errstr, n);
    const char *timeout = config_get(cfg, "delivery.timeout.ms");

    if (!conf)
        return NULL;
    /* The program's delivery timeout, unless -X message.timeout.ms says otherwise. */
    if (timeout && !config_get(cfg, "kafka.message.timeout.ms") &&
        rd_kafka_conf_set(conf, "message.timeout.ms", timeout, errstr, n) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    return conf;
}

publisher *publisher_new(const config *cfg, const char *topic, char *errstr, size_t errstr_size)
{
    publisher *p = calloc(1, sizeof *p);
    rd_kafka_conf_t *conf;

    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    snprintf(p->topic_name, sizeof p->topic_name, "%s", topic);
    snprintf(p->principal, sizeof p->principal, "%s",
             config_get(cfg, "kafka.sasl.username") ? config_get(cfg, "kafka.sasl.username") : "");
    if (!(conf = make_conf(cfg, p, errstr, errstr_size)))
        goto err;
    if (!(p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size))) {
        rd_kafka_conf_destroy(conf);
        goto err;
    }
    if (!(p->topic = rd_kafka_topic_new(p->rk, topic, NULL))) {
        snprintf(errstr, errstr_size, "unable to use topic '%s': %s", topic,
                 rd_kafka_err2str(rd_kafka_last_error()));
        goto err;
    }
    return p;
err:
    publisher_destroy(p);
    return NULL;
}

int publisher_send_many(publisher *p, const publisher_msg *msgs, int n, int *failed, char *errstr,
                        size_t errstr_size)
{
    rd_kafka_message_t *batch = p->batch;
    int done = 0;

    while (done < n) {
        int k = n - done < PUBLISHER_BATCH ? n - done : PUBLISHER_BATCH, first = -1;
        long before = p->counts.sent;
        for (int i = 0; i < k; i++) {
            const publisher_msg *m = &msgs[done + i];
            batch[i] = (rd_kafka_message_t){.payload = (void *)m->value, .len = m->len,
                                            .key = (void *)m->key, .key_len = m->keylen};
        }
        /* With a partition of UA, each message goes through the partitioner by its key. */
        rd_kafka_produce_batch(p->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, batch, k);
        for (int i = 0; i < k; i++) {
            if (!batch[i].err)
                p->counts.sent++;
            else if (first < 0)
                first = i;
        }
        /* Serving delivery reports takes a lock and reads the clock: once every
         * POLL_EVERY messages queued, not after each. */
        if (p->counts.sent / POLL_EVERY != before / POLL_EVERY)
            rd_kafka_poll(p->rk, 0);
        if (first < 0) {
            done += k;
            continue;
        }
        rd_kafka_resp_err_t err = batch[first].err;
        if (is_refusal(err))
            refuse(p, err, rd_kafka_err2str(err));
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            *failed = done + first;
            snprintf(errstr, errstr_size, "unable to queue: %s", rd_kafka_err2str(err));
            return -1;
        }
        /* A full queue fails the message it was found at and every one after it: the
         * order holds when they are queued again. */
        done += first;
        rd_kafka_poll(p->rk, 50);
    }
    return 0;
}

int publisher_send(publisher *p, const void *key, size_t keylen, const void *value, size_t len,
                   char *errstr, size_t errstr_size)
{
    publisher_msg m = {key, keylen, value, len};
    int failed;

    return publisher_send_many(p, &m, 1, &failed, errstr, errstr_size);
}

int publisher_flush(publisher *p, int timeout_ms)
{
    if (timeout_ms <= 0)
        rd_kafka_poll(p->rk, 0);
    else
        rd_kafka_flush(p->rk, timeout_ms);
    return rd_kafka_outq_len(p->rk);
}

const char *publisher_refusal(const publisher *p)
{
    return p->refusal;
}

publisher_counts publisher_counts_get(const publisher *p)
{
    return p->counts;
}

const char *publisher_topic(const publisher *p)
{
    return rd_kafka_topic_name(p->topic);
}

void publisher_destroy(publisher *p)
{
    if (!p)
        return;
    if (p->topic)
        rd_kafka_topic_destroy(p->topic);
    if (p->rk)
        rd_kafka_destroy(p->rk);
    free(p);
}
