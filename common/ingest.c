/* ingest: files -> rows -> validated records -> Avro -> Kafka, for every producer. */
#include "ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dates.h"
#include "log.h"
#include "program.h"
#include "publisher.h"
#include "source_topic.h"

/* Rows between two readings of the clock for "now". */
#define CLOCK_ROWS 4096

struct ingest {
    const ingest_ops *ops;
    config *cfg;
    codec *cd;
    publisher *pub;              /* NULL on a dry run */
    char **files;
    int nfiles;
    const char *source;
    int ignore_unknown, show_progress;
    long max_errors;
    long rows, rejected, warnings;
    int failed;                  /* a file could not be read to its end */
    int64_t now_us;
    void *rec;
    struct timespec t0, last_progress;
};

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void progress(ingest *in, const char *label, int force)
{
    struct timespec now;
    publisher_counts pc = {0, 0, 0};

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!force && since(&in->last_progress, &now) < 0.5)
        return;
    in->last_progress = now;
    if (in->pub)
        pc = publisher_counts_get(in->pub);
    fprintf(stderr, "\r%s: %ld rows, %ld sent, %ld delivered, %ld rejected ", label, in->rows, pc.sent,
            pc.delivered, in->rejected);
}

/* Count one rejected row (already counted as a row) and print message, capped. */
static void reject(ingest *in, const char *message)
{
    in->rejected++;
    if (in->rejected > in->max_errors) {
        if (in->rejected == in->max_errors + 1)
            fprintf(stderr, "(further row errors not printed; see the summary)\n");
        return;
    }
    fprintf(stderr, "%s\n", message);
}

void ingest_reject(ingest *in, const char *message)
{
    in->rows++;
    reject(in, message);
}

/* Print the warnings of a report, and its errors as one rejected row. Returns report->errors. */
static int report_issues(ingest *in, const validate_report *report, const char *where, const rowsrc_row *row)
{
    char msg[512];
    int printed = 0;

    for (int k = 0; k < report->count; k++) {
        const validate_issue *is = &report->items[k];
        size_t flen = strlen(is->field);
        /* Rules that already start with their field ("nik: ...") are not prefixed twice. */
        int named = strncmp(is->rule, is->field, flen) == 0 && is->rule[flen] == ':';
        snprintf(msg, sizeof msg, "%s:%ld:%d: %s%s%s%s", where, row->line,
                 rowsrc_column(row, is->field), is->warning ? "warning: " : "",
                 named ? "" : is->field, named ? "" : ": ", is->rule);
        if (is->warning) {
            fprintf(stderr, "%s\n", msg);
            continue;
        }
        /* One rejected row, however many rules it broke. */
        if (printed++)
            in->rejected--;
        reject(in, msg);
    }
    in->warnings += report->warnings;
    return report->errors;
}

int ingest_record(ingest *in, void *rec, const char *where, const rowsrc_row *row)
{
    validate_report report;
    const void *value;
    const char *key = (const char *)rec + in->ops->key_off;
    int64_t now_us = dates_now_us();
    size_t len;
    char errstr[1024], msg[1200];

    in->rows++;
    snprintf((char *)rec + in->ops->source_off, in->ops->source_size, "%s", in->source);
    if (in->ops->check(rec, in->now_us, &report) > 0 || report.warnings)
        if (report_issues(in, &report, where, row) > 0)
            return 1;
    if (!in->pub)
        return 0;
    memcpy((char *)rec + in->ops->event_time_off, &now_us, sizeof now_us);
    if (in->ops->encode(in->cd, rec, &value, &len, errstr, sizeof errstr) < 0) {
        snprintf(msg, sizeof msg, "%s:%ld:0: unable to encode: %s", where, row->line, errstr);
        reject(in, msg);
        return 1;
    }
    if (publisher_send(in->pub, key, strlen(key), value, len, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "%s:%ld: %s\n", where, row->line, errstr);
        return -1;
    }
    return 0;
}

