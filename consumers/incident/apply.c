/* apply: decode, re-validate, stage with COPY, decide with route.h and merge a batch of
 * incident events. */
#include "apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dates.h"
#include "pg.h"
#include "region.h"
#include "roster.h"
#include "rounds.h"

/* What a staged event needs after decoding, by batch index. */
typedef struct pending {
    char event_id[37];
    char nik[17];
    route_incident in;
    int round;               /* 0 = rejected before staging */
    int32_t local_date;
} pending;

struct incident_apply {
    codec *codec;
    benefit_table *table;
    incident inc;            /* decoding buffer */
    pending *pend;
    int cap;
    rounds *rounds;
    route_coverage *cov;
    int cov_cap;
    pg_copybuf copy;
};

static const char create_staging[] =
    "CREATE TEMP TABLE IF NOT EXISTS stg_incident ("
    " seq int PRIMARY KEY, round int NOT NULL, partition int NOT NULL,"
    " kafka_offset bigint NOT NULL, event_id uuid NOT NULL, source text NOT NULL,"
    " report_id text, nik char(16) NOT NULL, type text NOT NULL,"
    " occurred_at timestamptz NOT NULL, reported_at timestamptz NOT NULL,"
    " region_code text NOT NULL, circumstance text NOT NULL, cause text, severity text,"
    " description text, reporter_institution text NOT NULL, reporter_name text,"
    " reporter_phone text, local_date date NOT NULL, utc_offset_minutes int NOT NULL)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS stg_incident_decision ("
    " seq int PRIMARY KEY, round int NOT NULL, state text NOT NULL, outcome text,"
    " outcome_reason text, late_report boolean, program text, benefit text, status text,"
    " amount_idr bigint, assessment_required boolean, table_version text,"
    " monthly_wage bigint, documents text[], death boolean NOT NULL)"
    " ON COMMIT DELETE ROWS";

static const char copy_staging[] =
    "COPY stg_incident (seq, round, partition, kafka_offset, event_id, source, report_id, nik,"
    " type, occurred_at, reported_at, region_code, circumstance, cause, severity, description,"
    " reporter_institution, reporter_name, reporter_phone, local_date, utc_offset_minutes)"
    " FROM STDIN";

static const char copy_decisions[] =
    "COPY stg_incident_decision (seq, round, state, outcome, outcome_reason, late_report,"
    " program, benefit, status, amount_idr, assessment_required, table_version, monthly_wage,"
    " documents, death) FROM STDIN";

/* Everything the decisions of round $1 need, one row per (event, coverage); the worker
 * and coverage columns are NULL when there is nothing to decide or nothing to load. */
static const char load_round[] =
    "SELECT s.seq, a.event_id IS NOT NULL, i.incident_id IS NOT NULL, w.nik IS NOT NULL,"
    " w.deceased_on - DATE '1970-01-01', c.program, c.valid_from - DATE '1970-01-01',"
    " c.valid_to - DATE '1970-01-01', c.status, c.monthly_wage"
    " FROM stg_incident s"
    " LEFT JOIN applied_events a ON a.event_id = s.event_id"
    " LEFT JOIN incidents i ON i.nik = s.nik AND i.type = s.type AND i.local_date = s.local_date"
    " LEFT JOIN workers w ON w.nik = s.nik AND a.event_id IS NULL AND i.incident_id IS NULL"
    " LEFT JOIN coverages c ON c.nik = w.nik"
    " WHERE s.round = $1 ORDER BY s.seq, c.coverage_id";

enum { L_SEQ, L_DUP, L_KNOWN, L_ENROLLED, L_DECEASED, L_PROGRAM, L_FROM, L_TO, L_STATUS, L_WAGE };

/* The merge of one round. $1 = round, $2 = topic. States: NEW opens an incident (and a
 * claim when the outcome says so), LINK adds a report to a known incident, REJECT is an
 * event route could not decide (dead-lettered). Re-deliveries have no decision row. */
#define FROM_ROUND(states)                                                                         \
    " FROM stg_incident s JOIN stg_incident_decision d USING (seq)"                                \
    " WHERE s.round = $1 AND d.state IN (" states ")"
