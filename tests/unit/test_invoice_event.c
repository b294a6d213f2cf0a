/* Unit tests of common/invoice_event and the codec's Invoice records: the bytes the codec
 * writes are avro-c's (support/avro_ref.c), a record decodes back to itself, and the rules
 * of invoice_event_validate. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "dates.h"
#include "invoice_event.h"
#include "support/avro_ref.h"

static int32_t day(const char *s)
{
    int32_t d = 0;

    cr_assert_eq(dates_parse(s, &d), 0, "bad date '%s'", s);
    return d;
}

/* The first Wajo invoice of the demo, with an adjustment. */
static void sample(invoice_event *ev)
{
    invoice_event_init(ev);
    snprintf(ev->event_id, sizeof ev->event_id, "4f1c1f1e-55aa-5c1b-9d7e-0c9a3b2f6d10");
    snprintf(ev->source, sizeof ev->source, "billing-relay");
    snprintf(ev->invoice_id, sizeof ev->invoice_id, "381e070a-f2f0-5e28-ae8e-417ecf1ee935");
    snprintf(ev->agreement_id, sizeof ev->agreement_id, "PKS-KPU-7313-2023");
    ev->billing_month = day("2024-02-01");
    ev->status = INVOICE_ISSUED;
    ev->scheme = PREMIUM_BPU;
    snprintf(ev->rates_version, sizeof ev->rates_version, "PP49-2023");
    ev->workers = 672;
    ev->worker_months = 672;
    ev->adjustment_worker_months = -2;
    ev->lines = 58;
    ev->jkk_idr = 9000000;
    ev->jkm_idr = 4569600;
    ev->jht_idr = 2067400;
    ev->current_idr = 15670600;
    ev->adjustment_idr = -33600;
    ev->total_idr = 15637000;
    ev->issued_at_us = INT64_C(1706745600000000);
    snprintf(ev->issued_by, sizeof ev->issued_by, "covadm");
    ev->event_time_us = ev->issued_at_us;
}

static void fix_totals(invoice_event *ev)
{
    ev->total_idr = ev->current_idr + ev->adjustment_idr;
    ev->jht_idr = ev->total_idr - ev->jkk_idr - ev->jkm_idr;
}

Test(invoice_event, sample_is_valid)
{
    invoice_event ev;
    validate_report r;

    sample(&ev);
    cr_assert_eq(invoice_event_validate(&ev, &r), 0, "sample: %s: %s", r.count ? r.items[0].field : "",
                 r.count ? r.items[0].rule : "");
}

Test(invoice_event, codec_bytes_are_avro_c_bytes_and_decode_back)
{
    char err[256] = "";
    codec *c = codec_new(err, sizeof err);
    invoice_event ev, back;
    const void *msg;
    unsigned char *ref = NULL;
    size_t len, ref_len;
    int schema_id = 0;

    cr_assert_not_null(c, "codec_new: %s", err);
    sample(&ev);
    cr_assert_eq(codec_encode_invoice_event(c, &ev, 0, &msg, &len, err, sizeof err), 0, "encode: %s", err);
    cr_assert_eq(avro_ref_encode(CODEC_INVOICE_SUBJECT, 0, &ev, &ref, &ref_len, err, sizeof err), 0,
                 "reference encode: %s", err);
    cr_assert_eq(len, ref_len, "length %zu, avro-c %zu", len, ref_len);
    cr_assert_eq(memcmp(msg, ref, len), 0, "bytes differ from avro-c's");
    cr_assert_eq(((const unsigned char *)msg)[4], 40, "schema id %d, expected 40 (catalog)",
                 ((const unsigned char *)msg)[4]);
    cr_assert_eq(codec_decode_invoice_event(c, msg, len, &back, &schema_id, err, sizeof err), 0,
                 "decode: %s", err);
    cr_assert_eq(schema_id, 40, "schema id %d", schema_id);
    cr_assert_str_eq(back.agreement_id, ev.agreement_id, "agreement_id");
    cr_assert_str_eq(back.invoice_id, ev.invoice_id, "invoice_id");
    cr_assert_eq(back.billing_month, ev.billing_month, "billing_month");
    cr_assert_eq(back.status, INVOICE_ISSUED, "status");
    cr_assert_eq(back.scheme, PREMIUM_BPU, "scheme");
    cr_assert_eq(back.adjustment_worker_months, -2, "negative worker-months survive");
    cr_assert_eq(back.adjustment_idr, -33600, "negative adjustment survives");
    cr_assert_eq(back.total_idr, ev.total_idr, "total");
    cr_assert_eq(back.issued_at_us, ev.issued_at_us, "issued_at");
    cr_assert_str_eq(back.issued_by, "covadm", "issued_by");
    cr_assert_eq(memcmp(&back, &ev, sizeof ev), 0, "the decoded record differs");
    free(ref);
    codec_destroy(c);
}

