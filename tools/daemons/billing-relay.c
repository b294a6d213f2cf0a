/* billing-relay: publishes issued invoices (invoice_outbox, deploy/sql/012) to the
 * `billing.invoices` topic, keyed by agreement id, as Avro Invoice records.
 *
 * invoice_issue() queues one outbox row per invoice in the transaction that issues it;
 * this relay reads up to batch.size unpublished rows in outbox_id order, builds each
 * Invoice from the invoice, its items (per program) and the rates version of its month,
 * produces them, waits until the whole batch is acknowledged, then marks exactly those rows
 * published in one UPDATE. A crash in between publishes the batch again with the same event
 * ids (at least once; subscribers de-duplicate on event_id). An issued invoice never
 * changes, so publishing it again always says the same.
 *
 * One relay publishes at a time (session advisory lock; a second relay stands by), waking
 * on NOTIFY invoice_outbox. The loop is common/relay (as claims-relay and coverage-relay);
 * this file is the invoices' SQL and encoding. Exit status 0, 1 on a failure, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "config.h"
#include "invoice_event.h"
#include "log.h"
#include "relay.h"
#include "schemareg.h"

/* pg_advisory_lock key (claims-relay holds 7310430001, coverage-relay 7310430002). */
#define RELAY_LOCK_KEY "7310430003"

static schemareg_subjects writes = {CODEC_INVOICE_SUBJECT, NULL};

static const config_option options[] = {
    {"topic", CONFIG_STR, "billing.invoices", NULL, "topic the issued invoices go to"},
    {"source", CONFIG_STR, "billing-relay", NULL, "id written as every event's source"},
    {NULL, 0, NULL, NULL, NULL},
};

enum {
    B_OUTBOX_ID, B_EVENT_ID, B_INVOICE_ID, B_AGREEMENT, B_MONTH, B_SCHEME, B_VERSION, B_WORKERS,
    B_WORKER_MONTHS, B_ADJ_MONTHS, B_LINES, B_JKK, B_JKM, B_JHT, B_CURRENT, B_ADJUSTMENT,
    B_TOTAL, B_ISSUED_US, B_ISSUED_BY
};

static const char batch_sql[] =
    "SELECT o.outbox_id, o.event_id, v.invoice_id, v.agreement_id,"
    " v.billing_month - DATE '1970-01-01', v.premium_scheme,"
    " coalesce((SELECT r.version FROM premium_rates r"
    "  WHERE r.effective_from <= month_last(v.billing_month)"
    "  ORDER BY r.effective_from DESC LIMIT 1), '-'),"
    " v.workers, v.worker_months, v.adjustment_worker_months,"
    " (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = v.invoice_id),"
    " coalesce(p.jkk, 0), coalesce(p.jkm, 0), coalesce(p.jht, 0),"
    " v.current_idr, v.adjustment_idr, v.total_idr,"
    " (extract(epoch FROM v.issued_at) * 1000000)::bigint, v.issued_by"
    " FROM invoice_outbox o JOIN invoices v USING (invoice_id)"
    " LEFT JOIN LATERAL (SELECT sum(i.amount_idr) FILTER (WHERE i.program = 'JKK') AS jkk,"
    "  sum(i.amount_idr) FILTER (WHERE i.program = 'JKM') AS jkm,"
    "  sum(i.amount_idr) FILTER (WHERE i.program = 'JHT') AS jht"
    "  FROM invoice_items i WHERE i.invoice_id = v.invoice_id) p ON true"
    " WHERE o.published_at IS NULL AND v.status = 'ISSUED' ORDER BY o.outbox_id LIMIT $1";

static void copy_text(char *dst, size_t size, const PGresult *res, int row, int col,
                      const char *what, const char *event_id)
{
    const char *v = PQgetvalue(res, row, col);
    if (strlen(v) >= size)
        log_warn("field truncated", "event_id=%s field=%s length=%zu max=%zu", event_id, what,
                 strlen(v), size - 1);
    snprintf(dst, size, "%s", v);
}

