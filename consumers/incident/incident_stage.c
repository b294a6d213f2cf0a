/* incident_stage: decode, re-validate and stage a batch of incident events. */
#include "incident_stage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dates.h"
#include "incident.h"
#include "pg.h"
#include "region.h"
#include "rounds.h"
#include "source_topic.h"

struct incident_stage {
    char base[128];          /* the configured topic: sources write "<base>.<source>" */
    codec *codec;
    incident inc;            /* decoding buffer */
    incident_pending *pend;
    int cap;
    rounds *rounds;
    pg_copybuf copy;
    int max_round;           /* of the prepared batch; -1 when not prepared */
    int rows;                /* rows of the prepared batch */
    long long staged;        /* rows staged since the tables were last truncated */
    long long truncate_rows; /* ... when the next batch truncates them */
};

/* The staging tables keep their rows past COMMIT and are emptied by DELETE before each
 * batch's COPY. ON COMMIT DELETE ROWS truncated them in every COMMIT, and a truncation is a
 * file operation: while a roster load kept the disk busy, incident COMMITs waited in
 * IO/DataFileTruncate more than on anything else (sampled pg_stat_activity). A DELETE
 * leaves dead rows that nothing vacuums in a temporary table, and the next DELETE reads
 * them all, so every truncate_rows staged rows (--staging.truncate.rows) a batch truncates
 * the tables instead. */
#define CREATE_STAGING \
    "CREATE TEMP TABLE IF NOT EXISTS stg_incident (" \
    " seq int PRIMARY KEY, round int NOT NULL, partition int NOT NULL," \
    " kafka_offset bigint NOT NULL, event_id uuid NOT NULL, source text NOT NULL," \
    " report_id text, nik char(16) NOT NULL, type text NOT NULL," \
    " occurred_at timestamptz NOT NULL, reported_at timestamptz NOT NULL," \
    " region_code text NOT NULL, circumstance text NOT NULL, cause text, severity text," \
    " description text, reporter_institution text NOT NULL, reporter_name text," \
    " reporter_phone text, local_date date NOT NULL, utc_offset_minutes int NOT NULL," \
    " topic text NOT NULL);" \
    "CREATE TEMP TABLE IF NOT EXISTS stg_incident_decision (" \
    " seq int PRIMARY KEY, round int NOT NULL, state text NOT NULL, outcome text," \
    " outcome_reason text, late_report boolean, program text, benefit text, status text," \
    " amount_idr bigint, assessment_required boolean, table_version text," \
    " monthly_wage bigint, documents text[], death boolean NOT NULL);"

/* Before a batch's COPY: the staging tables, empty (the rows of the last batch deleted, or
 * the tables truncated). */
static const char stage_deleted[] =
    CREATE_STAGING "DELETE FROM stg_incident; DELETE FROM stg_incident_decision";
static const char stage_truncated[] = CREATE_STAGING "TRUNCATE stg_incident, stg_incident_decision";

static const char copy_staging[] =
    "COPY stg_incident (seq, round, partition, kafka_offset, event_id, source, report_id, nik,"
    " type, occurred_at, reported_at, region_code, circumstance, cause, severity, description,"
    " reporter_institution, reporter_name, reporter_phone, local_date, utc_offset_minutes, topic)"
    " FROM STDIN";

incident_stage *incident_stage_new(const char *base_topic, long long truncate_rows, char *errstr,
                                   size_t n)
{
    incident_stage *st = calloc(1, sizeof *st);

    if (!st) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    snprintf(st->base, sizeof st->base, "%s", base_topic);
    st->truncate_rows = truncate_rows;
    pg_copybuf_init(&st->copy);
    st->max_round = -1;
    if (!(st->codec = codec_new(errstr, n)))
        goto fail;
    if (!(st->rounds = rounds_new())) {
        snprintf(errstr, n, "out of memory");
        goto fail;
    }
    return st;
fail:
    incident_stage_destroy(st);
    return NULL;
}

void incident_stage_destroy(incident_stage *st)
{
    if (!st)
        return;
    codec_destroy(st->codec);
    rounds_destroy(st->rounds);
    free(st->pend);
    pg_copybuf_release(&st->copy);
    free(st);
}

const incident_pending *incident_stage_pending(const incident_stage *st)
{
    return st->pend;
}

static int reserve(incident_stage *st, int count, char *errstr, size_t n)
{
    if (count > st->cap) {
        incident_pending *p = realloc(st->pend, (size_t)count * sizeof *p);
        if (!p) {
            snprintf(errstr, n, "out of memory");
            return -1;
        }
        st->pend = p;
        st->cap = count;
    }
    return rounds_reset(st->rounds, count, errstr, n);
}

static void copy_opt(pg_copybuf *b, const char *s, int present)
{
    pg_copybuf_str(b, present && s && *s ? s : NULL, 0);
}

static void copy_time(pg_copybuf *b, int64_t us)
{
    char ts[40];
    pg_copybuf_str(b, dates_format_timestamp(us, ts, sizeof ts), 0);
}

static void copy_date(pg_copybuf *b, int32_t day)
{
    char d[16];
    pg_copybuf_str(b, dates_format(day, d, sizeof d), 0);
}

