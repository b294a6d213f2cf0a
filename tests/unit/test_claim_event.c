/* Unit tests of common/claim_event: the rules a ClaimEvent must meet (what the claims
 * tables hold), over the records of data/claim_events.txt and the edits of
 * data/claim_event_cases.txt. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim_event.h"
#include "support/rulecase.h"

#define RECORDS_FILE "data/claim_events.txt"
#define CASES_FILE "data/claim_event_cases.txt"

#define TEXT(name, member, bit)                                                                    \
    if (strcmp(k, name) == 0) {                                                                    \
        snprintf(ev->member, sizeof ev->member, "%.*s", (int)sizeof ev->member - 1, v);            \
        ev->fields |= bit;                                                                         \
        return;                                                                                    \
    }

static void set_field(void *rec, const char *k, const char *v)
{
    claim_event *ev = rec;

    TEXT("event_id", event_id, 0)
    TEXT("source", source, 0)
    TEXT("claim_id", claim_id, 0)
    TEXT("incident_id", incident_id, 0)
    TEXT("nik", nik, 0)
    TEXT("benefit_table_version", benefit_table_version, CF_TABLE_VERSION)
    TEXT("reason", reason, 0)
    TEXT("actor", actor, 0)
    TEXT("payment_reference", payment_reference, CF_PAYMENT_REF)
    if (strcmp(k, "program") == 0)
        ev->program = (claim_program)settings_named(v, claim_program_parse);
    else if (strcmp(k, "benefit") == 0)
        ev->benefit = (claim_benefit)settings_named(v, claim_benefit_parse);
    else if (strcmp(k, "from_status") == 0)
        ev->from_status = (claim_status)settings_named(v, claim_status_parse), ev->fields |= CF_FROM_STATUS;
    else if (strcmp(k, "to_status") == 0)
        ev->to_status = (claim_status)settings_named(v, claim_status_parse);
    else if (strcmp(k, "kind") == 0)
        ev->kind = (claim_event_kind)settings_named(v, claim_event_kind_parse);
    else if (strcmp(k, "amount_idr") == 0)
        ev->amount_idr = strtoll(v, NULL, 10), ev->fields |= CF_AMOUNT;
    else if (strcmp(k, "late_report") == 0)
        ev->late_report = atoi(v);
    else if (strcmp(k, "event_time") == 0)
        ev->event_time_us = settings_time(v);
    else
        cr_assert_fail("unknown key '%s'", k);
}
#undef TEXT

static void init(void *rec)
{
    claim_event_init(rec);
}

static int validate(const void *rec, validate_report *r)
{
    return claim_event_validate(rec, r);
}

static const rulecase_type rules = {
    .cases = CASES_FILE, .size = sizeof(claim_event), .records = RECORDS_FILE, .init = init,
    .set = set_field, .validate = validate,
};

/* The codec's records: the first three are what the relay publishes; the fourth is an
 * edge case for the codec (empty reason) that the rules refuse. */
Test(claim_event, data_records_pass_but_the_edge_case)
{
    rulecase_check_records(&rules, 3, "reason");
}

RULECASE_TEST(claim_event, rule_case, &rules)
