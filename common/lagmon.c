/* lagmon: windows per group and partition, history, and the snapshots the views render
 * (see lagmon.h for the rules M1-M7). */
#include "lagmon.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"

#define ALIGN 16

const double lagmon_poll_bounds[LAGMON_POLL_BUCKETS] = {0.01, 0.05, 0.1, 0.5, 1, 5, 10};

/* --- rounds ---------------------------------------------------------------------- */

void lagmon_round_init(lagmon_round *r, int64_t time_ms)
{
    memset(r, 0, sizeof *r);
    r->time_ms = time_ms;
}

void lagmon_round_release(lagmon_round *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->ngroups; i++) {
        free(r->groups[i].group);
        free(r->groups[i].state);
    }
    for (size_t i = 0; i < r->nparts; i++) {
        free(r->parts[i].group);
        free(r->parts[i].topic);
    }
    free(r->groups);
    free(r->parts);
    lagmon_round_init(r, r->time_ms);
}

/* Room for one more of n elements of size in *arr (capacity *cap); 0 or -1. */
static int grow(void *arr, size_t n, size_t *cap, size_t size)
{
    void **a = arr, *p;
    size_t c;

    if (n < *cap)
        return 0;
    c = *cap ? 2 * *cap : 16;
    if (!(p = realloc(*a, c * size)))
        return -1;
    *a = p;
    *cap = c;
    return 0;
}

lagmon_group_obs *lagmon_round_group(lagmon_round *r, const char *group)
{
    lagmon_group_obs *g;

    for (size_t i = 0; i < r->ngroups; i++)
        if (strcmp(r->groups[i].group, group) == 0)
            return &r->groups[i];
    if (grow(&r->groups, r->ngroups, &r->gcap, sizeof *r->groups) < 0)
        return NULL;
    g = &r->groups[r->ngroups];
    memset(g, 0, sizeof *g);
    g->members = -1;
    g->group = strdup(group);
    g->state = strdup("");
    if (!g->group || !g->state) {
        free(g->group);
        free(g->state);
        return NULL;
    }
    r->ngroups++;
    return g;
}

lagmon_part_obs *lagmon_round_part(lagmon_round *r, const char *group, const char *topic,
                                   int32_t partition)
{
    lagmon_part_obs *p;

    for (size_t i = 0; i < r->nparts; i++) {
        p = &r->parts[i];
        if (p->partition == partition && strcmp(p->topic, topic) == 0 &&
            strcmp(p->group, group) == 0)
            return p;
    }
    if (grow(&r->parts, r->nparts, &r->pcap, sizeof *r->parts) < 0)
        return NULL;
    p = &r->parts[r->nparts];
    *p = (lagmon_part_obs){NULL, NULL, partition, LAGWIN_OFFSET_NONE, LAGWIN_OFFSET_NONE,
                           LAGWIN_TIME_NONE, -1, LAGWIN_TIME_NONE};
    p->group = strdup(group);
    p->topic = strdup(topic);
    if (!p->group || !p->topic) {
        free(p->group);
        free(p->topic);
        return NULL;
    }
    r->nparts++;
    return p;
}

int64_t lagmon_obs_offset(const lagmon_part_obs *o)
{
    return o->pg_offset >= 0 ? o->pg_offset : o->kafka_offset;
}

/* --- state ------------------------------------------------------------------------ */

typedef struct hpoint {
    int64_t time_ms;
    double lag, seconds;
} hpoint;

typedef struct pstate {
    char *topic;
    int32_t partition;
    lagwin *w;
    int64_t kafka_offset, pg_offset, oldest_ts_ms;
    int source;               /* SRC_*: whose offsets the window holds */
    int seen, fresh, disagree;
    lagwin_result r;
} pstate;

enum { SRC_NONE, SRC_KAFKA, SRC_PG };

typedef struct gstate {
    char *group, *state;
    int members, in_kafka, requested, found, offsets_read, status, disagree;
    pstate **parts;
    size_t nparts, pcap;
    hpoint *hist;
    size_t nhist, hcap;
    lagwin_group g;
} gstate;

/* A published snapshot: the public part first, one allocation for everything. */
typedef struct snap {
    lagmon_snapshot s;
    atomic_int refs;
} snap;

