/* pg: libpq helpers shared by the consumers and tools. */
#include "pg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "log.h"

/* The SQLSTATE of this thread's last failed call ("" when there was none, or the failure
 * came with none, as a lost connection does). A connection is used by one thread. */
static _Thread_local char last_sqlstate[6];

/* The error of res (NULL: the connection's) into errstr, and its SQLSTATE. */
static void copy_error(PGconn *pg, const PGresult *res, char *errstr, size_t n)
{
    const char *msg = res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
                                                         : PQerrorMessage(pg);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    size_t len = strlen(msg);

    while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        len--;
    snprintf(errstr, n, "%.*s", (int)len, msg);
    snprintf(last_sqlstate, sizeof last_sqlstate, "%s", state ? state : "");
}

const char *pg_last_sqlstate(void)
{
    return last_sqlstate;
}

void pg_clear_last_sqlstate(void)
{
    last_sqlstate[0] = '\0';
}

pg_error_kind pg_error_classify(const PGconn *pg, const char *sqlstate)
{
    if (!pg || PQstatus(pg) != CONNECTION_OK)
        return PG_ERROR_TRANSIENT;
    return pg_sqlstate_kind(sqlstate);
}

pg_error_kind pg_sqlstate_kind(const char *sqlstate)
{
    static const char *const transient[] = {"40001", "40P01", "55P03", "57014", "57P01",
                                            "57P02", "57P03", "53300", "53400", NULL};

    if (!sqlstate || !*sqlstate)
        return PG_ERROR_TRANSIENT;
    for (int i = 0; transient[i]; i++)
        if (strcmp(sqlstate, transient[i]) == 0)
            return PG_ERROR_TRANSIENT;
    /* 22 data exception, 23 integrity constraint violation, 54 program limit exceeded
     * (a value too large for an index, say): the data is at fault. */
    if (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 ||
        strncmp(sqlstate, "54", 2) == 0)
        return PG_ERROR_DATA;
    return PG_ERROR_TRANSIENT;
}

PGconn *pg_connect(const char *conninfo, const char *application_name, char *errstr, size_t n)
{
    return pg_connect_with(conninfo, application_name, NULL, errstr, n);
}

PGconn *pg_connect_config(const config *cfg, const char *application_name, char *errstr,
                          size_t n)
{
    char options[256];

    snprintf(options, sizeof options,
             "-c lock_timeout=%lld -c statement_timeout=%lld"
             " -c idle_in_transaction_session_timeout=%lld",
             config_int(cfg, "pg.lock_timeout.ms"), config_int(cfg, "pg.statement_timeout.ms"),
             config_int(cfg, "pg.idle_in_transaction_timeout.ms"));
    return pg_connect_with(config_get(cfg, "pg"), application_name, options, errstr, n);
}

/* The server's notices and warnings (e.g. "terminating connection because of crash of
 * another server process") as log lines of ours, not libpq's raw text on stderr. */
static void log_notice(void *arg, const char *message)
{
    size_t len = strlen(message);

    (void)arg;
    while (len && (message[len - 1] == '\n' || message[len - 1] == ' '))
        len--;
    log_warn("postgresql notice", "message=\"%.*s\"", (int)(len > 1024 ? 1024 : len), message);
}

PGconn *pg_connect_with(const char *conninfo, const char *application_name,
                        const char *options, char *errstr, size_t n)
{
    /* options last: it wins over one in the connection string, and PQreset keeps it. */
    const char *keys[] = {"dbname", "application_name", "fallback_application_name",
                          options ? "options" : NULL, NULL};
    const char *vals[] = {conninfo ? conninfo : "", NULL, application_name, options, NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);

    if (!pg) {
        snprintf(errstr, n, "unable to allocate a PostgreSQL connection");
        return NULL;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        copy_error(pg, NULL, errstr, n);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeProcessor(pg, log_notice, NULL);
    return pg;
}

int pg_reachable(const char *conninfo, int timeout_s, char *errstr, size_t n)
{
    char timeout[16];
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *vals[] = {conninfo ? conninfo : "", timeout, NULL};

    snprintf(timeout, sizeof timeout, "%d", timeout_s > 0 ? timeout_s : 1);
    switch (PQpingParams(keys, vals, 1)) {
    case PQPING_OK:
        return 0;
    case PQPING_REJECT:
        snprintf(errstr, n, "postgresql: the server refuses connections (starting up, "
                            "shutting down or in recovery)");
        return -1;
    case PQPING_NO_RESPONSE:
        snprintf(errstr, n, "postgresql: no answer from the server");
        return -1;
    default:
        snprintf(errstr, n, "postgresql: invalid connection parameters");
        return -1;
    }
}

int pg_exec(PGconn *pg, const char *sql, char *errstr, size_t n)
{
    PGresult *res = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        copy_error(pg, res, errstr, n);
        rc = -1;
    }
    PQclear(res);
    return rc;
}

