/* program: the shared option rows and the start-up of every program. */
#include "program.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg.h"
#include "schemareg.h"

/* The one table of shared options: each row belongs to the groups in its mask. */
static const struct shared_row {
    unsigned groups;
    config_option option;
} shared_rows[] = {
    {PROGRAM_OPT_PRODUCER,
     {"source", CONFIG_STR, NULL, "COVERAGE_SOURCE", "publishing data center id (required)"}},
    {PROGRAM_OPT_KAFKA,
     {"bootstrap", CONFIG_STR, "127.0.0.1:19092", "KAFKA_BOOTSTRAP", "Kafka bootstrap servers"}},
    {PROGRAM_OPT_PG,
     {"pg", CONFIG_STR, "", "COVERAGE_PG", "PostgreSQL connection string (or PG* variables)"}},
    {PROGRAM_OPT_PG,
     {"pg.lock_timeout.ms", CONFIG_INT, "10000", NULL,
      "longest wait for a row or table lock (then the transaction is retried)"}},
    {PROGRAM_OPT_PG,
     {"pg.statement_timeout.ms", CONFIG_INT, "300000", NULL, "longest run of one statement"}},
    {PROGRAM_OPT_PG,
     {"pg.idle_in_transaction_timeout.ms", CONFIG_INT, "60000", NULL,
      "the server ends a session idle this long inside a transaction (a frozen client)"}},
    {PROGRAM_OPT_PRODUCER,
     {"topic.per-source", CONFIG_BOOL, "false", NULL,
      "unless --topic is given, publish to <topic>.<source>, the data center's own topic (the "
      "one Kafka's ACLs let it write; set in the data center's config file)"}},
    {PROGRAM_OPT_PRODUCER,
     {"format", CONFIG_STR, "auto", NULL, "csv, jsonl or auto (by file name; stdin is csv)"}},
    {PROGRAM_OPT_PRODUCER,
     {"dry-run", CONFIG_BOOL, "false", NULL, "check every row, publish nothing"}},
    {PROGRAM_OPT_PRODUCER,
     {"ignore-unknown-columns", CONFIG_BOOL, "false", NULL,
      "skip columns contracts.md does not name"}},
    {PROGRAM_OPT_PRODUCER,
     {"max-errors", CONFIG_INT, "1000", NULL, "stop printing row errors after this many"}},
    {PROGRAM_OPT_PRODUCER,
     {"progress", CONFIG_STR, "auto", NULL, "progress line: auto (on a terminal), always, never"}},
    {PROGRAM_OPT_PRODUCER,
     {"delivery.timeout.ms", CONFIG_INT, "30000", NULL,
      "a record Kafka has not acknowledged by then fails (and the exit status is 1)"}},
    {PROGRAM_OPT_CONSUMER,
     {"batch.max.messages", CONFIG_INT, "10000", NULL, "largest batch per transaction"}},
    {PROGRAM_OPT_CONSUMER,
     {"batch.max.ms", CONFIG_INT, "200", NULL, "longest wait to fill a batch"}},
    {PROGRAM_OPT_CONSUMER,
     {"batch.idle.handoff", CONFIG_BOOL, "false", NULL,
      "a worker with nothing to apply takes its batch as it is when no more is fetched, "
      "instead of waiting for batch.max.ms"}},
    {PROGRAM_OPT_CONSUMER,
     {"stats.interval.s", CONFIG_INT, "10", NULL, "seconds between progress lines"}},
    {PROGRAM_OPT_CONSUMER,
     {"apply.workers", CONFIG_INT, "2", NULL,
      "PostgreSQL connections applying batches in parallel (partition p on p % workers)"}},
    {PROGRAM_OPT_CONSUMER,
     {"retry.backoff.max.ms", CONFIG_INT, "30000", NULL,
      "longest wait between retries of a transient failure (retried for as long as it lasts)"}},
    {PROGRAM_OPT_CONSUMER,
     {"cluster.wait.s", CONFIG_INT, "60", NULL,
      "with exit.when.drained: give up when no partition is assigned for this long"}},
    {PROGRAM_OPT_CONSUMER,
     {"dlq.truncate.bytes", CONFIG_INT, "65536", NULL,
      "a dead letter too large for the DLQ topic goes there cut to this size"}},
    {PROGRAM_OPT_RELAY,
     {"batch.size", CONFIG_INT, "500", NULL, "outbox rows per batch (one flush, one UPDATE)"}},
    {PROGRAM_OPT_RELAY,
     {"poll.interval.ms", CONFIG_INT, "1000", NULL,
      "longest sleep between polls when no NOTIFY arrives"}},
    {PROGRAM_OPT_RELAY,
     {"delivery.timeout.ms", CONFIG_INT, "130000", NULL,
      "longest wait for a batch's acknowledgements before it is retried"}},
    {PROGRAM_OPT_CONSUMER | PROGRAM_OPT_RELAY,
     {"exit.when.drained", CONFIG_BOOL, "false", NULL,
      "stop once nothing is left to do (every partition at its end, or no unpublished "
      "outbox row)"}},
    {PROGRAM_OPT_METRICS,
     {"metrics.port", CONFIG_INT, "0", NULL,
      "serve /metrics, /healthz and /readyz on this TCP port (0: off)"}},
    {PROGRAM_OPT_METRICS,
     {"metrics.host", CONFIG_STR, "127.0.0.1", NULL,
      "address the metrics port listens on (0.0.0.0: every interface)"}},
    {PROGRAM_OPT_REGISTRY,
     {"registry.url", CONFIG_STR, "", "SCHEMA_REGISTRY_URL",
      "Confluent-compatible schema registry (http://host:port/apis/ccompat/v7); empty: the "
      "compiled-in schema ids, for a deployment without a registry (schemas/README.md)"}},
    {PROGRAM_OPT_REGISTRY,
     {"registry.user", CONFIG_STR, NULL, "SCHEMA_REGISTRY_USER",
      "user for the registry's basic authentication"}},
    {PROGRAM_OPT_REGISTRY,
     {"registry.password", CONFIG_STR, NULL, "SCHEMA_REGISTRY_PASSWORD",
      "its password (config file or environment only)"}},
    {PROGRAM_OPT_REGISTRY,
     {"registry.timeout.ms", CONFIG_INT, "10000", NULL, "longest wait for one registry request"}},
    {PROGRAM_OPT_REGISTRY,
     {"registry.auto.register", CONFIG_BOOL, "true", NULL,
      "register the schemas this program writes when the registry lacks them (off: they "
      "must be registered already)"}},
    {PROGRAM_OPT_REGISTRY,
     {"registry.cache", CONFIG_STR, "", NULL,
      "file of the ids this host bound before, used when the registry cannot answer at "
      "start-up (empty: $XDG_CACHE_HOME or ~/.cache, coverage/schema-ids.tsv; none: off)"}},
    {PROGRAM_OPT_LOG, {"log.level", CONFIG_STR, "info", NULL, "debug, info, warn or error"}},
};

