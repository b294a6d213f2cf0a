/* billing_db: calls of the billing SQL functions and the reports over invoices. */
#include "billing_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "pg.h"
#include "premiums.h"

int billing_db_sync_files(PGconn *pg, const char *rates_path, const char *rules_path,
                          premiums_db_counts *counts, char *errstr, size_t n)
{
    premium_rates *t = premiums_rates_load(rates_path, errstr, n);
    billing_rules *r = t ? premiums_rules_load(rules_path, errstr, n) : NULL;
    int rc = -1;

    if (t && r)
        rc = premiums_db_sync(pg, t, r, counts, errstr, n);
    premiums_rules_destroy(r);
    premiums_rates_destroy(t);
    return rc;
}

int billing_db_month_parse(const char *s, char *out, size_t size)
{
    char date[16];
    int32_t day;

    if (strlen(s) == 7)
        snprintf(date, sizeof date, "%s-01", s);
    else
        snprintf(date, sizeof date, "%.10s", s);
    if (strlen(s) > 10 || dates_parse(date, &day) < 0)
        return -1;
    dates_format(premiums_month_first(day), out, size);
    return 0;
}

static int invoice_call(PGconn *pg, const char *sql, int nparams, const char *const *params,
                        billing_invoice_ref *ref, char *errstr, size_t n)
{
    PGresult *res = pg_query(pg, sql, nparams, params, errstr, n);

    if (!res)
        return -1;
    memset(ref, 0, sizeof *ref);
    snprintf(ref->invoice_id, sizeof ref->invoice_id, "%s", PQgetvalue(res, 0, 0));
    snprintf(ref->status, sizeof ref->status, "%s", PQgetvalue(res, 0, 1));
    ref->issued_now = PQgetvalue(res, 0, 2)[0] == 't';
    PQclear(res);
    return 0;
}

int billing_db_compute(PGconn *pg, const char *agreement, const char *month,
                       billing_invoice_ref *ref, char *errstr, size_t n)
{
    const char *p[2] = {agreement, month};

    return invoice_call(pg, "SELECT invoice_id, status, false FROM invoice_compute($1, $2::date)",
                        2, p, ref, errstr, n);
}

int billing_db_issue(PGconn *pg, const char *agreement, const char *month, const char *actor,
                     billing_invoice_ref *ref, char *errstr, size_t n)
{
    const char *p[3] = {agreement, month, actor};

    return invoice_call(pg,
                        "SELECT i.invoice_id, 'ISSUED', i.issued_now"
                        " FROM invoice_issue($1, $2::date, $3) i",
                        3, p, ref, errstr, n);
}

PGresult *billing_db_invoice(PGconn *pg, const char *agreement, const char *month,
                             char *errstr, size_t n)
{
    const char *p[2] = {agreement, month};

    return pg_query(pg,
                    "SELECT v.invoice_id, v.agreement_id, to_char(v.billing_month, 'YYYY-MM') AS month,"
                    " v.status, v.premium_scheme, v.workers, v.worker_months,"
                    " v.adjustment_worker_months, v.current_idr, v.adjustment_idr, v.total_idr,"
                    " coalesce(b.paid_idr, 0) AS paid_idr,"
                    " coalesce(b.outstanding_idr, v.total_idr) AS outstanding_idr,"
                    " array_to_string(v.rates_versions, ', ') AS rates_versions,"
                    " to_char(v.computed_at, 'YYYY-MM-DD HH24:MI:SS') AS computed_at,"
                    " coalesce(to_char(v.issued_at, 'YYYY-MM-DD HH24:MI:SS'), '') AS issued_at,"
                    " coalesce(v.issued_by, '') AS issued_by"
                    " FROM invoices v"
                    " LEFT JOIN invoice_balances('infinity') b USING (invoice_id)"
                    " WHERE v.invoice_id = invoice_uuid($1, $2::date)",
                    2, p, errstr, n);
}

PGresult *billing_db_invoice_lines(PGconn *pg, const char *invoice_id, char *errstr, size_t n)
{
    const char *p[1] = {invoice_id};

    return pg_query(pg,
                    "SELECT i.kind, to_char(i.service_month, 'YYYY-MM') AS month,"
                    " substr(i.region_code, 1, 2) || '.' || substr(i.region_code, 3, 2) || '.'"
                    "  || substr(i.region_code, 5, 2) AS kecamatan, coalesce(r.name, '') AS name,"
                    " i.role,"
                    " (count(DISTINCT i.nik) FILTER (WHERE i.worker_months > 0)"
                    "  - count(DISTINCT i.nik) FILTER (WHERE i.worker_months < 0)) AS worker_months,"
                    " coalesce(sum(i.amount_idr) FILTER (WHERE i.program = 'JKK'), 0) AS jkk_idr,"
                    " coalesce(sum(i.amount_idr) FILTER (WHERE i.program = 'JKM'), 0) AS jkm_idr,"
                    " coalesce(sum(i.amount_idr) FILTER (WHERE i.program = 'JHT'), 0) AS jht_idr,"
                    " sum(i.amount_idr) AS total_idr"
                    " FROM invoice_items i LEFT JOIN regions r ON r.region_code = i.region_code"
                    " WHERE i.invoice_id = $1::uuid"
                    " GROUP BY i.kind, i.service_month, i.region_code, r.name, i.role"
                    " ORDER BY i.kind DESC, i.service_month, i.region_code, i.role",
                    1, p, errstr, n);
}

