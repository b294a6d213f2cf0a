/* claim_event: names of the ClaimEvent enums, the record's blank state and its rules. */
#include "claim_event.h"

#include <string.h>

#include "names.h"
#include "nik.h"

static const char *const program_names[CLAIM_PROGRAM__COUNT] = {"JKK", "JKM", "JHT"};
static const char *const benefit_names[BENEFIT__COUNT] = {"JKK_DEATH", "JKK_DISABILITY", "JKK_TEMPORARY",
                                                          "JKK_MEDICAL", "JKM"};
static const char *const status_names[CLAIM_STATUS__COUNT] = {
    "OPENED", "AWAITING_DOCUMENTS", "PENDING_DETERMINATION", "UNDER_REVIEW", "APPROVED", "REJECTED", "PAID"};
static const char *const kind_names[CLAIM_EVENT_KIND__COUNT] = {
    "OPENED", "DOCUMENTS_RECEIVED", "DETERMINATION", "APPROVED", "REJECTED", "PAID"};

void claim_event_init(claim_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->program = CLAIM_PROGRAM_NONE;
    ev->benefit = BENEFIT_NONE;
    ev->from_status = ev->to_status = CLAIM_STATUS_NONE;
    ev->kind = CLAIM_EVENT_KIND_NONE;
    ev->amount_idr = MONEY_NONE;
}

const char *claim_program_name(claim_program v) { return names_get(program_names, CLAIM_PROGRAM__COUNT, v); }
const char *claim_benefit_name(claim_benefit v) { return names_get(benefit_names, BENEFIT__COUNT, v); }
const char *claim_status_name(claim_status v) { return names_get(status_names, CLAIM_STATUS__COUNT, v); }
const char *claim_event_kind_name(claim_event_kind v) { return names_get(kind_names, CLAIM_EVENT_KIND__COUNT, v); }

int claim_program_parse(const char *s) { return names_find(program_names, CLAIM_PROGRAM__COUNT, s); }
int claim_benefit_parse(const char *s) { return names_find(benefit_names, BENEFIT__COUNT, s); }
int claim_status_parse(const char *s) { return names_find(status_names, CLAIM_STATUS__COUNT, s); }
int claim_event_kind_parse(const char *s) { return names_find(kind_names, CLAIM_EVENT_KIND__COUNT, s); }

/* ---- rules ---- */

static void check_enum(validate_report *r, const char *field, int v, int count)
{
    if (v < 0 || v >= count)
        validate_add(r, 0, field, "%s has out-of-range value %d", field, v);
}

/* A text field: terminated UTF-8, and not empty when required. Returns 1 when it holds text. */
static int check_text(validate_report *r, const char *field, const char *s, size_t size, int required)
{
    if (validate_text(r, field, s, size) < 0)
        return 0;
    if (s[0] == '\0' && required)
        validate_add(r, 0, field, "%s is required", field);
    return s[0] != '\0';
}

int claim_event_validate(const claim_event *ev, validate_report *out)
{
    char err[128];
    int reason, payment;

    memset(out, 0, sizeof *out);
    validate_event_id(out, ev->event_id, sizeof ev->event_id);
    validate_source(out, ev->source, sizeof ev->source);
    check_text(out, "claim_id", ev->claim_id, sizeof ev->claim_id, 1);
    check_text(out, "incident_id", ev->incident_id, sizeof ev->incident_id, 1);
    if (!memchr(ev->nik, '\0', sizeof ev->nik) || ev->nik[0] == '\0')
        validate_add(out, 0, "nik", "nik is required");
    else if (nik_check(ev->nik, NULL, err, sizeof err) < 0)
        validate_add(out, 0, "nik", "%s", err);
    check_enum(out, "program", ev->program, CLAIM_PROGRAM__COUNT);
    check_enum(out, "benefit", ev->benefit, BENEFIT__COUNT);
    if ((ev->program == CLAIM_PROGRAM_JKM) != (ev->benefit == BENEFIT_JKM))
        validate_add(out, 0, "benefit", "benefit JKM goes with program JKM and no other");
    if (ev->fields & CF_FROM_STATUS)
        check_enum(out, "from_status", ev->from_status, CLAIM_STATUS__COUNT);
    check_enum(out, "to_status", ev->to_status, CLAIM_STATUS__COUNT);
    check_enum(out, "kind", ev->kind, CLAIM_EVENT_KIND__COUNT);
    if ((ev->fields & CF_AMOUNT) && ev->amount_idr < 0)
        validate_add(out, 0, "amount_idr", "amount_idr must be 0 or more");
    check_text(out, "benefit_table_version", ev->benefit_table_version, sizeof ev->benefit_table_version, 0);
    reason = check_text(out, "reason", ev->reason, sizeof ev->reason, 0);
    check_text(out, "actor", ev->actor, sizeof ev->actor, 1);
    payment = check_text(out, "payment_reference", ev->payment_reference, sizeof ev->payment_reference, 0);
    if (ev->to_status == CLAIM_REJECTED && !reason)
        validate_add(out, 0, "reason", "reason is required for a REJECTED claim");
    if (ev->to_status == CLAIM_PAID && !payment)
        validate_add(out, 0, "payment_reference", "payment_reference is required for a PAID claim");
    if (ev->late_report != 0 && ev->late_report != 1)
        validate_add(out, 0, "late_report", "late_report must be 0 or 1");
    validate_time(out, "event_time", ev->event_time_us);
    return out->errors;
}
