/* program: what every program's main shares. The option rows programs have in common are
 * defined once, in one table, each row in a group (PROGRAM_OPT_*); a program names the
 * groups it takes and adds its own rows. program_start is the one start-up: options from
 * --config FILE, then the environment, then flags and -X kafka.property=value (secrets
 * refused on the command line), under them all the principal's own files of
 * $COVERAGE_CONFIG_DIR (program_load_principal), --help, positional-argument checks,
 * logging at log.level, and SIGINT/SIGTERM handling. Called from main's thread only. */
#ifndef PROGRAM_H
#define PROGRAM_H

#include <stdio.h>
#include <libpq-fe.h>

#include "config.h"

/* Groups of shared option rows (see program.c for the rows). */
enum {
    PROGRAM_OPT_KAFKA = 1 << 0,    /* bootstrap */
    PROGRAM_OPT_PG = 1 << 1,       /* pg */
    PROGRAM_OPT_LOG = 1 << 2,      /* log.level (every program gets it) */
    PROGRAM_OPT_CONSUMER = 1 << 3, /* batch.max.messages, batch.max.ms, batch.idle.handoff,
                                    * stats.interval.s, exit.when.drained */
    PROGRAM_OPT_RELAY = 1 << 4,    /* batch.size, poll.interval.ms, delivery.timeout.ms,
                                    * exit.when.drained */
    PROGRAM_OPT_PRODUCER = 1 << 5, /* source, topic.per-source, format, dry-run,
                                    * ignore-unknown-columns, max-errors, progress */
    PROGRAM_OPT_METRICS = 1 << 6,  /* metrics.port (0: off), metrics.host: the service's
                                    * /metrics, /healthz and /readyz (metrics_http.h) */
    PROGRAM_OPT_REGISTRY = 1 << 7, /* registry.url, registry.user, registry.password,
                                    * registry.timeout.ms, registry.auto.register: where
                                    * schema ids come from (schemareg.h); program_start
                                    * binds the subjects of program_def.writes */
};

/* Static description of a program; not copied, must outlive the program's run. */
typedef struct program_def {
    const char *name;              /* "covadm": log prog=, prefix of every message */
    const char *usage;             /* printed by --help before the options */
    unsigned shared;               /* PROGRAM_OPT_* groups it takes */
    const config_option *options;  /* its own rows, ending with {NULL}; may be NULL; a row
                                    * named as a shared one replaces it (its own default;
                                    * NULL text or env keeps the shared row's) */
    int min_args, max_args;        /* positional arguments allowed; max_args -1: any */
    /* With PROGRAM_OPT_REGISTRY: the subjects (CODEC_*_SUBJECT) it writes, NULL-terminated;
     * NULL when it only reads. */
    const char *const *writes;
} program_def;

/* Parse argv (argv[0] = the program) into a new config with def's rows: the shared groups
 * in table order, then the program's own. The positional arguments are moved to
 * argv[1..*nargs]. Starts logging at log.level, with PROGRAM_OPT_REGISTRY takes its schema
 * ids from the registry (schemareg_start with def->writes), and installs SIGINT/SIGTERM
 * handlers (see program_on_stop). Returns the config (config_destroy() it), or NULL with
 * *exit_code: 0 after --help (printed on stdout), 2 after a usage error ("NAME: message"
 * on stderr), 1 when out of memory or the registry failed ("NAME: message" on stderr).
 * Call once. */
config *program_start(const program_def *def, int argc, char **argv, int *nargs,
                      int *exit_code);

/* The lowest layers of a program's options: when $COVERAGE_CONFIG_DIR is set, the files
 * there that name the principal it runs as, each only where nothing above set a key
 * (config_load_file_under): a producer's data center "<source>.conf" (its credentials;
 * source of letters, digits, '-' and '_'), then "<name>.conf" (a service's credentials,
 * e.g. roster-consumer.conf). A missing file is skipped. 0, or -1 + errstr (a file that
 * exists but cannot be read or parsed). program_start calls it. */
int program_load_principal(const program_def *def, config *cfg, char *errstr,
                           size_t errstr_size);

/* A config with the shared rows of groups (log.level always) and then own (may be NULL),
 * with their defaults, as program_start makes it (a row of own named as a shared one takes
 * its place); for tests and embedders. NULL when out of memory. */
config *program_config_new(unsigned groups, const config_option *own);

/* Print def's usage text and options (with their defaults and variables) to out. */
void program_usage(const program_def *def, FILE *out);

/* What SIGINT/SIGTERM does besides setting program_stopping(): fn(opaque), run in the
 * signal handler, so it must be async-signal-safe (e.g. set a flag). A signal that came
 * before the call is passed on at once. NULL fn: nothing more. */
void program_on_stop(void (*fn)(void *opaque), void *opaque);

/* 1 once SIGINT or SIGTERM arrived. */
int program_stopping(void);

/* Connect to PostgreSQL with the "pg" option, def->name being the application name. On
 * failure prints "NAME: error" on stderr and returns NULL. The caller PQfinish()es. */
PGconn *program_connect_pg(const program_def *def, const config *cfg);

#endif
