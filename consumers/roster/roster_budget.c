/* roster_budget: enrolments against their agreement's budget. */
#include "roster_budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg.h"

/* $1 = round. The agreements of the round that have a budget, locked in id order. */
static const char lock_sql[] =
    "SELECT pg_advisory_xact_lock(73104, hashtext(x.agreement_id)) FROM ("
    " SELECT DISTINCT s.agreement_id FROM stg_roster s"
    " JOIN agreements a ON a.agreement_id = s.agreement_id"
    " WHERE s.round = $1::int AND s.reject IS NULL AND s.change = 'ENROLL'"
    "  AND a.budget_idr IS NOT NULL ORDER BY 1) x";

/* A ledger older than this is computed exactly again (budget_ledger, deploy/sql/012). */
#define REFRESH_AGE "10 minutes"

/* $1 = round. The ledger rows of the round's budgeted agreements, exact when stale; in a
 * statement of its own, after the lock, so that it sees what the lock's holder committed. */
static const char refresh_sql[] =
    "SELECT l.agreement_id FROM ("
    " SELECT DISTINCT s.agreement_id FROM stg_roster s"
    " JOIN agreements a ON a.agreement_id = s.agreement_id"
    " WHERE s.round = $1::int AND s.reject IS NULL AND s.change = 'ENROLL'"
    "  AND a.budget_idr IS NOT NULL ORDER BY 1) x"
    " CROSS JOIN LATERAL budget_ledger_refresh(x.agreement_id, interval '" REFRESH_AGE "') l";

/* $1 = round. Rejects (policy reject) and records warnings (policy warn); returns every
 * enrolment over budget in batch order. */
static const char check_sql[] =
    "WITH cand AS MATERIALIZED ("
    " SELECT s.seq, s.event_id, s.nik, s.agreement_id, a.budget_idr, a.budget_policy,"
    "  a.premium_scheme, coalesce(a.jkk_risk_class, 0) AS risk, s.programs, s.monthly_wage,"
    "  s.term_start, s.term_end"
    " FROM stg_roster s JOIN agreements a ON a.agreement_id = s.agreement_id"
    " WHERE s.round = $1::int AND s.reject IS NULL AND s.change = 'ENROLL'"
    "  AND a.budget_idr IS NOT NULL),"
    " cost AS MATERIALIZED ("
    " SELECT c.seq, c.event_id, c.nik, c.agreement_id, c.budget_idr, c.budget_policy,"
    "  coalesce(sum(m.amount_idr), 0) AS cost_idr,"
    "  coalesce(bool_or(m.owed IS NULL OR (m.owed AND m.amount_idr IS NULL)), true) AS unpriced"
    " FROM cand c CROSS JOIN LATERAL unnest(c.programs) p (program)"
    " LEFT JOIN LATERAL premium_term_months(c.premium_scheme, c.risk, p.program,"
    "  c.monthly_wage, c.term_start, c.term_end) m ON true"
    " GROUP BY c.seq, c.event_id, c.nik, c.agreement_id, c.budget_idr, c.budget_policy),"
    " base AS MATERIALIZED ("
    " SELECT l.agreement_id, l.committed_idr, l.unpriced_months FROM budget_ledger l"
    " WHERE l.agreement_id IN (SELECT agreement_id FROM cand)),"
    " run AS MATERIALIZED ("
    " SELECT k.seq, k.event_id, k.nik, k.agreement_id, k.budget_idr, k.budget_policy,"
    "  k.cost_idr, k.unpriced OR b.unpriced_months > 0 AS unpriced,"
    "  b.committed_idr + sum(k.cost_idr) OVER (PARTITION BY k.agreement_id ORDER BY k.seq)"
    "   AS after_idr"
    " FROM cost k JOIN base b USING (agreement_id)),"
    " over AS MATERIALIZED (SELECT * FROM run WHERE unpriced OR after_idr > budget_idr),"
    " refused AS ("
    " UPDATE stg_roster s SET reject = CASE WHEN o.unpriced THEN"
    "   'budget_exceeded: the premiums of agreement ' || o.agreement_id || ' cannot be priced"
    " (premium_rates or billing_rules not loaded: covadm premiums sync), so its budget of Rp '"
    "   || o.budget_idr || ' cannot be checked'"
    "  ELSE 'budget_exceeded: the enrolment costs Rp ' || o.cost_idr || ' in premiums; with it'"
    "   || ' agreement ' || o.agreement_id || ' would commit Rp ' || o.after_idr"
    "   || ' of its budget of Rp ' || o.budget_idr END"
    " FROM over o WHERE s.seq = o.seq AND o.budget_policy = 'reject' RETURNING s.seq),"
    " warned AS ("
    " INSERT INTO budget_warnings (agreement_id, event_id, nik, cost_idr, committed_idr, budget_idr)"
    " SELECT o.agreement_id, o.event_id, o.nik, CASE WHEN NOT o.unpriced THEN o.cost_idr END,"
    "  o.after_idr - o.cost_idr, o.budget_idr FROM over o WHERE o.budget_policy = 'warn'"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id),"
    " spent AS ("
    " UPDATE budget_ledger l SET committed_idr = l.committed_idr + r.cost, updated_at = now()"
    " FROM (SELECT run.agreement_id, sum(run.cost_idr) AS cost FROM run"
    "  WHERE NOT EXISTS (SELECT 1 FROM over o WHERE o.seq = run.seq AND o.budget_policy = 'reject')"
    "  GROUP BY run.agreement_id) r"
    " WHERE l.agreement_id = r.agreement_id RETURNING 1)"
    " SELECT o.budget_policy, o.agreement_id, o.event_id, o.nik, o.cost_idr,"
    "  o.after_idr - o.cost_idr, o.budget_idr, o.unpriced"
    " FROM over o ORDER BY o.seq";

enum { C_POLICY, C_AGREEMENT, C_EVENT, C_NIK, C_COST, C_BEFORE, C_BUDGET, C_UNPRICED };

int roster_budget_round(PGconn *pg, const char *round, char *errstr, size_t n)
{
    const char *params[1] = {round};
    PGresult *res;

    /* JIT is off for the batch's transaction already (roster_apply's settings statement):
     * generate_series's row estimate would make the planner compile a query that runs in
     * milliseconds, for seconds. */
    if (!(res = pg_query(pg, lock_sql, 1, params, errstr, n)))
        return -1;
    PQclear(res);
    if (!(res = pg_query(pg, refresh_sql, 1, params, errstr, n)))
        return -1;
    PQclear(res);
    if (!(res = pg_query(pg, check_sql, 1, params, errstr, n)))
        return -1;
    for (int r = 0; r < PQntuples(res); r++) {
        char masked[24];
        int reject = strcmp(PQgetvalue(res, r, C_POLICY), "reject") == 0;

        log_mask_nik(PQgetvalue(res, r, C_NIK), masked, sizeof masked);
        log_write(reject ? LOG_INFO : LOG_WARN,
                  reject ? "enrolment refused: over budget" : "enrolment over budget",
                  "agreement=%s event_id=%s nik=%s cost_idr=%s committed_idr=%s budget_idr=%s"
                  " priced=%s policy=%s",
                  PQgetvalue(res, r, C_AGREEMENT), PQgetvalue(res, r, C_EVENT), masked,
                  PQgetvalue(res, r, C_COST), PQgetvalue(res, r, C_BEFORE),
                  PQgetvalue(res, r, C_BUDGET),
                  PQgetvalue(res, r, C_UNPRICED)[0] == 't' ? "no" : "yes",
                  PQgetvalue(res, r, C_POLICY));
    }
    PQclear(res);
    return 0;
}