PGresult *billing_db_invoices(PGconn *pg, const char *agreement, char *errstr, size_t n)
{
    const char *p[1] = {agreement ? agreement : ""};

    return pg_query(pg,
                    "SELECT v.agreement_id, to_char(v.billing_month, 'YYYY-MM') AS month, v.status,"
                    " v.workers, v.current_idr, v.adjustment_idr, v.total_idr,"
                    " coalesce(b.paid_idr, 0) AS paid_idr,"
                    " CASE WHEN v.status = 'ISSUED' THEN b.outstanding_idr END AS outstanding_idr,"
                    " coalesce(to_char(v.issued_at, 'YYYY-MM-DD'), '') AS issued_on, v.invoice_id"
                    " FROM invoices v LEFT JOIN invoice_balances('infinity') b USING (invoice_id)"
                    " WHERE $1 = '' OR v.agreement_id = $1"
                    " ORDER BY v.agreement_id, v.billing_month",
                    1, p, errstr, n);
}

PGresult *billing_db_pay(PGconn *pg, const char *agreement, const char *month,
                         long long amount_idr, const char *paid_on, const char *reference,
                         const char *actor, char *errstr, size_t n)
{
    char amount[32] = "";
    const char *p[6] = {agreement, month, amount_idr > 0 ? amount : NULL, paid_on, reference,
                        actor};
    const char *q[3] = {agreement, month, NULL};
    PGresult *res;

    snprintf(amount, sizeof amount, "%lld", amount_idr);
    if (!(res = pg_query(pg,
                         "SELECT invoice_pay(invoice_uuid($1, $2::date), $3::bigint, $4::date, $5,"
                         " $6)",
                         6, p, errstr, n)))
        return NULL;
    q[2] = PQgetisnull(res, 0, 0) ? NULL : PQgetvalue(res, 0, 0);
    {
        PGresult *bal = pg_query(pg,
                                 "SELECT $3::bigint AS payment_id, total_idr, paid_idr,"
                                 " outstanding_idr FROM invoice_balances('infinity')"
                                 " WHERE invoice_id = invoice_uuid($1, $2::date)",
                                 3, q, errstr, n);
        PQclear(res);
        return bal;
    }
}

PGresult *billing_db_lapse(PGconn *pg, const char *as_of, const char *agreement,
                           const char *actor, char *errstr, size_t n)
{
    const char *p[3] = {as_of, agreement, actor};

    return pg_query(pg,
                    "SELECT l.agreement_id, left(l.nik, 4) || '********' || right(l.nik, 4) AS nik,"
                    " l.lapsed_on, to_char(l.unpaid_from, 'YYYY-MM') AS unpaid_from,"
                    " l.unpaid_months, l.coverages_closed"
                    " FROM billing_lapse($1::date, $2, $3) l",
                    3, p, errstr, n);
}

PGresult *billing_db_status(PGconn *pg, const char *agreement, char *errstr, size_t n)
{
    const char *p[1] = {agreement ? agreement : ""};
    PGresult *res = NULL, *lock;
    char ignored[256];

    /* The budget ledgers (deploy/sql/012) set exactly, under the lock the roster consumer's
     * budget rule takes, so that the guard and this report agree. */
    if (pg_exec(pg, "BEGIN", errstr, n) < 0)
        return NULL;
    if (!(lock = pg_query(pg,
                          "SELECT pg_advisory_xact_lock(73104, hashtext(x.agreement_id)) FROM ("
                          " SELECT agreement_id FROM agreements WHERE budget_idr IS NOT NULL"
                          "  AND ($1 = '' OR agreement_id = $1) ORDER BY 1) x",
                          1, p, errstr, n)))
        goto fail;
    PQclear(lock);
    if (!(lock = pg_query(pg,
                          "SELECT l.agreement_id FROM agreements a"
                          " CROSS JOIN LATERAL budget_ledger_refresh(a.agreement_id, interval '0') l"
                          " WHERE a.budget_idr IS NOT NULL AND ($1 = '' OR a.agreement_id = $1)",
                          1, p, errstr, n)))
        goto fail;
    PQclear(lock);
    res = pg_query(pg,
                   "SELECT a.agreement_id, a.premium_scheme AS scheme,"
                   " coalesce(a.budget_idr::text, '-') AS budget_idr, a.budget_policy AS policy,"
                   " k.issued_idr, coalesce(pd.paid, 0) AS paid_idr, k.pending_idr AS adjust_idr,"
                   " k.projected_idr, k.committed_idr,"
                   " coalesce((a.budget_idr - k.committed_idr)::text, '-') AS remaining_idr,"
                   " coalesce(round(100.0 * k.committed_idr / nullif(a.budget_idr, 0), 1)::text,"
                   "  '-') AS used_pct,"
                   " (SELECT count(*) FROM invoice_balances(current_date) b"
                   "  WHERE b.agreement_id = a.agreement_id AND NOT b.paid_in_full) AS unpaid,"
                   " (SELECT count(DISTINCT l.nik) FROM coverage_lapses l"
                   "  WHERE l.agreement_id = a.agreement_id) AS lapsed,"
                   " (SELECT count(*) FROM budget_warnings w"
                   "  WHERE w.agreement_id = a.agreement_id) AS warnings,"
                   " k.unpriced_months AS unpriced"
                   " FROM agreements a CROSS JOIN LATERAL agreement_commitment(a.agreement_id) k"
                   " LEFT JOIN (SELECT v.agreement_id, sum(p.amount_idr) AS paid"
                   "  FROM invoice_payments p JOIN invoices v USING (invoice_id)"
                   "  GROUP BY v.agreement_id) pd ON pd.agreement_id = a.agreement_id"
                   " WHERE $1 = '' OR a.agreement_id = $1 ORDER BY a.agreement_id",
                   1, p, errstr, n);
    if (!res || pg_exec(pg, "COMMIT", errstr, n) < 0)
        goto fail;
    return res;
fail:
    PQclear(res);
    pg_exec(pg, "ROLLBACK", ignored, sizeof ignored);
    return NULL;
}
