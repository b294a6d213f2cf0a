/* consumer_service: the shared main of the consumer services. */
#include "consumer_service.h"

#include <stdio.h>

#include "log.h"

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

static void stop_consumer(void *c)
{
    consumer_stop(c);
}

static void log_stopped(consumer *c)
{
    consumer_stats st;

    consumer_get_stats(c, &st);
    log_info("stopped", "messages=%llu rejected=%llu applied=%llu retries=%llu bisects=%llu",
             (unsigned long long)st.messages, (unsigned long long)st.rejected,
             (unsigned long long)st.applied, (unsigned long long)st.retries,
             (unsigned long long)st.bisects);
}

int consumer_service_main(int argc, char **argv, const consumer_service_def *def)
{
    char errstr[1024], fields[2048] = "";
    consumer *c = NULL;
    int rc, nargs;
    config *cfg = program_start(&def->program, argc, argv, &nargs, &rc);
    service_run run = {def, cfg};
    consumer_handler h = {ctx_new, def->ctx_destroy, def->prepare, def->apply, &run};

    if (!cfg)
        return rc;
    rc = 1;
    if ((def->start && def->start(cfg, fields, sizeof fields, errstr, sizeof errstr) < 0) ||
        !(c = consumer_new(cfg, config_get(cfg, "group"), config_get(cfg, "topic"), &h,
                           errstr, sizeof errstr))) {
        log_error("unable to start", "%s%serror=\"%s\"", fields, *fields ? " " : "", errstr);
        goto out;
    }
    program_on_stop(stop_consumer, c);
    log_info("started", "topic=%s group=%s workers=%lld%s%s", config_get(cfg, "topic"),
             config_get(cfg, "group"), config_int(cfg, "apply.workers"), *fields ? " " : "",
             fields);
    if (consumer_run(c, errstr, sizeof errstr) < 0) {
        log_error("stopped on error", "error=\"%s\"", errstr);
        goto out;
    }
    log_stopped(c);
    rc = 0;
out:
    program_on_stop(NULL, NULL);
    consumer_destroy(c);
    config_destroy(cfg);
    return rc;
}
