/* claim_event: names of the ClaimEvent enums and the record's blank state. */
#include "claim_event.h"

#include <string.h>

#include "names.h"

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
