/* lagview: the table, JSON, metrics and status page of a lag monitor snapshot, and the
 * log lines of its changes (see lagview.h). */
#include "lagview.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "errstr.h"
#include "log.h"
#include "svgchart.h"

#define CHART_W 560
#define CHART_H 260

/* --- shared ------------------------------------------------------------------------- */

/* "2024-02-14 13:00:05 WIB" (or "... +07:00") of t_ms in the view's zone. */
static void local_time(int64_t t_ms, const lagview_opts *o, char *out, size_t size)
{
    time_t t = (time_t)(t_ms / 1000) + (time_t)o->utc_offset_minutes * 60;
    struct tm tm;
    char day[32];
    int off = o->utc_offset_minutes < 0 ? -o->utc_offset_minutes : o->utc_offset_minutes;

    gmtime_r(&t, &tm);
    strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", &tm);
    if (o->zone && *o->zone)
        snprintf(out, size, "%s %s", day, o->zone);
    else
        snprintf(out, size, "%s %c%02d:%02d", day, o->utc_offset_minutes < 0 ? '-' : '+',
                 off / 60, off % 60);
}

/* A status not judged yet (see lagview.h): shown as "-", null in JSON, no sample. */
#define PENDING (-1)

static const char *status_name(int status)
{
    const char *n = lagwin_status_name(status);

    return n ? n : "-";
}

/* status as the view shows it: PENDING before the second round, but NOTFOUND. */
static int shown(const lagmon_snapshot *s, int status)
{
    return s->rounds < 2 && status != LAGWIN_NOTFOUND ? PENDING : status;
}

/* "12.3" seconds, or "-" when unknown. */
static void seconds_text(double s, char *out, size_t size)
{
    if (isnan(s))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.1f", s);
}

static void offset_text(int64_t v, char *out, size_t size)
{
    if (v < 0)
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%" PRId64, v);
}

/* A group's total lag, -1 when none of its partitions has one (NOTFOUND, no offsets). */
static int64_t group_lag(const lagmon_group *g)
{
    return g->g.max_lag_index < 0 ? -1 : g->g.total_lag;
}

/* A partition's numbers as text, as the table and the page show them. */
typedef struct part_texts {
    char off[24], kafka[24], pg[24], hwm[24], lag[24], secs[32];
} part_texts;

static void part_texts_of(const lagmon_part *p, part_texts *t)
{
    offset_text(p->r.offset, t->off, sizeof t->off);
    offset_text(p->kafka_offset, t->kafka, sizeof t->kafka);
    offset_text(p->pg_offset, t->pg, sizeof t->pg);
    offset_text(p->r.high_watermark, t->hwm, sizeof t->hwm);
    offset_text(p->r.lag, t->lag, sizeof t->lag);
    seconds_text(p->r.lag_seconds, t->secs, sizeof t->secs);
}

/* --- table -------------------------------------------------------------------------- */

static int width_of(const lagmon_snapshot *s, int topics, int least)
{
    int w = least;

    for (size_t i = 0; i < s->ngroups; i++) {
        const lagmon_group *g = &s->groups[i];
        if (!topics && (int)strlen(g->group) > w)
            w = (int)strlen(g->group);
        for (size_t j = 0; topics && j < g->nparts; j++)
            if ((int)strlen(g->parts[j].topic) > w)
                w = (int)strlen(g->parts[j].topic);
    }
    return w;
}

static void table_groups(const lagmon_snapshot *s, int gw, strbuf *out)
{
    strbuf_printf(out, "%-*s  %-8s  %-6s  %-12s  %7s  %12s  %9s  %s\n", gw, "GROUP", "STATUS",
                  "WORST", "STATE", "MEMBERS", "LAG", "LAG_S", "OFFSETS");
    for (size_t i = 0; i < s->ngroups; i++) {
        const lagmon_group *g = &s->groups[i];
        char members[16], secs[32], lag[24];

        if (g->members < 0)
            snprintf(members, sizeof members, "-");
        else
            snprintf(members, sizeof members, "%d", g->members);
        seconds_text(g->g.max_lag_seconds, secs, sizeof secs);
        offset_text(group_lag(g), lag, sizeof lag);
        strbuf_printf(out, "%-*s  %-8s  %-6s  %-12s  %7s  %12s  %9s  %s\n", gw,
                      g->group, status_name(shown(s, g->status)),
                      g->status == LAGWIN_NOTFOUND ? "-" : status_name(shown(s, g->g.worst)),
                      *g->state ? g->state : "-", members, lag, secs,
                      g->in_pg ? "postgresql" : g->nparts ? "kafka" : "-");
    }
}

