/* consumer_service: the shared main of the consumer services. */
#include "consumer_service.h"

#include <malloc.h>
#include <stdio.h>
#include <time.h>

#include "consumer_metrics.h"
#include "log.h"
#include "source_topic.h"
#include "metrics_http.h"
#include "pg.h"

/* How long /readyz and /metrics reuse a check that PostgreSQL answers. */
#define PG_CHECK_MS 2000

/* What the consumer's ctx_new gets: the service and its configuration. */
typedef struct service_run {
    const consumer_service_def *def;
    const config *cfg;
} service_run;

static void *ctx_new(void *opaque, char *errstr, size_t n)
{
    const service_run *run = opaque;

    return run->def->ctx_new(run->cfg, errstr, n);
}

/* What the metrics endpoint reads (its thread only, but for the consumer's locked parts). */
typedef struct service_watch {
    consumer *c;
    consumer_metrics *cm;
    const char *conninfo;
    int64_t pg_checked_ms;          /* monotonic; 0: never */
    char pg_error[256];             /* "" while PostgreSQL answered the last check */
} service_watch;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int render_metrics(void *opaque, promtext *p)
{
    service_watch *sw = opaque;
    consumer_stats st;

    consumer_get_stats(sw->c, &st);
    return consumer_metrics_render(sw->cm, &st, p);
}

/* Ready: the consumer is (assigned, Kafka answering, no batch retrying) and PostgreSQL
 * answers; an idle consumer would not notice PostgreSQL gone. */
static int service_ready(void *opaque, char *reason, size_t size)
{
    service_watch *sw = opaque;
    consumer_stats st;
    int64_t now = mono_ms();

    consumer_get_stats(sw->c, &st);
    if (!st.ready) {
        snprintf(reason, size, "%s", st.not_ready_reason);
        return 0;
    }
    if (!sw->pg_checked_ms || now - sw->pg_checked_ms >= PG_CHECK_MS) {
        sw->pg_error[0] = '\0';
        pg_reachable(sw->conninfo, 2, sw->pg_error, sizeof sw->pg_error);
        sw->pg_checked_ms = mono_ms();
    }
    snprintf(reason, size, "%s", sw->pg_error);
    return !sw->pg_error[0];
}

/* What the service subscribes to: a pattern as given (starting with ^), else the topic
 * and every data center's own "<topic>.<source>" (source_topic.h). */
static void subscription(const char *topic, char *out, size_t size)
{
    if (topic[0] == '^')
        snprintf(out, size, "%s", topic);
    else
        source_topic_pattern(topic, out, size);
}

static void stop_consumer(void *c)
{
    consumer_stop(c);
}

static void log_stopped(consumer *c)
{
    consumer_stats st;

    consumer_get_stats(c, &st);
    log_info("stopped",
             "messages=%llu rejected=%llu applied=%llu batches=%llu retries=%llu bisects=%llu"
             " pauses=%llu txn_s=%.3f commit_s=%.3f",
             (unsigned long long)st.messages, (unsigned long long)st.rejected,
             (unsigned long long)st.applied, (unsigned long long)st.batches,
             (unsigned long long)st.retries, (unsigned long long)st.bisects,
             (unsigned long long)st.pauses, (double)st.txn_us_sum / 1e6,
             (double)st.commit_us_sum / 1e6);
}

/* The service's own librdkafka defaults into cfg, each unless the user set it (-X). */
static int service_kafka_defaults(config *cfg, const char *const *kv, char *errstr, size_t n)
{
    char key[128];

    for (; kv && kv[0]; kv += 2) {
        snprintf(key, sizeof key, "kafka.%s", kv[0]);
        if (!config_is_set(cfg, key) && config_set(cfg, key, kv[1], errstr, n) < 0)
            return -1;
    }
    return 0;
}

int consumer_service_main(int argc, char **argv, const consumer_service_def *def)
{
    char errstr[1024], fields[2048] = "", where[96] = "", pattern[256];
    consumer *c = NULL;
    consumer_metrics *cm = NULL;
    metrics_http *http = NULL;
    int rc, nargs;
    config *cfg = program_start(&def->program, argc, argv, &nargs, &rc);
    service_run run = {def, cfg};
    consumer_handler h = {ctx_new, def->ctx_destroy, def->prepare, def->apply, &run};
    service_watch sw = {0};
    metrics_http_handler mh = {render_metrics, service_ready, &sw};

    if (!cfg)
        return rc;
    rc = 1;
    /* A batch's buffers (its records, its COPY text) are megabytes each and come and go with
     * the batch: mapped on their own and unmapped when freed, rather than kept in the heap
     * once glibc's moving threshold has grown past them, so the peak RSS is what the
     * batches in flight hold (make bench: consumer peak RSS). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    if (service_kafka_defaults(cfg, def->kafka_defaults, errstr, sizeof errstr) < 0) {
        log_error("unable to start", "error=\"%s\"", errstr);
        goto out;
    }
    subscription(config_get(cfg, "topic"), pattern, sizeof pattern);
    if ((def->start && def->start(cfg, fields, sizeof fields, errstr, sizeof errstr) < 0) ||
        !(c = consumer_new(cfg, config_get(cfg, "group"), pattern, &h, errstr, sizeof errstr)) ||
        !(cm = consumer_metrics_new(config_get(cfg, "topic"), config_get(cfg, "group"), errstr,
                                    sizeof errstr))) {
        log_error("unable to start", "%s%serror=\"%s\"", fields, *fields ? " " : "", errstr);
        goto out;
    }
    sw = (service_watch){c, cm, config_get(cfg, "pg"), 0, ""};
    consumer_on_commit(c, consumer_metrics_on_commit, cm);
    if (metrics_http_start_config(cfg, &mh, &http, errstr, sizeof errstr) < 0) {
        log_error("unable to start", "error=\"%s\"", errstr);
        goto out;
    }
    if (http)
        snprintf(where, sizeof where, " metrics=%s:%d", config_get(cfg, "metrics.host"),
                 metrics_http_port(http));
    program_on_stop(stop_consumer, c);
    log_info("started", "topic=%s group=%s workers=%lld%s%s%s", config_get(cfg, "topic"),
             config_get(cfg, "group"), config_int(cfg, "apply.workers"), where,
             *fields ? " " : "", fields);
    if (consumer_run(c, errstr, sizeof errstr) < 0) {
        log_error("stopped on error", "error=\"%s\"", errstr);
        goto out;
    }
    log_stopped(c);
    rc = 0;
out:
    program_on_stop(NULL, NULL);
    metrics_http_stop(http);
    consumer_destroy(c);
    consumer_metrics_destroy(cm);
    config_destroy(cfg);
    return rc;
}
