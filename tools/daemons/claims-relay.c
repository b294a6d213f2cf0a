/* claims-relay: publishes the claim workflow's outbox (claim_outbox) to the `claims` topic.
 *
 * Loop: read up to batch.size rows WHERE published_at IS NULL in outbox_id order, build each
 * ClaimEvent from its claim_transitions row and claim (NIK, incident, late flag), produce
 * them keyed by claim_id (idempotent producer, acks=all, so a partition keeps the order they
 * were produced in), wait until the whole batch is acknowledged, then set published_at on
 * exactly those rows in one UPDATE (autocommit). A crash between delivery and that UPDATE
 * republishes the batch: at least once on the wire, with the same event ids (subscribers
 * de-duplicate on event_id), and per claim in transition order, since the relay always
 * resumes from the oldest unpublished row.
 *
 * One relay publishes at a time: it holds a session-level advisory lock, and a second relay
 * waits as a standby (two relays taking rows with SKIP LOCKED could put a claim's events on
 * the wire out of order). PostgreSQL drops the lock when the session ends, also on kill -9.
 * Between batches it sleeps up to poll.interval.ms or until NOTIFY claim_outbox (a trigger
 * on claim_outbox, deploy/sql/004), so a new event leaves within milliseconds.
 * SIGINT/SIGTERM finish the current batch and exit. Exit status 0, 1 on a failure, 2 usage.
 * The lock, LISTEN, batch and mark loop is common/relay; this file is the claim events' SQL
 * and encoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim_event.h"
#include "codec.h"
#include "config.h"
#include "log.h"
#include "relay.h"
#include "schemareg.h"

/* pg_advisory_lock key of the relay: hashtext('claims-relay') would do as well, a constant
 * is easier to find in pg_locks. */
#define RELAY_LOCK_KEY "7310430001"

static schemareg_subjects writes = {CODEC_CLAIM_SUBJECT, NULL};

static const config_option options[] = {
    {"topic", CONFIG_STR, "claims", NULL, "topic the claim events go to"},
    {"source", CONFIG_STR, "claims-relay", NULL, "id written as every event's source"},
    {NULL, 0, NULL, NULL, NULL},
};

/* Columns of the batch query. */
enum {
    B_OUTBOX_ID, B_EVENT_ID, B_CLAIM_ID, B_INCIDENT_ID, B_NIK, B_PROGRAM, B_BENEFIT, B_FROM,
    B_TO, B_KIND, B_AMOUNT, B_VERSION, B_REASON, B_ACTOR, B_PAYMENT_REF, B_LATE, B_AT_US
};

static const char batch_sql[] =
    "SELECT o.outbox_id, o.event_id, o.claim_id, c.incident_id, c.nik, t.program, t.benefit,"
    " t.from_status, t.to_status, t.kind, t.amount_idr, t.benefit_table_version,"
    " coalesce(t.reason, ''), t.actor, t.payment_reference, c.late_report,"
    " (extract(epoch FROM t.at) * 1000000)::bigint"
    " FROM claim_outbox o JOIN claim_transitions t USING (transition_id)"
    " JOIN claims c ON c.claim_id = o.claim_id"
    " WHERE o.published_at IS NULL ORDER BY o.outbox_id LIMIT $1";

/* Copy a text column into a fixed field; a too long value is cut and said so. */
static void copy_text(char *dst, size_t size, const PGresult *res, int row, int col,
                      const char *what, const char *event_id)
{
    const char *v = PQgetvalue(res, row, col);
    if (strlen(v) >= size)
        log_warn("field truncated", "event_id=%s field=%s length=%zu max=%zu", event_id, what,
                 strlen(v), size - 1);
    snprintf(dst, size, "%s", v);
}

