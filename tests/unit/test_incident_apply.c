/* Unit tests of the pure parts of consumers/incident/apply: mapping a decoded Incident to
 * route's input and the wage a JKK claim records. The SQL is covered by
 * tests/integration/test_30_incidents.sh. */
#include <criterion/criterion.h>
#include <string.h>

#include "incident/apply.h"
#include "dates.h"
#include "incident.h"
#include "roster.h"

static incident make_incident(void)
{
    incident inc;

    incident_init(&inc);
    strcpy(inc.nik, "7313011501900001");
    strcpy(inc.region_code, "7313011001");
    inc.type = INCIDENT_ACCIDENT;
    inc.circumstance = CIRCUMSTANCE_COMMUTING;
    inc.occurred_at_us = INT64_C(1707876000) * 1000000;
    inc.event_time_us = INT64_C(1707900000) * 1000000;
    inc.reporter_institution = REPORTER_KPU;
    return inc;
}

Test(incident_apply, maps_enums_by_name)
{
    incident inc = make_incident();
    route_incident in;
    char err[128];

    inc.fields |= IF_SEVERITY | IF_CAUSE;
    inc.severity = SEVERITY_PERMANENT_PARTIAL;
    inc.cause = CAUSE_TRAFFIC;
    cr_assert_eq(incident_apply_route_input(&inc, &in, err, sizeof err), 0, "mapping failed: %s", err);
    cr_assert_eq(in.type, ROUTE_ACCIDENT, "type: %d", in.type);
    cr_assert_eq(in.circumstance, ROUTE_COMMUTING, "circumstance: %d", in.circumstance);
    cr_assert_eq(in.severity, ROUTE_SEV_PERMANENT_PARTIAL, "severity: %d", in.severity);
    cr_assert_eq(in.cause, ROUTE_CAUSE_TRAFFIC, "cause: %d", in.cause);
    cr_assert_str_eq(in.region_code, "7313011001", "region code copied");
    cr_assert_eq(in.occurred_at_us, inc.occurred_at_us, "occurred_at copied");
}

Test(incident_apply, absent_optional_fields_are_none)
{
    incident inc = make_incident();
    route_incident in;
    char err[128];

    inc.type = INCIDENT_DEATH;
    inc.severity = SEVERITY_SERIOUS;   /* a value without its IF_ bit is absent */
    cr_assert_eq(incident_apply_route_input(&inc, &in, err, sizeof err), 0, "mapping failed: %s", err);
    cr_assert_eq(in.severity, ROUTE_SEV_NONE, "severity without IF_SEVERITY: %d", in.severity);
    cr_assert_eq(in.cause, ROUTE_CAUSE_NONE, "cause without IF_CAUSE: %d", in.cause);
    cr_assert_eq(in.reported_at_us, ROUTE_TIME_NONE, "absent reported_at stays absent");
    cr_assert_eq(in.now_us, inc.event_time_us, "now is the time of publishing");
}

Test(incident_apply, reported_at_is_passed_when_present)
{
    incident inc = make_incident();
    route_incident in;
    char err[128];

    inc.fields |= IF_REPORTED_AT;
    inc.reported_at_us = inc.occurred_at_us + 3600 * INT64_C(1000000);
    cr_assert_eq(incident_apply_route_input(&inc, &in, err, sizeof err), 0, "mapping failed: %s", err);
    cr_assert_eq(in.reported_at_us, inc.reported_at_us, "reported_at: %lld", (long long)in.reported_at_us);
}

Test(incident_apply, unknown_enum_value_is_refused)
{
    incident inc = make_incident();
    route_incident in;
    char err[128] = "";

    inc.circumstance = (incident_circumstance)7;
    cr_assert_eq(incident_apply_route_input(&inc, &in, err, sizeof err), -1, "circumstance 7 has no name");
    cr_assert_neq(err[0], '\0', "an error message is given");
}

Test(incident_apply, jkk_wage_is_the_row_in_force)
{
    route_coverage cov[] = {
        {PROG_JKM, dates_from_civil(2024, 1, 1), dates_from_civil(2024, 3, 31), ROUTE_COV_ACTIVE, 900000},
        {PROG_JKK, dates_from_civil(2023, 1, 1), dates_from_civil(2023, 12, 31), ROUTE_COV_ACTIVE, 1000000},
        {PROG_JKK, dates_from_civil(2024, 1, 1), dates_from_civil(2024, 3, 31), ROUTE_COV_CANCELLED, 2000000},
        {PROG_JKK, dates_from_civil(2024, 1, 1), dates_from_civil(2024, 2, 14), ROUTE_COV_TERMINATED, 1200000},
    };
    int n = (int)(sizeof cov / sizeof cov[0]);

    cr_assert_eq(incident_apply_jkk_wage(cov, n, dates_from_civil(2024, 2, 14)), 1200000,
                 "the terminated row is in force on its last day");
    cr_assert_eq(incident_apply_jkk_wage(cov, n, dates_from_civil(2023, 6, 1)), 1000000,
                 "the 2023 term");
    cr_assert_eq(incident_apply_jkk_wage(cov, n, dates_from_civil(2024, 2, 15)), -1,
                 "cancelled rows and JKM rows do not count");
}
