/* roster_apply: decode, re-validate, stage with COPY and merge a batch of roster events.
 * Prepare decodes and checks; apply decodes the accepted events again (the codec's direct
 * pass, about a third of a microsecond each) and makes their COPY rows while they are sent,
 * so a batch waiting for its worker holds no COPY data beside its messages. The rows are in
 * COPY's binary format: the server parses no dates, UUIDs or arrays. */
#include "roster_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dates.h"
#include "log.h"
#include "pg.h"
#include "roster.h"
#include "roster_budget.h"
#include "rounds.h"
#include "source_topic.h"
#include "validate.h"

struct roster_apply {
    char base[128];        /* the configured topic: sources write "<base>.<source>" */
    codec *codec;
    roster_change rec;     /* the decoding buffer */
    struct roster_ids {    /* what a rejection names, by batch index (also the rounds' keys) */
        char event_id[37];
        char nik[17];
        char source[33];   /* and what consumer_applied takes */
        int64_t event_time_us;
    } *ids;
    int *round;            /* 0 = rejected before staging (or, after apply, there), else 1.. */
    int cap;
    int max_round;           /* of the prepared batch; -1 when not prepared */
    rounds *rounds;
    pg_copybuf piece;        /* COPY rows, a piece at a time */
    const consumer_batch *staging; /* the batch being staged, and the next event to stage */
    int next;
};

static const char create_staging[] =
    "CREATE TEMP TABLE IF NOT EXISTS stg_roster ("
    " seq int PRIMARY KEY, round int NOT NULL, partition int NOT NULL,"
    " kafka_offset bigint NOT NULL, event_id uuid NOT NULL, source text NOT NULL,"
    " change text NOT NULL, nik char(16) NOT NULL,"
    " full_name text, birth_date date, gender char(1), institution text, role text,"
    " region_code text, tps smallint, term_start date, term_end date, effective_date date,"
    " monthly_wage bigint, programs text[], agreement_id text, kpj char(11), phone text,"
    " reject text, topic text NOT NULL, known bool NOT NULL DEFAULT false,"
    " recorded bool NOT NULL DEFAULT false) ON COMMIT DELETE ROWS";

static const char copy_staging[] =
    "COPY stg_roster (seq, round, partition, kafka_offset, event_id, source, change, nik,"
    " full_name, birth_date, gender, institution, role, region_code, tps, term_start,"
    " term_end, effective_date, monthly_wage, programs, agreement_id, kpj, phone, topic)"
    " FROM STDIN (FORMAT binary)";
#define STAGING_COLUMNS 24 /* of copy_staging, each row's in stage_record */

/* The merge of one round. $1 = round. Order matters: duplicates first, then
 * the rules (each rejection names the rule), then the changes, then the record of events.
 * The budget rule (roster_budget.c) runs after the first MERGE_RULES statements. */