#define INCIDENT_ID "incident_uuid(s.nik, s.type, s.local_date)"
#define CLAIM_ID "claim_uuid(" INCIDENT_ID ")"

static const char *const merge_round[] = {
    "INSERT INTO incidents (incident_id, nik, type, occurred_at, local_date, utc_offset_minutes,"
    " region_code, circumstance, cause, severity, first_reported_at, late_report, outcome,"
    " outcome_reason)"
    " SELECT " INCIDENT_ID ", s.nik, s.type, s.occurred_at, s.local_date, s.utc_offset_minutes,"
    "  s.region_code, s.circumstance, s.cause, s.severity, s.reported_at, d.late_report,"
    "  d.outcome, d.outcome_reason"
    FROM_ROUND("'NEW'"),

    "INSERT INTO incident_reports (event_id, incident_id, report_id, source,"
    " reporter_institution, reporter_name, reporter_phone, reported_at, description,"
    " kafka_partition, kafka_offset)"
    " SELECT s.event_id, " INCIDENT_ID ", s.report_id, s.source, s.reporter_institution,"
    "  s.reporter_name, s.reporter_phone, s.reported_at, s.description, s.partition,"
    "  s.kafka_offset"
    FROM_ROUND("'NEW', 'LINK'"),

    "INSERT INTO claims (claim_id, nik, incident_id, program, benefit, status, amount_idr,"
    " benefit_table_version, monthly_wage, late_report, assessment_required, region_code)"
    " SELECT " CLAIM_ID ", s.nik, " INCIDENT_ID ", d.program, d.benefit, d.status,"
    "  d.amount_idr, d.table_version, d.monthly_wage, d.late_report, d.assessment_required,"
    "  s.region_code"
    FROM_ROUND("'NEW'") " AND d.outcome = 'CLAIM'",

    "INSERT INTO claim_documents (claim_id, document)"
    " SELECT " CLAIM_ID ", doc.document"
    " FROM stg_incident s JOIN stg_incident_decision d USING (seq)"
    " CROSS JOIN LATERAL unnest(d.documents) AS doc(document)"
    " WHERE s.round = $1 AND d.state = 'NEW' AND d.outcome = 'CLAIM'",

    "WITH opened AS ("
    " INSERT INTO claim_transitions (claim_id, from_status, to_status, kind, actor, reason,"
    "  program, benefit, amount_idr, benefit_table_version)"
    " SELECT " CLAIM_ID ", NULL, d.status, 'OPENED', '" INCIDENT_APPLY_ACTOR "',"
    "  d.outcome_reason, d.program, d.benefit, d.amount_idr, d.table_version"
    FROM_ROUND("'NEW'") " AND d.outcome = 'CLAIM'"
    " ORDER BY s.seq RETURNING transition_id, claim_id)"
    " INSERT INTO claim_outbox (event_id, claim_id, transition_id)"
    " SELECT claim_event_uuid(claim_id, 1), claim_id, transition_id FROM opened"
    " ORDER BY transition_id",

    /* A death closes the worker's coverage from the next local day. */
    "UPDATE workers w SET deceased_on = least(w.deceased_on, s.local_date),"
    " updated_event = s.event_id, updated_at = now()"
    FROM_ROUND("'NEW'") " AND d.death AND w.nik = s.nik",

    "UPDATE coverages c SET"
    " status = CASE WHEN c.valid_from > s.local_date THEN 'CANCELLED' ELSE 'TERMINATED' END,"
    " valid_to = CASE WHEN c.valid_from > s.local_date THEN c.valid_to ELSE s.local_date END,"
    " last_event = s.event_id, updated_at = now()"
    FROM_ROUND("'NEW'") " AND d.death AND c.nik = s.nik AND c.status <> 'CANCELLED'"
    " AND c.valid_to > s.local_date",

    /* The coverage relay publishes the closed coverage (deploy/sql/006). */
    "INSERT INTO coverage_outbox (nik, cause_event)"
    " SELECT s.nik, s.event_id"
    FROM_ROUND("'NEW'") " AND d.death ORDER BY s.seq",

    "INSERT INTO applied_events (event_id, topic, partition, kafka_offset, outcome)"
    " SELECT s.event_id, $2, s.partition, s.kafka_offset,"
    "  CASE WHEN d.state = 'REJECT' THEN 'REJECTED' ELSE 'APPLIED' END"
    FROM_ROUND("'NEW', 'LINK', 'REJECT'")
    " ON CONFLICT (event_id) DO NOTHING",
};