static void table_parts(const lagmon_snapshot *s, int gw, int tw, strbuf *out)
{
    strbuf_printf(out, "%-*s  %-*s  %4s  %12s  %12s  %12s  %12s  %10s  %9s  %-6s  %s\n", gw,
                  "GROUP", tw, "TOPIC", "PART", "OFFSET", "KAFKA_OFFSET", "PG_OFFSET",
                  "HIGH_WM", "LAG", "LAG_S", "STATUS", "WINDOW");
    for (size_t i = 0; i < s->ngroups; i++) {
        const lagmon_group *g = &s->groups[i];
        for (size_t j = 0; j < g->nparts; j++) {
            const lagmon_part *p = &g->parts[j];
            part_texts t;

            part_texts_of(p, &t);
            strbuf_printf(out, "%-*s  %-*s  %4d  %12s  %12s  %11s%s  %12s  %10s  %9s  %-6s  "
                          "%d/%d%s\n", gw, g->group, tw, p->topic, (int)p->partition, t.off,
                          t.kafka, t.pg, p->offsets_disagree ? "!" : " ", t.hwm, t.lag, t.secs,
                          status_name(shown(s, p->r.status)), p->r.ncommits, s->window.intervals,
                          p->fresh ? "" : " (not read)");
        }
    }
}

static void table_warnings(const lagmon_snapshot *s, strbuf *out)
{
    for (size_t i = 0; i < s->ngroups; i++) {
        const lagmon_group *g = &s->groups[i];
        for (size_t j = 0; j < g->nparts; j++) {
            const lagmon_part *p = &g->parts[j];
            if (p->offsets_disagree)
                strbuf_printf(out, "warning: %s %s [%d]: Kafka's offset %" PRId64 " and "
                              "PostgreSQL's %" PRId64 " differ by more than a batch (%" PRId64
                              "); PostgreSQL's counts\n", g->group, p->topic,
                              (int)p->partition, p->kafka_offset, p->pg_offset, s->batch_max);
        }
    }
}

int lagview_table(const lagmon_snapshot *s, const lagview_opts *o, strbuf *out)
{
    int gw = width_of(s, 0, 5), tw = width_of(s, 1, 5);
    char when[64];

    if (s->rounds) {
        local_time(s->time_ms, o, when, sizeof when);
        strbuf_printf(out, "lag as of %s, round %" PRIu64 ", window %d samples every %d s%s\n",
                      when, s->rounds, s->window.intervals, o->interval_s,
                      s->pg_read ? "" : ", PostgreSQL's offsets not read");
    } else {
        strbuf_puts(out, "no round read yet\n");
    }
    if (*s->last_error)
        strbuf_printf(out, "error: the latest poll failed: %s\n", s->last_error);
    strbuf_puts(out, "\n");
    table_groups(s, gw, out);
    strbuf_puts(out, "\n");
    table_parts(s, gw, tw, out);
    table_warnings(s, out);
    if (s->rounds < 2)
        strbuf_puts(out, "(statuses need two samples or more: --samples, --watch)\n");
    return out->failed ? -1 : 0;
}

/* --- JSON --------------------------------------------------------------------------- */

static json_t *offset_json(int64_t v)
{
    return v < 0 ? json_null() : json_integer(v);
}

