/* latency_probe: measures "incident reported -> claim visible" end to end, for the benchmark
 * (tests/bench/incident_latency.sh runs it while other load drains).
 *
 * Every interval.ms one probe starts: a new ACCIDENT / ON_DUTY / MINOR incident reported by
 * KPU for a worker the bench enrolled beforehand (each NIK of the niks file at most once, so
 * every probe is a new incident and opens a new claim). t0 is taken right before the produce
 * call to `incidents` (key NIK). Then, per probe:
 *   ack           the produce was acknowledged (acks=all), seen when the delivery report runs;
 *   pg            the claim row is visible in PostgreSQL: the main thread polls every poll.ms
 *                 incident_reports JOIN claims for the event ids of the probes in flight; the
 *                 time is taken when the answer arrives (an upper bound by one round trip);
 *   claims_topic  the ClaimEvent OPENED of that worker arrived on `claims`: a second thread
 *                 reads every partition from the end offsets queried before the first probe
 *                 (assign, no group membership, no commits) and stamps the arrival.
 * Probes overlap when the latency exceeds the interval (open loop: the schedule does not wait
 * for answers, so a slow pipeline cannot hide its latency by slowing the probe down); they
 * are told apart by event id (PostgreSQL) and NIK (Kafka), and the claim id seen on `claims`
 * must equal the one in PostgreSQL. A probe not seen in both places within timeout.ms times
 * out; one whose incident was recorded without a claim (NOT_COVERED, ...) fails at once.
 *
 * NIKs already named in `incidents` are skipped (a run before this one used them), so the
 * same file serves several runs until it is used up.
 *
 * Output (stdout): one line per metric,
 *   latency pg: n=200 p50_ms=85.2 p99_ms=410.7 max_ms=530.1
 * and "probes=N completed=N timeouts=N failed=N interrupted=N not_run=N" (the last two after
 * SIGINT/SIGTERM, which stops sending and reports at once). Percentiles are nearest-rank over the
 * sorted samples. --csv FILE writes one row per probe. Exit status: 0 every probe completed,
 * 1 a probe timed out or failed (or a run-time error), 2 usage. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "claim_event.h"
#include "codec.h"
#include "config.h"
#include "dates.h"
#include "incident.h"
#include "kafka.h"
#include "log.h"
#include "pg.h"
#include "program.h"
#include "region.h"
#include "schemareg.h"

static schemareg_subjects writes = {CODEC_INCIDENT_SUBJECT, NULL};

static const config_option options[] = {
    {"source", CONFIG_STR, "dc-sulsel", NULL, "data center id the probe incidents are sent as"},
    {"niks", CONFIG_STR, NULL, NULL,
     "file of probe workers, one 'nik' or 'nik,region_code' per line ('#' comments and a "
     "'nik,...' header skipped); each enrolled with JKK+JKM active on occurred-at (required)"},
    {"count", CONFIG_INT, "200", NULL, "number of probes"},
    {"interval.ms", CONFIG_INT, "100", NULL, "time between probe starts (probes may overlap)"},
    {"region", CONFIG_STR, "", NULL,
     "region_code of incidents whose line has none (default: desa 2001 of the NIK's kecamatan)"},
    {"occurred-at", CONFIG_STR, "2024-02-14T10:00:00+08:00", NULL,
     "occurred_at of every probe incident; must lie inside the probe workers' term"},
    {"timeout.ms", CONFIG_INT, "30000", NULL, "a probe not seen in both places by then times out"},
    {"poll.ms", CONFIG_INT, "2", NULL, "PostgreSQL poll period"},
    {"warmup.ms", CONFIG_INT, "1000", NULL,
     "wait after connecting, before the first probe (the claims consumer starts fetching)"},
    {"topic", CONFIG_STR, "incidents", NULL, "topic the incidents go to"},
    {"claims.topic", CONFIG_STR, "claims", NULL, "topic the claim events are read from"},
    {"csv", CONFIG_STR, NULL, NULL, "write per-probe latencies to this CSV file"},
    {NULL, 0, NULL, NULL, NULL},
};

static const program_def program = {
    "latency_probe",
    "usage: latency_probe --niks FILE [options]\n"
    "Reports incidents for enrolled probe workers at a fixed rate and measures how long\n"
    "each takes to become a claim in PostgreSQL and a ClaimEvent on the claims topic.\n"
    "Prints p50/p99/max per metric (nearest rank). Exit status: 0 all probes\n"
    "completed, 1 a probe timed out or failed, 2 usage.\n\noptions:\n",
    PROGRAM_OPT_KAFKA | PROGRAM_OPT_PG | PROGRAM_OPT_REGISTRY,
    options,
    0,
    0,
    writes,
};

typedef enum { P_IDLE, P_SENT, P_DONE, P_TIMED_OUT, P_FAILED } probe_state;
static const char *const state_names[] = {"not_sent", "sent", "ok", "timeout", "failed"};

/* One probe. kafka_ns and claim_kafka are written by the claims thread and read by the main
 * thread under probe_run.lock; everything else belongs to the main thread (the delivery
 * callback runs there too). Times are CLOCK_MONOTONIC nanoseconds, 0 = not yet. */
