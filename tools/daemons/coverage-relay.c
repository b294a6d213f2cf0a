/* coverage-relay: publishes the current coverage state of every worker queued in
 * coverage_outbox (deploy/sql/006) to the compacted `coverage.changes` topic, keyed by NIK.
 *
 * Loop: take up to batch.size rows WHERE published_at IS NULL in outbox_id order, collapse
 * them to distinct NIKs (the highest outbox_id per NIK gives the cause event and the
 * event_time), read each worker's current state from coverages in the same query (so every
 * outbox row seen is committed and its change visible), produce one CoverageChange per NIK
 * in order of that highest outbox_id, wait until the whole batch is acknowledged, then set
 * published_at on exactly the rows taken in one UPDATE (autocommit). A crash between
 * delivery and that UPDATE republishes the same states with the same event ids: event_id is
 * the v5 UUID of (NIK, cause event), so it is stable, and the topic is compacted anyway.
 *
 * The current state: a worker's terms are its coverages grouped by enrol event. The term
 * is the earliest one not cancelled whose valid_to is today (UTC) or later, else the most
 * recent one not cancelled, else (everything cancelled) the latest enrolment. status is
 * TERMINATED when the term was closed early (a TERMINATE, a death or a lapse of unpaid
 * contributions) or cancelled, EXPIRED
 * when its valid_to is past, else ACTIVE; programs are the term's programs not cancelled.
 *
 * One relay publishes at a time (session advisory lock; a second relay stands by), so a
 * worker's states reach the topic in outbox order. Between batches it sleeps up to
 * poll.interval.ms or until NOTIFY coverage_outbox. SIGINT/SIGTERM finish the current batch
 * and exit. With --snapshot it queues every worker's current state again (snapshot_sql) and
 * exits, taking no lock, so the relay that runs republishes them. Exit status 0, 1 on a
 * failure, 2 usage. The lock, LISTEN, batch and mark loop is
 * common/relay (shared with tools/daemons/claims-relay.c); this file is the states' SQL and encoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "config.h"
#include "coverage_change.h"
#include "log.h"
#include "relay.h"
#include "roster.h"
#include "schemareg.h"
#include "uuid5.h"

/* pg_advisory_lock key of this relay (claims-relay holds 7310430001). */
#define RELAY_LOCK_KEY "7310430002"

static schemareg_subjects writes = {CODEC_COVERAGE_SUBJECT, NULL};

static const config_option options[] = {
    {"topic", CONFIG_STR, "coverage.changes", NULL, "topic the coverage states go to"},
    {"source", CONFIG_STR, "coverage-relay", NULL, "id written as every event's source"},
    {"snapshot", CONFIG_BOOL, "false", NULL,
     "queue the current state of every worker again and exit: the running relay republishes "
     "each with the event id it was published with (a new subscriber, a retention accident)"},
    {NULL, 0, NULL, NULL, NULL},
};

/* Columns of the batch query: one row per NIK. */
enum {
    B_LAST_ID, B_IDS, B_NIK, B_CAUSE, B_AT_US, B_PROGRAMS, B_STATUS, B_FROM, B_TO, B_REGION,
    B_ROLE, B_INSTITUTION
};

#define TODAY "(now() AT TIME ZONE 'UTC')::date"

static const char batch_sql[] =
    "WITH b AS ("
    " SELECT outbox_id, nik, cause_event, coalesce(event_at, created_at) AS created_at"
    " FROM coverage_outbox"
    " WHERE published_at IS NULL ORDER BY outbox_id LIMIT $1),"
    " n AS ("
    " SELECT nik, max(outbox_id) AS last_id,"
    "  (array_agg(cause_event ORDER BY outbox_id DESC))[1] AS cause_event,"
    "  (array_agg(created_at ORDER BY outbox_id DESC))[1] AS at,"
    "  string_agg(outbox_id::text, ',' ORDER BY outbox_id) AS ids"
    " FROM b GROUP BY nik),"
    " terms AS ("
    " SELECT c.nik, bool_and(c.status = 'CANCELLED') AS cancelled,"
    "  bool_or(c.status IN ('TERMINATED', 'LAPSED')) AS terminated,"
    "  coalesce(min(c.valid_from) FILTER (WHERE c.status <> 'CANCELLED'), min(c.valid_from))"
    "   AS valid_from,"
    "  coalesce(max(c.valid_to) FILTER (WHERE c.status <> 'CANCELLED'), max(c.valid_to))"
    "   AS valid_to,"
    "  coalesce(string_agg(c.program, ';' ORDER BY c.program)"
    "   FILTER (WHERE c.status <> 'CANCELLED'), '') AS programs,"
    "  min(c.region_code) AS region_code, min(c.role) AS role,"
    "  min(c.institution) AS institution, max(c.coverage_id) AS last_coverage"
    " FROM coverages c WHERE c.nik IN (SELECT nik FROM n) GROUP BY c.nik, c.enroll_event),"
    " cur AS ("
    " SELECT DISTINCT ON (nik) * FROM terms"
    " ORDER BY nik, cancelled, valid_to < " TODAY ","
    "  CASE WHEN valid_to >= " TODAY " THEN valid_from END, valid_to DESC, last_coverage DESC)"
    " SELECT n.last_id, n.ids, n.nik, n.cause_event,"
    "  (extract(epoch FROM n.at) * 1000000)::bigint, t.programs,"
    "  CASE WHEN t.cancelled OR t.terminated THEN 'TERMINATED'"
    "   WHEN t.valid_to < " TODAY " THEN 'EXPIRED' ELSE 'ACTIVE' END,"
    "  t.valid_from - DATE '1970-01-01', t.valid_to - DATE '1970-01-01', t.region_code,"
    "  t.role, t.institution"
    " FROM n LEFT JOIN cur t USING (nik) ORDER BY n.last_id";