/* One outbox row as a ClaimEvent; -1 with errstr for a value the schema has no symbol for. */
static int row_to_event(const PGresult *res, int row, claim_event *ev, const char *source,
                        char *errstr, size_t n)
{
    const char *id = PQgetvalue(res, row, B_EVENT_ID);

    claim_event_init(ev);
    snprintf(ev->source, sizeof ev->source, "%s", source);
    copy_text(ev->event_id, sizeof ev->event_id, res, row, B_EVENT_ID, "event_id", id);
    copy_text(ev->claim_id, sizeof ev->claim_id, res, row, B_CLAIM_ID, "claim_id", id);
    copy_text(ev->incident_id, sizeof ev->incident_id, res, row, B_INCIDENT_ID, "incident_id", id);
    copy_text(ev->nik, sizeof ev->nik, res, row, B_NIK, "nik", id);
    copy_text(ev->reason, sizeof ev->reason, res, row, B_REASON, "reason", id);
    copy_text(ev->actor, sizeof ev->actor, res, row, B_ACTOR, "actor", id);
    copy_text(ev->benefit_table_version, sizeof ev->benefit_table_version, res, row, B_VERSION,
              "benefit_table_version", id);
    ev->fields |= CF_TABLE_VERSION;
    ev->program = (claim_program)claim_program_parse(PQgetvalue(res, row, B_PROGRAM));
    ev->benefit = (claim_benefit)claim_benefit_parse(PQgetvalue(res, row, B_BENEFIT));
    ev->to_status = (claim_status)claim_status_parse(PQgetvalue(res, row, B_TO));
    ev->kind = (claim_event_kind)claim_event_kind_parse(PQgetvalue(res, row, B_KIND));
    if (!PQgetisnull(res, row, B_FROM)) {
        ev->from_status = (claim_status)claim_status_parse(PQgetvalue(res, row, B_FROM));
        ev->fields |= CF_FROM_STATUS;
        if (ev->from_status == CLAIM_STATUS_NONE)
            goto bad;
    }
    if (!PQgetisnull(res, row, B_AMOUNT)) {
        ev->amount_idr = atoll(PQgetvalue(res, row, B_AMOUNT));
        ev->fields |= CF_AMOUNT;
    }
    if (!PQgetisnull(res, row, B_PAYMENT_REF)) {
        copy_text(ev->payment_reference, sizeof ev->payment_reference, res, row, B_PAYMENT_REF,
                  "payment_reference", id);
        ev->fields |= CF_PAYMENT_REF;
    }
    ev->late_report = strcmp(PQgetvalue(res, row, B_LATE), "t") == 0;
    ev->event_time_us = atoll(PQgetvalue(res, row, B_AT_US));
    if (ev->program == CLAIM_PROGRAM_NONE || ev->benefit == BENEFIT_NONE ||
        ev->to_status == CLAIM_STATUS_NONE || ev->kind == CLAIM_EVENT_KIND_NONE)
        goto bad;
    return 0;
bad:
    snprintf(errstr, n, "outbox row %s (event %s): program '%s', benefit '%s', status '%s' -> '%s'"
             " or kind '%s' is not in the ClaimEvent schema",
             PQgetvalue(res, row, B_OUTBOX_ID), id, PQgetvalue(res, row, B_PROGRAM),
             PQgetvalue(res, row, B_BENEFIT), PQgetvalue(res, row, B_FROM),
             PQgetvalue(res, row, B_TO), PQgetvalue(res, row, B_KIND));
    return -1;
}

/* A batch row as a message keyed by claim_id (relay_def.encode_row). */
static int encode_row(const config *cfg, codec *cd, const PGresult *res, int row,
                      relay_msg *msg, char *errstr, size_t n)
{
    claim_event ev;

    if (row_to_event(res, row, &ev, config_get(cfg, "source"), errstr, n) < 0 ||
        codec_encode_claim_event(cd, &ev, 0, &msg->value, &msg->len, errstr, n) < 0)
        return -1;
    snprintf(msg->key, sizeof msg->key, "%s", ev.claim_id);
    return 1;
}

static const relay_def claims_relay = {
    .program = {"claims-relay",
                "usage: claims-relay [options]\n"
                "Publishes claim_outbox rows to the claims topic, oldest first, at least once.\n\n"
                "options:\n",
                RELAY_OPTIONS, options, 0, 0, writes},
    .lock_key = RELAY_LOCK_KEY,
    .channel = "claim_outbox",
    .batch_sql = batch_sql,
    .ids_column = B_OUTBOX_ID,
    .mark_sql = "UPDATE claim_outbox SET published_at = now()"
                " WHERE outbox_id = ANY ($1::bigint[]) AND published_at IS NULL",
    .backlog_sql = "SELECT count(*), coalesce(extract(epoch FROM now() - ("
                   "SELECT t.at FROM claim_outbox o JOIN claim_transitions t USING (transition_id)"
                   " WHERE o.published_at IS NULL ORDER BY o.outbox_id LIMIT 1)), 0)"
                   " FROM claim_outbox WHERE published_at IS NULL",
    .unit = "events",
    .encode_row = encode_row,
};

int main(int argc, char **argv)
{
    return relay_main(argc, argv, &claims_relay);
}
