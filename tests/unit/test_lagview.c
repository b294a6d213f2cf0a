/* Unit tests of common/lagview: the metrics (exact sample lines, the names dashboards use,
 * promtool when installed), the JSON (parsed back), the table and the status page of a
 * snapshot made by common/lagmon from a few rounds. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lagmon.h"
#include "lagview.h"

#define T0 INT64_C(1707890400000) /* 2024-02-14T06:00:00Z, 14:00 WITA */
#define SEC INT64_C(1000)
#define ODD "odd\"<group>"

static const lagview_opts opts = {480, "WITA", 10, 1};

static void see(lagmon_round *r, const char *group, const char *topic, int part, int64_t kafka,
                int64_t pg, int64_t hwm, int64_t oldest_ts)
{
    lagmon_group_obs *g = lagmon_round_group(r, group);
    lagmon_part_obs *o = lagmon_round_part(r, group, topic, part);

    cr_assert(g && o, "out of memory");
    g->in_kafka = g->offsets_read = 1;
    g->members = strcmp(group, ODD) ? 0 : 2;
    free(g->state);
    g->state = strdup(g->members ? "Stable" : "Empty");
    o->kafka_offset = kafka;
    o->pg_offset = pg;
    o->pg_commit_ms = pg >= 0 ? T0 - 30 * SEC : LAGWIN_TIME_NONE;
    o->high_watermark = hwm;
    o->oldest_ts_ms = oldest_ts;
}

/* Three rounds: roster-consumer stopped on partition 0 (PostgreSQL's offsets, one of them
 * far from Kafka's), ODD a Kafka-only group on the same topic. */
static lagmon *made(void)
{
    lagmon_params p = {.window = lagwin_params_default(), .batch_max = 100};
    char err[256] = "";
    lagmon *m;

    p.window.intervals = 3;
    m = lagmon_new(&p, err, sizeof err);
    cr_assert_not_null(m, "lagmon_new: %s", err);
    for (int i = 0; i < 3; i++) {
        lagmon_round r;
        int64_t t = T0 + i * 10 * SEC;

        lagmon_round_init(&r, t);
        r.pg_read = 1;
        see(&r, "roster-consumer", "roster.changes", 0, 1000, 1000, 1200 + 100 * i,
            t - 30 * SEC);
        see(&r, "roster-consumer", "roster.changes", 1, 100, 900, 900, LAGWIN_TIME_NONE);
        see(&r, ODD, "roster.changes", 0, 1100 + 50 * i, -1, 1200 + 100 * i, LAGWIN_TIME_NONE);
        cr_assert_eq(lagmon_update(m, &r, err, sizeof err), 0, "update: %s", err);
        lagmon_round_release(&r);
        lagmon_record_poll(m, 1, 0.03, NULL);
    }
    return m;
}

static char *metrics_text(const lagmon_snapshot *s)
{
    char err[256] = "";
    promtext *p = promtext_new(err, sizeof err);
    const char *t;
    char *copy;

    cr_assert_not_null(p, "promtext_new");
    cr_assert_eq(lagview_metrics(s, p, err, sizeof err), 0, "lagview_metrics: %s", err);
    t = promtext_finish(p, NULL, err, sizeof err);
    copy = strdup(t);
    promtext_destroy(p);
    return copy;
}

static void has_line(const char *text, const char *line)
{
    char want[512];

    snprintf(want, sizeof want, "\n%s\n", line);
    cr_assert_not_null(strstr(text, want), "no line '%s' in:\n%s", line, text);
}

