/* lagwin: a partition's commit window, recent watermarks and lookup table, evaluated
 * with Burrow's rules and kafka-lag-exporter's interpolation (see lagwin.h). */
#include "lagwin.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"

#define LAGWIN_MAX_SIZE 100000

/* Slots of a fixed-capacity ring: head is the oldest, count how many are held. */
typedef struct ring {
    int head, count, cap;
} ring;

/* A point of the lookup table: the watermark seen at a time. */
typedef struct point {
    int64_t time_ms;
    int64_t offset;
} point;

struct lagwin {
    lagwin_params p;
    ring cr, rr, tr;          /* commits, recent watermarks, lookup table */
    lagwin_commit *commits;
    int64_t *recent;
    point *points;
    int64_t last_time_ms;     /* latest sample; LAGWIN_TIME_NONE before any */
    int64_t last_commit_ms;   /* commit_ms behind the newest commit, or NONE */
    int64_t hwm;              /* latest watermark; -1 before any */
};

static const char *const status_names[LAGWIN_STATUS__COUNT] = {
    "NOTFOUND", "OK", "WARN", "ERR", "STOP", "STALL", "REWIND",
};

static const char *const method_names[LAGWIN_SECONDS__COUNT] = {
    "UNKNOWN", "ZERO", "INTERPOLATED", "EXTRAPOLATED", "MESSAGE_AGE",
};

/* The slot of the i-th oldest entry (i may be count - 1: the newest). */
static int ring_slot(const ring *r, int i)
{
    return (r->head + i) % r->cap;
}

/* The slot for a new newest entry, evicting the oldest when full. */
static int ring_push(ring *r)
{
    if (r->count == r->cap) {
        r->head = (r->head + 1) % r->cap;
        r->count--;
    }
    r->count++;
    return ring_slot(r, r->count - 1);
}

static const lagwin_commit *commit_at(const lagwin *w, int i)
{
    return &w->commits[ring_slot(&w->cr, i)];
}

static const point *point_at(const lagwin *w, int i)
{
    return &w->points[ring_slot(&w->tr, i)];
}

lagwin_params lagwin_params_default(void)
{
    return (lagwin_params){.intervals = 10, .lookup_size = 60};
}

static int check_params(const lagwin_params *p, char *errstr, size_t n)
{
    if (p->intervals < 1 || p->intervals > LAGWIN_MAX_SIZE)
        return errstr_fail(errstr, n, "intervals %d is not in 1..%d", p->intervals,
                           LAGWIN_MAX_SIZE);
    if (p->lookup_size < 2 || p->lookup_size > LAGWIN_MAX_SIZE)
        return errstr_fail(errstr, n, "lookup_size %d is not in 2..%d", p->lookup_size,
                           LAGWIN_MAX_SIZE);
    if (p->min_distance_ms < 0 || p->stop_floor_ms < 0)
        return errstr_fail(errstr, n, "min_distance_ms %" PRId64 " or stop_floor_ms %" PRId64
                           " is negative", p->min_distance_ms, p->stop_floor_ms);
    if (!(p->min_complete >= 0.0 && p->min_complete <= 1.0))
        return errstr_fail(errstr, n, "min_complete %g is not in 0..1", p->min_complete);
    return 0;
}

lagwin *lagwin_new(const lagwin_params *p, char *errstr, size_t errstr_size)
{
    lagwin *w;

    if (check_params(p, errstr, errstr_size) < 0)
        return NULL;
    w = calloc(1, sizeof *w);
    if (!w)
        goto oom;
    w->p = *p;
    w->cr.cap = w->rr.cap = p->intervals;
    w->tr.cap = p->lookup_size;
    w->commits = calloc((size_t)p->intervals, sizeof *w->commits);
    w->recent = calloc((size_t)p->intervals, sizeof *w->recent);
    w->points = calloc((size_t)p->lookup_size, sizeof *w->points);
    if (!w->commits || !w->recent || !w->points)
        goto oom;
    w->last_time_ms = LAGWIN_TIME_NONE;
    w->last_commit_ms = LAGWIN_TIME_NONE;
    w->hwm = -1;
    return w;
oom:
    lagwin_destroy(w);
    errstr_fail(errstr, errstr_size, "out of memory");
    return NULL;
}

void lagwin_destroy(lagwin *w)
{
    if (!w)
        return;
    free(w->commits);
    free(w->recent);
    free(w->points);
    free(w);
}

/* W2: kafka-lag-exporter's Table.addPoint. */
static void add_point(lagwin *w, int64_t time_ms, int64_t offset)
{
    int n = w->tr.count;
    point *newest = n ? &w->points[ring_slot(&w->tr, n - 1)] : NULL;

    if (newest && (newest->time_ms >= time_ms || newest->offset > offset))
        return;
    if (n > 1 && newest->offset == offset && point_at(w, n - 2)->offset == offset) {
        newest->time_ms = time_ms;
        return;
    }
    w->points[ring_push(&w->tr)] = (point){time_ms, offset};
}