struct lagmon {
    lagmon_params p;
    char **wanted;            /* copy of p.groups */
    gstate **groups;
    size_t ngroups, gcap;
    int64_t last_ms;
    uint64_t rounds;
    int pg_read;
    uint64_t polls, failures, counts[LAGMON_POLL_BUCKETS + 1];
    double poll_seconds;
    char last_error[256];
    pthread_mutex_t lock;     /* guards current */
    snap *current;
};

static void pstate_free(pstate *p)
{
    if (!p)
        return;
    lagwin_destroy(p->w);
    free(p->topic);
    free(p);
}

static void gstate_clear_parts(gstate *g)
{
    for (size_t i = 0; i < g->nparts; i++)
        pstate_free(g->parts[i]);
    g->nparts = 0;
}

static void gstate_free(gstate *g)
{
    if (!g)
        return;
    gstate_clear_parts(g);
    free(g->parts);
    free(g->hist);
    free(g->group);
    free(g->state);
    free(g);
}

static int wanted(const lagmon *m, const char *group)
{
    if (!m->wanted)
        return 1;
    for (size_t i = 0; i < m->p.ngroups; i++)
        if (strcmp(m->wanted[i], group) == 0)
            return 1;
    return 0;
}

static gstate *find_group(const lagmon *m, const char *group)
{
    for (size_t i = 0; i < m->ngroups; i++)
        if (strcmp(m->groups[i]->group, group) == 0)
            return m->groups[i];
    return NULL;
}

static gstate *add_group(lagmon *m, const char *group)
{
    gstate *g;

    if (grow(&m->groups, m->ngroups, &m->gcap, sizeof *m->groups) < 0 ||
        !(g = calloc(1, sizeof *g)))
        return NULL;
    g->group = strdup(group);
    g->state = strdup("");
    if (!g->group || !g->state) {
        gstate_free(g);
        return NULL;
    }
    g->members = -1;
    g->status = LAGWIN_NOTFOUND;
    g->g.status = g->g.worst = LAGWIN_OK;
    g->g.max_lag_index = -1;
    g->g.max_lag_seconds = NAN;
    m->groups[m->ngroups++] = g;
    return g;
}

static gstate *group_of(lagmon *m, const char *group)
{
    gstate *g = find_group(m, group);

    return g ? g : add_group(m, group);
}

static pstate *part_of(const lagmon *m, gstate *g, const char *topic, int32_t partition)
{
    pstate *p;

    for (size_t i = 0; i < g->nparts; i++)
        if (g->parts[i]->partition == partition && strcmp(g->parts[i]->topic, topic) == 0)
            return g->parts[i];
    if (grow(&g->parts, g->nparts, &g->pcap, sizeof *g->parts) < 0 ||
        !(p = calloc(1, sizeof *p)))
        return NULL;
    p->partition = partition;
    p->kafka_offset = p->pg_offset = LAGWIN_OFFSET_NONE;
    p->oldest_ts_ms = LAGWIN_TIME_NONE;
    p->topic = strdup(topic);
    p->w = lagwin_new(&m->p.window, NULL, 0);
    if (!p->topic || !p->w) {
        pstate_free(p);
        return NULL;
    }
    lagwin_eval(p->w, 0, LAGWIN_TIME_NONE, &p->r);
    g->parts[g->nparts++] = p;
    return p;
}

static int publish(lagmon *m);

lagmon *lagmon_new(const lagmon_params *p, char *errstr, size_t errstr_size)
{
    lagmon *m;
    lagwin *probe;

    if (!(probe = lagwin_new(&p->window, errstr, errstr_size)))
        return NULL;
    lagwin_destroy(probe);
    if (p->history_ms < 0 || p->batch_max < 0) {
        errstr_fail(errstr, errstr_size, "history %lld ms or batch_max %lld is negative",
                    (long long)p->history_ms, (long long)p->batch_max);
        return NULL;
    }
    if (!(m = calloc(1, sizeof *m)))
        goto oom;
    m->p = *p;
    if (!m->p.history_ms)
        m->p.history_ms = SVGCHART_HOUR_MS;
    pthread_mutex_init(&m->lock, NULL);
    if (p->groups && p->ngroups) {
        if (!(m->wanted = calloc(p->ngroups, sizeof *m->wanted)))
            goto oom;
        for (size_t i = 0; i < p->ngroups; i++) {
            gstate *g;
            if (!(m->wanted[i] = strdup(p->groups[i])) || !(g = group_of(m, p->groups[i])))
                goto oom;
            g->requested = 1;
        }
    } else {
        m->p.ngroups = 0;
    }
    m->p.groups = NULL;
    if (publish(m) < 0)
        goto oom;
    return m;
oom:
    lagmon_destroy(m);
    errstr_fail(errstr, errstr_size, "out of memory");
    return NULL;
}