/* --snapshot: every worker with coverages queued again (deploy/sql/013_coverage_snapshot.sql
 * says how, and why it holds the consumers' inserts off while it runs): the running relay
 * publishes them after whatever was queued before, and a change queued later is published
 * after them, so the topic ends at each worker's latest state. */
static const char snapshot_sql[] = "SELECT coverage_snapshot()";

/* The event id of a state: v5 UUID of (NIK, cause event) in a namespace of its own. */
static void state_event_id(const char *nik, const char *cause, char *out)
{
    /* A fixed namespace for coverage states (itself a random UUID, never to change). */
    static const unsigned char ns[16] = {233, 213, 161, 168, 137, 243, 76, 107,
                                         181, 109, 85, 50, 211, 99, 235, 127};
    uuid5 u;

    uuid5_init(&u);
    uuid5_text(&u, "coverage.changes", 32);
    uuid5_text(&u, nik, 16);
    uuid5_text(&u, cause, 36);
    uuid5_finish(&u, ns, out);
}

/* One batch row as a CoverageChange; -1 with errstr for a value the schema cannot hold. */
static int row_to_state(const PGresult *res, int row, coverage_change *cc, const char *source,
                        char *errstr, size_t n)
{
    const char *programs = PQgetvalue(res, row, B_PROGRAMS);
    int bits = *programs ? roster_programs_parse(programs) : 0;

    coverage_change_init(cc);
    snprintf(cc->source, sizeof cc->source, "%s", source);
    snprintf(cc->nik, sizeof cc->nik, "%s", PQgetvalue(res, row, B_NIK));
    state_event_id(cc->nik, PQgetvalue(res, row, B_CAUSE), cc->event_id);
    cc->event_time_us = atoll(PQgetvalue(res, row, B_AT_US));
    cc->programs = bits > 0 ? (unsigned)bits : 0;
    cc->status = (coverage_status)coverage_status_parse(PQgetvalue(res, row, B_STATUS));
    cc->valid_from = atoi(PQgetvalue(res, row, B_FROM));
    cc->valid_to = atoi(PQgetvalue(res, row, B_TO));
    snprintf(cc->region_code, sizeof cc->region_code, "%s", PQgetvalue(res, row, B_REGION));
    cc->role = (roster_role)roster_role_parse(PQgetvalue(res, row, B_ROLE));
    cc->institution = (roster_institution)roster_institution_parse(PQgetvalue(res, row,
                                                                             B_INSTITUTION));
    if (bits < 0 || cc->status == COVERAGE_STATUS_NONE || cc->role == ROLE_NONE ||
        cc->institution == INST_NONE || strlen(PQgetvalue(res, row, B_REGION)) >= sizeof cc->region_code)
        return snprintf(errstr, n, "outbox row %s: programs '%s', role '%s', institution '%s' or"
                        " region '%s' is not in the CoverageChange schema",
                        PQgetvalue(res, row, B_LAST_ID), programs, PQgetvalue(res, row, B_ROLE),
                        PQgetvalue(res, row, B_INSTITUTION), PQgetvalue(res, row, B_REGION)), -1;
    return 0;
}

/* A batch row as a message keyed by NIK, or nothing for a worker without coverages
 * (relay_def.encode_row). */
static int encode_row(const config *cfg, codec *cd, const PGresult *res, int row,
                      relay_msg *msg, char *errstr, size_t n)
{
    coverage_change cc;

    if (PQgetisnull(res, row, B_STATUS)) {
        char masked[20];
        /* Nothing to publish for a worker without coverages; the rows are done. */
        log_warn("worker has no coverage", "nik=%s outbox_id=%s",
                 log_mask_nik(PQgetvalue(res, row, B_NIK), masked, sizeof masked),
                 PQgetvalue(res, row, B_LAST_ID));
        return 0;
    }
    if (row_to_state(res, row, &cc, config_get(cfg, "source"), errstr, n) < 0 ||
        codec_encode_coverage_change(cd, &cc, 0, &msg->value, &msg->len, errstr, n) < 0)
        return -1;
    snprintf(msg->key, sizeof msg->key, "%s", cc.nik);
    return 1;
}

static const relay_def coverage_relay = {
    .program = {"coverage-relay",
                "usage: coverage-relay [options]\n"
                "Publishes the current coverage state of every worker queued in coverage_outbox\n"
                "to the coverage.changes topic, keyed by NIK, at least once.\n\n"
                "options:\n",
                RELAY_OPTIONS, options, 0, 0, writes},
    .lock_key = RELAY_LOCK_KEY,
    .channel = "coverage_outbox",
    .batch_sql = batch_sql,
    .ids_column = B_IDS,
    .mark_sql = "UPDATE coverage_outbox SET published_at = now()"
                " WHERE outbox_id = ANY ($1::bigint[]) AND published_at IS NULL",
    .backlog_sql = "SELECT count(*), coalesce(extract(epoch FROM now() - ("
                   "SELECT created_at FROM coverage_outbox WHERE published_at IS NULL"
                   " ORDER BY outbox_id LIMIT 1)), 0) FROM coverage_outbox WHERE published_at IS NULL",
    .unit = "states",
    .log_skipped = 1,
    .drain_eagerly = 1,
    .encode_row = encode_row,
    .snapshot_option = "snapshot",
    .snapshot_sql = snapshot_sql,
};

int main(int argc, char **argv)
{
    return relay_main(argc, argv, &coverage_relay);
}