Test(lagview, metrics_carry_the_exporters_names_and_labels)
{
    lagmon *m = made();
    const lagmon_snapshot *s = lagmon_snapshot_get(m);
    char *t = metrics_text(s);
    const char *lag0 = "{consumergroup=\"roster-consumer\",topic=\"roster.changes\","
                       "partition=\"0\"}";
    char line[256];

    snprintf(line, sizeof line, "kafka_consumergroup_current_offset%s 1000", lag0);
    has_line(t, line);
    snprintf(line, sizeof line, "kafka_consumergroup_lag%s 400", lag0);
    has_line(t, line);
    has_line(t, "kafka_consumergroup_lag_sum{consumergroup=\"roster-consumer\","
                "topic=\"roster.changes\"} 400");
    snprintf(line, sizeof line, "kafka_consumergroup_group_lag_seconds%s 30", lag0);
    has_line(t, line);
    snprintf(line, sizeof line, "kafka_consumergroup_status%s 4", lag0);
    has_line(t, line);
    has_line(t, "kafka_consumergroup_group_status{consumergroup=\"roster-consumer\"} 3");
    has_line(t, "kafka_consumergroup_group_max_lag_seconds{consumergroup=\"roster-consumer\"} "
                "30");
    has_line(t, "kafka_consumergroup_members{consumergroup=\"roster-consumer\"} 0");
    has_line(t, "kafka_consumergroup_members{consumergroup=\"odd\\\"<group>\"} 2");
    has_line(t, "lagmon_offsets_disagree{consumergroup=\"roster-consumer\","
                "topic=\"roster.changes\",partition=\"1\"} 1");
    has_line(t, "lagmon_kafka_committed_offset{consumergroup=\"roster-consumer\","
                "topic=\"roster.changes\",partition=\"1\"} 100");
    has_line(t, "lagmon_postgresql_offset{consumergroup=\"roster-consumer\","
                "topic=\"roster.changes\",partition=\"1\"} 900");
    has_line(t, "kafka_topic_partition_current_offset{topic=\"roster.changes\",partition=\"0\"}"
                " 1400");
    cr_assert_eq(strstr(strstr(t, "partition=\"0\"} 1400") + 1, "kafka_topic_partition_current"
                        "_offset{topic=\"roster.changes\",partition=\"0\"}"), NULL,
                 "a watermark shared by two groups appears once");
    has_line(t, "lagmon_polls_total 3");
    has_line(t, "lagmon_poll_duration_seconds_bucket{le=\"0.05\"} 3");
    has_line(t, "lagmon_last_round_timestamp_seconds 1707890420");
    cr_assert_null(strstr(t, "lagmon_postgresql_offset{consumergroup=\"odd"),
                   "no PostgreSQL offset for a Kafka-only group");
    free(t);
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

/* promtool check metrics passes, but for the one lint of kafka_exporter's _sum name. */
Test(lagview, promtool_accepts_the_metrics)
{
    static const char lint[] = "kafka_consumergroup_lag_sum non-histogram and non-summary "
                               "metrics should not have \"_sum\" suffix\n";
    char path[] = "/tmp/test_lagview.XXXXXX", cmd[256], out[4096] = "";
    lagmon *m;
    const lagmon_snapshot *s;
    char *t;
    FILE *f;
    int fd, rc;
    size_t n;

    if (system("command -v promtool >/dev/null 2>&1") != 0)
        cr_skip_test("promtool is not installed (Debian package prometheus)");
    m = made();
    s = lagmon_snapshot_get(m);
    t = metrics_text(s);
    fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp");
    close(fd);
    snprintf(cmd, sizeof cmd, "promtool check metrics >%s 2>&1", path);
    f = popen(cmd, "w");
    cr_assert_not_null(f, "popen");
    fputs(t, f);
    rc = pclose(f);
    f = fopen(path, "r");
    n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    unlink(path);
    cr_assert(WEXITSTATUS(rc) == 3 && strcmp(out, lint) == 0,
              "promtool check metrics exits %d:\n%s", WEXITSTATUS(rc), out);
    free(t);
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagview, json_reads_back)
{
    lagmon *m = made();
    const lagmon_snapshot *s = lagmon_snapshot_get(m);
    strbuf b;
    json_error_t jerr;
    json_t *j, *g, *p;

    strbuf_init(&b);
    cr_assert_eq(lagview_json(s, &b), 0, "lagview_json");
    cr_assert_eq(strchr(b.data, '\n'), b.data + b.len - 1, "one line");
    j = json_loads(b.data, 0, &jerr);
    cr_assert_not_null(j, "not JSON: %s\n%s", jerr.text, b.data);
    cr_assert_str_eq(json_string_value(json_object_get(j, "time")), "2024-02-14T06:00:20.000Z",
                     "time");
    cr_assert_eq(json_integer_value(json_object_get(j, "rounds")), 3, "rounds");
    g = json_array_get(json_object_get(j, "groups"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(g, "group")), "roster-consumer",
                     "groups by name");
    cr_assert_str_eq(json_string_value(json_object_get(g, "status")), "ERR", "group status");
    cr_assert_str_eq(json_string_value(json_object_get(g, "worst")), "STOP", "worst");
    cr_assert_eq(json_integer_value(json_object_get(g, "members")), 0, "no running member");
    cr_assert(json_is_true(json_object_get(g, "in_postgresql")), "in PostgreSQL");
    p = json_array_get(json_object_get(g, "partitions"), 1);
    cr_assert(json_is_true(json_object_get(p, "offsets_disagree")), "disagreement");
    cr_assert_eq(json_integer_value(json_object_get(p, "kafka_offset")), 100, "Kafka's offset");
    cr_assert_eq(json_integer_value(json_object_get(p, "pg_offset")), 900, "PostgreSQL's");
    p = json_array_get(json_object_get(g, "partitions"), 0);
    cr_assert_float_eq(json_real_value(json_object_get(p, "lag_seconds")), 30.0, 1e-9,
                       "lag seconds");
    cr_assert_str_eq(json_string_value(json_object_get(p, "lag_seconds_method")),
                     "MESSAGE_AGE", "method");
    g = json_array_get(json_object_get(j, "groups"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(g, "group")), ODD, "odd name intact");
    cr_assert(json_is_null(json_object_get(json_array_get(json_object_get(g, "partitions"), 0),
                                           "pg_offset")), "no PostgreSQL offset: null");
    json_decref(j);
    strbuf_release(&b);
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagview, table_has_groups_partitions_and_warnings)
{
    lagmon *m = made();
    const lagmon_snapshot *s = lagmon_snapshot_get(m);
    strbuf b;

    strbuf_init(&b);
    cr_assert_eq(lagview_table(s, &opts, &b), 0, "lagview_table");
    cr_assert_not_null(strstr(b.data, "lag as of 2024-02-14 14:00:20 WITA, round 3"),
                       "header in local time:\n%s", b.data);
    cr_assert_not_null(strstr(b.data, "GROUP            STATUS    WORST"), "header:\n%s",
                       b.data);
    cr_assert_not_null(strstr(b.data, "roster-consumer  ERR       STOP    Empty"),
                       "group line:\n%s", b.data);
    cr_assert_not_null(strstr(b.data, "900!"), "disagreement marked:\n%s", b.data);
    cr_assert_not_null(strstr(b.data, "warning: roster-consumer roster.changes [1]: Kafka's "
                                      "offset 100 and PostgreSQL's 900 differ"),
                       "warning line:\n%s", b.data);
    strbuf_release(&b);
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagview, page_shows_statuses_and_charts_escaped)
{
    lagmon *m = made();
    const lagmon_snapshot *s = lagmon_snapshot_get(m);
    char err[256] = "";
    strbuf b;

    strbuf_init(&b);
    cr_assert_eq(lagview_page(s, &opts, &b, err, sizeof err), 0, "lagview_page: %s", err);
    cr_assert_eq(strncmp(b.data, "<!DOCTYPE html>", 15), 0, "a document");
    cr_assert_not_null(strstr(b.data, "<meta http-equiv=\"refresh\" content=\"10\">"), "reload");
    cr_assert_not_null(strstr(b.data, "As of 2024-02-14 14:00:20 WITA"), "time");
    cr_assert_not_null(strstr(b.data, "<span class=\"st st-ERR\">ERR</span>"), "group status");
    cr_assert_not_null(strstr(b.data, "<span class=\"st st-STOP\">STOP</span>"), "partition");
    cr_assert_not_null(strstr(b.data, "odd&quot;&lt;group&gt;"), "name escaped");
    cr_assert_null(strstr(b.data, "<group>"), "no raw markup from a name");
    cr_assert_null(strstr(b.data, "<script"), "no script");
    cr_assert_eq(strstr(strstr(b.data, "<svg") + 1, "<svg") != NULL, 1, "two charts");
    cr_assert_not_null(strstr(b.data, "<polyline"), "lines drawn");
    cr_assert_not_null(strstr(b.data, "</html>\n"), "ends");
    strbuf_release(&b);
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagview, empty_snapshot_renders_everywhere)
{
    lagmon_params p = {.window = lagwin_params_default()};
    char err[256] = "";
    lagmon *m = lagmon_new(&p, err, sizeof err);
    const lagmon_snapshot *s = lagmon_snapshot_get(m);
    strbuf b;
    char *t;

    strbuf_init(&b);
    cr_assert_eq(lagview_page(s, &opts, &b, err, sizeof err), 0, "page: %s", err);
    cr_assert_not_null(strstr(b.data, "No round read yet"), "page says so");
    strbuf_reset(&b);
    cr_assert_eq(lagview_table(s, &opts, &b), 0, "table");
    cr_assert_not_null(strstr(b.data, "no round read yet"), "table says so");
    strbuf_reset(&b);
    cr_assert_eq(lagview_json(s, &b), 0, "json");
    cr_assert_not_null(strstr(b.data, "\"time\":null"), "no time: %s", b.data);
    t = metrics_text(s);
    cr_assert_not_null(strstr(t, "lagmon_polls_total 0"), "metrics");
    free(t);
    strbuf_release(&b);
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagview, group_asked_for_but_absent_is_notfound_without_lag)
{
    static const char *const want[] = {"ghost"};
    lagmon_params p = {.window = lagwin_params_default(), .groups = want, .ngroups = 1};
    char err[256] = "";
    lagmon *m = lagmon_new(&p, err, sizeof err);
    const lagmon_snapshot *s;
    lagmon_round r;
    strbuf b;
    char *t;

    cr_assert_not_null(m, "lagmon_new: %s", err);
    for (int i = 0; i < 2; i++) {
        lagmon_round_init(&r, T0 + i * SEC);
        cr_assert_eq(lagmon_update(m, &r, err, sizeof err), 0, "update: %s", err);
    }
    s = lagmon_snapshot_get(m);
    strbuf_init(&b);
    lagview_table(s, &opts, &b);
    cr_assert_not_null(strstr(b.data, "ghost  NOTFOUND  -       -                   -"
                                      "             -"), "table line:\n%s", b.data);
    strbuf_reset(&b);
    lagview_json(s, &b);
    cr_assert_not_null(strstr(b.data, "\"status\":\"NOTFOUND\",\"worst\":\"NOTFOUND\""),
                       "JSON status: %s", b.data);
    cr_assert_not_null(strstr(b.data, "\"lag\":null"), "JSON lag null: %s", b.data);
    t = metrics_text(s);
    has_line(t, "kafka_consumergroup_group_status{consumergroup=\"ghost\"} 0");
    free(t);
    strbuf_release(&b);
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}