typedef struct probe {
    char nik[17];
    char region[11];
    char event_id[37];
    char claim_pg[41];
    char claim_kafka[41];
    int64_t wall_us;      /* wall clock at t0 */
    int64_t t0_ns, ack_ns, pg_ns, kafka_ns;
    probe_state state;
    char note[160];       /* why it failed */
} probe;

typedef struct probe_run {
    const config *cfg;
    probe *probes;
    size_t n;
    size_t *by_nik;       /* probe indexes sorted by NIK (fixed before the claims thread starts) */
    pthread_mutex_t lock;
    atomic_int stop;
    rd_kafka_t *consumer;
    long events_seen, events_undecodable;
    char thread_error[512];
} probe_run;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ms_between(int64_t from_ns, int64_t to_ns)
{
    return (double)(to_ns - from_ns) / 1e6;
}

/* End probe p in state st (P_FAILED or P_TIMED_OUT) with a reason, and log it. Main thread. */
static void probe_end(probe *p, probe_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void probe_end(probe *p, probe_state st, const char *fmt, ...)
{
    va_list ap;
    char masked[17];

    p->state = st;
    va_start(ap, fmt);
    vsnprintf(p->note, sizeof p->note, fmt, ap);
    va_end(ap);
    log_warn("probe failed", "nik=%s event_id=%s state=%s reason=\"%s\"",
             log_mask_nik(p->nik, masked, sizeof masked), p->event_id, state_names[st], p->note);
}

/* ---- the niks file ---- */

/* Read the probe workers: NIK and (optional) region per line. Lines without a region get
 * default_region, or desa 2001 of the NIK's kecamatan when that is empty. *out is malloc'd. */
static int read_niks(const char *path, const char *default_region, probe **out, size_t *count,
                     char *errstr, size_t n)
{
    FILE *f = fopen(path, "r");
    char line[512], plain[11], err[256];
    probe *v = NULL;
    size_t len = 0, cap = 0;
    int lineno = 0, rc = -1;

    if (!f) {
        snprintf(errstr, n, "unable to open '%s': %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *nik = line, *region, *end;
        const char *code;
        probe *p;

        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        while (*nik == ' ' || *nik == '\t')
            nik++;
        if (!*nik || *nik == '#' || strncasecmp(nik, "nik", 3) == 0)
            continue;
        if ((region = strchr(nik, ',')))
            *region++ = '\0';
        if ((end = strchr(region ? region : nik, ',')))
            *end = '\0';
        if (strlen(nik) != 16 || strspn(nik, "0123456789") != 16) {
            snprintf(errstr, n, "%s:%d: '%s' is not a 16-digit NIK", path, lineno, nik);
            goto out;
        }
        code = region && *region ? region : default_region;
        if (*code) {
            if (region_normalize(code, plain, sizeof plain, NULL, err, sizeof err) < 0) {
                snprintf(errstr, n, "%s:%d: region_code '%s': %s", path, lineno, code, err);
                goto out;
            }
        } else {
            snprintf(plain, sizeof plain, "%.6s2001", nik);
        }
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            probe *nv = realloc(v, ncap * sizeof *v);
            if (!nv) {
                snprintf(errstr, n, "out of memory");
                goto out;
            }
            v = nv;
            cap = ncap;
        }
        p = &v[len++];
        memset(p, 0, sizeof *p);
        memcpy(p->nik, nik, 17);
        memcpy(p->region, plain, sizeof p->region);
    }
    if (ferror(f)) {
        snprintf(errstr, n, "unable to read '%s': %s", path, strerror(errno));
        goto out;
    }
    *out = v;
    *count = len;
    v = NULL;
    rc = 0;
out:
    free(v);
    fclose(f);
    return rc;
}

/* Drop the workers that already have an incident (an earlier run used them) and keep at
 * most want of the rest, in file order. Returns the number dropped, or -1. */
static long drop_used(PGconn *pg, probe *v, size_t *count, size_t want, char *errstr, size_t n)
{
    size_t len = *count, kept = 0, used = 0;
    char *arr = malloc(len * 18 + 3), *seen = calloc(len ? len : 1, 1);
    PGresult *res = NULL;
    long dropped = -1;

    if (!arr || !seen) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    arr[used++] = '{';
    for (size_t i = 0; i < len; i++)
        used += (size_t)sprintf(arr + used, "%s%s", i ? "," : "", v[i].nik);
    arr[used++] = '}';
    arr[used] = '\0';
    const char *params[1] = {arr};
    if (!(res = pg_query(pg, "SELECT u.ord FROM unnest($1::char(16)[]) WITH ORDINALITY u (nik, ord)"
                             " WHERE EXISTS (SELECT 1 FROM incidents i WHERE i.nik = u.nik)",
                         1, params, errstr, n)))
        goto out;
    for (int r = 0; r < PQntuples(res); r++) {
        long ord = atol(PQgetvalue(res, r, 0));
        if (ord >= 1 && (size_t)ord <= len)
            seen[ord - 1] = 1;
    }
    dropped = 0;
    for (size_t i = 0; i < len; i++) {
        if (seen[i])
            dropped++;
        else if (kept < want)
            v[kept++] = v[i];
    }
    *count = kept;
out:
    PQclear(res);
    free(seen);
    free(arr);
    return dropped;
}

/* ---- the claims thread ---- */

static int cmp_nik(const void *a, const void *b, void *arg)
{
    const probe *v = arg;
    return strcmp(v[*(const size_t *)a].nik, v[*(const size_t *)b].nik);
}

static int cmp_key(const void *key, const void *elem, void *arg)
{
    const probe *v = arg;
    return strcmp(key, v[*(const size_t *)elem].nik);
}

/* The probe of nik, or NULL (binary search over by_nik). */
static probe *find_probe(probe_run *run, const char *nik)
{
    size_t lo = 0, hi = run->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(nik, &run->by_nik[mid], run->probes);
        if (c == 0)
            return &run->probes[run->by_nik[mid]];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* A consumer of every partition of the claims topic from its current end offset; the end
 * offsets are queried here, before any probe is sent, so no OPENED event can be missed. */
static rd_kafka_t *claims_consumer_new(const config *cfg, char *errstr, size_t n)
{
    static const char *const defaults[] = {
        "enable.auto.commit", "false", "enable.auto.offset.store", "false",
        "enable.partition.eof", "false", "fetch.wait.max.ms", "100", NULL};
    const char *topic = config_get(cfg, "claims.topic");
    char group[64];
    rd_kafka_conf_t *conf;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt = NULL;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t err;

    /* A group id nobody else uses; with assign() and no commits it never joins a group. */
    snprintf(group, sizeof group, "latency-probe-%ld-%lld", (long)getpid(),
             (long long)dates_now_us());
    if (!(conf = kafka_conf_new(cfg, defaults, group, errstr, n)))
        return NULL;
    if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, n))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    if (!(rkt = rd_kafka_topic_new(rk, topic, NULL))) {
        snprintf(errstr, n, "unable to use topic '%s'", topic);
        goto fail;
    }
    if ((err = rd_kafka_metadata(rk, 0, rkt, &md, 10000)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, n, "metadata of '%s': %s", topic, rd_kafka_err2str(err));
        goto fail;
    }
    if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
        snprintf(errstr, n, "topic '%s': %s", topic,
                 md->topic_cnt == 1 && md->topics[0].err ? rd_kafka_err2str(md->topics[0].err)
                                                         : "no partitions");
        goto fail;
    }
    parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t part = md->topics[0].partitions[i].id;
        int64_t low, high;
        if ((err = rd_kafka_query_watermark_offsets(rk, topic, part, &low, &high, 10000))) {
            snprintf(errstr, n, "end offset of %s [%d]: %s", topic, part, rd_kafka_err2str(err));
            goto fail;
        }
        rd_kafka_topic_partition_list_add(parts, topic, part)->offset = high;
    }
    if ((err = rd_kafka_assign(rk, parts))) {
        snprintf(errstr, n, "assign %s: %s", topic, rd_kafka_err2str(err));
        goto fail;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return rk;
fail:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return NULL;
}

