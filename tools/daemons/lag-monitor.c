/* lag-monitor: the lag of every consumer group, and of each of its partitions, with a
 * status per partition and per group over a sliding window (Burrow's rules).
 *   lag-monitor                      sample once, print a table (or --json)
 *   lag-monitor --watch              sample every interval, print each time (in place on a
 *                                    terminal)
 *   lag-monitor --serve HOST:PORT    sample every interval; serve /metrics (Prometheus),
 *                                    / (status page), /status.json and /healthz
 * Sampling is common/lagprobe (Kafka's Admin API, watermarks, message times, PostgreSQL's
 * consumer_offsets), judging common/lagmon, rendering common/lagview, HTTP common/httpd.
 * Exit status 0, 1 when Kafka could not be read (one-shot) or the server not started,
 * 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "httpd.h"
#include "lagmon.h"
#include "lagprobe.h"
#include "lagview.h"
#include "log.h"
#include "program.h"
#include "promtext.h"

#define MAX_GROUPS 256

static const config_option options[] = {
    {"groups", CONFIG_STR, NULL, NULL,
     "only these consumer groups, comma-separated (default: every group)"},
    {"interval.s", CONFIG_INT, "10", NULL, "seconds between samples"},
    {"window", CONFIG_INT, "10", NULL,
     "commits per partition the statuses look at (Burrow's intervals)"},
    {"stop-after.s", CONFIG_INT, "60", NULL,
     "STOP: no commit for longer than the window spans and than this"},
    {"batch.max.messages", CONFIG_INT, "10000", NULL,
     "the consumers' batch: Kafka's and PostgreSQL's offsets may differ by this much"},
    {"message-age", CONFIG_BOOL, "true", NULL,
     "lag seconds from the oldest unconsumed message's timestamp (--no-message-age: "
     "interpolated from sampled watermarks)"},
    {"pg.offsets", CONFIG_BOOL, "true", NULL,
     "read the offsets this project's consumers store in PostgreSQL (consumer_offsets)"},
    {"timeout.ms", CONFIG_INT, "10000", NULL, "longest wait for each Kafka request"},
    {"samples", CONFIG_INT, "1", NULL,
     "without --watch or --serve: sample this many times, interval.s apart, then print"},
    {"json", CONFIG_BOOL, "false", NULL, "print JSON, one object a line, instead of a table"},
    {"watch", CONFIG_BOOL, "false", NULL,
     "print after every sample until stopped; on a terminal, in place"},
    {"serve", CONFIG_STR, NULL, NULL,
     "HOST:PORT to serve /metrics, / (status page), /status.json and /healthz on"},
    {NULL, 0, NULL, NULL, NULL},
};

static const program_def program = {
    "lag-monitor",
    "usage: lag-monitor [options]\n"
    "The lag of every consumer group (also those with no running member) per partition:\n"
    "committed offset (PostgreSQL's for this project's groups), high watermark, lag in\n"
    "events and seconds, and a status over a sliding window: OK, WARN (lag growing),\n"
    "STALL (offset not moving while lag > 0), STOP (no commit for too long), REWIND\n"
    "(offset went backwards); a group is ERR when its worst partition is one of the last\n"
    "three. Exit status: 0 done, 1 failed, 2 usage.\n\noptions:\n",
    PROGRAM_OPT_KAFKA | PROGRAM_OPT_PG,
    options,
    0,
    0,
    NULL,
};

/* What a printed snapshot looks like: --json picks the second row. */
typedef struct output_mode {
    const char *name;
    int (*render)(const lagmon_snapshot *s, const lagview_opts *o, strbuf *out);
} output_mode;

static int render_json(const lagmon_snapshot *s, const lagview_opts *o, strbuf *out)
{
    (void)o;
    return lagview_json(s, out);
}

static const output_mode output_modes[] = {
    {"table", lagview_table},
    {"json", render_json},
};

/* What the HTTP handlers read; lives in main until the server stops. */
typedef struct served {
    lagmon *mon;
    lagview_opts view;
    promtext *prom;           /* reused per scrape; handlers run one at a time */
} served;

static int serve_page(void *opaque, const char *path, httpd_reply *reply)
{
    served *sv = opaque;
    const lagmon_snapshot *s = lagmon_snapshot_get(sv->mon);
    char errstr[256];
    int rc = lagview_page(s, &sv->view, &reply->body, errstr, sizeof errstr);

    (void)path;
    lagmon_snapshot_release(s);
    if (rc < 0)
        log_warn("status page not rendered", "err=\"%s\"", errstr);
    reply->content_type = HTTPD_HTML;
    return rc;
}