/* One outbox row as an Invoice; -1 with errstr for a value the schema cannot hold. */
static int row_to_event(const PGresult *res, int row, invoice_event *ev, const char *source,
                        char *errstr, size_t n)
{
    const char *id = PQgetvalue(res, row, B_EVENT_ID);

    invoice_event_init(ev);
    if (strlen(PQgetvalue(res, row, B_AGREEMENT)) > INVOICE_AGREEMENT_MAX) {
        snprintf(errstr, n, "outbox row %s (event %s): agreement id '%s' is longer than %d bytes",
                 PQgetvalue(res, row, B_OUTBOX_ID), id, PQgetvalue(res, row, B_AGREEMENT),
                 INVOICE_AGREEMENT_MAX);
        return -1;
    }
    snprintf(ev->source, sizeof ev->source, "%s", source);
    copy_text(ev->event_id, sizeof ev->event_id, res, row, B_EVENT_ID, "event_id", id);
    copy_text(ev->invoice_id, sizeof ev->invoice_id, res, row, B_INVOICE_ID, "invoice_id", id);
    copy_text(ev->agreement_id, sizeof ev->agreement_id, res, row, B_AGREEMENT, "agreement_id", id);
    copy_text(ev->rates_version, sizeof ev->rates_version, res, row, B_VERSION, "rates_version", id);
    copy_text(ev->issued_by, sizeof ev->issued_by, res, row, B_ISSUED_BY, "issued_by", id);
    ev->billing_month = (int32_t)atol(PQgetvalue(res, row, B_MONTH));
    ev->status = INVOICE_ISSUED;
    ev->scheme = (premium_scheme)premiums_scheme_parse(PQgetvalue(res, row, B_SCHEME));
    ev->workers = atoi(PQgetvalue(res, row, B_WORKERS));
    ev->worker_months = atoi(PQgetvalue(res, row, B_WORKER_MONTHS));
    ev->adjustment_worker_months = atoi(PQgetvalue(res, row, B_ADJ_MONTHS));
    ev->lines = atoi(PQgetvalue(res, row, B_LINES));
    ev->jkk_idr = atoll(PQgetvalue(res, row, B_JKK));
    ev->jkm_idr = atoll(PQgetvalue(res, row, B_JKM));
    ev->jht_idr = atoll(PQgetvalue(res, row, B_JHT));
    ev->current_idr = atoll(PQgetvalue(res, row, B_CURRENT));
    ev->adjustment_idr = atoll(PQgetvalue(res, row, B_ADJUSTMENT));
    ev->total_idr = atoll(PQgetvalue(res, row, B_TOTAL));
    ev->issued_at_us = atoll(PQgetvalue(res, row, B_ISSUED_US));
    ev->event_time_us = ev->issued_at_us;
    if (ev->scheme == PREMIUM_SCHEME_NONE) {
        snprintf(errstr, n, "outbox row %s (event %s): scheme '%s' is not in the Invoice schema",
                 PQgetvalue(res, row, B_OUTBOX_ID), id, PQgetvalue(res, row, B_SCHEME));
        return -1;
    }
    return 0;
}

/* A batch row as a message keyed by agreement_id (relay_def.encode_row). */
static int encode_row(const config *cfg, codec *cd, const PGresult *res, int row,
                      relay_msg *msg, char *errstr, size_t n)
{
    invoice_event ev;

    if (row_to_event(res, row, &ev, config_get(cfg, "source"), errstr, n) < 0 ||
        codec_encode_invoice_event(cd, &ev, 0, &msg->value, &msg->len, errstr, n) < 0)
        return -1;
    memcpy(msg->key, ev.agreement_id, sizeof ev.agreement_id);
    return 1;
}

static const relay_def billing_relay = {
    .program = {"billing-relay",
                "usage: billing-relay [options]\n"
                "Publishes issued invoices (invoice_outbox) to billing.invoices, oldest first, at\n"
                "least once, keyed by agreement id.\n\n"
                "options:\n",
                RELAY_OPTIONS, options, 0, 0, writes},
    .lock_key = RELAY_LOCK_KEY,
    .channel = "invoice_outbox",
    .batch_sql = batch_sql,
    .ids_column = B_OUTBOX_ID,
    .mark_sql = "UPDATE invoice_outbox SET published_at = now()"
                " WHERE outbox_id = ANY ($1::bigint[]) AND published_at IS NULL",
    .backlog_sql = "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                   " FROM invoice_outbox WHERE published_at IS NULL",
    .unit = "invoices",
    .encode_row = encode_row,
};

int main(int argc, char **argv)
{
    return relay_main(argc, argv, &billing_relay);
}
