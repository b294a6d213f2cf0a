/* consumer_metrics: the Prometheus families of a consumer service (names and meaning in
 * README.md, "Operating it"), every series labelled topic and consumergroup:
 *  - counters from consumer_stats (consumer.h): consumer_events_consumed_total,
 *    consumer_events_applied_total, consumer_events_dead_lettered_total{error_class}
 *    (decode, validation, rule and db always present), consumer_dead_letters_truncated_total,
 *    consumer_batches_total, consumer_batch_splits_total, consumer_fenced_batches_total,
 *    consumer_rebalances_total, consumer_retries_total, consumer_not_ready_seconds_total;
 *    the gauge consumer_lag_events (the consumer's own count, as of its last progress line;
 *    absent while unknown);
 *  - histograms kept here from the after-commit hook (consumer_on_commit):
 *    consumer_batch_duration_seconds, consumer_pg_transaction_duration_seconds and
 *    consumer_event_freshness_seconds{source}: from an event's event time at its data
 *    center to its COMMIT in PostgreSQL, per source (the services call consumer_applied);
 *    at most CONSUMER_METRICS_SOURCES sources, later ones count as source="other".
 * The hook and the rendering may run on different threads (a lock inside). */
#ifndef CONSUMER_METRICS_H
#define CONSUMER_METRICS_H

#include <stddef.h>

#include "consumer.h"
#include "promtext.h"

enum { CONSUMER_METRICS_SOURCES = 64 };

typedef struct consumer_metrics consumer_metrics;

/* Metrics of the consumer of topic for group (both copied). NULL + errstr. */
consumer_metrics *consumer_metrics_new(const char *topic, const char *group, char *errstr,
                                       size_t errstr_size);
void consumer_metrics_destroy(consumer_metrics *m);

/* A consumer_commit_fn (opaque: the consumer_metrics): count one commit's durations and
 * applied events' freshness. Any thread. */
void consumer_metrics_on_commit(void *opaque, const consumer_commit *commit);

/* Write the families of st (consumer_get_stats) and the histograms into p. 0 or -1
 * (promtext's error). Any thread. */
int consumer_metrics_render(consumer_metrics *m, const consumer_stats *st, promtext *p);

#endif