static const char *const merge_round[] = {
    /* Every statement reads a few rows per staged event, so each lookup of a hot table
     * must be an index probe driven by the staging rows, whatever the planner believes of
     * the tables' sizes: they may have been analysed empty, or by autovacuum while a load
     * was in flight (0 rows in thousands of pages), and the staging table may have
     * statistics or none. So no lookup is a join the planner could turn around: a worker,
     * agreement or decided event is found in a subquery per staged event (LATERAL or
     * EXISTS, OFFSET 0 keeps it one), and the rows an UPDATE changes are matched by
     * `nik = ANY (ARRAY[s.nik])`, which can drive an index probe but not a merge or hash
     * join. Left to the estimates, a "0-row" workers or coverages was scanned once per
     * staged event while it filled up: minutes for one batch. Sequential scans are off for
     * the rest of the transaction (the staging table still gets one: it has no other
     * path), and JIT too: the disabled scans' costs would have it compile every statement,
     * which takes longer than running it. */
    "SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)",

    /* The duplicates, then the rules, in one pass. An event already decided (applied or
     * rejected) is a re-delivery: DUP, nothing to do. One that covadm is replaying
     * (REPLAYING) is decided again (deploy/sql/008_replay). Both are `recorded`: their
     * record is left (DUP) or updated (REPLAYING), not inserted. An enrolment of a NIK
     * that has a worker row is `known`: that row is updated, the others are inserted.
     * Only the rows so marked, and the rejected ones, are written here: on a first load,
     * hardly any. MATERIALIZED: each rule is evaluated once per event, not again in the
     * filter. A NIK with no worker row has no coverage (deploy/sql/009), so only a known
     * NIK's enrolment looks for an overlapping term: most of a first load's NIKs are new. */
    "WITH x AS MATERIALIZED ("
    " SELECT s.seq, s.change, w.nik IS NOT NULL AS known, d.outcome AS decided, CASE"
    "  WHEN d.outcome IN ('APPLIED', 'REJECTED') THEN 'DUP'"
    "  WHEN s.change <> 'ENROLL' AND w.nik IS NULL THEN"
    "   'unknown_worker: ' || s.change || ' of a NIK that was never enrolled'"
    "  WHEN w.deceased_on IS NOT NULL"
    "    AND coalesce(s.effective_date, s.term_start) > w.deceased_on THEN"
    "   'worker_deceased: the worker died on ' || w.deceased_on"
    "  WHEN NOT EXISTS (SELECT 1 FROM data_center_provinces d WHERE d.source = s.source"
    "    AND d.province = CASE WHEN s.change = 'ENROLL' THEN left(s.region_code, 2)::smallint"
    "                          ELSE w.province END) THEN"
    "   'source_not_authorised: data center ' || s.source || ' does not serve province '"
    "   || CASE WHEN s.change = 'ENROLL' THEN left(s.region_code, 2) ELSE w.province::text END"
    "  WHEN s.change = 'ENROLL' AND a.agreement_id IS NULL THEN"
    "   'unknown_agreement: agreement ' || s.agreement_id || ' is not loaded'"
    "  WHEN s.change = 'ENROLL' AND a.institution NOT IN (s.institution, 'PEMDA') THEN"
    "   'agreement_institution: agreement ' || a.agreement_id || ' is for ' || a.institution"
    "   || ', the worker serves ' || s.institution"
    "  WHEN s.change = 'ENROLL' AND NOT starts_with(s.region_code, a.region_scope) THEN"
    "   'outside_agreement_region: region ' || s.region_code || ' is outside agreement '"
    "   || a.agreement_id || ' (' || a.region_scope || ')'"
    "  WHEN s.change = 'ENROLL' AND (s.term_start < a.period_start OR s.term_end > a.period_end) THEN"
    "   'outside_agreement_period: term ' || s.term_start || '..' || s.term_end"
    "   || ' is outside agreement ' || a.agreement_id || ' (' || a.period_start || '..'"
    "   || a.period_end || ')'"
    "  WHEN s.change = 'ENROLL' AND NOT (s.programs <@ a.programs) THEN"
    "   'program_not_in_agreement: agreement ' || a.agreement_id || ' covers '"
    "   || array_to_string(a.programs, ';')"
    "  WHEN s.change = 'ENROLL' AND w.nik IS NOT NULL AND EXISTS (SELECT 1 FROM coverages c"
    "    WHERE c.nik = s.nik AND c.program = ANY (s.programs) AND c.status <> 'CANCELLED'"
    "    AND c.valid_from <= s.term_end AND c.valid_to >= s.term_start) THEN"
    "   'overlapping_term: the worker already holds an overlapping term of the same program'"
    "  WHEN s.change = 'TERMINATE' AND NOT EXISTS (SELECT 1 FROM coverages c WHERE c.nik = s.nik"
    "    AND c.status = 'ACTIVE' AND c.valid_to >= s.effective_date) THEN"
    "   'no_active_coverage: nothing active on or after ' || s.effective_date"
    "  WHEN s.change = 'UPDATE' AND s.term_end < s.effective_date THEN"
    "   'term_end_before_effective_date: term_end ' || s.term_end || ' is before '"
    "   || s.effective_date"
    "  WHEN s.change = 'UPDATE' AND (s.monthly_wage IS NOT NULL OR s.term_end IS NOT NULL)"
    "    AND NOT EXISTS (SELECT 1 FROM coverages c WHERE c.nik = s.nik AND c.status = 'ACTIVE'"
    "    AND s.effective_date BETWEEN c.valid_from AND c.valid_to) THEN"
    "   'no_active_coverage: no term is active on ' || s.effective_date"
    "  WHEN s.change = 'UPDATE' AND s.term_end IS NOT NULL AND EXISTS ("
    "    SELECT 1 FROM coverages t JOIN coverages o ON o.nik = t.nik AND o.program = t.program"
    "     AND o.coverage_id <> t.coverage_id AND o.status <> 'CANCELLED'"
    "    WHERE t.nik = s.nik AND t.status = 'ACTIVE'"
    "     AND s.effective_date BETWEEN t.valid_from AND t.valid_to"
    "     AND o.valid_from <= s.term_end AND o.valid_to >= t.valid_from) THEN"
    "   'overlapping_term: the new term_end overlaps another term of the same program'"
    " END AS reason"
    " FROM stg_roster s"
    " LEFT JOIN LATERAL (SELECT d.outcome FROM applied_events d"
    "  WHERE d.event_id = s.event_id OFFSET 0) d ON true"
    " LEFT JOIN LATERAL (SELECT w.nik, w.province, w.deceased_on FROM workers w"
    "  WHERE w.nik = s.nik OFFSET 0) w ON true"
    " LEFT JOIN LATERAL (SELECT a.agreement_id, a.institution, a.region_scope, a.period_start,"
    "  a.period_end, a.programs FROM agreements a"
    "  WHERE a.agreement_id = s.agreement_id OFFSET 0) a ON true"
    " WHERE s.round = $1)"
    " UPDATE stg_roster s SET reject = x.reason, known = x.known,"
    "  recorded = x.decided IS NOT NULL FROM x"
    " WHERE s.seq = x.seq AND (x.reason IS NOT NULL OR x.decided IS NOT NULL"
    "  OR (x.known AND x.change = 'ENROLL'))",

    /* Worker rows, and below the events' records: an UPDATE of the rows the rules found,
     * a plain INSERT of the others. An upsert (ON CONFLICT) would probe the key again and
     * insert speculatively: nearly twice the cost of a plain INSERT per row. A row that
     * another transaction inserts after the rules looked (one NIK enrolled on two topics
     * at once, one event delivered on two partitions) fails the INSERT with 23505 once
     * that transaction commits: the worker then tries the same records again
     * (consumer_worker.c), and the retry's rules see the row, so the event is decided
     * against it, or marked DUP. (An UPDATE of a known worker or of a REPLAYING record
     * does not conflict: two consumers deciding one of those at once still both apply
     * it, as the upserts did.) */
    "UPDATE workers w SET full_name = s.full_name, birth_date = s.birth_date,"
    " gender = s.gender, kpj = coalesce(s.kpj, w.kpj), phone = coalesce(s.phone, w.phone),"
    " province = left(s.region_code, 2)::smallint, updated_event = s.event_id,"
    " updated_at = now()"
    " FROM stg_roster s WHERE s.round = $1 AND s.reject IS NULL AND s.change = 'ENROLL'"
    " AND s.known AND w.nik = ANY (ARRAY[s.nik])",

    "INSERT INTO workers (nik, full_name, birth_date, gender, kpj, phone, province,"
    " created_event, updated_event)"
    " SELECT nik, full_name, birth_date, gender, kpj, phone, left(region_code, 2)::smallint,"
    "  event_id, event_id FROM stg_roster"
    " WHERE round = $1 AND reject IS NULL AND change = 'ENROLL' AND NOT known",

    "INSERT INTO coverages (nik, program, institution, role, region_code, tps, agreement_id,"
    " monthly_wage, valid_from, valid_to, status, enroll_event, last_event)"
    " SELECT s.nik, p.program, s.institution, s.role, s.region_code, s.tps, s.agreement_id,"
    "  s.monthly_wage, s.term_start, s.term_end, 'ACTIVE', s.event_id, s.event_id"
    " FROM stg_roster s CROSS JOIN LATERAL unnest(s.programs) AS p(program)"
    " WHERE s.round = $1 AND s.reject IS NULL AND s.change = 'ENROLL'",

    "UPDATE workers w SET full_name = coalesce(s.full_name, w.full_name),"
    " birth_date = coalesce(s.birth_date, w.birth_date), gender = coalesce(s.gender, w.gender),"
    " kpj = coalesce(s.kpj, w.kpj), phone = coalesce(s.phone, w.phone),"
    " updated_event = s.event_id, updated_at = now()"
    " FROM stg_roster s WHERE s.round = $1 AND s.reject IS NULL AND s.change = 'UPDATE'"
    " AND w.nik = ANY (ARRAY[s.nik])",

    "UPDATE coverages c SET monthly_wage = coalesce(s.monthly_wage, c.monthly_wage),"
    " valid_to = coalesce(s.term_end, c.valid_to), last_event = s.event_id, updated_at = now()"
    " FROM stg_roster s WHERE s.round = $1 AND s.reject IS NULL AND s.change = 'UPDATE'"
    " AND (s.monthly_wage IS NOT NULL OR s.term_end IS NOT NULL)"
    " AND c.nik = ANY (ARRAY[s.nik]) AND c.status = 'ACTIVE'"
    " AND s.effective_date BETWEEN c.valid_from AND c.valid_to",

    "UPDATE coverages c SET"
    " status = CASE WHEN c.valid_from > s.effective_date THEN 'CANCELLED' ELSE 'TERMINATED' END,"
    " valid_to = CASE WHEN c.valid_from > s.effective_date THEN c.valid_to"
    "                 ELSE s.effective_date END,"
    " last_event = s.event_id, updated_at = now()"
    " FROM stg_roster s WHERE s.round = $1 AND s.reject IS NULL AND s.change = 'TERMINATE'"
    " AND c.nik = ANY (ARRAY[s.nik]) AND c.status = 'ACTIVE' AND c.valid_to >= s.effective_date",

    /* The coverage relay publishes each changed worker's new state (deploy/sql/006). */
    "INSERT INTO coverage_outbox (nik, cause_event)"
    " SELECT nik, event_id FROM stg_roster WHERE round = $1 AND reject IS NULL ORDER BY seq",

    "INSERT INTO applied_events (event_id, topic, partition, kafka_offset, outcome)"
    " SELECT event_id, topic, partition, kafka_offset,"
    "  CASE WHEN reject IS NULL THEN 'APPLIED' ELSE 'REJECTED' END"
    " FROM stg_roster WHERE round = $1 AND NOT recorded",

    "UPDATE applied_events d SET topic = s.topic, partition = s.partition,"
    " kafka_offset = s.kafka_offset,"
    " outcome = CASE WHEN s.reject IS NULL THEN 'APPLIED' ELSE 'REJECTED' END,"
    " applied_at = now()"
    " FROM stg_roster s WHERE s.round = $1 AND s.recorded AND s.reject IS DISTINCT FROM 'DUP'"
    " AND d.event_id = ANY (ARRAY[s.event_id]) AND d.outcome = 'REPLAYING'",
};

