/* Unit tests of common/route and common/benefits: every row of
 * data/incident_scenarios.tsv as its own test against the deployed benefit table, the
 * benefit table's parser and version selection, the mapping from a decoded Incident, and
 * the edges of the routing API. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benefits.h"
#include "claim_event.h"
#include "dates.h"
#include "incident.h"
#include "roster.h"
#include "route.h"
#include "support/datafile.h"

#define SCENARIOS "data/incident_scenarios.tsv"
#define DEPLOYED_TABLE "../../deploy/benefits/benefit_table.tsv"
#define MAX_SCENARIOS 300
#define MAX_COV 8
#define NCOLS 19

enum {
    C_NAME, C_TYPE, C_CIRC, C_SEV, C_CAUSE, C_OCCURRED, C_REPORTED, C_REGION, C_COVERAGE,
    C_DECEASED, C_DETERMINATION, C_OUTCOME, C_BENEFIT, C_STATUS, C_AMOUNT, C_FLAGS,
    C_VERSION, C_REASON, C_DOCUMENTS
};

static const char *const required_keys[] = {
    BENEFIT_JKM_LUMP_SUM, BENEFIT_JKM_PERIODIC, BENEFIT_JKM_FUNERAL,
    BENEFIT_JKK_DEATH_WAGE_MULT, BENEFIT_JKK_DEATH_FUNERAL, BENEFIT_JKK_DEATH_PERIODIC,
    BENEFIT_JKK_DISABILITY_WAGE_MULT, BENEFIT_JKK_TEMP_FIRST_MONTHS,
    BENEFIT_JKK_TEMP_FIRST_PCT, BENEFIT_JKK_TEMP_AFTER_PCT, BENEFIT_FIRST_REPORT_HOURS,
    BENEFIT_JKK_LAPSE_YEARS, BENEFIT_DETERMINATION_DAYS,
};
#define NKEYS (sizeof required_keys / sizeof required_keys[0])

/* "-" or a name parsed by parse; -2 for an unknown name. */
static int enum_or_none(const char *s, int none, int (*parse)(const char *))
{
    int v;

    if (strcmp(s, "-") == 0)
        return none;
    v = parse(s);
    return v < 0 ? -2 : v;
}

/* Parse a coverage spec (see the scenario file's header); returns the row count or -1. */
static int parse_coverage(const char *spec, route_coverage *cov, int max)
{
    char buf[512], *seg[MAX_COV], *part[4], *progs[3], *dots;
    int nseg, n = 0;

    if (strcmp(spec, "-") == 0 || strcmp(spec, "NONE") == 0)
        return 0;
    snprintf(buf, sizeof buf, "%s", spec);
    nseg = datafile_split(buf, '|', seg, MAX_COV);
    if (nseg > MAX_COV)
        return -1;
    for (int i = 0; i < nseg; i++) {
        int32_t from, to;
        int status, np;

        if (datafile_split(seg[i], ':', part, 4) != 4)
            return -1;
        int32_t lapsed_on = DATE_NONE;
        char *at = strchr(part[2], '@');

        dots = strstr(part[1], "..");
        if (!dots)
            return -1;
        *dots = '\0';
        if (at) {
            *at = '\0';
            if (dates_parse(at + 1, &lapsed_on) < 0)
                return -1;
        }
        status = route_coverage_status_parse(part[2]);
        if (dates_parse(part[1], &from) < 0 || dates_parse(dots + 2, &to) < 0 || status < 0 ||
            (status == ROUTE_COV_LAPSED) != (at != NULL))
            return -1;
        np = datafile_split(part[0], ',', progs, 3);
        if (np > 3)
            return -1;
        for (int k = 0; k < np; k++) {
            int bits = roster_programs_parse(progs[k]);
            if (bits <= 0 || n == max)
                return -1;
            cov[n].program = (unsigned)bits;
            cov[n].valid_from = from;
            cov[n].valid_to = to;
            cov[n].status = (route_coverage_status)status;
            cov[n].monthly_wage = atoll(part[3]);
            cov[n].lapsed_on = lapsed_on;
            n++;
        }
    }
    return n;
}

static int has_document(const route_decision *d, const char *doc)
{
    for (int i = 0; i < d->ndocuments; i++)
        if (strcmp(d->documents[i], doc) == 0)
            return 1;
    return 0;
}

static benefit_table *deployed_table(void)
{
    char err[256] = "";
    benefit_table *t = benefits_load(DEPLOYED_TABLE, err, sizeof err);

    cr_assert_not_null(t, "deployed benefit table does not load: %s", err);
    return t;
}

ParameterizedTestParameters(route, scenario)
{
    return datafile_row_params(SCENARIOS, MAX_SCENARIOS);
}

