/* Unit tests of common/promtext: exact text of samples, escaping, values and histograms;
 * the lag monitor's families against data/promtext_lag.prom (and promtool, when
 * installed); every refused input and the stickiness of errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"
#include "support/datafile.h"
#include "support/tool.h"

#define GOLDEN "data/promtext_lag.prom"

static promtext *builder(void)
{
    char err[256] = "";
    promtext *p = promtext_new(err, sizeof err);

    cr_assert_not_null(p, "promtext_new: %s", err);
    return p;
}

/* The builder's text, asserting that no call failed. */
static const char *text(promtext *p)
{
    char err[256] = "";
    const char *s = promtext_finish(p, NULL, err, sizeof err);

    cr_assert_not_null(s, "unexpected error: %s", err);
    return s;
}

Test(promtext, gauge_with_and_without_labels)
{
    promtext *p = builder();
    promtext_label l[] = {{"topic", "incidents"}, {"partition", "0"}};

    promtext_family(p, "up", PROMTEXT_GAUGE, NULL);
    promtext_sample(p, NULL, 0, 1);
    promtext_family(p, "kafka_topic_partition_current_offset", PROMTEXT_GAUGE,
                    "Current Offset of a Broker at Topic/Partition");
    promtext_sample(p, l, 2, 1234);
    cr_assert_str_eq(text(p),
                     "# TYPE up gauge\n"
                     "up 1\n"
                     "# HELP kafka_topic_partition_current_offset Current Offset of a Broker"
                     " at Topic/Partition\n"
                     "# TYPE kafka_topic_partition_current_offset gauge\n"
                     "kafka_topic_partition_current_offset{topic=\"incidents\",partition=\"0\"}"
                     " 1234\n",
                     "text:\n%s", text(p));
    promtext_destroy(p);
}

Test(promtext, label_values_and_help_are_escaped)
{
    promtext *p = builder();
    promtext_label l[] = {{"consumergroup", "a\\b\"c\nd"}, {"topic", "räumlich"}};

    promtext_family(p, "x_total", PROMTEXT_COUNTER, "first line\nsecond \\ \"quoted\"");
    promtext_sample(p, l, 2, 3);
    cr_assert_str_eq(text(p),
                     "# HELP x_total first line\\nsecond \\\\ \"quoted\"\n"
                     "# TYPE x_total counter\n"
                     "x_total{consumergroup=\"a\\\\b\\\"c\\nd\",topic=\"räumlich\"} 3\n",
                     "text:\n%s", text(p));
    promtext_destroy(p);
}

