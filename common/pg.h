/* pg: small libpq helpers: connect, run a statement, build COPY rows (text or binary). */
#ifndef PG_H
#define PG_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "config.h"

/* Connect with a connection string (empty or NULL: the PG* environment variables).
 * NULL + errstr on failure; the password never appears in errstr. */
PGconn *pg_connect(const char *conninfo, const char *application_name, char *errstr,
                   size_t errstr_size);
/* As pg_connect, with server options ("-c name=value ...", or NULL) that outlive PQreset. */
PGconn *pg_connect_with(const char *conninfo, const char *application_name,
                        const char *options, char *errstr, size_t errstr_size);
/* Connect with the "pg" option of cfg, and bound every wait of the session with its
 * options pg.lock_timeout.ms, pg.statement_timeout.ms and
 * pg.idle_in_transaction_timeout.ms (common/program.h, group PROGRAM_OPT_PG): a service
 * never waits without limit on a lock, a statement or a peer frozen in its transaction. */
PGconn *pg_connect_config(const config *cfg, const char *application_name, char *errstr,
                          size_t errstr_size);

/* Whether the server of conninfo (as pg_connect takes it) accepts connections, waiting at
 * most timeout_s seconds (PQpingParams: no query, no authentication). 0, or -1 + errstr
 * saying why not. Any thread. */
int pg_reachable(const char *conninfo, int timeout_s, char *errstr, size_t errstr_size);

/* What a failure of a pg_* call says about what to do. */
typedef enum {
    PG_ERROR_DATA,      /* SQLSTATE class 22, 23 or 54: a value PostgreSQL refuses */
    PG_ERROR_TRANSIENT, /* anything else: lost connection, shutdown, timeouts, deadlock,
                         * serialization, or an error that an operator must fix */
} pg_error_kind;

/* The SQLSTATE of the calling thread's last failed pg_* call, "" when it had none (a lost
 * connection). Valid until the thread's next failure. */
const char *pg_last_sqlstate(void);

/* Forget the calling thread's last SQLSTATE (before a step whose failure may not be a
 * pg_* call's). */
void pg_clear_last_sqlstate(void);

/* Classify a failure on pg with sqlstate (pg_last_sqlstate()): transient whenever the
 * connection is not OK, else pg_sqlstate_kind. */
pg_error_kind pg_error_classify(const PGconn *pg, const char *sqlstate);
/* The kind of a SQLSTATE alone ("" or NULL: transient). Pure. */
pg_error_kind pg_sqlstate_kind(const char *sqlstate);

/* Run sql (no parameters); 0 when it succeeded (command or tuples), else -1 + errstr. */
int pg_exec(PGconn *pg, const char *sql, char *errstr, size_t errstr_size);
/* Run a parameterised statement; returns the result (caller PQclear()s) or NULL + errstr. */
PGresult *pg_query(PGconn *pg, const char *sql, int nparams, const char *const *params,
                   char *errstr, size_t errstr_size);

/* As pg_query, with parameters in binary format where formats[i] is 1 (lengths[i] bytes,
 * e.g. a bytea); lengths and formats may be NULL (all text). */
PGresult *pg_query_bin(PGconn *pg, const char *sql, int nparams, const char *const *params,
                       const int *lengths, const int *formats, char *errstr,
                       size_t errstr_size);

/* Create a session's staging table (create_sql: "CREATE TEMP TABLE IF NOT EXISTS ...",
 * its "already exists" notice silenced) and COPY the buffer into it. 0 or -1 + errstr. */
struct pg_copybuf;
int pg_stage(PGconn *pg, const char *create_sql, const char *copy_sql, const struct pg_copybuf *b,
             char *errstr, size_t errstr_size);
/* The same with the rows fill makes while they are sent (pg_copy_rows). */
typedef int (*pg_copy_fill)(void *ctx, struct pg_copybuf *piece, char *errstr,
                            size_t errstr_size);