incident_apply *incident_apply_new(const char *benefits_path, char *errstr, size_t n)
{
    incident_apply *ia = calloc(1, sizeof *ia);

    if (!ia) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    pg_copybuf_init(&ia->copy);
    if (!(ia->table = benefits_load(benefits_path, errstr, n)) ||
        !(ia->codec = codec_new(errstr, n)))
        goto fail;
    if (!(ia->rounds = rounds_new())) {
        snprintf(errstr, n, "out of memory");
        goto fail;
    }
    return ia;
fail:
    incident_apply_destroy(ia);
    return NULL;
}

void incident_apply_destroy(incident_apply *ia)
{
    if (!ia)
        return;
    codec_destroy(ia->codec);
    benefits_destroy(ia->table);
    rounds_destroy(ia->rounds);
    free(ia->pend);
    free(ia->cov);
    pg_copybuf_release(&ia->copy);
    free(ia);
}

const benefit_table *incident_apply_benefits(const incident_apply *ia)
{
    return ia->table;
}

/* ---- benefit table ---- */

/* Build the PostgreSQL array literal {"a","b"} of items into out, each element
 * double-quoted with '"' and backslash escaped. 0, or -1 when it does not fit. */
static int array_literal(const char *const *items, int count, char *out, size_t size)
{
    size_t used = 0;

    if (size < 3)
        return -1;
    out[used++] = '{';
    for (int i = 0; i < count; i++) {
        if (used + 3 >= size)
            return -1;
        if (i)
            out[used++] = ',';
        out[used++] = '"';
        for (const char *p = items[i]; *p; p++) {
            if (used + 4 >= size)
                return -1;
            if (*p == '"' || *p == '\\')
                out[used++] = '\\';
            out[used++] = *p;
        }
        out[used++] = '"';
    }
    if (used + 2 > size)
        return -1;
    out[used++] = '}';
    out[used] = '\0';
    return 0;
}

int incident_apply_sync_benefits(incident_apply *ia, PGconn *pg, char *errstr, size_t n)
{
    static const char upsert[] =
        "INSERT INTO benefit_table (version, effective_from, key, value)"
        " SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[])"
        " ON CONFLICT (version, key) DO UPDATE SET effective_from = EXCLUDED.effective_from,"
        "  value = EXCLUDED.value"
        " WHERE (benefit_table.effective_from, benefit_table.value)"
        "  IS DISTINCT FROM (EXCLUDED.effective_from, EXCLUDED.value)";
    size_t rows = benefits_row_count(ia->table);
    const char **cols[4] = {NULL, NULL, NULL, NULL};
    char *text[4] = {NULL, NULL, NULL, NULL}, *numbers = NULL;
    const char *params[4];
    PGresult *res;
    int rc = -1;

    numbers = malloc(rows * 32 + 1);
    for (int k = 0; k < 4; k++) {
        cols[k] = malloc((rows + 1) * sizeof *cols[k]);
        text[k] = malloc(rows * 80 + 3);
    }
    if (!numbers || !cols[0] || !cols[1] || !cols[2] || !cols[3] || !text[0] || !text[1] ||
        !text[2] || !text[3]) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rows; i++) {
        const benefit_row *r = benefits_row_at(ia->table, i);
        char *date = numbers + i * 32, *value = date + 16;
        cols[0][i] = r->version;
        cols[1][i] = dates_format(r->effective_from, date, 16);
        cols[2][i] = r->key;
        snprintf(value, 16, "%lld", r->value);
        cols[3][i] = value;
    }
    for (int k = 0; k < 4; k++) {
        if (array_literal(cols[k], (int)rows, text[k], rows * 80 + 3) < 0) {
            snprintf(errstr, n, "benefit table: a value is too long");
            goto out;
        }
        params[k] = text[k];
    }
    if (!(res = pg_query(pg, upsert, 4, params, errstr, n)))
        goto out;
    PQclear(res);
    rc = 0;