static int open_source(ingest *in, const char *path, FILE **file, rowsrc **rs)
{
    const char *fmtname = config_get(in->cfg, "format");
    size_t n = strlen(path);
    rowsrc_format fmt = ROWSRC_CSV;
    char errstr[1024];

    if (strcmp(fmtname, "jsonl") == 0 ||
        (strcmp(fmtname, "auto") == 0 && n > 6 &&
         (strcmp(path + n - 6, ".jsonl") == 0 || strcmp(path + n - 5, ".json") == 0)))
        fmt = ROWSRC_JSONL;
    else if (strcmp(fmtname, "csv") && strcmp(fmtname, "auto")) {
        fprintf(stderr, "%s: unknown format '%s' (csv, jsonl, auto)\n", in->ops->program.name, fmtname);
        return -1;
    }
    *file = stdin;
    if (strcmp(path, "-") != 0 && !(*file = fopen(path, "r"))) {
        fprintf(stderr, "%s: unable to open '%s': %s\n", in->ops->program.name, path, strerror(errno));
        return -1;
    }
    if (!(*rs = rowsrc_new(*file, path, fmt, errstr, sizeof errstr))) {
        fprintf(stderr, "%s\n", errstr);
        return -1;
    }
    if (fmt == ROWSRC_CSV) {
        const char **names;
        int nnames = rowsrc_header(*rs, &names);
        if (in->ops->check_header((const char *const *)names, nnames, rowsrc_name(*rs), in->ignore_unknown,
                                  errstr, sizeof errstr) < 0) {
            fprintf(stderr, "%s\n", errstr);
            return -1;
        }
    }
    return 0;
}

static int process_file(ingest *in, const char *path)
{
    FILE *file = NULL;
    rowsrc *rs = NULL;
    const rowsrc_row *row;
    const char *display;
    char errstr[1024];
    int rc = -1, r;

    if (open_source(in, path, &file, &rs) < 0)
        goto out;
    display = rowsrc_name(rs);
    in->now_us = dates_now_us();
    while (!program_stopping() && (r = rowsrc_next(rs, &row, errstr, sizeof errstr)) != 0) {
        if (((in->rows + 1) % CLOCK_ROWS) == 0)
            in->now_us = dates_now_us();
        if (r < 0 || in->ops->parse(row, display, in->ignore_unknown, in->rec, errstr, sizeof errstr) < 0) {
            ingest_reject(in, errstr);
            continue;
        }
        if (ingest_record(in, in->rec, display, row) < 0)
            goto out;
        if (in->show_progress && (in->rows & 1023) == 0)
            progress(in, display, 0);
    }
    rc = program_stopping() ? -1 : 0;
out:
    rowsrc_destroy(rs);
    if (file && file != stdin)
        fclose(file);
    return rc;
}

int ingest_files(ingest *in)
{
    static char *const stdin_only[] = {(char *)"-"};
    char *const *files = in->nfiles ? in->files : stdin_only;
    int n = in->nfiles ? in->nfiles : 1;

    for (int i = 0; i < n && !program_stopping(); i++)
        if (process_file(in, files[i]) < 0)
            in->failed = 1;
    return in->failed || program_stopping() ? -1 : 0;
}

/* Check the producer's own options and make the codec and publisher: -1 to go on, else the
 * exit status. */
