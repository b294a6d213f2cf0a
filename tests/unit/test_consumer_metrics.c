/* Unit tests of common/consumer_metrics: the families of a consumer's counters, the batch
 * and transaction histograms and the freshness per source, and promtool's check of the
 * whole /metrics text (metrics_http_render). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "consumer_metrics.h"
#include "metrics_http.h"
#include "support/tool.h"

static consumer_metrics *metrics(void)
{
    char err[128] = "";
    consumer_metrics *m = consumer_metrics_new("roster.changes", "roster-consumer", err,
                                               sizeof err);

    cr_assert_not_null(m, "consumer_metrics_new: %s", err);
    return m;
}

static consumer_stats stats(void)
{
    consumer_stats st;

    memset(&st, 0, sizeof st);
    st.batches = 4;
    st.messages = 120;
    st.applied = 115;
    st.rejected = 5;
    st.retries = 2;
    st.rebalances = 1;
    st.pauses = 5;
    st.not_ready_us = 1500000;
    st.lag = 7;
    st.ready = 1;
    snprintf(st.rejected_by_class[0].name, sizeof st.rejected_by_class[0].name, "rule");
    st.rejected_by_class[0].count = 3;
    snprintf(st.rejected_by_class[1].name, sizeof st.rejected_by_class[1].name, "auth");
    st.rejected_by_class[1].count = 2;
    return st;
}

/* The text of m and st; the caller frees nothing (owned by p). */
static const char *render(consumer_metrics *m, const consumer_stats *st, promtext *p)
{
    char err[256] = "";
    const char *s;

    cr_assert_eq(consumer_metrics_render(m, st, p), 0, "render failed");
    s = promtext_finish(p, NULL, err, sizeof err);
    cr_assert_not_null(s, "promtext: %s", err);
    return s;
}

static promtext *builder(void)
{
    char err[128];
    promtext *p = promtext_new(err, sizeof err);

    cr_assert_not_null(p, "promtext_new: %s", err);
    return p;
}

#define L "topic=\"roster.changes\",consumergroup=\"roster-consumer\""

Test(consumer_metrics, counters_from_the_stats)
{
    consumer_metrics *m = metrics();
    consumer_stats st = stats();
    promtext *p = builder();
    const char *s = render(m, &st, p);
    static const char *const want[] = {
        "consumer_events_consumed_total{" L "} 120\n",
        "consumer_events_applied_total{" L "} 115\n",
        "consumer_events_dead_lettered_total{" L ",error_class=\"decode\"} 0\n",
        "consumer_events_dead_lettered_total{" L ",error_class=\"rule\"} 3\n",
        "consumer_events_dead_lettered_total{" L ",error_class=\"db\"} 0\n",
        "consumer_events_dead_lettered_total{" L ",error_class=\"auth\"} 2\n",
        "consumer_batches_total{" L "} 4\n",
        "consumer_retries_total{" L "} 2\n",
        "consumer_rebalances_total{" L "} 1\n",
        "consumer_pauses_total{" L "} 5\n",
        "consumer_not_ready_seconds_total{" L "} 1.5\n",
        "consumer_lag_events{" L "} 7\n",
        "# TYPE consumer_event_freshness_seconds histogram\n",
    };

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_not_null(strstr(s, want[i]), "missing %s in:\n%s", want[i], s);
    st.lag = -1;
    promtext_reset(p);
    s = render(m, &st, p);
    cr_assert_null(strstr(s, "consumer_lag_events"), "no lag while unknown:\n%s", s);
    promtext_destroy(p);
    consumer_metrics_destroy(m);
}