out:
    for (int k = 0; k < 4; k++) {
        free(cols[k]);
        free(text[k]);
    }
    free(numbers);
    return rc;
}

/* ---- decoding and staging ---- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

int incident_apply_route_input(const incident *inc, route_incident *out, char *errstr, size_t n)
{
    memset(out, 0, sizeof *out);
    out->type = route_type_parse(or_empty(incident_type_name(inc->type)));
    out->circumstance = route_circumstance_parse(or_empty(incident_circumstance_name(inc->circumstance)));
    out->severity = ROUTE_SEV_NONE;
    if ((inc->fields & IF_SEVERITY) && inc->severity != SEVERITY_NONE)
        out->severity = route_severity_parse(or_empty(incident_severity_name(inc->severity)));
    out->cause = ROUTE_CAUSE_NONE;
    if ((inc->fields & IF_CAUSE) && inc->cause != CAUSE_NONE)
        out->cause = route_cause_parse(or_empty(incident_cause_name(inc->cause)));
    if (out->type < 0 || out->circumstance < 0 || out->severity < 0 || out->cause < 0) {
        snprintf(errstr, n, "type, circumstance, severity or cause has no routing name");
        return -1;
    }
    out->occurred_at_us = inc->occurred_at_us;
    out->reported_at_us = ROUTE_TIME_NONE;
    if ((inc->fields & IF_REPORTED_AT) && inc->reported_at_us != TIME_NONE)
        out->reported_at_us = inc->reported_at_us;
    out->now_us = inc->event_time_us;
    snprintf(out->region_code, sizeof out->region_code, "%s", inc->region_code);
    return 0;
}

long long incident_apply_jkk_wage(const route_coverage *cov, int ncov, int32_t local_date)
{
    for (int i = 0; i < ncov; i++)
        if ((cov[i].program & PROG_JKK) && cov[i].status != ROUTE_COV_CANCELLED &&
            cov[i].valid_from <= local_date && local_date <= cov[i].valid_to)
            return cov[i].monthly_wage;
    return -1;
}

static int reserve(incident_apply *ia, int count, char *errstr, size_t n)
{
    if (count > ia->cap) {
        pending *p = realloc(ia->pend, (size_t)count * sizeof *p);
        if (!p) {
            snprintf(errstr, n, "out of memory");
            return -1;
        }
        ia->pend = p;
        ia->cap = count;
    }
    return rounds_reset(ia->rounds, count, errstr, n);
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
                        const pending *p, int offset_minutes)
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
    copy_time(b, p->in.reported_at_us != ROUTE_TIME_NONE ? p->in.reported_at_us : p->in.now_us);
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

/* Decode, validate, assign rounds and stage. Returns the highest round, or -1. */
static int decode_batch(incident_apply *ia, const consumer_batch *batch, consumer_rejects *rej,
                        char *errstr, size_t n)
{
    int64_t now = dates_now_us();
    int max_round = 0;
    incident *inc = &ia->inc;

    if (reserve(ia, batch->count, errstr, n) < 0)
        return -1;
    pg_copybuf_reset(&ia->copy);
    for (int i = 0; i < batch->count; i++) {
        const consumer_msg *m = &batch->msgs[i];
        pending *p = &ia->pend[i];
        validate_report report;
        char msg[512];
        int offset;

        p->round = 0;
        if (codec_decode_incident(ia->codec, m->value, m->value_len, inc, NULL, msg, sizeof msg) < 0) {
            consumer_reject(rej, i, "decode", NULL, NULL, "partition %d offset %lld: %s",
                            (int)m->partition, (long long)m->offset, msg);
            continue;
        }
        if (incident_validate(inc, now, &report) > 0) {
            report_text(&report, msg, sizeof msg);
            consumer_reject(rej, i, "validation", inc->event_id, inc->nik, "%s", msg);
            continue;
        }
        if (incident_apply_route_input(inc, &p->in, msg, sizeof msg) < 0) {
            consumer_reject(rej, i, "validation", inc->event_id, inc->nik, "%s", msg);
            continue;
        }
        /* region_code is a valid plain code after incident_validate. */
        offset = region_utc_offset_minutes((inc->region_code[0] - '0') * 10 + (inc->region_code[1] - '0'));
        if (offset < 0) {
            consumer_reject(rej, i, "validation", inc->event_id, inc->nik,
                            "region_code: no time zone for '%s'", inc->region_code);
            continue;
        }
        memcpy(p->event_id, inc->event_id, sizeof p->event_id);
        memcpy(p->nik, inc->nik, sizeof p->nik);
        p->local_date = dates_local_day(inc->occurred_at_us, offset);
        p->round = rounds_assign(ia->rounds, p->nik);
        if (p->round > max_round)
            max_round = p->round;
        stage_event(&ia->copy, i, m, inc, p, offset);
    }
    if (ia->copy.failed) {
        snprintf(errstr, n, "out of memory");
        return -1;
    }
    return max_round;
}

