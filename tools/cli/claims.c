/* claims: the JKK/JKM claim workflow for BPJS officers, over PostgreSQL.
 *   claims list [--status S] [--region CODE] [--program JKK|JKM]
 *   claims show CLAIM_ID
 *   claims receive-document CLAIM_ID DOCUMENT...
 *   claims determine CLAIM_ID --work-related yes|no
 *   claims approve CLAIM_ID
 *   claims reject CLAIM_ID --reason TEXT
 *   claims pay CLAIM_ID --payment-reference REF
 * Every change goes through the database function claim_transition() (deploy/sql/004), so
 * the claims triggers decide whether it is allowed and the transition and its outbox event
 * are written in the same transaction; changes need --actor. `list` masks NIKs; `show`
 * prints the full NIK, which the officer handling the claim needs to contact the heirs
 * and BPJS. Exit status: 0 done, 1 refused or failed (message names the claim and the
 * rule), 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benefits.h"
#include "benefits_db.h"
#include "claim_event.h"
#include "cli.h"
#include "config.h"
#include "dates.h"
#include "errstr.h"
#include "log.h"
#include "program.h"
#include "pg.h"
#include "region.h"
#include "roster.h"
#include "route.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

static const config_option options[] = {
    {"actor", CONFIG_STR, NULL, "CLAIMS_ACTOR", "who makes the change (officer id); required for changes"},
    {"status", CONFIG_STR, NULL, NULL, "list: only claims in this status"},
    {"region", CONFIG_STR, NULL, NULL, "list: only claims in this region (PP, PP.KK, PP.KK.CC, ...)"},
    {"program", CONFIG_STR, NULL, NULL, "list: only JKK or JKM claims"},
    {"limit", CONFIG_INT, "200", NULL, "list: at most this many claims"},
    {"work-related", CONFIG_STR, NULL, NULL, "determine: yes (stays JKK death) or no (becomes JKM)"},
    {"reason", CONFIG_STR, NULL, NULL, "reject: why (required); other changes: optional note"},
    {"payment-reference", CONFIG_STR, NULL, NULL, "pay: the payment's reference (required)"},
    {"benefits", CONFIG_STR, NULL, NULL,
     "determine: benefit table TSV; default: the benefit_table rows in PostgreSQL"},
    {NULL, 0, NULL, NULL, NULL},
};

/* The primary message of the last error on pg, without libpq's "ERROR:  " prefix. */
static void report_sql(const char *errstr)
{
    const char *msg = strncmp(errstr, "ERROR:  ", 8) == 0 ? errstr + 8 : errstr;
    fprintf(stderr, "claims: %s\n", msg);
}

static int valid_uuid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return 0;
    }
    return 1;
}

/* One row as "name: value" lines. */
static void print_record(PGresult *res)
{
    for (int f = 0; f < PQnfields(res); f++)
        printf("%-22s %s\n", PQfname(res, f), PQgetvalue(res, 0, f));
}

static int cmd_list(PGconn *pg, const config *cfg)
{
    const char *status = config_get(cfg, "status"), *program = config_get(cfg, "program");
    char region[11] = "", limit[24], errstr[1024];
    int level;
    PGresult *res;

    if (status && claim_status_parse(status) < 0) {
        fprintf(stderr, "claims: --status '%s' is not a claim status\n", status);
        return EXIT_USAGE;
    }
    if (program && strcmp(program, "JKK") && strcmp(program, "JKM")) {
        fprintf(stderr, "claims: --program must be JKK or JKM, not '%s'\n", program);
        return EXIT_USAGE;
    }
    if (config_get(cfg, "region") && region_normalize(config_get(cfg, "region"), region,
                                                      sizeof region, &level, errstr,
                                                      sizeof errstr) < 0) {
        fprintf(stderr, "claims: --region: %s\n", errstr);
        return EXIT_USAGE;
    }
    snprintf(limit, sizeof limit, "%lld", config_int(cfg, "limit"));
    const char *p[4] = {status ? status : "", region, program ? program : "", limit};
    res = pg_query(pg,
                   "SELECT claim_id, left(nik, 4) || '********' || right(nik, 4) AS nik,"
                   " region_code AS region, incident_date, program, benefit, status, amount_idr,"
                   " CASE WHEN late_report THEN 'late' ELSE '' END AS late,"
                   " documents_received || '/' || documents_total AS documents,"
                   " to_char(updated_at, 'YYYY-MM-DD HH24:MI') AS updated"
                   " FROM claims_overview"
                   " WHERE ($1 = '' OR status = $1) AND starts_with(region_code, $2)"
                   "  AND ($3 = '' OR program = $3)"
                   " ORDER BY opened_at, claim_id LIMIT $4::int",
                   4, p, errstr, sizeof errstr);
    if (!res) {
        report_sql(errstr);
        return EXIT_REFUSED;
    }
    cli_print_table(res, 0);
    PQclear(res);
    return 0;
}