/* Stamp the first arrival of an OPENED event for each probe's worker (settle() checks that
 * it came after the probe was sent and names the claim PostgreSQL shows). */
static void *claims_thread(void *arg)
{
    probe_run *run = arg;
    char errstr[512];
    codec *cd = codec_new(errstr, sizeof errstr);
    claim_event ev;

    if (!cd) {
        snprintf(run->thread_error, sizeof run->thread_error, "codec: %.490s", errstr);
        return NULL;
    }
    while (!atomic_load(&run->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(run->consumer, 20);
        int64_t now = mono_ns();
        probe *p;

        if (!m)
            continue;
        if (m->err) {
            log_warn("claims consumer error", "error=\"%s\"", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        run->events_seen++;
        if (codec_decode_claim_event(cd, m->payload, m->len, &ev, NULL, errstr,
                                     sizeof errstr) < 0) {
            if (run->events_undecodable++ == 0)
                log_warn("undecodable claim event", "partition=%d offset=%lld error=\"%s\"",
                         (int)m->partition, (long long)m->offset, errstr);
        } else if (ev.kind == CLAIM_EV_OPENED && (p = find_probe(run, ev.nik))) {
            pthread_mutex_lock(&run->lock);
            if (!p->kafka_ns) {
                p->kafka_ns = now;
                snprintf(p->claim_kafka, sizeof p->claim_kafka, "%s", ev.claim_id);
            }
            pthread_mutex_unlock(&run->lock);
        }
        rd_kafka_message_destroy(m);
    }
    codec_destroy(cd);
    return NULL;
}

/* ---- sending ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    probe *p = m->_private;

    (void)rk;
    (void)opaque;
    if (!p)
        return;
    if (m->err) {
        if (p->state == P_SENT) {
            probe_end(p, P_FAILED, "delivery: %s", rd_kafka_err2str(m->err));
        }
        return;
    }
    p->ack_ns = mono_ns();
}

/* A producer already connected to the brokers of topic, so the first probe does not measure
 * the connection set-up. */
static rd_kafka_t *producer_new(const config *cfg, const char *topic, char *errstr, size_t n)
{
    /* No linger and no Nagle: the probe measures the pipeline, not its own batching, nor a
     * delayed ACK (the publisher's reason, common/publisher.c). Not idempotent: the
     * first message would wait for a producer id, and a duplicate (same event id) is
     * de-duplicated by the consumer anyway. */
    static const char *const defaults[] = {"enable.idempotence", "false", "acks", "all",
                                           "linger.ms", "0",
                                           "socket.nagle.disable", "true", NULL};
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, NULL, errstr, n);
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err;

    if (!conf)
        return NULL;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, n))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (!(rkt = rd_kafka_topic_new(rk, topic, NULL))) {
        snprintf(errstr, n, "unable to use topic '%s'", topic);
        rd_kafka_destroy(rk);
        return NULL;
    }
    err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (err) {
        snprintf(errstr, n, "metadata of '%s': %s", topic, rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return NULL;
    }
    rd_kafka_metadata_destroy(md);
    return rk;
}

/* Build, encode and produce the incident of probe p; t0 is taken right before the produce
 * call. Returns 0, or -1 with errstr (the probe is then FAILED). */
static int probe_send(const config *cfg, rd_kafka_t *producer, codec *cd, probe *p,
                      int64_t occurred_us, long index, char *errstr, size_t n)
{
    incident inc;
    validate_report report;
    const void *val;
    size_t len;
    int64_t now_us = dates_now_us();
    rd_kafka_resp_err_t err;

    incident_init(&inc);
    snprintf(inc.source, sizeof inc.source, "%s", config_get(cfg, "source"));
    snprintf(inc.report_id, sizeof inc.report_id, "latency-probe-%ld-%ld", (long)getpid(), index);
    memcpy(inc.nik, p->nik, sizeof inc.nik);
    memcpy(inc.region_code, p->region, sizeof inc.region_code);
    inc.type = INCIDENT_ACCIDENT;
    inc.occurred_at_us = occurred_us;
    inc.reported_at_us = now_us;
    inc.event_time_us = now_us;
    inc.circumstance = CIRCUMSTANCE_ON_DUTY;
    inc.severity = SEVERITY_MINOR;
    inc.reporter_institution = REPORTER_KPU;
    snprintf(inc.reporter_name, sizeof inc.reporter_name, "latency-probe");
    inc.fields = IF_REPORT_ID | IF_REPORTED_AT | IF_SEVERITY | IF_REPORTER_NAME;
    incident_event_id(&inc);
    memcpy(p->event_id, inc.event_id, sizeof p->event_id);
    if (incident_validate(&inc, now_us, &report) > 0) {
        for (int i = 0; i < report.count; i++)
            if (!report.items[i].warning) {
                snprintf(errstr, n, "probe incident is invalid: %s: %s", report.items[i].field,
                         report.items[i].rule);
                break;
            }
        goto fail;
    }
    if (codec_encode_incident(cd, &inc, 0, &val, &len, errstr, n) < 0)
        goto fail;
    p->state = P_SENT;
    p->wall_us = dates_now_us();
    p->t0_ns = mono_ns();
    err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(config_get(cfg, "topic")),
                            RD_KAFKA_V_KEY(p->nik, strlen(p->nik)),
                            RD_KAFKA_V_VALUE((void *)val, len),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_OPAQUE(p), RD_KAFKA_V_END);
    if (err) {
        snprintf(errstr, n, "produce: %s", rd_kafka_err2str(err));
        goto fail;
    }
    rd_kafka_poll(producer, 0);
    return 0;
fail:
    probe_end(p, P_FAILED, "%s", errstr);
    return -1;
}

