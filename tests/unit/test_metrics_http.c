/* Unit tests of common/metrics_http: the three paths over a real socket on 127.0.0.1,
 * 404 and 405, readiness with its reason, the process families, and start-up failures. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics_http.h"
#include "program.h"

static int g_ready = 1;

static int render(void *opaque, promtext *p)
{
    (void)opaque;
    promtext_family(p, "test_things_total", PROMTEXT_COUNTER, "Things.");
    return promtext_sample(p, NULL, 0, 42);
}

static int ready(void *opaque, char *reason, size_t size)
{
    (void)opaque;
    if (!g_ready)
        snprintf(reason, size, "postgresql: no answer from the server");
    return g_ready;
}

static const metrics_http_handler handler = {render, ready, NULL};

/* Send request to 127.0.0.1:port; the whole answer into out. */
static void http(int port, const char *request, char *out, size_t size)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t n = 0;
    ssize_t got;

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_geq(fd, 0, "socket");
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect to %d", port);
    cr_assert_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request), "write");
    while (n < size - 1 && (got = read(fd, out + n, size - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = '\0';
    close(fd);
}

static void get(int port, const char *path, char *out, size_t size)
{
    char req[256];

    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    http(port, req, out, size);
}

static metrics_http *start(void)
{
    char err[256] = "";
    metrics_http *m = metrics_http_start("127.0.0.1", 0, &handler, err, sizeof err);

    cr_assert_not_null(m, "start: %s", err);
    cr_assert_gt(metrics_http_port(m), 0, "a port was chosen");
    return m;
}

Test(metrics_http, serves_metrics_with_readiness_and_process_families)
{
    metrics_http *m = start();
    char out[16384];

    g_ready = 1;
    get(metrics_http_port(m), "/metrics", out, sizeof out);
    cr_assert(strncmp(out, "HTTP/1.1 200", 12) == 0, "status: %.40s", out);
    cr_assert_not_null(strstr(out, "Content-Type: text/plain; version=0.0.4; charset=utf-8"),
                       "content type:\n%s", out);
    cr_assert_not_null(strstr(out, "\r\n\r\n# HELP test_things_total Things.\n"
                                   "# TYPE test_things_total counter\ntest_things_total 42\n"),
                       "the service's families first:\n%s", out);
    cr_assert_not_null(strstr(out, "\nservice_ready 1\n"), "ready:\n%s", out);
    cr_assert_not_null(strstr(out, "\nprocess_start_time_seconds "), "start time:\n%s", out);
    cr_assert_not_null(strstr(out, "\nprocess_resident_memory_bytes "), "rss:\n%s", out);
    g_ready = 0;
    get(metrics_http_port(m), "/metrics", out, sizeof out);
    cr_assert_not_null(strstr(out, "\nservice_ready 0\n"), "not ready:\n%s", out);
    metrics_http_stop(m);
}

Test(metrics_http, healthz_and_readyz)
{
    metrics_http *m = start();
    char out[4096];

    get(metrics_http_port(m), "/healthz", out, sizeof out);
    cr_assert(strncmp(out, "HTTP/1.1 200", 12) == 0, "healthz: %.40s", out);
    cr_assert_not_null(strstr(out, "\r\n\r\nok\n"), "body:\n%s", out);
    g_ready = 1;
    get(metrics_http_port(m), "/readyz", out, sizeof out);
    cr_assert(strncmp(out, "HTTP/1.1 200", 12) == 0, "readyz: %.40s", out);
    cr_assert_not_null(strstr(out, "\r\n\r\nready\n"), "body:\n%s", out);
    g_ready = 0;
    get(metrics_http_port(m), "/readyz", out, sizeof out);
    cr_assert(strncmp(out, "HTTP/1.1 503", 12) == 0, "not ready: %.40s", out);
    cr_assert_not_null(strstr(out, "\r\n\r\nnot ready: postgresql: no answer from the server\n"),
                       "the reason:\n%s", out);
    metrics_http_stop(m);
}

Test(metrics_http, unknown_path_and_method)
{
    metrics_http *m = start();
    char out[4096];

    get(metrics_http_port(m), "/", out, sizeof out);
    cr_assert(strncmp(out, "HTTP/1.1 404", 12) == 0, "404: %.40s", out);
    http(metrics_http_port(m),
         "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
         out, sizeof out);
    cr_assert(strncmp(out, "HTTP/1.1 405", 12) == 0, "405: %.40s", out);
    metrics_http_stop(m);
}

Test(metrics_http, a_taken_port_is_an_error)
{
    metrics_http *m = start();
    char err[256] = "";

    cr_assert_null(metrics_http_start("127.0.0.1", metrics_http_port(m), &handler, err,
                                      sizeof err), "the port is taken");
    cr_assert_not_null(strstr(err, "unable to listen on '127.0.0.1:"), "error: %s", err);
    cr_assert_not_null(strstr(err, "in use"), "the reason is given: %s", err);
    cr_assert_null(metrics_http_start("no such host!", 0, &handler, err, sizeof err),
                   "an address that does not resolve");
    cr_assert_neq(err[0], '\0', "an error message is given");
    metrics_http_stop(m);
}

Test(metrics_http, off_by_default_in_the_config)
{
    char err[256] = "";
    config *cfg = program_config_new(PROGRAM_OPT_METRICS, NULL);
    metrics_http *m = (metrics_http *)1;

    cr_assert_not_null(cfg, "config");
    cr_assert_str_eq(config_get(cfg, "metrics.host"), "127.0.0.1", "loopback by default");
    cr_assert_eq(metrics_http_start_config(cfg, &handler, &m, err, sizeof err), 0, "%s", err);
    cr_assert_null(m, "metrics.port 0: off");
    cr_assert_eq(config_set(cfg, "metrics.port", "70000", err, sizeof err), 0, "%s", err);
    cr_assert_eq(metrics_http_start_config(cfg, &handler, &m, err, sizeof err), -1, "refused");
    cr_assert_not_null(strstr(err, "not a TCP port"), "error: %s", err);
    config_destroy(cfg);
}
