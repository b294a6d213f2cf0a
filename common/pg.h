/* pg: small libpq helpers: connect, run a statement, build COPY text rows. */
#ifndef PG_H
#define PG_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* Connect with a connection string (empty or NULL: the PG* environment variables).
 * NULL + errstr on failure; the password never appears in errstr. */
PGconn *pg_connect(const char *conninfo, const char *application_name, char *errstr,
                   size_t errstr_size);

/* Run sql (no parameters); 0 when it succeeded (command or tuples), else -1 + errstr. */
int pg_exec(PGconn *pg, const char *sql, char *errstr, size_t errstr_size);
/* Run a parameterised statement; returns the result (caller PQclear()s) or NULL + errstr. */
PGresult *pg_query(PGconn *pg, const char *sql, int nparams, const char *const *params,
                   char *errstr, size_t errstr_size);

/* Create a session's staging table (create_sql: "CREATE TEMP TABLE IF NOT EXISTS ...",
 * its "already exists" notice silenced) and COPY the buffer into it. 0 or -1 + errstr. */
struct pg_copybuf;
int pg_stage(PGconn *pg, const char *create_sql, const char *copy_sql, const struct pg_copybuf *b,
             char *errstr, size_t errstr_size);

/* Run each statement in turn with the parameters it references ($1..$nparams: a statement
 * gets as many as the highest it names). 0, or -1 + errstr at the first that fails. */
int pg_exec_each(PGconn *pg, const char *const *sqls, size_t count, int nparams,
                 const char *const *params, char *errstr, size_t errstr_size);

/* Write the PostgreSQL array literal {"a","b"} of items into out (size bytes), each element
 * double-quoted with '"' and backslash escaped. 0, or -1 when it does not fit. */
int pg_array_literal(const char *const *items, int count, char *out, size_t size);

/* A growable buffer of COPY text-format rows. */
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

/* Run "COPY ... FROM STDIN" with the buffer's rows. 0 or -1 + errstr. */
int pg_copy(PGconn *pg, const char *copy_sql, const pg_copybuf *b, char *errstr,
            size_t errstr_size);

#endif