static void snap_release(snap *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        free(s);
}

void lagmon_destroy(lagmon *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ngroups; i++)
        gstate_free(m->groups[i]);
    free(m->groups);
    if (m->wanted)
        for (size_t i = 0; i < m->p.ngroups; i++)
            free(m->wanted[i]);
    free(m->wanted);
    snap_release(m->current);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* --- one round ---------------------------------------------------------------------- */

/* M1-M3 for one observed partition. */
static int observe(lagmon *m, const lagmon_round *r, pstate *p, const lagmon_part_obs *o,
                   char *errstr, size_t errstr_size)
{
    int source = o->pg_offset >= 0 ? SRC_PG : SRC_KAFKA;
    lagwin_sample s;

    p->seen = 1;
    p->fresh = 0;
    p->kafka_offset = o->kafka_offset;
    if (r->pg_read || p->source != SRC_PG)
        p->pg_offset = o->pg_offset;
    p->disagree = lagwin_offsets_disagree(p->kafka_offset, p->pg_offset, m->p.batch_max);
    if (o->high_watermark < 0 || (p->source == SRC_PG && !r->pg_read))
        return 0;
    if (p->source != SRC_NONE && p->source != source) {
        /* A window of one source's offsets cannot take the other's. */
        lagwin *w = lagwin_new(&m->p.window, errstr, errstr_size);
        if (!w)
            return -1;
        lagwin_destroy(p->w);
        p->w = w;
    }
    p->source = source;
    s.time_ms = r->time_ms;
    s.offset = lagmon_obs_offset(o);
    s.high_watermark = o->high_watermark;
    s.commit_ms = source == SRC_PG ? o->pg_commit_ms : LAGWIN_TIME_NONE;
    if (lagwin_add(p->w, &s, errstr, errstr_size) < 0)
        return errstr_prefix(errstr, errstr_size, "%s [%d]: ", p->topic, (int)p->partition);
    p->oldest_ts_ms = o->oldest_ts_ms;
    p->fresh = 1;
    return 0;
}

static int apply_round(lagmon *m, const lagmon_round *r, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < r->ngroups; i++) {
        const lagmon_group_obs *o = &r->groups[i];
        gstate *g;
        char *state;

        if (!wanted(m, o->group))
            continue;
        if (!(g = group_of(m, o->group)) || !(state = strdup(o->state)))
            return errstr_fail(errstr, errstr_size, "out of memory");
        free(g->state);
        g->state = state;
        g->members = o->members;
        g->in_kafka = o->in_kafka;
        g->offsets_read = o->offsets_read;
        g->found = 1;
    }
    for (size_t i = 0; i < r->nparts; i++) {
        const lagmon_part_obs *o = &r->parts[i];
        gstate *g;
        pstate *p;

        if (!wanted(m, o->group))
            continue;
        if (!(g = group_of(m, o->group)) || !(p = part_of(m, g, o->topic, o->partition)))
            return errstr_fail(errstr, errstr_size, "out of memory");
        g->found = 1;
        if (observe(m, r, p, o, errstr, errstr_size) < 0)
            return errstr_prefix(errstr, errstr_size, "group %s: ", g->group);
    }
    return 0;
}

/* M4: drop the partitions the round did not list. */
static void drop_unseen_parts(gstate *g, int pg_read)
{
    size_t k = 0;

    for (size_t i = 0; i < g->nparts; i++) {
        pstate *p = g->parts[i];
        int keep = p->seen || (p->source == SRC_PG ? !pg_read : !g->offsets_read);
        if (keep)
            g->parts[k++] = p;
        else
            pstate_free(p);
    }
    g->nparts = k;
}

/* M5: 1 when a group the round did not find goes. */
static int group_goes(gstate *g, int pg_read)
{
    int pg_only = !g->in_kafka && g->nparts > 0;

    for (size_t i = 0; i < g->nparts && pg_only; i++)
        pg_only = g->parts[i]->source == SRC_PG;
    if (pg_only && !pg_read) {
        g->found = 1;
        return 0;
    }
    if (g->requested) {
        gstate_clear_parts(g);
        free(g->state);
        g->state = strdup("");
        g->members = -1;
        g->in_kafka = 0;
        return 0;
    }
    return 1;
}