/* merge_round[0, MERGE_RULES): the session settings, the duplicates and the rules; the
 * changes follow. */
#define MERGE_RULES 2
#define MERGE_COUNT (sizeof merge_round / sizeof *merge_round)

roster_apply *roster_apply_new(const char *base_topic, char *errstr, size_t n)
{
    roster_apply *ra = calloc(1, sizeof *ra);
    if (!ra) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    snprintf(ra->base, sizeof ra->base, "%s", base_topic);
    ra->max_round = -1;
    pg_copybuf_init(&ra->piece);
    if (!(ra->codec = codec_new(errstr, n)))
        goto fail;
    if (!(ra->rounds = rounds_new())) {
        snprintf(errstr, n, "out of memory");
        goto fail;
    }
    return ra;
fail:
    roster_apply_destroy(ra);
    return NULL;
}

void roster_apply_destroy(roster_apply *ra)
{
    if (!ra)
        return;
    codec_destroy(ra->codec);
    free(ra->ids);
    free(ra->round);
    rounds_destroy(ra->rounds);
    pg_copybuf_release(&ra->piece);
    free(ra);
}

static int reserve(roster_apply *ra, int count, char *errstr, size_t n)
{
    if (count > ra->cap) {
        struct roster_ids *ids = realloc(ra->ids, (size_t)count * sizeof *ids);
        if (ids)
            ra->ids = ids;
        int *round = realloc(ra->round, (size_t)count * sizeof *round);
        if (round)
            ra->round = round;
        if (!ids || !round) {
            snprintf(errstr, n, "out of memory");
            return -1;
        }
        ra->cap = count;
    }
    return rounds_reset(ra->rounds, count, errstr, n);
}

