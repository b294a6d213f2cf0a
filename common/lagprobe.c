/* lagprobe: one round of offsets, watermarks and message times from Kafka and PostgreSQL
 * (see lagprobe.h). */
#include "lagprobe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

#include "errstr.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"

/* The longest wait for the oldest unconsumed messages of one pass. librdkafka 2.0.2 starts
 * fetching a partition about a second after rd_kafka_consume_start, so a pass takes that
 * second whatever the broker's speed. */
#define MESSAGE_WAIT_MS 2500

struct lagprobe {
    const config *cfg;
    lagprobe_params p;
    char **groups;            /* copy of p.groups */
    rd_kafka_t *rk;           /* a consumer handle of no group: Admin API, watermarks, and
                                 the legacy per-partition consumer for message times */
    rd_kafka_queue_t *q;      /* the Admin API's results */
    PGconn *pg;
    int pg_failing;           /* the last PostgreSQL read failed (logged once) */
};

/* A partition whose oldest unconsumed message is wanted. */
typedef struct wanted_msg {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t ts_ms;            /* LAGWIN_TIME_NONE until read */
    int pass;                 /* the pass that reads it */
} wanted_msg;

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

lagprobe *lagprobe_new(const config *cfg, const lagprobe_params *p, char *errstr,
                       size_t errstr_size)
{
    /* Fetch one message's worth at a time: only the first message of a partition counts. */
    static const char *const defaults[] = {
        "client.id", "lag-monitor", "queued.min.messages", "1",
        "fetch.message.max.bytes", "65536", "fetch.wait.max.ms", "100",
        "auto.offset.reset", "earliest", "enable.auto.commit", "false", NULL};
    lagprobe *pr = calloc(1, sizeof *pr);
    rd_kafka_conf_t *conf = NULL;

    if (!pr)
        goto oom;
    pr->cfg = cfg;
    pr->p = *p;
    pr->p.groups = NULL;
    if (p->groups && p->ngroups) {
        if (!(pr->groups = calloc(p->ngroups, sizeof *pr->groups)))
            goto oom;
        for (size_t i = 0; i < p->ngroups; i++)
            if (!(pr->groups[i] = strdup(p->groups[i])))
                goto oom;
    } else {
        pr->p.ngroups = 0;
    }
    if (!(conf = kafka_conf_new(cfg, defaults, NULL, errstr, errstr_size)))
        goto fail;
    if (!(pr->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size)))
        goto fail;
    conf = NULL; /* owned by rk */
    if (!(pr->q = rd_kafka_queue_new(pr->rk)))
        goto oom;
    return pr;
oom:
    errstr_fail(errstr, errstr_size, "out of memory");
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    lagprobe_destroy(pr);
    return NULL;
}

void lagprobe_destroy(lagprobe *p)
{
    if (!p)
        return;
    if (p->q)
        rd_kafka_queue_destroy(p->q);
    if (p->rk)
        rd_kafka_destroy(p->rk);
    if (p->pg)
        PQfinish(p->pg);
    if (p->groups)
        for (size_t i = 0; i < p->p.ngroups; i++)
            free(p->groups[i]);
    free(p->groups);
    free(p);
}

static int wanted_group(const lagprobe *p, const char *group)
{
    if (!p->groups)
        return 1;
    for (size_t i = 0; i < p->p.ngroups; i++)
        if (strcmp(p->groups[i], group) == 0)
            return 1;
    return 0;
}

/* Admin options of op with the probe's timeout; NULL + errstr. */
static rd_kafka_AdminOptions_t *admin_options(lagprobe *p, rd_kafka_admin_op_t op,
                                              char *errstr, size_t errstr_size)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(p->rk, op);

    if (o && rd_kafka_AdminOptions_set_request_timeout(o, p->p.timeout_ms, errstr,
                                                       errstr_size) == 0)
        return o;
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    else
        errstr_fail(errstr, errstr_size, "out of memory");
    return NULL;
}

/* The next Admin API result of type want, or NULL + errstr (timeout, or the request's
 * error). A late answer of an earlier round or request (another type) is dropped. The
 * caller destroys the event. */