PGresult *pg_query(PGconn *pg, const char *sql, int nparams, const char *const *params,
                   char *errstr, size_t n)
{
    return pg_query_bin(pg, sql, nparams, params, NULL, NULL, errstr, n);
}

PGresult *pg_query_bin(PGconn *pg, const char *sql, int nparams, const char *const *params,
                       const int *lengths, const int *formats, char *errstr, size_t n)
{
    PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, lengths, formats, 0);
    ExecStatusType st = PQresultStatus(res);

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        copy_error(pg, res, errstr, n);
        PQclear(res);
        return NULL;
    }
    return res;
}

void pg_copybuf_init(pg_copybuf *b)
{
    memset(b, 0, sizeof *b);
}

void pg_copybuf_release(pg_copybuf *b)
{
    free(b->data);
    pg_copybuf_init(b);
}

void pg_copybuf_reset(pg_copybuf *b)
{
    b->len = 0;
    b->failed = 0;
}

static int reserve(pg_copybuf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + more)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = 1;
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

void pg_copybuf_str(pg_copybuf *b, const char *s, int first)
{
    if (!s) {
        pg_copybuf_null(b, first);
        return;
    }
    size_t len = strlen(s);
    if (reserve(b, len * 2 + 2) < 0)
        return;
    if (!first)
        b->data[b->len++] = '\t';
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        switch (c) {
        case '\\': b->data[b->len++] = '\\'; b->data[b->len++] = '\\'; break;
        case '\t': b->data[b->len++] = '\\'; b->data[b->len++] = 't'; break;
        case '\n': b->data[b->len++] = '\\'; b->data[b->len++] = 'n'; break;
        case '\r': b->data[b->len++] = '\\'; b->data[b->len++] = 'r'; break;
        default: b->data[b->len++] = c;
        }
    }
}

void pg_copybuf_int(pg_copybuf *b, int64_t v, int first)
{
    if (reserve(b, 24) < 0)
        return;
    if (!first)
        b->data[b->len++] = '\t';
    b->len += (size_t)snprintf(b->data + b->len, 22, "%" PRId64, v);
}

void pg_copybuf_null(pg_copybuf *b, int first)
{
    if (reserve(b, 3) < 0)
        return;
    if (!first)
        b->data[b->len++] = '\t';
    b->data[b->len++] = '\\';
    b->data[b->len++] = 'N';
}

void pg_copybuf_end_row(pg_copybuf *b)
{
    if (reserve(b, 1) == 0)
        b->data[b->len++] = '\n';
}

/* ---- COPY binary format (PostgreSQL's "COPY", section "Binary Format") ---- */

/* Signature, flags (no OIDs), header extension length. */
static const char copybin_header[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', 0,
                                      0, 0, 0, 0, 0, 0, 0, 0};
/* A tuple of -1 fields ends the data. */
static const char copybin_trailer[] = {'\377', '\377'};

#define TEXTOID 25                  /* pg_type.oid of text: an array's element type */
#define DAYS_1970_TO_2000 10957     /* a date is sent as days since 2000-01-01 */

static void put_be(pg_copybuf *b, uint64_t v, int bytes)
{
    if (reserve(b, (size_t)bytes) < 0)
        return;
    for (int i = bytes - 1; i >= 0; i--)
        b->data[b->len++] = (char)(v >> (8 * i));
}

