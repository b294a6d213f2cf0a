/* premiums_db: the premium tables' rows in PostgreSQL. */
#include "premiums_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "pg.h"
#include "roster.h"

enum { RATE_COLS = 8, RULE_COLS = 6, MAX_COLS = 8, NUM_SIZE = 24 };

static const char sync_rates[] =
    "WITH f AS (SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[],"
    "  $5::smallint[], $6::text[], $7::bigint[], $8::text[])"
    "  AS f (version, effective_from, scheme, program, risk_class, kind, value, source)),"
    " del AS (DELETE FROM premium_rates r WHERE NOT EXISTS (SELECT 1 FROM f"
    "  WHERE (f.version, f.scheme, f.program, f.risk_class, f.kind)"
    "   = (r.version, r.scheme, r.program, r.risk_class, r.kind)) RETURNING 1),"
    " up AS (INSERT INTO premium_rates AS r SELECT * FROM f"
    "  ON CONFLICT (version, scheme, program, risk_class, kind) DO UPDATE"
    "  SET effective_from = EXCLUDED.effective_from, value = EXCLUDED.value,"
    "   source = EXCLUDED.source"
    "  WHERE (r.effective_from, r.value, r.source)"
    "   IS DISTINCT FROM (EXCLUDED.effective_from, EXCLUDED.value, EXCLUDED.source)"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM del)";

static const char sync_rules[] =
    "WITH f AS (SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[],"
    "  $5::bigint[], $6::text[]) AS f (version, effective_from, scheme, rule, value, source)),"
    " del AS (DELETE FROM billing_rules r WHERE NOT EXISTS (SELECT 1 FROM f"
    "  WHERE (f.version, f.scheme, f.rule) = (r.version, r.scheme, r.rule)) RETURNING 1),"
    " up AS (INSERT INTO billing_rules AS r SELECT * FROM f"
    "  ON CONFLICT (version, scheme, rule) DO UPDATE"
    "  SET effective_from = EXCLUDED.effective_from, value = EXCLUDED.value,"
    "   source = EXCLUDED.source"
    "  WHERE (r.effective_from, r.value, r.source)"
    "   IS DISTINCT FROM (EXCLUDED.effective_from, EXCLUDED.value, EXCLUDED.source)"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM del)";

/* Column arrays of one table: cols[k][i] the text of row i's column k. */
typedef struct columns {
    int ncols;
    size_t nrows;
    const char **cols[MAX_COLS];
    char *numbers;           /* NUM_SIZE bytes per row and column, for formatted values */
    char *literal[MAX_COLS];
} columns;

static void columns_release(columns *c)
{
    for (int k = 0; k < MAX_COLS; k++) {
        free(c->cols[k]);
        free(c->literal[k]);
    }
    free(c->numbers);
}

static int columns_init(columns *c, int ncols, size_t nrows)
{
    memset(c, 0, sizeof *c);
    c->ncols = ncols;
    c->nrows = nrows;
    c->numbers = malloc(nrows * MAX_COLS * NUM_SIZE + 1);
    for (int k = 0; k < ncols; k++)
        if (!(c->cols[k] = calloc(nrows + 1, sizeof *c->cols[k])))
            return -1;
    return c->numbers ? 0 : -1;
}

static char *number(columns *c, size_t row, int col)
{
    return c->numbers + (row * MAX_COLS + (size_t)col) * NUM_SIZE;
}

/* Run sql with the columns as array parameters; *changed and *removed from its one row. */
static int run(PGconn *pg, const char *sql, columns *c, const char *what, long *changed,
               long *removed, char *errstr, size_t n)
{
    const char *params[MAX_COLS];
    PGresult *res;

    for (int k = 0; k < c->ncols; k++) {
        size_t size = 3;
        for (size_t i = 0; i < c->nrows; i++)
            size += 2 * strlen(c->cols[k][i]) + 3;
        if (!(c->literal[k] = malloc(size)) ||
            pg_array_literal(c->cols[k], (int)c->nrows, c->literal[k], size) < 0) {
            snprintf(errstr, n, "%s: out of memory", what);
            return -1;
        }
        params[k] = c->literal[k];
    }
    if (!(res = pg_query(pg, sql, c->ncols, params, errstr, n))) {
        size_t len = strlen(errstr);
        snprintf(errstr + len, n - len, " (syncing %s)", what);
        return -1;
    }
    *changed = atol(PQgetvalue(res, 0, 0));
    *removed = atol(PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

static const char *program_name(unsigned program)
{
    return program == PROG_JKK ? "JKK" : program == PROG_JKM ? "JKM" : "JHT";
}

int premiums_db_sync(PGconn *pg, const premium_rates *t, const billing_rules *r,
                     premiums_db_counts *counts, char *errstr, size_t n)
{
    premiums_db_counts local;
    columns rates, rules;
    int own = PQtransactionStatus(pg) == PQTRANS_IDLE, rc = -1;

    if (!counts)
        counts = &local;
    memset(counts, 0, sizeof *counts);
    memset(&rules, 0, sizeof rules);
    if (columns_init(&rates, RATE_COLS, premiums_rates_count(t)) < 0 ||
        columns_init(&rules, RULE_COLS, premiums_rules_count(r)) < 0) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rates.nrows; i++) {
        const premium_rate_row *row = premiums_rates_row(t, i);
        rates.cols[0][i] = row->version;
        rates.cols[1][i] = dates_format(row->effective_from, number(&rates, i, 1), NUM_SIZE);
        rates.cols[2][i] = premiums_scheme_name(row->scheme);
        rates.cols[3][i] = program_name(row->program);
        snprintf(number(&rates, i, 4), NUM_SIZE, "%d", row->risk_class);
        rates.cols[4][i] = number(&rates, i, 4);
        rates.cols[5][i] = premiums_kind_name(row->kind);
        snprintf(number(&rates, i, 6), NUM_SIZE, "%lld", row->value);
        rates.cols[6][i] = number(&rates, i, 6);
        rates.cols[7][i] = row->source;
    }
    for (size_t i = 0; i < rules.nrows; i++) {
        const billing_rule_row *row = premiums_rules_row(r, i);
        rules.cols[0][i] = row->version;
        rules.cols[1][i] = dates_format(row->effective_from, number(&rules, i, 1), NUM_SIZE);
        rules.cols[2][i] = premiums_scheme_name(row->scheme);
        rules.cols[3][i] = row->rule;
        snprintf(number(&rules, i, 4), NUM_SIZE, "%lld", row->value);
        rules.cols[4][i] = number(&rules, i, 4);
        rules.cols[5][i] = row->source;
    }
    if (own && pg_exec(pg, "BEGIN", errstr, n) < 0)
        goto out;
    if (run(pg, sync_rates, &rates, "premium_rates", &counts->rates_changed,
            &counts->rates_removed, errstr, n) < 0 ||
        run(pg, sync_rules, &rules, "billing_rules", &counts->rules_changed,
            &counts->rules_removed, errstr, n) < 0 ||
        (own && pg_exec(pg, "COMMIT", errstr, n) < 0))
        goto rollback;
    rc = 0;
    goto out;
rollback:
    if (own) {
        char ignored[256];
        pg_exec(pg, "ROLLBACK", ignored, sizeof ignored);
    }
out:
    columns_release(&rates);
    columns_release(&rules);
    return rc;
}
