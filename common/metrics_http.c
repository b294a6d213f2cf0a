/* metrics_http: /metrics, /healthz and /readyz of a service, over libmicrohttpd. */
#include "metrics_http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "errstr.h"
#include "log.h"

struct metrics_http {
    struct MHD_Daemon *daemon;
    metrics_http_handler h;
    promtext *text;            /* reused by every scrape (the server's thread only) */
    int port;
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

/* ---- HTTP ---- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status,
                                  const char *text)
{
    return reply(conn, status, "text/plain; charset=utf-8", text, strlen(text));
}

static enum MHD_Result serve_metrics(metrics_http *m, struct MHD_Connection *conn)
{
    char errstr[512], body[600];
    const char *text;
    size_t len;

    if (metrics_http_render(&m->h, m->text, errstr, sizeof errstr) < 0) {
        log_warn("metrics not rendered", "error=\"%s\"", errstr);
        snprintf(body, sizeof body, "metrics not rendered: %s\n", errstr);
        return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, body);
    }
    text = promtext_finish(m->text, &len, errstr, sizeof errstr);
    return reply(conn, MHD_HTTP_OK, PROMTEXT_CONTENT_TYPE, text, len);
}

static enum MHD_Result serve_ready(metrics_http *m, struct MHD_Connection *conn)
{
    char reason[256], body[300];

    if (is_ready(&m->h, reason, sizeof reason))
        return reply_text(conn, MHD_HTTP_OK, "ready\n");
    snprintf(body, sizeof body, "not ready: %s\n", reason[0] ? reason : "(no reason given)");
    return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    metrics_http *m = cls;

    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(m, conn);
    if (strcmp(url, "/healthz") == 0)
        return reply_text(conn, MHD_HTTP_OK, "ok\n");
    if (strcmp(url, "/readyz") == 0)
        return serve_ready(m, conn);
    return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz, /readyz\n");
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t len;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    len = strlen(msg);
    while (len && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        msg[--len] = '\0';
    log_warn("metrics endpoint error", "error=\"%s\"", msg);
}

/* A listening socket on host:port; *family its address family. -1 + errstr. */
static int listen_on(const char *host, int port, int *family, char *errstr, size_t n)
{
    struct addrinfo hints, *ai = NULL;
    char ports[16];
    int fd = -1, one = 1, rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    snprintf(ports, sizeof ports, "%d", port);
    if ((rc = getaddrinfo(host, ports, &hints, &ai)) != 0) {
        errstr_fail(errstr, n, "metrics.host '%s' is not a numeric address: %s", host,
                    gai_strerror(rc));
        return -1;
    }
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 32) < 0) {
        errstr_fail(errstr, n, "unable to listen on %s port %d: %s", host, port,
                    strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    } else {
        *family = ai->ai_family;
    }
    freeaddrinfo(ai);
    return fd;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

metrics_http *metrics_http_start(const char *host, int port, const metrics_http_handler *h,
                                 char *errstr, size_t n)
{
    metrics_http *m = calloc(1, sizeof *m);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    int fd, family = AF_INET;

    if (!m) {
        errstr_fail(errstr, n, "out of memory");
        return NULL;
    }
    m->h = *h;
    if (port < 0 || port > 65535) {
        errstr_fail(errstr, n, "metrics.port %d is not a TCP port", port);
        goto fail;
    }
    if (!(m->text = promtext_new(errstr, n)) ||
        (fd = listen_on(host && *host ? host : "127.0.0.1", port, &family, errstr, n)) < 0)
        goto fail;
    m->port = bound_port(fd);
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* MHD takes the socket (and closes it when it stops). */
    m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
                                 MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                 MHD_OPTION_END);
    if (!m->daemon) {
        close(fd);
        errstr_fail(errstr, n, "unable to start the metrics endpoint on port %d", m->port);
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
    return m->port;
}

void metrics_http_stop(metrics_http *m)
{
    if (!m)
        return;
    if (m->daemon)
        MHD_stop_daemon(m->daemon);
    promtext_destroy(m->text);
    free(m);
}