static void put_bytes(pg_copybuf *b, const void *p, size_t len)
{
    if (reserve(b, len) < 0)
        return;
    memcpy(b->data + b->len, p, len);
    b->len += len;
}

void pg_copybin_row(pg_copybuf *b, int columns)
{
    put_be(b, (uint16_t)columns, 2);
}

void pg_copybin_null(pg_copybuf *b)
{
    put_be(b, UINT32_MAX, 4); /* length -1 */
}

void pg_copybin_int2(pg_copybuf *b, int16_t v)
{
    put_be(b, 2, 4);
    put_be(b, (uint16_t)v, 2);
}

void pg_copybin_int4(pg_copybuf *b, int32_t v)
{
    put_be(b, 4, 4);
    put_be(b, (uint32_t)v, 4);
}

void pg_copybin_int8(pg_copybuf *b, int64_t v)
{
    put_be(b, 8, 4);
    put_be(b, (uint64_t)v, 8);
}

void pg_copybin_text(pg_copybuf *b, const char *s)
{
    if (!s) {
        pg_copybin_null(b);
        return;
    }
    size_t len = strlen(s);
    put_be(b, (uint32_t)len, 4);
    put_bytes(b, s, len);
}

void pg_copybin_uuid(pg_copybuf *b, const char *s)
{
    uuid_t u;

    if (!s || uuid_parse(s, u) < 0) {
        pg_copybin_null(b);
        return;
    }
    put_be(b, 16, 4);
    put_bytes(b, u, sizeof u);
}

void pg_copybin_date(pg_copybuf *b, int64_t days)
{
    int64_t d = days - DAYS_1970_TO_2000;

    /* INT32_MIN and INT32_MAX mean -infinity and infinity: a day beyond int32, or on
     * either, goes as INT32_MIN + 1, which is no infinity and out of range (22008). */
    if (d <= INT32_MIN || d >= INT32_MAX)
        d = INT32_MIN + 1;
    pg_copybin_int4(b, (int32_t)d);
}

void pg_copybin_text_array(pg_copybuf *b, const char *const *items, int count)
{
    size_t len = 20; /* ndim, flags, element type, then the dimension's length and lower bound */

    for (int i = 0; i < count; i++)
        len += 4 + strlen(items[i]);
    put_be(b, (uint32_t)len, 4);
    put_be(b, 1, 4);
    put_be(b, 0, 4);
    put_be(b, TEXTOID, 4);
    put_be(b, (uint32_t)count, 4);
    put_be(b, 1, 4);
    for (int i = 0; i < count; i++)
        pg_copybin_text(b, items[i]);
}

/* b's rows to the COPY in progress, in pieces of PG_COPY_PIECE: libpq copies each piece into
 * its output buffer, which grows to hold the largest (it never shrinks), so small pieces
 * keep that buffer small. 0 or -1 + errstr. */
static int copy_put(PGconn *pg, const pg_copybuf *b, char *errstr, size_t n)
{
    if (b->failed) {
        snprintf(errstr, n, "out of memory building COPY data");
        return -1;
    }
    for (size_t off = 0; off < b->len;) {
        size_t piece = b->len - off < PG_COPY_PIECE ? b->len - off : PG_COPY_PIECE;
        if (PQputCopyData(pg, b->data + off, (int)piece) != 1) {
            copy_error(pg, NULL, errstr, n);
            return -1;
        }
        off += piece;
    }
    return 0;
}

/* "COPY ... FROM STDIN" of the rows in whole, or, when whole is NULL, of the rows fill makes
 * a piece at a time in piece. On a failure the COPY is still ended (with an error), or the
 * connection would stay in COPY mode. */