/* W3: whether the sample carries a commit the window has not seen. */
static int is_new_commit(const lagwin *w, const lagwin_sample *s)
{
    const lagwin_commit *newest;

    if (s->offset == LAGWIN_OFFSET_NONE)
        return 0;
    if (w->cr.count == 0)
        return 1;
    newest = commit_at(w, w->cr.count - 1);
    if (s->commit_ms == LAGWIN_TIME_NONE)
        return s->offset != newest->offset;
    if (w->last_commit_ms == LAGWIN_TIME_NONE)
        return 1;
    return s->commit_ms > w->last_commit_ms ||
           (s->commit_ms == w->last_commit_ms && s->offset != newest->offset);
}

/* W3, W4: append or merge the sample's commit. */
static void add_commit(lagwin *w, const lagwin_sample *s)
{
    lagwin_commit c;
    lagwin_commit *newest = NULL;

    c.offset = s->offset;
    c.time_ms = s->commit_ms != LAGWIN_TIME_NONE ? s->commit_ms : s->time_ms;
    c.lag = s->high_watermark > s->offset ? s->high_watermark - s->offset : 0;
    w->last_commit_ms = s->commit_ms;
    if (w->cr.count)
        newest = &w->commits[ring_slot(&w->cr, w->cr.count - 1)];
    if (newest && c.time_ms - newest->time_ms < w->p.min_distance_ms) {
        newest->offset = c.offset;
        newest->lag = c.lag;
        return;
    }
    w->commits[ring_push(&w->cr)] = c;
}

int lagwin_add(lagwin *w, const lagwin_sample *s, char *errstr, size_t errstr_size)
{
    if (w->last_time_ms != LAGWIN_TIME_NONE && s->time_ms <= w->last_time_ms)
        return errstr_fail(errstr, errstr_size, "sample at %" PRId64 " ms is not after the "
                           "previous one at %" PRId64 " ms", s->time_ms, w->last_time_ms);
    if (s->high_watermark < 0)
        return errstr_fail(errstr, errstr_size, "high watermark %" PRId64 " is negative",
                           s->high_watermark);
    if (s->offset < LAGWIN_OFFSET_NONE)
        return errstr_fail(errstr, errstr_size, "committed offset %" PRId64 " is below -1",
                           s->offset);
    w->last_time_ms = s->time_ms;
    w->hwm = s->high_watermark;
    w->recent[ring_push(&w->rr)] = s->high_watermark;
    add_point(w, s->time_ms, s->high_watermark);
    if (is_new_commit(w, s))
        add_commit(w, s);
    return 0;
}

/* Rule 1's test: no commit in the window has lag 0. */
static int lag_always_not_zero(const lagwin *w)
{
    for (int i = 0; i < w->cr.count; i++)
        if (commit_at(w, i)->lag == 0)
            return 0;
    return 1;
}

static int offsets_rewind(const lagwin *w)
{
    for (int i = 1; i < w->cr.count; i++)
        if (commit_at(w, i)->offset < commit_at(w, i - 1)->offset)
            return 1;
    return 0;
}

static int offsets_stalled(const lagwin *w)
{
    for (int i = 1; i < w->cr.count; i++)
        if (commit_at(w, i)->offset != commit_at(w, i - 1)->offset)
            return 0;
    return 1;
}

static int lag_not_decreasing(const lagwin *w)
{
    for (int i = 1; i < w->cr.count; i++)
        if (commit_at(w, i)->lag < commit_at(w, i - 1)->lag)
            return 0;
    return 1;
}

/* S2's timestamps: silent for longer than the window spans (and the floor). */
static int offsets_stopped(const lagwin *w, int64_t now_ms)
{
    int64_t first = commit_at(w, 0)->time_ms;
    int64_t last = commit_at(w, w->cr.count - 1)->time_ms;

    return now_ms - last > last - first && now_ms - last > w->p.stop_floor_ms;
}

/* S2's exemption: a recent watermark the newest commit had reached. */
static int recent_lag_zero(const lagwin *w)
{
    int64_t last = commit_at(w, w->cr.count - 1)->offset;

    for (int i = 0; i < w->rr.count; i++)
        if (w->recent[ring_slot(&w->rr, i)] <= last)
            return 1;
    return 0;
}

/* S1-S7 for a non-empty window with the current lag. */
static int partition_status(const lagwin *w, int64_t now_ms, int64_t lag)
{
    if (lag == 0)
        return LAGWIN_OK;
    if (offsets_stopped(w, now_ms) && !recent_lag_zero(w))
        return LAGWIN_STOP;
    if (!lag_always_not_zero(w))
        return LAGWIN_OK;
    if (offsets_rewind(w))
        return LAGWIN_REWIND;
    if (offsets_stalled(w))
        return LAGWIN_STALL;
    if (lag_not_decreasing(w))
        return LAGWIN_WARN;
    return LAGWIN_OK;
}

/* The time at which the line through a and b reaches offset. */
static double line_time(const point *a, const point *b, int64_t offset)
{
    double dx = (double)(b->time_ms - a->time_ms);
    double dy = (double)(b->offset - a->offset);

    if (dy == 0)
        return (double)a->time_ms;
    return (double)b->time_ms - (double)(b->offset - offset) * dx / dy;
}

