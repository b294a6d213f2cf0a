/* service: the main of a consumer service. Parses its options, sets up logging, builds the
 * service's apply context and a consumer of its topic, stops on SIGINT/SIGTERM, and logs the
 * start and the end. A service's main.c is only its option table and a service_def. */
#ifndef SERVICE_H
#define SERVICE_H

#include <stddef.h>

#include "cli.h"
#include "config.h"
#include "consumer.h"

/* Static description of a service; the callbacks run on the main thread, in the order
 * ctx_new, start, then apply (on the consumer's thread) until the end, then ctx_destroy. */
typedef struct service_def {
    /* Name, usage text and option table; the table holds CONSUMER_CONFIG_OPTIONS and the
     * string options "topic" and "group". */
    cli_program program;
    /* The apply context from the parsed configuration; NULL + errstr on failure. */
    void *(*ctx_new)(const config *cfg, char *errstr, size_t errstr_size);
    /* Frees what ctx_new returned; accepts NULL. */
    void (*ctx_destroy)(void *ctx);
    /* Optional: start-up work before the first batch (e.g. syncing a table); 0 or -1 + errstr. */
    int (*start)(const config *cfg, void *ctx, char *errstr, size_t errstr_size);
    /* Applies a batch; gets the context as opaque. */
    consumer_apply_fn apply;
    /* Optional: key=value fields written into buf (size bytes) for the log line of a failed
     * start. */
    void (*start_fields)(const config *cfg, char *buf, size_t size);
    /* Optional: key=value fields for the "started" line, after topic and group. */
    void (*started_fields)(const config *cfg, const void *ctx, char *buf, size_t size);
} service_def;

/* Run the service with the program's arguments; returns main's exit status: 0 after --help
 * or a clean stop, 1 when it could not start or stopped on an error, 2 for bad usage.
 * Call once, from main; it installs SIGINT and SIGTERM handlers. */
int service_main(int argc, char **argv, const service_def *def);

#endif
