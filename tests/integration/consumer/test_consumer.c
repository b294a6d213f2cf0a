/* Tests for common/consumer: Kafka is librdkafka's in-process mock cluster (rdkafka_mock.h),
 * one per test; the offsets, dead letters and the rows the test's apply writes are in a
 * real PostgreSQL (COVERAGE_PG, else the PG* variables) with the migrations applied.
 * tests/integration/test_05_consumer.sh runs it against the integration stack.
 *
 * Every test has its own group and topic (test name and pid), and deletes its rows from
 * consumer_offsets, dead_letters and consumer_test_applied (created here) when it ends.
 *
 * What the mock cannot show, so no test claims it:
 * - that a batch was really held (fetched, not yet applied) when its partitions were
 *   revoked: the held-batch test makes it all but certain (a partition without a leader
 *   never reaches its end, so the batch waits for batch.max.ms) but cannot observe it;
 * - a crash between COMMIT and the Kafka commit, or between the dead letters' flush and
 *   COMMIT: that needs a killed process, not a mock (a failed COMMIT is shown instead);
 * - a failing PostgreSQL (connection lost mid-batch): PostgreSQL is real here.
 *
 */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config.h"
#include "consumer.h"
#include "log.h"
#include "pg.h"
#include "program.h"

/* Kafka protocol request types (rdkafka_proto.h is not installed). */
#define API_PRODUCE 0
#define API_OFFSET_COMMIT 8

#define MAX_SEEN 512
#define EVENT_ID "6f1c1a52-2d6e-5b8a-9e51-4f0c3b1d7a10"
#define NIK "7313012345670001"


typedef struct runner {
    consumer *c;
    pthread_t thread;
    int rc;
    char err[512];
} runner;

/* The running test's names, mock cluster and connections. */
static struct {
    char group[96], topic[96], dlq_topic[112];
    rd_kafka_t *mock_rk;            /* owns the mock cluster */
    rd_kafka_mock_cluster_t *mock;
    rd_kafka_t *producer;
    PGconn *pg;                     /* the test's own connection ("someone else") */
    FILE *log;                      /* the captured log */
    int capturing, saved_stderr;    /* stderr goes to log while capturing */
    runner *running[2];             /* consumer_run threads not yet joined */
} T;

static char err[1024];

/* --- the apply under test --------------------------------------------------------------- */

typedef struct seen_msg {
    int32_t partition;
    int64_t offset;
} seen_msg;

/* The apply function's state. It writes one consumer_test_applied row per message it keeps,
 * in the open transaction, and remembers every message it was given, whatever became of the
 * transaction. */
typedef struct applier {
    const char *member;     /* written into each row */
    int fail_calls;         /* the next this many calls write their rows, then fail */
    int fail_commits;       /* the next this many calls leave the transaction unable to
                               COMMIT (a deferred unique constraint violated) */
    int reject_bad;         /* consumer_reject the messages whose value starts with "bad" */
    int delay_ms;           /* sleep this long in each call */
    int calls;
    int nseen;
    seen_msg seen[MAX_SEEN];
} applier;

static int apply_record(void *ctx, PGconn *pg, const consumer_batch *b, consumer_rejects *rej,
                        char *errstr, size_t n)
{
    applier *a = ctx;

    a->calls++;
    if (a->delay_ms)
        usleep((useconds_t)a->delay_ms * 1000);
    for (int i = 0; i < b->count; i++) {
        const consumer_msg *m = &b->msgs[i];
        char ps[16], os[24], value[64];
        const char *params[6] = {b->group, b->topic, ps, os, a->member, value};
        PGresult *res;

        if (a->nseen < MAX_SEEN)
            a->seen[a->nseen++] = (seen_msg){m->partition, m->offset};
        snprintf(value, sizeof value, "%.*s", (int)m->value_len, (const char *)m->value);
        if (a->reject_bad && strncmp(value, "bad", 3) == 0) {
            consumer_reject(rej, i, "validation", EVENT_ID, NIK, "value '%s' is bad", value);
            continue;
        }
        snprintf(ps, sizeof ps, "%d", m->partition);
        snprintf(os, sizeof os, "%" PRId64, m->offset);
        res = pg_query(pg,
                       "INSERT INTO consumer_test_applied "
                       "(group_id, topic, partition, kafka_offset, member, value) "
                       "VALUES ($1, $2, $3, $4, $5, $6)",
                       6, params, errstr, n);
        if (!res)
            return -1;
        PQclear(res);
    }
    if (a->fail_commits > 0) {
        const char *params[1] = {b->group};
        PGresult *res = pg_query(pg, "INSERT INTO consumer_test_guard VALUES ($1), ($1)", 1,
                                 params, errstr, n);
        if (!res)
            return -1;
        PQclear(res);
        a->fail_commits--;
    }
    if (a->fail_calls > 0) {
        a->fail_calls--;
        snprintf(errstr, n, "simulated serialization failure");
        return -1;
    }
    return 0;
}

/* --- PostgreSQL --------------------------------------------------------------------------- */

static const char *conninfo(void)
{
    const char *s = getenv("COVERAGE_PG");
    return s ? s : "";
}

static void sql(const char *stmt)
{
    const char *params[1] = {T.group};
    int nparams = strstr(stmt, "$1") ? 1 : 0;
    PGresult *res = pg_query(T.pg, stmt, nparams, params, err, sizeof err);

    cr_assert_not_null(res, "'%s': %s", stmt, err);
    PQclear(res);
}

