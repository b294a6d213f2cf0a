/* Tests for common/publisher, against librdkafka's in-process mock cluster
 * (test.mock.num.brokers), so no broker is needed. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "publisher.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static const config_option table[] = {
    {"bootstrap", CONFIG_STR, "127.0.0.1:1", NULL, "Kafka bootstrap servers"},
    {NULL, 0, NULL, NULL, NULL},
};

static char err[512];

static config *mock_config(const char *extra_key, const char *extra_value)
{
    config *cfg = config_new(table);

    cr_assert_not_null(cfg, "config_new");
    cr_assert_eq(config_set(cfg, "kafka.test.mock.num.brokers", "1", err, sizeof err), 0, "set: %s", err);
    if (extra_key)
        cr_assert_eq(config_set(cfg, extra_key, extra_value, err, sizeof err), 0, "set: %s", err);
    return cfg;
}

Test(publisher, sends_and_counts_deliveries)
{
    config *cfg = mock_config("kafka.log_level", "3");
    publisher *p = publisher_new(cfg, "incidents", err, sizeof err);
    publisher_counts pc;
    char key[17], value[64];
    int left = -1;

    cr_assert_not_null(p, "publisher_new: %s", err);
    config_destroy(cfg);
    cr_assert_str_eq(publisher_topic(p), "incidents", "topic '%s'", publisher_topic(p));
    for (int i = 0; i < 250; i++) {
        snprintf(key, sizeof key, "%016d", i);
        snprintf(value, sizeof value, "value %d", i);
        cr_assert_eq(publisher_send(p, key, 16, value, strlen(value), err, sizeof err), 0, "send %d: %s", i, err);
    }
    for (int tries = 0; tries < 100 && left != 0; tries++)
        left = publisher_flush(p, 100);
    pc = publisher_counts_get(p);
    cr_assert_eq(left, 0, "%d messages still waiting", left);
    cr_assert_eq(pc.sent, 250, "sent %ld", pc.sent);
    cr_assert_eq(pc.delivered, 250, "delivered %ld", pc.delivered);
    cr_assert_eq(pc.failed, 0, "failed %ld", pc.failed);
    publisher_destroy(p);
}

Test(publisher, failed_deliveries_are_counted)
{
    /* No mock cluster: the bootstrap 127.0.0.1:1 refuses connections, so every message
     * times out and comes back as a failed delivery. */
    config *cfg = config_new(table);
    publisher *p;
    publisher_counts pc;
    int left = -1;

    cr_assert_not_null(cfg, "config_new");
    cr_assert_eq(config_set(cfg, "kafka.message.timeout.ms", "300", err, sizeof err), 0, "set: %s", err);
    cr_assert_eq(config_set(cfg, "kafka.log_level", "0", err, sizeof err), 0, "set: %s", err);
    p = publisher_new(cfg, "incidents", err, sizeof err);
    config_destroy(cfg);
    cr_assert_not_null(p, "publisher_new: %s", err);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(publisher_send(p, "k", 1, "v", 1, err, sizeof err), 0, "send: %s", err);
    for (int tries = 0; tries < 50 && left != 0; tries++)
        left = publisher_flush(p, 100);
    pc = publisher_counts_get(p);
    cr_assert_eq(pc.sent, 3, "sent %ld", pc.sent);
    cr_assert_eq(pc.failed, 3, "failed %ld (delivered %ld)", pc.failed, pc.delivered);
    cr_assert_eq(pc.delivered, 0, "delivered %ld", pc.delivered);
    publisher_destroy(p);
}

Test(publisher, bad_property_is_refused)
{
    config *cfg = mock_config("kafka.no.such.property", "1");
    publisher *p = publisher_new(cfg, "incidents", err, sizeof err);

    cr_assert_null(p, "bad property accepted");
    cr_assert_not_null(strstr(err, "no.such.property"), "message should name the property: %s", err);
    config_destroy(cfg);
    publisher_destroy(NULL);
}

Test(publisher, kafka_entries_override_defaults)
{
    config *cfg = mock_config("kafka.acks", "bogus");
    publisher *p = publisher_new(cfg, "incidents", err, sizeof err);

    cr_assert_null(p, "invalid acks override was not applied");
    cr_assert_not_null(strstr(err, "acks"), "message should name acks: %s", err);
    config_destroy(cfg);
}

/* A mock cluster of its own with topic in one partition, and a config reaching it. */
static rd_kafka_mock_cluster_t *one_partition_cluster(rd_kafka_t **mrk, const char *topic, config **cfg)
{
    char errstr[256];
    rd_kafka_conf_t *mconf = rd_kafka_conf_new();
    rd_kafka_mock_cluster_t *mc;

    rd_kafka_conf_set(mconf, "log_level", "0", errstr, sizeof errstr);
    *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof errstr);
    cr_assert_not_null(*mrk, "mock handle: %s", errstr);
    mc = rd_kafka_mock_cluster_new(*mrk, 1);
    cr_assert_not_null(mc, "mock cluster");
    cr_assert_eq(rd_kafka_mock_topic_create(mc, topic, 1, 1), 0, "mock topic");
    *cfg = config_new(table);
    cr_assert_not_null(*cfg, "config_new");
    cr_assert_eq(config_set(*cfg, "bootstrap", rd_kafka_mock_cluster_bootstraps(mc), err, sizeof err), 0,
                 "set: %s", err);
    cr_assert_eq(config_set(*cfg, "kafka.log_level", "0", err, sizeof err), 0, "set: %s", err);
    return mc;
}