ParameterizedTest(datafile_row *s, route, scenario)
{
    char text[sizeof s->text], *f[NCOLS + 1], err[256] = "", flags[32] = "", *docs[32];
    route_incident in = {0};
    route_worker w = {0};
    route_coverage cov[MAX_COV];
    route_decision d;
    benefit_table *t;
    int ncov, rc, ndocs;
    const char *name;

    snprintf(text, sizeof text, "%s", s->text);
    cr_assert_eq(datafile_split(text, '\t', f, NCOLS + 1), NCOLS,
                 SCENARIOS ":%d: expected %d columns", s->line, NCOLS);
    name = f[C_NAME];
    in.type = (incident_type)incident_type_parse(f[C_TYPE]);
    in.circumstance = (incident_circumstance)incident_circumstance_parse(f[C_CIRC]);
    in.severity = (incident_severity)enum_or_none(f[C_SEV], SEVERITY_NONE, incident_severity_parse);
    in.cause = (incident_cause)enum_or_none(f[C_CAUSE], CAUSE_NONE, incident_cause_parse);
    cr_assert(in.type >= 0 && in.circumstance >= 0 && in.severity >= -1 && in.cause >= -1,
              SCENARIOS ":%d %s: bad type, circumstance, severity or cause", s->line, name);
    cr_assert_eq(dates_parse_timestamp(f[C_OCCURRED], &in.occurred_at_us), 0,
                 SCENARIOS ":%d %s: bad occurred_at '%s'", s->line, name, f[C_OCCURRED]);
    cr_assert_eq(dates_parse_timestamp(f[C_REPORTED], &in.reported_at_us), 0,
                 SCENARIOS ":%d %s: bad reported_at '%s'", s->line, name, f[C_REPORTED]);
    in.now_us = in.reported_at_us;
    cr_assert_lt(strlen(f[C_REGION]), sizeof in.region_code,
                 SCENARIOS ":%d %s: region_code too long", s->line, name);
    snprintf(in.region_code, sizeof in.region_code, "%s", f[C_REGION]);
    ncov = parse_coverage(f[C_COVERAGE], cov, MAX_COV);
    cr_assert_geq(ncov, 0, SCENARIOS ":%d %s: bad coverage spec '%s'", s->line, name,
                  f[C_COVERAGE]);
    w.enrolled = strcmp(f[C_COVERAGE], "-") != 0;
    w.deceased_on = DATE_NONE;
    if (strcmp(f[C_DECEASED], "-") != 0)
        cr_assert_eq(dates_parse(f[C_DECEASED], &w.deceased_on), 0,
                     SCENARIOS ":%d %s: bad deceased_on", s->line, name);

    t = deployed_table();
    rc = route_incident_decide(&in, &w, cov, ncov, t, &d, err, sizeof err);
    if (strcmp(f[C_DETERMINATION], "-") != 0) {
        cr_assert(rc == 0 && d.benefit == BENEFIT_JKK_DEATH &&
                      d.initial_status == CLAIM_PENDING_DETERMINATION,
                  SCENARIOS ":%d %s: a determination needs a JKK death pending determination,"
                  " got rc %d benefit %s (%s)", s->line, name, rc,
                  claim_benefit_name(d.benefit) ? claim_benefit_name(d.benefit) : "-", err);
        rc = route_determination(&in, &w, cov, ncov, t,
                                 strcmp(f[C_DETERMINATION], "WORK") == 0, &d, err, sizeof err);
    }
    benefits_destroy(t);

    if (strcmp(f[C_OUTCOME], "ERROR") == 0) {
        cr_assert_eq(rc, -1, SCENARIOS ":%d %s: expected an error, got outcome %s", s->line,
                     name, route_outcome_name(d.outcome));
        cr_assert_not_null(strstr(err, f[C_REASON]),
                           SCENARIOS ":%d %s: error '%s' lacks '%s'", s->line, name, err,
                           f[C_REASON]);
        return;
    }
    cr_assert_eq(rc, 0, SCENARIOS ":%d %s: unexpected error: %s", s->line, name, err);
    cr_assert_str_eq(route_outcome_name(d.outcome), f[C_OUTCOME],
                     SCENARIOS ":%d %s: outcome %s, expected %s (reason: %s)", s->line, name,
                     route_outcome_name(d.outcome), f[C_OUTCOME], d.reason);
    cr_assert_str_eq(d.benefit == BENEFIT_NONE ? "-" : claim_benefit_name(d.benefit),
                     f[C_BENEFIT], SCENARIOS ":%d %s: benefit %d, expected %s", s->line, name,
                     d.benefit, f[C_BENEFIT]);
    cr_assert_str_eq(d.initial_status == CLAIM_STATUS_NONE ? "-"
                                                           : claim_status_name(d.initial_status),
                     f[C_STATUS], SCENARIOS ":%d %s: status %d, expected %s", s->line, name,
                     d.initial_status, f[C_STATUS]);
    cr_assert_eq(d.amount_idr, strcmp(f[C_AMOUNT], "-") == 0 ? 0 : atoll(f[C_AMOUNT]),
                 SCENARIOS ":%d %s: amount %lld, expected %s", s->line, name, d.amount_idr,
                 f[C_AMOUNT]);
    snprintf(flags, sizeof flags, "%s%s%s", d.late_report ? "late" : "",
             d.late_report && d.assessment_required ? "," : "",
             d.assessment_required ? "assess" : "");
    cr_assert_str_eq(flags[0] ? flags : "-", f[C_FLAGS],
                     SCENARIOS ":%d %s: flags '%s', expected '%s'", s->line, name, flags,
                     f[C_FLAGS]);
    if (strcmp(f[C_VERSION], "-") != 0)
        cr_assert_str_eq(d.table_version, f[C_VERSION],
                         SCENARIOS ":%d %s: table version %s, expected %s", s->line, name,
                         d.table_version, f[C_VERSION]);
    cr_assert_not_null(strstr(d.reason, f[C_REASON]),
                       SCENARIOS ":%d %s: reason '%s' lacks '%s'", s->line, name, d.reason,
                       f[C_REASON]);
    cr_assert_eq(d.ndocuments > 0, d.outcome == ROUTE_CLAIM,
                 SCENARIOS ":%d %s: a claim, and only a claim, has a checklist (%d items)",
                 s->line, name, d.ndocuments);
    if (strcmp(f[C_DOCUMENTS], "-") == 0)
        return;
    ndocs = datafile_split(f[C_DOCUMENTS], ',', docs, 32);
    for (int i = 0; i < ndocs && i < 32; i++) {
        int absent = docs[i][0] == '!';
        const char *doc = docs[i] + absent;
        cr_assert_eq(has_document(&d, doc), !absent,
                     SCENARIOS ":%d %s: document %s should be %s the checklist", s->line, name,
                     doc, absent ? "absent from" : "in");
    }
}