static json_t *seconds_json(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *status_json(const lagmon_snapshot *s, int status)
{
    status = shown(s, status);
    return status == PENDING ? json_null() : json_string(status_name(status));
}

static json_t *part_json(const lagmon_snapshot *s, const lagmon_part *p)
{
    return json_pack("{s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:{s:i, s:i}, s:b, "
                     "s:b}",
                     "topic", p->topic, "partition", (int)p->partition, "status",
                     status_json(s, p->r.status), "offset", offset_json(p->r.offset),
                     "kafka_offset", offset_json(p->kafka_offset), "pg_offset",
                     offset_json(p->pg_offset), "high_watermark",
                     offset_json(p->r.high_watermark), "lag", offset_json(p->r.lag),
                     "lag_seconds", seconds_json(p->r.lag_seconds), "lag_seconds_method",
                     lagwin_seconds_method_name(p->r.seconds_method), "window", "commits",
                     p->r.ncommits, "intervals", s->window.intervals, "fresh", p->fresh,
                     "offsets_disagree", p->offsets_disagree);
}

static json_t *group_json(const lagmon_snapshot *s, const lagmon_group *g)
{
    json_t *parts = json_array();
    json_t *j;

    for (size_t i = 0; parts && i < g->nparts; i++)
        if (json_array_append_new(parts, part_json(s, &g->parts[i])) < 0) {
            json_decref(parts);
            return NULL;
        }
    j = json_pack("{s:s, s:o, s:o, s:s, s:o, s:b, s:b, s:o, s:o, s:i, s:o}", "group", g->group,
                  "status", status_json(s, g->status), "worst",
                  status_json(s, g->status == LAGWIN_NOTFOUND ? LAGWIN_NOTFOUND : g->g.worst),
                  "state", g->state, "members",
                  g->members < 0 ? json_null() : json_integer(g->members), "in_kafka",
                  g->in_kafka, "in_postgresql", g->in_pg, "lag", offset_json(group_lag(g)),
                  "lag_seconds", seconds_json(g->g.max_lag_seconds), "offsets_disagree",
                  g->disagree, "partitions", parts);
    return j;
}

int lagview_json(const lagmon_snapshot *s, strbuf *out)
{
    json_t *groups = json_array(), *j = NULL;
    char *text = NULL;
    char when[40] = "";
    int rc = -1;

    if (s->rounds) {
        time_t t = (time_t)(s->time_ms / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(when + strlen(when), sizeof when - strlen(when), ".%03dZ",
                 (int)(s->time_ms % 1000));
    }
    for (size_t i = 0; groups && i < s->ngroups; i++)
        if (json_array_append_new(groups, group_json(s, &s->groups[i])) < 0)
            goto out;
    j = json_pack("{s:o, s:I, s:I, s:b, s:i, s:I, s:I, s:s, s:o}", "time",
                  s->rounds ? json_string(when) : json_null(), "time_ms",
                  (json_int_t)s->time_ms, "rounds", (json_int_t)s->rounds, "postgresql_read",
                  s->pg_read, "window_intervals", s->window.intervals, "polls",
                  (json_int_t)s->polls, "poll_failures", (json_int_t)s->poll_failures,
                  "last_error", s->last_error, "groups", groups);
    groups = NULL; /* owned by j, or freed by json_pack on failure */
    if (!j || !(text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER |
                                         JSON_REAL_PRECISION(12))))
        goto out;
    strbuf_puts(out, text);
    strbuf_puts(out, "\n");
    rc = out->failed ? -1 : 0;
out:
    free(text);
    json_decref(j);
    json_decref(groups);
    return rc;
}

/* --- metrics ------------------------------------------------------------------------ */

typedef struct family {
    const char *name;
    int type;
    const char *help;
} family;

enum {
    F_OFFSET, F_LAG, F_LAG_SUM, F_LAG_SECONDS, F_MAX_LAG_SECONDS, F_MEMBERS, F_STATUS,
    F_GROUP_STATUS, F_KAFKA_OFFSET, F_PG_OFFSET, F_DISAGREE, F_TOPIC_OFFSET, F__COUNT
};

/* The names dashboards and alert rules use; never rename one. */
static const family families[F__COUNT] = {
    [F_OFFSET] = {"kafka_consumergroup_current_offset", PROMTEXT_GAUGE,
                  "Current Offset of a ConsumerGroup at Topic/Partition (PostgreSQL's for "
                  "groups that store their offsets there)"},
    [F_LAG] = {"kafka_consumergroup_lag", PROMTEXT_GAUGE,
               "Current Approximate Lag of a ConsumerGroup at Topic/Partition"},
    [F_LAG_SUM] = {"kafka_consumergroup_lag_sum", PROMTEXT_GAUGE,
                   "Current Approximate Lag of a ConsumerGroup at Topic for all partitions"},
    [F_LAG_SECONDS] = {"kafka_consumergroup_group_lag_seconds", PROMTEXT_GAUGE,
                       "Group time lag of a partition: age of its oldest unconsumed message, "
                       "or interpolated from sampled watermarks"},
    [F_MAX_LAG_SECONDS] = {"kafka_consumergroup_group_max_lag_seconds", PROMTEXT_GAUGE,
                           "Max group time lag"},
    [F_MEMBERS] = {"kafka_consumergroup_members", PROMTEXT_GAUGE,
                   "Amount of members in a consumer group"},
    [F_STATUS] = {"kafka_consumergroup_status", PROMTEXT_GAUGE,
                  "Burrow status of a partition: 1 OK, 2 WARN, 3 ERR, 4 STOP, 5 STALL, "
                  "6 REWIND"},
    [F_GROUP_STATUS] = {"kafka_consumergroup_group_status", PROMTEXT_GAUGE,
                        "Burrow status of a group (its worst partition): 0 NOTFOUND, 1 OK, "
                        "2 WARN, 3 ERR"},
    [F_KAFKA_OFFSET] = {"lagmon_kafka_committed_offset", PROMTEXT_GAUGE,
                        "Offset the group committed to Kafka"},
    [F_PG_OFFSET] = {"lagmon_postgresql_offset", PROMTEXT_GAUGE,
                     "Offset the group stored in PostgreSQL (consumer_offsets), the truth"},
    [F_DISAGREE] = {"lagmon_offsets_disagree", PROMTEXT_GAUGE,
                    "1 when Kafka's and PostgreSQL's offsets differ by more than a batch"},
    [F_TOPIC_OFFSET] = {"kafka_topic_partition_current_offset", PROMTEXT_GAUGE,
                        "Current Offset of a Broker at Topic/Partition"},
};

/* One sample labelled with the group, topic and partition. */
static void part_sample(promtext *p, const lagmon_group *g, const lagmon_part *pt, double v)
{
    char part[16];
    promtext_label l[3] = {{"consumergroup", g->group}, {"topic", pt->topic},
                           {"partition", part}};

    snprintf(part, sizeof part, "%d", (int)pt->partition);
    promtext_sample(p, l, 3, v);
}

/* The value of family f for one partition; 0 with *v, or -1 when it has none. */
static int part_value(int f, const lagmon_part *pt, double *v)
{
    switch (f) {
    case F_OFFSET: *v = (double)pt->r.offset; return pt->r.offset >= 0 ? 0 : -1;
    case F_LAG: *v = (double)pt->r.lag; return pt->r.lag >= 0 ? 0 : -1;
    case F_LAG_SECONDS: *v = pt->r.lag_seconds; return isnan(*v) ? -1 : 0;
    case F_STATUS: *v = pt->r.status; return 0; /* part_family: not while pending */
    case F_KAFKA_OFFSET: *v = (double)pt->kafka_offset; return pt->kafka_offset >= 0 ? 0 : -1;
    case F_PG_OFFSET: *v = (double)pt->pg_offset; return pt->pg_offset >= 0 ? 0 : -1;
    case F_DISAGREE: *v = pt->offsets_disagree; return pt->pg_offset >= 0 ? 0 : -1;
    default: return -1;
    }
}

static void part_family(const lagmon_snapshot *s, promtext *p, int f)
{
    promtext_family(p, families[f].name, families[f].type, families[f].help);
    for (size_t i = 0; i < s->ngroups && !(f == F_STATUS && s->rounds < 2); i++)
        for (size_t j = 0; j < s->groups[i].nparts; j++) {
            double v;
            if (part_value(f, &s->groups[i].parts[j], &v) == 0)
                part_sample(p, &s->groups[i], &s->groups[i].parts[j], v);
        }
}

static void group_sample(promtext *p, const lagmon_group *g, double v)
{
    promtext_label l[1] = {{"consumergroup", g->group}};

    promtext_sample(p, l, 1, v);
}

static void group_families(const lagmon_snapshot *s, promtext *p)
{
    promtext_family(p, families[F_MAX_LAG_SECONDS].name, PROMTEXT_GAUGE,
                    families[F_MAX_LAG_SECONDS].help);
    for (size_t i = 0; i < s->ngroups; i++)
        if (!isnan(s->groups[i].g.max_lag_seconds))
            group_sample(p, &s->groups[i], s->groups[i].g.max_lag_seconds);
    promtext_family(p, families[F_MEMBERS].name, PROMTEXT_GAUGE, families[F_MEMBERS].help);
    for (size_t i = 0; i < s->ngroups; i++)
        if (s->groups[i].members >= 0)
            group_sample(p, &s->groups[i], s->groups[i].members);
    promtext_family(p, families[F_GROUP_STATUS].name, PROMTEXT_GAUGE,
                    families[F_GROUP_STATUS].help);
    for (size_t i = 0; i < s->ngroups; i++)
        if (shown(s, s->groups[i].status) != PENDING)
            group_sample(p, &s->groups[i], s->groups[i].status);
}

/* kafka_consumergroup_lag_sum: per group and topic (parts are sorted by topic). */
static void lag_sums(const lagmon_snapshot *s, promtext *p)
{
    promtext_family(p, families[F_LAG_SUM].name, PROMTEXT_GAUGE, families[F_LAG_SUM].help);
    for (size_t i = 0; i < s->ngroups; i++) {
        const lagmon_group *g = &s->groups[i];
        for (size_t j = 0; j < g->nparts;) {
            const char *topic = g->parts[j].topic;
            int64_t sum = 0;
            int known = 0;
            for (; j < g->nparts && strcmp(g->parts[j].topic, topic) == 0; j++)
                if (g->parts[j].r.lag >= 0) {
                    sum += g->parts[j].r.lag;
                    known = 1;
                }
            if (known) {
                promtext_label l[2] = {{"consumergroup", g->group}, {"topic", topic}};
                promtext_sample(p, l, 2, (double)sum);
            }
        }
    }
}

/* kafka_topic_partition_current_offset: each partition's watermark once. */
static void topic_offsets(const lagmon_snapshot *s, promtext *p)
{
    promtext_family(p, families[F_TOPIC_OFFSET].name, PROMTEXT_GAUGE,
                    families[F_TOPIC_OFFSET].help);
    for (size_t i = 0; i < s->ngroups; i++)
        for (size_t j = 0; j < s->groups[i].nparts; j++) {
            const lagmon_part *pt = &s->groups[i].parts[j];
            int seen = pt->r.high_watermark < 0;
            for (size_t a = 0; a <= i && !seen; a++)
                for (size_t b = 0; b < s->groups[a].nparts && !seen; b++) {
                    const lagmon_part *q = &s->groups[a].parts[b];
                    if (a == i && b == j)
                        break;
                    seen = q->partition == pt->partition && q->r.high_watermark >= 0 &&
                           strcmp(q->topic, pt->topic) == 0;
                }
            if (!seen) {
                char part[16];
                promtext_label l[2] = {{"topic", pt->topic}, {"partition", part}};
                snprintf(part, sizeof part, "%d", (int)pt->partition);
                promtext_sample(p, l, 2, (double)pt->r.high_watermark);
            }
        }
}

static void own_families(const lagmon_snapshot *s, promtext *p)
{
    promtext_family(p, "lagmon_polls_total", PROMTEXT_COUNTER,
                    "Polls of Kafka (and PostgreSQL) since start");
    promtext_sample(p, NULL, 0, (double)s->polls);
    promtext_family(p, "lagmon_poll_failures_total", PROMTEXT_COUNTER,
                    "Polls that could not read Kafka");
    promtext_sample(p, NULL, 0, (double)s->poll_failures);
    promtext_family(p, "lagmon_poll_duration_seconds", PROMTEXT_HISTOGRAM,
                    "Time to sample offsets, watermarks and message times");
    promtext_histogram(p, NULL, 0, lagmon_poll_bounds, s->poll_counts, LAGMON_POLL_BUCKETS,
                       s->poll_seconds);
    promtext_family(p, "lagmon_last_round_timestamp_seconds", PROMTEXT_GAUGE,
                    "When the latest round was sampled (0: none yet)");
    promtext_sample(p, NULL, 0, (double)s->time_ms / 1000.0);
    promtext_family(p, "lagmon_postgresql_read", PROMTEXT_GAUGE,
                    "1 when the latest round read the offsets stored in PostgreSQL");
    promtext_sample(p, NULL, 0, s->pg_read);
}

int lagview_metrics(const lagmon_snapshot *s, promtext *p, char *errstr, size_t errstr_size)
{
    part_family(s, p, F_OFFSET);
    part_family(s, p, F_LAG);
    lag_sums(s, p);
    part_family(s, p, F_LAG_SECONDS);
    group_families(s, p);
    part_family(s, p, F_STATUS);
    part_family(s, p, F_KAFKA_OFFSET);
    part_family(s, p, F_PG_OFFSET);
    part_family(s, p, F_DISAGREE);
    topic_offsets(s, p);
    own_families(s, p);
    return promtext_finish(p, NULL, errstr, errstr_size) ? 0 : -1;
}

/* --- status page -------------------------------------------------------------------- */

static void put_html(strbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': strbuf_puts(b, "&amp;"); break;
        case '<': strbuf_puts(b, "&lt;"); break;
        case '>': strbuf_puts(b, "&gt;"); break;
        case '"': strbuf_puts(b, "&quot;"); break;
        case '\'': strbuf_puts(b, "&#39;"); break;
        default: strbuf_append(b, s, 1);
        }
    }
}

