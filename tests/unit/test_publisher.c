/* Tests for common/publisher, against librdkafka's in-process mock cluster
 * (test.mock.num.brokers), so no broker is needed. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "publisher.h"

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
