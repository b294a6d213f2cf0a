/* ingest: files -> rows -> validated records -> Avro -> Kafka, for every producer.
 *
 * The work on a row (parse, check, event id, encode) is done by work_row into a row_result
 * and a buffer of bytes (messages, key, value); apply_row then counts and reports it and
 * sends it, always on main's thread and in file order. JSON Lines files, --workers 0 and
 * ingest_record do both at once on main's thread. For CSV files with workers, main's
 * thread reads rows into chunks of CHUNK_ROWS, an orderq runs work_chunk on them on the
 * workers, and main's thread applies the finished chunks in the order they were read,
 * queueing each chunk's messages with one publisher_send_many call. */
#include "ingest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dates.h"
#include "log.h"
#include "orderq.h"
#include "program.h"
#include "publisher.h"
#include "source_topic.h"
#include "strbuf.h"

/* Rows between two readings of the clock for "now" on main's thread. */
#define CLOCK_ROWS 4096
/* Rows of a chunk: enough to make the hand-over between threads cheap, few enough that a
 * chunk's rows are published a moment after they are read. */
#define CHUNK_ROWS 512
/* Chunks per worker in the ring: one being worked on, one being published, and the rest
 * read ahead. On 2 cores the threads share them with librdkafka's and the broker's: with
 * only one chunk read ahead, a worker or main's thread descheduled for a moment stalled
 * the other (bench-producer: 0.66 of kcat -P's rate with 3, 0.70-0.75 with 8). */
#define CHUNKS_PER_WORKER 8
#define MAX_WORKERS 16
#define NO_VALUE ((size_t)-1)

typedef enum {
    ROW_SEND,      /* passed: publish (or count as valid on a dry run) */
    ROW_REJECTED,  /* not to be sent; its messages say why */
} row_outcome;

/* What work_row made of one row. Offsets are into the buffer it was given. Messages are
 * NUL-terminated, each after a byte 'W' (warning: printed) or 'E' (error: a rejected
 * row, printed up to --max-errors). */
typedef struct row_result {
    row_outcome outcome;
    int warnings;       /* warnings of the row's report (may exceed the 'W' messages) */
    int nmsgs;
    size_t msgs;
    size_t key, value, value_len;  /* ROW_SEND unless a dry run: key NUL-terminated */
} row_result;

/* What a thread needs to work on rows: its own record and codec. */
typedef struct worker {
    const struct ingest *in;
    codec *cd;
    void *rec;
    char errstr[1024];
} worker;

/* CHUNK_ROWS rows of one CSV file as read, then what the work made of them. */
typedef struct chunk {
    const char *where;          /* the file's display name (owned by its rowsrc) */
    const char **names;         /* the header (owned by the rowsrc) */
    int *columns;
    int ncells;
    unsigned long header_id;
    int64_t now_us;             /* the clock when the chunk was read */
    int n;
    long line[CHUNK_ROWS];
    size_t first[CHUNK_ROWS];   /* row i's cells: offs[first[i]...]; a row that could not
                                 * be read: its message at bytes + first[i] */
    unsigned char unread[CHUNK_ROWS];
    size_t *offs;               /* offset of each cell in bytes, NO_VALUE when empty */
    size_t offs_cap;
    const char **values;        /* ncells pointers for the row being worked on */
    int values_cap;
    strbuf bytes;               /* cell texts and messages, each NUL-terminated */
    row_result res[CHUNK_ROWS];
    strbuf out;                 /* the results' messages, keys and values */
} chunk;