Test(publisher, an_authorization_failure_is_a_refusal)
{
    /* A mock cluster of its own, whose Produce answers say the principal may not write. */
    rd_kafka_t *mrk;
    config *cfg;
    rd_kafka_mock_cluster_t *mc = one_partition_cluster(&mrk, "incidents.dc-maluku", &cfg);
    publisher *p;
    publisher_counts pc;
    int left = -1;

    rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 5,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    cr_assert_eq(config_set(cfg, "kafka.message.timeout.ms", "5000", err, sizeof err), 0, "%s", err);
    p = publisher_new(cfg, "incidents.dc-maluku", err, sizeof err);
    config_destroy(cfg);
    cr_assert_not_null(p, "publisher_new: %s", err);
    cr_assert_str_eq(publisher_refusal(p), "", "no refusal before sending");
    cr_assert_eq(publisher_send(p, "k", 1, "v", 1, err, sizeof err), 0, "send: %s", err);
    for (int tries = 0; tries < 50 && left != 0 && !*publisher_refusal(p); tries++)
        left = publisher_flush(p, 100);
    pc = publisher_counts_get(p);
    cr_assert_eq(pc.failed, 1, "failed %ld (delivered %ld)", pc.failed, pc.delivered);
    cr_assert_not_null(strstr(publisher_refusal(p), "incidents.dc-maluku"),
                       "the refusal names the topic: '%s'", publisher_refusal(p));
    cr_assert_not_null(strstr(publisher_refusal(p), "TOPIC_AUTHORIZATION_FAILED"),
                       "and the error: '%s'", publisher_refusal(p));
    publisher_destroy(p);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

Test(publisher, send_many_keeps_the_order_through_a_full_queue)
{
    /* 1,000 messages in one call into a local queue of 100: the call must wait and queue
     * the rest again, in order. Read back from the topic's one partition. */
    enum { N = 1000 };
    static char values[N][16];
    static publisher_msg msgs[N];
    rd_kafka_t *mrk, *consumer;
    config *cfg;
    rd_kafka_mock_cluster_t *mc = one_partition_cluster(&mrk, "t", &cfg);
    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    char errstr[256];
    int failed = -1, left = -1, got = 0;

    cr_assert_eq(config_set(cfg, "kafka.queue.buffering.max.messages", "100", err, sizeof err), 0, "set: %s",
                 err);
    publisher *p = publisher_new(cfg, "t", err, sizeof err);
    cr_assert_not_null(p, "publisher_new: %s", err);
    for (int i = 0; i < N; i++) {
        snprintf(values[i], sizeof values[i], "%d", i);
        msgs[i] = (publisher_msg){"7301010101900001", 16, values[i], strlen(values[i])};
    }
    cr_assert_eq(publisher_send_many(p, msgs, N, &failed, err, sizeof err), 0, "send_many: %s", err);
    for (int tries = 0; tries < 100 && left != 0; tries++)
        left = publisher_flush(p, 100);
    cr_assert_eq(left, 0, "%d messages still waiting", left);
    cr_assert_eq(publisher_counts_get(p).sent, N, "sent %ld", publisher_counts_get(p).sent);
    cr_assert_eq(publisher_counts_get(p).delivered, N, "delivered %ld", publisher_counts_get(p).delivered);

    rd_kafka_conf_set(cconf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc), errstr, sizeof errstr);
    rd_kafka_conf_set(cconf, "group.id", "read-back", errstr, sizeof errstr);
    rd_kafka_conf_set(cconf, "log_level", "0", errstr, sizeof errstr);
    consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, sizeof errstr);
    cr_assert_not_null(consumer, "consumer: %s", errstr);
    rd_kafka_topic_partition_list_add(parts, "t", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    cr_assert_eq(rd_kafka_assign(consumer, parts), 0, "assign");
    for (int idle = 0; idle < 100 && got < N;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
        if (!m) {
            idle++;
            continue;
        }
        if (!m->err) {
            char want[16];
            snprintf(want, sizeof want, "%d", got);
            cr_assert(m->len == strlen(want) && memcmp(m->payload, want, m->len) == 0,
                      "message %d of the partition is '%.*s'", got, (int)m->len, (const char *)m->payload);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    cr_assert_eq(got, N, "read back %d of %d", got, N);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    publisher_destroy(p);
    config_destroy(cfg);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}

Test(publisher, send_many_names_the_first_message_it_could_not_queue)
{
    static char big[4096];
    rd_kafka_t *mrk;
    config *cfg;
    rd_kafka_mock_cluster_t *mc = one_partition_cluster(&mrk, "t", &cfg);
    publisher_msg msgs[6];
    int failed = -1;

    memset(big, 'x', sizeof big);
    cr_assert_eq(config_set(cfg, "kafka.message.max.bytes", "2000", err, sizeof err), 0, "set: %s", err);
    publisher *p = publisher_new(cfg, "t", err, sizeof err);
    cr_assert_not_null(p, "publisher_new: %s", err);
    for (int i = 0; i < 6; i++)
        msgs[i] = (publisher_msg){"k", 1, i == 3 ? big : "v", i == 3 ? sizeof big : 1};
    cr_assert_eq(publisher_send_many(p, msgs, 6, &failed, err, sizeof err), -1, "a too large message queued");
    cr_assert_eq(failed, 3, "the first message not queued: %d", failed);
    cr_assert_not_null(strstr(err, "unable to queue"), "errstr '%s'", err);
    /* librdkafka refuses only that message; the ones after it are queued too. */
    cr_assert_eq(publisher_counts_get(p).sent, 5, "the other five were queued: %ld", publisher_counts_get(p).sent);
    publisher_flush(p, 1000);
    publisher_destroy(p);
    config_destroy(cfg);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
}
