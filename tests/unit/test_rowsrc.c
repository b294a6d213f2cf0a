/* Tests for rowsrc: CSV (RFC 4180 edge cases, line numbers, errors) and JSON Lines. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "rowsrc.h"
#include "utf8.h"

static FILE *in;
static rowsrc *rs;
static char err[512];

static void teardown(void)
{
    rowsrc_destroy(rs);
    rs = NULL;
    if (in)
        fclose(in);
    in = NULL;
}

static rowsrc *open_src(const char *path, rowsrc_format fmt)
{
    in = fopen(path, "rb");
    cr_assert_not_null(in, "open %s", path);
    err[0] = '\0';
    rs = rowsrc_new(in, path, fmt, err, sizeof err);
    return rs;
}

static const rowsrc_row *next_ok(long line)
{
    const rowsrc_row *row = NULL;
    int rc = rowsrc_next(rs, &row, err, sizeof err);
    cr_assert_eq(rc, 1, "expected a row at line %ld, got %d (%s)", line, rc, rc < 0 ? err : "");
    cr_assert_not_null(row, "row pointer set");
    cr_assert_eq(row->line, line, "row starts at line %ld, got %ld", line, row->line);
    return row;
}

/* The next record is malformed with errstr starting "prefix" and containing "rule". */
static void next_err(const char *prefix, const char *rule)
{
    const rowsrc_row *row = NULL;
    err[0] = '\0';
    int rc = rowsrc_next(rs, &row, err, sizeof err);
    cr_assert_eq(rc, -1, "expected an error '%s', got %d", prefix, rc);
    cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "error '%s' starts with '%s'", err, prefix);
    cr_assert_not_null(strstr(err, rule), "error '%s' says '%s'", err, rule);
}

static void next_end(void)
{
    const rowsrc_row *row = NULL;
    int rc = rowsrc_next(rs, &row, err, sizeof err);
    cr_assert_eq(rc, 0, "expected end of input, got %d (%s)", rc, rc < 0 ? err : "");
    rc = rowsrc_next(rs, &row, err, sizeof err);
    cr_assert_eq(rc, 0, "end of input stays the end, got %d", rc);
}

static void expect_value(const rowsrc_row *row, const char *name, const char *want)
{
    const char *got = rowsrc_get(row, name);
    if (!want)
        cr_assert_null(got, "'%s' at line %ld is absent, got '%s'", name, row->line, got ? got : "");
    else {
        cr_assert_not_null(got, "'%s' at line %ld is present", name, row->line);
        cr_assert_str_eq(got, want, "'%s' at line %ld", name, row->line);
    }
}

TestSuite(rowsrc_csv, .fini = teardown);
TestSuite(rowsrc_jsonl, .fini = teardown);

Test(rowsrc_csv, header_is_read_at_open)
{
    cr_assert_not_null(open_src("data/rows_basic.csv", ROWSRC_CSV), "open: %s", err);
    const char **names = NULL;
    int n = rowsrc_header(rs, &names);
    cr_assert_eq(n, 4, "header has 4 names, got %d", n);
    const char *want[] = {"id", "name", "note", "amount"};
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(names[i], want[i], "header name %d", i + 1);
    cr_assert_str_eq(rowsrc_name(rs), "data/rows_basic.csv", "name kept for messages");
}

Test(rowsrc_csv, trims_unquoted_and_keeps_quoted_commas)
{
    cr_assert_not_null(open_src("data/rows_basic.csv", ROWSRC_CSV), "open: %s", err);
    const rowsrc_row *row = next_ok(2);
    cr_assert_eq(row->ncells, 4, "4 cells, got %d", row->ncells);
    expect_value(row, "id", "1");
    expect_value(row, "name", "Budi Santoso");
    expect_value(row, "note", "plain, with comma");
    expect_value(row, "amount", "1200000");
    cr_assert_eq(rowsrc_column(row, "note"), 3, "note is field 3, got %d", rowsrc_column(row, "note"));
    cr_assert_eq(rowsrc_column(row, "nope"), 0, "absent name has column 0");
}