enum { SHARED_ROWS = sizeof shared_rows / sizeof shared_rows[0] };

static volatile sig_atomic_t stopping;
static void (*volatile stop_fn)(void *);
static void *volatile stop_opaque;

static void on_signal(int sig)
{
    void (*fn)(void *) = stop_fn;

    (void)sig;
    stopping = 1;
    if (fn)
        fn(stop_opaque);
}

void program_on_stop(void (*fn)(void *opaque), void *opaque)
{
    stop_fn = NULL;
    stop_opaque = opaque;
    stop_fn = fn;
    if (fn && stopping)
        fn(opaque);
}

int program_stopping(void)
{
    return stopping;
}

/* The shared row as the program has it: a row of own of the same name takes its place, its
 * NULL text or variable keeping the shared one's (a consumer's own batch.max.ms changes
 * only the default). */
static config_option as_own(const config_option *own, const config_option *shared)
{
    config_option row = *shared;

    for (size_t i = 0; own && own[i].key; i++)
        if (strcmp(own[i].key, shared->key) == 0) {
            row = own[i];
            if (!row.help)
                row.help = shared->help;
            if (!row.env)
                row.env = shared->env;
            break;
        }
    return row;
}

/* 1 when a shared row of groups is called key. */
static int shared_row(unsigned groups, const char *key)
{
    for (size_t i = 0; i < SHARED_ROWS; i++)
        if ((shared_rows[i].groups & groups) && strcmp(shared_rows[i].option.key, key) == 0)
            return 1;
    return 0;
}

config *program_config_new(unsigned groups, const config_option *own)
{
    config_option *shared;
    const config_option **rows;
    size_t n = 0, nshared = 0, nown = 0;
    config *cfg = NULL;

    groups |= PROGRAM_OPT_LOG;
    while (own && own[nown].key)
        nown++;
    shared = calloc(SHARED_ROWS, sizeof *shared);
    rows = calloc(SHARED_ROWS + nown + 1, sizeof *rows);
    if (shared && rows) {
        for (size_t i = 0; i < SHARED_ROWS; i++)
            if (shared_rows[i].groups & groups) {
                shared[nshared] = as_own(own, &shared_rows[i].option);
                rows[n++] = &shared[nshared++];
            }
        for (size_t i = 0; i < nown; i++)
            if (!shared_row(groups, own[i].key))
                rows[n++] = &own[i];
        cfg = config_new_rows(rows, n);
    }
    free(shared);
    free(rows);
    return cfg;
}

