/* histogram: a Prometheus histogram kept in memory (fixed bucket bounds, a count per
 * bucket, the sum), written with promtext_histogram. Pure; not thread-safe: the caller
 * locks. Bucket sets shared by the services' metrics are defined here, so the dashboards'
 * and alerts' le values are the same everywhere. */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "promtext.h"

enum { HISTOGRAM_MAX_BOUNDS = 24 };

typedef struct histogram {
    const double *bounds;                    /* borrowed, increasing, finite */
    size_t nbounds;                          /* <= HISTOGRAM_MAX_BOUNDS */
    uint64_t counts[HISTOGRAM_MAX_BOUNDS + 1]; /* per bucket; the last: above every bound */
    double sum;
} histogram;

/* Durations of batches and transactions, seconds: 5 ms .. 60 s. */
extern const double histogram_duration_bounds[];
extern const size_t histogram_duration_nbounds;
/* Data freshness (event time to applied), seconds: 50 ms .. 1 day. */
extern const double histogram_freshness_bounds[];
extern const size_t histogram_freshness_nbounds;

/* An empty histogram over bounds (which must outlive it; nbounds is cut to the maximum). */
void histogram_init(histogram *h, const double *bounds, size_t nbounds);

/* Count v in the first bucket whose bound is >= v (the last one above them all). */
void histogram_observe(histogram *h, double v);

/* Its sample in the current histogram family of p. 0 or -1 (promtext's error). */
int histogram_write(const histogram *h, promtext *p, const promtext_label *labels,
                    size_t nlabels);

#endif