static void copy_date(pg_copybuf *b, int32_t d)
{
    if (d == DATE_NONE)
        pg_copybin_null(b);
    else
        pg_copybin_date(b, d);
}

static void copy_opt(pg_copybuf *b, const char *s)
{
    pg_copybin_text(b, s && *s ? s : NULL);
}

/* One staging row, in copy_staging's columns and binary format. */
static void stage_record(pg_copybuf *b, int idx, int round, const consumer_msg *m,
                         const roster_change *rc)
{
    char gender[2] = {rc->gender, 0};

    pg_copybin_row(b, STAGING_COLUMNS);
    pg_copybin_int4(b, idx);
    pg_copybin_int4(b, round);
    pg_copybin_int4(b, m->partition);
    pg_copybin_int8(b, m->offset);
    pg_copybin_uuid(b, rc->event_id);
    pg_copybin_text(b, rc->source);
    pg_copybin_text(b, roster_change_name(rc->change));
    pg_copybin_text(b, rc->nik);
    copy_opt(b, rc->full_name);
    copy_date(b, rc->birth_date);
    copy_opt(b, rc->gender ? gender : NULL);
    copy_opt(b, roster_institution_name(rc->institution));
    copy_opt(b, roster_role_name(rc->role));
    copy_opt(b, rc->region_code);
    if (rc->tps > 0) /* validated: 1..TPS_MAX */
        pg_copybin_int2(b, (int16_t)rc->tps);
    else
        pg_copybin_null(b);
    copy_date(b, rc->term_start);
    copy_date(b, rc->term_end);
    copy_date(b, rc->change == CHANGE_ENROLL && rc->effective_date == DATE_NONE
                     ? rc->term_start : rc->effective_date);
    if (rc->monthly_wage != MONEY_NONE)
        pg_copybin_int8(b, rc->monthly_wage);
    else
        pg_copybin_null(b);
    if (rc->change == CHANGE_ENROLL) {
        const char *names[3];
        int count = roster_programs_list(rc->programs ? rc->programs : PROG_DEFAULT, names);
        pg_copybin_text_array(b, names, count);
    } else {
        pg_copybin_null(b);
    }
    copy_opt(b, rc->agreement_id);
    copy_opt(b, rc->kpj);
    copy_opt(b, rc->phone);
    pg_copybin_text(b, m->topic);
}

