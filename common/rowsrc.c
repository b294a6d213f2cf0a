/* rowsrc: CSV (libcsv, strict RFC 4180) and JSON Lines (jansson) row sources.
 *
 * Input is read one physical line at a time and fed to libcsv, so the start line of every
 * record is known exactly, even when quoted fields span lines. A line holds at most one
 * record end: libcsv also ends a record at CR, and a CR outside quotes that is not part of
 * the line's CRLF is rejected. A record on one line without a quote or a stray CR (nearly
 * every line of an export) is split here instead, in place, with libcsv's rules for such
 * a line: fields end at commas and lose surrounding spaces and tabs. */
#include "rowsrc.h"

#include <csv.h>
#include <errno.h>
#include <stdatomic.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define MAX_RECORD (1024 * 1024)
#define NUM_SIZE 32
#define NO_VALUE SIZE_MAX

struct rowsrc {
    FILE *in;
    char *name;
    rowsrc_format fmt;
    char *line;
    size_t line_cap;
    long lineno;
    int done;               /* end of input or a read error was reported */

    rowsrc_row row;
    const char **names;     /* JSONL: keys of the current row */
    const char **values;
    int *columns;
    char *numbuf;           /* JSONL: NUM_SIZE bytes per cell for numbers as text */
    int cap;                /* cells allocated in names/values/columns/numbuf */

    /* CSV */
    struct csv_parser csv;
    int csv_live;
    const char **header;
    char *header_store;
    int nheader;
    char *cells;            /* the current record's field bytes, NUL-separated */
    size_t cells_len, cells_cap;
    size_t *offs;           /* offset of each field in cells, NO_VALUE when empty */
    int offs_cap;
    int nfields;
    int rec_done;
    int rec_fields;         /* fields before the first record end on the line */
    int bare_cr;            /* more data after a CR outside quotes */
    int keep_all;           /* store every field (header), not just the first nheader */
    char *plain;            /* the line a plain record was cut in (values point there), or NULL */
    size_t plain_len;
    int bad_col;            /* first field with a problem in this record, 0 if none */
    const char *bad_rule;

    /* JSONL */
    json_t *json;
};