Test(route, scenario_table_is_complete)
{
    size_t n = datafile_count_rows(SCENARIOS);

    cr_assert_geq(n, 45, SCENARIOS ": %zu scenarios, expected at least 45", n);
    cr_assert_lt(n, MAX_SCENARIOS, SCENARIOS ": more than %d scenarios; raise MAX_SCENARIOS",
                 MAX_SCENARIOS);
}

/* A table text with one version holding every required key except `skip` (NULL: none),
 * each with value 1, plus extra lines appended verbatim. */
static void table_text(char *buf, size_t size, const char *version, const char *from,
                       const char *skip, const char *extra)
{
    size_t len = (size_t)snprintf(buf, size, "version\teffective_from\tkey\tvalue\n");

    for (size_t i = 0; i < NKEYS; i++)
        if (!skip || strcmp(skip, required_keys[i]) != 0)
            len += (size_t)snprintf(buf + len, size - len, "%s\t%s\t%s\t1\n", version, from,
                                    required_keys[i]);
    snprintf(buf + len, size - len, "%s", extra ? extra : "");
}

Test(benefits, deployed_table_versions_by_local_date)
{
    benefit_table *t = deployed_table();
    const benefit_version *v;
    int32_t day;

    dates_parse("2015-06-30", &day);
    cr_assert_null(benefits_at(t, day), "a version in force before the first one");
    v = benefits_at(t, day + 1);
    cr_assert_not_null(v, "no version on its first day");
    cr_assert_str_eq(benefits_version_name(v), "PP44-2015", "first version %s",
                     benefits_version_name(v));
    cr_assert_eq(benefits_version_from(v), day + 1, "first version's date %d",
                 benefits_version_from(v));
    dates_parse("2019-12-01", &day);
    cr_assert_str_eq(benefits_version_name(benefits_at(t, day)), "PP44-2015",
                     "version on 2019-12-01");
    cr_assert_str_eq(benefits_version_name(benefits_at(t, day + 1)), "PP82-2019",
                     "version on 2019-12-02");
    dates_parse("2023-10-05", &day);
    cr_assert_str_eq(benefits_version_name(benefits_at(t, day)), "PP82-2019",
                     "version on 2023-10-05");
    cr_assert_str_eq(benefits_version_name(benefits_at(t, day + 1)), "PP49-2023",
                     "version on 2023-10-06");
    cr_assert_str_eq(benefits_version_name(benefits_at(t, day + 5000)), "PP49-2023",
                     "the latest version stays in force");
    benefits_destroy(t);
}

Test(benefits, deployed_jkm_totals_by_version)
{
    benefit_table *t = deployed_table();

    for (size_t i = 0; i < benefits_row_count(t); i++) {
        const benefit_version *v = benefits_at(t, benefits_row_at(t, i)->effective_from);
        long long total = benefits_get(v, BENEFIT_JKM_LUMP_SUM) +
                          benefits_get(v, BENEFIT_JKM_PERIODIC) +
                          benefits_get(v, BENEFIT_JKM_FUNERAL);
        long long want = strcmp(benefits_version_name(v), "PP44-2015") == 0 ? 24000000
                                                                             : 42000000;
        cr_assert_eq(total, want, "version %s: JKM total %lld", benefits_version_name(v),
                     total);
    }
    benefits_destroy(t);
}