/* The rules' reason codes (before ':') that are not class "rule": the source the topic
 * authenticates is not authorised for the worker's province. */
static const struct {
    const char *code, *error_class;
} reject_classes[] = {{"source_not_authorised", "auth"}};

static const char *class_of(const char *reason)
{
    size_t len = strcspn(reason, ":");

    for (size_t i = 0; i < sizeof reject_classes / sizeof reject_classes[0]; i++)
        if (strlen(reject_classes[i].code) == len &&
            strncmp(reason, reject_classes[i].code, len) == 0)
            return reject_classes[i].error_class;
    return "rule";
}

/* Decode and re-validate; give the good ones their rounds. Returns the highest round, or -1. */
static int decode_batch(roster_apply *ra, const consumer_batch *batch, consumer_rejects *rej,
                        char *errstr, size_t n)
{
    int32_t today = dates_today_utc();
    int max_round = 0;

    if (reserve(ra, batch->count, errstr, n) < 0)
        return -1;
    for (int i = 0; i < batch->count; i++) {
        const consumer_msg *m = &batch->msgs[i];
        roster_change *rc = &ra->rec;
        validate_report report;
        char msg[512];
        int decoded;

        ra->round[i] = 0;
        decoded = codec_decode_roster(ra->codec, m->value, m->value_len, rc, NULL, msg, sizeof msg);
        if (decoded == CODEC_UNAVAILABLE) {
            /* Not the record's fault: the batch is retried until the registry answers. */
            snprintf(errstr, n, "partition %d offset %lld: %s", (int)m->partition,
                     (long long)m->offset, msg);
            return -1;
        }
        if (decoded < 0) {
            consumer_reject(rej, i, "decode", NULL, NULL, "partition %d offset %lld: %s",
                            (int)m->partition, (long long)m->offset, msg);
            continue;
        }
        if (validate_roster_change(rc, today, &report) > 0) {
            size_t used = 0;
            msg[0] = '\0';
            for (int k = 0; k < report.count && used < sizeof msg; k++) {
                if (report.items[k].warning)
                    continue;
                used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s: %s",
                                         used ? "; " : "", report.items[k].field,
                                         report.items[k].rule);
            }
            consumer_reject(rej, i, "validation", rc->event_id, rc->nik, "%s", msg);
            continue;
        }
        if (source_topic_check(m->topic, ra->base, rc->source, msg, sizeof msg) < 0) {
            consumer_reject(rej, i, "auth", rc->event_id, rc->nik, "%s", msg);
            continue;
        }
        memcpy(ra->ids[i].event_id, rc->event_id, sizeof ra->ids[i].event_id);
        memcpy(ra->ids[i].nik, rc->nik, sizeof ra->ids[i].nik);
        memcpy(ra->ids[i].source, rc->source, sizeof ra->ids[i].source);
        ra->ids[i].event_time_us = rc->event_time_us;
        ra->round[i] = rounds_assign(ra->rounds, ra->ids[i].nik);
        if (ra->round[i] > max_round)
            max_round = ra->round[i];
    }
    return max_round;
}

