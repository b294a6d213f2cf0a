/* consumer_metrics: a consumer service's counters and histograms in the Prometheus format. */
#include "consumer_metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "histogram.h"

/* The dead-letter classes always exported (consumer.h, consumer_reject), so a rate over
 * them exists before the first dead letter. */
static const char *const known_classes[] = {"decode", "validation", "rule", "db"};
#define NKNOWN (sizeof known_classes / sizeof known_classes[0])

struct consumer_metrics {
    char *topic, *group;
    pthread_mutex_t lock;                    /* guards what follows */
    histogram batch, txn;
    struct source_histogram {
        char source[48];
        histogram h;
    } sources[CONSUMER_METRICS_SOURCES];
    int nsources;
};

consumer_metrics *consumer_metrics_new(const char *topic, const char *group, char *errstr,
                                       size_t n)
{
    consumer_metrics *m = calloc(1, sizeof *m);

    if (!m || !(m->topic = strdup(topic)) || !(m->group = strdup(group))) {
        if (m)
            free(m->topic);
        free(m);
        errstr_fail(errstr, n, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&m->lock, NULL);
    histogram_init(&m->batch, histogram_duration_bounds, histogram_duration_nbounds);
    histogram_init(&m->txn, histogram_duration_bounds, histogram_duration_nbounds);
    return m;
}

void consumer_metrics_destroy(consumer_metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->topic);
    free(m->group);
    free(m);
}

/* The histogram of source (added when new; "other" once the table is full). Locked. */
static histogram *source_histogram(consumer_metrics *m, const char *source)
{
    struct source_histogram *s;

    for (int i = m->nsources - 1; i >= 0; i--)
        if (strcmp(m->sources[i].source, source) == 0)
            return &m->sources[i].h;
    if (m->nsources >= CONSUMER_METRICS_SOURCES - 1 && strcmp(source, "other") != 0)
        return source_histogram(m, "other");
    s = &m->sources[m->nsources++];
    snprintf(s->source, sizeof s->source, "%s", source);
    histogram_init(&s->h, histogram_freshness_bounds, histogram_freshness_nbounds);
    return &s->h;
}

void consumer_metrics_on_commit(void *opaque, const consumer_commit *c)
{
    consumer_metrics *m = opaque;
    const char *last = NULL;
    histogram *h = NULL;

    pthread_mutex_lock(&m->lock);
    histogram_observe(&m->batch, (double)c->batch_us / 1e6);
    histogram_observe(&m->txn, (double)c->txn_us / 1e6);
    for (int i = 0; i < c->napplied; i++) {
        int64_t age_us = c->committed_us - c->applied[i].event_time_us;
        if (c->applied[i].source != last) /* interned: one pointer per source */
            h = source_histogram(m, last = c->applied[i].source);
        /* A data center's clock ahead of ours: fresh, not negative. */
        histogram_observe(h, age_us > 0 ? (double)age_us / 1e6 : 0);
    }
    pthread_mutex_unlock(&m->lock);
}

/* One family of a single sample labelled topic and consumergroup. */
static void one(promtext *p, const promtext_label *l, const char *name, int type,
                const char *help, double v)
{
    promtext_family(p, name, type, help);
    promtext_sample(p, l, 2, v);
}

static void render_dead_letters(const consumer_metrics *m, const consumer_stats *st,
                                promtext *p)
{
    promtext_label l[3] = {{"topic", m->topic}, {"consumergroup", m->group}, {"error_class", ""}};

    promtext_family(p, "consumer_events_dead_lettered_total", PROMTEXT_COUNTER,
                    "Events dead-lettered (to <topic>.dlq and dead_letters), by error class.");
    for (size_t k = 0; k < NKNOWN; k++) {
        uint64_t count = 0;
        for (int i = 0; i < CONSUMER_CLASS_MAX; i++)
            if (strcmp(st->rejected_by_class[i].name, known_classes[k]) == 0)
                count = st->rejected_by_class[i].count;
        l[2].value = known_classes[k];
        promtext_sample(p, l, 3, (double)count);
    }
    for (int i = 0; i < CONSUMER_CLASS_MAX && st->rejected_by_class[i].name[0]; i++) {
        size_t k = 0;
        while (k < NKNOWN && strcmp(st->rejected_by_class[i].name, known_classes[k]) != 0)
            k++;
        if (k < NKNOWN)
            continue;
        l[2].value = st->rejected_by_class[i].name;
        promtext_sample(p, l, 3, (double)st->rejected_by_class[i].count);
    }
}

