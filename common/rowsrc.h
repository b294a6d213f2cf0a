/* rowsrc: streaming row sources over RFC 4180 CSV (libcsv) and JSON Lines (jansson).
 *
 * A source reads one record at a time from a FILE it does not own and hands out a row
 * of (name, value, column) cells. Memory per source stays bounded by the longest
 * record; buffers are reused from row to row. A source is used by one thread at a time. */
#ifndef ROWSRC_H
#define ROWSRC_H

#include <stddef.h>
#include <stdio.h>

typedef enum { ROWSRC_CSV, ROWSRC_JSONL } rowsrc_format;

typedef struct rowsrc rowsrc;

/* One record. Everything it points to belongs to the source and stays valid until the
 * next rowsrc_next or rowsrc_destroy on that source. */
typedef struct rowsrc_row {
    long line;           /* 1-based line where the record starts (CSV: the header is line 1) */
    int ncells;
    const char **names;  /* header names (CSV) or JSON keys */
    const char **values; /* NULL when the cell is empty or absent (empty string, JSON null) */
    int *columns;        /* 1-based column: CSV field index; JSONL: character offset of the key */
    unsigned long header_id; /* CSV: a number no other source of this process has, so rows with
                              * the same id have the same names (a row module may keep what
                              * it looked up per name); 0 for JSONL and rows built elsewhere */
} rowsrc_row;

/* Open a source on in (not owned, never closed). name is used in messages; "-" is shown
 * as "<stdin>". For CSV the header row is read and checked at once: a UTF-8 BOM is
 * stripped, names are trimmed, and an empty or repeated name is an error.
 * Returns NULL and fills errstr ("file:line:column: rule") on failure. */
rowsrc *rowsrc_new(FILE *in, const char *name, rowsrc_format fmt, char *errstr, size_t errstr_size);

/* Free the source and every row it handed out. Accepts NULL. */
void rowsrc_destroy(rowsrc *rs);

/* Read the next record into *row.
 * Returns 1 for a row, 0 at the end of input, or -1 when this record is malformed, with
 * errstr = "file:line:column: rule" (CSV: wrong number of fields, stray or unterminated
 * quote; JSONL: invalid JSON, a line that is not an object, an array, object or boolean
 * value; both: invalid UTF-8, a record longer than 1 MiB). After -1 the caller may call
 * again to go on with the next record; after a read error the next call returns 0.
 * Blank lines are skipped. */
int rowsrc_next(rowsrc *rs, const rowsrc_row **row, char *errstr, size_t errstr_size);

/* The name used in messages ("<stdin>" for "-"). Owned by the source. */
const char *rowsrc_name(const rowsrc *rs);

/* Header names of a CSV source into *names (owned by the source); returns their count.
 * For JSONL sets *names to NULL and returns 0. */
int rowsrc_header(const rowsrc *rs, const char ***names);

/* Write "file:line:column: " and the formatted rule into errstr (nothing when errstr is NULL
 * or size is 0; cut to size) and return -1. The message shape of every row error; for the
 * row modules over rowsrc as well. Any thread may call it. */
int rowsrc_error(char *errstr, size_t size, const char *file, long line, int column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The bytes the values of the last CSV row returned point into: *base and the length,
 * every value inside it and NUL-terminated there, for copying a row in one piece (values
 * move by the same offset). Owned by the source, valid as the row is. Returns 0 with
 * *base NULL for JSONL. */
size_t rowsrc_cells(const rowsrc *rs, const char **base);

/* Value of the cell called name, or NULL when absent or empty. */
const char *rowsrc_get(const rowsrc_row *row, const char *name);
/* 1-based column of the cell called name, or 0 when the row has no such cell. */
int rowsrc_column(const rowsrc_row *row, const char *name);

#endif
