/* Tests for roster_row: column syntax, field bits, header checks and error locations. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "roster_row.h"
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

TestSuite(roster_row, .fini = teardown);

static void open_src(const char *path, rowsrc_format fmt)
{
    in = fopen(path, "rb");
    cr_assert_not_null(in, "open %s", path);
    rs = rowsrc_new(in, path, fmt, err, sizeof err);
    cr_assert_not_null(rs, "rowsrc_new %s: %s", path, err);
}

static const rowsrc_row *next_row(void)
{
    const rowsrc_row *row = NULL;
    int rc = rowsrc_next(rs, &row, err, sizeof err);
    cr_assert_eq(rc, 1, "expected a row, got %d (%s)", rc, rc < 0 ? err : "");
    return row;
}

static int32_t day(int y, int m, int d)
{
    return dates_from_civil(y, m, d);
}

Test(roster_row, enroll_row_all_columns)
{
    roster_change rc;
    open_src("data/rows_roster_ok.csv", ROWSRC_CSV);
    const char **names = NULL;
    int n = rowsrc_header(rs, &names);
    cr_assert_eq(roster_row_check_header(names, n, rowsrc_name(rs), 0, err, sizeof err), 0,
                 "header of every contract column is accepted: %s", err);

    const rowsrc_row *row = next_row();
    int rcode = roster_row_parse(row, rowsrc_name(rs), 0, &rc, err, sizeof err);
    cr_assert_eq(rcode, 0, "valid ENROLL row parses: %s", err);
    cr_assert_eq(rc.change, CHANGE_ENROLL, "change ENROLL, got %d", rc.change);
    cr_assert_str_eq(rc.nik, "7313014501900001", "nik copied");
    cr_assert_str_eq(rc.full_name, "Siti Aminah", "full_name copied");
    cr_assert_eq(rc.birth_date, day(1990, 1, 5), "birth_date as a day number, got %d", rc.birth_date);
    cr_assert_eq(rc.gender, 'P', "gender P, got %c", rc.gender);
    cr_assert_eq(rc.institution, INST_KPU, "institution KPU, got %d", rc.institution);
    cr_assert_eq(rc.role, ROLE_KPPS, "role KPPS, got %d", rc.role);
    cr_assert_str_eq(rc.region_code, "7313012001", "dotted region code normalised");
    cr_assert_eq(rc.tps, 7, "tps 7, got %d", rc.tps);
    cr_assert_eq(rc.term_start, day(2024, 1, 25), "term_start, got %d", rc.term_start);
    cr_assert_eq(rc.term_end, day(2024, 2, 25), "term_end, got %d", rc.term_end);
    cr_assert_eq(rc.monthly_wage, 1200000, "monthly_wage, got %lld", (long long)rc.monthly_wage);
    cr_assert_eq(rc.programs, PROG_JKK | PROG_JKM | PROG_JHT, "all three programs, got %u", rc.programs);
    cr_assert_str_eq(rc.agreement_id, "PKS-073/2024", "agreement_id copied");
    cr_assert_str_eq(rc.kpj, "12345678901", "kpj copied");
    cr_assert_str_eq(rc.phone, "081234567890", "phone copied");
    cr_assert_eq(rc.effective_date, DATE_NONE, "empty effective_date stays absent");
    unsigned want = RF_FULL_NAME | RF_BIRTH_DATE | RF_GENDER | RF_INSTITUTION | RF_ROLE | RF_REGION | RF_TPS |
                    RF_TERM_START | RF_TERM_END | RF_WAGE | RF_PROGRAMS | RF_AGREEMENT | RF_KPJ | RF_PHONE;
    cr_assert_eq(rc.fields, want, "fields 0x%x, want 0x%x", rc.fields, want);
}

Test(roster_row, update_row_sets_only_present_fields)
{
    roster_change rc;
    open_src("data/rows_roster_ok.csv", ROWSRC_CSV);
    next_row();
    const rowsrc_row *row = next_row();
    strcpy(rc.event_id, "kept-id");
    strcpy(rc.source, "dc-73");
    rc.event_time_us = 42;
    rc.fields = RF_TPS;
    int rcode = roster_row_parse(row, rowsrc_name(rs), 0, &rc, err, sizeof err);
    cr_assert_eq(rcode, 0, "valid UPDATE row parses: %s", err);
    cr_assert_eq(rc.change, CHANGE_UPDATE, "change UPDATE, got %d", rc.change);
    cr_assert_eq(rc.fields, (unsigned)(RF_EFFECTIVE | RF_PHONE), "only effective_date and phone, got 0x%x",
                 rc.fields);
    cr_assert_eq(rc.effective_date, day(2024, 2, 1), "effective_date, got %d", rc.effective_date);
    cr_assert_str_eq(rc.phone, "0812 999", "phone keeps inner space");
    cr_assert_eq(rc.monthly_wage, MONEY_NONE, "absent wage stays MONEY_NONE");
    cr_assert_eq(rc.role, ROLE_NONE, "absent role stays ROLE_NONE");
    cr_assert_str_eq(rc.event_id, "kept-id", "event_id left alone");
    cr_assert_str_eq(rc.source, "dc-73", "source left alone");
    cr_assert_eq(rc.event_time_us, 42, "event_time left alone");
}

/* Every row of rows_roster_bad.csv has one bad cell; its "expect" column says
 * "<column>|<rule>". The error must point at that cell: file:line:column: rule. */