/* T5: when the watermark reached offset; returns INTERPOLATED or EXTRAPOLATED. */
static int offset_time(const lagwin *w, int64_t offset, double *time_ms)
{
    for (int i = w->tr.count - 1; i > 0; i--) {
        const point *l = point_at(w, i - 1), *r = point_at(w, i);
        if (offset >= l->offset && offset <= r->offset) {
            *time_ms = line_time(l, r, offset);
            return LAGWIN_SECONDS_INTERPOLATED;
        }
    }
    *time_ms = line_time(point_at(w, 0), point_at(w, w->tr.count - 1), offset);
    return LAGWIN_SECONDS_EXTRAPOLATED;
}

static double seconds_since(int64_t now_ms, double time_ms)
{
    double s = ((double)now_ms - time_ms) / 1000.0;

    return s > 0 ? s : 0.0;
}

/* T1-T6 into out->lag_seconds and out->seconds_method. */
static void lag_seconds(const lagwin *w, int64_t now_ms, int64_t oldest_ts_ms,
                        lagwin_result *out)
{
    double t;

    out->lag_seconds = NAN;
    out->seconds_method = LAGWIN_SECONDS_UNKNOWN;
    if (out->ncommits == 0)
        return;
    if (out->lag == 0 ||
        (w->tr.count && out->offset >= point_at(w, w->tr.count - 1)->offset)) {
        out->lag_seconds = 0.0;
        out->seconds_method = LAGWIN_SECONDS_ZERO;
    } else if (oldest_ts_ms != LAGWIN_TIME_NONE) {
        out->lag_seconds = seconds_since(now_ms, (double)oldest_ts_ms);
        out->seconds_method = LAGWIN_SECONDS_MESSAGE_AGE;
    } else if (w->tr.count >= 2) {
        out->seconds_method = offset_time(w, out->offset, &t);
        out->lag_seconds = seconds_since(now_ms, t);
    }
}

void lagwin_eval(const lagwin *w, int64_t now_ms, int64_t oldest_ts_ms, lagwin_result *out)
{
    memset(out, 0, sizeof *out);
    out->status = LAGWIN_OK;
    out->offset = LAGWIN_OFFSET_NONE;
    out->high_watermark = w->hwm;
    out->lag = -1;
    out->ncommits = w->cr.count;
    out->complete = (double)w->cr.count / w->p.intervals;
    if (w->cr.count) {
        out->start = *commit_at(w, 0);
        out->end = *commit_at(w, w->cr.count - 1);
        out->offset = out->end.offset;
        out->lag = w->hwm > out->offset ? w->hwm - out->offset : 0;
        if (out->complete >= w->p.min_complete)
            out->status = partition_status(w, now_ms, out->lag);
    }
    lag_seconds(w, now_ms, oldest_ts_ms, out);
}

int lagwin_commits(const lagwin *w, lagwin_commit *out, int max)
{
    int n = w->cr.count < max ? w->cr.count : max;

    for (int i = 0; i < n; i++)
        out[i] = *commit_at(w, i);
    return n < 0 ? 0 : n;
}

void lagwin_group_eval(const lagwin_result *parts, int n, lagwin_group *out)
{
    int full = 0;

    out->status = out->worst = LAGWIN_OK;
    out->total_lag = 0;
    out->max_lag_index = -1;
    out->max_lag_seconds = NAN;
    for (int i = 0; i < n; i++) {
        const lagwin_result *r = &parts[i];
        if (r->status > out->worst)
            out->worst = r->status;
        if (r->lag >= 0) {
            out->total_lag += r->lag;
            if (out->max_lag_index < 0 || r->lag > parts[out->max_lag_index].lag)
                out->max_lag_index = i;
        }
        if (!isnan(r->lag_seconds) &&
            (isnan(out->max_lag_seconds) || r->lag_seconds > out->max_lag_seconds))
            out->max_lag_seconds = r->lag_seconds;
        full += r->complete >= 1.0;
    }
    out->status = out->worst > LAGWIN_ERR ? LAGWIN_ERR : out->worst;
    out->complete = n > 0 ? (double)full / n : 0.0;
}

int lagwin_offsets_disagree(int64_t kafka_offset, int64_t pg_offset, int64_t batch_max)
{
    int64_t d;

    if (kafka_offset < 0 || pg_offset < 0)
        return 0;
    d = kafka_offset > pg_offset ? kafka_offset - pg_offset : pg_offset - kafka_offset;
    return d > batch_max;
}

const char *lagwin_status_name(int status)
{
    return status >= 0 && status < LAGWIN_STATUS__COUNT ? status_names[status] : NULL;
}

int lagwin_status_parse(const char *name)
{
    for (int i = 0; i < LAGWIN_STATUS__COUNT; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

const char *lagwin_seconds_method_name(int method)
{
    return method >= 0 && method < LAGWIN_SECONDS__COUNT ? method_names[method] : NULL;
}

int lagwin_seconds_method_parse(const char *name)
{
    for (int i = 0; i < LAGWIN_SECONDS__COUNT; i++)
        if (strcmp(name, method_names[i]) == 0)
            return i;
    return -1;
}
