/* incident_row: the column table of an incidents file and the syntax of each column. */
#include "incident_row.h"

#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "region.h"
#include "utf8.h"

typedef enum { C_TEXT, C_TIME, C_ENUM, C_REGION } col_kind;

struct column {
    const char *name;
    col_kind kind;
    unsigned bit;                 /* IF_* bit, 0 for a required column */
    size_t offset, size;          /* target field in incident; size of a text buffer */
    int (*parse)(const char *);   /* C_ENUM */
    const char *symbols;          /* C_ENUM, for the message */
};

#define TEXT(name, bit) {#name, C_TEXT, bit, offsetof(incident, name), sizeof(((incident *)0)->name), NULL, NULL}
#define TIME(name, bit) {#name, C_TIME, bit, offsetof(incident, name##_us), 0, NULL, NULL}
#define ENUM(name, member, bit, fn, syms) {name, C_ENUM, bit, offsetof(incident, member), 0, fn, syms}

static const struct column columns[] = {
    TEXT(report_id, IF_REPORT_ID),
    TEXT(nik, 0),
    ENUM("type", type, 0, incident_type_parse, "ACCIDENT or DEATH"),
    TIME(occurred_at, 0),
    TIME(reported_at, IF_REPORTED_AT),
    {"region_code", C_REGION, 0, offsetof(incident, region_code), 0, NULL, NULL},
    ENUM("circumstance", circumstance, 0, incident_circumstance_parse, "ON_DUTY, COMMUTING or OFF_DUTY"),
    ENUM("cause", cause, IF_CAUSE, incident_cause_parse,
         "TRAFFIC, FALL, VIOLENCE, ILLNESS, EXHAUSTION or OTHER"),
    ENUM("severity", severity, IF_SEVERITY, incident_severity_parse,
         "MINOR, MODERATE, SERIOUS, PERMANENT_PARTIAL or PERMANENT_TOTAL"),
    TEXT(description, IF_DESCRIPTION),
    ENUM("reporter_institution", reporter_institution, 0, incident_reporter_parse,
         "KPU, BAWASLU, FAMILY or HEALTH_FACILITY"),
    TEXT(reporter_name, IF_REPORTER_NAME),
    TEXT(reporter_phone, IF_REPORTER_PHONE),
};
#define NCOLUMNS ((int)(sizeof columns / sizeof columns[0]))
_Static_assert(sizeof(incident_type) == sizeof(int) && sizeof(incident_cause) == sizeof(int),
               "C_ENUM columns store an int");

static const struct column *find(const char *name)
{
    for (int i = 0; i < NCOLUMNS; i++)
        if (strcmp(columns[i].name, name) == 0)
            return &columns[i];
    return NULL;
}

static int parse_cell(const struct column *c, const char *v, incident *inc, const char *file, long line,
                      int col, char *errstr, size_t size)
{
    char *field = (char *)inc + c->offset;
    char why[128] = "";
    int64_t us;
    int k;

    switch (c->kind) {
    case C_TEXT:
        if (strlen(v) >= c->size)
            return rowsrc_error(errstr, size, file, line, col, "%s longer than %zu bytes", c->name,
                                c->size - 1);
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case C_TIME:
        if (dates_parse_timestamp(v, &us) != 0)
            return rowsrc_error(errstr, size, file, line, col,
                                "%s is not an ISO 8601 timestamp with offset (2024-02-14T21:00:00+08:00)", c->name);
        memcpy(field, &us, sizeof us);
        return 0;
    case C_ENUM:
        if ((k = c->parse(v)) < 0)
            return rowsrc_error(errstr, size, file, line, col, "unknown %s '%.*s': use %s", c->name,
                                (int)utf8_cut(v, 32), v, c->symbols);
        memcpy(field, &k, sizeof k);
        return 0;
    case C_REGION:
        if (region_normalize(v, inc->region_code, sizeof inc->region_code, NULL, why, sizeof why) != 0)
            return rowsrc_error(errstr, size, file, line, col, "%s", why);
        return 0;
    }
    return rowsrc_error(errstr, size, file, line, col, "internal error: column kind");
}

int incident_row_parse(const rowsrc_row *row, const char *file, int ignore_unknown, incident *inc,
                       char *errstr, size_t errstr_size)
{
    char event_id[sizeof inc->event_id], source[sizeof inc->source];
    int64_t event_time_us = inc->event_time_us;

    memcpy(event_id, inc->event_id, sizeof event_id);
    memcpy(source, inc->source, sizeof source);
    incident_init(inc);
    memcpy(inc->event_id, event_id, sizeof event_id);
    memcpy(inc->source, source, sizeof source);
    inc->event_time_us = event_time_us;

    for (int i = 0; i < row->ncells; i++) {
        const struct column *c = find(row->names[i]);

        if (!c) {
            if (ignore_unknown)
                continue;
            return rowsrc_error(errstr, errstr_size, file, row->line, row->columns[i], "unknown column '%.*s'",
                                (int)utf8_cut(row->names[i], 64), row->names[i]);
        }
        if (!row->values[i])
            continue;
        if (parse_cell(c, row->values[i], inc, file, row->line, row->columns[i], errstr, errstr_size) != 0)
            return -1;
        inc->fields |= c->bit;
    }
    return 0;
}

int incident_row_check_header(const char *const *names, int n, const char *file, int ignore_unknown,
                              char *errstr, size_t errstr_size)
{
    unsigned long seen = 0;

    for (int i = 0; i < n; i++) {
        const struct column *c = find(names[i]);
        if (c)
            seen |= 1ul << (c - columns);
        else if (!ignore_unknown)
            return rowsrc_error(errstr, errstr_size, file, 1, i + 1, "unknown column '%.*s'",
                                (int)utf8_cut(names[i], 64), names[i]);
    }
    for (int i = 0; i < NCOLUMNS; i++)
        if (columns[i].bit == 0 && !(seen & (1ul << i)))
            return rowsrc_error(errstr, errstr_size, file, 1, 0, "missing column '%s'", columns[i].name);
    return 0;
}