static const char page_style[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px}"
    ".meta{color:#555;margin:0 0 14px}.error{background:#fdecea;color:#8a1c1c;padding:8px;"
    "border-left:4px solid #c62828}table{border-collapse:collapse;font-size:14px}"
    "th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".st{display:inline-block;min-width:64px;padding:2px 6px;border-radius:4px;color:#fff;"
    "font-weight:bold;text-align:center}.st-OK{background:#2e7d32}"
    ".st-WARN{background:#ef8f00}.st-ERR,.st-STOP,.st-STALL,.st-REWIND{background:#c62828}"
    ".st-NOTFOUND,.st-PENDING{background:#757575}.charts{display:flex;flex-wrap:wrap;gap:16px}"
    ".warn{color:#8a1c1c;font-weight:bold}";

static void put_status(strbuf *b, int status)
{
    strbuf_printf(b, "<span class=\"st st-%s\">%s</span>",
                  status == PENDING ? "PENDING" : status_name(status), status_name(status));
}

static void page_groups(const lagmon_snapshot *s, strbuf *b)
{
    strbuf_puts(b, "<table class=\"groups\"><tr><th>Group</th><th>Status</th><th>Worst "
                   "partition</th><th>State</th><th class=\"n\">Members</th><th class=\"n\">"
                   "Lag (events)</th><th class=\"n\">Lag (s)</th><th>Offsets from</th></tr>\n");
    for (size_t i = 0; i < s->ngroups; i++) {
        const lagmon_group *g = &s->groups[i];
        char secs[32], lag[24];

        seconds_text(g->g.max_lag_seconds, secs, sizeof secs);
        strbuf_puts(b, "<tr><td>");
        put_html(b, g->group);
        strbuf_puts(b, "</td><td>");
        put_status(b, shown(s, g->status));
        strbuf_puts(b, "</td><td>");
        if (g->status != LAGWIN_NOTFOUND && g->nparts)
            put_status(b, shown(s, g->g.worst));
        strbuf_puts(b, "</td><td>");
        put_html(b, *g->state ? g->state : "-");
        if (g->members >= 0)
            strbuf_printf(b, "</td><td class=\"n\">%d", g->members);
        else
            strbuf_puts(b, "</td><td class=\"n\">-");
        offset_text(group_lag(g), lag, sizeof lag);
        strbuf_printf(b, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s",
                      lag, secs,
                      g->in_pg ? "PostgreSQL" : g->nparts ? "Kafka" : "-");
        if (g->disagree)
            strbuf_printf(b, " <span class=\"warn\">(%d disagree with Kafka)</span>",
                          g->disagree);
        strbuf_puts(b, "</td></tr>\n");
    }
    strbuf_puts(b, "</table>\n");
}

static int page_chart(const lagmon_snapshot *s, const lagview_opts *o, int seconds,
                      strbuf *b, char *errstr, size_t errstr_size)
{
    svgchart_series *series = calloc(s->ngroups ? s->ngroups : 1, sizeof *series);
    svgchart_spec spec = {CHART_W, CHART_H, s->time_ms, s->history_ms, o->utc_offset_minutes,
                          seconds ? "Largest lag in seconds, last hour"
                                  : "Lag in events (sum over partitions), last hour",
                          seconds ? "seconds" : "events"};
    size_t n = 0;
    char *svg;

    if (!series)
        return errstr_fail(errstr, errstr_size, "out of memory");
    for (size_t i = 0; i < s->ngroups; i++)
        if (s->groups[i].nhistory)
            series[n++] = (svgchart_series){s->groups[i].group,
                                            seconds ? s->groups[i].seconds_history
                                                    : s->groups[i].lag_history,
                                            s->groups[i].nhistory};
    svg = svgchart_render(&spec, series, n, NULL, errstr, errstr_size);
    free(series);
    if (!svg)
        return -1;
    strbuf_puts(b, "<div>");
    strbuf_puts(b, svg);
    strbuf_puts(b, "</div>\n");
    free(svg);
    return 0;
}

static void page_parts(const lagmon_snapshot *s, strbuf *b)
{
    strbuf_puts(b, "<table class=\"parts\"><tr><th>Group</th><th>Topic</th><th class=\"n\">"
                   "Partition</th><th>Status</th><th class=\"n\">Offset</th><th class=\"n\">"
                   "Kafka</th><th class=\"n\">PostgreSQL</th><th class=\"n\">High watermark"
                   "</th><th class=\"n\">Lag</th><th class=\"n\">Lag (s)</th><th class=\"n\">"
                   "Window</th></tr>\n");
    for (size_t i = 0; i < s->ngroups; i++) {
        const lagmon_group *g = &s->groups[i];
        for (size_t j = 0; j < g->nparts; j++) {
            const lagmon_part *p = &g->parts[j];
            part_texts t;

            part_texts_of(p, &t);
            strbuf_puts(b, "<tr><td>");
            put_html(b, g->group);
            strbuf_puts(b, "</td><td>");
            put_html(b, p->topic);
            strbuf_printf(b, "</td><td class=\"n\">%d</td><td>", (int)p->partition);
            put_status(b, shown(s, p->r.status));
            strbuf_printf(b, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                          "<td class=\"n%s\">%s%s</td><td class=\"n\">%s</td><td class=\"n\">"
                          "%s</td><td class=\"n\">%s</td><td class=\"n\">%d/%d</td></tr>\n",
                          t.off, t.kafka, p->offsets_disagree ? " warn" : "", t.pg,
                          p->offsets_disagree ? " (differs from Kafka's)" : "", t.hwm, t.lag,
                          t.secs, p->r.ncommits, s->window.intervals);
        }
    }
    strbuf_puts(b, "</table>\n");
}

int lagview_page(const lagmon_snapshot *s, const lagview_opts *o, strbuf *out, char *errstr,
                 size_t errstr_size)
{
    char when[64];

    strbuf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    if (o->refresh_s > 0)
        strbuf_printf(out, "<meta http-equiv=\"refresh\" content=\"%d\">", o->refresh_s);
    strbuf_printf(out, "<title>Consumer lag</title><style>%s</style></head><body>\n"
                       "<h1>Consumer lag</h1>\n", page_style);
    if (s->rounds) {
        local_time(s->time_ms, o, when, sizeof when);
        strbuf_printf(out, "<p class=\"meta\">As of %s &middot; round %" PRIu64 " &middot; "
                      "window of %d samples every %d s &middot; %s</p>\n", when, s->rounds,
                      s->window.intervals, o->interval_s,
                      s->pg_read ? "offsets stored in PostgreSQL read"
                                 : "PostgreSQL's offsets not read");
    } else {
        strbuf_puts(out, "<p class=\"meta\">No round read yet.</p>\n");
    }
    if (s->rounds < 2)
        strbuf_puts(out, "<p class=\"meta\">Statuses show from the second sample on.</p>\n");
    if (*s->last_error) {
        strbuf_puts(out, "<p class=\"error\">The latest poll failed: ");
        put_html(out, s->last_error);
        strbuf_puts(out, "</p>\n");
    }
    page_groups(s, out);
    strbuf_puts(out, "<h2>Lag over the last hour</h2>\n<div class=\"charts\">\n");
    if (page_chart(s, o, 0, out, errstr, errstr_size) < 0 ||
        page_chart(s, o, 1, out, errstr, errstr_size) < 0)
        return -1;
    strbuf_puts(out, "</div>\n<h2>Partitions</h2>\n");
    page_parts(s, out);
    strbuf_puts(out, "<p class=\"meta\">OK: fine. WARN: lag growing while the group commits. "
                     "STALL: offset not moving while lag &gt; 0. STOP: no commit for longer "
                     "than the window. REWIND: offset went backwards. ERR: the group's worst "
                     "partition is STOP, STALL or REWIND. Also at /metrics and "
                     "/status.json.</p>\n</body></html>\n");
    if (out->failed)
        return errstr_fail(errstr, errstr_size, "out of memory");
    return 0;
}

/* --- changes ------------------------------------------------------------------------ */

static const lagmon_part *find_part(const lagmon_group *g, const lagmon_part *p)
{
    for (size_t i = 0; g && i < g->nparts; i++)
        if (g->parts[i].partition == p->partition && strcmp(g->parts[i].topic, p->topic) == 0)
            return &g->parts[i];
    return NULL;
}

static void log_group(const lagmon_group *was, const lagmon_group *g)
{
    char secs[32];
    log_level level = g->status >= LAGWIN_WARN ? LOG_WARN : LOG_INFO;

    if (was && was->status == g->status)
        return;
    seconds_text(g->g.max_lag_seconds, secs, sizeof secs);
    log_write(level, "group status", "group=%s status=%s was=%s worst=%s lag=%" PRId64
              " lag_s=%s state=%s members=%d", g->group, status_name(g->status),
              was ? status_name(was->status) : "-", status_name(g->g.worst), g->g.total_lag,
              secs, *g->state ? g->state : "-", g->members);
}

static void log_part(const lagmon_group *was, const lagmon_group *g, const lagmon_part *p,
                     int64_t batch_max)
{
    const lagmon_part *old = find_part(was, p);

    if (!old || old->r.status != p->r.status)
        log_debug("partition status", "group=%s topic=%s partition=%d status=%s was=%s "
                  "offset=%" PRId64 " lag=%" PRId64, g->group, p->topic, (int)p->partition,
                  status_name(p->r.status), old ? status_name(old->r.status) : "-",
                  p->r.offset, p->r.lag);
    if (p->offsets_disagree && (!old || !old->offsets_disagree))
        log_warn("offsets disagree", "group=%s topic=%s partition=%d kafka_offset=%" PRId64
                 " pg_offset=%" PRId64 " batch_max=%" PRId64, g->group, p->topic,
                 (int)p->partition, p->kafka_offset, p->pg_offset, batch_max);
    else if (!p->offsets_disagree && old && old->offsets_disagree)
        log_info("offsets agree again", "group=%s topic=%s partition=%d kafka_offset=%" PRId64
                 " pg_offset=%" PRId64, g->group, p->topic, (int)p->partition,
                 p->kafka_offset, p->pg_offset);
}

void lagview_log_changes(const lagmon_snapshot *prev, const lagmon_snapshot *cur)
{
    if (cur->rounds < 2)
        return;
    if (prev && prev->rounds < 2)
        prev = NULL;
    for (size_t i = 0; i < cur->ngroups; i++) {
        const lagmon_group *g = &cur->groups[i];
        const lagmon_group *was = prev ? lagmon_snapshot_group(prev, g->group) : NULL;

        log_group(was, g);
        for (size_t j = 0; j < g->nparts; j++)
            log_part(was, g, &g->parts[j], cur->batch_max);
    }
    for (size_t i = 0; prev && i < prev->ngroups; i++)
        if (!lagmon_snapshot_group(cur, prev->groups[i].group))
            log_info("group gone", "group=%s", prev->groups[i].group);
}
