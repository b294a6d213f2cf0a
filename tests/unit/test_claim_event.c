/* Unit tests of common/claim_event: the rules a ClaimEvent must meet (what the claims
 * tables hold), over the records of data/claim_events.txt and the edits of
 * data/claim_event_cases.txt. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim_event.h"
#include "dates.h"
#include "support/datafile.h"
#include "support/settings.h"

#define RECORDS_FILE "data/claim_events.txt"
#define CASES_FILE "data/claim_event_cases.txt"
#define MAX_CASES 64

static int named(const char *v, int (*parse)(const char *))
{
    if (v[0] == '#')
        return atoi(v + 1);
    int x = parse(v);
    cr_assert_neq(x, -1, "unknown name '%s'", v);
    return x;
}

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
        ev->program = (claim_program)named(v, claim_program_parse);
    else if (strcmp(k, "benefit") == 0)
        ev->benefit = (claim_benefit)named(v, claim_benefit_parse);
    else if (strcmp(k, "from_status") == 0)
        ev->from_status = (claim_status)named(v, claim_status_parse), ev->fields |= CF_FROM_STATUS;
    else if (strcmp(k, "to_status") == 0)
        ev->to_status = (claim_status)named(v, claim_status_parse);
    else if (strcmp(k, "kind") == 0)
        ev->kind = (claim_event_kind)named(v, claim_event_kind_parse);
    else if (strcmp(k, "amount_idr") == 0)
        ev->amount_idr = strtoll(v, NULL, 10), ev->fields |= CF_AMOUNT;
    else if (strcmp(k, "late_report") == 0)
        ev->late_report = atoi(v);
    else if (strcmp(k, "event_time") == 0) {
        if (v[0] == '#')
            ev->event_time_us = strtoll(v + 1, NULL, 10);
        else
            cr_assert_eq(dates_parse_timestamp(v, &ev->event_time_us), 0, "bad time '%s'", v);
    } else
        cr_assert_fail("unknown key '%s'", k);
}
#undef TEXT

static void init(void *rec)
{
    claim_event_init(rec);
}

static size_t load_records(claim_event *out, size_t max)
{
    return settings_load(RECORDS_FILE, out, sizeof *out, max, init, set_field);
}

static void describe(const validate_report *r, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < r->count && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "[%s: %s] ", r->items[i].field, r->items[i].rule);
}

/* The codec's records: the first three are what the relay publishes; the fourth is an
 * edge case for the codec (empty reason) that the rules refuse. */
Test(claim_event, data_records_pass_but_the_edge_case)
{
    claim_event recs[8];
    size_t n = load_records(recs, 8);
    validate_report r;
    char got[1024];
    int found = 0;

    cr_assert_eq(n, 4, "%zu records", n);
    for (size_t i = 0; i < 3; i++) {
        claim_event_validate(&recs[i], &r);
        describe(&r, got, sizeof got);
        cr_assert_eq(r.errors, 0, "record %zu: %s", i + 1, got);
    }
    claim_event_validate(&recs[3], &r);
    for (int i = 0; i < r.count; i++)
        found |= strcmp(r.items[i].field, "reason") == 0;
    cr_assert(found, "the edge case is not refused on reason");
}

typedef struct claim_case {
    int line;
    char name[64];
    char settings[256];
    char expect[8];
    char field[32];
    char rule[120];
} claim_case;

static int fill_case(const datafile_line *l, void *out)
{
    claim_case *c = out;

    if (l->nfields < 3)
        return 0;
    memset(c, 0, sizeof *c);
    c->line = l->line;
    snprintf(c->name, sizeof c->name, "%s", l->field[0]);
    snprintf(c->settings, sizeof c->settings, "%s", l->field[1]);
    snprintf(c->expect, sizeof c->expect, "%s", l->field[2]);
    if (l->nfields == 5) {
        snprintf(c->field, sizeof c->field, "%s", l->field[3]);
        snprintf(c->rule, sizeof c->rule, "%s", l->field[4]);
    }
    return 1;
}

ParameterizedTestParameters(claim_event, rule_case)
{
    static claim_case tmp[MAX_CASES];
    size_t n = datafile_load(CASES_FILE, 5, tmp, sizeof *tmp, MAX_CASES, fill_case);

    return datafile_params(tmp, n, sizeof *tmp);
}

ParameterizedTest(claim_case *c, claim_event, rule_case)
{
    claim_event recs[8];
    validate_report r;
    char got[1024];
    int found = 0;

    load_records(recs, 8);
    cr_assert_eq(settings_apply(c->settings, &recs[0], set_field), 0, "line %d: bad settings", c->line);
    claim_event_validate(&recs[0], &r);
    describe(&r, got, sizeof got);
    if (strcmp(c->expect, "OK") == 0) {
        cr_assert_eq(r.errors, 0, "line %d %s: %s", c->line, c->name, got);
        return;
    }
    for (int i = 0; i < r.count; i++)
        found |= strcmp(r.items[i].field, c->field) == 0 && strstr(r.items[i].rule, c->rule) != NULL;
    cr_assert(found, "line %d %s: no error on %s with '%s'; got %s", c->line, c->name, c->field, c->rule, got);
}