Test(promtext, values_take_the_shortest_exact_form)
{
    static const struct {
        double v;
        const char *expect;
    } cases[] = {
        {0, "0"},          {1, "1"},           {-1.5, "-1.5"},
        {0.1, "0.1"},      {1e21, "1e+21"},    {123456789012.0, "123456789012"},
        {1.0 / 3, "0.3333333333333333"},       {5e-324, "5e-324"},
        {NAN, "NaN"},      {INFINITY, "+Inf"}, {-INFINITY, "-Inf"},
        {9007199254740993.0, "9007199254740992"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        promtext *p = builder();
        char expect[128];

        promtext_family(p, "g", PROMTEXT_GAUGE, NULL);
        promtext_sample(p, NULL, 0, cases[i].v);
        snprintf(expect, sizeof expect, "# TYPE g gauge\ng %s\n", cases[i].expect);
        cr_assert_str_eq(text(p), expect, "case %zu:\n%s", i, text(p));
        promtext_destroy(p);
    }
}

Test(promtext, histogram_buckets_are_cumulative)
{
    promtext *p = builder();
    promtext_label l[] = {{"consumergroup", "incident"}};
    double bounds[] = {0.5, 1, 2.5};
    uint64_t counts[] = {3, 0, 2, 1};

    promtext_family(p, "lag_seconds", PROMTEXT_HISTOGRAM, "Lag");
    promtext_histogram(p, l, 1, bounds, counts, 3, 7.25);
    promtext_histogram(p, NULL, 0, NULL, counts + 3, 0, 9);
    cr_assert_str_eq(text(p),
                     "# HELP lag_seconds Lag\n"
                     "# TYPE lag_seconds histogram\n"
                     "lag_seconds_bucket{consumergroup=\"incident\",le=\"0.5\"} 3\n"
                     "lag_seconds_bucket{consumergroup=\"incident\",le=\"1\"} 3\n"
                     "lag_seconds_bucket{consumergroup=\"incident\",le=\"2.5\"} 5\n"
                     "lag_seconds_bucket{consumergroup=\"incident\",le=\"+Inf\"} 6\n"
                     "lag_seconds_sum{consumergroup=\"incident\"} 7.25\n"
                     "lag_seconds_count{consumergroup=\"incident\"} 6\n"
                     "lag_seconds_bucket{le=\"+Inf\"} 1\n"
                     "lag_seconds_sum 9\n"
                     "lag_seconds_count 1\n",
                     "text:\n%s", text(p));
    promtext_destroy(p);
}

/* The lag monitor's families, as the daemon will write them. */
static void lag_exposition(promtext *p)
{
    promtext_label gtp[3] = {{"consumergroup", "incident"}, {"topic", "incidents"},
                             {"partition", "0"}};
    promtext_label odd[3] = {{"consumergroup", "odd\\\"group\nname"}, {"topic", "incidents"},
                             {"partition", "1"}};
    promtext_label gt[2] = {{"consumergroup", "incident"}, {"topic", "incidents"}};
    promtext_label tp[2] = {{"topic", "incidents"}, {"partition", "0"}};
    double bounds[] = {0.01, 0.1, 1};
    uint64_t counts[] = {40, 9, 1, 0};

    promtext_family(p, "kafka_topic_partition_current_offset", PROMTEXT_GAUGE,
                    "Current Offset of a Broker at Topic/Partition");
    promtext_sample(p, tp, 2, 52000);
    promtext_family(p, "kafka_consumergroup_current_offset", PROMTEXT_GAUGE,
                    "Current Offset of a ConsumerGroup at Topic/Partition");
    promtext_sample(p, gtp, 3, 51000);
    promtext_sample(p, odd, 3, 7);
    promtext_family(p, "kafka_consumergroup_lag", PROMTEXT_GAUGE,
                    "Current Approximate Lag of a ConsumerGroup at Topic/Partition");
    promtext_sample(p, gtp, 3, 1000);
    promtext_family(p, "kafka_consumergroup_lag_sum", PROMTEXT_GAUGE,
                    "Current Approximate Lag of a ConsumerGroup at Topic for all partitions");
    promtext_sample(p, gt, 2, 1000);
    promtext_family(p, "kafka_consumergroup_group_lag_seconds", PROMTEXT_GAUGE,
                    "Group time lag of a partition");
    promtext_sample(p, gtp, 3, 12.5);
    promtext_sample(p, odd, 3, NAN);
    promtext_family(p, "kafka_consumergroup_status", PROMTEXT_GAUGE,
                    "Burrow status of a partition: 1 OK, 2 WARN, 3 ERR, 4 STOP, 5 STALL, "
                    "6 REWIND");
    promtext_sample(p, gtp, 3, 2);
    promtext_family(p, "lagmon_poll_duration_seconds", PROMTEXT_HISTOGRAM,
                    "Time to sample offsets and watermarks");
    promtext_histogram(p, NULL, 0, bounds, counts, 3, 0.75);
    promtext_family(p, "lagmon_polls_total", PROMTEXT_COUNTER, "Polls since start");
    promtext_sample(p, NULL, 0, 50);
}

Test(promtext, lag_families_match_the_golden_file)
{
    promtext *p = builder();
    char *golden = datafile_text(GOLDEN);
    size_t len = 0;
    const char *s;

    cr_assert_not_null(golden, "cannot read %s", GOLDEN);
    lag_exposition(p);
    s = promtext_finish(p, &len, NULL, 0);
    cr_assert_not_null(s, "an error building the lag families");
    cr_assert_str_eq(s, golden, GOLDEN " differs; got:\n%s", s);
    cr_assert_eq(len, strlen(golden), "length %zu", len);
    free(golden);
    promtext_destroy(p);
}

/* promtool parses the text (exit 0), or only lints it (exit 3) for the one name the lag
 * monitor keeps for compatibility with kafka_exporter: kafka_consumergroup_lag_sum. */
Test(promtext, promtool_accepts_the_lag_families)
{
    static const char lint[] = "kafka_consumergroup_lag_sum non-histogram and non-summary "
                               "metrics should not have \"_sum\" suffix\n";
    char out[4096];
    promtext *p;
    int rc;

    if (!tool_available("promtool"))
        cr_skip_test("promtool is not installed (Debian package prometheus)");
    p = builder();
    lag_exposition(p);
    rc = tool_run("promtool check metrics", text(p), out, sizeof out);
    cr_assert(rc == 0 || (rc == 3 && strcmp(out, lint) == 0),
              "promtool check metrics exits %d:\n%s", rc, out);
    promtext_destroy(p);
}

typedef enum { ST_NONE, ST_GAUGE, ST_COUNTER, ST_HIST } start;

typedef struct bad_case {
    start family;             /* family started before the failing call */
    const char *fam2;         /* a second family to start (the failing call), or NULL */
    int type2;
    const char *help2;        /* its help text */
    promtext_label label;     /* one label of the failing sample (name NULL: none) */
    double value;             /* sample value, or the last bound for ST_HIST */
    const char *expect;
} bad_case;

static int bad_call(promtext *p, const bad_case *c)
{
    static const double bounds[] = {1, 2};
    static const uint64_t counts[] = {1, 1, 1};
    double b[2] = {bounds[0], c->value};
    size_t nl = c->label.name ? 1 : 0;

    if (c->family == ST_GAUGE)
        promtext_family(p, "g", PROMTEXT_GAUGE, NULL);
    else if (c->family == ST_COUNTER)
        promtext_family(p, "c_total", PROMTEXT_COUNTER, NULL);
    else if (c->family == ST_HIST)
        promtext_family(p, "h", PROMTEXT_HISTOGRAM, NULL);
    if (c->fam2)
        return promtext_family(p, c->fam2, c->type2, c->help2);
    if (c->family == ST_HIST)
        return promtext_histogram(p, &c->label, nl, b, counts, 2, 1);
    return promtext_sample(p, &c->label, nl, c->value);
}

Test(promtext, invalid_input_is_refused_with_a_reason)
{
    static const bad_case cases[] = {
        {ST_NONE, NULL, 0, NULL, {NULL, NULL}, 1, "a sample before any family"},
        {ST_NONE, "1abc", PROMTEXT_GAUGE, NULL, {NULL, NULL}, 0, "invalid metric name '1abc'"},
        {ST_NONE, "a-b", PROMTEXT_GAUGE, NULL, {NULL, NULL}, 0, "invalid metric name 'a-b'"},
        {ST_NONE, "ok", 9, NULL, {NULL, NULL}, 0, "ok: unknown metric type 9"},
        {ST_NONE, "ok", PROMTEXT_GAUGE, "bad\xff", {NULL, NULL}, 0,
         "ok: help text is not valid UTF-8"},
        {ST_GAUGE, "g", PROMTEXT_COUNTER, NULL, {NULL, NULL}, 0,
         "g: clashes with family 'g' written before"},
        {ST_HIST, "h_sum", PROMTEXT_GAUGE, NULL, {NULL, NULL}, 0,
         "h_sum: clashes with family 'h' written before"},
        {ST_GAUGE, "g_bucket", PROMTEXT_GAUGE, NULL, {NULL, NULL}, 0, NULL},
        {ST_GAUGE, NULL, 0, NULL, {"__name", "x"}, 1, "g: invalid label name '__name'"},
        {ST_GAUGE, NULL, 0, NULL, {"a:b", "x"}, 1, "g: invalid label name 'a:b'"},
        {ST_GAUGE, NULL, 0, NULL, {"topic", "\xc3\x28"}, 1,
         "g: value of label 'topic' is not valid UTF-8"},
        {ST_GAUGE, NULL, 0, NULL, {"topic", "\xed\xa0\x80"}, 1,
         "g: value of label 'topic' is not valid UTF-8"},
        {ST_COUNTER, NULL, 0, NULL, {NULL, NULL}, -1, "c_total: counter value -1 is not >= 0"},
        {ST_COUNTER, NULL, 0, NULL, {NULL, NULL}, NAN, "c_total: counter value nan is not >= 0"},
        {ST_HIST, NULL, 0, NULL, {"le", "1"}, 2, "h: label 'le' is reserved in histograms"},
        {ST_HIST, NULL, 0, NULL, {NULL, NULL}, 1, "h: bucket bound 1 does not exceed 1"},
        {ST_HIST, NULL, 0, NULL, {NULL, NULL}, INFINITY, "h: bucket bound inf is not finite"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        promtext *p = builder();
        char err[256] = "";
        int rc = bad_call(p, &cases[i]);

        if (!cases[i].expect) {
            cr_assert_eq(rc, 0, "case %zu refused", i);
            promtext_destroy(p);
            continue;
        }
        cr_assert_eq(rc, -1, "case %zu (%s) accepted", i, cases[i].expect);
        cr_assert_null(promtext_finish(p, NULL, err, sizeof err), "case %zu: text", i);
        cr_assert_str_eq(err, cases[i].expect, "case %zu: %s", i, err);
        promtext_destroy(p);
    }
}

Test(promtext, histogram_series_clash_with_earlier_families)
{
    promtext *p = builder();
    char err[256] = "";

    promtext_family(p, "lag_count", PROMTEXT_GAUGE, NULL);
    cr_assert_eq(promtext_family(p, "lag", PROMTEXT_HISTOGRAM, NULL), -1,
                 "a histogram whose _count series exists");
    promtext_finish(p, NULL, err, sizeof err);
    cr_assert_str_eq(err, "lag: clashes with family 'lag_count' written before", "%s", err);
    promtext_destroy(p);
}

Test(promtext, family_kind_must_match_the_sample)
{
    promtext *p = builder();
    double b[] = {1};
    uint64_t c[] = {0, 0};
    char err[256] = "";

    promtext_family(p, "g", PROMTEXT_GAUGE, NULL);
    cr_assert_eq(promtext_histogram(p, NULL, 0, b, c, 1, 0), -1, "histogram into a gauge");
    cr_assert_null(promtext_finish(p, NULL, err, sizeof err), "text after an error");
    cr_assert_str_eq(err, "g: a histogram sample in a gauge family", "%s", err);
    promtext_reset(p);
    promtext_family(p, "h", PROMTEXT_HISTOGRAM, NULL);
    cr_assert_eq(promtext_sample(p, NULL, 0, 1), -1, "a plain sample into a histogram");
    promtext_finish(p, NULL, err, sizeof err);
    cr_assert_str_eq(err, "h: a single-value sample in a histogram family", "%s", err);
    promtext_destroy(p);
}

Test(promtext, duplicate_label_names_are_refused)
{
    promtext *p = builder();
    promtext_label l[] = {{"topic", "a"}, {"partition", "0"}, {"topic", "b"}};
    char err[256] = "";

    promtext_family(p, "g", PROMTEXT_GAUGE, NULL);
    cr_assert_eq(promtext_sample(p, l, 3, 1), -1, "duplicate label accepted");
    promtext_finish(p, NULL, err, sizeof err);
    cr_assert_str_eq(err, "g: label 'topic' given twice", "%s", err);
    promtext_destroy(p);
}

Test(promtext, errors_are_sticky_until_reset)
{
    promtext *p = builder();
    char err[256] = "";

    promtext_family(p, "ok", PROMTEXT_GAUGE, NULL);
    promtext_sample(p, NULL, 0, 1);
    cr_assert_eq(promtext_family(p, "bad name", PROMTEXT_GAUGE, NULL), -1, "bad name");
    cr_assert_eq(promtext_family(p, "later", PROMTEXT_GAUGE, NULL), -1, "a call after it");
    cr_assert_eq(promtext_sample(p, NULL, 0, 2), -1, "a sample after it");
    cr_assert_null(promtext_finish(p, NULL, err, sizeof err), "text after an error");
    cr_assert_str_eq(err, "invalid metric name 'bad name'", "the first error: %s", err);
    promtext_reset(p);
    cr_assert_eq(promtext_family(p, "ok", PROMTEXT_GAUGE, NULL), 0, "a family after reset");
    promtext_sample(p, NULL, 0, 2);
    cr_assert_str_eq(text(p), "# TYPE ok gauge\nok 2\n", "text after reset: %s", text(p));
    promtext_destroy(p);
    promtext_destroy(NULL);
}

Test(promtext, type_names)
{
    cr_assert_str_eq(promtext_type_name(PROMTEXT_COUNTER), "counter", "counter");
    cr_assert_str_eq(promtext_type_name(PROMTEXT_UNTYPED), "untyped", "untyped");
    cr_assert_null(promtext_type_name(PROMTEXT_TYPE__COUNT), "past the end");
    cr_assert_null(promtext_type_name(-1), "-1");
}