Test(benefits, rows_iterate_in_file_order)
{
    benefit_table *t = deployed_table();
    const benefit_row *r = benefits_row_at(t, 0);

    cr_assert_eq(benefits_row_count(t), 3 * NKEYS, "row count %zu", benefits_row_count(t));
    cr_assert_str_eq(r->version, "PP44-2015", "first row version %s", r->version);
    cr_assert_str_eq(r->key, BENEFIT_JKM_LUMP_SUM, "first row key %s", r->key);
    cr_assert_eq(r->value, 16200000, "first row value %lld", r->value);
    cr_assert_null(benefits_row_at(t, benefits_row_count(t)), "a row past the end");
    for (size_t i = 0; i < benefits_row_count(t); i++) {
        r = benefits_row_at(t, i);
        cr_assert_str_eq(benefits_version_name(benefits_at(t, r->effective_from)), r->version,
                         "row %zu: its date resolves to another version", i);
        cr_assert_eq(benefits_get(benefits_at(t, r->effective_from), r->key), r->value,
                     "row %zu: get(%s) disagrees with the row", i, r->key);
    }
    benefits_destroy(t);
}

Test(benefits, parse_accepts_comments_blank_lines_and_crlf)
{
    char text[4096], err[256] = "";
    benefit_table *t;

    table_text(text, sizeof text, "V1", "2020-01-01", BENEFIT_JKM_FUNERAL,
               "# a comment\r\n\r\nV1\t2020-01-01\tjkm_funeral\t7\r\n");
    t = benefits_parse(text, "t.tsv", err, sizeof err);
    cr_assert_not_null(t, "valid text refused: %s", err);
    cr_assert_eq(benefits_get(benefits_at(t, 20000), BENEFIT_JKM_FUNERAL), 7,
                 "funeral value from the CRLF line");
    cr_assert_eq(benefits_get(benefits_at(t, 20000), "no_such_key"), -1, "an absent key");
    benefits_destroy(t);
    benefits_destroy(NULL);
}

typedef struct parse_error {
    const char *extra;  /* appended to a complete version V1 from 2020-01-01 */
    const char *skip;   /* required key left out, or NULL */
    const char *expect; /* the error message must contain this */
} parse_error;

Test(benefits, parse_errors_name_file_line_and_rule)
{
    static const parse_error cases[] = {
        {"V1\t2020-01-01\tx_key\n", NULL, "t.tsv:15: expected 4 tab-separated fields"},
        {"V1\t2020-01-01\tx_key\t1\t2\n", NULL, "t.tsv:15: expected 4 tab-separated fields"},
        {"V2\t2020-13-01\tx_key\t1\n", NULL, "t.tsv:15: effective_from '2020-13-01' is not"},
        {"V1\t2020-01-01\tx_key\t20.000.000\n", NULL, "t.tsv:15: value '20.000.000' must be"},
        {"V1\t2020-01-01\tx_key\t-5\n", NULL, "t.tsv:15: value '-5'"},
        {"V1\t2020-01-01\tx_key\t\n", NULL, "t.tsv:15: value ''"},
        {"PP 82\t2021-01-01\tx_key\t1\n", NULL, "t.tsv:15: version 'PP 82' must be"},
        {"V1\t2020-01-01\tJKM\t1\n", NULL, "t.tsv:15: key 'JKM' must be"},
        {"V1\t2020-01-01\tjkm_lump_sum\t2\n", NULL,
         "t.tsv:15: duplicate key 'jkm_lump_sum' in version 'V1'"},
        {"V1\t2020-01-02\tx_key\t1\n", NULL,
         "t.tsv:15: version 'V1' takes effect on 2020-01-01 in an earlier row, not 2020-01-02"},
        {"V2\t2020-01-01\tjkm_lump_sum\t1\n", NULL,
         "t.tsv:15: versions 'V1' and 'V2' both take effect on 2020-01-01"},
        {"", BENEFIT_DETERMINATION_DAYS, "t.tsv:2: version 'V1' lacks key 'determination_days'"},
        {"V2\t2021-01-01\tjkm_lump_sum\t1\n", NULL, "t.tsv:15: version 'V2' lacks key"},
    };
    char text[4096], err[256];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        benefit_table *t;

        table_text(text, sizeof text, "V1", "2020-01-01", cases[i].skip, cases[i].extra);
        err[0] = '\0';
        t = benefits_parse(text, "t.tsv", err, sizeof err);
        cr_expect_null(t, "case %zu accepted", i);
        cr_expect_not_null(strstr(err, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err,
                           cases[i].expect);
        benefits_destroy(t);
    }
}