static void render_counters(const consumer_metrics *m, const consumer_stats *st, promtext *p)
{
    const promtext_label l[2] = {{"topic", m->topic}, {"consumergroup", m->group}};

    one(p, l, "consumer_events_consumed_total", PROMTEXT_COUNTER,
        "Events read from Kafka and decided in a committed transaction.", (double)st->messages);
    one(p, l, "consumer_events_applied_total", PROMTEXT_COUNTER,
        "Events applied to PostgreSQL (re-deliveries included).", (double)st->applied);
    render_dead_letters(m, st, p);
    one(p, l, "consumer_dead_letters_truncated_total", PROMTEXT_COUNTER,
        "Dead letters the DLQ topic took only cut to dlq.truncate.bytes.",
        (double)st->dlq_truncated);
    one(p, l, "consumer_batches_total", PROMTEXT_COUNTER,
        "Committed PostgreSQL transactions (batches and parts of split batches).",
        (double)st->batches);
    one(p, l, "consumer_batch_splits_total", PROMTEXT_COUNTER,
        "Batches PostgreSQL refused and that were split to find the record.",
        (double)st->bisects);
    one(p, l, "consumer_fenced_batches_total", PROMTEXT_COUNTER,
        "Batches rolled back because another consumer owned the partition.",
        (double)st->fenced);
    one(p, l, "consumer_rebalances_total", PROMTEXT_COUNTER,
        "Consumer group rebalances seen (assignments and revocations).",
        (double)st->rebalances);
    one(p, l, "consumer_pauses_total", PROMTEXT_COUNTER,
        "Times an apply worker's partitions were paused because both its batch slots were "
        "taken (a backlog faster than PostgreSQL); what was fetched for them is fetched again.",
        (double)st->pauses);
    one(p, l, "consumer_retries_total", PROMTEXT_COUNTER,
        "Retries of a batch after a transient failure (PostgreSQL or Kafka unreachable, "
        "lock timeout, deadlock, ...).", (double)st->retries);
    one(p, l, "consumer_not_ready_seconds_total", PROMTEXT_COUNTER,
        "Seconds spent not ready (retrying, Kafka unreachable, nothing assigned).",
        (double)st->not_ready_us / 1e6);
    if (st->lag >= 0)
        one(p, l, "consumer_lag_events", PROMTEXT_GAUGE,
            "Events behind the end of the assigned partitions, as of the last progress line "
            "(stats.interval.s).", (double)st->lag);
}

int consumer_metrics_render(consumer_metrics *m, const consumer_stats *st, promtext *p)
{
    promtext_label l[3] = {{"topic", m->topic}, {"consumergroup", m->group}, {"source", ""}};
    char err[8];

    render_counters(m, st, p);
    pthread_mutex_lock(&m->lock);
    promtext_family(p, "consumer_batch_duration_seconds", PROMTEXT_HISTOGRAM,
                    "Wall time of a committed batch: decode when redone, BEGIN to COMMIT.");
    histogram_write(&m->batch, p, l, 2);
    promtext_family(p, "consumer_pg_transaction_duration_seconds", PROMTEXT_HISTOGRAM,
                    "PostgreSQL transaction of a committed batch, BEGIN to COMMIT.");
    histogram_write(&m->txn, p, l, 2);
    promtext_family(p, "consumer_event_freshness_seconds", PROMTEXT_HISTOGRAM,
                    "From an event's time at its data center (source) to its COMMIT in "
                    "PostgreSQL.");
    for (int i = 0; i < m->nsources; i++) {
        l[2].value = m->sources[i].source;
        histogram_write(&m->sources[i].h, p, l, 3);
    }
    pthread_mutex_unlock(&m->lock);
    return promtext_finish(p, NULL, err, sizeof err) ? 0 : -1;
}