static int cmd_show(PGconn *pg, const char *claim)
{
    static const char *const sql[] = {
        "SELECT claim_id, nik, incident_id, incident_type, incident_date, region_code, program,"
        " benefit, status, amount_idr, benefit_table_version, late_report,"
        " assessment_required, documents_received || '/' || documents_total AS documents,"
        " rejection_reason, payment_reference, opened_at, updated_at, events_unpublished"
        " FROM claims_overview WHERE claim_id = $1",
        "SELECT document, CASE WHEN received_at IS NULL THEN 'missing' ELSE 'received' END"
        "  AS state, coalesce(to_char(received_at, 'YYYY-MM-DD HH24:MI'), '') AS received_at,"
        "  coalesce(received_by, '') AS received_by"
        " FROM claim_documents WHERE claim_id = $1 ORDER BY received_at NULLS LAST, document",
        "SELECT t.transition_id AS id, to_char(t.at, 'YYYY-MM-DD HH24:MI:SS') AS at,"
        " coalesce(t.from_status, '') AS from_status, t.to_status, t.kind, t.actor,"
        " t.benefit, coalesce(t.amount_idr::text, '') AS amount_idr,"
        " coalesce(t.payment_reference, '') AS payment_ref, o.event_id,"
        " CASE WHEN o.published_at IS NULL THEN 'pending' ELSE 'published' END AS event,"
        " coalesce(t.reason, '') AS reason"
        " FROM claim_transitions t LEFT JOIN claim_outbox o USING (transition_id)"
        " WHERE t.claim_id = $1 ORDER BY t.transition_id",
    };
    static const char *const titles[] = {NULL, "documents", "transitions"};
    const char *p[1] = {claim};
    char errstr[1024];

    for (int i = 0; i < 3; i++) {
        PGresult *res = pg_query(pg, sql[i], 1, p, errstr, sizeof errstr);
        if (!res) {
            report_sql(errstr);
            return EXIT_REFUSED;
        }
        if (i == 0 && PQntuples(res) == 0) {
            fprintf(stderr, "claims: claim %s: no such claim\n", claim);
            PQclear(res);
            return EXIT_REFUSED;
        }
        if (titles[i]) {
            printf("\n%s:\n", titles[i]);
            cli_print_table(res, 0);
        } else {
            print_record(res);
        }
        PQclear(res);
    }
    return 0;
}

/* Change state through claim_transition(); prints the change. NULL arguments are SQL NULL. */
typedef struct change {
    const char *to, *kind, *actor, *reason, *payment_reference;
    const char *benefit, *program, *amount, *version;
} change;

