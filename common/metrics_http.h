/* metrics_http: a service's monitoring endpoint, served by httpd (a thread of its own, one
 * request at a time):
 *  - GET /metrics: the Prometheus text format 0.0.4 (promtext.h): the service's families
 *    (its render callback), then service_ready (1 or 0, from its ready callback) and the
 *    process families process_start_time_seconds, process_cpu_seconds_total,
 *    process_resident_memory_bytes (as the Prometheus clients name them);
 *  - GET /healthz: 200 "ok" while the process serves (alive);
 *  - GET /readyz: 200 "ready", or 503 "not ready: REASON" when the ready callback says so;
 *  - another path: 404; a method other than GET or HEAD: 405 (httpd.h).
 * The callbacks run on the endpoint's thread, never two at once; they read the service's
 * state under the service's own locks. A program starts it with metrics_http_start_config
 * (options metrics.port and metrics.host, group PROGRAM_OPT_METRICS of program.h). */
#ifndef METRICS_HTTP_H
#define METRICS_HTTP_H

#include <stddef.h>

#include "config.h"
#include "promtext.h"

/* What the endpoint asks the service; copied by metrics_http_start. */
typedef struct metrics_http_handler {
    /* Write the service's families into p. 0, or -1 (the scrape gets a 500). May be NULL. */
    int (*render)(void *opaque, promtext *p);
    /* 1 when ready; 0 when not, with why in reason (size bytes). NULL: always ready. */
    int (*ready)(void *opaque, char *reason, size_t size);
    void *opaque;
} metrics_http_handler;

typedef struct metrics_http metrics_http;

/* Listen on host (a numeric IPv4 or IPv6 address) and port (0: a free port, see
 * metrics_http_port) and serve h on a new thread. NULL + errstr on failure (e.g. the port
 * is taken). Stop with metrics_http_stop. */
metrics_http *metrics_http_start(const char *host, int port, const metrics_http_handler *h,
                                 char *errstr, size_t errstr_size);

/* As metrics_http_start with cfg's metrics.host and metrics.port. 0 with *out NULL when
 * metrics.port is 0 (off), 0 with *out set when serving, -1 + errstr on failure. */
int metrics_http_start_config(const config *cfg, const metrics_http_handler *h,
                              metrics_http **out, char *errstr, size_t errstr_size);

/* The TCP port it listens on. */
int metrics_http_port(const metrics_http *m);

/* Stop serving (an answer being written is finished first) and free m. Accepts NULL. */
void metrics_http_stop(metrics_http *m);

/* The text GET /metrics serves for h, into p (reset first); for tests and tools. 0, or -1
 * + errstr. Any thread, as long as h's callbacks allow it. */
int metrics_http_render(const metrics_http_handler *h, promtext *p, char *errstr,
                        size_t errstr_size);

#endif
