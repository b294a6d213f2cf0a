/* invoice_event: the in-memory Invoice record (topic billing.invoices, key agreement_id), an
 * issued invoice as billing-relay reads it from PostgreSQL (deploy/sql/012) and encodes it.
 * Fields as in schemas/invoice.v1.avsc; the scheme is premiums.h's. Pure; any thread. */
#ifndef INVOICE_EVENT_H
#define INVOICE_EVENT_H

#include <stdint.h>

#include "premiums.h"
#include "validate.h"

typedef enum {
    INVOICE_STATUS_NONE = -1, INVOICE_ISSUED, INVOICE_STATUS__COUNT
} invoice_status;

enum { INVOICE_AGREEMENT_MAX = 63 }; /* the relay key holds 63 bytes */

typedef struct invoice_event {
    char event_id[37];           /* UUID text, stable when the relay publishes again */
    char source[33];             /* publishing service id */
    unsigned fields;             /* presence word of optional fields; version 1 has none */
    char invoice_id[37];         /* UUID text */
    char agreement_id[INVOICE_AGREEMENT_MAX + 1];
    int32_t billing_month;       /* first day of the month; DATE_NONE when unset */
    invoice_status status;
    premium_scheme scheme;
    char rates_version[PREMIUMS_VERSION_MAX + 1];
    int workers;
    int worker_months;
    int adjustment_worker_months; /* may be negative */
    int lines;
    int64_t jkk_idr, jkm_idr, jht_idr;  /* per program, adjustments included */
    int64_t current_idr;
    int64_t adjustment_idr;      /* may be negative */
    int64_t total_idr;
    int64_t issued_at_us;
    char issued_by[65];
    int64_t event_time_us;
} invoice_event;

/* Reset every field to absent (texts empty, enums NONE, billing_month DATE_NONE, numbers 0). */
void invoice_event_init(invoice_event *ev);

/* The status name as in Avro; NULL when out of range. Parse: the value, or -1. */
const char *invoice_status_name(invoice_status v);
int invoice_status_parse(const char *s);

/* Check ev as a subscriber receives it against what the invoices table holds and fill out
 * (overwritten): event_id and invoice_id UUIDs, source an id (validate.h), agreement_id
 * 1-63 characters, billing_month the first day of a month within 1900..2100, status and
 * scheme in range, rates_version present, texts terminated UTF-8, counts not negative (but
 * adjustment_worker_months), current_idr not negative, total_idr = current_idr +
 * adjustment_idr = jkk_idr + jkm_idr + jht_idr, issued_by present, issued_at and
 * event_time within 1900-01-01..2100-12-31. Returns out->errors. */
int invoice_event_validate(const invoice_event *ev, validate_report *out);

#endif