/* ---- watching PostgreSQL ---- */

static const char visible_sql[] =
    "SELECT r.event_id, i.outcome, coalesce(i.outcome_reason, ''), c.claim_id"
    " FROM incident_reports r JOIN incidents i USING (incident_id)"
    " LEFT JOIN claims c USING (incident_id)"
    " WHERE r.event_id = ANY ($1::uuid[])";

/* One poll for the probes in flight whose claim PostgreSQL has not shown yet. buf has room
 * for every event id. Returns 0 or -1 + errstr. */
static int poll_pg(PGconn *pg, probe_run *run, char *buf, char *errstr, size_t n)
{
    size_t used = 0;
    int any = 0;
    PGresult *res;
    int64_t now;

    buf[used++] = '{';
    for (size_t i = 0; i < run->n; i++) {
        const probe *p = &run->probes[i];
        if (p->state != P_SENT || p->pg_ns)
            continue;
        used += (size_t)sprintf(buf + used, "%s%s", any ? "," : "", p->event_id);
        any = 1;
    }
    if (!any)
        return 0;
    buf[used++] = '}';
    buf[used] = '\0';
    const char *params[1] = {buf};
    if (!(res = pg_query(pg, visible_sql, 1, params, errstr, n)))
        return -1;
    now = mono_ns();
    for (int r = 0; r < PQntuples(res); r++) {
        const char *id = PQgetvalue(res, r, 0);
        for (size_t i = 0; i < run->n; i++) {
            probe *p = &run->probes[i];
            if (p->state != P_SENT || p->pg_ns || strcasecmp(p->event_id, id) != 0)
                continue;
            if (PQgetisnull(res, r, 3)) {
                probe_end(p, P_FAILED, "incident recorded without a claim: %s %s",
                          PQgetvalue(res, r, 1), PQgetvalue(res, r, 2));
            } else {
                p->pg_ns = now;
                snprintf(p->claim_pg, sizeof p->claim_pg, "%s", PQgetvalue(res, r, 3));
            }
            break;
        }
    }
    PQclear(res);
    return 0;
}

