/* lagview: what the lag monitor shows of a snapshot (common/lagmon.h):
 *  - a table for a terminal: one line per group, then one per partition, then a warning
 *    per partition whose Kafka and PostgreSQL offsets disagree;
 *  - JSON, one object per snapshot on one line;
 *  - the Prometheus text format, with the names of kafka_exporter
 *    (kafka_consumergroup_current_offset, _lag, _lag_sum, _members,
 *    kafka_topic_partition_current_offset) and kafka-lag-exporter
 *    (kafka_consumergroup_group_lag_seconds, _group_max_lag_seconds), labels consumergroup,
 *    topic, partition, so that their dashboards work; the statuses as gauges of Burrow's
 *    numbers; the monitor's own lagmon_* families (see lagview.c for each HELP text);
 *  - the status page: HTML with each group's status and lag, two charts of the last hour
 *    (inline SVG from common/svgchart.h: sum of lags, largest lag in seconds) and the
 *    partitions; it refreshes itself with a meta tag, no script;
 *  - log lines of what changed from one snapshot to the next.
 * Statuses are shown from a snapshot's second round on (before it: "-" in the table and on
 * the page, null in JSON, no status samples, no log line), but NOTFOUND: one sample cannot
 * tell a trend, a single commit would read as STALL.
 * Each function but lagview_log_changes is pure (no clock, no I/O) and any thread may call
 * it on a snapshot it holds. */
#ifndef LAGVIEW_H
#define LAGVIEW_H

#include <stddef.h>

#include "lagmon.h"
#include "promtext.h"
#include "strbuf.h"

/* How times are shown and how often the page reloads. */
typedef struct lagview_opts {
    int utc_offset_minutes;   /* local time of the displayed clock, e.g. 480 for WITA */
    const char *zone;         /* its name, e.g. "WITA"; NULL or "" shows the offset */
    int refresh_s;            /* page reload period; 0: none */
    int interval_s;           /* sampling period, shown on the page and the table */
} lagview_opts;

/* Append the table to out. 0, or -1 when memory ran out. */
int lagview_table(const lagmon_snapshot *s, const lagview_opts *o, strbuf *out);

/* Append the JSON object and a newline to out. 0, or -1 when memory ran out. */
int lagview_json(const lagmon_snapshot *s, strbuf *out);

/* Append the metric families to p (a builder the caller resets per scrape). 0, or -1 with
 * errstr filled (promtext_finish's message). */
int lagview_metrics(const lagmon_snapshot *s, promtext *p, char *errstr, size_t errstr_size);

/* Append the status page to out. 0, or -1 with errstr filled. */
int lagview_page(const lagmon_snapshot *s, const lagview_opts *o, strbuf *out, char *errstr,
                 size_t errstr_size);

/* Log what changed from prev (NULL: nothing before) to cur: a group's status (warn when
 * it is WARN or worse, info otherwise), a partition's status (debug), offsets that start or
 * stop disagreeing (warn, info). Any thread; one line per change. */
void lagview_log_changes(const lagmon_snapshot *prev, const lagmon_snapshot *cur);

#endif
