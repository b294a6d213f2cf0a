/* fuzz_rowsrc_csv: the input is a CSV file. rowsrc reads it (header, then every record,
 * going on after a malformed one as the producers do) and the row modules check its header
 * as roster and as incidents file. Asserts rowsrc's promises besides memory safety: every
 * row has one cell per header name, a present value is non-empty UTF-8 without NUL, lines
 * only grow, and every error message is terminated "file:line:column: rule" text. */
#include <stdint.h>
#include <string.h>

#include "support/fuzzcheck.h"
#include "incident_row.h"
#include "roster_row.h"
#include "rowsrc.h"
#include "utf8.h"

#define MAX_ROWS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const char *err, size_t size)
{
    fuzzcheck_text("rowsrc error", err, size);
    if (strncmp(err, "fuzz.csv:", 9) != 0)
        fuzzcheck_fail("error '%s' does not start with the file name", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    FILE *f = fuzzcheck_open(data, size);
    rowsrc *rs = rowsrc_new(f, "fuzz.csv", ROWSRC_CSV, err, sizeof err);
    const rowsrc_row *row;
    const char **names;
    long last = 1;
    int n, r;

    if (!rs) {
        check_error(err, sizeof err);
        goto out;
    }
    n = rowsrc_header(rs, &names);
    for (int i = 0; i < n; i++)
        if (!names[i][0] || !utf8_valid(names[i]))
            fuzzcheck_fail("header name %d is empty or not UTF-8", i + 1);
    if (roster_row_check_header((const char *const *)names, n, "fuzz.csv", 0, err, sizeof err) < 0)
        check_error(err, sizeof err);
    if (incident_row_check_header((const char *const *)names, n, "fuzz.csv", 1, err, sizeof err) < 0)
        check_error(err, sizeof err);
    for (int rows = 0; rows < MAX_ROWS && (r = rowsrc_next(rs, &row, err, sizeof err)) != 0; rows++) {
        if (r < 0) {
            check_error(err, sizeof err);
            continue;
        }
        if (row->ncells != n || row->names != (const char **)names)
            fuzzcheck_fail("row of %d cells under a header of %d", row->ncells, n);
        if (row->line <= last)
            fuzzcheck_fail("row line %ld after line %ld", row->line, last);
        last = row->line;
        for (int i = 0; i < row->ncells; i++) {
            const char *v = row->values[i];
            if (row->columns[i] != i + 1)
                fuzzcheck_fail("cell %d has column %d", i, row->columns[i]);
            if (v && (!v[0] || !utf8_valid(v)))
                fuzzcheck_fail("cell %d is empty or not UTF-8 but not NULL", i + 1);
            if (rowsrc_get(row, row->names[i]) != v)
                fuzzcheck_fail("rowsrc_get disagrees with cell %d", i + 1);
        }
    }
out:
    rowsrc_destroy(rs);
    fuzzcheck_close(f);
    return 0;
}