/* Move probes that are seen in both places, or out of time, to their final state. Returns
 * the number of probes still in flight. */
static size_t settle(probe_run *run, int64_t timeout_ns)
{
    int64_t now = mono_ns();
    size_t open = 0;
    char masked[17];

    pthread_mutex_lock(&run->lock);
    for (size_t i = 0; i < run->n; i++) {
        probe *p = &run->probes[i];
        if (p->state != P_SENT)
            continue;
        if (p->kafka_ns && p->kafka_ns < p->t0_ns) {
            probe_end(p, P_FAILED, "an OPENED event for this NIK came before the probe was sent:"
                      " the NIK is in use elsewhere");
        } else if (p->pg_ns && p->kafka_ns) {
            if (strcasecmp(p->claim_pg, p->claim_kafka) != 0) {
                probe_end(p, P_FAILED, "claim %s in PostgreSQL, OPENED %s on claims",
                          p->claim_pg, p->claim_kafka);
            } else {
                p->state = P_DONE;
                log_debug("probe done", "probe=%zu nik=%s pg_ms=%.1f claims_topic_ms=%.1f", i,
                          log_mask_nik(p->nik, masked, sizeof masked),
                          ms_between(p->t0_ns, p->pg_ns),
                          ms_between(p->t0_ns, p->kafka_ns));
            }
        } else if (now - p->t0_ns > timeout_ns) {
            probe_end(p, P_TIMED_OUT, "not seen in %s within the timeout",
                      !p->pg_ns && !p->kafka_ns ? "PostgreSQL nor on claims"
                      : !p->pg_ns               ? "PostgreSQL"
                                                : "claims");
        } else {
            open++;
        }
    }
    pthread_mutex_unlock(&run->lock);
    return open;
}

