/* incident_decide: route each new incident of a round and stage the decisions. */
#include "incident_decide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim_event.h"
#include "pg.h"
#include "roster.h"
#include "route.h"

struct incident_decide {
    route_coverage *cov;
    int cov_cap;
    pg_copybuf copy;
};

static const char copy_decisions[] =
    "COPY stg_incident_decision (seq, round, state, outcome, outcome_reason, late_report,"
    " program, benefit, status, amount_idr, assessment_required, table_version, monthly_wage,"
    " documents, death) FROM STDIN";

/* Everything the decisions of round $1 need, one row per (event, coverage); the worker
 * and coverage columns are NULL when there is nothing to decide or nothing to load. */
static const char load_round[] =
    "SELECT s.seq, a.event_id IS NOT NULL, i.incident_id IS NOT NULL, w.nik IS NOT NULL,"
    " w.deceased_on - DATE '1970-01-01', c.program, c.valid_from - DATE '1970-01-01',"
    " c.valid_to - DATE '1970-01-01', c.status, c.monthly_wage,"
    " EXISTS (SELECT 1 FROM data_center_provinces d WHERE d.source = s.source"
    "  AND d.province = left(s.region_code, 2)::smallint),"
    " c.lapsed_on - DATE '1970-01-01'"
    " FROM stg_incident s"
    " LEFT JOIN applied_events a ON a.event_id = s.event_id AND a.outcome <> 'REPLAYING'"
    " LEFT JOIN incidents i ON i.nik = s.nik AND i.type = s.type AND i.local_date = s.local_date"
    " LEFT JOIN workers w ON w.nik = s.nik AND a.event_id IS NULL AND i.incident_id IS NULL"
    " LEFT JOIN coverages c ON c.nik = w.nik"
    " WHERE s.round = $1 ORDER BY s.seq, c.coverage_id";

enum {
    L_SEQ, L_DUP, L_KNOWN, L_ENROLLED, L_DECEASED, L_PROGRAM, L_FROM, L_TO, L_STATUS, L_WAGE,
    L_AUTHORISED, L_LAPSED_ON
};

/* Columns of a decision row after seq, round and state. */
enum { DECISION_COLUMNS = 12 };

incident_decide *incident_decide_new(void)
{
    incident_decide *d = calloc(1, sizeof *d);

    if (d)
        pg_copybuf_init(&d->copy);
    return d;
}

void incident_decide_destroy(incident_decide *d)
{
    if (!d)
        return;
    free(d->cov);
    pg_copybuf_release(&d->copy);
    free(d);
}

static int reserve_cov(incident_decide *d, int count, char *errstr, size_t n)
{
    route_coverage *cov;
    int cap;

    if (count <= d->cov_cap)
        return 0;
    cap = d->cov_cap ? d->cov_cap * 2 : 16;
    while (cap < count)
        cap *= 2;
    if (!(cov = realloc(d->cov, (size_t)cap * sizeof *cov))) {
        snprintf(errstr, n, "out of memory");
        return -1;
    }
    d->cov = cov;
    d->cov_cap = cap;
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
    for (int k = 0; k < DECISION_COLUMNS - 1; k++)
        pg_copybuf_null(b, 0);
    copy_bool(b, 0);
    pg_copybuf_end_row(b);
}

static void stage_decision(pg_copybuf *b, int seq, int round, const route_decision *dec)
{
    char docs[2048];
    int claim = dec->outcome == ROUTE_CLAIM;

    pg_copybuf_int(b, seq, 1);
    pg_copybuf_int(b, round, 0);
    pg_copybuf_str(b, "NEW", 0);
    pg_copybuf_str(b, route_outcome_name(dec->outcome), 0);
    pg_copybuf_str(b, dec->reason[0] ? dec->reason : NULL, 0);
    copy_bool(b, dec->late_report);
    pg_copybuf_str(b, claim ? claim_program_name(dec->program) : NULL, 0);
    pg_copybuf_str(b, claim ? claim_benefit_name(dec->benefit) : NULL, 0);
    pg_copybuf_str(b, claim ? claim_status_name(dec->initial_status) : NULL, 0);
    if (claim && dec->amount_idr >= 0)
        pg_copybuf_int(b, dec->amount_idr, 0);
    else
        pg_copybuf_null(b, 0);
    copy_bool(b, claim && dec->assessment_required);
    pg_copybuf_str(b, dec->table_version[0] ? dec->table_version : NULL, 0);
    if (claim && dec->monthly_wage > 0)
        pg_copybuf_int(b, dec->monthly_wage, 0);
    else
        pg_copybuf_null(b, 0);
    if (claim && pg_array_literal(dec->documents, dec->ndocuments, docs, sizeof docs) == 0)
        pg_copybuf_str(b, docs, 0);
    else
        pg_copybuf_null(b, 0);
    copy_bool(b, dec->closes_coverage);
    pg_copybuf_end_row(b);
}