static int apply_change(PGconn *pg, const char *claim, const change *c, char *errstr, size_t n)
{
    const char *p[10] = {claim,      c->to,      c->kind,    c->actor,  c->reason,
                         c->payment_reference, c->benefit, c->program, c->amount, c->version};
    PGresult *res = pg_query(pg,
                             "SELECT claim_transition($1::uuid, $2, $3, $4, $5, $6, $7, $8,"
                             " $9::bigint, $10)",
                             10, p, errstr, n);
    char id[24];

    if (!res)
        return -1;
    snprintf(id, sizeof id, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    /* A separate statement: the function's rows are not visible to the one that ran it. */
    const char *q[1] = {id};
    if (!(res = pg_query(pg,
                         "SELECT t.from_status, t.to_status, o.event_id FROM claim_transitions t"
                         " JOIN claim_outbox o USING (transition_id) WHERE t.transition_id = $1",
                         1, q, errstr, n)))
        return -1;
    if (PQntuples(res) == 1)
        printf("claim %s: %s -> %s (%s by %s, event %s)\n", claim, PQgetvalue(res, 0, 0),
               PQgetvalue(res, 0, 1), c->kind, c->actor, PQgetvalue(res, 0, 2));
    PQclear(res);
    return 0;
}

/* When the claim awaits documents and none is missing, it moves to UNDER_REVIEW. */
static int advance_if_complete(PGconn *pg, const char *claim, const char *actor, char *errstr,
                               size_t n)
{
    const char *p[1] = {claim};
    PGresult *res = pg_query(pg,
                             "SELECT c.status = 'AWAITING_DOCUMENTS'"
                             "  AND NOT EXISTS (SELECT 1 FROM claim_documents d"
                             "   WHERE d.claim_id = c.claim_id AND d.received_at IS NULL),"
                             " (SELECT count(*) FROM claim_documents d WHERE d.claim_id = c.claim_id)"
                             " FROM claims c WHERE c.claim_id = $1",
                             1, p, errstr, n);
    char why[64];
    int complete;

    if (!res)
        return -1;
    complete = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    snprintf(why, sizeof why, "all %s documents received",
             PQntuples(res) == 1 ? PQgetvalue(res, 0, 1) : "0");
    PQclear(res);
    if (!complete)
        return 0;
    change c = {.to = "UNDER_REVIEW", .kind = "DOCUMENTS_RECEIVED", .actor = actor, .reason = why};
    return apply_change(pg, claim, &c, errstr, n);
}

/* Status of the claim, locked for this transaction, into status (size >= 32); 0, or -1 with
 * errstr naming the claim when it does not exist. */
static int lock_claim(PGconn *pg, const char *claim, char *status, char *errstr, size_t n)
{
    const char *p[1] = {claim};
    /* claim_lock (deploy/sql/011): officers may not UPDATE claims, so not lock one either. */
    PGresult *res = pg_query(pg, "SELECT status FROM claim_lock($1)", 1, p, errstr, n);
    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        snprintf(errstr, n, "claim %s: no such claim", claim);
        PQclear(res);
        return -1;
    }
    snprintf(status, 32, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static int cmd_receive(PGconn *pg, const char *claim, char **docs, int ndocs, const char *actor,
                       char *errstr, size_t n)
{
    char status[32];
    PGresult *res;
    int missing;

    if (lock_claim(pg, claim, status, errstr, n) < 0)
        return -1;
    if (!strcmp(status, "APPROVED") || !strcmp(status, "REJECTED") || !strcmp(status, "PAID")) {
        snprintf(errstr, n, "claim %s: documents are not received for a claim that is %s", claim,
                 status);
        return -1;
    }
    for (int i = 0; i < ndocs; i++) {
        const char *p[3] = {claim, docs[i], actor};
        res = pg_query(pg,
                       "WITH d AS (SELECT document, received_at FROM claim_documents"
                       "  WHERE claim_id = $1 AND document = $2),"
                       " u AS (UPDATE claim_documents SET received_at = now(), received_by = $3"
                       "  WHERE claim_id = $1 AND document = $2 AND received_at IS NULL"
                       "  RETURNING document)"
                       " SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM u),"
                       "  (SELECT string_agg(document, ', ' ORDER BY document) FROM claim_documents"
                       "   WHERE claim_id = $1)",
                       3, p, errstr, n);
        if (!res)
            return -1;
        if (strcmp(PQgetvalue(res, 0, 0), "0") == 0) {
            snprintf(errstr, n, "claim %s: document '%s' is not on its checklist (%s)", claim,
                     docs[i], PQgetvalue(res, 0, 2));
            PQclear(res);
            return -1;
        }
        printf("claim %s: %s %s\n", claim, docs[i],
               strcmp(PQgetvalue(res, 0, 1), "0") ? "received" : "was already received");
        PQclear(res);
    }
    const char *p[1] = {claim};
    if (!(res = pg_query(pg,
                         "SELECT count(*), coalesce(string_agg(document, ', ' ORDER BY document), '')"
                         " FROM claim_documents WHERE claim_id = $1 AND received_at IS NULL",
                         1, p, errstr, n)))
        return -1;
    missing = atoi(PQgetvalue(res, 0, 0));
    if (missing)
        printf("claim %s: %d documents missing: %s\n", claim, missing, PQgetvalue(res, 0, 1));
    PQclear(res);
    return advance_if_complete(pg, claim, actor, errstr, n);
}

/* The benefit table from a TSV file when path is set, else from PostgreSQL's copy. */
static benefit_table *load_benefits(PGconn *pg, const char *path, char *errstr, size_t n)
{
    return path ? benefits_load(path, errstr, n) : benefits_db_load(pg, errstr, n);
}

/* The routing inputs of the claim's incident, worker and coverages, as the incident
 * consumer saw them. *cov is malloc'ed (caller frees). */
static int load_route_input(PGconn *pg, const char *claim, const char *nik, route_incident *in,
                            route_worker *w, route_coverage **cov, int *ncov, char *errstr,
                            size_t n)
{
    const char *p[1] = {claim}, *q[1] = {nik};
    PGresult *res = NULL;
    int level, rc = -1;

    *cov = NULL;
    *ncov = 0;
    if (!(res = pg_query(pg,
                         "SELECT i.type, i.circumstance, i.severity, i.cause,"
                         " (extract(epoch FROM i.occurred_at) * 1000000)::bigint,"
                         " (extract(epoch FROM i.first_reported_at) * 1000000)::bigint,"
                         " i.region_code"
                         " FROM claims c JOIN incidents i USING (incident_id) WHERE c.claim_id = $1",
                         1, p, errstr, n)))
        return -1;
    memset(in, 0, sizeof *in);
    in->type = (incident_type)incident_type_parse(PQgetvalue(res, 0, 0));
    in->circumstance = (incident_circumstance)incident_circumstance_parse(PQgetvalue(res, 0, 1));
    in->severity = PQgetisnull(res, 0, 2) ? SEVERITY_NONE
                   : (incident_severity)incident_severity_parse(PQgetvalue(res, 0, 2));
    in->cause = PQgetisnull(res, 0, 3) ? CAUSE_NONE
                : (incident_cause)incident_cause_parse(PQgetvalue(res, 0, 3));
    in->occurred_at_us = atoll(PQgetvalue(res, 0, 4));
    in->reported_at_us = atoll(PQgetvalue(res, 0, 5));
    in->now_us = dates_now_us();
    if (region_normalize(PQgetvalue(res, 0, 6), in->region_code, sizeof in->region_code, &level,
                         errstr, n) < 0)
        goto out;
    PQclear(res);
    if (!(res = pg_query(pg, "SELECT deceased_on - DATE '1970-01-01' FROM workers WHERE nik = $1",
                         1, q, errstr, n)))
        return -1;
    w->enrolled = PQntuples(res) == 1;
    w->deceased_on = w->enrolled && !PQgetisnull(res, 0, 0) ? (int32_t)atol(PQgetvalue(res, 0, 0))
                                                            : DATE_NONE;
    PQclear(res);
    if (!(res = pg_query(pg,
                         "SELECT program, valid_from - DATE '1970-01-01',"
                         " valid_to - DATE '1970-01-01', status, monthly_wage,"
                         " lapsed_on - DATE '1970-01-01'"
                         " FROM coverages WHERE nik = $1 ORDER BY coverage_id",
                         1, q, errstr, n)))
        return -1;
    if (PQntuples(res) && !(*cov = calloc((size_t)PQntuples(res), sizeof **cov))) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        route_coverage *c = &(*cov)[(*ncov)++];
        int prog = roster_programs_parse(PQgetvalue(res, i, 0));
        c->program = prog > 0 ? (unsigned)prog : 0;
        c->valid_from = (int32_t)atol(PQgetvalue(res, i, 1));
        c->valid_to = (int32_t)atol(PQgetvalue(res, i, 2));
        c->status = (route_coverage_status)route_coverage_status_parse(PQgetvalue(res, i, 3));
        c->monthly_wage = atoll(PQgetvalue(res, i, 4));
        c->lapsed_on = PQgetisnull(res, i, 5) ? DATE_NONE : (int32_t)atol(PQgetvalue(res, i, 5));
    }
    rc = 0;
out:
    PQclear(res);
    return rc;
}

/* Replace the checklist by docs, keeping the received state of documents on both lists. */
static int replace_checklist(PGconn *pg, const char *claim, const char *const *docs, int ndocs,
                             char *errstr, size_t n)
{
    char *list = NULL;
    size_t len = 3;
    PGresult *res;

    for (int i = 0; i < ndocs; i++)
        len += strlen(docs[i]) + 1;
    if (!(list = malloc(len))) {
        snprintf(errstr, n, "out of memory");
        return -1;
    }
    list[0] = '\0';
    for (int i = 0; i < ndocs; i++) {
        strcat(list, docs[i]);
        if (i + 1 < ndocs)
            strcat(list, "\n");
    }
    const char *p[2] = {claim, list};
    res = pg_query(pg,
                   "WITH l AS (SELECT unnest(string_to_array($2, E'\\n')) AS document),"
                   " del AS (DELETE FROM claim_documents d WHERE d.claim_id = $1"
                   "  AND d.document NOT IN (SELECT document FROM l))"
                   " INSERT INTO claim_documents (claim_id, document)"
                   " SELECT $1, document FROM l ON CONFLICT DO NOTHING",
                   2, p, errstr, n);
    free(list);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}

static int cmd_determine(PGconn *pg, const config *cfg, const char *claim, int work_related,
                         const char *actor, char *errstr, size_t n)
{
    const char *p[1] = {claim};
    benefit_table *t = NULL;
    route_coverage *cov = NULL;
    route_incident in;
    route_worker w;
    route_decision d;
    char nik[17], amount[24];
    int ncov = 0, rc = -1;
    PGresult *res = pg_query(pg, "SELECT status, benefit, nik FROM claim_lock($1)", 1, p, errstr,
                             n);

    if (!res)
        return -1;
    if (PQntuples(res) == 0) {
        snprintf(errstr, n, "claim %s: no such claim", claim);
        goto out;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "PENDING_DETERMINATION") ||
        strcmp(PQgetvalue(res, 0, 1), "JKK_DEATH")) {
        snprintf(errstr, n,
                 "claim %s: a determination applies to a JKK_DEATH claim in"
                 " PENDING_DETERMINATION, not to a %s claim in %s",
                 claim, PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 0));
        goto out;
    }
    snprintf(nik, sizeof nik, "%s", PQgetvalue(res, 0, 2));
    if (work_related) {
        change c = {.to = "AWAITING_DOCUMENTS", .kind = "DETERMINATION", .actor = actor,
                    .reason = config_get(cfg, "reason") ? config_get(cfg, "reason")
                              : "determined_work_related: JKK death benefit stands"};
        if (apply_change(pg, claim, &c, errstr, n) < 0)
            goto out;
        rc = advance_if_complete(pg, claim, actor, errstr, n);
        goto out;
    }
    if (!(t = load_benefits(pg, config_get(cfg, "benefits"), errstr, n)) ||
        load_route_input(pg, claim, nik, &in, &w, &cov, &ncov, errstr, n) < 0)
        goto out;
    if (route_determination(&in, &w, cov, ncov, t, 0, &d, errstr, n) < 0) {
        errstr_prefix(errstr, n, "claim %s: ", claim);
        goto out;
    }
    if (d.outcome != ROUTE_CLAIM) {
        change c = {.to = "REJECTED", .kind = "DETERMINATION", .actor = actor, .reason = d.reason};
        rc = apply_change(pg, claim, &c, errstr, n);
        goto out;
    }
    snprintf(amount, sizeof amount, "%lld", d.amount_idr);
    change c = {.to = claim_status_name(d.initial_status), .kind = "DETERMINATION",
                .actor = actor, .reason = d.reason, .benefit = claim_benefit_name(d.benefit),
                .program = claim_program_name(d.program),
                .amount = d.amount_idr >= 0 ? amount : NULL, .version = d.table_version};
    if (replace_checklist(pg, claim, d.documents, d.ndocuments, errstr, n) < 0 ||
        apply_change(pg, claim, &c, errstr, n) < 0)
        goto out;
    printf("claim %s: now %s %s, amount %s IDR (benefit table %s)\n", claim, c.program,
           c.benefit, amount, d.table_version);
    rc = advance_if_complete(pg, claim, actor, errstr, n);