static int setup(ingest *in)
{
    const char *prog = in->ops->program.name, *progress_opt, *topic;
    char errstr[1024], own_topic[256];

    in->source = config_get(in->cfg, "source");
    if (!in->source || !*in->source) {
        fprintf(stderr, "%s: --source (the data center id) is required\n", prog);
        return 2;
    }
    if (strlen(in->source) > 32) {
        fprintf(stderr, "%s: --source is longer than 32 characters\n", prog);
        return 2;
    }
    /* The data center's own topic, unless a topic was named: that one is taken as it is. */
    topic = config_get(in->cfg, "topic");
    if (config_bool(in->cfg, "topic.per-source") && !config_is_set(in->cfg, "topic")) {
        if (source_topic_name(topic, in->source, own_topic, sizeof own_topic) < 0) {
            fprintf(stderr, "%s: --source '%s' names no topic of its own (letters, digits, '-'"
                            " and '_')\n", prog, in->source);
            return 2;
        }
        topic = own_topic;
    }
    if (in->ops->configure && in->ops->configure(in->cfg, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "%s: %s\n", prog, errstr);
        return 2;
    }
    progress_opt = config_get(in->cfg, "progress");
    in->show_progress = strcmp(progress_opt, "always") == 0 || (strcmp(progress_opt, "auto") == 0 && isatty(2));
    in->ignore_unknown = config_bool(in->cfg, "ignore-unknown-columns");
    in->max_errors = (long)config_int(in->cfg, "max-errors");
    if (!(in->cd = codec_new(errstr, sizeof errstr)) ||
        (!config_bool(in->cfg, "dry-run") &&
         !(in->pub = publisher_new(in->cfg, topic, errstr, sizeof errstr)))) {
        fprintf(stderr, "%s: %s\n", prog, errstr);
        return 1;
    }
    return -1;
}

ingest *ingest_new(const ingest_ops *ops, int argc, char **argv, int *exit_code)
{
    ingest *in = calloc(1, sizeof *in);

    *exit_code = 1;
    if (!in || !(in->rec = calloc(1, ops->record_size)))
        goto err;
    in->ops = ops;
    if (!(in->cfg = program_start(&ops->program, argc, argv, &in->nfiles, exit_code)))
        goto err;
    in->files = argv + 1;
    if ((*exit_code = setup(in)) >= 0)
        goto err;
    clock_gettime(CLOCK_MONOTONIC, &in->t0);
    in->now_us = dates_now_us();
    return in;
err:
    ingest_destroy(in);
    return NULL;
}

void ingest_destroy(ingest *in)
{
    if (!in)
        return;
    publisher_destroy(in->pub);
    codec_destroy(in->cd);
    config_destroy(in->cfg);
    free(in->rec);
    free(in);
}

const config *ingest_config(const ingest *in) { return in->cfg; }
int ingest_file_count(const ingest *in) { return in->nfiles; }
void *ingest_record_buffer(ingest *in) { return in->rec; }

int ingest_finish(ingest *in)
{
    publisher_counts pc = {0, 0, 0};
    struct timespec t1;
    long undelivered = 0;
    double secs;
    int rc;

    if (!in)
        return 1;
    if (in->pub) {
        /* A refusal (credentials, ACLs) does not pass by waiting. */
        while (publisher_flush(in->pub, 100) > 0 && !program_stopping() &&
               !*publisher_refusal(in->pub))
            if (in->show_progress)
                progress(in, "flush", 0);
        if (!*publisher_refusal(in->pub))
            publisher_flush(in->pub, 10000);
        pc = publisher_counts_get(in->pub);
        undelivered = pc.sent - pc.delivered - pc.failed;
        if (*publisher_refusal(in->pub))
            fprintf(stderr, "%s: %s\n", in->ops->program.name, publisher_refusal(in->pub));
        else if (pc.sent && !pc.delivered && pc.failed)
            fprintf(stderr, "%s: no record was acknowledged within delivery.timeout.ms=%s ms:"
                            " is Kafka reachable at %s?\n",
                    in->ops->program.name, config_get(in->cfg, "delivery.timeout.ms"),
                    config_get(in->cfg, "bootstrap"));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (in->show_progress)
        fputc('\n', stderr);
    secs = since(&in->t0, &t1);
    fprintf(stderr,
            "summary: rows=%ld %s=%ld rejected=%ld warnings=%ld delivered=%ld failed=%ld"
            " seconds=%.2f rows_per_s=%.0f\n",
            in->rows, in->pub ? "sent" : "valid", in->pub ? pc.sent : in->rows - in->rejected, in->rejected,
            in->warnings, pc.delivered, pc.failed + (undelivered > 0 ? undelivered : 0), secs,
            secs > 0 ? (double)in->rows / secs : 0.0);
    rc = (in->failed || in->rejected || pc.failed || undelivered > 0 || program_stopping()) ? 1 : 0;
    ingest_destroy(in);
    return rc;
}