Test(invoice_event, codec_refuses_out_of_range_enum)
{
    char err[256] = "";
    codec *c = codec_new(err, sizeof err);
    invoice_event ev;
    const void *msg;
    size_t len;

    sample(&ev);
    ev.scheme = (premium_scheme)2;
    cr_assert_eq(codec_encode_invoice_event(c, &ev, 0, &msg, &len, err, sizeof err), -1,
                 "scheme 2 encoded");
    cr_assert_not_null(strstr(err, "premium_scheme"), "error: %s", err);
    codec_destroy(c);
}

Test(invoice_event, rules)
{
    static const struct {
        const char *name, *field, *rule;
    } cases[] = {
        {"no_event_id", "event_id", "event_id is required"},
        {"invoice_id_not_uuid", "invoice_id", "UUID"},
        {"no_agreement", "agreement_id", "agreement_id is required"},
        {"mid_month", "billing_month", "first day of a month"},
        {"no_month", "billing_month", "billing_month is required"},
        {"status_out_of_range", "status", "out-of-range value 1"},
        {"scheme_none", "premium_scheme", "out-of-range value -1"},
        {"no_rates_version", "rates_version", "rates_version is required"},
        {"negative_workers", "workers", "0 or more"},
        {"total_not_sum", "total_idr", "current_idr + adjustment_idr"},
        {"programs_not_total", "total_idr", "jkk_idr + jkm_idr + jht_idr"},
        {"no_issuer", "issued_by", "issued_by is required"},
        {"issued_2101", "issued_at", "not within 1900-01-01..2100-12-31"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        invoice_event ev;
        validate_report r;
        int found = 0;
        const char *n = cases[i].name;

        sample(&ev);
        if (!strcmp(n, "no_event_id")) ev.event_id[0] = '\0';
        else if (!strcmp(n, "invoice_id_not_uuid")) snprintf(ev.invoice_id, sizeof ev.invoice_id, "INV-2024-02");
        else if (!strcmp(n, "no_agreement")) ev.agreement_id[0] = '\0';
        else if (!strcmp(n, "mid_month")) ev.billing_month = day("2024-02-14");
        else if (!strcmp(n, "no_month")) ev.billing_month = DATE_NONE;
        else if (!strcmp(n, "status_out_of_range")) ev.status = (invoice_status)1;
        else if (!strcmp(n, "scheme_none")) ev.scheme = PREMIUM_SCHEME_NONE;
        else if (!strcmp(n, "no_rates_version")) ev.rates_version[0] = '\0';
        else if (!strcmp(n, "negative_workers")) ev.workers = -1;
        else if (!strcmp(n, "total_not_sum")) ev.total_idr += 1;
        else if (!strcmp(n, "programs_not_total")) { ev.jkk_idr += 1; }
        else if (!strcmp(n, "no_issuer")) ev.issued_by[0] = '\0';
        else if (!strcmp(n, "issued_2101")) ev.issued_at_us = INT64_C(4133980800000000);
        if (!strcmp(n, "negative_workers"))
            fix_totals(&ev);
        cr_assert_gt(invoice_event_validate(&ev, &r), 0, "%s: accepted", n);
        for (int k = 0; k < r.count; k++)
            found |= !strcmp(r.items[k].field, cases[i].field) && strstr(r.items[k].rule, cases[i].rule);
        cr_assert(found, "%s: no error on %s saying '%s' (first: %s: %s)", n, cases[i].field,
                  cases[i].rule, r.items[0].field, r.items[0].rule);
    }
}

Test(invoice_event, names)
{
    cr_assert_str_eq(invoice_status_name(INVOICE_ISSUED), "ISSUED", "ISSUED");
    cr_assert_eq(invoice_status_parse("ISSUED"), INVOICE_ISSUED, "parse");
    cr_assert_eq(invoice_status_parse("DRAFT"), -1, "a draft is never published");
    cr_assert_null(invoice_status_name(INVOICE_STATUS__COUNT), "out of range");
}
