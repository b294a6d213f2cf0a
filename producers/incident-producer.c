/* incident-producer: validates incident reports (CSV / JSON Lines exports, or one report
 * given as flags) and publishes them to incidents as Avro Incident events keyed by NIK. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "dates.h"
#include "incident.h"
#include "incident_row.h"
#include "ingest.h"
#include "schemareg.h"

/* The flags of --one mode, each the contracts.md column with '_' written '-'. */
static const char *const one_flags[] = {
    "report-id", "nik", "type", "occurred-at", "reported-at", "region-code", "circumstance", "cause",
    "severity", "description", "reporter-institution", "reporter-name", "reporter-phone",
};
#define NFLAGS ((int)(sizeof one_flags / sizeof one_flags[0]))

static schemareg_subjects writes = {CODEC_INCIDENT_SUBJECT, NULL};

static const config_option options[] = {
    {"topic", CONFIG_STR, "incidents", NULL, "topic to publish to"},
    INGEST_OPTION_ROWS,
    {"one", CONFIG_BOOL, "false", NULL, "publish the one incident given by the flags below, no files"},
    {"report-id", CONFIG_STR, NULL, NULL, "--one: the reporter's own reference"},
    {"nik", CONFIG_STR, NULL, NULL, "--one: 16-digit NIK of the worker (required)"},
    {"type", CONFIG_STR, NULL, NULL, "--one: ACCIDENT or DEATH (required)"},
    {"occurred-at", CONFIG_STR, NULL, NULL, "--one: timestamp with offset, 2024-02-14T21:00:00+08:00 (required)"},
    {"reported-at", CONFIG_STR, NULL, NULL, "--one: timestamp with offset (default: now)"},
    {"region-code", CONFIG_STR, NULL, NULL, "--one: where it happened, dotted or plain (required)"},
    {"circumstance", CONFIG_STR, NULL, NULL, "--one: ON_DUTY, COMMUTING or OFF_DUTY (required)"},
    {"cause", CONFIG_STR, NULL, NULL, "--one: TRAFFIC, FALL, VIOLENCE, ILLNESS, EXHAUSTION or OTHER"},
    {"severity", CONFIG_STR, NULL, NULL,
     "--one: MINOR, MODERATE, SERIOUS, PERMANENT_PARTIAL or PERMANENT_TOTAL (required for ACCIDENT)"},
    {"description", CONFIG_STR, NULL, NULL, "--one: free text, at most 2,000 characters"},
    {"reporter-institution", CONFIG_STR, NULL, NULL, "--one: KPU, BAWASLU, FAMILY or HEALTH_FACILITY (required)"},
    {"reporter-name", CONFIG_STR, NULL, NULL, "--one: name of the person reporting"},
    {"reporter-phone", CONFIG_STR, NULL, NULL, "--one: phone of the person reporting"},
    {NULL, 0, NULL, NULL, NULL},
};

static int parse(const rowsrc_row *row, const char *file, int ignore_unknown, void *rec, char *errstr,
                 size_t errstr_size)
{
    return incident_row_parse(row, file, ignore_unknown, rec, errstr, errstr_size);
}

static int check(const void *rec, int64_t now_us, validate_report *out)
{
    return incident_validate_row(rec, now_us, out);
}

static int encode(codec *cd, void *rec, const void **value, size_t *len, char *errstr, size_t errstr_size)
{
    incident_event_id(rec);
    return codec_encode_incident(cd, rec, 0, value, len, errstr, errstr_size);
}

/* One report taken by phone must fail fast when Kafka cannot be reached: the officer is
 * told at once, not after minutes. */
#define ONE_DELIVERY_TIMEOUT_MS 15000

static int configure(config *cfg, char *errstr, size_t errstr_size)
{
    char ms[24];

    if (!config_bool(cfg, "one") || config_int(cfg, "delivery.timeout.ms") <= ONE_DELIVERY_TIMEOUT_MS)
        return 0;
    snprintf(ms, sizeof ms, "%d", ONE_DELIVERY_TIMEOUT_MS);
    return config_set(cfg, "delivery.timeout.ms", ms, errstr, errstr_size);
}

static const ingest_ops ops = {
    {"incident-producer",
     "usage: incident-producer --source DC [options] [FILE...]\n"
     "       incident-producer --source DC --one --nik NIK --type TYPE --occurred-at TIME\n"
     "                         --region-code CODE --circumstance C --reporter-institution I [...]\n"
     "Validates incident reports (CSV or JSON Lines, '-' or nothing for stdin; or one report\n"
     "given as flags) and publishes them to Kafka. Invalid rows are reported as\n"
     "file:line:column: rule and not sent.\n"
     "Exit status: 0 all reports sent, 1 some report rejected or not delivered, 2 usage.\n"
     "\noptions:\n",
     INGEST_OPTIONS, options, 0, -1, writes},
    INGEST_RECORD(incident),
    incident_row_check_header,
    parse,
    check,
    encode,
    configure,
};

/* --one: the flags as one row of named cells, parsed like a file row. */
static void publish_one(ingest *in)
{
    const config *cfg = ingest_config(in);
    char names[NFLAGS][32], errstr[1024];
    const char *name_ptrs[NFLAGS], *values[NFLAGS];
    int columns[NFLAGS];
    rowsrc_row row = {1, 0, name_ptrs, values, columns, 0};
    incident *inc = ingest_record_buffer(in);

    for (int i = 0; i < NFLAGS; i++) {
        const char *v = config_get(cfg, one_flags[i]);
        char *p;
        if (!v || !*v)
            continue;
        snprintf(names[i], sizeof names[i], "%s", one_flags[i]);
        for (p = names[i]; (p = strchr(p, '-')); )
            *p = '_';
        name_ptrs[row.ncells] = names[i];
        values[row.ncells] = v;
        columns[row.ncells++] = 0;
    }
    incident_init(inc);
    if (incident_row_parse(&row, "<command line>", 0, inc, errstr, sizeof errstr) < 0) {
        ingest_reject(in, errstr);
        return;
    }
    if (!(inc->fields & IF_REPORTED_AT)) {
        inc->reported_at_us = dates_now_us();
        inc->fields |= IF_REPORTED_AT;
    }
    ingest_record(in, inc, "<command line>", &row);
}

int main(int argc, char **argv)
{
    int code, one;
    ingest *in = ingest_new(&ops, argc, argv, &code);

    if (!in)
        return code;
    one = config_bool(ingest_config(in), "one");
    if (one && ingest_file_count(in) > 0) {
        fprintf(stderr, "incident-producer: --one takes the incident from flags, not from files\n");
        ingest_destroy(in);
        return 2;
    }
    for (int i = 0; i < NFLAGS && !one; i++) {
        if (config_get(ingest_config(in), one_flags[i])) {
            fprintf(stderr, "incident-producer: --%s needs --one\n", one_flags[i]);
            ingest_destroy(in);
            return 2;
        }
    }
    if (one)
        publish_one(in);
    else
        ingest_files(in);
    return ingest_finish(in);
}
