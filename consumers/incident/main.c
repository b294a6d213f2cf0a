/* incident-consumer: turns the incidents topic into de-duplicated incidents and JKK/JKM
 * claims (with their checklists, first transition and outbox event). */
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "config.h"
#include "consumer.h"
#include "log.h"
#include "pg.h"

#define BENEFITS_FILE "deploy/benefits/benefit_table.tsv"

static const config_option options[] = {
    CONSUMER_CONFIG_OPTIONS,
    {"topic", CONFIG_STR, "incidents", NULL, "topic to consume"},
    {"group", CONFIG_STR, "incident-consumer", NULL, "consumer group"},
    {"benefits", CONFIG_STR, "", NULL,
     "benefit table TSV (default: " BENEFITS_FILE " of the working directory, else of the "
     "repository holding this program)"},
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
    fputs("usage: incident-consumer [options]\n"
          "Records reported incidents once per NIK, type and local date and opens their "
          "claims;\nrejected events go to <topic>.dlq.\n\noptions:\n", out);
    config_usage(options, out);
}

/* The benefit table file: the option, else BENEFITS_FILE below the working directory, else
 * below the repository of this executable (<repo>/<build>/bin/incident-consumer). */
static const char *benefits_path(const config *cfg, char *buf, size_t size)
{
    const char *opt = config_get(cfg, "benefits");
    char exe[PATH_MAX];
    ssize_t len;

    if (opt && *opt)
        return opt;
    if (access(BENEFITS_FILE, R_OK) == 0)
        return BENEFITS_FILE;
    len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return BENEFITS_FILE;
    exe[len] = '\0';
    snprintf(buf, size, "%s/../../%s", dirname(exe), BENEFITS_FILE);
    return buf;
}

/* Make the benefit_table rows match the file before the first batch is decided. */
static int sync_benefits(const config *cfg, incident_apply *ia, char *errstr, size_t n)
{
    PGconn *pg = pg_connect(config_get(cfg, "pg"), "incident-consumer", errstr, n);
    int rc;

    if (!pg)
        return -1;
    rc = incident_apply_sync_benefits(ia, pg, errstr, n);
    PQfinish(pg);
    return rc;
}

int main(int argc, char **argv)
{
    char errstr[1024], pathbuf[PATH_MAX + 64];
    config *cfg = config_new(options);
    incident_apply *ia = NULL;
    consumer *c = NULL;
    const char *benefits;
    int rest = 0, rc = 1, level;
    struct sigaction sa;

    if (!cfg) {
        fprintf(stderr, "incident-consumer: out of memory\n");
        return 1;
    }
    switch (config_parse_args(cfg, argc - 1, argv + 1, &rest, errstr, sizeof errstr)) {
    case 1:
        usage(stdout);
        rc = 0;
        goto out;
    case -1:
        fprintf(stderr, "incident-consumer: %s\n", errstr);
        rc = 2;
        goto out;
    }
    if (rest) {
        fprintf(stderr, "incident-consumer: unexpected argument '%s'\n", argv[1]);
        rc = 2;
        goto out;
    }
    if ((level = log_level_parse(config_get(cfg, "log.level"))) < 0) {
        fprintf(stderr, "incident-consumer: unknown log.level '%s'\n", config_get(cfg, "log.level"));
        rc = 2;
        goto out;
    }
    log_init("incident-consumer", (log_level)level);
    benefits = benefits_path(cfg, pathbuf, sizeof pathbuf);
    if (!(ia = incident_apply_new(benefits, errstr, sizeof errstr)) ||
        sync_benefits(cfg, ia, errstr, sizeof errstr) < 0 ||
        !(c = consumer_new(cfg, config_get(cfg, "group"), config_get(cfg, "topic"),
                           incident_apply_batch, ia, errstr, sizeof errstr))) {
        log_error("unable to start", "benefits=\"%s\" error=\"%s\"", benefits, errstr);
        goto out;
    }
    running = c;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    log_info("started", "topic=%s group=%s benefits=\"%s\" benefit_rows=%zu",
             config_get(cfg, "topic"), config_get(cfg, "group"), benefits,
             benefits_row_count(incident_apply_benefits(ia)));
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
    incident_apply_destroy(ia);
    config_destroy(cfg);
    return rc;
}