/* The rows of def: shared ones of its groups, then its own. */
static config *new_config(const program_def *def)
{
    return program_config_new(def->shared, def->options);
}

void program_usage(const program_def *def, FILE *out)
{
    config *cfg = new_config(def);

    fputs(def->usage, out);
    if (cfg)
        config_usage(cfg, out);
    config_destroy(cfg);
}

/* Load "<dir>/<principal>.conf" under what is set; a principal of other characters than
 * letters, digits, '-' and '_' names no file. */
static int load_under(config *cfg, const char *dir, const char *principal, char *errstr,
                      size_t n)
{
    char path[4096];

    if (!principal || !*principal ||
        strspn(principal, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
            strlen(principal))
        return 0;
    if ((size_t)snprintf(path, sizeof path, "%s/%s.conf", dir, principal) >= sizeof path) {
        snprintf(errstr, n, "COVERAGE_CONFIG_DIR is too long");
        return -1;
    }
    return config_load_file_under(cfg, path, 1, NULL, errstr, n);
}

int program_load_principal(const program_def *def, config *cfg, char *errstr, size_t n)
{
    const char *dir = getenv("COVERAGE_CONFIG_DIR");
    int producer = (def->shared & PROGRAM_OPT_PRODUCER) != 0, had_source;

    if (!dir || !*dir)
        return 0;
    had_source = producer && config_get(cfg, "source");
    if (had_source && load_under(cfg, dir, config_get(cfg, "source"), errstr, n) < 0)
        return -1;
    if (load_under(cfg, dir, def->name, errstr, n) < 0)
        return -1;
    /* A source named only by the program's own file. */
    if (producer && !had_source && load_under(cfg, dir, config_get(cfg, "source"), errstr, n) < 0)
        return -1;
    return 0;
}

/* Check the arguments and start logging: -1 to go on, else the exit status. */
static int check(const program_def *def, config *cfg, char **argv, int nargs)
{
    const char *level_name = config_get(cfg, "log.level");
    int level = log_level_parse(level_name ? level_name : "");

    if (nargs < def->min_args) {
        fprintf(stderr, "%s: missing argument (see --help)\n", def->name);
        return 2;
    }
    if (def->max_args >= 0 && nargs > def->max_args) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", def->name,
                argv[1 + def->max_args]);
        return 2;
    }
    if (level < 0) {
        fprintf(stderr, "%s: unknown log.level '%s' (debug, info, warn or error)\n", def->name,
                level_name ? level_name : "");
        return 2;
    }
    log_init(def->name, (log_level)level);
    return -1;
}

config *program_start(const program_def *def, int argc, char **argv, int *nargs,
                      int *exit_code)
{
    char errstr[1024];
    config *cfg = new_config(def);
    struct sigaction sa;
    int rest = 0;

    *nargs = 0;
    *exit_code = 1;
    if (!cfg) {
        fprintf(stderr, "%s: out of memory\n", def->name);
        return NULL;
    }
    switch (config_parse_args(cfg, argc - 1, argv + 1, &rest, errstr, sizeof errstr)) {
    case 0:
        if (program_load_principal(def, cfg, errstr, sizeof errstr) < 0) {
            fprintf(stderr, "%s: %s\n", def->name, errstr);
            *exit_code = 2;
            goto fail;
        }
        break;
    case 1:
        fputs(def->usage, stdout);
        config_usage(cfg, stdout);
        *exit_code = 0;
        goto fail;
    default:
        fprintf(stderr, "%s: %s\n", def->name, errstr);
        *exit_code = 2;
        goto fail;
    }
    if ((*exit_code = check(def, cfg, argv, rest)) >= 0)
        goto fail;
    if ((def->shared & PROGRAM_OPT_REGISTRY)
        && schemareg_start(cfg, def->writes, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "%s: %s\n", def->name, errstr);
        *exit_code = 1;
        goto fail;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    *nargs = rest;
    return cfg;
fail:
    config_destroy(cfg);
    return NULL;
}

PGconn *program_connect_pg(const program_def *def, const config *cfg)
{
    char errstr[1024];
    PGconn *pg = pg_connect_config(cfg, def->name, errstr, sizeof errstr);

    if (!pg)
        fprintf(stderr, "%s: %s\n", def->name, errstr);
    return pg;
}