/* The one value of a query with $1 = the test's group. */
static long long sql_int(const char *stmt)
{
    const char *params[1] = {T.group};
    PGresult *res = pg_query(T.pg, stmt, 1, params, err, sizeof err);
    long long v;

    cr_assert_not_null(res, "'%s': %s", stmt, err);
    cr_assert_eq(PQntuples(res), 1, "'%s' returned %d rows", stmt, PQntuples(res));
    v = PQgetisnull(res, 0, 0) ? -1 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

/* The rows of a query with $1 = the test's group, each row's columns joined by '/', rows
 * by ' ' (into a static buffer). */
static const char *sql_rows(const char *stmt)
{
    static char out[4096];
    const char *params[1] = {T.group};
    PGresult *res = pg_query(T.pg, stmt, 1, params, err, sizeof err);
    size_t len = 0;

    cr_assert_not_null(res, "'%s': %s", stmt, err);
    out[0] = '\0';
    for (int r = 0; r < PQntuples(res); r++)
        for (int c = 0; c < PQnfields(res); c++)
            len += (size_t)snprintf(out + len, len < sizeof out ? sizeof out - len : 0, "%s%s",
                                    c ? "/" : r ? " " : "", PQgetvalue(res, r, c));
    PQclear(res);
    cr_assert_lt(len, sizeof out, "rows of '%s' do not fit", stmt);
    return out;
}

/* Every applied (partition/offset), one entry each; "xN" marks one applied N times. */
static const char *applied_rows(void)
{
    return sql_rows("SELECT partition || '/' || kafka_offset || "
                    "CASE WHEN count(*) > 1 THEN 'x' || count(*) ELSE '' END "
                    "FROM consumer_test_applied WHERE group_id = $1 "
                    "GROUP BY partition, kafka_offset ORDER BY partition, kafka_offset");
}

static const char *stored_offsets(void)
{
    return sql_rows("SELECT partition, next_offset FROM consumer_offsets "
                    "WHERE group_id = $1 ORDER BY partition");
}

static void store_offset(int32_t partition, int64_t next)
{
    char ps[16], ns[24];
    const char *params[4] = {T.group, T.topic, ps, ns};
    PGresult *res;

    snprintf(ps, sizeof ps, "%d", partition);
    snprintf(ns, sizeof ns, "%" PRId64, next);
    res = pg_query(T.pg,
                   "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) "
                   "VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, topic, partition) "
                   "DO UPDATE SET next_offset = EXCLUDED.next_offset",
                   4, params, err, sizeof err);
    cr_assert_not_null(res, "storing offset %d/%" PRId64 ": %s", partition, next, err);
    PQclear(res);
}

/* "p/a p/a+1 ... p/b-1" for each (p, a, b) triple, terminated by -1. */
static const char *ranges(int p, ...)
{
    static char out[4096];
    size_t len = 0;
    va_list ap;

    out[0] = '\0';
    va_start(ap, p);
    for (; p >= 0; p = va_arg(ap, int)) {
        int from = va_arg(ap, int), to = va_arg(ap, int);
        for (int o = from; o < to; o++)
            len += (size_t)snprintf(out + len, sizeof out - len, "%s%d/%d", len ? " " : "", p, o);
    }
    va_end(ap);
    return out;
}

/* Expect the text got to be want; the message shows both. */
#define expect_text(got, want, what)                                                     \
    do {                                                                                 \
        const char *got_ = (got), *want_ = (want);                                       \
        cr_expect_str_eq(got_, want_, "%s: got \"%s\", want \"%s\"", what, got_, want_); \
    } while (0)

/* --- Kafka -------------------------------------------------------------------------------- */

static rd_kafka_conf_t *mock_conf(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    cr_assert_eq(rd_kafka_conf_set(conf, "bootstrap.servers",
                                   rd_kafka_mock_cluster_bootstraps(T.mock), err, sizeof err),
                 RD_KAFKA_CONF_OK, "bootstrap.servers: %s", err);
    return conf;
}

static void conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    cr_assert_eq(rd_kafka_conf_set(conf, key, value, err, sizeof err), RD_KAFKA_CONF_OK,
                 "%s: %s", key, err);
}

static void produce(int32_t partition, const char *key, const char *value)
{
    rd_kafka_resp_err_t e =
        rd_kafka_producev(T.producer, RD_KAFKA_V_TOPIC(T.topic), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_KEY(key, strlen(key)),
                          RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);

    cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "produce to %s [%d]: %s", T.topic, partition,
                 rd_kafka_err2str(e));
}