static rd_kafka_event_t *admin_result(lagprobe *p, rd_kafka_event_type_t want, const char *what,
                                      char *errstr, size_t errstr_size)
{
    int64_t deadline = mono_ms() + p->p.timeout_ms + 1000;
    rd_kafka_event_t *ev = NULL;

    while (!ev && mono_ms() < deadline) {
        ev = rd_kafka_queue_poll(p->q, (int)(deadline - mono_ms()));
        if (ev && rd_kafka_event_type(ev) != want) {
            rd_kafka_event_destroy(ev);
            ev = NULL;
        }
    }
    if (!ev) {
        errstr_fail(errstr, errstr_size, "%s: no answer within %d ms", what, p->p.timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        errstr_fail(errstr, errstr_size, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

/* Step 1a: the groups of every state into r. */
static int list_groups(lagprobe *p, lagmon_round *r, char *errstr, size_t errstr_size)
{
    rd_kafka_AdminOptions_t *o;
    rd_kafka_event_t *ev;
    const rd_kafka_ListConsumerGroups_result_t *res;
    const rd_kafka_ConsumerGroupListing_t **gl;
    const rd_kafka_error_t **errs;
    size_t n, nerr;
    int rc = 0;

    if (!(o = admin_options(p, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, errstr, errstr_size)))
        return -1;
    rd_kafka_ListConsumerGroups(p->rk, o, p->q);
    rd_kafka_AdminOptions_destroy(o);
    if (!(ev = admin_result(p, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT,
                            "listing the consumer groups", errstr, errstr_size)))
        return -1;
    res = rd_kafka_event_ListConsumerGroups_result(ev);
    errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    if (nerr) {
        /* The groups of a broker that did not answer would look deleted. */
        errstr_fail(errstr, errstr_size, "listing the consumer groups: %s",
                    rd_kafka_error_string(errs[0]));
        rd_kafka_event_destroy(ev);
        return -1;
    }
    gl = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *id = rd_kafka_ConsumerGroupListing_group_id(gl[i]);
        const char *st = rd_kafka_consumer_group_state_name(
            rd_kafka_ConsumerGroupListing_state(gl[i]));
        lagmon_group_obs *g;
        char *state;

        if (!wanted_group(p, id))
            continue;
        if (!(g = lagmon_round_group(r, id)) || !(state = strdup(st))) {
            rc = errstr_fail(errstr, errstr_size, "out of memory");
            break;
        }
        free(g->state);
        g->state = state;
        g->in_kafka = 1;
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

/* Step 1b: member counts and states of the listed groups; a failure only leaves them
 * unknown. */
static void describe_groups(lagprobe *p, lagmon_round *r)
{
    const char **ids = calloc(r->ngroups ? r->ngroups : 1, sizeof *ids);
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_ConsumerGroupDescription_t **d;
    char errstr[512];
    size_t n = 0;

    if (!ids)
        return;
    for (size_t i = 0; i < r->ngroups; i++)
        if (r->groups[i].in_kafka)
            ids[n++] = r->groups[i].group;
    if (!n || !(o = admin_options(p, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, errstr,
                                  sizeof errstr)))
        goto out;
    rd_kafka_DescribeConsumerGroups(p->rk, ids, n, o, p->q);
    if (!(ev = admin_result(p, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
                            "describing the consumer groups", errstr, sizeof errstr))) {
        log_warn("member counts unknown", "err=\"%s\"", errstr);
        goto out;
    }
    d = rd_kafka_DescribeConsumerGroups_result_groups(
        rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        lagmon_group_obs *g;
        if (rd_kafka_ConsumerGroupDescription_error(d[i]))
            continue;
        g = lagmon_round_group(r, rd_kafka_ConsumerGroupDescription_group_id(d[i]));
        if (g)
            g->members = (int)rd_kafka_ConsumerGroupDescription_member_count(d[i]);
    }
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    free(ids);
}

/* One ListConsumerGroupOffsets answer into r. */
static int take_offsets(lagmon_round *r, const rd_kafka_group_result_t *gr)
{
    const char *id = rd_kafka_group_result_name(gr);
    const rd_kafka_error_t *err = rd_kafka_group_result_error(gr);
    const rd_kafka_topic_partition_list_t *l = rd_kafka_group_result_partitions(gr);
    lagmon_group_obs *g = lagmon_round_group(r, id);

    if (!g)
        return -1;
    if (err) {
        log_warn("offsets of a group not listed", "group=%s err=\"%s\"", id,
                 rd_kafka_error_string(err));
        return 0;
    }
    g->offsets_read = 1;
    for (int i = 0; l && i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[i];
        lagmon_part_obs *o;
        if (tp->err || tp->offset < 0)
            continue;
        if (!(o = lagmon_round_part(r, id, tp->topic, tp->partition)))
            return -1;
        o->kafka_offset = tp->offset;
    }
    return 0;
}

/* Step 1c: the committed offsets of every listed group, one request each, all in flight
 * together. */
static int list_offsets(lagprobe *p, lagmon_round *r, char *errstr, size_t errstr_size)
{
    rd_kafka_AdminOptions_t *o;
    size_t sent = 0, ngroups = r->ngroups;
    int rc = 0;

    if (!(o = admin_options(p, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, errstr,
                            errstr_size)))
        return -1;
    for (size_t i = 0; i < ngroups; i++) {
        rd_kafka_ListConsumerGroupOffsets_t *req;
        if (!r->groups[i].in_kafka)
            continue;
        req = rd_kafka_ListConsumerGroupOffsets_new(r->groups[i].group, NULL);
        rd_kafka_ListConsumerGroupOffsets(p->rk, &req, 1, o, p->q);
        rd_kafka_ListConsumerGroupOffsets_destroy(req);
        sent++;
    }
    rd_kafka_AdminOptions_destroy(o);
    for (size_t i = 0; i < sent && rc == 0; i++) {
        rd_kafka_event_t *ev;
        const rd_kafka_group_result_t **grs;
        size_t n;

        if (!(ev = admin_result(p, RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
                                "listing committed offsets", errstr, errstr_size)))
            return -1;
        grs = rd_kafka_ListConsumerGroupOffsets_result_groups(
            rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
        for (size_t j = 0; j < n && rc == 0; j++)
            if (take_offsets(r, grs[j]) < 0)
                rc = errstr_fail(errstr, errstr_size, "out of memory");
        rd_kafka_event_destroy(ev);
    }
    return rc;
}

/* Step 2 on a connection; -1 + errstr. */
static int read_pg_rows(lagprobe *p, lagmon_round *r, char *errstr, size_t errstr_size)
{
    PGresult *res = pg_query(p->pg,
                             "SELECT group_id, topic, partition, next_offset,"
                             " (extract(epoch FROM updated_at) * 1000)::bigint"
                             " FROM consumer_offsets",
                             0, NULL, errstr, errstr_size);
    int rc = 0;

    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *group = PQgetvalue(res, i, 0);
        lagmon_part_obs *o;
        lagmon_group_obs *g;

        if (!wanted_group(p, group))
            continue;
        if (!(g = lagmon_round_group(r, group)) ||
            !(o = lagmon_round_part(r, group, PQgetvalue(res, i, 1),
                                    (int32_t)atoi(PQgetvalue(res, i, 2))))) {
            rc = errstr_fail(errstr, errstr_size, "out of memory");
            break;
        }
        o->pg_offset = strtoll(PQgetvalue(res, i, 3), NULL, 10);
        o->pg_commit_ms = strtoll(PQgetvalue(res, i, 4), NULL, 10);
    }
    PQclear(res);
    return rc;
}

/* Step 2: PostgreSQL's offsets; a failure is logged once until a read succeeds again. */
static void read_pg(lagprobe *p, lagmon_round *r)
{
    char errstr[512];

    if (!p->p.read_pg)
        return;
    if (p->pg && PQstatus(p->pg) != CONNECTION_OK) {
        PQfinish(p->pg);
        p->pg = NULL;
    }
    if ((p->pg || (p->pg = pg_connect_config(p->cfg, "lag-monitor", errstr, sizeof errstr))) &&
        read_pg_rows(p, r, errstr, sizeof errstr) == 0) {
        if (p->pg_failing)
            log_info("reading PostgreSQL's offsets again", "%s", "");
        p->pg_failing = 0;
        r->pg_read = 1;
        return;
    }
    if (!p->pg_failing)
        log_warn("PostgreSQL's offsets not read; going on with Kafka's", "err=\"%s\"", errstr);
    p->pg_failing = 1;
}

/* Step 3: every partition's high watermark, each topic-partition asked once. */
static int read_watermarks(lagprobe *p, lagmon_round *r, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < r->nparts; i++) {
        lagmon_part_obs *o = &r->parts[i];
        int64_t lo, hi;
        rd_kafka_resp_err_t err;
        size_t j;

        for (j = 0; j < i; j++)
            if (r->parts[j].partition == o->partition && !strcmp(r->parts[j].topic, o->topic))
                break;
        if (j < i) {
            o->high_watermark = r->parts[j].high_watermark;
            continue;
        }
        err = rd_kafka_query_watermark_offsets(p->rk, o->topic, o->partition, &lo, &hi,
                                               p->p.timeout_ms);
        if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
            err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
            err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
            log_debug("partition without watermark", "topic=%s partition=%d err=%s",
                      o->topic, (int)o->partition, rd_kafka_err2name(err));
            continue;
        }
        if (err)
            return errstr_fail(errstr, errstr_size, "watermarks of %s [%d]: %s", o->topic,
                               (int)o->partition, rd_kafka_err2str(err));
        o->high_watermark = hi;
    }
    return 0;
}

/* The lagging partitions to read, each (topic, partition, offset) once; a partition read at
 * several offsets (groups at different places) gets one pass per offset. */
static wanted_msg *messages_wanted(const lagmon_round *r, size_t *count, int *passes)
{
    wanted_msg *w = calloc(r->nparts ? r->nparts : 1, sizeof *w);
    size_t n = 0;

    *passes = 0;
    if (!w)
        return NULL;
    for (size_t i = 0; i < r->nparts; i++) {
        const lagmon_part_obs *o = &r->parts[i];
        int64_t off = lagmon_obs_offset(o);
        int pass = 0, dup = 0;

        if (off < 0 || off >= o->high_watermark)
            continue;
        for (size_t j = 0; j < n && !dup; j++) {
            if (w[j].partition != o->partition || strcmp(w[j].topic, o->topic))
                continue;
            dup = w[j].offset == off;
            if (w[j].pass >= pass)
                pass = w[j].pass + 1;
        }
        if (dup)
            continue;
        w[n++] = (wanted_msg){o->topic, o->partition, off, LAGWIN_TIME_NONE, pass};
        if (pass + 1 > *passes)
            *passes = pass + 1;
    }
    *count = n;
    return w;
}

static rd_kafka_topic_t *topic_handle(lagprobe *p, rd_kafka_topic_t **cache, size_t *ncache,
                                      const char *topic)
{
    rd_kafka_topic_t *t;

    for (size_t i = 0; i < *ncache; i++)
        if (strcmp(rd_kafka_topic_name(cache[i]), topic) == 0)
            return cache[i];
    if (!(t = rd_kafka_topic_new(p->rk, topic, NULL)))
        return NULL;
    cache[(*ncache)++] = t;
    return t;
}

/* One pass of step 4: start the pass's partitions on one queue, take the first message at
 * or after each offset, stop them. */
static void read_pass(lagprobe *p, wanted_msg *w, size_t n, int pass, rd_kafka_topic_t **cache,
                      size_t *ncache)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(p->rk);
    rd_kafka_topic_t **started = calloc(n, sizeof *started);
    size_t left = 0;
    int64_t deadline = mono_ms() + MESSAGE_WAIT_MS;

    if (!q || !started)
        goto out;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_topic_t *t;
        if (w[i].pass != pass || !(t = topic_handle(p, cache, ncache, w[i].topic)))
            continue;
        if (rd_kafka_consume_start_queue(t, w[i].partition, w[i].offset, q) == 0) {
            started[i] = t;
            left++;
        }
    }
    while (left && mono_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(q, 100);
        if (!m)
            continue;
        for (size_t i = 0; i < n && !m->err; i++) {
            if (!started[i] || w[i].ts_ms != LAGWIN_TIME_NONE ||
                w[i].partition != m->partition || m->offset < w[i].offset ||
                strcmp(w[i].topic, rd_kafka_topic_name(m->rkt)))
                continue;
            w[i].ts_ms = rd_kafka_message_timestamp(m, NULL);
            if (w[i].ts_ms < 0)
                w[i].ts_ms = LAGWIN_TIME_NONE;
            left--;
            break;
        }
        rd_kafka_message_destroy(m);
    }
    for (size_t i = 0; i < n; i++)
        if (started[i])
            rd_kafka_consume_stop(started[i], w[i].partition);
out:
    free(started);
    if (q)
        rd_kafka_queue_destroy(q);
}

/* Step 4: the timestamps of the oldest unconsumed messages into r. */
static void read_message_times(lagprobe *p, lagmon_round *r)
{
    size_t n = 0, ncache = 0;
    int passes = 0;
    wanted_msg *w = messages_wanted(r, &n, &passes);
    rd_kafka_topic_t **cache = calloc(n ? n : 1, sizeof *cache);

    for (int pass = 0; w && cache && pass < passes; pass++)
        read_pass(p, w, n, pass, cache, &ncache);
    for (size_t i = 0; w && cache && i < r->nparts; i++) {
        lagmon_part_obs *o = &r->parts[i];
        for (size_t j = 0; j < n; j++)
            if (w[j].partition == o->partition && w[j].offset == lagmon_obs_offset(o) &&
                strcmp(w[j].topic, o->topic) == 0)
                o->oldest_ts_ms = w[j].ts_ms;
    }
    for (size_t i = 0; i < ncache; i++)
        rd_kafka_topic_destroy(cache[i]);
    free(cache);
    free(w);
}

int lagprobe_collect(lagprobe *p, lagmon_round *out, char *errstr, size_t errstr_size)
{
    lagmon_round_init(out, wall_ms());
    rd_kafka_poll(p->rk, 0); /* the client's errors, logged */
    if (list_groups(p, out, errstr, errstr_size) < 0)
        return -1;
    describe_groups(p, out);
    if (list_offsets(p, out, errstr, errstr_size) < 0)
        return -1;
    read_pg(p, out);
    if (read_watermarks(p, out, errstr, errstr_size) < 0)
        return -1;
    if (p->p.message_age)
        read_message_times(p, out);
    return 0;
}