struct ingest {
    const ingest_ops *ops;
    config *cfg;
    worker main_worker;          /* main's thread: its codec and record buffer */
    publisher *pub;              /* NULL on a dry run or with --dump */
    FILE *dump;                  /* --dump FILE, else NULL */
    const char *dump_path;
    long dumped;
    char **files;
    int nfiles;
    const char *source;
    size_t source_len;           /* cut to the record's buffer */
    int ignore_unknown, show_progress, encode;
    long max_errors;
    long rows, rejected, warnings;
    int failed;                  /* a file could not be read to its end */
    int64_t now_us;
    strbuf single;               /* row results worked on main's thread */
    int nworkers;
    worker workers[MAX_WORKERS];
    chunk *chunks;
    int nchunks;
    orderq *q;                   /* made with the first CSV file */
    publisher_msg pending[CHUNK_ROWS];  /* a chunk's messages, queued at once */
    int pending_row[CHUNK_ROWS];        /* the row of each in its chunk */
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

/* ---- the work on one row (any thread) ---- */

static void add_msg(strbuf *out, row_result *r, char kind, const char *msg)
{
    strbuf_append(out, &kind, 1);
    strbuf_append(out, msg, strlen(msg) + 1);
    r->nmsgs++;
}

static void result_init(row_result *r, const strbuf *out)
{
    memset(r, 0, sizeof *r);
    r->outcome = ROW_REJECTED;
    r->msgs = out->len;
}

/* The issues of a report as messages "where:line:column: field: rule". */
static void add_issues(strbuf *out, row_result *r, const validate_report *report, const char *where,
                       const rowsrc_row *row)
{
    char msg[512];

    for (int k = 0; k < report->count; k++) {
        const validate_issue *is = &report->items[k];
        size_t flen = strlen(is->field);
        /* Rules that already start with their field ("nik: ...") are not prefixed twice. */
        int named = strncmp(is->rule, is->field, flen) == 0 && is->rule[flen] == ':';
        snprintf(msg, sizeof msg, "%s:%ld:%d: %s%s%s%s", where, row->line, rowsrc_column(row, is->field),
                 is->warning ? "warning: " : "", named ? "" : is->field, named ? "" : ": ", is->rule);
        add_msg(out, r, is->warning ? 'W' : 'E', msg);
    }
    r->warnings = report->warnings;
}

/* Check, and unless a dry run encode, the record rec built from row, into r and out. */
static void work_record(worker *w, void *rec, const char *where, const rowsrc_row *row, int64_t now_us,
                        int64_t event_time_us, strbuf *out, row_result *r)
{
    const ingest *in = w->in;
    const char *key = (const char *)rec + in->ops->key_off;
    validate_report report;
    const void *value;
    size_t len;
    char msg[1200];

    result_init(r, out);
    memcpy((char *)rec + in->ops->source_off, in->source, in->source_len);
    ((char *)rec)[in->ops->source_off + in->source_len] = '\0';
    if (in->ops->check(rec, now_us, &report) > 0 || report.warnings) {
        add_issues(out, r, &report, where, row);
        if (report.errors > 0)
            return;
    }
    if (!in->encode) {
        r->outcome = ROW_SEND;
        return;
    }
    memcpy((char *)rec + in->ops->event_time_off, &event_time_us, sizeof event_time_us);
    if (in->ops->encode(w->cd, rec, &value, &len, w->errstr, sizeof w->errstr) < 0) {
        snprintf(msg, sizeof msg, "%s:%ld:0: unable to encode: %s", where, row->line, w->errstr);
        add_msg(out, r, 'E', msg);
        return;
    }
    /* Both dump delimiters start with these bytes. */
    if (in->dump && memmem(value, len, INGEST_DUMP_KEY_DELIM, 4)) {
        snprintf(msg, sizeof msg, "%s:%ld:0: unable to dump: a delimiter occurs in the value", where, row->line);
        add_msg(out, r, 'E', msg);
        return;
    }
    r->key = out->len;
    strbuf_append(out, key, strlen(key) + 1);
    r->value = out->len;
    r->value_len = len;
    strbuf_append(out, value, len);
    r->outcome = ROW_SEND;
}

/* Parse row, then work_record. */
static void work_row(worker *w, const rowsrc_row *row, const char *where, int64_t now_us, int64_t event_time_us,
                     strbuf *out, row_result *r)
{
    if (w->in->ops->parse(row, where, w->in->ignore_unknown, w->rec, w->errstr, sizeof w->errstr) < 0) {
        result_init(r, out);
        add_msg(out, r, 'E', w->errstr);
        return;
    }
    work_record(w, w->rec, where, row, now_us, event_time_us, out, r);
}

/* ---- applying a result (main's thread, in file order) ---- */

/* Write one message to the dump file in kcat -P's format. Returns 0, or -1 on a write
 * error (printed). */
static int dump_write(ingest *in, const char *key, const void *value, size_t len)
{
    static const char kd[] = INGEST_DUMP_KEY_DELIM, md[] = INGEST_DUMP_MSG_DELIM;

    fputs(key, in->dump);
    fwrite(kd, 1, sizeof kd - 1, in->dump);
    fwrite(value, 1, len, in->dump);
    if (fwrite(md, 1, sizeof md - 1, in->dump) != sizeof md - 1) {
        fprintf(stderr, "%s: unable to write '%s': %s\n", in->ops->program.name, in->dump_path, strerror(errno));
        return -1;
    }
    in->dumped++;
    return 0;
}

/* Count the row and print its messages. base is the buffer the result's offsets are into.
 * Returns 1 when it passed (to be sent), 0 when rejected. */
static int count_row(ingest *in, const row_result *r, const char *base)
{
    const char *m = base + r->msgs;
    int printed = 0;

    in->rows++;
    for (int k = 0; k < r->nmsgs; k++, m += strlen(m) + 1) {
        if (*m == 'W') {
            fprintf(stderr, "%s\n", m + 1);
            continue;
        }
        /* One rejected row, however many rules it broke. */
        if (printed++)
            in->rejected--;
        reject(in, m + 1);
    }
    in->warnings += r->warnings;
    return r->outcome == ROW_SEND;
}

/* Count the row, print its messages, and send it when it passed. Returns 0 when sent (or
 * valid on a dry run), 1 when rejected, -1 when queueing or writing failed (printed). */
static int apply_row(ingest *in, const row_result *r, const char *base, const char *where, long line)
{
    char errstr[1024];

    if (!count_row(in, r, base))
        return 1;
    if (in->dump)
        return dump_write(in, base + r->key, base + r->value, r->value_len);
    if (in->pub && publisher_send(in->pub, base + r->key, strlen(base + r->key), base + r->value, r->value_len,
                                  errstr, sizeof errstr) < 0) {
        fprintf(stderr, "%s:%ld: %s\n", where, line, errstr);
        return -1;
    }
    return 0;
}

int ingest_record(ingest *in, void *rec, const char *where, const rowsrc_row *row)
{
    row_result r;

    strbuf_reset(&in->single);
    work_record(&in->main_worker, rec, where, row, in->now_us, dates_now_us(), &in->single, &r);
    if (in->single.failed) {
        fprintf(stderr, "%s: out of memory\n", in->ops->program.name);
        return -1;
    }
    return apply_row(in, &r, in->single.data, where, row->line);
}

/* ---- files ---- */

static int open_source(ingest *in, const char *path, FILE **file, rowsrc **rs, rowsrc_format *format)
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
    *format = fmt;
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

/* Every row of rs on main's thread. Returns 0, or -1 when stopped or a row could not be
 * queued. */
static int rows_here(ingest *in, rowsrc *rs)
{
    const char *where = rowsrc_name(rs);
    const rowsrc_row *row;
    row_result res;
    char errstr[1024];
    int r;

    in->now_us = dates_now_us();
    while (!program_stopping() && (r = rowsrc_next(rs, &row, errstr, sizeof errstr)) != 0) {
        if (((in->rows + 1) % CLOCK_ROWS) == 0)
            in->now_us = dates_now_us();
        if (r < 0) {
            ingest_reject(in, errstr);
            continue;
        }
        strbuf_reset(&in->single);
        work_row(&in->main_worker, row, where, in->now_us, dates_now_us(), &in->single, &res);
        if (in->single.failed) {
            fprintf(stderr, "%s: out of memory\n", in->ops->program.name);
            return -1;
        }
        if (apply_row(in, &res, in->single.data, where, row->line) < 0)
            return -1;
        if (in->show_progress && (in->rows & 1023) == 0)
            progress(in, where, 0);
    }
    return program_stopping() ? -1 : 0;
}

/* orderq work: every row of a chunk. */
static void work_chunk(void *item, void *ctx)
{
    chunk *c = item;
    worker *w = ctx;
    int64_t event_time_us = dates_now_us();
    rowsrc_row row = {0, c->ncells, c->names, c->values, c->columns, c->header_id};

    strbuf_reset(&c->out);
    for (int i = 0; i < c->n; i++) {
        row_result *r = &c->res[i];
        if (c->unread[i]) {
            result_init(r, &c->out);
            add_msg(&c->out, r, 'E', c->bytes.data + c->first[i]);
            continue;
        }
        for (int k = 0; k < c->ncells; k++) {
            size_t off = c->offs[c->first[i] + (size_t)k];
            c->values[k] = off == NO_VALUE ? NULL : c->bytes.data + off;
        }
        row.line = c->line[i];
        work_row(w, &row, c->where, c->now_us, event_time_us, &c->out, r);
    }
}

/* Read up to CHUNK_ROWS rows of rs into c. Returns 1 when rows remain, 0 at the end of
 * the file, -1 when out of memory (printed). */
static int fill_chunk(ingest *in, rowsrc *rs, chunk *c)
{
    const rowsrc_row *row;
    char errstr[1024];
    int r = 1;

    c->where = rowsrc_name(rs);
    c->ncells = rowsrc_header(rs, &c->names);
    c->columns = NULL;
    c->n = 0;
    c->now_us = dates_now_us();
    strbuf_reset(&c->bytes);
    if (c->values_cap < c->ncells) {
        const char **v = realloc(c->values, (size_t)c->ncells * sizeof *v);
        if (!v)
            goto oom;
        c->values = v;
        c->values_cap = c->ncells;
    }
    if (c->offs_cap < (size_t)CHUNK_ROWS * (size_t)c->ncells) {
        size_t *o = realloc(c->offs, (size_t)CHUNK_ROWS * (size_t)c->ncells * sizeof *o);
        if (!o)
            goto oom;
        c->offs = o;
        c->offs_cap = (size_t)CHUNK_ROWS * (size_t)c->ncells;
    }
    while (c->n < CHUNK_ROWS && !program_stopping() && (r = rowsrc_next(rs, &row, errstr, sizeof errstr)) != 0) {
        int i = c->n++;
        c->unread[i] = r < 0;
        if (r < 0) {
            c->first[i] = c->bytes.len;
            strbuf_append(&c->bytes, errstr, strlen(errstr) + 1);
            continue;
        }
        c->line[i] = row->line;
        c->first[i] = (size_t)i * (size_t)c->ncells;
        /* Every row of a CSV file has the header's cells, names and columns (rowsrc's),
         * and its values in one block of bytes, copied at once. */
        c->names = row->names;
        c->columns = row->columns;
        c->header_id = row->header_id;
        const char *base;
        size_t len = rowsrc_cells(rs, &base), at = c->bytes.len;
        if (len)
            strbuf_append(&c->bytes, base, len);
        for (int k = 0; k < c->ncells; k++) {
            const char *v = row->values[k];
            c->offs[c->first[i] + (size_t)k] = v ? at + (size_t)(v - base) : NO_VALUE;
        }
    }
    if (c->bytes.failed)
        goto oom;
    return r != 0;
oom:
    fprintf(stderr, "%s: out of memory\n", in->ops->program.name);
    return -1;
}

/* Apply the rows of the oldest pending chunk, waiting for its work when wait is set, and
 * release it. Returns 1 when a chunk was applied, 0 when none was ready, -1 when a row
 * could not be queued. */
static int apply_chunk(ingest *in, int wait)
{
    chunk *c = orderq_oldest(in->q, wait);
    char errstr[1024];
    int rc = 1, npending = 0, failed = 0;

    if (!c)
        return 0;
    if (c->out.failed) {
        fprintf(stderr, "%s: out of memory\n", in->ops->program.name);
        rc = -1;
    }
    for (int i = 0; i < c->n && rc > 0; i++) {
        const row_result *r = &c->res[i];
        if (!in->pub) {
            if (apply_row(in, r, c->out.data, c->where, c->line[i]) < 0)
                rc = -1;
        } else if (count_row(in, r, c->out.data)) {
            /* The chunk's messages are queued together, below. A message librdkafka
             * refuses on its own (larger than kafka.message.max.bytes) stops the run as
             * before, but the chunk's rows after it are counted and may have been sent. */
            in->pending_row[npending] = i;
            in->pending[npending++] = (publisher_msg){c->out.data + r->key, strlen(c->out.data + r->key),
                                                      c->out.data + r->value, r->value_len};
        }
        if (rc > 0 && in->show_progress && (in->rows & 1023) == 0)
            progress(in, c->where, 0);
    }
    if (rc > 0 && npending &&
        publisher_send_many(in->pub, in->pending, npending, &failed, errstr, sizeof errstr) < 0) {
        fprintf(stderr, "%s:%ld: %s\n", c->where, c->line[in->pending_row[failed]], errstr);
        rc = -1;
    }
    orderq_release(in->q);
    return rc;
}

/* Wait for every pending chunk and drop it unapplied. */
static void drop_chunks(ingest *in)
{
    while (orderq_oldest(in->q, 1))
        orderq_release(in->q);
}

static int start_workers(ingest *in)
{
    void *items[MAX_WORKERS * CHUNKS_PER_WORKER], *ctx[MAX_WORKERS];
    char errstr[1024];

    in->nchunks = in->nworkers * CHUNKS_PER_WORKER;
    if (!(in->chunks = calloc((size_t)in->nchunks, sizeof *in->chunks))) {
        fprintf(stderr, "%s: out of memory\n", in->ops->program.name);
        return -1;
    }
    for (int i = 0; i < in->nchunks; i++) {
        strbuf_init(&in->chunks[i].bytes);
        strbuf_init(&in->chunks[i].out);
        items[i] = &in->chunks[i];
    }
    for (int i = 0; i < in->nworkers; i++) {
        worker *w = &in->workers[i];
        w->in = in;
        if (!(w->rec = calloc(1, in->ops->record_size)) || !(w->cd = codec_new(w->errstr, sizeof w->errstr))) {
            fprintf(stderr, "%s: %s\n", in->ops->program.name, w->rec ? w->errstr : "out of memory");
            return -1;
        }
        ctx[i] = w;
    }
    if (!(in->q = orderq_new(items, in->nchunks, in->nworkers, work_chunk, ctx, errstr, sizeof errstr))) {
        fprintf(stderr, "%s: %s\n", in->ops->program.name, errstr);
        return -1;
    }
    return 0;
}

/* Every row of the CSV source rs through the workers. Returns 0, or -1 when stopped or a
 * row could not be queued. */
static int rows_on_workers(ingest *in, rowsrc *rs)
{
    int more = 1, rc = 0;

    if (!in->q && start_workers(in) < 0)
        return -1;
    while (more && !program_stopping()) {
        chunk *c = orderq_free_item(in->q);
        if (!c) {
            if ((rc = apply_chunk(in, 1)) < 0)
                break;
            continue;
        }
        if ((more = fill_chunk(in, rs, c)) < 0) {
            rc = -1;
            break;
        }
        if (c->n)
            orderq_submit(in->q);
        while ((rc = apply_chunk(in, 0)) > 0)
            ;
        if (rc < 0)
            break;
    }
    while (rc >= 0 && !program_stopping() && (rc = apply_chunk(in, 1)) > 0)
        ;
    drop_chunks(in);
    return rc < 0 || program_stopping() ? -1 : 0;
}

static int process_file(ingest *in, const char *path)
{
    FILE *file = NULL;
    rowsrc *rs = NULL;
    rowsrc_format fmt;
    int rc = -1;

    if (open_source(in, path, &file, &rs, &fmt) < 0)
        goto out;
    rc = fmt == ROWSRC_CSV && in->nworkers > 0 ? rows_on_workers(in, rs) : rows_here(in, rs);
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

/* ---- start and finish ---- */

/* Check the producer's own options and make the codec and publisher: -1 to go on, else the
 * exit status. */
static int setup(ingest *in)
{
    const char *prog = in->ops->program.name, *progress_opt, *topic;
    long long workers;
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
    in->source_len = strlen(in->source);
    if (in->source_len >= in->ops->source_size)
        in->source_len = in->ops->source_size - 1;
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
    workers = config_int(in->cfg, "workers");
    if (workers < 0 || workers > MAX_WORKERS) {
        fprintf(stderr, "%s: --workers must be 0 to %d\n", prog, MAX_WORKERS);
        return 2;
    }
    in->nworkers = (int)workers;
    progress_opt = config_get(in->cfg, "progress");
    in->show_progress = strcmp(progress_opt, "always") == 0 || (strcmp(progress_opt, "auto") == 0 && isatty(2));
    in->ignore_unknown = config_bool(in->cfg, "ignore-unknown-columns");
    in->max_errors = (long)config_int(in->cfg, "max-errors");
    in->dump_path = config_get(in->cfg, "dump");
    if (in->dump_path && config_bool(in->cfg, "dry-run")) {
        fprintf(stderr, "%s: --dump encodes every row, --dry-run none: give one of them\n", prog);
        return 2;
    }
    in->encode = !config_bool(in->cfg, "dry-run");
    if (in->dump_path && !(in->dump = fopen(in->dump_path, "wb"))) {
        fprintf(stderr, "%s: unable to open '%s': %s\n", prog, in->dump_path, strerror(errno));
        return 1;
    }
    if (!(in->main_worker.cd = codec_new(errstr, sizeof errstr)) ||
        (in->encode && !in->dump &&
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
    if (!in || !(in->main_worker.rec = calloc(1, ops->record_size)))
        goto err;
    in->ops = ops;
    in->main_worker.in = in;
    strbuf_init(&in->single);
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
    orderq_destroy(in->q);
    for (int i = 0; i < in->nchunks; i++) {
        chunk *c = &in->chunks[i];
        free(c->offs);
        free(c->values);
        strbuf_release(&c->bytes);
        strbuf_release(&c->out);
    }
    free(in->chunks);
    for (int i = 0; i < in->nworkers; i++) {
        codec_destroy(in->workers[i].cd);
        free(in->workers[i].rec);
    }
    publisher_destroy(in->pub);
    if (in->dump)
        fclose(in->dump);
    codec_destroy(in->main_worker.cd);
    strbuf_release(&in->single);
    config_destroy(in->cfg);
    free(in->main_worker.rec);
    free(in);
}

const config *ingest_config(const ingest *in) { return in->cfg; }
int ingest_file_count(const ingest *in) { return in->nfiles; }
void *ingest_record_buffer(ingest *in) { return in->main_worker.rec; }

/* Where the process's CPU time went, for the summary: main's thread (reading, reporting,
 * queueing), the workers (parsing, checking, encoding), and the rest, librdkafka's threads
 * (compressing, sending, delivery reports). */
typedef struct cpu_times {
    double process, main, workers;
} cpu_times;

static double clock_seconds(clockid_t clock)
{
    struct timespec ts;

    if (clock_gettime(clock, &ts) != 0)
        return -1;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cpu_split(const ingest *in, cpu_times *cpu)
{
    cpu->process = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    cpu->main = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
    cpu->workers = in->q ? orderq_cpu_seconds(in->q) : 0;
}

int ingest_finish(ingest *in)
{
    publisher_counts pc = {0, 0, 0};
    cpu_times cpu;
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
    if (in->dump) {
        int bad = ferror(in->dump) | fclose(in->dump);
        in->dump = NULL;
        if (bad) {
            fprintf(stderr, "%s: unable to write '%s'\n", in->ops->program.name, in->dump_path);
            in->failed = 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (in->show_progress)
        fputc('\n', stderr);
    secs = since(&in->t0, &t1);
    cpu_split(in, &cpu);
    fprintf(stderr,
            "summary: rows=%ld %s=%ld rejected=%ld warnings=%ld delivered=%ld failed=%ld"
            " seconds=%.2f rows_per_s=%.0f cpu_s=%.3f main_cpu_s=%.3f workers_cpu_s=%.3f\n",
            in->rows, in->pub ? "sent" : in->dump_path ? "dumped" : "valid",
            in->pub ? pc.sent : in->dump_path ? in->dumped : in->rows - in->rejected, in->rejected,
            in->warnings, pc.delivered, pc.failed + (undelivered > 0 ? undelivered : 0), secs,
            secs > 0 ? (double)in->rows / secs : 0.0, cpu.process, cpu.main, cpu.workers);
    rc = (in->failed || in->rejected || pc.failed || undelivered > 0 || program_stopping()) ? 1 : 0;
    ingest_destroy(in);
    return rc;
}