/* ---- decisions ---- */

static int reserve_cov(incident_apply *ia, int count, char *errstr, size_t n)
{
    if (count <= ia->cov_cap)
        return 0;
    int cap = ia->cov_cap ? ia->cov_cap * 2 : 16;
    while (cap < count)
        cap *= 2;
    route_coverage *cov = realloc(ia->cov, (size_t)cap * sizeof *cov);
    if (!cov) {
        snprintf(errstr, n, "out of memory");
        return -1;
    }
    ia->cov = cov;
    ia->cov_cap = cap;
    return 0;
}

static int is_true(const PGresult *res, int row, int col)
{
    return PQgetvalue(res, row, col)[0] == 't';
}

static void copy_bool(pg_copybuf *b, int v)
{
    pg_copybuf_str(b, v ? "t" : "f", 0);
}

/* A decision row without a decision: LINK (a report of a known incident) or REJECT. */
static void stage_state(pg_copybuf *b, int seq, int round, const char *state)
{
    pg_copybuf_int(b, seq, 1);
    pg_copybuf_int(b, round, 0);
    pg_copybuf_str(b, state, 0);
    for (int k = 0; k < 11; k++)
        pg_copybuf_null(b, 0);
    copy_bool(b, 0);
    pg_copybuf_end_row(b);
}

static void stage_decision(pg_copybuf *b, int seq, const pending *p, const route_worker *w,
                           const route_decision *d, long long wage)
{
    char docs[2048];
    int claim = d->outcome == ROUTE_CLAIM;
    /* A recorded death closes the coverage, unless route refused the report because the
     * worker had died before it. */
    int death = p->in.type == ROUTE_DEATH && w->enrolled &&
                !(d->outcome == ROUTE_REJECTED && strncmp(d->reason, "worker_deceased", 15) == 0);

    pg_copybuf_int(b, seq, 1);
    pg_copybuf_int(b, p->round, 0);
    pg_copybuf_str(b, "NEW", 0);
    pg_copybuf_str(b, route_outcome_name(d->outcome), 0);
    pg_copybuf_str(b, d->reason[0] ? d->reason : NULL, 0);
    copy_bool(b, d->late_report);
    pg_copybuf_str(b, claim ? (d->program == PROG_JKM ? "JKM" : "JKK") : NULL, 0);
    pg_copybuf_str(b, claim ? route_benefit_name(d->benefit) : NULL, 0);
    pg_copybuf_str(b, claim ? route_status_name(d->initial_status) : NULL, 0);
    if (claim && d->amount_idr >= 0)
        pg_copybuf_int(b, d->amount_idr, 0);
    else
        pg_copybuf_null(b, 0);
    copy_bool(b, claim && d->assessment_required);
    pg_copybuf_str(b, d->table_version[0] ? d->table_version : NULL, 0);
    if (claim && d->program == PROG_JKK && wage > 0)
        pg_copybuf_int(b, wage, 0);
    else
        pg_copybuf_null(b, 0);
    if (claim && array_literal(d->documents, d->ndocuments, docs, sizeof docs) == 0)
        pg_copybuf_str(b, docs, 0);
    else
        pg_copybuf_null(b, 0);
    copy_bool(b, death);
    pg_copybuf_end_row(b);
}