static int serve_metrics(void *opaque, const char *path, httpd_reply *reply)
{
    served *sv = opaque;
    const lagmon_snapshot *s = lagmon_snapshot_get(sv->mon);
    char errstr[256];
    const char *text;
    size_t len;
    int rc;

    (void)path;
    promtext_reset(sv->prom);
    rc = lagview_metrics(s, sv->prom, errstr, sizeof errstr);
    lagmon_snapshot_release(s);
    if (rc < 0 || !(text = promtext_finish(sv->prom, &len, errstr, sizeof errstr))) {
        log_warn("metrics not rendered", "err=\"%s\"", errstr);
        return -1;
    }
    reply->content_type = PROMTEXT_CONTENT_TYPE;
    return strbuf_append(&reply->body, text, len);
}

static int serve_json(void *opaque, const char *path, httpd_reply *reply)
{
    served *sv = opaque;
    const lagmon_snapshot *s = lagmon_snapshot_get(sv->mon);
    int rc = lagview_json(s, &reply->body);

    (void)path;
    lagmon_snapshot_release(s);
    reply->content_type = HTTPD_JSON;
    return rc;
}

static int serve_health(void *opaque, const char *path, httpd_reply *reply)
{
    (void)opaque;
    (void)path;
    return strbuf_puts(&reply->body, "ok\n");
}

/* Split the comma list into names (pointers into list, changed in place); the count or -1. */
static int split_groups(char *list, const char **names, int max)
{
    int n = 0;

    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        if (!*t)
            continue;
        if (n == max)
            return -1;
        names[n++] = t;
    }
    return n;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until the monotonic time until_ms, or until stopped. */
static void sleep_until(int64_t until_ms)
{
    while (!program_stopping() && mono_ms() < until_ms) {
        int64_t left = until_ms - mono_ms();
        struct timespec ts = {0, (long)((left < 100 ? left : 100) * 1000000)};
        nanosleep(&ts, NULL);
    }
}

/* One round: probe, judge, count. 0, or -1 when Kafka could not be read. */
static int sample(lagprobe *probe, lagmon *mon)
{
    lagmon_round r;
    char errstr[512];
    int64_t start = mono_ms();
    int rc = lagprobe_collect(probe, &r, errstr, sizeof errstr);

    if (rc == 0)
        rc = lagmon_update(mon, &r, errstr, sizeof errstr);
    lagmon_round_release(&r);
    lagmon_record_poll(mon, rc == 0, (double)(mono_ms() - start) / 1000.0, errstr);
    if (rc < 0)
        log_error("sample failed", "err=\"%s\"", errstr);
    return rc;
}

/* Print the latest snapshot in mode; on a terminal under --watch, over the previous one. */
static void print(lagmon *mon, const output_mode *mode, const lagview_opts *view, int in_place)
{
    const lagmon_snapshot *s = lagmon_snapshot_get(mon);
    strbuf b;

    strbuf_init(&b);
    if (in_place)
        strbuf_puts(&b, "\033[H\033[2J");
    if (mode->render(s, view, &b) == 0) {
        fputs(strbuf_str(&b), stdout);
        fflush(stdout);
    } else {
        log_error("out of memory", "what=%s", mode->name);
    }
    strbuf_release(&b);
    lagmon_snapshot_release(s);
}

/* The local clock of the page and table. */
static lagview_opts local_view(int interval_s)
{
    static char zone[16];
    time_t now = time(NULL);
    struct tm tm;

    localtime_r(&now, &tm);
    snprintf(zone, sizeof zone, "%s", tm.tm_zone ? tm.tm_zone : "");
    return (lagview_opts){(int)(tm.tm_gmtoff / 60), zone, interval_s < 5 ? 5 : interval_s,
                          interval_s};
}