static void sweep(lagmon *m, int pg_read)
{
    size_t k = 0;

    for (size_t i = 0; i < m->ngroups; i++) {
        gstate *g = m->groups[i];
        if (g->found)
            drop_unseen_parts(g, pg_read);
        if (!g->found && group_goes(g, pg_read))
            gstate_free(g);
        else
            m->groups[k++] = g;
    }
    m->ngroups = k;
}

static int history_add(gstate *g, int64_t now_ms, int64_t reach_ms)
{
    size_t old = 0;

    while (old < g->nhist && g->hist[old].time_ms < now_ms - reach_ms)
        old++;
    if (old) {
        memmove(g->hist, g->hist + old, (g->nhist - old) * sizeof *g->hist);
        g->nhist -= old;
    }
    if (grow(&g->hist, g->nhist, &g->hcap, sizeof *g->hist) < 0)
        return -1;
    g->hist[g->nhist++] = (hpoint){now_ms, (double)g->g.total_lag, g->g.max_lag_seconds};
    return 0;
}

static int by_part(const void *a, const void *b)
{
    const pstate *x = *(pstate *const *)a, *y = *(pstate *const *)b;
    int c = strcmp(x->topic, y->topic);

    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static int by_group(const void *a, const void *b)
{
    return strcmp((*(gstate *const *)a)->group, (*(gstate *const *)b)->group);
}

/* M6, M7 for every group at now_ms. */
static int evaluate(lagmon *m, int64_t now_ms)
{
    lagwin_result *res = NULL;
    size_t cap = 0;
    int rc = 0;

    if (m->ngroups)
        qsort(m->groups, m->ngroups, sizeof *m->groups, by_group);
    for (size_t i = 0; i < m->ngroups && rc == 0; i++) {
        gstate *g = m->groups[i];

        if (g->nparts)
            qsort(g->parts, g->nparts, sizeof *g->parts, by_part);
        if (g->nparts > cap) {
            lagwin_result *n = realloc(res, g->nparts * sizeof *res);
            if (!n) {
                rc = -1;
                break;
            }
            res = n;
            cap = g->nparts;
        }
        g->disagree = 0;
        for (size_t j = 0; j < g->nparts; j++) {
            pstate *p = g->parts[j];
            lagwin_eval(p->w, now_ms, p->oldest_ts_ms, &p->r);
            res[j] = p->r;
            g->disagree += p->disagree;
        }
        lagwin_group_eval(res, (int)g->nparts, &g->g);
        g->status = g->found ? g->g.status : LAGWIN_NOTFOUND;
        if (g->found)
            rc = history_add(g, now_ms, m->p.history_ms);
    }
    free(res);
    return rc;
}

/* --- snapshots ---------------------------------------------------------------------- */

static size_t aligned(size_t n)
{
    return (n + ALIGN - 1) / ALIGN * ALIGN;
}

/* A bump allocator over one block sized beforehand. */
typedef struct arena {
    char *base;
    size_t used;
} arena;

static void *take(arena *a, size_t n)
{
    void *p = a->base + a->used;

    a->used += aligned(n);
    return p;
}

static const char *take_str(arena *a, const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(take(a, n), s, n);
}

static size_t snapshot_size(const lagmon *m)
{
    size_t n = aligned(sizeof(snap)) + aligned(m->ngroups * sizeof(lagmon_group)) +
               aligned(strlen(m->last_error) + 1);

    for (size_t i = 0; i < m->ngroups; i++) {
        const gstate *g = m->groups[i];
        n += aligned(strlen(g->group) + 1) + aligned(strlen(g->state) + 1);
        n += aligned(g->nparts * sizeof(lagmon_part));
        n += 2 * aligned(g->nhist * sizeof(svgchart_point));
        for (size_t j = 0; j < g->nparts; j++)
            n += aligned(strlen(g->parts[j]->topic) + 1);
    }
    return n;
}

static void fill_group(arena *a, const gstate *g, lagmon_group *out)
{
    lagmon_part *parts = take(a, g->nparts * sizeof *parts);
    svgchart_point *lag = take(a, g->nhist * sizeof *lag);
    svgchart_point *secs = take(a, g->nhist * sizeof *secs);

    for (size_t j = 0; j < g->nparts; j++) {
        const pstate *p = g->parts[j];
        parts[j] = (lagmon_part){take_str(a, p->topic), p->partition, p->kafka_offset,
                                 p->pg_offset, p->disagree, p->fresh, p->r};
    }
    for (size_t j = 0; j < g->nhist; j++) {
        lag[j] = (svgchart_point){g->hist[j].time_ms, g->hist[j].lag};
        secs[j] = (svgchart_point){g->hist[j].time_ms, g->hist[j].seconds};
    }
    *out = (lagmon_group){.group = take_str(a, g->group), .state = take_str(a, g->state),
                          .members = g->members, .in_kafka = g->in_kafka, .status = g->status,
                          .g = g->g, .disagree = g->disagree, .parts = parts,
                          .nparts = g->nparts, .lag_history = lag, .seconds_history = secs,
                          .nhistory = g->nhist};
    for (size_t j = 0; j < g->nparts; j++)
        out->in_pg |= g->parts[j]->pg_offset >= 0;
}

/* Build a snapshot of the state and make it current; -1 when out of memory. */
static int publish(lagmon *m)
{
    size_t size = snapshot_size(m);
    arena a = {calloc(1, size), 0};
    snap *s, *old;
    lagmon_group *groups;

    if (!a.base)
        return -1;
    s = take(&a, sizeof *s);
    groups = take(&a, m->ngroups * sizeof *groups);
    for (size_t i = 0; i < m->ngroups; i++)
        fill_group(&a, m->groups[i], &groups[i]);
    s->s = (lagmon_snapshot){.time_ms = m->rounds ? m->last_ms : 0, .rounds = m->rounds,
                             .pg_read = m->pg_read, .window = m->p.window,
                             .history_ms = m->p.history_ms, .batch_max = m->p.batch_max,
                             .groups = groups, .ngroups = m->ngroups, .polls = m->polls,
                             .poll_failures = m->failures, .poll_seconds = m->poll_seconds,
                             .last_error = take_str(&a, m->last_error)};
    memcpy(s->s.poll_counts, m->counts, sizeof m->counts);
    atomic_init(&s->refs, 1);
    pthread_mutex_lock(&m->lock);
    old = m->current;
    m->current = s;
    pthread_mutex_unlock(&m->lock);
    snap_release(old);
    return 0;
}

int lagmon_update(lagmon *m, const lagmon_round *r, char *errstr, size_t errstr_size)
{
    if (m->rounds && r->time_ms <= m->last_ms)
        return errstr_fail(errstr, errstr_size, "round at %lld ms is not after the previous "
                           "one at %lld ms", (long long)r->time_ms, (long long)m->last_ms);
    for (size_t i = 0; i < m->ngroups; i++) {
        gstate *g = m->groups[i];
        g->found = g->offsets_read = 0;
        for (size_t j = 0; j < g->nparts; j++)
            g->parts[j]->seen = g->parts[j]->fresh = 0;
    }
    /* A failure part way leaves some windows fed; the next round is still later, so the
     * state stays consistent, only this round's evaluation is not published. */
    if (apply_round(m, r, errstr, errstr_size) < 0)
        return -1;
    sweep(m, r->pg_read);
    m->last_ms = r->time_ms;
    m->rounds++;
    m->pg_read = r->pg_read;
    if (evaluate(m, r->time_ms) < 0 || publish(m) < 0)
        return errstr_fail(errstr, errstr_size, "out of memory");
    return 0;
}

void lagmon_record_poll(lagmon *m, int ok, double seconds, const char *error)
{
    size_t b = 0;

    while (b < LAGMON_POLL_BUCKETS && seconds > lagmon_poll_bounds[b])
        b++;
    m->polls++;
    m->failures += !ok;
    m->counts[b]++;
    m->poll_seconds += seconds;
    snprintf(m->last_error, sizeof m->last_error, "%s", ok || !error ? "" : error);
    publish(m);
}

const lagmon_snapshot *lagmon_snapshot_get(lagmon *m)
{
    snap *s;

    pthread_mutex_lock(&m->lock);
    s = m->current;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&m->lock);
    return &s->s;
}

void lagmon_snapshot_release(const lagmon_snapshot *s)
{
    /* The public part is the first member of the allocation. */
    snap_release((snap *)(void *)s);
}

const lagmon_group *lagmon_snapshot_group(const lagmon_snapshot *s, const char *group)
{
    for (size_t i = 0; i < s->ngroups; i++)
        if (strcmp(s->groups[i].group, group) == 0)
            return &s->groups[i];
    return NULL;
}