Test(roster_row, each_bad_column_reports_location_and_rule)
{
    roster_change rc;
    int checked = 0;
    const rowsrc_row *row;
    int r;

    open_src("data/rows_roster_bad.csv", ROWSRC_CSV);
    while ((r = rowsrc_next(rs, &row, err, sizeof err)) != 0) {
        cr_assert_eq(r, 1, "data file reads cleanly: %s", err);
        const char *expect = rowsrc_get(row, "expect");
        cr_assert_not_null(expect, "line %ld has an expect cell", row->line);
        const char *bar = strchr(expect, '|');
        cr_assert_not_null(bar, "expect '%s' is column|rule", expect);
        char col[32];
        snprintf(col, sizeof col, "%.*s", (int)(bar - expect), expect);
        int column = rowsrc_column(row, col);
        cr_assert_gt(column, 0, "'%s' is a column of the file", col);

        char prefix[128];
        snprintf(prefix, sizeof prefix, "%s:%ld:%d: ", rowsrc_name(rs), row->line, column);
        err[0] = '\0';
        r = roster_row_parse(row, rowsrc_name(rs), 1, &rc, err, sizeof err);
        cr_assert_eq(r, -1, "line %ld (%s) must fail", row->line, expect);
        cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "line %ld: '%s' starts with '%s'", row->line, err,
                     prefix);
        cr_assert_not_null(strstr(err, bar + 1), "line %ld: '%s' says '%s'", row->line, err, bar + 1);
        checked++;
    }
    cr_assert_geq(checked, 25, "all bad rows checked, got %d", checked);
}

Test(roster_row, jsonl_numbers_and_key_columns)
{
    roster_change rc;
    open_src("data/rows_roster.jsonl", ROWSRC_JSONL);

    const rowsrc_row *row = next_row();
    cr_assert_eq(roster_row_parse(row, rowsrc_name(rs), 0, &rc, err, sizeof err), 0, "ENROLL parses: %s", err);
    cr_assert_eq(rc.tps, 12, "JSON number tps, got %d", rc.tps);
    cr_assert_eq(rc.monthly_wage, 1200000, "JSON number wage, got %lld", (long long)rc.monthly_wage);
    cr_assert_eq(rc.institution, INST_BAWASLU, "institution BAWASLU");
    cr_assert_eq(rc.role, ROLE_PTPS, "role PTPS");
    cr_assert(!(rc.fields & RF_KPJ), "null kpj is absent");
    cr_assert(!(rc.fields & RF_PROGRAMS), "no programs key: absent");

    row = next_row();
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%s:2:%d: ", rowsrc_name(rs), rowsrc_column(row, "tps"));
    cr_assert_eq(roster_row_parse(row, rowsrc_name(rs), 0, &rc, err, sizeof err), -1, "tps 'x1' fails");
    cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "'%s' starts with '%s'", err, prefix);
    cr_assert_eq(rowsrc_column(row, "tps"), 45, "tps key at character 45");

    row = next_row();
    cr_assert_eq(roster_row_parse(row, rowsrc_name(rs), 0, &rc, err, sizeof err), -1, "wage 1.5 fails");
    cr_assert_not_null(strstr(err, "monthly_wage must be whole rupiah"), "rule in '%s'", err);

    row = next_row();
    cr_assert_eq(roster_row_parse(row, rowsrc_name(rs), 0, &rc, err, sizeof err), -1, "unknown key fails");
    cr_assert_eq(strncmp(err, "data/rows_roster.jsonl:4:45: unknown column 'seat'", 50), 0, "got '%s'", err);
    cr_assert_eq(roster_row_parse(row, rowsrc_name(rs), 1, &rc, err, sizeof err), 0,
                 "unknown key ignored when asked: %s", err);

    row = next_row();
    cr_assert_eq(roster_row_parse(row, rowsrc_name(rs), 0, &rc, err, sizeof err), -1, "missing change fails");
    cr_assert_str_eq(err, "data/rows_roster.jsonl:5:0: missing column 'change'", "missing column message");
}

