/* roster-consumer: keeps workers and coverages exact from the roster.changes topic. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "config.h"
#include "consumer.h"
#include "log.h"

static const config_option options[] = {
    CONSUMER_CONFIG_OPTIONS,
    {"topic", CONFIG_STR, "roster.changes", NULL, "topic to consume"},
    {"group", CONFIG_STR, "roster-consumer", NULL, "consumer group"},
    {NULL, 0, NULL, NULL, NULL},
};

static consumer *running;

static void on_signal(int sig)
{
    (void)sig;
    if (running)
        consumer_stop(running);
}

static void usage(FILE *out)
{
    fputs("usage: roster-consumer [options]\n"
          "Applies roster changes to PostgreSQL exactly once; rejected events go to "
          "<topic>.dlq.\n\noptions:\n", out);
    config_usage(options, out);
}

int main(int argc, char **argv)
{
    char errstr[1024];
    config *cfg = config_new(options);
    roster_apply *ra = NULL;
    consumer *c = NULL;
    int rest = 0, rc = 1, level;
    struct sigaction sa;

    if (!cfg) {
        fprintf(stderr, "roster-consumer: out of memory\n");
        return 1;
    }
    switch (config_parse_args(cfg, argc - 1, argv + 1, &rest, errstr, sizeof errstr)) {
    case 1:
        usage(stdout);
        rc = 0;
        goto out;
    case -1:
        fprintf(stderr, "roster-consumer: %s\n", errstr);
        rc = 2;
        goto out;
    }
    if (rest) {
        fprintf(stderr, "roster-consumer: unexpected argument '%s'\n", argv[1]);
        rc = 2;
        goto out;
    }
    if ((level = log_level_parse(config_get(cfg, "log.level"))) < 0) {
        fprintf(stderr, "roster-consumer: unknown log.level '%s'\n", config_get(cfg, "log.level"));
        rc = 2;
        goto out;
    }
    log_init("roster-consumer", (log_level)level);
    if (!(ra = roster_apply_new(errstr, sizeof errstr)) ||
        !(c = consumer_new(cfg, config_get(cfg, "group"), config_get(cfg, "topic"),
                           roster_apply_batch, ra, errstr, sizeof errstr))) {
        log_error("unable to start", "error=\"%s\"", errstr);
        goto out;
    }
    running = c;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    log_info("started", "topic=%s group=%s", config_get(cfg, "topic"), config_get(cfg, "group"));
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
    roster_apply_destroy(ra);
    config_destroy(cfg);
    return rc;
}