Test(rowsrc_csv, doubled_quotes_and_embedded_newline)
{
    cr_assert_not_null(open_src("data/rows_basic.csv", ROWSRC_CSV), "open: %s", err);
    next_ok(2);
    const rowsrc_row *row = next_ok(3);
    expect_value(row, "name", "Siti \"Ani\" Rahma");
    expect_value(row, "note", "line one\nline two");
    expect_value(row, "amount", NULL);
}

Test(rowsrc_csv, empty_cells_are_absent_and_lines_stay_right)
{
    cr_assert_not_null(open_src("data/rows_basic.csv", ROWSRC_CSV), "open: %s", err);
    next_ok(2);
    next_ok(3);
    const rowsrc_row *row = next_ok(5);
    expect_value(row, "id", "3");
    expect_value(row, "name", NULL);
    expect_value(row, "note", NULL);
    expect_value(row, "amount", NULL);
    row = next_ok(7);
    expect_value(row, "name", "  keep spaces  ");
    expect_value(row, "amount", "5");
    next_end();
}

Test(rowsrc_csv, bom_crlf_and_no_final_newline)
{
    cr_assert_not_null(open_src("data/rows_bom_crlf.csv", ROWSRC_CSV), "open: %s", err);
    const char **names = NULL;
    cr_assert_eq(rowsrc_header(rs, &names), 2, "2 header names");
    cr_assert_str_eq(names[0], "nik", "BOM stripped from the first name");
    cr_assert_str_eq(names[1], "change", "CR not part of the last name");
    const rowsrc_row *row = next_ok(2);
    expect_value(row, "nik", "1");
    expect_value(row, "change", "ENROLL");
    row = next_ok(3);
    expect_value(row, "nik", "a\r\nb");
    expect_value(row, "change", "UPDATE");
    row = next_ok(5);
    expect_value(row, "nik", "3");
    expect_value(row, "change", "TERMINATE");
    next_end();
}

Test(rowsrc_csv, short_and_long_rows_then_continue)
{
    cr_assert_not_null(open_src("data/rows_short_long.csv", ROWSRC_CSV), "open: %s", err);
    next_ok(2);
    next_err("data/rows_short_long.csv:3:3: ", "too few fields");
    next_err("data/rows_short_long.csv:4:4: ", "too many fields");
    const rowsrc_row *row = next_ok(5);
    expect_value(row, "a", "x\ny");
    row = next_ok(7);
    expect_value(row, "a", "7");
    expect_value(row, "c", "9");
    next_end();
}

Test(rowsrc_csv, unterminated_quote_at_end)
{
    cr_assert_not_null(open_src("data/rows_unterminated.csv", ROWSRC_CSV), "open: %s", err);
    next_ok(2);
    next_err("data/rows_unterminated.csv:3:2: ", "unterminated quoted field");
    next_end();
}

Test(rowsrc_csv, stray_quotes_are_errors)
{
    cr_assert_not_null(open_src("data/rows_stray_quote.csv", ROWSRC_CSV), "open: %s", err);
    next_err("data/rows_stray_quote.csv:2:2: ", "quote");
    next_err("data/rows_stray_quote.csv:3:1: ", "quote");
    const rowsrc_row *row = next_ok(4);
    expect_value(row, "a", "5");
    expect_value(row, "b", "6");
    next_end();
}

Test(rowsrc_csv, invalid_utf8_is_an_error)
{
    cr_assert_not_null(open_src("data/rows_bad_utf8.csv", ROWSRC_CSV), "open: %s", err);
    next_err("data/rows_bad_utf8.csv:2:2: ", "UTF-8");
    const rowsrc_row *row = next_ok(3);
    expect_value(row, "b", "ok");
    next_err("data/rows_bad_utf8.csv:4:2: ", "UTF-8");
    next_end();
}

Test(rowsrc_csv, duplicate_header_name)
{
    cr_assert_null(open_src("data/rows_dup_header.csv", ROWSRC_CSV), "duplicate header must fail");
    cr_assert_eq(strncmp(err, "data/rows_dup_header.csv:1:3: ", 30), 0, "location in '%s'", err);
    cr_assert_not_null(strstr(err, "duplicate column 'a'"), "rule in '%s'", err);
}

Test(rowsrc_csv, empty_header_name)
{
    cr_assert_null(open_src("data/rows_empty_header.csv", ROWSRC_CSV), "empty header name must fail");
    cr_assert_eq(strncmp(err, "data/rows_empty_header.csv:1:2: ", 32), 0, "location in '%s'", err);
    cr_assert_not_null(strstr(err, "empty column name"), "rule in '%s'", err);
}

