/* billing_db: the billing workflow's calls into PostgreSQL (deploy/sql/012_billing.sql):
 * syncing the premium files, computing and issuing invoices, payments, lapses, and the
 * reads covadm prints. The rules themselves are SQL functions there (invoice_compute,
 * invoice_issue, invoice_pay, billing_lapse, agreement_commitment); this module only
 * calls them, each in a transaction of its own. Results that are tables are returned as
 * PGresult (the caller PQclear()s). Called on the thread that owns the connection. */
#ifndef BILLING_DB_H
#define BILLING_DB_H

#include <stddef.h>
#include <libpq-fe.h>

#include "premiums_db.h"

/* Read and validate both premium files, then make premium_rates and billing_rules hold
 * their rows (premiums_db_sync). 0, or -1 + errstr ("path:line: rule" for a file). */
int billing_db_sync_files(PGconn *pg, const char *rates_path, const char *rules_path,
                          premiums_db_counts *counts, char *errstr, size_t errstr_size);

/* "2024-01" (or any date of the month, "2024-01-15") as the month's first day
 * "2024-01-01" into out (size >= 11). 0, or -1 when s is neither. */
int billing_db_month_parse(const char *s, char *out, size_t size);

typedef struct billing_invoice_ref {
    char invoice_id[37];
    char status[8];     /* DRAFT or ISSUED */
    int issued_now;     /* billing_db_issue: 1 when this call issued it */
} billing_invoice_ref;

/* (Re)compute the draft invoice of agreement for month ("YYYY-MM-01"); an issued invoice
 * is left as it is (status ISSUED). 0 + *ref, or -1 + errstr (PostgreSQL's message: an
 * unknown agreement, a month outside its period, a later month issued, no rate). */
int billing_db_compute(PGconn *pg, const char *agreement, const char *month,
                       billing_invoice_ref *ref, char *errstr, size_t errstr_size);

/* Compute once more and issue it, queueing its event for billing-relay; issued_now 0 when
 * it already was issued (nothing changed). 0 + *ref, or -1 + errstr. */
int billing_db_issue(PGconn *pg, const char *agreement, const char *month, const char *actor,
                     billing_invoice_ref *ref, char *errstr, size_t errstr_size);

/* The invoice's header: one row (no row when there is no invoice) with invoice_id,
 * agreement_id, month, status, premium_scheme, workers, worker_months,
 * adjustment_worker_months, current_idr, adjustment_idr, total_idr, paid_idr,
 * outstanding_idr, rates_versions, computed_at, issued_at, issued_by. */
PGresult *billing_db_invoice(PGconn *pg, const char *agreement, const char *month,
                             char *errstr, size_t errstr_size);

/* Its lines by kind, service month, kecamatan and role: worker-months and the amount per
 * program and in all, CURRENT first. */
PGresult *billing_db_invoice_lines(PGconn *pg, const char *invoice_id, char *errstr,
                                   size_t errstr_size);

/* Every invoice (of agreement, unless NULL) with what was paid. */
PGresult *billing_db_invoices(PGconn *pg, const char *agreement, char *errstr,
                              size_t errstr_size);

/* Record a payment of the issued invoice of agreement and month: amount_idr <= 0 pays what
 * is still owed; paid_on "YYYY-MM-DD". One row: payment_id (NULL when the reference was
 * recorded before), total_idr, paid_idr, outstanding_idr. NULL + errstr on failure. */
PGresult *billing_db_pay(PGconn *pg, const char *agreement, const char *month,
                         long long amount_idr, const char *paid_on, const char *reference,
                         const char *actor, char *errstr, size_t errstr_size);

/* Apply the lapse rule as of a date (of one agreement, or all when NULL), committed: the
 * workers whose coverages it closed now (agreement_id, nik, lapsed_on, unpaid_from,
 * unpaid_months, coverages_closed). NULL + errstr on failure. */
PGresult *billing_db_lapse(PGconn *pg, const char *as_of, const char *agreement,
                           const char *actor, char *errstr, size_t errstr_size);

/* Budget status per agreement (of agreement, unless NULL): budget, policy, issued, paid,
 * adjustments pending, projected, committed, remaining, share of the budget committed,
 * unpaid invoices, lapsed workers, budget warnings. NULL + errstr on failure. */
PGresult *billing_db_status(PGconn *pg, const char *agreement, char *errstr,
                            size_t errstr_size);

#endif
