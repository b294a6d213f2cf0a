/* histogram: fixed-bucket histograms for the services' metrics. */
#include "histogram.h"

#include <string.h>

const double histogram_duration_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                            1, 2.5, 5, 10, 30, 60};
const size_t histogram_duration_nbounds =
    sizeof histogram_duration_bounds / sizeof histogram_duration_bounds[0];

const double histogram_freshness_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                                             120, 300, 600, 1800, 3600, 7200, 21600, 86400};
const size_t histogram_freshness_nbounds =
    sizeof histogram_freshness_bounds / sizeof histogram_freshness_bounds[0];

void histogram_init(histogram *h, const double *bounds, size_t nbounds)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->nbounds = nbounds < HISTOGRAM_MAX_BOUNDS ? nbounds : HISTOGRAM_MAX_BOUNDS;
}

void histogram_observe(histogram *h, double v)
{
    size_t i = 0;

    while (i < h->nbounds && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->sum += v;
}

int histogram_write(const histogram *h, promtext *p, const promtext_label *labels,
                    size_t nlabels)
{
    return promtext_histogram(p, labels, nlabels, h->bounds, h->counts, h->nbounds, h->sum);
}
