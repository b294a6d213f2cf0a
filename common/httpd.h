/* httpd: a small HTTP server over libmicrohttpd for a program's own pages: a table of
 * exact paths, each with a handler that writes the reply's status, content type and body
 * (e.g. the lag monitor's /metrics and status page, a service's /metrics, /healthz and
 * /readyz). GET and HEAD only; no TLS, no authentication: listen on an address only the
 * scraper and the operators reach.
 *
 * What a client gets:
 *  - a path in the table: the handler's status (200 unless it sets another), its content
 *    type (text/plain; charset=utf-8 unless it sets another) and its body; to HEAD the same
 *    headers without the body (libmicrohttpd leaves it out);
 *  - 500 and a one-line text when the handler returns -1 or its body ran out of memory;
 *  - 404 for any other path (the query string is not part of the path);
 *  - 405 with "Allow: GET, HEAD" for any other method;
 *  - every reply carries "Cache-Control: no-store".
 *
 * Threads: the server runs one thread of its own (libmicrohttpd's internal polling
 * thread); every handler runs on it, one request at a time, so a handler must not block
 * for long and must lock what it shares with the program's other threads. httpd_start and
 * httpd_stop are called from one thread, the program's main thread. */
#ifndef HTTPD_H
#define HTTPD_H

#include <stddef.h>

#include "strbuf.h"

#define HTTPD_TEXT "text/plain; charset=utf-8"
#define HTTPD_HTML "text/html; charset=utf-8"
#define HTTPD_JSON "application/json"

/* What a handler answers. The server sets status 200, content_type HTTPD_TEXT and an empty
 * body before the call. */
typedef struct httpd_reply {
    int status;               /* HTTP status code */
    const char *content_type; /* must outlive the call: a literal or a static string */
    strbuf body;              /* the handler appends the body; the server frees it */
} httpd_reply;

/* Fill *reply for a request of path. Returns 0, or -1 to answer 500 (what the body holds
 * then is dropped). Runs on the server's thread (see above). */
typedef int (*httpd_handler)(void *opaque, const char *path, httpd_reply *reply);

/* One row of the path table. */
typedef struct httpd_route {
    const char *path;         /* exact path, e.g. "/metrics"; copied by httpd_start */
    httpd_handler handler;
    void *opaque;             /* passed to the handler; must live until httpd_stop */
} httpd_route;

typedef struct httpd httpd;

/* Listen on addr ("HOST:PORT", "[IPv6]:PORT", or ":PORT" for every IPv4 address; port 0
 * takes a free one, see httpd_port) and serve the nroutes paths of routes (the table is
 * copied). Returns the running server, or NULL with errstr filled (an address that does
 * not parse or resolve, a port in use, a path given twice or not starting with '/', out of
 * memory). Stop it with httpd_stop. */
httpd *httpd_start(const char *addr, const httpd_route *routes, size_t nroutes, char *errstr,
                   size_t errstr_size);

/* The port the server listens on (the one chosen when 0 was asked). */
int httpd_port(const httpd *h);

/* Stop listening, wait for a running handler to return, close every connection and free
 * the server. Accepts NULL. */
void httpd_stop(httpd *h);

#endif
