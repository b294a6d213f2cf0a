/* Unit tests of common/histogram: which bucket takes a value, the sum, and the text. */
#include <criterion/criterion.h>
#include <string.h>

#include "histogram.h"

static const double bounds[] = {0.1, 1, 10};

Test(histogram, a_value_on_a_bound_is_in_that_bucket)
{
    histogram h;

    histogram_init(&h, bounds, 3);
    histogram_observe(&h, 0.1);
    histogram_observe(&h, 0.05);
    histogram_observe(&h, 1);
    histogram_observe(&h, 1.5);
    histogram_observe(&h, 11);
    cr_assert_eq(h.counts[0], 2, "0.05 and 0.1 are <= 0.1, got %llu",
                 (unsigned long long)h.counts[0]);
    cr_assert_eq(h.counts[1], 1, "1 is <= 1");
    cr_assert_eq(h.counts[2], 1, "1.5 is <= 10");
    cr_assert_eq(h.counts[3], 1, "11 is above every bound");
    cr_assert_float_eq(h.sum, 13.65, 1e-9, "sum %g", h.sum);
}

Test(histogram, writes_cumulative_buckets)
{
    char err[128];
    histogram h;
    promtext *p = promtext_new(err, sizeof err);
    const promtext_label l[1] = {{"topic", "t"}};
    const char *text;

    cr_assert_not_null(p, "promtext_new: %s", err);
    histogram_init(&h, bounds, 3);
    histogram_observe(&h, 0.5);
    histogram_observe(&h, 20);
    promtext_family(p, "x_seconds", PROMTEXT_HISTOGRAM, NULL);
    cr_assert_eq(histogram_write(&h, p, l, 1), 0, "histogram_write");
    text = promtext_finish(p, NULL, err, sizeof err);
    cr_assert_not_null(text, "finish: %s", err);
    cr_assert_str_eq(text,
                     "# TYPE x_seconds histogram\n"
                     "x_seconds_bucket{topic=\"t\",le=\"0.1\"} 0\n"
                     "x_seconds_bucket{topic=\"t\",le=\"1\"} 1\n"
                     "x_seconds_bucket{topic=\"t\",le=\"10\"} 1\n"
                     "x_seconds_bucket{topic=\"t\",le=\"+Inf\"} 2\n"
                     "x_seconds_sum{topic=\"t\"} 20.5\n"
                     "x_seconds_count{topic=\"t\"} 2\n",
                     "got:\n%s", text);
    promtext_destroy(p);
}

Test(histogram, shared_bucket_sets_increase)
{
    for (size_t i = 1; i < histogram_duration_nbounds; i++)
        cr_assert_gt(histogram_duration_bounds[i], histogram_duration_bounds[i - 1],
                     "duration bound %zu", i);
    for (size_t i = 1; i < histogram_freshness_nbounds; i++)
        cr_assert_gt(histogram_freshness_bounds[i], histogram_freshness_bounds[i - 1],
                     "freshness bound %zu", i);
    cr_assert_leq(histogram_freshness_nbounds, HISTOGRAM_MAX_BOUNDS, "fits");
}