int pg_stage_rows(PGconn *pg, const char *create_sql, const char *copy_sql, pg_copy_fill fill,
                  void *ctx, struct pg_copybuf *piece, char *errstr, size_t errstr_size);

/* Run each statement in turn with the parameters it references ($1..$nparams: a statement
 * gets as many as the highest it names). 0, or -1 + errstr at the first that fails. */
int pg_exec_each(PGconn *pg, const char *const *sqls, size_t count, int nparams,
                 const char *const *params, char *errstr, size_t errstr_size);

/* Write the PostgreSQL array literal {"a","b"} of items into out (size bytes), each element
 * double-quoted with '"' and backslash escaped. 0, or -1 when it does not fit. */
int pg_array_literal(const char *const *items, int count, char *out, size_t size);

/* A growable buffer of COPY rows, in text format (pg_copybuf_*) or binary (pg_copybin_*). */
typedef struct pg_copybuf {
    char *data;
    size_t len, cap;
    int failed;         /* set when an allocation failed */
} pg_copybuf;

void pg_copybuf_init(pg_copybuf *b);
void pg_copybuf_release(pg_copybuf *b);
void pg_copybuf_reset(pg_copybuf *b);
/* Append one column (NULL writes \N), escaping backslash, tab, newline and CR. A tab
 * separates it from the previous column of the row unless it is the first. */
void pg_copybuf_str(pg_copybuf *b, const char *s, int first);
void pg_copybuf_int(pg_copybuf *b, int64_t v, int first);
void pg_copybuf_null(pg_copybuf *b, int first);
void pg_copybuf_end_row(pg_copybuf *b);

/* The same rows in COPY's binary format, for a copy_sql that ends "(FORMAT binary)":
 * each value in PostgreSQL's binary send form, so the server parses no text. A row is
 * pg_copybin_row with its number of columns, then one value per column in the COPY's
 * order. pg_copy and pg_copy_rows add the format's header and trailer themselves. */
void pg_copybin_row(pg_copybuf *b, int columns);
void pg_copybin_null(pg_copybuf *b);
void pg_copybin_int2(pg_copybuf *b, int16_t v);
void pg_copybin_int4(pg_copybuf *b, int32_t v);
void pg_copybin_int8(pg_copybuf *b, int64_t v);
/* text, char(n): the bytes of s (UTF-8, checked by the server); NULL writes a null. */
void pg_copybin_text(pg_copybuf *b, const char *s);
/* uuid: s in its 36-character form; one that is not (a caller's bug) writes a null. */
void pg_copybin_uuid(pg_copybuf *b, const char *s);
/* date: days since 1970-01-01. A day PostgreSQL cannot hold is sent as one it refuses
 * (22008), never as an infinity. */
void pg_copybin_date(pg_copybuf *b, int64_t days);
/* text[]: a one-dimensional array of count items, none NULL. */
void pg_copybin_text_array(pg_copybuf *b, const char *const *items, int count);

/* Run "COPY ... FROM STDIN" with the buffer's rows. 0 or -1 + errstr. */
int pg_copy(PGconn *pg, const char *copy_sql, const pg_copybuf *b, char *errstr,
            size_t errstr_size);

/* What a COPY hands libpq at a time, and about what a fill makes at a time. */
#define PG_COPY_PIECE (64 * 1024)

/* Run "COPY ... FROM STDIN" with rows made while they are sent, so they are never all in
 * memory at once: fill (a pg_copy_fill) appends rows to piece, which is emptied before each
 * call, until it holds about PG_COPY_PIECE bytes or the rows run out, and returns 1 while
 * rows remain, 0 after the last, -1 + errstr to abandon the COPY (ended with an error).
 * piece is the caller's, kept for the next COPY. 0 or -1 + errstr. */
int pg_copy_rows(PGconn *pg, const char *copy_sql, pg_copy_fill fill, void *ctx,
                 pg_copybuf *piece, char *errstr, size_t errstr_size);

#endif
