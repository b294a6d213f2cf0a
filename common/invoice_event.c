/* invoice_event: the Invoice record's names, blank state and rules. */
#include "invoice_event.h"

#include <string.h>

#include "dates.h"
#include "names.h"
#include "roster.h"

static const char *const status_names[INVOICE_STATUS__COUNT] = {"ISSUED"};

void invoice_event_init(invoice_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->billing_month = DATE_NONE;
    ev->status = INVOICE_STATUS_NONE;
    ev->scheme = PREMIUM_SCHEME_NONE;
}

const char *invoice_status_name(invoice_status v)
{
    return names_get(status_names, INVOICE_STATUS__COUNT, v);
}

int invoice_status_parse(const char *s)
{
    return names_find(status_names, INVOICE_STATUS__COUNT, s);
}

/* A text field: terminated UTF-8, and not empty when required. Returns 1 when it holds text. */
static int check_text(validate_report *r, const char *field, const char *s, size_t size,
                      int required)
{
    if (validate_text(r, field, s, size) < 0)
        return 0;
    if (s[0] == '\0' && required)
        validate_add(r, 0, field, "%s is required", field);
    return s[0] != '\0';
}

static void check_count(validate_report *r, const char *field, long long v)
{
    if (v < 0)
        validate_add(r, 0, field, "%s must be 0 or more", field);
}

int invoice_event_validate(const invoice_event *ev, validate_report *out)
{
    memset(out, 0, sizeof *out);
    validate_event_id(out, ev->event_id, sizeof ev->event_id);
    validate_source(out, ev->source, sizeof ev->source);
    if (check_text(out, "invoice_id", ev->invoice_id, sizeof ev->invoice_id, 1) &&
        !validate_is_uuid(ev->invoice_id))
        validate_add(out, 0, "invoice_id", "invoice_id must be a UUID of 8-4-4-4-12 hex digits");
    check_text(out, "agreement_id", ev->agreement_id, sizeof ev->agreement_id, 1);
    if (ev->billing_month == DATE_NONE)
        validate_add(out, 0, "billing_month", "billing_month is required");
    else if (validate_day(out, "billing_month", ev->billing_month) == 0 &&
             premiums_month_first(ev->billing_month) != ev->billing_month)
        validate_add(out, 0, "billing_month", "billing_month must be the first day of a month");
    if (ev->status < 0 || ev->status >= INVOICE_STATUS__COUNT)
        validate_add(out, 0, "status", "status has out-of-range value %d", ev->status);
    if (ev->scheme < 0 || ev->scheme >= PREMIUM_SCHEME__COUNT)
        validate_add(out, 0, "premium_scheme", "premium_scheme has out-of-range value %d",
                     ev->scheme);
    check_text(out, "rates_version", ev->rates_version, sizeof ev->rates_version, 1);
    check_count(out, "workers", ev->workers);
    check_count(out, "worker_months", ev->worker_months);
    check_count(out, "lines", ev->lines);
    check_count(out, "current_idr", ev->current_idr);
    if (ev->total_idr != ev->current_idr + ev->adjustment_idr)
        validate_add(out, 0, "total_idr", "total_idr %lld is not current_idr + adjustment_idr",
                     (long long)ev->total_idr);
    if (ev->total_idr != ev->jkk_idr + ev->jkm_idr + ev->jht_idr)
        validate_add(out, 0, "total_idr", "total_idr %lld is not jkk_idr + jkm_idr + jht_idr",
                     (long long)ev->total_idr);
    check_text(out, "issued_by", ev->issued_by, sizeof ev->issued_by, 1);
    validate_time(out, "issued_at", ev->issued_at_us);
    validate_time(out, "event_time", ev->event_time_us);
    return out->errors;
}
