/* incident-consumer: turns the incidents topic into de-duplicated incidents and JKK/JKM
 * claims (with their checklists, first transition and outbox event). */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "benefits.h"
#include "benefits_db.h"
#include "config.h"
#include "consumer_service.h"
#include "incident.h"
#include "incident_apply.h"
#include "pg.h"
#include "source_topic.h"

#define BENEFITS_FILE "deploy/benefits/benefit_table.tsv"

static const config_option options[] = {
    {"topic", CONFIG_STR, INCIDENT_TOPIC, NULL,
     "topic to consume (and each data center's <topic>.<source>), or a ^pattern"},
    {"group", CONFIG_STR, "incident-consumer", NULL, "consumer group"},
    {"benefits", CONFIG_STR, "", NULL,
     "benefit table TSV (default: " BENEFITS_FILE " of the working directory, else of the "
     "repository holding this program)"},
    {"staging.truncate.rows", CONFIG_INT, "2000", NULL,
     "incidents staged between two truncations of the session's staging tables (emptied by "
     "DELETE in between: a truncation is a file operation, slow while the disk is busy)"},
    {NULL, 0, NULL, NULL, NULL},
};

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

static void *ctx_new(const config *cfg, char *errstr, size_t n)
{
    char path[PATH_MAX + 64];
    long long truncate_rows = config_int(cfg, "staging.truncate.rows");

    if (truncate_rows < 1) {
        snprintf(errstr, n, "--staging.truncate.rows must be at least 1");
        return NULL;
    }
    return incident_apply_new(benefits_path(cfg, path, sizeof path),
                              source_topic_base(config_get(cfg, "topic"), INCIDENT_TOPIC),
                              truncate_rows, errstr, n);
}

static void ctx_destroy(void *ctx)
{
    incident_apply_destroy(ctx);
}

/* Make the benefit_table rows match the file before the first batch is decided. */
static int sync_benefits(const config *cfg, char *fields, size_t size, char *errstr, size_t n)
{
    char buf[PATH_MAX + 64];
    const char *path = benefits_path(cfg, buf, sizeof buf);
    benefit_table *t;
    PGconn *pg = NULL;
    int rc = -1;

    snprintf(fields, size, "benefits=\"%s\"", path);
    if (!(t = benefits_load(path, errstr, n)) ||
        !(pg = pg_connect_config(cfg, "incident-consumer", errstr, n)))
        goto out;
    if ((rc = benefits_db_sync(pg, t, errstr, n)) == 0)
        snprintf(fields, size, "benefits=\"%s\" benefit_rows=%zu", path, benefits_row_count(t));
out:
    if (pg)
        PQfinish(pg);
    benefits_destroy(t);
    return rc;
}

int main(int argc, char **argv)
{
    /* No Nagle: a fetch request written behind another waits for the broker's delayed ACK
     * (40 ms), and an incident's claim is waited for (make bench: incident -> claim). The
     * roster consumer, a bulk drain, keeps Nagle: without it the drain ran 35% slower. */
    static const char *const kafka_defaults[] = {"socket.nagle.disable", "true", NULL};
    static const consumer_service_def def = {
        .program = {"incident-consumer",
                    "usage: incident-consumer [options]\n"
                    "Records reported incidents once per NIK, type and local date and opens their "
                    "claims;\nrejected events go to <topic>.dlq.\n\noptions:\n",
                    CONSUMER_SERVICE_OPTIONS, options, 0, 0},
        .ctx_new = ctx_new,
        .ctx_destroy = ctx_destroy,
        .start = sync_benefits,
        .prepare = incident_apply_prepare,
        .apply = incident_apply_batch,
        .kafka_defaults = kafka_defaults,
    };

    return consumer_service_main(argc, argv, &def);
}
