/* consumer_service: the shared main of the consumer services. */
#include "consumer_service.h"

#include <stdio.h>

#include "log.h"

static void stop_consumer(void *c)
{
    consumer_stop(c);
}

int consumer_service_main(int argc, char **argv, const consumer_service_def *def)
{
    char errstr[1024], fields[2048] = "";
    void *ctx = NULL;
    consumer *c = NULL;
    int rc, nargs;
    config *cfg = program_start(&def->program, argc, argv, &nargs, &rc);

    if (!cfg)
        return rc;
    rc = 1;
    if (!(ctx = def->ctx_new(cfg, errstr, sizeof errstr)) ||
        (def->start && def->start(cfg, ctx, errstr, sizeof errstr) < 0) ||
        !(c = consumer_new(cfg, config_get(cfg, "group"), config_get(cfg, "topic"), def->apply,
                           ctx, errstr, sizeof errstr))) {
        if (def->start_fields)
            def->start_fields(cfg, fields, sizeof fields);
        log_error("unable to start", "%s%serror=\"%s\"", fields, *fields ? " " : "", errstr);
        goto out;
    }
    program_on_stop(stop_consumer, c);
    if (def->started_fields)
        def->started_fields(cfg, ctx, fields, sizeof fields);
    log_info("started", "topic=%s group=%s%s%s", config_get(cfg, "topic"),
             config_get(cfg, "group"), *fields ? " " : "", fields);
    if (consumer_run(c, errstr, sizeof errstr) < 0) {
        log_error("stopped on error", "error=\"%s\"", errstr);
        goto out;
    }
    log_info("stopped", "messages=%llu rejected=%llu",
             (unsigned long long)consumer_get_stats(c)->messages,
             (unsigned long long)consumer_get_stats(c)->rejected);
    rc = 0;
out:
    program_on_stop(NULL, NULL);
    consumer_destroy(c);
    def->ctx_destroy(ctx);
    config_destroy(cfg);
    return rc;
}
