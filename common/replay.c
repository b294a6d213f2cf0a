/* replay: dead letters back to their source topic. */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "log.h"
#include "pg.h"

#define FLUSH_MS 60000

/* The chosen dead letters, in the order they were dead-lettered. */
static const char select_sql[] =
    "SELECT dead_letter_id, topic, coalesce(event_id::text, ''), msg_key, msg_value,"
    " msg_value IS NULL"
    " FROM dead_letters"
    " WHERE ($1 = '' OR topic = $1) AND ($2::int < 0 OR partition = $2::int)"
    "  AND ($3::bigint < 0 OR kafka_offset >= $3::bigint)"
    "  AND ($4::bigint < 0 OR kafka_offset <= $4::bigint)"
    "  AND ($5 = '' OR error_class = $5)"
    "  AND ($6 = '' OR dead_letter_id = ANY (string_to_array($6, ',')::bigint[]))"
    "  AND ($7::boolean OR replayed_at IS NULL)"
    " ORDER BY recorded_at, topic, partition, kafka_offset LIMIT $8::bigint";

enum { R_ID, R_TOPIC, R_EVENT, R_KEY, R_VALUE, R_NO_BYTES };

typedef struct replayed {
    int done;
    rd_kafka_resp_err_t err;
} replayed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    replayed *r = m->_private;

    (void)rk;
    (void)opaque;
    r->err = m->err;
    r->done = 1;
}

static PGresult *select_letters(PGconn *pg, const replay_filter *f, char *errstr, size_t n)
{
    char part[16], from[24], to[24], limit[24];
    const char *p[8] = {f->topic ? f->topic : "", part, from, to,
                        f->error_class ? f->error_class : "", f->ids ? f->ids : "",
                        f->again ? "true" : "false", limit};

    snprintf(part, sizeof part, "%d", f->partition);
    snprintf(from, sizeof from, "%lld", (long long)f->from_offset);
    snprintf(to, sizeof to, "%lld", (long long)f->to_offset);
    snprintf(limit, sizeof limit, "%ld", f->limit > 0 ? f->limit : 1000000L);
    return pg_query(pg, select_sql, 8, p, errstr, n);
}

/* Step 1: REJECTED -> REPLAYING for the events of res, committed. */
static int allow_again(PGconn *pg, const PGresult *res, char *errstr, size_t n)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *p[1] = {PQgetvalue(res, i, R_EVENT)};
        PGresult *r;
        if (!*p[0] || PQgetvalue(res, i, R_NO_BYTES)[0] == 't')
            continue;
        if (!(r = pg_query(pg,
                           "UPDATE applied_events SET outcome = 'REPLAYING'"
                           " WHERE event_id = $1::uuid AND outcome = 'REJECTED'",
                           1, p, errstr, n)))
            return -1;
        PQclear(r);
    }
    return 0;
}

/* Step 2: produce every record of res with bytes; waits for the acknowledgements. */
static int produce(rd_kafka_t *rk, const PGresult *res, replayed *out, char *errstr, size_t n)
{
    for (int i = 0; i < PQntuples(res); i++) {
        size_t klen = 0, vlen = 0;
        unsigned char *key = NULL, *value;
        rd_kafka_headers_t *h;
        rd_kafka_resp_err_t err;

        if (PQgetvalue(res, i, R_NO_BYTES)[0] == 't')
            continue;
        if (!PQgetisnull(res, i, R_KEY))
            key = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, R_KEY), &klen);
        value = PQunescapeBytea((const unsigned char *)PQgetvalue(res, i, R_VALUE), &vlen);
        h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, "replay.dead_letter_id", -1, PQgetvalue(res, i, R_ID), -1);
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(PQgetvalue(res, i, R_TOPIC)),
                                RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE(value, vlen),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(&out[i]),
                                RD_KAFKA_V_END);
        PQfreemem(key);
        PQfreemem(value);
        if (err) {
            rd_kafka_headers_destroy(h);
            snprintf(errstr, n, "dead letter %s: unable to queue: %s", PQgetvalue(res, i, R_ID),
                     rd_kafka_err2str(err));
            return -1;
        }
    }
    if (rd_kafka_flush(rk, FLUSH_MS) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(errstr, n, "records not acknowledged within %d s", FLUSH_MS / 1000);
        return -1;
    }
    return 0;
}

/* Step 3: mark the delivered ones. */
static int mark(PGconn *pg, const PGresult *res, const replayed *out, replay_counts *counts,
                char *errstr, size_t n)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *p[1] = {PQgetvalue(res, i, R_ID)};
        PGresult *r;
        if (!out[i].done || out[i].err) {
            if (out[i].done)
                log_error("dead letter not replayed", "dead_letter_id=%s error=\"%s\"", p[0],
                          rd_kafka_err2str(out[i].err));
            continue;
        }
        if (!(r = pg_query(pg,
                           "UPDATE dead_letters SET replayed_at = now(),"
                           " replay_count = replay_count + 1 WHERE dead_letter_id = $1",
                           1, p, errstr, n)))
            return -1;
        PQclear(r);
        counts->replayed++;
    }
    return 0;
}

int replay_dead_letters(const config *cfg, PGconn *pg, const replay_filter *f,
                        replay_counts *counts, char *errstr, size_t n)
{
    static const char *const defaults[] = {"enable.idempotence", "true", "acks", "all", NULL};
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    PGresult *res = NULL;
    replayed *out = NULL;
    int rc = -1;

    memset(counts, 0, sizeof *counts);
    if (!f->topic && f->partition < 0 && f->from_offset < 0 && f->to_offset < 0 &&
        !f->error_class && !f->ids) {
        snprintf(errstr, n, "choose the dead letters: --topic, --partition, --from-offset, "
                            "--to-offset, --class or --id");
        return -1;
    }
    if (!(res = select_letters(pg, f, errstr, n)))
        return -1;
    counts->selected = PQntuples(res);
    for (int i = 0; i < PQntuples(res); i++)
        counts->no_bytes += PQgetvalue(res, i, R_NO_BYTES)[0] == 't';
    if (!counts->selected) {
        rc = 0;
        goto out;
    }
    if (!(out = calloc((size_t)counts->selected, sizeof *out))) {
        snprintf(errstr, n, "out of memory");
        goto out;
    }
    if (!(conf = kafka_conf_new(cfg, defaults, NULL, errstr, n)))
        goto out;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, n)))
        goto out;
    conf = NULL;
    if (allow_again(pg, res, errstr, n) < 0 || produce(rk, res, out, errstr, n) < 0 ||
        mark(pg, res, out, counts, errstr, n) < 0)
        goto out;
    rc = counts->replayed + counts->no_bytes == counts->selected ? 0 : -1;
    if (rc < 0)
        snprintf(errstr, n, "%ld of %ld dead letters not delivered (see above); replay them again",
                 counts->selected - counts->no_bytes - counts->replayed, counts->selected);
out:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (rk) {
        rd_kafka_flush(rk, 5000);
        rd_kafka_destroy(rk);
    }
    free(out);
    PQclear(res);
    return rc;
}
