/* consumer_service: the main of a consumer service (roster-consumer, incident-consumer).
 * Starts the program (common/program.h: options, logging, signals), runs its start-up
 * work, builds a consumer (common/consumer.h) of its topic with the service's handler,
 * serves its metrics and health when metrics.port is set (metrics_http.h,
 * consumer_metrics.h; ready while the consumer is and PostgreSQL answers), finishes the
 * open batches on SIGINT/SIGTERM, and logs the start and the end. A service's
 * main.c is only its option table and a consumer_service_def. */
#ifndef CONSUMER_SERVICE_H
#define CONSUMER_SERVICE_H

#include <stddef.h>

#include "config.h"
#include "consumer.h"
#include "program.h"

/* Static description of a service. start runs first, on the main thread; the consumer then
 * calls ctx_new (with the parsed configuration) for each batch slot, prepare and apply on
 * its threads (consumer.h), and ctx_destroy at the end. */
typedef struct consumer_service_def {
    /* Name, usage text, option rows: the program takes CONSUMER_SERVICE_OPTIONS and its own
     * rows include the string options "topic" and "group". The service reads "topic" and
     * every data center's "<topic>.<source>" (source_topic.h), or the pattern "topic" is
     * when it starts with ^. No positional arguments. */
    program_def program;
    /* A context for one batch slot; NULL + errstr on failure. */
    void *(*ctx_new)(const config *cfg, char *errstr, size_t errstr_size);
    /* Frees what ctx_new returned; accepts NULL. */
    void (*ctx_destroy)(void *ctx);
    /* Optional: start-up work before the consumer starts (e.g. syncing a table); key=value
     * fields for the "started" line into fields (size bytes). 0 or -1 + errstr. */
    int (*start)(const config *cfg, char *fields, size_t size, char *errstr,
                 size_t errstr_size);
    /* consumer_handler's prepare (optional) and apply. */
    int (*prepare)(void *ctx, const consumer_batch *b, consumer_rejects *rej, char *errstr,
                   size_t errstr_size);
    int (*apply)(void *ctx, PGconn *pg, const consumer_batch *b, consumer_rejects *rej,
                 char *errstr, size_t errstr_size);
    /* Optional: librdkafka properties of the service's own (key, value pairs ending with
     * NULL), under the user's -X, which always wins. E.g. no Nagle for a service whose
     * every record must go on at once; a bulk service keeps librdkafka's defaults. */
    const char *const *kafka_defaults;
} consumer_service_def;

/* The shared option groups of a consumer service. */
#define CONSUMER_SERVICE_OPTIONS \
    (PROGRAM_OPT_KAFKA | PROGRAM_OPT_PG | PROGRAM_OPT_CONSUMER | PROGRAM_OPT_METRICS | \
     PROGRAM_OPT_REGISTRY)

/* Run the service with the program's arguments; returns main's exit status: 0 after --help
 * or a clean stop, 1 when it could not start or stopped on an error, 2 for bad usage.
 * Call once, from main. */
int consumer_service_main(int argc, char **argv, const consumer_service_def *def);

#endif