/* Parse one coverage column set of the load_round result into c; -1 on an unknown value. */
static int parse_coverage(const PGresult *res, int row, route_coverage *c)
{
    int prog = roster_programs_parse(PQgetvalue(res, row, L_PROGRAM));

    c->program = prog > 0 ? (unsigned)prog : 0;
    c->valid_from = (int32_t)atol(PQgetvalue(res, row, L_FROM));
    c->valid_to = (int32_t)atol(PQgetvalue(res, row, L_TO));
    c->status = (route_coverage_status)route_coverage_status_parse(PQgetvalue(res, row, L_STATUS));
    c->monthly_wage = atoll(PQgetvalue(res, row, L_WAGE));
    c->lapsed_on = PQgetisnull(res, row, L_LAPSED_ON)
                       ? DATE_NONE
                       : (int32_t)atol(PQgetvalue(res, row, L_LAPSED_ON));
    return prog > 0 && c->status != ROUTE_COV_NONE ? 0 : -1;
}

/* The worker and coverages of rows [row, end) of one event; *ncov rows in d->cov. */
static int load_event(incident_decide *d, const PGresult *res, int row, int end,
                      route_worker *w, int *ncov, char *errstr, size_t n)
{
    w->enrolled = is_true(res, row, L_ENROLLED);
    w->deceased_on = PQgetisnull(res, row, L_DECEASED)
                         ? DATE_NONE
                         : (int32_t)atol(PQgetvalue(res, row, L_DECEASED));
    *ncov = 0;
    if (reserve_cov(d, end - row, errstr, n) < 0)
        return -1;
    for (int k = row; k < end; k++) {
        if (PQgetisnull(res, k, L_PROGRAM))
            continue;
        if (parse_coverage(res, k, &d->cov[*ncov]) < 0) {
            snprintf(errstr, n, "coverages: unknown program '%s' or status '%s'",
                     PQgetvalue(res, k, L_PROGRAM), PQgetvalue(res, k, L_STATUS));
            return -1;
        }
        (*ncov)++;
    }
    return 0;
}

int incident_decide_round(incident_decide *d, PGconn *pg, int r, const incident_pending *pend,
                          const benefit_table *t, consumer_rejects *rej, char *errstr,
                          size_t n)
{
    char round[16];
    const char *params[1] = {round};
    PGresult *res;
    int rows, rc = -1;

    snprintf(round, sizeof round, "%d", r);
    if (!(res = pg_query(pg, load_round, 1, params, errstr, n)))
        return -1;
    rows = PQntuples(res);
    pg_copybuf_reset(&d->copy);
    for (int row = 0, end; row < rows; row = end) {
        int seq = atoi(PQgetvalue(res, row, L_SEQ)), ncov;
        const incident_pending *p = &pend[seq];
        route_worker w;
        route_decision dec;
        char msg[256];

        for (end = row; end < rows && atoi(PQgetvalue(res, end, L_SEQ)) == seq; end++)
            ;
        if (is_true(res, row, L_DUP))
            continue;
        /* The source (authenticated by its topic when producers authenticate) must serve
         * the province where it happened. */
        if (!is_true(res, row, L_AUTHORISED)) {
            consumer_reject(rej, seq, "auth", p->event_id, p->nik,
                            "source_not_authorised: data center %s does not serve province %.2s",
                            p->source, p->in.region_code);
            stage_state(&d->copy, seq, r, "REJECT");
            continue;
        }
        if (is_true(res, row, L_KNOWN)) {
            stage_state(&d->copy, seq, r, "LINK");
            consumer_applied(rej, seq, p->source, p->event_time_us);
            continue;
        }
        if (load_event(d, res, row, end, &w, &ncov, errstr, n) < 0)
            goto out;
        if (route_incident_decide(&p->in, &w, d->cov, ncov, t, &dec, msg, sizeof msg) < 0) {
            consumer_reject(rej, seq, "rule", p->event_id, p->nik, "%s", msg);
            stage_state(&d->copy, seq, r, "REJECT");
        } else {
            stage_decision(&d->copy, seq, r, &dec);
            consumer_applied(rej, seq, p->source, p->event_time_us);
        }
    }
    if (d->copy.failed) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    rc = d->copy.len ? pg_copy(pg, copy_decisions, &d->copy, errstr, n) : 0;
out:
    PQclear(res);
    return rc;
}
