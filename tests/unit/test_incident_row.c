/* Tests for common/incident_row: column mapping, syntax errors with file:line:column, the
 * header check; data-driven over data/incidents_ok.csv and data/incidents_bad.csv (whose
 * 'expect' column names the field a row must be refused on, by the parser or the rules). */
#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "incident.h"
#include "incident_row.h"
#include "rowsrc.h"

static char err[512];

static rowsrc *open_rows(const char *path, FILE **f)
{
    rowsrc *rs;

    *f = fopen(path, "r");
    cr_assert_not_null(*f, "cannot open %s (run from tests/unit)", path);
    rs = rowsrc_new(*f, path, ROWSRC_CSV, err, sizeof err);
    cr_assert_not_null(rs, "rowsrc_new: %s", err);
    return rs;
}

Test(incident_row, ok_file_maps_every_column)
{
    FILE *f;
    rowsrc *rs = open_rows("data/incidents_ok.csv", &f);
    const rowsrc_row *row;
    incident inc;
    int64_t want;
    int n = 0;

    incident_init(&inc);
    while (rowsrc_next(rs, &row, err, sizeof err) == 1) {
        validate_report r;
        cr_assert_eq(incident_row_parse(row, "ok", 0, &inc, err, sizeof err), 0, "row %ld: %s", row->line, err);
        strcpy(inc.source, "dc");
        cr_assert_eq(incident_validate_row(&inc, dates_now_us(), &r), 0, "row %ld: %s: %s", row->line,
                     r.items[0].field, r.items[0].rule);
        cr_assert_str_eq(inc.nik, rowsrc_get(row, "nik"), "row %ld nik", row->line);
        cr_assert_str_eq(incident_type_name(inc.type), rowsrc_get(row, "type"), "row %ld type", row->line);
        cr_assert_eq(dates_parse_timestamp(rowsrc_get(row, "occurred_at"), &want), 0, "timestamp");
        cr_assert_eq(inc.occurred_at_us, want, "row %ld occurred_at", row->line);
        cr_assert_eq(strlen(inc.region_code), 10u, "row %ld region '%s' not plain", row->line, inc.region_code);
        cr_assert_eq(!!(inc.fields & IF_REPORTED_AT), rowsrc_get(row, "reported_at") != NULL,
                     "row %ld reported_at bit", row->line);
        cr_assert_eq(!!(inc.fields & IF_SEVERITY), rowsrc_get(row, "severity") != NULL,
                     "row %ld severity bit", row->line);
        cr_assert_eq(!!(inc.fields & IF_REPORT_ID), rowsrc_get(row, "report_id") != NULL,
                     "row %ld report_id bit", row->line);
        if (!(inc.fields & IF_REPORTED_AT))
            cr_assert_eq(inc.reported_at_us, TIME_NONE, "row %ld reported_at kept a value", row->line);
        n++;
    }
    cr_assert_eq(n, 3, "rows read %d", n);
    cr_assert_str_eq(inc.reporter_name, "dr. Sari", "last row reporter_name '%s'", inc.reporter_name);
    cr_assert_eq(inc.cause, CAUSE_FALL, "last row cause %d", inc.cause);
    rowsrc_destroy(rs);
    fclose(f);
}