Test(rowsrc_csv, header_names_trimmed)
{
    cr_assert_not_null(open_src("data/rows_header_trim.csv", ROWSRC_CSV), "open: %s", err);
    const char **names = NULL;
    cr_assert_eq(rowsrc_header(rs, &names), 3, "3 header names");
    cr_assert_str_eq(names[0], "a", "unquoted name trimmed");
    cr_assert_str_eq(names[1], "b", "quoted name trimmed");
    const rowsrc_row *row = next_ok(2);
    expect_value(row, "b", "2");
}

Test(rowsrc_csv, empty_input_has_no_header)
{
    cr_assert_null(open_src("data/rows_empty.csv", ROWSRC_CSV), "empty file must fail");
    cr_assert_not_null(strstr(err, "no header row"), "rule in '%s'", err);
}

Test(rowsrc_csv, stdin_name)
{
    in = fopen("data/rows_basic.csv", "rb");
    cr_assert_not_null(in, "open data file");
    rs = rowsrc_new(in, "-", ROWSRC_CSV, err, sizeof err);
    cr_assert_not_null(rs, "open: %s", err);
    cr_assert_str_eq(rowsrc_name(rs), "<stdin>", "'-' is shown as <stdin>");
}

Test(rowsrc_csv, destroy_accepts_null)
{
    rowsrc_destroy(NULL);
    cr_assert(1, "no crash");
}

Test(rowsrc_jsonl, numbers_null_and_blank_lines)
{
    cr_assert_not_null(open_src("data/rows_basic.jsonl", ROWSRC_JSONL), "open: %s", err);
    const char **names = (const char **)1;
    cr_assert_eq(rowsrc_header(rs, &names), 0, "JSONL has no header");
    cr_assert_null(names, "JSONL header names NULL");

    const rowsrc_row *row = next_ok(1);
    cr_assert_eq(row->ncells, 5, "5 keys, got %d", row->ncells);
    const char *order[] = {"nik", "tps", "monthly_wage", "full_name", "phone"};
    for (int i = 0; i < 5; i++)
        cr_assert_str_eq(row->names[i], order[i], "keys in file order at %d", i);
    expect_value(row, "nik", "7313014501900001");
    expect_value(row, "tps", "3");
    expect_value(row, "monthly_wage", "1200000");
    expect_value(row, "full_name", NULL);
    expect_value(row, "phone", NULL);
    cr_assert_eq(rowsrc_column(row, "nik"), 2, "nik key at character 2, got %d", rowsrc_column(row, "nik"));
    cr_assert_eq(rowsrc_column(row, "tps"), 29, "tps key at character 29, got %d", rowsrc_column(row, "tps"));
    cr_assert_neq(rowsrc_column(row, "full_name"), 0, "a null value still has a column");

    row = next_ok(4);
    expect_value(row, "name", "\xc3\x91o\xc3\xb1o");
    expect_value(row, "x", "1.5");
    expect_value(row, "big", "2000000");
    expect_value(row, "neg", "-42");
    cr_assert_eq(rowsrc_column(row, "x"), 16, "columns count characters, not bytes: got %d",
                 rowsrc_column(row, "x"));
    next_end();
}

Test(rowsrc_jsonl, bad_lines_then_continue)
{
    cr_assert_not_null(open_src("data/rows_bad.jsonl", ROWSRC_JSONL), "open: %s", err);
    next_err("data/rows_bad.jsonl:1:7: ", "invalid JSON");
    next_err("data/rows_bad.jsonl:2:1: ", "not a JSON object");
    next_err("data/rows_bad.jsonl:3:2: ", "'a' is a boolean");
    next_err("data/rows_bad.jsonl:4:10: ", "'a' is an array");
    next_err("data/rows_bad.jsonl:5:2: ", "'a' is an object");
    next_err("data/rows_bad.jsonl:6:", "invalid JSON");
    next_err("data/rows_bad.jsonl:7:", "invalid JSON");
    const rowsrc_row *row = next_ok(8);
    expect_value(row, "ok", "yes");
    next_end();
}

