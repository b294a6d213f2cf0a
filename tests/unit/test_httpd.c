/* Unit tests of common/httpd: a server on a free loopback port answering its paths, HEAD,
 * 404, 405 and a failing handler's 500, as a plain socket client sees them; and the
 * refused addresses and tables. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd.h"

static int hits;

static int hello(void *opaque, const char *path, httpd_reply *reply)
{
    hits++;
    reply->content_type = HTTPD_HTML;
    return strbuf_printf(&reply->body, "<p>%s at %s</p>\n", (const char *)opaque, path);
}

static int unready(void *opaque, const char *path, httpd_reply *reply)
{
    (void)opaque;
    (void)path;
    reply->status = 503;
    return strbuf_puts(&reply->body, "not ready\n");
}

static int broken(void *opaque, const char *path, httpd_reply *reply)
{
    (void)opaque;
    (void)path;
    strbuf_puts(&reply->body, "half a page");
    return -1;
}

static httpd *server(void)
{
    static const httpd_route routes[] = {
        {"/", hello, (void *)"home"},
        {"/readyz", unready, NULL},
        {"/broken", broken, NULL},
    };
    char err[256] = "";
    httpd *h = httpd_start("127.0.0.1:0", routes, 3, err, sizeof err);

    cr_assert_not_null(h, "httpd_start: %s", err);
    cr_assert_gt(httpd_port(h), 0, "a port was chosen");
    return h;
}

/* Send request to the server and read the whole answer (HTTP/1.0: the server closes). */
static void exchange(const httpd *h, const char *request, char *out, size_t size)
{
    struct sockaddr_in sa = {0};
    size_t n = 0;
    ssize_t r;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0, "socket");
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)httpd_port(h));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect");
    cr_assert_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request), "write");
    while (n < size - 1 && (r = read(fd, out + n, size - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fd);
}

static const char *body_of(const char *answer)
{
    const char *b = strstr(answer, "\r\n\r\n");

    cr_assert_not_null(b, "no end of headers in:\n%s", answer);
    return b + 4;
}

Test(httpd, serves_a_path_with_its_content_type)
{
    httpd *h = server();
    char out[4096];

    hits = 0;
    exchange(h, "GET /?x=1 HTTP/1.0\r\n\r\n", out, sizeof out);
    cr_assert(strncmp(out, "HTTP/1.", 7) == 0 && strstr(out, " 200 "), "status line:\n%s", out);
    cr_assert_not_null(strcasestr(out, "Content-Type: text/html; charset=utf-8"),
                       "content type:\n%s", out);
    cr_assert_not_null(strcasestr(out, "Cache-Control: no-store"), "no-store:\n%s", out);
    cr_assert_str_eq(body_of(out), "<p>home at /</p>\n", "body, query string not in path");
    cr_assert_eq(hits, 1, "handler called once, got %d", hits);
    httpd_stop(h);
}

Test(httpd, head_has_the_headers_without_the_body)
{
    httpd *h = server();
    char out[4096];

    exchange(h, "HEAD / HTTP/1.0\r\n\r\n", out, sizeof out);
    cr_assert_not_null(strstr(out, " 200 "), "status:\n%s", out);
    cr_assert_not_null(strcasestr(out, "Content-Length: 17"), "length of the GET body:\n%s",
                       out);
    cr_assert_str_eq(body_of(out), "", "no body");
    httpd_stop(h);
}

Test(httpd, handler_sets_the_status)
{
    httpd *h = server();
    char out[4096];

    exchange(h, "GET /readyz HTTP/1.0\r\n\r\n", out, sizeof out);
    cr_assert_not_null(strstr(out, " 503 "), "status:\n%s", out);
    cr_assert_not_null(strcasestr(out, "Content-Type: text/plain; charset=utf-8"),
                       "default content type:\n%s", out);
    cr_assert_str_eq(body_of(out), "not ready\n", "body");
    httpd_stop(h);
}

Test(httpd, unknown_path_failed_handler_and_other_methods)
{
    httpd *h = server();
    char out[4096];

    exchange(h, "GET /nothing HTTP/1.0\r\n\r\n", out, sizeof out);
    cr_assert_not_null(strstr(out, " 404 "), "unknown path:\n%s", out);
    exchange(h, "GET /broken HTTP/1.0\r\n\r\n", out, sizeof out);
    cr_assert_not_null(strstr(out, " 500 "), "failed handler:\n%s", out);
    cr_assert_null(strstr(out, "half a page"), "its partial body is dropped:\n%s", out);
    exchange(h, "POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n", out, sizeof out);
    cr_assert_not_null(strstr(out, " 405 "), "POST:\n%s", out);
    cr_assert_not_null(strcasestr(out, "Allow: GET, HEAD"), "Allow header:\n%s", out);
    httpd_stop(h);
}

Test(httpd, refuses_bad_addresses_and_tables)
{
    static const httpd_route twice[] = {{"/a", hello, NULL}, {"/a", hello, NULL}};
    static const httpd_route relative[] = {{"metrics", hello, NULL}};
    static const char *const bad[] = {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:http",
                                      "127.0.0.1:70000", "[::1:80", "no.such.host.invalid:80"};
    char err[256];
    httpd *h = server(), *h2;
    char busy[64];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_assert_null(httpd_start(bad[i], twice, 1, err, sizeof err), "'%s' accepted", bad[i]);
        cr_assert_neq(err[0], '\0', "'%s': no reason", bad[i]);
    }
    cr_assert_null(httpd_start("127.0.0.1:0", twice, 2, err, sizeof err), "path twice");
    cr_assert_not_null(strstr(err, "twice"), "reason: %s", err);
    cr_assert_null(httpd_start("127.0.0.1:0", relative, 1, err, sizeof err), "relative path");
    snprintf(busy, sizeof busy, "127.0.0.1:%d", httpd_port(h));
    h2 = httpd_start(busy, twice, 1, err, sizeof err);
    cr_assert_null(h2, "a port in use accepted");
    cr_assert_not_null(strstr(err, "unable to listen"), "reason: %s", err);
    httpd_stop(h);
    httpd_stop(NULL);
}

Test(httpd, listens_on_ipv6_loopback)
{
    static const httpd_route routes[] = {{"/", hello, (void *)"v6"}};
    char err[256] = "";
    httpd *h = httpd_start("[::1]:0", routes, 1, err, sizeof err);

    if (!h && strstr(err, "unable to listen"))
        cr_skip_test("no IPv6 loopback here: %s", err);
    cr_assert_not_null(h, "httpd_start: %s", err);
    cr_assert_gt(httpd_port(h), 0, "port");
    httpd_stop(h);
}