Test(roster_row, missing_nik_column)
{
    const char *names[] = {"change", "phone"};
    const char *values[] = {"UPDATE", "0812"};
    int cols[] = {1, 2};
    rowsrc_row row = {.line = 9, .ncells = 2, .names = names, .values = values, .columns = cols};
    roster_change rc;

    cr_assert_eq(roster_row_parse(&row, "r.csv", 0, &rc, err, sizeof err), -1, "missing nik fails");
    cr_assert_str_eq(err, "r.csv:9:0: missing column 'nik'", "message names the column");
}

Test(roster_row, header_unknown_and_missing_columns)
{
    const char *ok[] = {"nik", "change", "tps"};
    const char *unknown[] = {"change", "nik", "seat"};
    const char *no_change[] = {"nik", "tps"};

    cr_assert_eq(roster_row_check_header(ok, 3, "r.csv", 0, err, sizeof err), 0, "known header: %s", err);
    cr_assert_eq(roster_row_check_header(unknown, 3, "r.csv", 0, err, sizeof err), -1, "unknown column fails");
    cr_assert_str_eq(err, "r.csv:1:3: unknown column 'seat'", "unknown column location");
    cr_assert_eq(roster_row_check_header(unknown, 3, "r.csv", 1, err, sizeof err), 0, "ignored when asked: %s",
                 err);
    cr_assert_eq(roster_row_check_header(no_change, 2, "r.csv", 1, err, sizeof err), -1, "missing change fails");
    cr_assert_str_eq(err, "r.csv:1:0: missing column 'change'", "missing column message");
}

Test(roster_row, field_names)
{
    cr_assert_str_eq(roster_row_field_name(RF_TPS), "tps", "RF_TPS");
    cr_assert_str_eq(roster_row_field_name(RF_REGION), "region_code", "RF_REGION");
    cr_assert_str_eq(roster_row_field_name(RF_WAGE), "monthly_wage", "RF_WAGE");
    cr_assert_str_eq(roster_row_field_name(RF_EFFECTIVE), "effective_date", "RF_EFFECTIVE");
    cr_assert_null(roster_row_field_name(0), "0 is no field");
    cr_assert_null(roster_row_field_name(RF_TPS | RF_KPJ), "two bits are no field");
}

/* Found by fuzz_rowsrc_csv: the quoted name was cut at 64 bytes inside a UTF-8 character,
 * so the message was no longer UTF-8. */
Test(roster_row, unknown_column_quote_is_cut_between_characters)
{
    /* 62 ASCII bytes, then U+FEFF (3 bytes) across the 64-byte cut. */
    const char *names[] = {"change", "nik",
                           "birth_dateephone_longer_than_20_bytesgender_gender_must_be_LL_\xef\xbb\xbfor_P"};

    cr_assert_eq(roster_row_check_header(names, 3, "r.csv", 0, err, sizeof err), -1, "unknown column accepted");
    cr_assert(utf8_valid(err), "message is not UTF-8: %s", err);
    cr_assert_str_eq(err, "r.csv:1:3: unknown column 'birth_dateephone_longer_than_20_bytesgender_gender_must_be_LL_'",
                     "message: %s", err);
}

/* Rows of two headers in turn on one thread: what was looked up for one header is never
 * used for the other's rows, nor for rows without a header id. */
Test(roster_row, columns_follow_each_rows_header)
{
    const char *first[] = {"change", "nik", "tps", "seat"};
    const char *second[] = {"tps", "seat", "nik", "change"};
    const char *v1[] = {"ENROLL", "7313011107800001", "5", "x"};
    const char *v2[] = {"7", "y", "7313011107800002", "UPDATE"};
    int cols[] = {1, 2, 3, 4};
    rowsrc_row a = {.line = 2, .ncells = 4, .names = first, .values = v1, .columns = cols, .header_id = 901};
    rowsrc_row b = {.line = 3, .ncells = 4, .names = second, .values = v2, .columns = cols, .header_id = 902};
    rowsrc_row c = {.line = 4, .ncells = 4, .names = second, .values = v2, .columns = cols};
    roster_change rc;

    for (int round = 0; round < 2; round++) {
        cr_assert_eq(roster_row_parse(&a, "r.csv", 1, &rc, err, sizeof err), 0, "first header: %s", err);
        cr_assert_str_eq(rc.nik, "7313011107800001", "nik of the first header's row");
        cr_assert_eq(rc.tps, 5, "tps of the first header's row");
        cr_assert_eq(rc.change, CHANGE_ENROLL, "change of the first header's row");
        cr_assert_eq(roster_row_parse(&b, "r.csv", 1, &rc, err, sizeof err), 0, "second header: %s", err);
        cr_assert_str_eq(rc.nik, "7313011107800002", "nik of the second header's row");
        cr_assert_eq(rc.tps, 7, "tps of the second header's row");
        cr_assert_eq(rc.change, CHANGE_UPDATE, "change of the second header's row");
        cr_assert_eq(roster_row_parse(&c, "r.csv", 0, &rc, err, sizeof err), -1, "seat refused without the flag");
        cr_assert_str_eq(err, "r.csv:4:2: unknown column 'seat'", "unknown column of a row without id");
    }
}

