/* service: the shared main of the consumer services. */
#include "service.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static consumer *volatile running; /* read by the signal handler */

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        consumer_stop(running);
}

/* Parses the arguments and starts logging: -1 when the service goes on, else the exit
 * status (help printed, or a usage error reported). */
static int check_args(const service_def *def, config *cfg, int argc, char **argv)
{
    const char *name = def->program.name;
    int rest = 0, rc, level;

    if ((rc = cli_parse_args(&def->program, cfg, argc, argv, &rest)) >= 0)
        return rc;
    if (rest) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", name, argv[1]);
        return 2;
    }
    if ((level = log_level_parse(config_get(cfg, "log.level"))) < 0) {
        fprintf(stderr, "%s: unknown log.level '%s'\n", name, config_get(cfg, "log.level"));
        return 2;
    }
    log_init(name, (log_level)level);
    return -1;
}

int service_main(int argc, char **argv, const service_def *def)
{
    char errstr[1024], fields[2048] = "";
    config *cfg = config_new(def->program.options);
    void *ctx = NULL;
    consumer *c = NULL;
    int rc;
    struct sigaction sa;

    if (!cfg) {
        fprintf(stderr, "%s: out of memory\n", def->program.name);
        return 1;
    }
    if ((rc = check_args(def, cfg, argc, argv)) >= 0)
        goto out;
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
    running = c;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
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
    running = NULL;
    consumer_destroy(c);
    def->ctx_destroy(ctx);
    config_destroy(cfg);
    return rc;
}