/* Parse one coverage column set of the load_round result into c; -1 on an unknown value. */
static int parse_coverage(const PGresult *res, int row, route_coverage *c)
{
    int prog = roster_programs_parse(PQgetvalue(res, row, L_PROGRAM));

    c->program = prog > 0 ? (unsigned)prog : 0;
    c->valid_from = (int32_t)atol(PQgetvalue(res, row, L_FROM));
    c->valid_to = (int32_t)atol(PQgetvalue(res, row, L_TO));
    c->status = route_coverage_status_parse(PQgetvalue(res, row, L_STATUS));
    c->monthly_wage = atoll(PQgetvalue(res, row, L_WAGE));
    return prog > 0 && c->status >= 0 ? 0 : -1;
}

/* Read round r's state, decide each new incident, and stage the decisions. */
static int decide_round(incident_apply *ia, PGconn *pg, int r, consumer_rejects *rej,
                        char *errstr, size_t n)
{
    char round[16];
    const char *params[1] = {round};
    PGresult *res;
    int rows, rc = -1;

    snprintf(round, sizeof round, "%d", r);
    if (!(res = pg_query(pg, load_round, 1, params, errstr, n)))
        return -1;
    rows = PQntuples(res);
    pg_copybuf_reset(&ia->copy);
    for (int row = 0; row < rows;) {
        int seq = atoi(PQgetvalue(res, row, L_SEQ)), end = row, ncov = 0;
        const pending *p = &ia->pend[seq];
        route_worker w;
        route_decision d;
        char msg[256];

        while (end < rows && atoi(PQgetvalue(res, end, L_SEQ)) == seq)
            end++;
        if (is_true(res, row, L_DUP)) {
            row = end;
            continue;
        }
        if (is_true(res, row, L_KNOWN)) {
            stage_state(&ia->copy, seq, r, "LINK");
            row = end;
            continue;
        }
        w.enrolled = is_true(res, row, L_ENROLLED);
        w.deceased_on = PQgetisnull(res, row, L_DECEASED) ? DATE_NONE
                                                           : (int32_t)atol(PQgetvalue(res, row, L_DECEASED));
        if (reserve_cov(ia, end - row, errstr, n) < 0)
            goto out;
        for (int k = row; k < end; k++) {
            if (PQgetisnull(res, k, L_PROGRAM))
                continue;
            if (parse_coverage(res, k, &ia->cov[ncov]) < 0) {
                snprintf(errstr, n, "coverages: unknown program '%s' or status '%s'",
                         PQgetvalue(res, k, L_PROGRAM), PQgetvalue(res, k, L_STATUS));
                goto out;
            }
            ncov++;
        }
        if (route_incident_decide(&p->in, &w, ia->cov, ncov, ia->table, &d, msg, sizeof msg) < 0) {
            consumer_reject(rej, seq, "rule", p->event_id, p->nik, "%s", msg);
            stage_state(&ia->copy, seq, r, "REJECT");
        } else {
            stage_decision(&ia->copy, seq, p, &w, &d,
                           incident_apply_jkk_wage(ia->cov, ncov, d.local_date));
        }
        row = end;
    }
    if (ia->copy.failed) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    rc = ia->copy.len ? pg_copy(pg, copy_decisions, &ia->copy, errstr, n) : 0;
out:
    PQclear(res);
    return rc;
}

int incident_apply_batch(void *opaque, PGconn *pg, const consumer_batch *batch,
                         consumer_rejects *rej, char *errstr, size_t n)
{
    incident_apply *ia = opaque;
    int max_round;

    if ((max_round = decode_batch(ia, batch, rej, errstr, n)) < 0)
        return -1;
    if (max_round == 0)
        return 0;
    if (pg_stage(pg, create_staging, copy_staging, &ia->copy, errstr, n) < 0)
        return -1;
    for (int r = 1; r <= max_round; r++) {
        char round[16];
        const char *params[2] = {round, batch->topic};

        if (decide_round(ia, pg, r, rej, errstr, n) < 0)
            return -1;
        snprintf(round, sizeof round, "%d", r);
        if (pg_exec_each(pg, merge_round, sizeof merge_round / sizeof *merge_round, 2, params,
                         errstr, n) < 0)
            return -1;
    }
    return 0;
}