out:
    free(cov);
    benefits_destroy(t);
    PQclear(res);
    return rc;
}

static const program_def program = {
    "claims",
    "usage: claims [options] COMMAND\n"
    "  list [--status S] [--region CODE] [--program JKK|JKM]\n"
    "                                      claims, NIKs masked\n"
    "  show CLAIM_ID                       one claim with its documents and transitions\n"
    "                                      (full NIK: for the officer handling it)\n"
    "  receive-document CLAIM_ID DOC...    mark documents received; when all are in,\n"
    "                                      AWAITING_DOCUMENTS -> UNDER_REVIEW\n"
    "  determine CLAIM_ID --work-related yes|no\n"
    "                                      PENDING_DETERMINATION -> AWAITING_DOCUMENTS;\n"
    "                                      'no' turns a JKK death claim into JKM\n"
    "  approve CLAIM_ID                    UNDER_REVIEW -> APPROVED\n"
    "  reject CLAIM_ID --reason TEXT       -> REJECTED\n"
    "  pay CLAIM_ID --payment-reference REF  APPROVED -> PAID\n"
    "Changes need --actor. Exit status: 0 done, 1 refused or failed, 2 usage.\n\n"
    "options:\n",
    PROGRAM_OPT_PG,
    options,
    1,
    -1,
    NULL,
};

