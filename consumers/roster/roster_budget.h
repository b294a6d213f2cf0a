/* roster_budget: the budget rule of the roster consumer, a piece of its own beside the
 * rules of roster_apply.c. An ENROLL under an agreement with a budget (agreements.budget_idr,
 * deploy/sql/012) costs the premiums of its term (premium_term_months: every program, every
 * month owed); what the agreement has committed already is its budget_ledger row, computed
 * exactly by agreement_commitment() when missing or older than 10 minutes and raised by
 * every enrolment applied since (a termination since leaves it high until the next exact
 * computation: the guard errs on the safe side). When committed
 * plus the cost of this enrolment and of the enrolments before it in the round (batch
 * order) exceeds the budget, or the premiums cannot be priced (premium tables not synced),
 * the agreement's budget_policy decides: "reject" dead-letters the event (class rule,
 * reason "budget_exceeded: ..."), "warn" applies it, records a budget_warnings row and logs
 * a warning. UPDATEs that lengthen a term are not checked.
 *
 * The round's budgeted agreements are locked first (pg_advisory_xact_lock(73104,
 * hashtext(agreement_id)), as invoice_compute does), in a statement of its own, so that the
 * decision's snapshot sees what a consumer that held the lock committed: two consumers
 * never both spend the same remainder. Called on the apply thread that owns the
 * connection, inside the batch's transaction. */
#ifndef ROSTER_BUDGET_H
#define ROSTER_BUDGET_H

#include <stddef.h>
#include <libpq-fe.h>

/* Check round `round` of the staged batch (stg_roster rows not rejected yet): sets
 * stg_roster.reject of the refused, records and logs the warned. 0, or -1 + errstr. */
int roster_budget_round(PGconn *pg, const char *round, char *errstr, size_t errstr_size);

#endif