Test(benefits, parse_errors_for_whole_file)
{
    char err[256] = "";

    cr_assert_null(benefits_parse("", "t.tsv", err, sizeof err), "empty text accepted");
    cr_assert_str_eq(err, "t.tsv: no header row", "empty text: %s", err);
    cr_assert_null(benefits_parse("version\teffective_from\tkey\tvalue\n", "t.tsv", err,
                                  sizeof err), "header-only text accepted");
    cr_assert_str_eq(err, "t.tsv: no rows", "header only: %s", err);
    cr_assert_null(benefits_parse("# c\nV1\t2020-01-01\tk\t1\n", "t.tsv", err, sizeof err),
                   "text without header accepted");
    cr_assert_not_null(strstr(err, "t.tsv:2: expected the header row"), "no header: %s", err);
    cr_assert_null(benefits_load("data/no_such_benefit_table.tsv", err, sizeof err),
                   "a missing file loaded");
    cr_assert_not_null(strstr(err, "data/no_such_benefit_table.tsv: unable to open"),
                       "missing file: %s", err);
}

Test(benefits, from_rows_errors_name_the_row)
{
    benefit_row rows[NKEYS + 1];
    char err[256] = "";
    benefit_table *t;

    for (size_t i = 0; i < NKEYS; i++)
        rows[i] = (benefit_row){"V1", 18000, required_keys[i], 1};
    rows[NKEYS] = (benefit_row){"V1", 18000, "extra_key", -1};
    cr_assert_null(benefits_from_rows(rows, NKEYS + 1, err, sizeof err), "negative accepted");
    cr_assert_not_null(strstr(err, "row 14: value -1 of 'extra_key' is negative"), "%s", err);
    cr_assert_null(benefits_from_rows(rows + 1, NKEYS - 1, err, sizeof err),
                   "missing key accepted");
    cr_assert_not_null(strstr(err, "row 1: version 'V1' lacks key 'jkm_lump_sum'"), "%s", err);
    t = benefits_from_rows(rows, NKEYS, err, sizeof err);
    cr_assert_not_null(t, "complete rows refused: %s", err);
    cr_assert_null(benefits_at(t, 17999), "in force before its date");
    cr_assert_str_eq(benefits_version_name(benefits_at(t, 18000)), "V1", "version name");
    benefits_destroy(t);
}

/* Fill rows[0..NKEYS) with a complete version carrying the deployed amounts. */
static void default_rows(benefit_row *rows, const char *version, int32_t from)
{
    static const long long value[NKEYS] = {20000000, 12000000, 10000000, 48, 10000000,
                                           12000000, 56, 12, 100, 50, 48, 5, 30};

    for (size_t i = 0; i < NKEYS; i++)
        rows[i] = (benefit_row){version, from, required_keys[i], value[i]};
}

/* Two versions with different JKM lump sums (rows[0]), the second from `from2`. */
static benefit_table *two_versions(const char *from2, long long lump1, long long lump2)
{
    benefit_row rows[2 * NKEYS];
    char err[256] = "";
    int32_t day2;
    benefit_table *t;

    cr_assert_eq(dates_parse(from2, &day2), 0, "bad date %s", from2);
    default_rows(rows, "OLD", day2 - 1000);
    default_rows(rows + NKEYS, "NEW", day2);
    rows[0].value = lump1;
    rows[NKEYS].value = lump2;
    t = benefits_from_rows(rows, 2 * NKEYS, err, sizeof err);
    cr_assert_not_null(t, "table refused: %s", err);
    return t;
}

static route_incident incident_at(const char *occurred, const char *region)
{
    route_incident in = {0};

    in.type = INCIDENT_DEATH;
    in.circumstance = CIRCUMSTANCE_OFF_DUTY;
    in.severity = SEVERITY_NONE;
    in.cause = CAUSE_NONE;
    cr_assert_eq(dates_parse_timestamp(occurred, &in.occurred_at_us), 0, "bad %s", occurred);
    in.reported_at_us = in.occurred_at_us + INT64_C(3600000000);
    in.now_us = in.reported_at_us;
    snprintf(in.region_code, sizeof in.region_code, "%s", region);
    return in;
}