/* pg_copy_fill: the COPY rows of the events with a round, from ra->next on, decoded again. */
static int stage_piece(void *ctx, pg_copybuf *piece, char *errstr, size_t n)
{
    roster_apply *ra = ctx;
    const consumer_batch *batch = ra->staging;

    for (; ra->next < batch->count && piece->len < PG_COPY_PIECE; ra->next++) {
        const consumer_msg *m = &batch->msgs[ra->next];
        char msg[512];

        if (ra->round[ra->next] <= 0)
            continue;
        /* Decoded alike a moment ago: the writer schema is cached, the bytes are the same. */
        if (codec_decode_roster(ra->codec, m->value, m->value_len, &ra->rec, NULL, msg,
                                sizeof msg) < 0) {
            snprintf(errstr, n, "partition %d offset %lld: decoded when prepared, now: %s",
                     (int)m->partition, (long long)m->offset, msg);
            return -1;
        }
        stage_record(piece, ra->next, ra->round[ra->next], m, &ra->rec);
    }
    return ra->next < batch->count;
}

int roster_apply_prepare(void *ctx, const consumer_batch *batch, consumer_rejects *rej,
                         char *errstr, size_t n)
{
    roster_apply *ra = ctx;

    ra->max_round = decode_batch(ra, batch, rej, errstr, n);
    return ra->max_round < 0 ? -1 : 0;
}

int roster_apply_batch(void *ctx, PGconn *pg, const consumer_batch *batch,
                       consumer_rejects *rej, char *errstr, size_t n)
{
    roster_apply *ra = ctx;
    PGresult *res;
    int max_round = ra->max_round, rc;

    ra->max_round = -1;
    if (max_round < 0) {
        snprintf(errstr, n, "roster batch applied without being prepared");
        return -1;
    }
    if (max_round == 0)
        return 0;
    ra->staging = batch;
    ra->next = 0;
    rc = pg_stage_rows(pg, create_staging, copy_staging, stage_piece, ra, &ra->piece, errstr, n);
    ra->staging = NULL;
    if (rc < 0)
        return -1;
    for (int r = 1; r <= max_round; r++) {
        char round[16];
        const char *params[1] = {round};
        snprintf(round, sizeof round, "%d", r);
        if (pg_exec_each(pg, merge_round, MERGE_RULES, 1, params, errstr, n) < 0 ||
            roster_budget_round(pg, round, errstr, n) < 0 ||
            pg_exec_each(pg, merge_round + MERGE_RULES, MERGE_COUNT - MERGE_RULES, 1, params,
                         errstr, n) < 0)
            return -1;
    }
    if (!(res = pg_query(pg, "SELECT seq, reject FROM stg_roster WHERE reject IS NOT NULL"
                             " ORDER BY seq", 0, NULL, errstr, n)))
        return -1;
    for (int r = 0; r < PQntuples(res); r++) {
        int idx = atoi(PQgetvalue(res, r, 0));
        ra->round[idx] = 0; /* not applied now */
        if (strcmp(PQgetvalue(res, r, 1), "DUP") != 0)
            consumer_reject(rej, idx, class_of(PQgetvalue(res, r, 1)), ra->ids[idx].event_id,
                            ra->ids[idx].nik, "%s", PQgetvalue(res, r, 1));
    }
    PQclear(res);
    for (int i = 0; i < batch->count; i++)
        if (ra->round[i] > 0)
            consumer_applied(rej, i, ra->ids[i].source, ra->ids[i].event_time_us);
    return 0;
}
