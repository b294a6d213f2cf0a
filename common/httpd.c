/* httpd: a path table served by libmicrohttpd's internal thread (see httpd.h). */
#include "httpd.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>
#include <microhttpd.h>

#include "errstr.h"
#include "log.h"

#define HTTPD_CONNECTIONS 64
#define HTTPD_TIMEOUT_S 15

typedef struct route {
    char *path;
    httpd_handler handler;
    void *opaque;
} route;

struct httpd {
    struct MHD_Daemon *daemon;
    route *routes;
    size_t nroutes;
    int port;
};

/* Split "HOST:PORT", "[HOST]:PORT" or ":PORT" into host (empty: any) and port. */
static int split_listen(const char *addr, char *host, size_t hsize, char *port,
                        size_t psize, char *errstr, size_t errstr_size)
{
    const char *colon, *h = addr;
    size_t hlen;

    if (!addr || !*addr)
        return errstr_fail(errstr, errstr_size, "no address to listen on");
    if (*addr == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':')
            return errstr_fail(errstr, errstr_size, "address '%s' is not [HOST]:PORT", addr);
        h = addr + 1;
        hlen = (size_t)(end - h);
        colon = end + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon)
            return errstr_fail(errstr, errstr_size, "address '%s' is not HOST:PORT", addr);
        hlen = (size_t)(colon - addr);
    }
    if (hlen >= hsize || strlen(colon + 1) >= psize || !colon[1] ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535)
        return errstr_fail(errstr, errstr_size, "address '%s': bad host or port", addr);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    snprintf(port, psize, "%s", colon + 1);
    return 0;
}

/* A listening socket on addr, or -1 with errstr filled. */
static int listen_socket(const char *addr, int *is_v6, char *errstr, size_t errstr_size)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char host[256], port[8];
    int fd = -1, one = 1, rc;

    if (split_listen(addr, host, sizeof host, port, sizeof port, errstr, errstr_size) < 0)
        return -1;
    hints.ai_family = *host ? AF_UNSPEC : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if ((rc = getaddrinfo(*host ? host : NULL, port, &hints, &ai)) != 0)
        return errstr_fail(errstr, errstr_size, "unable to resolve '%s': %s", addr,
                           gai_strerror(rc));
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        errstr_fail(errstr, errstr_size, "unable to listen on '%s': %s", addr,
                    strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    *is_v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    return fd;
}

/* libmicrohttpd's error logger (MHD_OPTION_EXTERNAL_LOGGER): fmt is its own format. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("http server", "detail=\"%s\"", msg);
}

static const route *find_route(const httpd *h, const char *path)
{
    for (size_t i = 0; i < h->nroutes; i++)
        if (strcmp(h->routes[i].path, path) == 0)
            return &h->routes[i];
    return NULL;
}

/* Queue status with body (len bytes, malloc'ed or NULL; taken) and content_type. */
static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *type,
                             char *body, size_t len, int allow)
{
    struct MHD_Response *r;
    enum MHD_Result ok;

    if (!body)
        len = 0;
    r = MHD_create_response_from_buffer(len, body, body ? MHD_RESPMEM_MUST_FREE
                                                        : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, int status, const char *text,
                                  int allow)
{
    char *body = strdup(text);

    return reply(c, status, HTTPD_TEXT, body, body ? strlen(body) : 0, allow);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    const httpd *h = cls;
    const route *rt;
    httpd_reply r;
    char *body;
    size_t len;

    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", 1);
    if (!(rt = find_route(h, url)))
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n", 0);
    r.status = MHD_HTTP_OK;
    r.content_type = HTTPD_TEXT;
    strbuf_init(&r.body);
    if (rt->handler(rt->opaque, url, &r) < 0 || r.body.failed) {
        strbuf_release(&r.body);
        log_warn("http handler failed", "path=%s", url);
        return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n", 0);
    }
    body = strbuf_detach(&r.body, &len);
    return reply(c, r.status, r.content_type ? r.content_type : HTTPD_TEXT, body, len, 0);
}

static int copy_routes(httpd *h, const httpd_route *routes, size_t n, char *errstr,
                       size_t errstr_size)
{
    if (n && !(h->routes = calloc(n, sizeof *h->routes)))
        return errstr_fail(errstr, errstr_size, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *p = routes[i].path;
        if (!p || p[0] != '/' || !routes[i].handler)
            return errstr_fail(errstr, errstr_size, "route %zu: path '%s' must start with '/'"
                               " and have a handler", i, p ? p : "(null)");
        if (find_route(h, p))
            return errstr_fail(errstr, errstr_size, "path '%s' is given twice", p);
        if (!(h->routes[i].path = strdup(p)))
            return errstr_fail(errstr, errstr_size, "out of memory");
        h->routes[i].handler = routes[i].handler;
        h->routes[i].opaque = routes[i].opaque;
        h->nroutes = i + 1;
    }
    return 0;
}

httpd *httpd_start(const char *addr, const httpd_route *routes, size_t nroutes, char *errstr,
                   size_t errstr_size)
{
    httpd *h = calloc(1, sizeof *h);
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    int fd, v6 = 0;

    if (!h) {
        errstr_fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (copy_routes(h, routes, nroutes, errstr, errstr_size) < 0 ||
        (fd = listen_socket(addr, &v6, errstr, errstr_size)) < 0)
        goto fail;
    if (v6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                 MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTPD_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT_S,
                                 MHD_OPTION_END);
    if (!h->daemon) {
        close(fd);
        errstr_fail(errstr, errstr_size, "unable to start the HTTP server on '%s'", addr);
        goto fail;
    }
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    return h;
fail:
    httpd_stop(h);
    return NULL;
}

int httpd_port(const httpd *h)
{
    return h->port;
}

void httpd_stop(httpd *h)
{
    if (!h)
        return;
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    for (size_t i = 0; i < h->nroutes; i++)
        free(h->routes[i].path);
    free(h->routes);
    free(h);
}