static int copy_run(PGconn *pg, const char *copy_sql, const pg_copybuf *whole,
                    pg_copy_fill fill, void *ctx, pg_copybuf *piece, char *errstr, size_t n)
{
    PGresult *res;
    int rc = 0, more = 1, binary;

    if (whole && whole->failed) {
        snprintf(errstr, n, "out of memory building COPY data");
        return -1;
    }
    res = PQexec(pg, copy_sql);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        copy_error(pg, res, errstr, n);
        PQclear(res);
        return -1;
    }
    binary = PQbinaryTuples(res);
    PQclear(res);
    if (binary && PQputCopyData(pg, copybin_header, sizeof copybin_header) != 1) {
        copy_error(pg, NULL, errstr, n);
        rc = -1;
    }
    if (whole && rc == 0)
        rc = copy_put(pg, whole, errstr, n);
    while (!whole && rc == 0 && more > 0) {
        pg_copybuf_reset(piece);
        if ((more = fill(ctx, piece, errstr, n)) < 0)
            rc = -1;
        else
            rc = copy_put(pg, piece, errstr, n);
    }
    if (binary && rc == 0 && PQputCopyData(pg, copybin_trailer, sizeof copybin_trailer) != 1) {
        copy_error(pg, NULL, errstr, n);
        rc = -1;
    }
    if (PQputCopyEnd(pg, rc == 0 ? NULL : "client error while sending COPY data") != 1 && rc == 0) {
        copy_error(pg, NULL, errstr, n);
        rc = -1;
    }
    while ((res = PQgetResult(pg))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
            copy_error(pg, res, errstr, n);
            rc = -1;
        }
        PQclear(res);
    }
    return rc;
}

int pg_copy(PGconn *pg, const char *copy_sql, const pg_copybuf *b, char *errstr, size_t n)
{
    return copy_run(pg, copy_sql, b, NULL, NULL, NULL, errstr, n);
}

int pg_copy_rows(PGconn *pg, const char *copy_sql, pg_copy_fill fill, void *ctx,
                 pg_copybuf *piece, char *errstr, size_t n)
{
    return copy_run(pg, copy_sql, NULL, fill, ctx, piece, errstr, n);
}

static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The staging table of create_sql, its "already exists" notice silenced. */
static int create_staging(PGconn *pg, const char *create_sql, char *errstr, size_t n)
{
    PQnoticeProcessor previous = PQsetNoticeProcessor(pg, quiet_notices, NULL);
    int rc = pg_exec(pg, create_sql, errstr, n);

    PQsetNoticeProcessor(pg, previous, NULL);
    return rc;
}

int pg_stage(PGconn *pg, const char *create_sql, const char *copy_sql, const pg_copybuf *b,
             char *errstr, size_t n)
{
    if (create_staging(pg, create_sql, errstr, n) < 0)
        return -1;
    return pg_copy(pg, copy_sql, b, errstr, n);
}

int pg_stage_rows(PGconn *pg, const char *create_sql, const char *copy_sql, pg_copy_fill fill,
                  void *ctx, pg_copybuf *piece, char *errstr, size_t n)
{
    if (create_staging(pg, create_sql, errstr, n) < 0)
        return -1;
    return pg_copy_rows(pg, copy_sql, fill, ctx, piece, errstr, n);
}

int pg_exec_each(PGconn *pg, const char *const *sqls, size_t count, int nparams,
                 const char *const *params, char *errstr, size_t n)
{
    for (size_t k = 0; k < count; k++) {
        int np = nparams;
        char ref[16];
        /* Pass only up to the highest parameter the statement names: PostgreSQL refuses
         * parameters a statement does not use when it cannot infer their type. */
        while (np > 0) {
            snprintf(ref, sizeof ref, "$%d", np);
            if (strstr(sqls[k], ref))
                break;
            np--;
        }
        PGresult *res = pg_query(pg, sqls[k], np, params, errstr, n);
        if (!res)
            return -1;
        PQclear(res);
    }
    return 0;
}

int pg_array_literal(const char *const *items, int count, char *out, size_t size)
{
    size_t used = 0;

    if (size < 3)
        return -1;
    out[used++] = '{';
    for (int i = 0; i < count; i++) {
        if (used + 3 >= size)
            return -1;
        if (i)
            out[used++] = ',';
        out[used++] = '"';
        for (const char *p = items[i]; *p; p++) {
            if (used + 4 >= size)
                return -1;
            if (*p == '"' || *p == '\\')
                out[used++] = '\\';
            out[used++] = *p;
        }
        out[used++] = '"';
    }
    if (used + 2 > size)
        return -1;
    out[used++] = '}';
    out[used] = '\0';
    return 0;
}
