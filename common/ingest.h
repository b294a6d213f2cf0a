/* ingest: the shared body of the producers' programs: read rows (CSV or JSON Lines) from
 * files or stdin, map each to a record, validate it, encode it and publish it keyed, with
 * row errors as "file:line:column: rule" on stderr, a progress line and the summary
 * "summary: rows=... sent=... rejected=... warnings=... delivered=... failed=... seconds=...
 * rows_per_s=... cpu_s=... main_cpu_s=... workers_cpu_s=..." (the process's CPU seconds, of
 * which main's thread's and the workers'; the rest is librdkafka's threads; -1 when a CPU
 * clock cannot be read).
 * The record type is the caller's, through an ingest_ops table. Called from main's thread
 * only; SIGINT/SIGTERM (program_stopping) stop reading and flushing. With --workers, the
 * rows of a CSV file are parsed, checked and encoded on worker threads (the ops' parse,
 * check and encode must allow that: each worker has its own record and codec), and
 * reported and published by main's thread in file order. */
#ifndef INGEST_H
#define INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "config.h"
#include "program.h"
#include "rowsrc.h"
#include "validate.h"

/* The shared option groups of a producer (common/program.h); its own rows add "topic"
 * and INGEST_OPTION_ROWS. */
#define INGEST_OPTIONS (PROGRAM_OPT_KAFKA | PROGRAM_OPT_PRODUCER | PROGRAM_OPT_REGISTRY)

/* The option rows every producer adds to its own:
 * --workers N: threads that parse, check and encode the rows of CSV files while the main
 * thread reads and publishes them, in file order (0: the main thread does everything;
 * JSON Lines files always do). Row errors, the summary and the exit status do not
 * depend on it.
 * --dump FILE: encode every valid row as for publishing and write its key and value to
 * FILE in kcat -P's format instead of publishing (benchmarks replay the same bytes with
 * kcat). Each message is key, INGEST_DUMP_KEY_DELIM, value, INGEST_DUMP_MSG_DELIM, which
 * kcat spells -K '\xfe\xfd\xfc|K|' -D '\xfe\xfd\xfc|M|\n'. Both start with bytes that
 * cannot occur in a NIK or in UTF-8 text; a row whose value holds them inside an Avro
 * number is refused ("unable to dump"), so the file always splits right. */
#define INGEST_OPTION_ROWS \
    {"workers", CONFIG_INT, "1", NULL, \
     "threads parsing, checking and encoding CSV rows beside the one publishing (0: none)"}, \
    {"dump", CONFIG_STR, NULL, NULL, \
     "write the encoded keys and values to this file (kcat -P format) instead of publishing"}
#define INGEST_DUMP_KEY_DELIM "\xfe\xfd\xfc|K|"
#define INGEST_DUMP_MSG_DELIM "\xfe\xfd\xfc|M|\n"

/* The layout members of ingest_ops for a record type with members source (char[]),
 * event_time_us (int64_t) and nik (the key). */
#define INGEST_RECORD(type) \
    sizeof(type), offsetof(type, source), sizeof(((type *)0)->source), offsetof(type, event_time_us), \
        offsetof(type, nik)

/* One record type. rec points to record_size bytes owned by ingest. */
typedef struct ingest_ops {
    /* Name ("roster-producer"), usage text and option rows: INGEST_OPTIONS and its own;
     * positional arguments are the files. */
    program_def program;
    size_t record_size;
    size_t source_off;       /* char[source_size] that receives --source before check */
    size_t source_size;
    size_t event_time_off;   /* int64_t set to the publishing time before encode */
    size_t key_off;          /* NUL-terminated Kafka key (the NIK) */
    /* contracts.md header check of a CSV file; 0 or -1 with errstr "file:1:column: rule". */
    int (*check_header)(const char *const *names, int n, const char *file, int ignore_unknown,
                        char *errstr, size_t errstr_size);
    /* Row -> record (syntax); 0 or -1 with errstr "file:line:column: rule". */
    int (*parse)(const rowsrc_row *row, const char *file, int ignore_unknown, void *rec,
                 char *errstr, size_t errstr_size);
    /* Check the record rules into out; returns out->errors. */
    int (*check)(const void *rec, int64_t now_us, validate_report *out);
    /* Set the content-derived event id, then encode with the latest schema (the codec owns
     * *value). 0 or -1 with errstr. */
    int (*encode)(codec *cd, void *rec, const void **value, size_t *len, char *errstr,
                  size_t errstr_size);
    /* Optional: adjust the parsed configuration before the publisher is made (e.g. a
     * shorter delivery timeout for one report taken by phone). 0 or -1 + errstr. */
    int (*configure)(config *cfg, char *errstr, size_t errstr_size);
} ingest_ops;

typedef struct ingest ingest;

/* Start the program (common/program.h) with argc/argv (argv[0] = program), check --source,
 * and make the codec and, unless --dry-run or --dump, the publisher (or open the dump
 * file; --dry-run with --dump is a usage error). Returns NULL with *exit_code 0
 * after --help, 2 for a usage error, 1 when the codec or publisher cannot start (the
 * message is printed). ops must outlive the ingest. */
ingest *ingest_new(const ingest_ops *ops, int argc, char **argv, int *exit_code);

/* The parsed configuration (owned by in). */
const config *ingest_config(const ingest *in);

/* Number of file arguments (0 = none given). */
int ingest_file_count(const ingest *in);

/* Process every file argument, or stdin when there is none. Returns 0, or -1 when a file
 * could not be read to its end (opening, header, queueing) or the run was interrupted. */
int ingest_files(ingest *in);

/* Scratch storage for one record (record_size bytes, owned by in), for callers that build
 * a record themselves. */
void *ingest_record_buffer(ingest *in);

/* Count one row; validate, encode and publish the record built by the caller; issues are reported
 * as "where:line:column: field: rule" with columns from row. Returns 0 when sent (or valid
 * on a dry run), 1 when rejected, -1 when queueing failed. */
int ingest_record(ingest *in, void *rec, const char *where, const rowsrc_row *row);

/* Count one row that could not be read as rejected and print message (capped by
 * --max-errors). */
void ingest_reject(ingest *in, const char *message);

/* Free everything without waiting or printing (for a usage error found by the caller).
 * Accepts NULL. */
void ingest_destroy(ingest *in);

/* Wait for deliveries, print the summary, free everything. Returns the exit status:
 * 0 all rows sent and delivered, 1 otherwise. Accepts in == NULL (returns 1). */
int ingest_finish(ingest *in);

#endif
