/* datafile: the data files of data-driven unit tests (tests/unit/data/): one case a line,
 * fields separated by TABs, blank lines and '#' comment lines skipped, every case keeping
 * the number of its line for the messages of its assertions; scenario tables (.tsv with a
 * header row) whose rows each test splits itself; or a file read whole (a golden output,
 * a schema). Linked into every unit test. */
#ifndef DATAFILE_H
#define DATAFILE_H

#include <stddef.h>

#include <criterion/parameterized.h>

#define DATAFILE_MAX_FIELDS 32

/* One data line, valid during the fill callback only. */
typedef struct datafile_line {
    int line;                          /* 1-based number of the line in the file */
    int nfields;
    char *field[DATAFILE_MAX_FIELDS];  /* the line (end stripped) split at TABs; the last field
                                          keeps the rest of the line, TABs included */
} datafile_line;

/* Turn a data line into the case at out; 1 when the line is a case, 0 to skip it. */
typedef int (*datafile_fill_fn)(const datafile_line *l, void *out);

/* Read path and, for each line that is neither blank nor a '#' comment, split it into at
 * most max_fields fields (1 leaves the line whole) and call fill with the next free case of
 * cases (an array of max cases of size bytes each). Returns the number of cases filled,
 * 0 when path cannot be opened. */
size_t datafile_load(const char *path, int max_fields, void *cases, size_t size, size_t max,
                     datafile_fill_fn fill);

/* A case of the common shape "input<TAB>OK or ERR<TAB>expectation". */
typedef struct datafile_case {
    int line;         /* 1-based number of its line */
    char input[40];
    int ok;           /* the second field is "OK" */
    char expect[120]; /* what OK or ERR expects, in the file's own notation */
} datafile_case;

/* datafile_load of the lines of path with exactly those three fields into cases (max of
 * them); returns their count, 0 when path cannot be opened. */
size_t datafile_load_cases(const char *path, datafile_case *cases, size_t max);

/* Criterion parameters for the first n cases of size bytes each: a cr_malloc'ed copy that
 * Criterion frees after the tests. For ParameterizedTestParameters. */
struct criterion_test_params datafile_params(const void *cases, size_t n, size_t size);

/* A row of a scenario table: a .tsv whose first row names the columns ("name\t..."). */
typedef struct datafile_row {
    int line;         /* 1-based number of its line */
    char text[2048];  /* the row whole, TABs included */
} datafile_row;

/* The number of rows of path but the header row (all of them, however many), 0 when path
 * cannot be opened. */
size_t datafile_count_rows(const char *path);

/* Criterion parameters for the rows of path but the header row (at most max of them): a
 * copy as datafile_params makes. For ParameterizedTestParameters. */
struct criterion_test_params datafile_row_params(const char *path, size_t max);

/* Split s in place at sep into at most n fields; returns the field count, n + 1 when s
 * holds more. */
int datafile_split(char *s, char sep, char **field, int n);

/* The whole of path as a malloc'd NUL-terminated string, which the caller frees; NULL when
 * path cannot be opened or read. */
char *datafile_text(const char *path);

#endif