/* Runs one change command in a transaction. */
static int run_change(PGconn *pg, const config *cfg, char **args, int nargs)
{
    const char *cmd = args[0], *claim = args[1], *actor = config_get(cfg, "actor");
    char errstr[1024];
    int r = -1, work_related = 0;

    if (!actor || !*actor) {
        fprintf(stderr, "claims: %s needs --actor (who makes the change)\n", cmd);
        return EXIT_USAGE;
    }
    if (!strcmp(cmd, "determine")) {
        const char *wr = config_get(cfg, "work-related");
        if (!wr || (strcmp(wr, "yes") && strcmp(wr, "no"))) {
            fprintf(stderr, "claims: determine needs --work-related yes or no\n");
            return EXIT_USAGE;
        }
        work_related = strcmp(wr, "yes") == 0;
    } else if (!strcmp(cmd, "reject") && !config_get(cfg, "reason")) {
        fprintf(stderr, "claims: reject needs --reason\n");
        return EXIT_USAGE;
    } else if (!strcmp(cmd, "pay") && !config_get(cfg, "payment-reference")) {
        fprintf(stderr, "claims: pay needs --payment-reference\n");
        return EXIT_USAGE;
    } else if (!strcmp(cmd, "receive-document") && nargs < 3) {
        fprintf(stderr, "claims: receive-document needs at least one document name\n");
        return EXIT_USAGE;
    }
    if (pg_exec(pg, "BEGIN", errstr, sizeof errstr) < 0)
        goto done;
    if (!strcmp(cmd, "receive-document")) {
        r = cmd_receive(pg, claim, args + 2, nargs - 2, actor, errstr, sizeof errstr);
    } else if (!strcmp(cmd, "determine")) {
        r = cmd_determine(pg, cfg, claim, work_related, actor, errstr, sizeof errstr);
    } else {
        const char *to = !strcmp(cmd, "approve") ? "APPROVED"
                         : !strcmp(cmd, "reject") ? "REJECTED"
                                                  : "PAID";
        change c = {.to = to, .kind = to, .actor = actor, .reason = config_get(cfg, "reason"),
                    .payment_reference = config_get(cfg, "payment-reference")};
        r = apply_change(pg, claim, &c, errstr, sizeof errstr);
    }
    if (r == 0)
        r = pg_exec(pg, "COMMIT", errstr, sizeof errstr);
done:
    if (r < 0) {
        char ignored[256];
        report_sql(errstr);
        pg_exec(pg, "ROLLBACK", ignored, sizeof ignored);
        return EXIT_REFUSED;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const char *const changes[] = {"receive-document", "determine", "approve", "reject",
                                          "pay", NULL};
    PGconn *pg = NULL;
    int rest, rc, is_change = 0;
    config *cfg = program_start(&program, argc, argv, &rest, &rc);
    char **args = argv + 1;

    if (!cfg)
        return rc;
    rc = EXIT_USAGE;
    for (int i = 0; changes[i]; i++)
        is_change |= strcmp(args[0], changes[i]) == 0;
    if (!(strcmp(args[0], "list") == 0 && rest == 1) &&
        !((strcmp(args[0], "show") == 0 || is_change) && rest >= 2 &&
          (rest == 2 || strcmp(args[0], "receive-document") == 0))) {
        program_usage(&program, stderr);
        goto out;
    }
    if (rest >= 2 && !valid_uuid(args[1])) {
        fprintf(stderr, "claims: '%s' is not a claim id (a UUID)\n", args[1]);
        goto out;
    }
    if (!(pg = program_connect_pg(&program, cfg))) {
        rc = EXIT_REFUSED;
        goto out;
    }
    PQsetErrorVerbosity(pg, PQERRORS_TERSE);
    if (strcmp(args[0], "list") == 0)
        rc = cmd_list(pg, cfg);
    else if (strcmp(args[0], "show") == 0)
        rc = cmd_show(pg, args[1]);
    else
        rc = run_change(pg, cfg, args, rest);
out:
    if (pg)
        PQfinish(pg);
    config_destroy(cfg);
    return rc;
}