int rowsrc_error(char *errstr, size_t size, const char *file, long line, int column, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!errstr || !size)
        return -1;
    n = snprintf(errstr, size, "%s:%ld:%d: ", file, line, column);
    if (n < 0 || (size_t)n >= size)
        return -1;
    va_start(ap, fmt);
    vsnprintf(errstr + n, size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int is_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Read the next physical line; strips a UTF-8 BOM from line 1.
 * Returns its length, 0 at end of input, or -1 on a read error (errstr filled). */
static ssize_t read_line(rowsrc *rs, const char **start, char *errstr, size_t size)
{
    ssize_t n = getline(&rs->line, &rs->line_cap, rs->in);

    if (n < 0) {
        if (ferror(rs->in)) {
            rowsrc_error(errstr, size, rs->name, rs->lineno + 1, 0,
                         "read error: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    rs->lineno++;
    *start = rs->line;
    if (rs->lineno == 1 && n >= 3 && memcmp(rs->line, "\xEF\xBB\xBF", 3) == 0) {
        *start += 3;
        n -= 3;
    }
    return n;
}

static int grow_cells(rowsrc *rs, int n)
{
    if (n <= rs->cap)
        return 0;
    int cap = rs->cap ? rs->cap : 16;
    while (cap < n)
        cap *= 2;
    const char **names = realloc(rs->names, (size_t)cap * sizeof *names);
    if (names)
        rs->names = names;
    const char **values = realloc(rs->values, (size_t)cap * sizeof *values);
    if (values)
        rs->values = values;
    int *columns = realloc(rs->columns, (size_t)cap * sizeof *columns);
    if (columns)
        rs->columns = columns;
    char *numbuf = realloc(rs->numbuf, (size_t)cap * NUM_SIZE);
    if (numbuf)
        rs->numbuf = numbuf;
    if (!names || !values || !columns || !numbuf)
        return -1;
    rs->cap = cap;
    return 0;
}

/* ---- CSV ---- */

static void csv_mark(rowsrc *rs, int col, const char *rule)
{
    if (!rs->bad_col) {
        rs->bad_col = col;
        rs->bad_rule = rule;
    }
}

static void csv_on_field(void *s, size_t len, void *data)
{
    rowsrc *rs = data;
    int col = ++rs->nfields;

    if (rs->rec_done)
        rs->bare_cr = 1;
    if (!rs->keep_all && col > rs->nheader)
        return;
    if (!utf8_valid_len(s, len)) {
        csv_mark(rs, col, "invalid UTF-8 or NUL byte");
        len = 0;
    }
    if (col > rs->offs_cap) {
        int cap = rs->offs_cap ? rs->offs_cap * 2 : 16;
        size_t *offs = realloc(rs->offs, (size_t)cap * sizeof *offs);
        if (!offs) {
            csv_mark(rs, col, "out of memory");
            return;
        }
        rs->offs = offs;
        rs->offs_cap = cap;
    }
    rs->offs[col - 1] = NO_VALUE;
    if (len == 0)
        return;
    if (rs->cells_len + len + 1 > rs->cells_cap) {
        size_t cap = rs->cells_cap ? rs->cells_cap : 1024;
        while (cap < rs->cells_len + len + 1)
            cap *= 2;
        char *cells = realloc(rs->cells, cap);
        if (!cells) {
            csv_mark(rs, col, "out of memory");
            return;
        }
        rs->cells = cells;
        rs->cells_cap = cap;
    }
    rs->offs[col - 1] = rs->cells_len;
    memcpy(rs->cells + rs->cells_len, s, len);
    rs->cells_len += len;
    rs->cells[rs->cells_len++] = '\0';
}

static void csv_on_record(int c, void *data)
{
    rowsrc *rs = data;

    (void)c;
    if (rs->rec_done)
        rs->bare_cr = 1;
    else
        rs->rec_fields = rs->nfields;
    rs->rec_done = 1;
}

/* Drop whatever libcsv holds of a broken record. */
static void csv_reset(rowsrc *rs)
{
    csv_set_opts(&rs->csv, CSV_STRICT);
    csv_fini(&rs->csv, NULL, NULL, NULL);
    csv_set_opts(&rs->csv, CSV_STRICT | CSV_STRICT_FINI);
}

/* Split the line p (n bytes, its line end included, a NUL after it) as libcsv would when
 * it holds a whole record without quotes: fields end at commas, and spaces and tabs around
 * them go. Fields are cut in place (values point into the line) with csv_on_field's
 * checks. Returns 1 when done (rec_done and plain set), 0 when the line has a quote or a
 * CR other than its CRLF's, for libcsv to parse. */
static int csv_split_plain(rowsrc *rs, char *p, size_t n)
{
    size_t m = n;

    if (m && p[m - 1] == '\n') {
        m--;
        if (m && p[m - 1] == '\r')
            m--;
    }
    if (memchr(p, '"', m) || memchr(p, '\r', m))
        return 0;
    /* A line that is well-formed UTF-8 without NUL has only such fields (commas, spaces
     * and tabs are ASCII, never inside a sequence): one pass over it spares a check per
     * field, which remains for a line that fails, to name the column. */
    int line_ok = utf8_valid_len(p, m);
    for (char *f = p, *end = p + m;;) {
        char *comma = memchr(f, ',', (size_t)(end - f));
        char *e = comma ? comma : end;
        int col = ++rs->nfields;
        while (f < e && (*f == ' ' || *f == '\t'))
            f++;
        while (e > f && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        *e = '\0';
        if (col <= rs->nheader) {
            size_t len = (size_t)(e - f);
            if (len && !line_ok && !utf8_valid_len(f, len)) {
                csv_mark(rs, col, "invalid UTF-8 or NUL byte");
                len = 0;
            }
            rs->values[col - 1] = len ? f : NULL;
        }
        if (!comma)
            break;
        f = comma + 1;
    }
    rs->rec_fields = rs->nfields;
    rs->rec_done = 1;
    rs->plain = p;
    rs->plain_len = n + 1;
    return 1;
}

/* Parse the next CSV record into cells/offs; *line gets its start line.
 * Returns 1 (check bad_col), 0 at end of input, -1 on a record that cannot be parsed. */
static int csv_read_record(rowsrc *rs, long *line, char *errstr, size_t size)
{
    int started = 0;
    size_t bytes = 0;

    rs->nfields = 0;
    rs->cells_len = 0;
    rs->rec_done = 0;
    rs->bare_cr = 0;
    rs->bad_col = 0;
    rs->bad_rule = NULL;
    rs->plain = NULL;
    while (!rs->rec_done) {
        const char *p = NULL;
        ssize_t n = read_line(rs, &p, errstr, size);
        if (n < 0)
            return -1;
        if (n == 0) {
            if (!started)
                return 0;
            if (csv_fini(&rs->csv, csv_on_field, csv_on_record, rs) != 0) {
                rowsrc_error(errstr, size, rs->name, *line, rs->nfields + 1,
                             "unterminated quoted field at end of input");
                csv_reset(rs);
                return -1;
            }
            break;
        }
        if (!started) {
            if (is_blank(p, (size_t)n))
                continue;
            started = 1;
            *line = rs->lineno;
        }
        bytes += (size_t)n;
        if (bytes > MAX_RECORD) {
            rowsrc_error(errstr, size, rs->name, *line, rs->nfields + 1,
                         "record longer than %d bytes", MAX_RECORD);
            csv_reset(rs);
            return -1;
        }
        /* Only where libcsv holds nothing of a record: a quoted field opened after a CR
         * can go on past that record's end (pstate 0 is libcsv's ROW_NOT_BEGUN). */
        if (bytes == (size_t)n && !rs->keep_all && rs->csv.pstate == 0 && rs->csv.entry_pos == 0 &&
            csv_split_plain(rs, (char *)p, (size_t)n))
            break;
        if (csv_parse(&rs->csv, p, (size_t)n, csv_on_field, csv_on_record, rs) < (size_t)n) {
            if (rs->bare_cr)
                goto bare_cr;
            if (csv_error(&rs->csv) == CSV_EPARSE)
                rowsrc_error(errstr, size, rs->name, *line, rs->nfields + 1,
                             "misplaced quote: a quote may only open a field and must be doubled inside one");
            else
                rowsrc_error(errstr, size, rs->name, *line, rs->nfields + 1, "out of memory");
            csv_reset(rs);
            return -1;
        }
    }
    if (rs->bare_cr)
        goto bare_cr;
    return 1;
bare_cr:
    rowsrc_error(errstr, size, rs->name, *line, rs->rec_fields,
                 "carriage return outside quotes not followed by a line feed");
    csv_reset(rs);
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        s[--len] = '\0';
    return s;
}

static int csv_read_header(rowsrc *rs, char *errstr, size_t size)
{
    long line = 1;
    int rc;

    rs->keep_all = 1;
    rc = csv_read_record(rs, &line, errstr, size);
    rs->keep_all = 0;
    if (rc == 0)
        rowsrc_error(errstr, size, rs->name, 1, 0, "no header row");
    if (rc <= 0)
        return -1;
    if (rs->bad_col) {
        rowsrc_error(errstr, size, rs->name, line, rs->bad_col, "%s", rs->bad_rule);
        return -1;
    }
    static atomic_ulong last_header_id;
    rs->row.header_id = atomic_fetch_add(&last_header_id, 1) + 1;
    rs->nheader = rs->nfields;
    rs->header = calloc((size_t)rs->nheader, sizeof *rs->header);
    rs->header_store = malloc(rs->cells_len + 1);
    if (!rs->header || !rs->header_store || grow_cells(rs, rs->nheader) != 0) {
        rowsrc_error(errstr, size, rs->name, line, 0, "out of memory");
        return -1;
    }
    memcpy(rs->header_store, rs->cells ? rs->cells : "", rs->cells_len);
    rs->header_store[rs->cells_len] = '\0';
    for (int i = 0; i < rs->nheader; i++) {
        char *h = rs->offs[i] == NO_VALUE ? rs->header_store + rs->cells_len : trim(rs->header_store + rs->offs[i]);
        if (!*h) {
            rowsrc_error(errstr, size, rs->name, line, i + 1, "empty column name");
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(rs->header[j], h) == 0) {
                rowsrc_error(errstr, size, rs->name, line, i + 1,
                             "duplicate column '%.*s' (also column %d)", (int)utf8_cut(h, 64), h, j + 1);
                return -1;
            }
        rs->header[i] = h;
        rs->columns[i] = i + 1;
    }
    return 0;
}

static int csv_next(rowsrc *rs, char *errstr, size_t size)
{
    long line = 0;
    int rc = csv_read_record(rs, &line, errstr, size);

    if (rc <= 0)
        return rc;
    if (rs->nfields > rs->nheader) {
        rowsrc_error(errstr, size, rs->name, line, rs->nheader + 1,
                     "too many fields: %d, the header has %d", rs->nfields, rs->nheader);
        return -1;
    }
    if (rs->nfields < rs->nheader) {
        rowsrc_error(errstr, size, rs->name, line, rs->nfields + 1,
                     "too few fields: %d, the header has %d", rs->nfields, rs->nheader);
        return -1;
    }
    if (rs->bad_col) {
        rowsrc_error(errstr, size, rs->name, line, rs->bad_col, "%s", rs->bad_rule);
        return -1;
    }
    for (int i = 0; i < rs->nheader && !rs->plain; i++)
        rs->values[i] = rs->offs[i] == NO_VALUE ? NULL : rs->cells + rs->offs[i];
    rs->row.line = line;
    rs->row.ncells = rs->nheader;
    rs->row.names = rs->header;
    rs->row.values = rs->values;
    rs->row.columns = rs->columns;
    return 1;
}

/* ---- JSON Lines ---- */

/* 1-based character columns of the top-level keys of a valid JSON object text, in order. */
static void json_key_columns(const char *p, size_t len, int *cols, int n)
{
    int depth = 0, expect_key = 0, k = 0, col = 0;

    for (size_t i = 0; i < len && k < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c & 0xC0) != 0x80)
            col++;
        if (c == '"') {
            if (depth == 1 && expect_key) {
                cols[k++] = col;
                expect_key = 0;
            }
            for (i++; i < len && p[i] != '"'; i++) {
                if (((unsigned char)p[i] & 0xC0) != 0x80)
                    col++;
                if (p[i] == '\\' && i + 1 < len) {
                    i++;
                    col++;
                }
            }
            col++;
        } else if (c == '{' || c == '[') {
            depth++;
            expect_key = depth == 1 && c == '{';
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 1) {
            expect_key = 1;
        }
    }
    while (k < n)
        cols[k++] = 0;
}

/* 1-based character column of the byte at pos (clamped to the line without its end). */
static int char_column(const char *p, size_t len, size_t pos)
{
    int col = 0;

    while (len && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    if (pos > len)
        pos = len;
    for (size_t i = 0; i < pos; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80)
            col++;
    return col > 0 ? col : 1;
}

static void format_real(double d, char *buf)
{
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        snprintf(buf, NUM_SIZE, "%.0f", d);
        return;
    }
    snprintf(buf, NUM_SIZE, "%.15g", d);
    if (strtod(buf, NULL) != d)
        snprintf(buf, NUM_SIZE, "%.17g", d);
}

static int jsonl_next(rowsrc *rs, char *errstr, size_t size)
{
    const char *p = NULL;
    ssize_t n;
    json_error_t jerr;

    do {
        n = read_line(rs, &p, errstr, size);
        if (n <= 0)
            return n < 0 ? -1 : 0;
    } while (is_blank(p, (size_t)n));

    long line = rs->lineno;
    if (n > MAX_RECORD) {
        rowsrc_error(errstr, size, rs->name, line, 0, "record longer than %d bytes", MAX_RECORD);
        return -1;
    }
    json_decref(rs->json);
    rs->json = json_loadb(p, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!rs->json) {
        /* jansson quotes the input near the error, which may be cut inside a character. */
        rowsrc_error(errstr, size, rs->name, line, char_column(p, (size_t)n, (size_t)jerr.position),
                     "invalid JSON: %s", utf8_scrub(jerr.text));
        return -1;
    }
    if (!json_is_object(rs->json)) {
        rowsrc_error(errstr, size, rs->name, line, 1, "line is not a JSON object");
        return -1;
    }
    int count = (int)json_object_size(rs->json);
    if (grow_cells(rs, count) != 0) {
        rowsrc_error(errstr, size, rs->name, line, 0, "out of memory");
        return -1;
    }
    json_key_columns(p, (size_t)n, rs->columns, count);

    const char *key;
    json_t *val;
    int i = 0;
    json_object_foreach(rs->json, key, val) {
        char *num = rs->numbuf + (size_t)i * NUM_SIZE;
        rs->names[i] = key;
        switch (json_typeof(val)) {
        case JSON_STRING:
            rs->values[i] = json_string_length(val) ? json_string_value(val) : NULL;
            break;
        case JSON_NULL:
            rs->values[i] = NULL;
            break;
        case JSON_INTEGER:
            snprintf(num, NUM_SIZE, "%" JSON_INTEGER_FORMAT, json_integer_value(val));
            rs->values[i] = num;
            break;
        case JSON_REAL:
            format_real(json_real_value(val), num);
            rs->values[i] = num;
            break;
        case JSON_TRUE:
        case JSON_FALSE:
            rowsrc_error(errstr, size, rs->name, line, rs->columns[i],
                         "'%.*s' is a boolean: give a string, a number or null", (int)utf8_cut(key, 64), key);
            return -1;
        default:
            rowsrc_error(errstr, size, rs->name, line, rs->columns[i],
                         "'%.*s' is an %s: give a string, a number or null", (int)utf8_cut(key, 64), key,
                         json_is_array(val) ? "array" : "object");
            return -1;
        }
        i++;
    }
    rs->row.line = line;
    rs->row.ncells = i;
    rs->row.names = rs->names;
    rs->row.values = rs->values;
    rs->row.columns = rs->columns;
    return 1;
}

/* ---- public ---- */

rowsrc *rowsrc_new(FILE *in, const char *name, rowsrc_format fmt, char *errstr, size_t errstr_size)
{
    rowsrc *rs = calloc(1, sizeof *rs);

    if (!rs) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    rs->in = in;
    rs->fmt = fmt;
    rs->name = strdup(!name || strcmp(name, "-") == 0 ? "<stdin>" : name);
    if (!rs->name) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    if (fmt == ROWSRC_CSV) {
        csv_init(&rs->csv, CSV_STRICT | CSV_STRICT_FINI);
        rs->csv_live = 1;
        csv_set_blk_size(&rs->csv, 4096);
        if (csv_read_header(rs, errstr, errstr_size) != 0)
            goto fail;
    }
    return rs;
fail:
    rowsrc_destroy(rs);
    return NULL;
}

void rowsrc_destroy(rowsrc *rs)
{
    if (!rs)
        return;
    if (rs->csv_live)
        csv_free(&rs->csv);
    json_decref(rs->json);
    free(rs->name);
    free(rs->line);
    free(rs->names);
    free(rs->values);
    free(rs->columns);
    free(rs->numbuf);
    free(rs->header);
    free(rs->header_store);
    free(rs->cells);
    free(rs->offs);
    free(rs);
}

int rowsrc_next(rowsrc *rs, const rowsrc_row **row, char *errstr, size_t errstr_size)
{
    int rc;

    *row = NULL;
    if (rs->done)
        return 0;
    rc = rs->fmt == ROWSRC_CSV ? csv_next(rs, errstr, errstr_size) : jsonl_next(rs, errstr, errstr_size);
    if (rc == 1)
        *row = &rs->row;
    else if (rc == 0 || ferror(rs->in))
        rs->done = 1;
    return rc;
}

const char *rowsrc_name(const rowsrc *rs)
{
    return rs->name;
}

int rowsrc_header(const rowsrc *rs, const char ***names)
{
    if (rs->fmt != ROWSRC_CSV) {
        *names = NULL;
        return 0;
    }
    *names = rs->header;
    return rs->nheader;
}

size_t rowsrc_cells(const rowsrc *rs, const char **base)
{
    if (rs->fmt == ROWSRC_CSV && rs->plain) {
        *base = rs->plain;
        return rs->plain_len;
    }
    if (rs->fmt != ROWSRC_CSV || !rs->cells) {
        *base = NULL;
        return 0;
    }
    *base = rs->cells;
    return rs->cells_len;
}

const char *rowsrc_get(const rowsrc_row *row, const char *name)
{
    for (int i = 0; i < row->ncells; i++)
        if (strcmp(row->names[i], name) == 0)
            return row->values[i];
    return NULL;
}

int rowsrc_column(const rowsrc_row *row, const char *name)
{
    for (int i = 0; i < row->ncells; i++)
        if (strcmp(row->names[i], name) == 0)
            return row->columns[i];
    return 0;
}