Test(incident_row, bad_file_refuses_each_row_on_its_field)
{
    FILE *f;
    rowsrc *rs = open_rows("data/incidents_bad.csv", &f);
    const rowsrc_row *row;
    int64_t now;
    int n = 0;

    cr_assert_eq(dates_parse_timestamp("2024-03-01T00:00:00Z", &now), 0, "now");
    while (rowsrc_next(rs, &row, err, sizeof err) == 1) {
        const char *expect = rowsrc_get(row, "expect");
        incident inc;
        validate_report r;
        int found = 0;

        cr_assert_not_null(expect, "row %ld has no expect", row->line);
        incident_init(&inc);
        if (incident_row_parse(row, "bad.csv", 1, &inc, err, sizeof err) < 0) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "bad.csv:%ld:%d: ", row->line, rowsrc_column(row, expect));
            cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0, "row %ld: '%s' does not start '%s'",
                         row->line, err, prefix);
            found = 1;
        } else {
            strcpy(inc.source, "dc");
            cr_assert_gt(incident_validate_row(&inc, now, &r), 0, "row %ld accepted", row->line);
            for (int i = 0; i < r.count; i++)
                found |= !r.items[i].warning && strcmp(r.items[i].field, expect) == 0;
        }
        cr_assert(found, "row %ld not refused on '%s'", row->line, expect);
        n++;
    }
    cr_assert_geq(n, 10, "rows read %d", n);
    rowsrc_destroy(rs);
    fclose(f);
}

Test(incident_row, unknown_column_is_an_error_unless_ignored)
{
    FILE *f;
    rowsrc *rs = open_rows("data/incidents_bad.csv", &f);
    const rowsrc_row *row;
    incident inc;

    cr_assert_eq(rowsrc_next(rs, &row, err, sizeof err), 1, "first row: %s", err);
    incident_init(&inc);
    cr_assert_eq(incident_row_parse(row, "bad.csv", 0, &inc, err, sizeof err), -1, "unknown column accepted");
    cr_assert_not_null(strstr(err, "bad.csv:2:10: unknown column 'expect'"), "message: %s", err);
    rowsrc_destroy(rs);
    fclose(f);
}

Test(incident_row, keeps_event_id_source_and_time)
{
    FILE *f;
    rowsrc *rs = open_rows("data/incidents_ok.csv", &f);
    const rowsrc_row *row;
    incident inc;

    incident_init(&inc);
    strcpy(inc.event_id, "keep-me");
    strcpy(inc.source, "dc-x");
    inc.event_time_us = 42;
    inc.fields = IF_REPORTER_PHONE | IF_DESCRIPTION;
    cr_assert_eq(rowsrc_next(rs, &row, err, sizeof err), 1, "first row: %s", err);
    cr_assert_eq(rowsrc_next(rs, &row, err, sizeof err), 1, "second row: %s", err);
    cr_assert_eq(incident_row_parse(row, "ok", 0, &inc, err, sizeof err), 0, "parse: %s", err);
    cr_assert_str_eq(inc.event_id, "keep-me", "event_id '%s'", inc.event_id);
    cr_assert_str_eq(inc.source, "dc-x", "source '%s'", inc.source);
    cr_assert_eq(inc.event_time_us, 42, "event_time %lld", (long long)inc.event_time_us);
    cr_assert_eq(inc.fields & (IF_REPORTER_PHONE | IF_DESCRIPTION), 0u, "stale bits 0x%x", inc.fields);
    rowsrc_destroy(rs);
    fclose(f);
}

Test(incident_row, header_check)
{
    const char *full[] = {"nik", "type", "occurred_at", "region_code", "circumstance", "reporter_institution"};
    const char *extra[] = {"nik", "type", "occurred_at", "region_code", "circumstance", "reporter_institution",
                           "note"};
    const char *lacking[] = {"nik", "type", "region_code", "circumstance", "reporter_institution"};

    cr_assert_eq(incident_row_check_header(full, 6, "f", 0, err, sizeof err), 0, "required set refused: %s", err);
    cr_assert_eq(incident_row_check_header(extra, 7, "f", 0, err, sizeof err), -1, "unknown column accepted");
    cr_assert_str_eq(err, "f:1:7: unknown column 'note'", "message: %s", err);
    cr_assert_eq(incident_row_check_header(extra, 7, "f", 1, err, sizeof err), 0, "ignored column refused");
    cr_assert_eq(incident_row_check_header(lacking, 5, "f", 1, err, sizeof err), -1, "missing column accepted");
    cr_assert_str_eq(err, "f:1:0: missing column 'occurred_at'", "message: %s", err);
}
