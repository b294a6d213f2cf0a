/* benefits_db: the benefit table's rows in PostgreSQL. */
#include "benefits_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "pg.h"

enum { COLS = 4, TEXT_PER_ROW = 80, NUMBERS_PER_ROW = 32 };

int benefits_db_sync(PGconn *pg, const benefit_table *t, char *errstr, size_t n)
{
    static const char upsert[] =
        "INSERT INTO benefit_table (version, effective_from, key, value)"
        " SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[])"
        " ON CONFLICT (version, key) DO UPDATE SET effective_from = EXCLUDED.effective_from,"
        "  value = EXCLUDED.value"
        " WHERE (benefit_table.effective_from, benefit_table.value)"
        "  IS DISTINCT FROM (EXCLUDED.effective_from, EXCLUDED.value)";
    size_t rows = benefits_row_count(t), text_size = rows * TEXT_PER_ROW + 3;
    const char **cols[COLS] = {NULL}, *params[COLS];
    char *text[COLS] = {NULL}, *numbers = malloc(rows * NUMBERS_PER_ROW + 1);
    PGresult *res;
    int rc = -1;

    for (int k = 0; k < COLS; k++) {
        cols[k] = malloc((rows + 1) * sizeof *cols[k]);
        text[k] = malloc(text_size);
    }
    if (!numbers || !cols[0] || !cols[1] || !cols[2] || !cols[3] || !text[0] || !text[1] ||
        !text[2] || !text[3]) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rows; i++) {
        const benefit_row *r = benefits_row_at(t, i);
        char *date = numbers + i * NUMBERS_PER_ROW, *value = date + 16;
        cols[0][i] = r->version;
        cols[1][i] = dates_format(r->effective_from, date, 16);
        cols[2][i] = r->key;
        snprintf(value, 16, "%lld", r->value);
        cols[3][i] = value;
    }
    for (int k = 0; k < COLS; k++) {
        if (pg_array_literal(cols[k], (int)rows, text[k], text_size) < 0) {
            snprintf(errstr, n, "benefit table: a value is too long");
            goto out;
        }
        params[k] = text[k];
    }
    if (!(res = pg_query(pg, upsert, COLS, params, errstr, n)))
        goto out;
    PQclear(res);
    rc = 0;
out:
    for (int k = 0; k < COLS; k++) {
        free(cols[k]);
        free(text[k]);
    }
    free(numbers);
    return rc;
}

benefit_table *benefits_db_load(PGconn *pg, char *errstr, size_t n)
{
    benefit_table *t = NULL;
    benefit_row *rows = NULL;
    PGresult *res;
    int nrows;

    if (!(res = pg_query(pg,
                         "SELECT version, effective_from - DATE '1970-01-01', key, value"
                         " FROM benefit_table ORDER BY effective_from, version, key",
                         0, NULL, errstr, n)))
        return NULL;
    if ((nrows = PQntuples(res)) == 0) {
        snprintf(errstr, n, "benefit_table is empty: start the incident consumer once, or pass"
                            " --benefits deploy/benefits/benefit_table.tsv");
        goto out;
    }
    if (!(rows = calloc((size_t)nrows, sizeof *rows))) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    for (int i = 0; i < nrows; i++) {
        rows[i].version = PQgetvalue(res, i, 0);
        rows[i].effective_from = (int32_t)atol(PQgetvalue(res, i, 1));
        rows[i].key = PQgetvalue(res, i, 2);
        rows[i].value = atoll(PQgetvalue(res, i, 3));
    }
    if (!(t = benefits_from_rows(rows, (size_t)nrows, errstr, n))) {
        size_t len = strlen(errstr);
        snprintf(errstr + len, n - len, " (in table benefit_table)");
    }
out:
    free(rows);
    PQclear(res);
    return t;
}