/* Read the options into the monitor's and probe's parameters; 0, or -1 after a message. */
static int read_options(const config *cfg, char *groups_buf, size_t bufsize,
                        const char **names, lagmon_params *mp, lagprobe_params *pp)
{
    long long interval = config_int(cfg, "interval.s"), window = config_int(cfg, "window");
    long long stop = config_int(cfg, "stop-after.s"), timeout = config_int(cfg, "timeout.ms");
    long long batch = config_int(cfg, "batch.max.messages");
    int n = 0;

    if (interval < 1 || interval > 3600 || window < 1 || window > 1000 || stop < 0 ||
        timeout < 100 || timeout > 600000 || batch < 0 || config_int(cfg, "samples") < 1) {
        fprintf(stderr, "lag-monitor: --interval.s must be 1..3600, --window 1..1000, "
                        "--stop-after.s >= 0, --timeout.ms 100..600000, "
                        "--batch.max.messages >= 0, --samples >= 1\n");
        return -1;
    }
    if (config_get(cfg, "groups")) {
        snprintf(groups_buf, bufsize, "%s", config_get(cfg, "groups"));
        if ((n = split_groups(groups_buf, names, MAX_GROUPS)) < 0) {
            fprintf(stderr, "lag-monitor: --groups names more than %d groups\n", MAX_GROUPS);
            return -1;
        }
    }
    *mp = (lagmon_params){.window = lagwin_params_default(), .batch_max = batch,
                          .groups = n ? names : NULL, .ngroups = (size_t)n};
    mp->window.intervals = (int)window;
    mp->window.stop_floor_ms = stop * 1000;
    *pp = (lagprobe_params){.groups = mp->groups, .ngroups = mp->ngroups,
                            .timeout_ms = (int)timeout,
                            .message_age = config_bool(cfg, "message-age"),
                            .read_pg = config_bool(cfg, "pg.offsets")};
    return 0;
}

int main(int argc, char **argv)
{
    static char groups_buf[8192];
    const char *names[MAX_GROUPS];
    lagmon_params mp;
    lagprobe_params pp;
    lagmon *mon = NULL;
    lagprobe *probe = NULL;
    httpd *http = NULL;
    served sv = {0};
    const lagmon_snapshot *prev = NULL;
    char errstr[512];
    int nargs, rc, watch, serving, samples, one_shot, failed = 0;
    int64_t next;
    config *cfg = program_start(&program, argc, argv, &nargs, &rc);

    if (!cfg)
        return rc;
    rc = 2;
    if (read_options(cfg, groups_buf, sizeof groups_buf, names, &mp, &pp) < 0)
        goto out;
    rc = 1;
    watch = config_bool(cfg, "watch");
    serving = config_get(cfg, "serve") != NULL;
    one_shot = !watch && !serving;
    samples = (int)config_int(cfg, "samples");
    sv.view = local_view((int)config_int(cfg, "interval.s"));
    if (!(mon = lagmon_new(&mp, errstr, sizeof errstr)) ||
        !(probe = lagprobe_new(cfg, &pp, errstr, sizeof errstr)) ||
        !(sv.prom = promtext_new(errstr, sizeof errstr))) {
        log_error("unable to start", "err=\"%s\"", errstr);
        goto out;
    }
    sv.mon = mon;
    if (serving) {
        const httpd_route routes[] = {
            {"/", serve_page, &sv},
            {"/metrics", serve_metrics, &sv},
            {"/status.json", serve_json, &sv},
            {"/healthz", serve_health, &sv},
        };
        if (!(http = httpd_start(config_get(cfg, "serve"), routes, 4, errstr, sizeof errstr))) {
            log_error("unable to serve", "err=\"%s\"", errstr);
            goto out;
        }
        log_info("serving", "addr=%s port=%d", config_get(cfg, "serve"), httpd_port(http));
    }
    rc = 0;
    next = mono_ms();
    for (int round = 1; !program_stopping(); round++) {
        const lagmon_snapshot *cur;

        next += config_int(cfg, "interval.s") * 1000;
        failed = sample(probe, mon) < 0;
        if (!one_shot) {
            cur = lagmon_snapshot_get(mon);
            lagview_log_changes(prev, cur);
            lagmon_snapshot_release(prev);
            prev = cur;
        }
        if (watch || (one_shot && round == samples && !failed))
            print(mon, &output_modes[config_bool(cfg, "json")], &sv.view,
                  watch && isatty(STDOUT_FILENO) && !config_bool(cfg, "json"));
        if (one_shot && (failed || round == samples))
            break;
        if (next < mono_ms()) /* a round longer than the interval: no catching up */
            next = mono_ms();
        sleep_until(next);
    }
    rc = one_shot && failed ? 1 : 0;
out:
    httpd_stop(http);
    lagmon_snapshot_release(prev);
    promtext_destroy(sv.prom);
    lagprobe_destroy(probe);
    lagmon_destroy(mon);
    config_destroy(cfg);
    return rc;
}
