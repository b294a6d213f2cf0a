/* fuzz_rowsrc_jsonl: the input is a JSON Lines file. rowsrc reads every record, going on
 * after a malformed one as the producers do. Asserts rowsrc's promises besides memory
 * safety: a key is UTF-8 and appears once, a present value is non-empty UTF-8 without NUL
 * (strings as they are, numbers as text), a key's column is within its line, lines only
 * grow, and every error message is terminated "file:line:column: rule" text. */
#include <stdint.h>
#include <string.h>

#include "support/fuzzcheck.h"
#include "rowsrc.h"
#include "utf8.h"

#define MAX_ROWS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    FILE *f = fuzzcheck_open(data, size);
    rowsrc *rs = rowsrc_new(f, "fuzz.jsonl", ROWSRC_JSONL, err, sizeof err);
    const rowsrc_row *row;
    const char **names;
    long last = 0;
    int r;

    if (!rs)
        fuzzcheck_fail("rowsrc_new failed on JSON Lines: %s", err);
    if (rowsrc_header(rs, &names) != 0 || names)
        fuzzcheck_fail("a JSON Lines source has a header");
    for (int rows = 0; rows < MAX_ROWS && (r = rowsrc_next(rs, &row, err, sizeof err)) != 0; rows++) {
        if (r < 0) {
            fuzzcheck_text("rowsrc error", err, sizeof err);
            if (strncmp(err, "fuzz.jsonl:", 11) != 0)
                fuzzcheck_fail("error '%s' does not start with the file name", err);
            continue;
        }
        if (row->line <= last)
            fuzzcheck_fail("row line %ld after line %ld", row->line, last);
        last = row->line;
        for (int i = 0; i < row->ncells; i++) {
            const char *v = row->values[i];
            if (!utf8_valid(row->names[i]))
                fuzzcheck_fail("key %d is not UTF-8", i + 1);
            for (int j = 0; j < i; j++)
                if (strcmp(row->names[i], row->names[j]) == 0)
                    fuzzcheck_fail("key %d repeats key %d", i + 1, j + 1);
            if (v && (!v[0] || !utf8_valid(v)))
                fuzzcheck_fail("value %d is empty or not UTF-8 but not NULL", i + 1);
            if (row->columns[i] < 0 || (size_t)row->columns[i] > size)
                fuzzcheck_fail("key %d has column %d", i + 1, row->columns[i]);
            if (rowsrc_column(row, row->names[i]) != row->columns[i])
                fuzzcheck_fail("rowsrc_column disagrees with key %d", i + 1);
        }
    }
    rowsrc_destroy(rs);
    fuzzcheck_close(f);
    return 0;
}