/* Dates, regions and programs repeated from the row before give what parsing them gives;
 * a bad value after a good one is still refused. */
Test(roster_row, repeated_values_parse_as_the_first_time)
{
    const char *names[] = {"change", "nik", "term_start", "region_code", "programs"};
    const char *a[] = {"ENROLL", "7313011107800001", "2023-01-04", "73.13.01", "JKK;JKM"};
    const char *b[] = {"ENROLL", "7313011107800002", "2024-02-29", "7313012001", "JHT"};
    const char *bad[] = {"ENROLL", "7313011107800003", "2023-02-29", "73.13.01", "JKK;JKM"};
    int cols[] = {1, 2, 3, 4, 5};
    rowsrc_row row = {.line = 2, .ncells = 5, .names = names, .columns = cols};
    roster_change rc;
    int32_t jan4, feb29;

    cr_assert_eq(dates_parse("2023-01-04", &jan4), 0, "reference date");
    cr_assert_eq(dates_parse("2024-02-29", &feb29), 0, "reference date");
    for (int round = 0; round < 2; round++) {
        row.values = a;
        cr_assert_eq(roster_row_parse(&row, "r.csv", 0, &rc, err, sizeof err), 0, "row a: %s", err);
        cr_assert_eq(rc.term_start, jan4, "term_start of row a");
        cr_assert_str_eq(rc.region_code, "731301", "region of row a");
        cr_assert_eq(rc.programs, (unsigned)(PROG_JKK | PROG_JKM), "programs of row a");
        cr_assert_eq(roster_row_parse(&row, "r.csv", 0, &rc, err, sizeof err), 0, "row a again: %s", err);
        cr_assert_eq(rc.term_start, jan4, "term_start of row a again");
        cr_assert_str_eq(rc.region_code, "731301", "region of row a again");
        row.values = b;
        cr_assert_eq(roster_row_parse(&row, "r.csv", 0, &rc, err, sizeof err), 0, "row b: %s", err);
        cr_assert_eq(rc.term_start, feb29, "term_start of row b");
        cr_assert_str_eq(rc.region_code, "7313012001", "region of row b");
        cr_assert_eq(rc.programs, (unsigned)PROG_JHT, "programs of row b");
        row.values = bad;
        cr_assert_eq(roster_row_parse(&row, "r.csv", 0, &rc, err, sizeof err), -1, "2023-02-29 is refused");
        cr_assert_str_eq(err, "r.csv:2:3: term_start is not a calendar date YYYY-MM-DD", "date message");
    }
}

/* A row of more cells than the kept header map holds: each cell is looked up on its own. */
Test(roster_row, a_row_of_many_cells_still_finds_its_columns)
{
    enum { N = 70 };
    static char names_buf[N][16];
    const char *names[N], *values[N];
    int cols[N];
    roster_change rc;

    for (int i = 0; i < N; i++) {
        snprintf(names_buf[i], sizeof names_buf[i], "extra_%d", i);
        names[i] = names_buf[i];
        values[i] = "x";
        cols[i] = i + 1;
    }
    names[N - 3] = "tps", values[N - 3] = "9";
    names[N - 2] = "nik", values[N - 2] = "7313011107800003";
    names[N - 1] = "change", values[N - 1] = "TERMINATE";
    for (unsigned long id = 0; id <= 903; id += 903) {
        rowsrc_row row = {.line = 5, .ncells = N, .names = names, .values = values, .columns = cols, .header_id = id};
        cr_assert_eq(roster_row_parse(&row, "w.csv", 1, &rc, err, sizeof err), 0, "header id %lu: %s", id, err);
        cr_assert_str_eq(rc.nik, "7313011107800003", "header id %lu: nik", id);
        cr_assert_eq(rc.tps, 9, "header id %lu: tps", id);
        cr_assert_eq(rc.change, CHANGE_TERMINATE, "header id %lu: change", id);
        cr_assert_eq(roster_row_parse(&row, "w.csv", 0, &rc, err, sizeof err), -1, "header id %lu: refused", id);
        cr_assert_str_eq(err, "w.csv:5:1: unknown column 'extra_0'", "header id %lu", id);
    }
}
