/* kafka: librdkafka configuration from a program's config, logs in our format. */
#include "kafka.h"

#include "log.h"

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
    log_level lv = level <= 3 ? LOG_ERROR : level == 4 ? LOG_WARN : level <= 6 ? LOG_INFO : LOG_DEBUG;
    log_write(lv, "librdkafka", "client=%s facility=%s detail=\"%s\"", rd_kafka_name(rk), fac, buf);
}

rd_kafka_conf_t *kafka_conf_new(const config *cfg, const char *const *defaults, const char *group,
                                char *errstr, size_t n)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *bootstrap = config_get(cfg, "bootstrap");

    for (const char *const *kv = defaults; kv && kv[0]; kv += 2)
        if (rd_kafka_conf_set(conf, kv[0], kv[1], errstr, n) != RD_KAFKA_CONF_OK)
            goto fail;
    if (bootstrap && rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, n) !=
                         RD_KAFKA_CONF_OK)
        goto fail;
    if (group && rd_kafka_conf_set(conf, "group.id", group, errstr, n) != RD_KAFKA_CONF_OK)
        goto fail;
    if (config_apply_kafka(cfg, conf, errstr, n) < 0)
        goto fail;
    rd_kafka_conf_set_log_cb(conf, on_log);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