/* ---- report ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted samples: the value at rank ceil(pct/100 * n), i.e. the
 * smallest sample with at least pct percent of the samples at or below it (integer
 * arithmetic, so p99 of 200 samples is the 198th). */
static double percentile(const double *sorted, size_t n, unsigned pct)
{
    size_t rank = (pct * n + 99) / 100;
    return sorted[rank ? rank - 1 : 0];
}

/* Print "latency NAME: n=.. p50_ms=.. p99_ms=.. max_ms=.." over the completed probes. which
 * selects the end time: 0 ack, 1 pg, 2 claims topic. */
static void print_metric(const probe_run *run, const char *name, int which)
{
    double *v = malloc((run->n ? run->n : 1) * sizeof *v);
    size_t k = 0;

    if (!v)
        return;
    for (size_t i = 0; i < run->n; i++) {
        const probe *p = &run->probes[i];
        int64_t end = which == 0 ? p->ack_ns : which == 1 ? p->pg_ns : p->kafka_ns;
        if (p->state == P_DONE && end)
            v[k++] = ms_between(p->t0_ns, end);
    }
    if (k == 0) {
        printf("latency %s: n=0\n", name);
    } else {
        qsort(v, k, sizeof *v, cmp_double);
        printf("latency %s: n=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", name, k,
               percentile(v, k, 50), percentile(v, k, 99), v[k - 1]);
    }
    free(v);
}