/* Found by fuzz_rowsrc_jsonl: jansson quotes the input near an error and cut it inside
 * a character, so the message was not UTF-8. */
Test(rowsrc_jsonl, error_quote_stays_utf8)
{
    cr_assert_not_null(open_src("data/rows_bad_escape.jsonl", ROWSRC_JSONL), "open: %s", err);
    next_err("data/rows_bad_escape.jsonl:1:", "invalid JSON: invalid escape near '\"\\u0?'");
    cr_assert(utf8_valid(err), "message is not UTF-8");
    const rowsrc_row *row = next_ok(2);
    expect_value(row, "ok", "yes");
    next_end();
}

Test(rowsrc_jsonl, invalid_utf8)
{
    cr_assert_not_null(open_src("data/rows_bad_utf8.jsonl", ROWSRC_JSONL), "open: %s", err);
    next_err("data/rows_bad_utf8.jsonl:1:6: ", "invalid JSON");
    const rowsrc_row *row = next_ok(2);
    expect_value(row, "a", "b");
    next_end();
}

Test(rowsrc_csv, bare_cr_outside_quotes_is_an_error)
{
    cr_assert_not_null(open_src("data/rows_bare_cr.csv", ROWSRC_CSV), "open: %s", err);
    next_err("data/rows_bare_cr.csv:2:2: ", "carriage return");
    const rowsrc_row *row = next_ok(3);
    expect_value(row, "a", "5");
    next_end();
}

/* Plain lines (no quote, no stray CR) are split without libcsv: same trimming, empty cells,
 * CRLF and a last line without a line end as libcsv gives them. */
Test(rowsrc_csv, plain_lines_split_as_libcsv_does, .fini = teardown)
{
    static const char text[] = "a,b,c\n \tx y\t , ,z\r\n1,2,\n\t,\t,\"q\"\nu,v,w";
    in = fmemopen((void *)text, sizeof text - 1, "rb");
    rs = rowsrc_new(in, "mem.csv", ROWSRC_CSV, err, sizeof err);
    cr_assert_not_null(rs, "open: %s", err);
    const rowsrc_row *row = next_ok(2);
    expect_value(row, "a", "x y");
    cr_assert_null(rowsrc_get(row, "b"), "a cell of spaces is absent");
    expect_value(row, "c", "z");
    row = next_ok(3);
    expect_value(row, "b", "2");
    cr_assert_null(rowsrc_get(row, "c"), "a trailing empty cell is absent");
    row = next_ok(4);
    cr_assert_null(rowsrc_get(row, "a"), "a cell of a tab is absent");
    expect_value(row, "c", "q");
    row = next_ok(5);
    expect_value(row, "c", "w");
    next_end();
}

/* libcsv ends a record at a bare CR; a quote after it opens a field that the next line
 * continues, so that line is libcsv's too, not split as a plain line. */
Test(rowsrc_csv, quote_after_bare_cr_goes_on_into_the_next_line, .fini = teardown)
{
    static const char text[] = "a,b\n1,\r\"x\n2,3\n4,5\n";
    in = fmemopen((void *)text, sizeof text - 1, "rb");
    rs = rowsrc_new(in, "mem.csv", ROWSRC_CSV, err, sizeof err);
    cr_assert_not_null(rs, "open: %s", err);
    const rowsrc_row *row = next_ok(2);
    expect_value(row, "a", "1");
    next_err("mem.csv:3:1: ", "unterminated quoted field");
    next_end();
}

Test(rowsrc_csv, cells_hold_every_value_of_the_row, .fini = teardown)
{
    static const char text[] = "a,b,c\nx,,\"y,z\"\n";
    const char *base;
    in = fmemopen((void *)text, sizeof text - 1, "rb");
    rs = rowsrc_new(in, "mem.csv", ROWSRC_CSV, err, sizeof err);
    cr_assert_not_null(rs, "open: %s", err);
    const rowsrc_row *row = next_ok(2);
    size_t len = rowsrc_cells(rs, &base);
    cr_assert_not_null(base, "a CSV source has cells");
    for (int i = 0; i < row->ncells; i++) {
        const char *v = row->values[i];
        if (!v)
            continue;
        cr_assert(v >= base && v + strlen(v) < base + len, "value %d inside the cells", i);
    }
    expect_value(row, "c", "y,z");
}