/* Produce count messages "v-<p>-<i>" to partition p, from index first, and flush. */
static void produce_n(int32_t partition, int first, int count)
{
    char key[32], value[32];

    for (int i = first; i < first + count; i++) {
        snprintf(key, sizeof key, "k-%d-%d", partition, i);
        snprintf(value, sizeof value, "v-%d-%d", partition, i);
        produce(partition, key, value);
    }
    cr_assert_eq(rd_kafka_flush(T.producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR,
                 "messages to %s not flushed", T.topic);
}

/* The group's offsets committed to Kafka, per partition (RD_KAFKA_OFFSET_INVALID: none). */
static void kafka_committed(int partitions, int64_t *out)
{
    rd_kafka_conf_t *conf = mock_conf();
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    rd_kafka_resp_err_t e;
    rd_kafka_t *rk;

    conf_set(conf, "group.id", T.group);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    cr_assert_not_null(rk, "committed-offsets reader: %s", err);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(l, T.topic, p);
    e = rd_kafka_committed(rk, l, 10000);
    cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "committed offsets: %s", rd_kafka_err2str(e));
    for (int p = 0; p < partitions; p++)
        out[p] = l->elems[p].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* Commit offset next of partition to Kafka for the group, as an earlier consumer of the
 * group without PostgreSQL would have. */
static void kafka_commit(int32_t partition, int64_t next)
{
    rd_kafka_conf_t *conf = mock_conf();
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t e;
    rd_kafka_t *rk;

    conf_set(conf, "group.id", T.group);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    cr_assert_not_null(rk, "committer: %s", err);
    rd_kafka_topic_partition_list_add(l, T.topic, partition)->offset = next;
    e = rd_kafka_commit(rk, l, 0);
    cr_assert_eq(e, RD_KAFKA_RESP_ERR_NO_ERROR, "commit to kafka: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* --- fixture ------------------------------------------------------------------------------- */

/* Names, mock cluster with topic (partitions) and its .dlq, producer, database. */
static void setup(const char *name, int partitions)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *level = getenv("TEST_CONSUMER_LOG");
    int lv = level ? log_level_parse(level) : LOG_ERROR;

    log_init("test_consumer", lv < 0 ? LOG_ERROR : (log_level)lv);
    snprintf(T.group, sizeof T.group, "test_consumer.%s.%d", name, (int)getpid());
    snprintf(T.topic, sizeof T.topic, "tc.%s.%d", name, (int)getpid());
    snprintf(T.dlq_topic, sizeof T.dlq_topic, "%s.dlq", T.topic);

    conf_set(conf, "log_level", "3");
    T.mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cr_assert_not_null(T.mock_rk, "mock cluster handle: %s", err);
    T.mock = rd_kafka_mock_cluster_new(T.mock_rk, 1);
    cr_assert_not_null(T.mock, "mock cluster");
    cr_assert_eq(rd_kafka_mock_topic_create(T.mock, T.topic, partitions, 1), 0, "create %s",
                 T.topic);
    cr_assert_eq(rd_kafka_mock_topic_create(T.mock, T.dlq_topic, 1, 1), 0, "create %s",
                 T.dlq_topic);

    conf = mock_conf();
    conf_set(conf, "linger.ms", "0");
    T.producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    cr_assert_not_null(T.producer, "producer: %s", err);

    T.pg = pg_connect(conninfo(), "test_consumer", err, sizeof err);
    cr_assert_not_null(T.pg, "connect to PostgreSQL: %s", err);
    /* Tests run in parallel processes: one creates the table at a time. */
    sql("SET client_min_messages = warning");
    sql("BEGIN");
    sql("SELECT pg_advisory_xact_lock(hashtext('consumer_test_applied'))");
    sql("CREATE TABLE IF NOT EXISTS consumer_test_applied ("
        "id bigserial PRIMARY KEY, group_id text NOT NULL, topic text NOT NULL, "
        "partition int NOT NULL, kafka_offset bigint NOT NULL, member text NOT NULL, "
        "value text NOT NULL)");
    sql("CREATE TABLE IF NOT EXISTS consumer_test_guard ("
        "group_id text UNIQUE DEFERRABLE INITIALLY DEFERRED)");
    sql("COMMIT");
}

static void end_capture(void);
static void join_runner(runner *r);

static void teardown(void)
{
    /* A test that failed with consumers running: stop them before their cluster goes. */
    for (int i = 0; i < 2; i++)
        if (T.running[i])
            join_runner(T.running[i]);
    end_capture();
    if (T.pg && PQstatus(T.pg) == CONNECTION_OK) {
        const char *params[1] = {T.group};
        const char *stmts[] = {
            "DELETE FROM consumer_test_applied WHERE group_id = $1",
            "DELETE FROM consumer_offsets WHERE group_id = $1",
            "DELETE FROM dead_letters WHERE group_id = $1",
        };
        for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++) {
            PGresult *res = pg_query(T.pg, stmts[i], 1, params, err, sizeof err);
            if (!res)
                fprintf(stderr, "teardown: '%s': %s\n", stmts[i], err);
            PQclear(res);
        }
    }
    if (T.pg)
        PQfinish(T.pg);
    if (T.producer)
        rd_kafka_destroy(T.producer);
    if (T.mock)
        rd_kafka_mock_cluster_destroy(T.mock);
    if (T.mock_rk)
        rd_kafka_destroy(T.mock_rk);
    if (T.log)
        fclose(T.log);
    memset(&T, 0, sizeof T);
}

/* Capture the consumer's log lines (stderr, info and up) until end_capture(). */
static void capture_log(void)
{
    const char *level = getenv("TEST_CONSUMER_LOG");
    int lv = level ? log_level_parse(level) : -1;

    if (lv < 0 || lv > LOG_INFO)
        log_init("test_consumer", LOG_INFO);
    fflush(stderr);
    T.log = tmpfile();
    cr_assert_not_null(T.log, "tmpfile for the log");
    /* Appending, so that reading it meanwhile (log_lines) moves no write position. */
    cr_assert_eq(fcntl(fileno(T.log), F_SETFL, O_APPEND), 0, "O_APPEND on the log");
    T.saved_stderr = dup(2);
    cr_assert_geq(T.saved_stderr, 0, "dup stderr");
    cr_assert_geq(dup2(fileno(T.log), 2), 0, "dup2 stderr");
    T.capturing = 1;
}

/* Stop capturing and copy what was captured to stderr; the text stays in T.log. */
static void end_capture(void)
{
    char line[2048];

    if (!T.capturing)
        return;
    T.capturing = 0;
    fflush(stderr);
    dup2(T.saved_stderr, 2);
    close(T.saved_stderr);
    rewind(T.log);
    while (fgets(line, sizeof line, T.log))
        fputs(line, stderr);
}

/* How many captured lines contain both a and b (b may be NULL). */
static int log_lines(const char *a, const char *b)
{
    char line[2048];
    int n = 0;

    cr_assert_not_null(T.log, "the log was not captured");
    rewind(T.log);
    while (fgets(line, sizeof line, T.log))
        if (strstr(line, a) && (!b || strstr(line, b)))
            n++;
    return n;
}

/* Wait up to seconds for n captured lines containing a and b. */
static void wait_log(const char *a, const char *b, int n, int seconds)
{
    int have = 0;
    for (int i = 0; i < seconds * 10 && (have = log_lines(a, b)) < n; i++)
        usleep(100 * 1000);
    cr_assert_geq(have, n, "%d of %d lines with '%s' after %d s", have, n, a, seconds);
}

/* A consumer configuration for the test's mock cluster and database: fast batches, drained
 * exit, no progress lines; then the NULL-terminated key, value pairs given. */
static config *test_config(const char *key, ...)
{
    config *cfg = program_config_new(PROGRAM_OPT_KAFKA | PROGRAM_OPT_PG | PROGRAM_OPT_CONSUMER,
                                     NULL);
    va_list ap;
    const char *const base[] = {
        "bootstrap", rd_kafka_mock_cluster_bootstraps(T.mock),
        "pg", conninfo(),
        "batch.max.ms", "50",
        "exit.when.drained", "true",
        "stats.interval.s", "0",
        /* One worker: the applier records what it was given, from one thread at a time. */
        "apply.workers", "1",
        "kafka.fetch.wait.max.ms", "20",
        /* The mock waits session.timeout.ms - 1 s for members to (re)join after the first
         * join (the default would make that 44 s). */
        "kafka.session.timeout.ms", "2500",
        "kafka.heartbeat.interval.ms", "100",
        "kafka.log_level", "3",
        NULL,
    };

    cr_assert_not_null(cfg, "config_new");
    for (const char *const *kv = base; *kv; kv += 2)
        cr_assert_eq(config_set(cfg, kv[0], kv[1], err, sizeof err), 0, "set %s: %s", kv[0], err);
    va_start(ap, key);
    for (; key; key = va_arg(ap, const char *)) {
        const char *value = va_arg(ap, const char *);
        cr_assert_eq(config_set(cfg, key, value, err, sizeof err), 0, "set %s: %s", key, err);
    }
    va_end(ap);
    return cfg;
}

/* Every slot's context is the test's applier. */
static void *applier_ctx(void *opaque, char *errstr, size_t n)
{
    (void)errstr;
    (void)n;
    return opaque;
}

static void applier_free(void *ctx)
{
    (void)ctx;
}

static consumer *new_consumer(config *cfg, applier *a)
{
    consumer_handler h = {applier_ctx, applier_free, NULL, apply_record, a};
    consumer *c = consumer_new(cfg, T.group, T.topic, &h, err, sizeof err);

    config_destroy(cfg);
    cr_assert_not_null(c, "consumer_new: %s", err);
    return c;
}

/* Run c until drained; asserts it returned 0. */
static void run_drained(consumer *c)
{
    char rerr[1024];
    int rc = consumer_run(c, rerr, sizeof rerr);

    cr_assert_eq(rc, 0, "consumer_run returned %d: %s", rc, rerr);
}

/* Whether the messages the apply was given are in Kafka order within each partition, and
 * none of partition p before offset from; "" when so, else the first offender. */
static const char *seen_problem(const applier *a, int32_t p, int64_t from)
{
    static char out[128];
    int64_t last[16];

    for (int i = 0; i < 16; i++)
        last[i] = -1;
    for (int i = 0; i < a->nseen; i++) {
        const seen_msg *s = &a->seen[i];
        if (s->partition == p && s->offset < from) {
            snprintf(out, sizeof out, "%d/%" PRId64 " is before %" PRId64, p, s->offset, from);
            return out;
        }
        if (s->partition >= 0 && s->partition < 16) {
            if (s->offset <= last[s->partition]) {
                snprintf(out, sizeof out, "%d/%" PRId64 " after %d/%" PRId64, s->partition,
                         s->offset, s->partition, last[s->partition]);
                return out;
            }
            last[s->partition] = s->offset;
        }
    }
    return "";
}

/* --- tests -------------------------------------------------------------------------------- */

TestSuite(consumer, .fini = teardown, .timeout = 60);

Test(consumer, fresh_group_starts_at_the_beginning_and_stores_offsets_with_the_rows)
{
    applier a = {.member = "a"};
    int64_t committed[2];
    consumer *c;
    consumer_stats st;

    setup("fresh", 2);
    produce_n(0, 0, 4);
    produce_n(1, 0, 3);
    /* Kafka's committed offset is not where the consumer resumes: PostgreSQL holds none. */
    kafka_commit(0, 2);
    c = new_consumer(test_config(NULL), &a);
    run_drained(c);
    consumer_get_stats(c, &st);

    expect_text(applied_rows(), ranges(0, 0, 4, 1, 0, 3, -1),
                     "every message applied once from the beginning");
    expect_text(seen_problem(&a, 0, 0), "", "apply given messages out of order");
    expect_text(stored_offsets(), "0/4 1/3", "stored next offsets per partition");
    cr_expect_eq(sql_int("SELECT count(*) FROM consumer_offsets o WHERE group_id = $1 AND "
                         "o.xmin = (SELECT a.xmin FROM consumer_test_applied a "
                         "WHERE a.group_id = o.group_id AND a.partition = o.partition "
                         "ORDER BY a.kafka_offset DESC LIMIT 1)"),
                 2, "each partition's offset row written by the transaction of its last row");
    cr_expect_eq(st.messages, 7, "stats.messages %" PRIu64, st.messages);
    cr_expect_geq(st.batches, 1, "stats.batches %" PRIu64, st.batches);
    cr_expect_eq(st.fenced + st.retries + st.rejected, 0,
                 "fenced %" PRIu64 " retries %" PRIu64 " rejected %" PRIu64, st.fenced,
                 st.retries, st.rejected);
    cr_expect_eq(st.lag, 0, "lag %" PRId64 " after draining", st.lag);
    consumer_destroy(c);
    /* Standard tools see the group's progress. */
    kafka_committed(2, committed);
    cr_expect_eq(committed[0], 4, "partition 0 committed to kafka %" PRId64, committed[0]);
    cr_expect_eq(committed[1], 3, "partition 1 committed to kafka %" PRId64, committed[1]);
}

Test(consumer, resumes_from_the_offsets_stored_in_postgresql)
{
    applier a = {.member = "a"};
    consumer *c;

    setup("resume", 2);
    produce_n(0, 0, 5);
    produce_n(1, 0, 5);
    store_offset(0, 3);
    store_offset(1, 2);
    /* Kafka says otherwise; PostgreSQL wins. */
    kafka_commit(0, 1);
    c = new_consumer(test_config(NULL), &a);
    run_drained(c);

    expect_text(seen_problem(&a, 0, 3), "", "apply given a message of partition 0 before 3");
    expect_text(seen_problem(&a, 1, 2), "", "apply given a message of partition 1 before 2");
    expect_text(applied_rows(), ranges(0, 3, 5, 1, 2, 5, -1),
                     "applied from the stored offsets");
    expect_text(stored_offsets(), "0/5 1/5", "stored next offsets");
    {
        consumer_stats st;
        consumer_get_stats(c, &st);
        cr_expect_eq(st.messages, 5, "stats.messages %" PRIu64, st.messages);
    }
    consumer_destroy(c);
}

/* After the batch-th applied batch, "someone else" stores partition's next offset as to,
 * on the test's own connection. */
typedef struct fence_hook {
    int after_batches;
    int32_t partition;
    int64_t to;
    int64_t stored_before;  /* the partition's stored offset when moved, -1 none */
    int rtt_ms;             /* then slow the broker down to this round-trip time */
    int moved;
} fence_hook;

static void move_offset_once(void *opaque, const consumer_stats *st)
{
    fence_hook *h = opaque;
    char ps[16];
    const char *params[3] = {T.group, T.topic, ps};
    PGresult *res;

    if (h->moved || st->batches < (uint64_t)h->after_batches)
        return;
    snprintf(ps, sizeof ps, "%d", h->partition);
    res = pg_query(T.pg,
                   "SELECT next_offset FROM consumer_offsets "
                   "WHERE group_id = $1 AND topic = $2 AND partition = $3",
                   3, params, err, sizeof err);
    if (!res)
        return; /* h->moved stays 0: the test fails on it */
    h->stored_before = PQntuples(res) ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    if (h->stored_before >= h->to)
        return;
    h->moved = 1;
    store_offset(h->partition, h->to);
    if (h->rtt_ms)
        rd_kafka_mock_broker_set_rtt(T.mock, 1, h->rtt_ms);
}

Test(consumer, a_batch_fenced_by_moved_offsets_is_rolled_back_and_resumes_there)
{
    applier a = {.member = "a"};
    fence_hook h = {.after_batches = 1, .partition = 1, .to = 4, .stored_before = -1};
    consumer *c;
    consumer_stats st;
    char want[256], what[96];

    setup("fence", 2);
    produce_n(0, 0, 4);
    produce_n(1, 0, 6);
    /* Batches of at most 3: the first cannot reach partition 1's offset 4; the fenced
     * second one mixes both partitions (in the order the fetches came), so the store of
     * partition 0 in it is rolled back with it. */
    c = new_consumer(test_config("batch.max.messages", "3", NULL), &a);
    consumer_on_batch(c, move_offset_once, &h);
    run_drained(c);
    consumer_get_stats(c, &st);

    cr_assert_eq(h.moved, 1, "partition 1's offset was not moved (stored %" PRId64 ")",
                 h.stored_before);
    cr_expect_eq(st.fenced, 1, "stats.fenced %" PRIu64, st.fenced);
    /* Partition 0 lost nothing (a store of it in the fenced transaction was rolled back);
     * partition 1 has what came before the move and what came after offset 4, and nothing
     * of the fenced range in between. */
    snprintf(want, sizeof want, "%s",
             ranges(0, 0, 4, 1, 0, h.stored_before < 0 ? 0 : (int)h.stored_before, 1, 4, 6, -1));
    snprintf(what, sizeof what, "applied after the fence (moved from %" PRId64 ")",
             h.stored_before);
    expect_text(applied_rows(), want, what);
    expect_text(stored_offsets(), "0/4 1/6", "stored next offsets");
    expect_text(seen_problem(&a, 1, 0), "", "apply given messages out of order");
    consumer_destroy(c);
}

/* After a fence at the end of a partition, a drained exit waits until what the fence
 * rewound is read and applied again: an end reported before the seek back, or a fence
 * still to be handled, does not count as drained. */
Test(consumer, a_fenced_batch_at_the_end_is_resumed_before_a_drained_exit)
{
    applier a = {.member = "a"};
    fence_hook h = {.after_batches = 1, .partition = 0, .to = 4, .stored_before = -1,
                    .rtt_ms = 600};
    consumer *c;
    consumer_stats st;

    setup("fencelast", 1);
    produce_n(0, 0, 5);
    /* The first batch is full at 3. Then "someone else" applies offset 3 and the broker
     * slows down: the second batch (3, 4) closes only at the end of the partition, is
     * fenced, and the fetch from 4 after the seek back takes a round trip (600 ms) longer
     * than the loop's idle poll (200 ms). */
    c = new_consumer(test_config("batch.max.messages", "3", "batch.max.ms", "10000", NULL), &a);
    consumer_on_batch(c, move_offset_once, &h);
    run_drained(c);
    consumer_get_stats(c, &st);

    cr_assert_eq(h.moved, 1, "the offset was not moved (stored %" PRId64 ")", h.stored_before);
    cr_expect_eq(st.fenced, 1, "stats.fenced %" PRIu64, st.fenced);
    expect_text(applied_rows(), "0/0 0/1 0/2 0/4", "applied around the fenced offset 3");
    expect_text(stored_offsets(), "0/5", "stored next offset");
    cr_expect_eq(st.lag, 0, "lag %" PRId64 " when consumer_run said drained", st.lag);
    consumer_destroy(c);
}

Test(consumer, a_transient_apply_failure_is_retried_and_applied_once)
{
    applier a = {.member = "a", .fail_calls = 1};
    consumer *c;
    consumer_stats st;

    setup("retry", 1);
    produce_n(0, 0, 4);
    c = new_consumer(test_config(NULL), &a);
    run_drained(c);
    consumer_get_stats(c, &st);

    cr_expect_eq(st.retries, 1, "stats.retries %" PRIu64, st.retries);
    cr_expect_eq(a.calls, (int)st.batches + 1, "apply called %d times for %" PRIu64 " batches",
                 a.calls, st.batches);
    expect_text(applied_rows(), ranges(0, 0, 4, -1),
                     "the failed attempt's rows rolled back, the retry's kept");
    expect_text(stored_offsets(), "0/4", "stored next offset");
    cr_expect_eq(st.messages, 4, "stats.messages %" PRIu64, st.messages);
    consumer_destroy(c);
}

typedef struct dlq_msg {
    char key[32], value[32];
    char topic[128], partition[16], offset[24], error_class[32], error_message[128], group[128],
        time[48];
} dlq_msg;

static void header(const rd_kafka_message_t *m, const char *name, char *out, size_t size)
{
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;

    out[0] = '\0';
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_header_get_last(h, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR && v)
        snprintf(out, size, "%.*s", (int)len, (const char *)v);
}

/* Read the dead-letter topic from the beginning to its end: returns the count read. */
static int read_dlq(dlq_msg *out, int max)
{
    rd_kafka_conf_t *conf = mock_conf();
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_t *rk;
    int n = 0;

    conf_set(conf, "enable.partition.eof", "true");
    conf_set(conf, "group.id", "test_consumer.dlq-reader");
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    cr_assert_not_null(rk, "dlq reader: %s", err);
    rd_kafka_topic_partition_list_add(l, T.dlq_topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    cr_assert_eq(rd_kafka_assign(rk, l), RD_KAFKA_RESP_ERR_NO_ERROR, "assign %s", T.dlq_topic);
    rd_kafka_topic_partition_list_destroy(l);
    for (int i = 0; i < 100; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        cr_assert_eq(m->err, RD_KAFKA_RESP_ERR_NO_ERROR, "reading %s: %s", T.dlq_topic,
                     rd_kafka_message_errstr(m));
        if (n < max) {
            dlq_msg *d = &out[n];
            snprintf(d->key, sizeof d->key, "%.*s", (int)m->key_len, (const char *)m->key);
            snprintf(d->value, sizeof d->value, "%.*s", (int)m->len, (const char *)m->payload);
            header(m, "dlq.topic", d->topic, sizeof d->topic);
            header(m, "dlq.partition", d->partition, sizeof d->partition);
            header(m, "dlq.offset", d->offset, sizeof d->offset);
            header(m, "dlq.error.class", d->error_class, sizeof d->error_class);
            header(m, "dlq.error.message", d->error_message, sizeof d->error_message);
            header(m, "dlq.group", d->group, sizeof d->group);
            header(m, "dlq.time", d->time, sizeof d->time);
        }
        n++;
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

Test(consumer, rejected_messages_go_to_dead_letters_and_the_dlq_topic)
{
    applier a = {.member = "a", .reject_bad = 1};
    const char *values[] = {"ok-0", "bad-1", "ok-2", "bad-3", "ok-4"};
    dlq_msg dl[4];
    char want[512];
    consumer *c;
    consumer_stats st;
    int n;

    setup("reject", 1);
    for (int i = 0; i < 5; i++) {
        char key[16];
        snprintf(key, sizeof key, "key-%d", i);
        produce(0, key, values[i]);
    }
    cr_assert_eq(rd_kafka_flush(T.producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR, "flush");
    c = new_consumer(test_config(NULL), &a);
    run_drained(c);
    consumer_get_stats(c, &st);

    cr_expect_eq(st.rejected, 2, "stats.rejected %" PRIu64, st.rejected);
    expect_text(applied_rows(), "0/0 0/2 0/4", "the kept messages applied");
    expect_text(stored_offsets(), "0/5", "offsets move past rejected messages");
    snprintf(want, sizeof want,
             "%s/0/1/" EVENT_ID "/7313********0001/validation/value 'bad-1' is bad "
             "%s/0/3/" EVENT_ID "/7313********0001/validation/value 'bad-3' is bad",
             T.topic, T.topic);
    expect_text(sql_rows("SELECT topic, partition, kafka_offset, event_id, nik_masked, "
                              "error_class, error_message FROM dead_letters "
                              "WHERE group_id = $1 ORDER BY kafka_offset"),
                     want, "dead_letters rows");

    n = read_dlq(dl, 4);
    cr_assert_eq(n, 2, "%d messages on %s", n, T.dlq_topic);
    for (int i = 0; i < 2; i++) {
        const char *offset = i == 0 ? "1" : "3";
        cr_expect_str_eq(dl[i].key, i == 0 ? "key-1" : "key-3", "dead letter %d key '%s'", i,
                         dl[i].key);
        cr_expect_str_eq(dl[i].value, i == 0 ? "bad-1" : "bad-3", "dead letter %d value '%s'",
                         i, dl[i].value);
        cr_expect_str_eq(dl[i].topic, T.topic, "dead letter %d dlq.topic '%s'", i, dl[i].topic);
        cr_expect_str_eq(dl[i].partition, "0", "dead letter %d dlq.partition '%s'", i,
                         dl[i].partition);
        cr_expect_str_eq(dl[i].offset, offset, "dead letter %d dlq.offset '%s'", i, dl[i].offset);
        cr_expect_str_eq(dl[i].error_class, "validation", "dead letter %d dlq.error.class '%s'",
                         i, dl[i].error_class);
        cr_expect_str_eq(dl[i].error_message,
                         i == 0 ? "value 'bad-1' is bad" : "value 'bad-3' is bad",
                         "dead letter %d dlq.error.message '%s'", i, dl[i].error_message);
        cr_expect_str_eq(dl[i].group, T.group, "dead letter %d dlq.group '%s'", i, dl[i].group);
        cr_expect_neq(dl[i].time[0], '\0', "dead letter %d has no dlq.time", i);
    }
    consumer_destroy(c);
}

Test(consumer, an_undelivered_dead_letter_rolls_the_batch_back_and_is_retried)
{
    applier a = {.member = "a", .reject_bad = 1};
    dlq_msg dl[4];
    consumer *c;
    consumer_stats st;
    int n;

    setup("dlqfail", 1);
    produce(0, "key-0", "ok-0");
    produce(0, "key-1", "bad-1");
    cr_assert_eq(rd_kafka_flush(T.producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR, "flush");
    /* The next Produce request, the consumer's first dead letter, is refused (invalid
     * record: librdkafka does not retry it). */
    rd_kafka_mock_push_request_errors(T.mock, API_PRODUCE, 1,
                                      RD_KAFKA_RESP_ERR_INVALID_RECORD);
    c = new_consumer(test_config(NULL), &a);
    run_drained(c);
    consumer_get_stats(c, &st);

    cr_expect_eq(st.retries, 1, "stats.retries %" PRIu64, st.retries);
    cr_expect_eq(st.rejected, 1, "stats.rejected %" PRIu64, st.rejected);
    expect_text(applied_rows(), "0/0", "the kept message applied once");
    expect_text(sql_rows("SELECT partition, kafka_offset FROM dead_letters "
                              "WHERE group_id = $1"), "0/1", "dead_letters rows");
    expect_text(stored_offsets(), "0/2", "stored next offset");
    n = read_dlq(dl, 4);
    cr_expect_eq(n, 1, "%d dead letters on %s", n, T.dlq_topic);
    expect_text(dl[0].offset, "1", "dlq.offset");
    consumer_destroy(c);
}

/* A COMMIT refused for a value (a deferred unique constraint: SQLSTATE 23505) is the data's
 * fault: the batch is split to find the record, and here the retried parts all commit. */
Test(consumer, a_failed_commit_after_the_dead_letters_were_sent_is_isolated_and_applied_once)
{
    applier a = {.member = "a", .reject_bad = 1, .fail_commits = 1};
    dlq_msg dl[4];
    consumer *c;
    consumer_stats st;
    int n;

    setup("commitfail", 1);
    produce(0, "key-0", "ok-0");
    produce(0, "key-1", "bad-1");
    cr_assert_eq(rd_kafka_flush(T.producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR, "flush");
    c = new_consumer(test_config(NULL), &a);
    run_drained(c);
    consumer_get_stats(c, &st);

    cr_expect_eq(st.bisects, 1, "stats.bisects %" PRIu64, st.bisects);
    cr_expect_eq(st.retries, 0, "stats.retries %" PRIu64 " (a data failure is not retried as is)",
                 st.retries);
    expect_text(applied_rows(), "0/0", "the kept message applied once");
    expect_text(sql_rows("SELECT partition, kafka_offset FROM dead_letters "
                              "WHERE group_id = $1"), "0/1", "dead_letters rows");
    expect_text(stored_offsets(), "0/2", "stored next offset");
    /* The dead-letter topic is at least once: the failed attempt's copy was already sent.
     * Every copy names the same source message, so a reader can tell them apart. */
    n = read_dlq(dl, 4);
    cr_expect_geq(n, 1, "no dead letter on %s", T.dlq_topic);
    for (int i = 0; i < n && i < 4; i++)
        cr_expect_str_eq(dl[i].offset, "1", "dead letter %d dlq.offset '%s'", i, dl[i].offset);
    consumer_destroy(c);
}

static void *run_thread(void *opaque)
{
    runner *r = opaque;
    r->rc = consumer_run(r->c, r->err, sizeof r->err);
    return NULL;
}

/* Run c on a thread of its own until stop(). */
static void start(runner *r, consumer *c)
{
    int slot = T.running[0] ? 1 : 0;

    cr_assert_null(T.running[slot], "more than two consumer threads");
    r->c = c;
    r->rc = -2;
    cr_assert_eq(pthread_create(&r->thread, NULL, run_thread, r), 0, "pthread_create");
    T.running[slot] = r;
}

static void join_runner(runner *r)
{
    for (int i = 0; i < 2; i++)
        if (T.running[i] == r)
            T.running[i] = NULL;
    consumer_stop(r->c);
    pthread_join(r->thread, NULL);
}

static void stop(runner *r)
{
    join_runner(r);
    cr_expect_eq(r->rc, 0, "consumer_run returned %d: %s", r->rc, r->err);
}

static long long applied_count(const char *member)
{
    char stmt[160];
    snprintf(stmt, sizeof stmt,
             "SELECT count(*) FROM consumer_test_applied WHERE group_id = $1%s%s%s",
             member ? " AND member = '" : "", member ? member : "", member ? "'" : "");
    return sql_int(stmt);
}

static void wait_applied(long long want, int seconds)
{
    long long have = 0;
    for (int i = 0; i < seconds * 10 && (have = applied_count(NULL)) < want; i++)
        usleep(100 * 1000);
    cr_assert_geq(have, want, "only %lld of %lld messages applied after %d s", have, want, seconds);
}

Test(consumer, a_member_joining_causes_revoke_and_assign_without_double_applies)
{
    applier aa = {.member = "a", .delay_ms = 20}, ab = {.member = "b", .delay_ms = 20};
    runner ra, rb;
    int produced = 3, rounds_after_b = 0;

    setup("rebalance", 2);
    capture_log();
    produce_n(0, 0, produced);
    produce_n(1, 0, produced);
    start(&ra, new_consumer(test_config("exit.when.drained", "false", NULL), &aa));
    wait_applied(2 * produced, 20);

    start(&rb, new_consumer(test_config("exit.when.drained", "false", NULL), &ab));
    /* Keep both partitions moving until b has applied and a went on applying after it. */
    for (int i = 0; i < 150 && rounds_after_b < 5; i++) {
        produce_n(0, produced, 1);
        produce_n(1, produced, 1);
        produced++;
        usleep(100 * 1000);
        if (applied_count("b") > 0)
            rounds_after_b++;
    }
    wait_applied(2 * produced, 20);
    usleep(300 * 1000); /* a late duplicate would land now */
    stop(&rb);
    stop(&ra);
    end_capture();

    expect_text(applied_rows(), ranges(0, 0, produced, 1, 0, produced, -1),
                     "every message applied exactly once");
    cr_expect_geq(log_lines("partitions revoked", "count=2"), 1,
                  "the first member's two partitions were never revoked");
    cr_expect_geq(log_lines("partition assigned", NULL), 4,
                  "%d partition assignments: the first member's two, then one each",
                  log_lines("partition assigned", NULL));
    cr_expect_gt(applied_count("b"), 0, "the joining member applied nothing");
    cr_expect_gt(sql_int("SELECT count(*) FROM consumer_test_applied WHERE group_id = $1 AND "
                         "member = 'a' AND id > (SELECT min(id) FROM consumer_test_applied "
                         "WHERE group_id = $1 AND member = 'b')"),
                 0, "member a applied nothing after member b's first row");
    cr_expect_eq(sql_int("SELECT count(*) FROM (SELECT partition FROM consumer_test_applied "
                         "WHERE group_id = $1 AND id >= (SELECT min(id) FROM "
                         "consumer_test_applied WHERE group_id = $1 AND member = 'b') "
                         "GROUP BY partition HAVING count(DISTINCT member) > 1) shared"),
                 0, "a partition applied by both members after the second joined");
    {
        char want[32];
        snprintf(want, sizeof want, "0/%d 1/%d", produced, produced);
        expect_text(stored_offsets(), want, "stored next offsets");
    }
    expect_text(seen_problem(&aa, 0, 0), "", "member a given messages out of order");
    expect_text(seen_problem(&ab, 0, 0), "", "member b given messages out of order");
    consumer_destroy(rb.c);
    consumer_destroy(ra.c);
}

Test(consumer, a_batch_held_at_a_revocation_is_dropped_and_read_again)
{
    applier aa = {.member = "a"}, ab = {.member = "b"};
    runner ra, rb;
    long long applied_at_revocation;

    setup("held", 2);
    capture_log();
    /* Partition 1 has no leader, so it never reaches its end and a batch of partition 0
     * stays open until batch.max.ms (6 s): a holds 0..3 when b joins. */
    cr_assert_eq(rd_kafka_mock_partition_set_leader(T.mock, T.topic, 1, -1), 0,
                 "partition 1 without a leader");
    produce_n(0, 0, 4);
    start(&ra, new_consumer(test_config("exit.when.drained", "false", "batch.max.ms", "6000",
                                        NULL), &aa));
    wait_log("partition assigned", NULL, 2, 15);
    usleep(1000 * 1000);
    start(&rb, new_consumer(test_config("exit.when.drained", "false", "batch.max.ms", "6000",
                                        NULL), &ab));
    wait_log("partitions revoked", "count=2", 1, 15);
    applied_at_revocation = applied_count(NULL);
    wait_applied(4, 20);
    usleep(300 * 1000); /* a late duplicate would land now */
    stop(&rb);
    stop(&ra);
    end_capture();

    cr_expect_eq(applied_at_revocation, 0, "%lld applied before the revocation",
                 applied_at_revocation);
    expect_text(applied_rows(), "0/0 0/1 0/2 0/3", "the held messages applied once");
    expect_text(stored_offsets(), "0/4", "stored next offsets");
    cr_expect_eq(aa.nseen + ab.nseen, 4, "apply given %d + %d messages", aa.nseen, ab.nseen);
    consumer_destroy(rb.c);
    consumer_destroy(ra.c);
}

Test(consumer, with_batch_idle_handoff_an_idle_worker_takes_its_batch_a_busy_one_lets_it_grow)
{
    applier a = {.member = "a", .delay_ms = 1500};
    runner r;

    setup("idle", 2);
    /* As in the test above, partition 1 has no leader, so the log's end is never reached
     * and without batch.idle.handoff the batch of 0..3 would wait for batch.max.ms (50 s,
     * beyond the time allowed here): the worker, with nothing to apply, must take it. */
    cr_assert_eq(rd_kafka_mock_partition_set_leader(T.mock, T.topic, 1, -1), 0,
                 "partition 1 without a leader");
    produce_n(0, 0, 4);
    start(&r, new_consumer(test_config("exit.when.drained", "false", "batch.max.ms", "50000",
                                       "batch.idle.handoff", "true", NULL), &a));
    for (int i = 0; i < 150 && __atomic_load_n(&a.calls, __ATOMIC_SEQ_CST) < 1; i++)
        usleep(100 * 1000);
    cr_assert_geq(__atomic_load_n(&a.calls, __ATOMIC_SEQ_CST), 1,
                  "the first batch not handed to the idle worker within 15 s");
    /* While that batch is applied (1.5 s), 4..7 arrive one fetch at a time: the busy
     * worker's next batch grows with each, and is handed over whole when it is done. */
    for (int i = 4; i < 8; i++) {
        produce_n(0, i, 1);
        usleep(100 * 1000);
    }
    wait_applied(8, 15);
    stop(&r);

    expect_text(applied_rows(), "0/0 0/1 0/2 0/3 0/4 0/5 0/6 0/7",
                "the fetched messages applied once");
    expect_text(stored_offsets(), "0/8", "stored next offsets");
    cr_expect_eq(a.calls, 2, "%d batches: 4..7, fetched while the worker was busy, in one",
                 a.calls);
    consumer_destroy(r.c);
}

Test(consumer, failed_kafka_commits_lose_and_double_nothing)
{
    applier a = {.member = "a"}, again = {.member = "again"};
    int64_t committed[2];
    consumer *c;

    setup("commit", 2);
    produce_n(0, 0, 4);
    produce_n(1, 0, 3);
    /* Every OffsetCommit of this run fails (a permanent error: librdkafka does not retry). */
    for (int i = 0; i < 50; i++)
        rd_kafka_mock_push_request_errors(T.mock, API_OFFSET_COMMIT, 1,
                                          RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE);
    c = new_consumer(test_config("batch.max.messages", "2", NULL), &a);
    run_drained(c);
    expect_text(applied_rows(), ranges(0, 0, 4, 1, 0, 3, -1),
                     "applied once despite failed commits");
    expect_text(stored_offsets(), "0/4 1/3", "stored next offsets");
    {
        consumer_stats st;
        consumer_get_stats(c, &st);
        cr_expect_geq(st.batches, 4, "batches %" PRIu64 " (one commit each)", st.batches);
    }
    consumer_destroy(c);
    rd_kafka_mock_clear_request_errors(T.mock, API_OFFSET_COMMIT);

    kafka_committed(2, committed);
    cr_expect_eq(committed[0], RD_KAFKA_OFFSET_INVALID, "partition 0 committed %" PRId64
                 " although every commit failed", committed[0]);
    cr_expect_eq(committed[1], RD_KAFKA_OFFSET_INVALID, "partition 1 committed %" PRId64
                 " although every commit failed", committed[1]);

    /* A restart resumes from PostgreSQL, not from Kafka's (missing) commits. */
    c = new_consumer(test_config(NULL), &again);
    run_drained(c);
    cr_expect_eq(again.nseen, 0, "the restarted consumer was given %d messages again", again.nseen);
    expect_text(applied_rows(), ranges(0, 0, 4, 1, 0, 3, -1), "nothing applied twice");
    consumer_destroy(c);
}

Test(consumer, a_commit_refused_for_a_stale_generation_rejoins_and_doubles_nothing)
{
    applier a = {.member = "a"};
    consumer *c;

    setup("generation", 2);
    capture_log();
    produce_n(0, 0, 3);
    produce_n(1, 0, 3);
    /* The first batch's commit: librdkafka takes the assignment as lost and rejoins. */
    rd_kafka_mock_push_request_errors(T.mock, API_OFFSET_COMMIT, 1,
                                      RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION);
    c = new_consumer(test_config("batch.max.messages", "2", NULL), &a);
    run_drained(c);
    end_capture();

    cr_expect_eq(log_lines("partitions revoked", "count=2"), 1, "revocations before the close");
    cr_expect_eq(log_lines("partition assigned", NULL), 4,
                 "two partitions assigned, revoked and assigned again");
    expect_text(applied_rows(), ranges(0, 0, 3, 1, 0, 3, -1), "applied once");
    expect_text(stored_offsets(), "0/3 1/3", "stored next offsets");
    consumer_destroy(c);
}

Test(consumer, the_cooperative_protocol_is_refused)
{
    applier a = {.member = "a"};
    char rerr[1024];
    consumer *c;
    int rc;

    setup("cooperative", 1);
    produce_n(0, 0, 2);
    c = new_consumer(test_config("kafka.partition.assignment.strategy", "cooperative-sticky",
                                 NULL), &a);
    rc = consumer_run(c, rerr, sizeof rerr);

    cr_expect_eq(rc, -1, "consumer_run returned %d", rc);
    cr_expect_not_null(strstr(rerr, "cooperative"), "message should name the protocol: %s", rerr);
    cr_expect_eq(a.calls, 0, "apply called %d times", a.calls);
    expect_text(stored_offsets(), "", "offsets stored");
    consumer_destroy(c);
}