Test(consumer_metrics, durations_and_freshness_per_source)
{
    consumer_metrics *m = metrics();
    consumer_stats st = stats();
    promtext *p = builder();
    const int64_t now = 1707900000000000; /* 2024-02-14 */
    const consumer_applied_event ev[] = {
        {"dc-sulsel", now - 400000},      /* 0.4 s */
        {"dc-sulsel", now - 90000000},    /* 90 s */
        {"dc-jatim", now - 3000000},      /* 3 s */
        {"dc-jatim", now + 5000000},      /* a clock ahead: 0 */
    };
    const consumer_commit c = {4, 0, 30000, 20000, now, ev, 4};
    const char *s;

    consumer_metrics_on_commit(m, &c);
    s = render(m, &st, p);
    cr_assert_not_null(strstr(s, "consumer_batch_duration_seconds_bucket{" L ",le=\"0.025\"} 0\n"
                                 "consumer_batch_duration_seconds_bucket{" L ",le=\"0.05\"} 1\n"),
                       "batch of 30 ms:\n%s", s);
    cr_assert_not_null(strstr(s, "consumer_pg_transaction_duration_seconds_sum{" L "} 0.02\n"),
                       "transaction of 20 ms:\n%s", s);
    cr_assert_not_null(strstr(s, "consumer_event_freshness_seconds_bucket{" L
                                 ",source=\"dc-sulsel\",le=\"0.5\"} 1\n"), "0.4 s:\n%s", s);
    cr_assert_not_null(strstr(s, "consumer_event_freshness_seconds_bucket{" L
                                 ",source=\"dc-sulsel\",le=\"120\"} 2\n"), "90 s:\n%s", s);
    cr_assert_not_null(strstr(s, "consumer_event_freshness_seconds_bucket{" L
                                 ",source=\"dc-jatim\",le=\"0.05\"} 1\n"), "clock ahead:\n%s", s);
    cr_assert_not_null(strstr(s, "consumer_event_freshness_seconds_sum{" L
                                 ",source=\"dc-jatim\"} 3\n"), "jatim sum:\n%s", s);
    promtext_destroy(p);
    consumer_metrics_destroy(m);
}

Test(consumer_metrics, sources_past_the_limit_count_as_other)
{
    consumer_metrics *m = metrics();
    consumer_stats st = stats();
    promtext *p = builder();
    char names[CONSUMER_METRICS_SOURCES + 10][16];
    consumer_applied_event ev[CONSUMER_METRICS_SOURCES + 10];
    consumer_commit c = {0, 0, 1000, 1000, 1000000000, ev, CONSUMER_METRICS_SOURCES + 10};
    const char *s, *at;
    int series = 0;

    for (int i = 0; i < CONSUMER_METRICS_SOURCES + 10; i++) {
        snprintf(names[i], sizeof names[i], "dc-%02d", i);
        ev[i] = (consumer_applied_event){names[i], 0};
    }
    consumer_metrics_on_commit(m, &c);
    s = render(m, &st, p);
    for (at = s; (at = strstr(at, "consumer_event_freshness_seconds_count{")); at++)
        series++;
    cr_assert_eq(series, CONSUMER_METRICS_SOURCES, "series: %d", series);
    cr_assert_not_null(strstr(s, "consumer_event_freshness_seconds_count{" L
                                 ",source=\"other\"} 11\n"), "11 in other:\n%s", s);
    promtext_destroy(p);
    consumer_metrics_destroy(m);
}

static consumer_metrics *g_m;
static consumer_stats g_st;

static int render_cb(void *opaque, promtext *p)
{
    (void)opaque;
    return consumer_metrics_render(g_m, &g_st, p);
}

Test(consumer_metrics, promtool_accepts_the_whole_text)
{
    static const consumer_applied_event ev[] = {{"dc-sulsel", 0}};
    const consumer_commit c = {1, 0, 1000, 500, 2000000, ev, 1};
    const metrics_http_handler h = {render_cb, NULL, NULL};
    promtext *p = builder();
    char err[256] = "", out[4096];
    int rc;

    if (!tool_available("promtool"))
        cr_skip_test("promtool is not installed (Debian package prometheus)");
    g_m = metrics();
    g_st = stats();
    consumer_metrics_on_commit(g_m, &c);
    cr_assert_eq(metrics_http_render(&h, p, err, sizeof err), 0, "render: %s", err);
    rc = tool_run("promtool check metrics", promtext_finish(p, NULL, err, sizeof err), out,
                  sizeof out);
    cr_assert_eq(rc, 0, "promtool check metrics exits %d:\n%s", rc, out);
    promtext_destroy(p);
    consumer_metrics_destroy(g_m);
}
