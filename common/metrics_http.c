/* metrics_http: /metrics, /healthz and /readyz of a service, over httpd. */
#include "metrics_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errstr.h"
#include "httpd.h"
#include "log.h"

struct metrics_http {
    httpd *server;
    metrics_http_handler h;
    promtext *text;            /* reused by every scrape (the server's thread only) */
};

/* ---- the process families (/proc/self) ---- */

/* Seconds since the epoch at boot, from /proc/stat's btime; 0 when unknown. */
static long long boot_time(void)
{
    char line[256];
    long long btime = 0;
    FILE *f = fopen("/proc/stat", "r");

    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "btime %lld", &btime) == 1)
            break;
    fclose(f);
    return btime;
}

/* CPU seconds, start time (epoch seconds) and resident bytes of this process. 0 or -1. */
static int process_stat(double *cpu_s, double *start_s, double *rss_bytes)
{
    char buf[1024], *p;
    unsigned long long utime, stime, start;
    long long rss;
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/stat", "r");
    size_t len;

    if (!f)
        return -1;
    len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* After "pid (comm) ": the comm may hold spaces, so start at the last ')'. Fields 14,
     * 15 (utime, stime), 22 (starttime) and 24 (rss) of proc(5). */
    if (!(p = strrchr(buf, ')')) || ticks <= 0 ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d"
                      " %*d %*d %llu %*u %lld", &utime, &stime, &start, &rss) != 4)
        return -1;
    *cpu_s = (double)(utime + stime) / (double)ticks;
    *start_s = (double)boot_time() + (double)start / (double)ticks;
    *rss_bytes = (double)rss * (double)page;
    return 0;
}

static void render_process(promtext *p)
{
    double cpu, start, rss;

    if (process_stat(&cpu, &start, &rss) < 0)
        return;
    promtext_family(p, "process_start_time_seconds", PROMTEXT_GAUGE,
                    "Start time of the process since the epoch, in seconds.");
    promtext_sample(p, NULL, 0, start);
    promtext_family(p, "process_cpu_seconds_total", PROMTEXT_COUNTER,
                    "User and system CPU time spent, in seconds.");
    promtext_sample(p, NULL, 0, cpu);
    promtext_family(p, "process_resident_memory_bytes", PROMTEXT_GAUGE,
                    "Resident memory size, in bytes.");
    promtext_sample(p, NULL, 0, rss);
}

static int is_ready(const metrics_http_handler *h, char *reason, size_t size)
{
    reason[0] = '\0';
    return !h->ready || h->ready(h->opaque, reason, size);
}

int metrics_http_render(const metrics_http_handler *h, promtext *p, char *errstr, size_t n)
{
    char reason[256];

    promtext_reset(p);
    if (h->render && h->render(h->opaque, p) < 0) {
        if (promtext_finish(p, NULL, errstr, n)) /* else errstr has the builder's error */
            errstr_fail(errstr, n, "the service could not render its metrics");
        return -1;
    }
    promtext_family(p, "service_ready", PROMTEXT_GAUGE,
                    "1 when the service is ready (GET /readyz answers 200), else 0.");
    promtext_sample(p, NULL, 0, is_ready(h, reason, sizeof reason));
    render_process(p);
    return promtext_finish(p, NULL, errstr, n) ? 0 : -1;
}

/* ---- the paths (httpd.h) ---- */

static int serve_metrics(void *opaque, const char *path, httpd_reply *reply)
{
    metrics_http *m = opaque;
    char errstr[512];
    const char *text;
    size_t len;

    (void)path;
    if (metrics_http_render(&m->h, m->text, errstr, sizeof errstr) < 0) {
        log_warn("metrics not rendered", "error=\"%s\"", errstr);
        reply->status = 500;
        return strbuf_printf(&reply->body, "metrics not rendered: %s\n", errstr) < 0 ? -1 : 0;
    }
    text = promtext_finish(m->text, &len, errstr, sizeof errstr);
    reply->content_type = PROMTEXT_CONTENT_TYPE;
    return strbuf_append(&reply->body, text, len);
}

static int serve_health(void *opaque, const char *path, httpd_reply *reply)
{
    (void)opaque;
    (void)path;
    return strbuf_puts(&reply->body, "ok\n");
}

static int serve_ready(void *opaque, const char *path, httpd_reply *reply)
{
    metrics_http *m = opaque;
    char reason[256];

    (void)path;
    if (is_ready(&m->h, reason, sizeof reason))
        return strbuf_puts(&reply->body, "ready\n");
    reply->status = 503;
    return strbuf_printf(&reply->body, "not ready: %s\n",
                         reason[0] ? reason : "(no reason given)");
}

metrics_http *metrics_http_start(const char *host, int port, const metrics_http_handler *h,
                                 char *errstr, size_t n)
{
    metrics_http *m = calloc(1, sizeof *m);
    char addr[128];

    if (!m) {
        errstr_fail(errstr, n, "out of memory");
        return NULL;
    }
    m->h = *h;
    if (port < 0 || port > 65535) {
        errstr_fail(errstr, n, "metrics.port %d is not a TCP port", port);
        goto fail;
    }
    host = host && *host ? host : "127.0.0.1";
    snprintf(addr, sizeof addr, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    {
        const httpd_route routes[] = {
            {"/metrics", serve_metrics, m},
            {"/healthz", serve_health, m},
            {"/readyz", serve_ready, m},
        };
        if (!(m->text = promtext_new(errstr, n)) ||
            !(m->server = httpd_start(addr, routes, sizeof routes / sizeof routes[0], errstr, n)))
            goto fail;
    }
    return m;
fail:
    metrics_http_stop(m);
    return NULL;
}

int metrics_http_start_config(const config *cfg, const metrics_http_handler *h,
                              metrics_http **out, char *errstr, size_t n)
{
    long long port = config_int(cfg, "metrics.port");

    *out = NULL;
    if (port == 0)
        return 0;
    if (port < 0 || port > 65535) {
        errstr_fail(errstr, n, "metrics.port %lld is not a TCP port (0: off)", port);
        return -1;
    }
    *out = metrics_http_start(config_get(cfg, "metrics.host"), (int)port, h, errstr, n);
    return *out ? 0 : -1;
}

int metrics_http_port(const metrics_http *m)
{
    return httpd_port(m->server);
}

void metrics_http_stop(metrics_http *m)
{
    if (!m)
        return;
    httpd_stop(m->server);
    promtext_destroy(m->text);
    free(m);
}