static int write_csv(const probe_run *run, const char *path, char *errstr, size_t n)
{
    FILE *f = fopen(path, "w");
    char masked[17], ts[40];

    if (!f) {
        snprintf(errstr, n, "unable to open '%s': %s", path, strerror(errno));
        return -1;
    }
    fputs("probe,nik,event_id,claim_id,sent_at,ack_ms,pg_ms,claims_topic_ms,status,note\n", f);
    for (size_t i = 0; i < run->n; i++) {
        const probe *p = &run->probes[i];
        fprintf(f, "%zu,%s,%s,%s,%s,", i, log_mask_nik(p->nik, masked, sizeof masked), p->event_id,
                p->claim_pg, p->t0_ns ? dates_format_timestamp(p->wall_us, ts, sizeof ts) : "");
        if (p->ack_ns)
            fprintf(f, "%.3f", ms_between(p->t0_ns, p->ack_ns));
        fputc(',', f);
        if (p->pg_ns)
            fprintf(f, "%.3f", ms_between(p->t0_ns, p->pg_ns));
        fputc(',', f);
        if (p->kafka_ns)
            fprintf(f, "%.3f", ms_between(p->t0_ns, p->kafka_ns));
        fprintf(f, ",%s,\"", state_names[p->state]);
        for (const char *c = p->note; *c; c++) {
            if (*c == '"')
                fputc('"', f);
            fputc(*c, f);
        }
        fputs("\"\n", f);
    }
    if (fclose(f) != 0) {
        snprintf(errstr, n, "unable to write '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- main ---- */

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
    if (ns > 0)
        nanosleep(&ts, NULL);
}

/* Send the probes on schedule and watch them until each is settled. Returns 0, or -1 +
 * errstr on a PostgreSQL failure. */
static int run_probes(probe_run *run, PGconn *pg, rd_kafka_t *producer, codec *cd,
                      int64_t occurred_us, char *errstr, size_t n)
{
    const int64_t interval = config_int(run->cfg, "interval.ms") * 1000000LL;
    const int64_t poll = config_int(run->cfg, "poll.ms") * 1000000LL;
    const int64_t timeout = config_int(run->cfg, "timeout.ms") * 1000000LL;
    char *ids = malloc(run->n * 38 + 3), err[512];
    size_t next = 0, open = 1;
    int64_t next_at = mono_ns();
    int rc = -1;

    if (!ids) {
        snprintf(errstr, n, "out of memory");
        return -1;
    }
    while (!program_stopping() && (next < run->n || open > 0)) {
        int64_t now = mono_ns();
        if (next < run->n && now >= next_at) {
            if (probe_send(run->cfg, producer, cd, &run->probes[next], occurred_us, (long)next, err,
                           sizeof err) < 0)
                log_warn("probe not sent", "probe=%zu error=\"%s\"", next, err);
            next++;
            next_at += interval;
            if (next_at < now)
                next_at = now;
        }
        rd_kafka_poll(producer, 0);
        if (poll_pg(pg, run, ids, errstr, n) < 0)
            goto out;
        open = settle(run, timeout);
        if (run->thread_error[0]) {
            snprintf(errstr, n, "%s", run->thread_error);
            goto out;
        }
        now = mono_ns();
        int64_t wait = poll;
        if (next < run->n && next_at - now < wait)
            wait = next_at - now;
        sleep_ns(wait);
    }
    rc = 0;
out:
    free(ids);
    return rc;
}

int main(int argc, char **argv)
{
    char errstr[1024];
    probe_run run = {0};
    PGconn *pg = NULL;
    rd_kafka_t *producer = NULL;
    codec *cd = NULL;
    pthread_t thread;
    int thread_started = 0, rest = 0, rc = 2;
    int64_t occurred_us;
    size_t timeouts = 0, failed = 0, done = 0, in_flight = 0, unsent = 0;
    long dropped;
    config *cfg = program_start(&program, argc, argv, &rest, &rc);

    pthread_mutex_init(&run.lock, NULL);
    if (!cfg)
        goto out;
    rc = 2;
    run.cfg = cfg;
    if (!config_get(cfg, "niks") || config_int(cfg, "count") < 1 ||
        config_int(cfg, "interval.ms") < 0 || config_int(cfg, "timeout.ms") < 1 ||
        config_int(cfg, "poll.ms") < 1 || config_int(cfg, "warmup.ms") < 0) {
        fprintf(stderr, "latency_probe: --niks is required; count, timeout.ms and poll.ms must be"
                        " >= 1, interval.ms and warmup.ms >= 0 (see --help)\n");
        goto out;
    }
    if (dates_parse_timestamp(config_get(cfg, "occurred-at"), &occurred_us) < 0) {
        fprintf(stderr, "latency_probe: --occurred-at '%s' is not a timestamp with offset\n",
                config_get(cfg, "occurred-at"));
        goto out;
    }
    rc = 1;
    if (read_niks(config_get(cfg, "niks"), config_get(cfg, "region"), &run.probes, &run.n, errstr,
                  sizeof errstr) < 0) {
        fprintf(stderr, "latency_probe: %s\n", errstr);
        goto out;
    }
    if (!(pg = pg_connect_config(cfg, "latency_probe", errstr, sizeof errstr)) ||
        (dropped = drop_used(pg, run.probes, &run.n, (size_t)config_int(cfg, "count"), errstr,
                             sizeof errstr)) < 0) {
        fprintf(stderr, "latency_probe: %s\n", errstr);
        goto out;
    }
    if (run.n == 0) {
        fprintf(stderr,
                "latency_probe: no unused NIK left in '%s' (%ld already have an incident)\n",
                config_get(cfg, "niks"), dropped);
        goto out;
    }
    if (run.n < (size_t)config_int(cfg, "count"))
        log_warn("fewer probe workers than probes", "niks=%s unused=%zu count=%lld used_before=%ld",
                 config_get(cfg, "niks"), run.n, config_int(cfg, "count"), dropped);
    if (!(run.by_nik = malloc(run.n * sizeof *run.by_nik))) {
        fprintf(stderr, "latency_probe: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < run.n; i++)
        run.by_nik[i] = i;
    qsort_r(run.by_nik, run.n, sizeof *run.by_nik, cmp_nik, run.probes);
    for (size_t i = 1; i < run.n; i++)
        if (strcmp(run.probes[run.by_nik[i]].nik, run.probes[run.by_nik[i - 1]].nik) == 0) {
            fprintf(stderr, "latency_probe: NIK %s is listed twice\n",
                    run.probes[run.by_nik[i]].nik);
            goto out;
        }
    if (!(cd = codec_new(errstr, sizeof errstr)) ||
        !(producer = producer_new(cfg, config_get(cfg, "topic"), errstr, sizeof errstr)) ||
        !(run.consumer = claims_consumer_new(cfg, errstr, sizeof errstr))) {
        fprintf(stderr, "latency_probe: %s\n", errstr);
        goto out;
    }
    if (pthread_create(&thread, NULL, claims_thread, &run) != 0) {
        fprintf(stderr, "latency_probe: unable to start the claims thread\n");
        goto out;
    }
    thread_started = 1;
    sleep_ns(config_int(cfg, "warmup.ms") * 1000000LL);
    if (run_probes(&run, pg, producer, cd, occurred_us, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "latency_probe: %s\n", errstr);
        goto out;
    }
    atomic_store(&run.stop, 1);
    pthread_join(thread, NULL);
    thread_started = 0;
    for (size_t i = 0; i < run.n; i++) {
        switch (run.probes[i].state) {
        case P_DONE: done++; break;
        case P_TIMED_OUT: timeouts++; break;
        case P_FAILED: failed++; break;
        case P_SENT: in_flight++; break;
        case P_IDLE: unsent++; break;
        }
    }
    print_metric(&run, "produce_ack", 0);
    print_metric(&run, "pg", 1);
    print_metric(&run, "claims_topic", 2);
    printf("probes=%zu completed=%zu timeouts=%zu failed=%zu interrupted=%zu not_run=%zu\n", run.n,
           done, timeouts, failed, in_flight, unsent);
    fflush(stdout);
    rc = done == run.n ? 0 : 1;
    if (config_get(cfg, "csv") &&
        write_csv(&run, config_get(cfg, "csv"), errstr, sizeof errstr) < 0) {
        fprintf(stderr, "latency_probe: %s\n", errstr);
        rc = 1;
    }
out:
    if (thread_started) {
        atomic_store(&run.stop, 1);
        pthread_join(thread, NULL);
    }
    if (run.consumer) {
        rd_kafka_consumer_close(run.consumer);
        rd_kafka_destroy(run.consumer);
    }
    if (producer) {
        rd_kafka_flush(producer, 5000);
        rd_kafka_destroy(producer);
    }
    codec_destroy(cd);
    if (pg)
        PQfinish(pg);
    free(run.by_nik);
    free(run.probes);
    pthread_mutex_destroy(&run.lock);
    config_destroy(cfg);
    return rc;
}