static void stage_event(pg_copybuf *b, int idx, const consumer_msg *m, const incident *inc,
                        const incident_pending *p, int offset_minutes)
{
    const char *cause = (inc->fields & IF_CAUSE) ? incident_cause_name(inc->cause) : NULL;
    const char *severity = (inc->fields & IF_SEVERITY) ? incident_severity_name(inc->severity) : NULL;

    pg_copybuf_int(b, idx, 1);
    pg_copybuf_int(b, p->round, 0);
    pg_copybuf_int(b, m->partition, 0);
    pg_copybuf_int(b, m->offset, 0);
    pg_copybuf_str(b, inc->event_id, 0);
    pg_copybuf_str(b, inc->source, 0);
    copy_opt(b, inc->report_id, inc->fields & IF_REPORT_ID);
    pg_copybuf_str(b, inc->nik, 0);
    pg_copybuf_str(b, incident_type_name(inc->type), 0);
    copy_time(b, inc->occurred_at_us);
    copy_time(b, p->in.reported_at_us != TIME_NONE ? p->in.reported_at_us : p->in.now_us);
    pg_copybuf_str(b, inc->region_code, 0);
    pg_copybuf_str(b, incident_circumstance_name(inc->circumstance), 0);
    pg_copybuf_str(b, cause, 0);
    pg_copybuf_str(b, severity, 0);
    copy_opt(b, inc->description, inc->fields & IF_DESCRIPTION);
    pg_copybuf_str(b, incident_reporter_name(inc->reporter_institution), 0);
    copy_opt(b, inc->reporter_name, inc->fields & IF_REPORTER_NAME);
    copy_opt(b, inc->reporter_phone, inc->fields & IF_REPORTER_PHONE);
    copy_date(b, p->local_date);
    pg_copybuf_int(b, offset_minutes, 0);
    pg_copybuf_str(b, m->topic, 0);
    pg_copybuf_end_row(b);
}

static void report_text(const validate_report *report, char *msg, size_t size)
{
    size_t used = 0;

    msg[0] = '\0';
    for (int k = 0; k < report->count && used < size; k++) {
        if (report->items[k].warning)
            continue;
        used += (size_t)snprintf(msg + used, size - used, "%s%s: %s", used ? "; " : "",
                                 report->items[k].field, report->items[k].rule);
    }
}

/* Decode and check message i into st->pend[i]; its offset in *offset_minutes. 0 when it is
 * to be staged, -1 when it was rejected, CODEC_UNAVAILABLE (errstr filled) when the schema
 * registry could not be asked for its writer schema (the batch is to be retried). */
static int take(incident_stage *st, const consumer_msg *m, int i, int64_t now,
                consumer_rejects *rej, int *offset_minutes, char *errstr, size_t n)
{
    incident *inc = &st->inc;
    incident_pending *p = &st->pend[i];
    validate_report report;
    char msg[512];
    int decoded = codec_decode_incident(st->codec, m->value, m->value_len, inc, NULL, msg,
                                        sizeof msg);

    if (decoded == CODEC_UNAVAILABLE) {
        snprintf(errstr, n, "partition %d offset %lld: %s", (int)m->partition,
                 (long long)m->offset, msg);
        return CODEC_UNAVAILABLE;
    }
    if (decoded < 0) {
        consumer_reject(rej, i, "decode", NULL, NULL, "partition %d offset %lld: %s",
                        (int)m->partition, (long long)m->offset, msg);
        return -1;
    }
    if (incident_validate(inc, now, &report) > 0) {
        report_text(&report, msg, sizeof msg);
        consumer_reject(rej, i, "validation", inc->event_id, inc->nik, "%s", msg);
        return -1;
    }
    if (source_topic_check(m->topic, st->base, inc->source, msg, sizeof msg) < 0) {
        consumer_reject(rej, i, "auth", inc->event_id, inc->nik, "%s", msg);
        return -1;
    }
    if (region_local_date(inc->region_code, inc->occurred_at_us, &p->local_date,
                          offset_minutes, msg, sizeof msg) < 0) {
        consumer_reject(rej, i, "validation", inc->event_id, inc->nik, "region_code: %s", msg);
        return -1;
    }
    route_incident_from_record(inc, &p->in);
    memcpy(p->event_id, inc->event_id, sizeof p->event_id);
    memcpy(p->nik, inc->nik, sizeof p->nik);
    memcpy(p->source, inc->source, sizeof p->source);
    p->event_time_us = inc->event_time_us;
    return 0;
}

int incident_stage_prepare(incident_stage *st, const consumer_batch *batch,
                           consumer_rejects *rej, char *errstr, size_t n)
{
    int64_t now = dates_now_us();
    int max_round = 0;

    st->max_round = -1;
    st->rows = 0;
    if (reserve(st, batch->count, errstr, n) < 0)
        return -1;
    pg_copybuf_reset(&st->copy);
    for (int i = 0; i < batch->count; i++) {
        incident_pending *p = &st->pend[i];
        int offset;

        p->round = 0;
        int taken = take(st, &batch->msgs[i], i, now, rej, &offset, errstr, n);

        if (taken == CODEC_UNAVAILABLE)
            return -1;
        if (taken < 0)
            continue;
        p->round = rounds_assign(st->rounds, p->nik);
        if (p->round > max_round)
            max_round = p->round;
        stage_event(&st->copy, i, &batch->msgs[i], &st->inc, p, offset);
        st->rows++;
    }
    if (st->copy.failed) {
        snprintf(errstr, n, "out of memory");
        return -1;
    }
    return st->max_round = max_round;
}

int incident_stage_copy(incident_stage *st, PGconn *pg, char *errstr, size_t n)
{
    int max_round = st->max_round;

    st->max_round = -1;
    if (max_round < 0) {
        snprintf(errstr, n, "incident batch staged without being prepared");
        return -1;
    }
    if (!max_round)
        return 0;
    int truncate = st->staged >= st->truncate_rows;
    if (pg_stage(pg, truncate ? stage_truncated : stage_deleted, copy_staging, &st->copy, errstr, n) < 0)
        return -1;
    /* A truncation whose transaction is rolled back counts as done: the tables then hold
     * up to twice as many dead rows before the next. */
    st->staged = (truncate ? 0 : st->staged) + st->rows;
    return max_round;
}
