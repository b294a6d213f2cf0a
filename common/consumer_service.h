/* consumer_service: the main of a consumer service (roster-consumer, incident-consumer).
 * Starts the program (common/program.h: options, logging, signals), builds the service's
 * apply context and a consumer (common/consumer.h) of its topic, finishes the open batch on
 * SIGINT/SIGTERM, and logs the start and the end. A service's main.c is only its option
 * table and a consumer_service_def. */
#ifndef CONSUMER_SERVICE_H
#define CONSUMER_SERVICE_H

#include <stddef.h>

#include "config.h"
#include "consumer.h"
#include "program.h"

/* Static description of a service; the callbacks run on the main thread, in the order
 * ctx_new, start, then apply (on the consumer's thread) until the end, then ctx_destroy. */
typedef struct consumer_service_def {
    /* Name, usage text, option rows: the program takes CONSUMER_SERVICE_OPTIONS and its own
     * rows include the string options "topic" and "group". No positional arguments. */
    program_def program;
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
} consumer_service_def;

/* The shared option groups of a consumer service. */
#define CONSUMER_SERVICE_OPTIONS (PROGRAM_OPT_KAFKA | PROGRAM_OPT_PG | PROGRAM_OPT_CONSUMER)

/* Run the service with the program's arguments; returns main's exit status: 0 after --help
 * or a clean stop, 1 when it could not start or stopped on an error, 2 for bad usage.
 * Call once, from main. */
int consumer_service_main(int argc, char **argv, const consumer_service_def *def);

#endif