Test(route, amount_comes_from_version_in_force_on_local_date)
{
    benefit_table *t = two_versions("2024-02-14", 16000000, 20000000);
    route_coverage cov = {PROG_JKK | PROG_JKM, 19000, 20000, ROUTE_COV_ACTIVE, 1000000, DATE_NONE};
    route_worker w = {1, DATE_NONE};
    /* 23:30 on the 13th in Jakarta (WIB), 01:30 on the 14th in Jayapura (WIT). */
    route_incident wib = incident_at("2024-02-13T16:30:00Z", "3171011001");
    route_incident wit = incident_at("2024-02-13T16:30:00Z", "9171011001");
    route_decision a, b;
    char err[256] = "";

    cr_assert_eq(route_incident_decide(&wib, &w, &cov, 1, t, &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(route_incident_decide(&wit, &w, &cov, 1, t, &b, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.table_version, "OLD", "WIB version %s", a.table_version);
    cr_assert_str_eq(b.table_version, "NEW", "WIT version %s", b.table_version);
    cr_assert_eq(a.amount_idr, 16000000 + 12000000 + 10000000, "WIB amount %lld", a.amount_idr);
    cr_assert_eq(b.amount_idr, 20000000 + 12000000 + 10000000, "WIT amount %lld", b.amount_idr);
    cr_assert_eq(b.local_date - a.local_date, 1, "local dates %d and %d", a.local_date,
                 b.local_date);
    benefits_destroy(t);
}

Test(route, determination_recomputes_from_incident_version)
{
    benefit_table *t = two_versions("2024-02-14", 16000000, 20000000);
    route_coverage cov = {PROG_JKK | PROG_JKM, 19000, 20000, ROUTE_COV_ACTIVE, 1000000, DATE_NONE};
    route_worker w = {1, DATE_NONE};
    route_incident in = incident_at("2024-02-13T16:30:00Z", "3171011001");
    route_decision d;
    char err[256] = "";

    in.circumstance = CIRCUMSTANCE_ON_DUTY;
    cr_assert_eq(route_incident_decide(&in, &w, &cov, 1, t, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.benefit, BENEFIT_JKK_DEATH, "benefit %d", d.benefit);
    cr_assert_eq(d.amount_idr, 48 * 1000000LL + 22000000, "JKK death amount %lld",
                 d.amount_idr);
    cr_assert_eq(route_determination(&in, &w, &cov, 1, t, 0, &d, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(d.benefit, BENEFIT_JKM, "benefit after determination %d", d.benefit);
    cr_assert_eq(d.program, CLAIM_PROGRAM_JKM, "program after determination %d", d.program);
    cr_assert_eq(d.amount_idr, 16000000 + 22000000, "JKM amount from OLD %lld", d.amount_idr);
    benefits_destroy(t);
}

Test(route, reported_at_absent_uses_now)
{
    benefit_table *t = deployed_table();
    route_coverage cov = {PROG_JKK | PROG_JKM, 19700, 19800, ROUTE_COV_ACTIVE, 1200000, DATE_NONE};
    route_worker w = {1, DATE_NONE};
    route_incident in = incident_at("2024-02-14T10:00:00+08:00", "7371011001");
    route_decision d;
    char err[256] = "";

    in.reported_at_us = TIME_NONE;
    in.now_us = in.occurred_at_us + 49 * INT64_C(3600000000);
    cr_assert_eq(route_incident_decide(&in, &w, &cov, 1, t, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.late_report, 1, "49 h after, by now_us, is late");
    in.now_us = in.occurred_at_us + INT64_C(3600000000);
    cr_assert_eq(route_incident_decide(&in, &w, &cov, 1, t, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.late_report, 0, "1 h after, by now_us, is in time");
    benefits_destroy(t);
}

Test(route, undecidable_input_is_an_error)
{
    benefit_table *t = deployed_table();
    route_coverage cov = {PROG_JKK | PROG_JKM, 19700, 19800, ROUTE_COV_ACTIVE, 0, DATE_NONE};
    route_worker w = {1, DATE_NONE};
    route_incident in = incident_at("2024-02-14T10:00:00+08:00", "7371011001");
    route_decision d;
    char err[256] = "";

    in.circumstance = CIRCUMSTANCE_ON_DUTY;
    cr_assert_eq(route_incident_decide(&in, &w, &cov, 1, t, &d, err, sizeof err), -1,
                 "a coverage in force without a wage was decided");
    cr_assert_not_null(strstr(err, "monthly wage 0"), "error: %s", err);
    cov.monthly_wage = 1000000;
    in.type = 7;
    cr_assert_eq(route_incident_decide(&in, &w, &cov, 1, t, &d, err, sizeof err), -1,
                 "unknown type decided");
    cr_assert_not_null(strstr(err, "unknown incident type 7"), "error: %s", err);
    in.type = INCIDENT_ACCIDENT;
    in.severity = SEVERITY_MINOR;
    cr_assert_eq(route_determination(&in, &w, &cov, 1, t, 0, &d, err, sizeof err), -1,
                 "a determination of an accident");
    cr_assert_not_null(strstr(err, "death only"), "error: %s", err);
    cov.valid_from = cov.valid_to + 1;
    cr_assert_eq(route_incident_decide(&in, &w, &cov, 1, t, &d, err, sizeof err), -1,
                 "an inverted coverage term was decided");
    cr_assert_not_null(strstr(err, "valid_from after valid_to"), "error: %s", err);
    benefits_destroy(t);
}

Test(route, amount_overflow_is_an_error)
{
    benefit_row rows[NKEYS];
    route_coverage cov = {PROG_JKK | PROG_JKM, 19000, 20000, ROUTE_COV_ACTIVE, 1000000000000LL, DATE_NONE};
    route_worker w = {1, DATE_NONE};
    route_incident in = incident_at("2024-02-14T10:00:00+08:00", "7371011001");
    route_decision d;
    char err[256] = "";
    benefit_table *t;

    default_rows(rows, "BIG", 18000);
    rows[3].value = 999999999999999999LL;
    cr_assert_str_eq(rows[3].key, BENEFIT_JKK_DEATH_WAGE_MULT, "row 3 is %s", rows[3].key);
    t = benefits_from_rows(rows, NKEYS, err, sizeof err);
    cr_assert_not_null(t, "table refused: %s", err);
    in.circumstance = CIRCUMSTANCE_ON_DUTY;
    cr_assert_eq(route_incident_decide(&in, &w, &cov, 1, t, &d, err, sizeof err), -1,
                 "an overflowing amount was decided: %lld", d.amount_idr);
    cr_assert_not_null(strstr(err, "overflows"), "error: %s", err);
    benefits_destroy(t);
}

Test(route, enum_names_round_trip)
{
    static const struct {
        const char *(*name)(int);
        int (*parse)(const char *);
        int count;
    } enums[] = {
        {(const char *(*)(int))route_coverage_status_name, route_coverage_status_parse, ROUTE_COV__COUNT},
        {(const char *(*)(int))route_outcome_name, route_outcome_parse, ROUTE_OUTCOME__COUNT},
    };

    for (size_t e = 0; e < sizeof enums / sizeof enums[0]; e++) {
        for (int v = 0; v < enums[e].count; v++) {
            const char *n = enums[e].name(v);
            cr_assert_not_null(n, "enum %zu value %d has no name", e, v);
            cr_assert_eq(enums[e].parse(n), v, "enum %zu: '%s' parses to %d", e, n,
                         enums[e].parse(n));
        }
        cr_assert_null(enums[e].name(enums[e].count), "enum %zu: a name past the end", e);
        cr_assert_null(enums[e].name(-1), "enum %zu: a name for -1", e);
        cr_assert_eq(enums[e].parse("bogus"), -1, "enum %zu parses 'bogus'", e);
    }
    for (int v = 0; v < ROUTE_WHY__COUNT; v++)
        cr_assert_not_null(route_why_name((route_why)v), "reason code %d has no name", v);
    cr_assert_null(route_why_name(ROUTE_WHY__COUNT), "a reason code past the end");
}

/* A decoded Incident with its required fields: an accident commuting in Wajo. */
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

Test(route, record_fields_are_taken_as_they_are)
{
    incident inc = make_incident();
    route_incident in;

    inc.fields |= IF_SEVERITY | IF_CAUSE;
    inc.severity = SEVERITY_PERMANENT_PARTIAL;
    inc.cause = CAUSE_TRAFFIC;
    route_incident_from_record(&inc, &in);
    cr_assert_eq(in.type, INCIDENT_ACCIDENT, "type: %d", in.type);
    cr_assert_eq(in.circumstance, CIRCUMSTANCE_COMMUTING, "circumstance: %d", in.circumstance);
    cr_assert_eq(in.severity, SEVERITY_PERMANENT_PARTIAL, "severity: %d", in.severity);
    cr_assert_eq(in.cause, CAUSE_TRAFFIC, "cause: %d", in.cause);
    cr_assert_str_eq(in.region_code, "7313011001", "region code copied");
    cr_assert_eq(in.occurred_at_us, inc.occurred_at_us, "occurred_at copied");
}

Test(route, absent_record_fields_are_none)
{
    incident inc = make_incident();
    route_incident in;

    inc.type = INCIDENT_DEATH;
    inc.severity = SEVERITY_SERIOUS;   /* a value without its IF_ bit is absent */
    route_incident_from_record(&inc, &in);
    cr_assert_eq(in.severity, SEVERITY_NONE, "severity without IF_SEVERITY: %d", in.severity);
    cr_assert_eq(in.cause, CAUSE_NONE, "cause without IF_CAUSE: %d", in.cause);
    cr_assert_eq(in.reported_at_us, TIME_NONE, "absent reported_at stays absent");
    cr_assert_eq(in.now_us, inc.event_time_us, "now is the time of publishing");
    inc.fields |= IF_REPORTED_AT;
    inc.reported_at_us = inc.occurred_at_us + 3600 * INT64_C(1000000);
    route_incident_from_record(&inc, &in);
    cr_assert_eq(in.reported_at_us, inc.reported_at_us, "reported_at: %lld",
                 (long long)in.reported_at_us);
}

Test(route, unknown_record_enum_value_is_refused)
{
    benefit_table *t = deployed_table();
    incident inc = make_incident();
    route_coverage cov = {PROG_JKK, 19000, 20000, ROUTE_COV_ACTIVE, 1000000, DATE_NONE};
    route_worker w = {1, DATE_NONE};
    route_incident in;
    route_decision d;
    char err[128] = "";

    inc.circumstance = (incident_circumstance)7;
    inc.fields |= IF_SEVERITY;
    inc.severity = SEVERITY_MINOR;
    route_incident_from_record(&inc, &in);
    cr_assert_eq(route_incident_decide(&in, &w, &cov, 1, t, &d, err, sizeof err), -1,
                 "circumstance 7 was decided");
    cr_assert_not_null(strstr(err, "circumstance"), "error: %s", err);
    benefits_destroy(t);
}

/* An accident (SERIOUS, on duty, Makassar) on day, with cov. */
static route_decision decide_accident_on(const char *day, const route_coverage *cov, int ncov)
{
    benefit_table *t = deployed_table();
    route_incident in = incident_at(day, "7371011001");
    route_worker w = {1, DATE_NONE};
    route_decision d;
    char err[256] = "";

    in.type = INCIDENT_ACCIDENT;
    in.circumstance = CIRCUMSTANCE_ON_DUTY;
    in.severity = SEVERITY_SERIOUS;
    cr_assert_eq(route_incident_decide(&in, &w, cov, ncov, t, &d, err, sizeof err), 0, "%s", err);
    benefits_destroy(t);
    return d;
}

Test(route, decision_names_the_wage_of_the_jkk_row_in_force)
{
    route_coverage cov[] = {
        {PROG_JKM, dates_from_civil(2024, 1, 1), dates_from_civil(2024, 3, 31), ROUTE_COV_ACTIVE, 900000, DATE_NONE},
        {PROG_JKK, dates_from_civil(2023, 1, 1), dates_from_civil(2023, 12, 31), ROUTE_COV_ACTIVE, 1000000, DATE_NONE},
        {PROG_JKK, dates_from_civil(2024, 1, 1), dates_from_civil(2024, 3, 31), ROUTE_COV_CANCELLED, 2000000, DATE_NONE},
        {PROG_JKK, dates_from_civil(2024, 1, 1), dates_from_civil(2024, 2, 14), ROUTE_COV_TERMINATED, 1200000, DATE_NONE},
    };
    int n = (int)(sizeof cov / sizeof cov[0]);
    route_decision d;

    d = decide_accident_on("2024-02-14T10:00:00+08:00", cov, n);
    cr_assert_eq(d.monthly_wage, 1200000, "the terminated row is in force on its last day: %lld",
                 d.monthly_wage);
    cr_assert_eq(d.program, CLAIM_PROGRAM_JKK, "program %d", d.program);
    d = decide_accident_on("2023-06-01T10:00:00+08:00", cov, n);
    cr_assert_eq(d.monthly_wage, 1000000, "the 2023 term: %lld", d.monthly_wage);
    d = decide_accident_on("2024-02-15T10:00:00+08:00", cov, n);
    cr_assert_eq(d.outcome, ROUTE_NOT_COVERED, "cancelled and JKM rows do not cover: %s", d.reason);
    cr_assert_eq(d.monthly_wage, 0, "no wage without a JKK claim: %lld", d.monthly_wage);
}

Test(route, a_recorded_death_closes_coverage)
{
    benefit_table *t = deployed_table();
    route_coverage cov = {PROG_JKK | PROG_JKM, 19700, 19800, ROUTE_COV_ACTIVE, 1200000, DATE_NONE};
    route_worker alive = {1, DATE_NONE}, absent = {0, DATE_NONE}, dead = {1, 19766};
    route_incident death = incident_at("2024-02-14T10:00:00+08:00", "7371011001");
    route_incident accident = death;
    route_decision d;
    char err[256] = "";

    accident.type = INCIDENT_ACCIDENT;
    accident.severity = SEVERITY_MINOR;
    cr_assert_eq(route_incident_decide(&death, &alive, &cov, 1, t, &d, err, sizeof err), 0, "%s", err);
    cr_assert(d.closes_coverage, "a death of an enrolled worker closes coverage (%s)", d.reason);
    cr_assert_eq(route_incident_decide(&death, &absent, NULL, 0, t, &d, err, sizeof err), 0, "%s", err);
    cr_assert_not(d.closes_coverage, "no coverage to close for a worker never enrolled");
    cr_assert_eq(route_incident_decide(&death, &dead, &cov, 1, t, &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(d.why, ROUTE_WHY_WORKER_DECEASED, "reason %s", d.reason);
    cr_assert_not(d.closes_coverage, "a report after the recorded death closes nothing");
    cr_assert_eq(route_incident_decide(&accident, &alive, &cov, 1, t, &d, err, sizeof err), 0, "%s", err);
    cr_assert_not(d.closes_coverage, "an accident closes nothing");
    benefits_destroy(t);
}
