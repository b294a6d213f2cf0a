/* route: routing an incident to a claim and computing its amount (rules in route.h). */
#include "route.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "errstr.h"
#include "region.h"
#include "roster.h"

#define US_PER_HOUR INT64_C(3600000000)
/* Above this a wage is a data error, and wage x multiplier could overflow. */
#define WAGE_MAX 1000000000000LL

static const char *const type_names[] = {"ACCIDENT", "DEATH"};
static const char *const circumstance_names[] = {"ON_DUTY", "COMMUTING", "OFF_DUTY"};
static const char *const severity_names[] = {
    "NONE", "MINOR", "MODERATE", "SERIOUS", "PERMANENT_PARTIAL", "PERMANENT_TOTAL"};
static const char *const cause_names[] = {
    "NONE", "TRAFFIC", "FALL", "VIOLENCE", "ILLNESS", "EXHAUSTION", "OTHER"};
static const char *const coverage_status_names[] = {"ACTIVE", "TERMINATED", "CANCELLED"};
static const char *const outcome_names[] = {
    "CLAIM", "NO_CLAIM_OFF_DUTY", "NOT_COVERED", "REJECTED"};
static const char *const benefit_names[] = {
    "JKK_DEATH", "JKK_DISABILITY", "JKK_TEMPORARY", "JKK_MEDICAL", "JKM"};
static const char *const status_names[] = {
    "OPENED", "AWAITING_DOCUMENTS", "PENDING_DETERMINATION", "UNDER_REVIEW",
    "APPROVED", "REJECTED", "PAID"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define CHECKLIST(a) (a), COUNT(a)

/* Document checklists (domain.md "Claim workflow" 4). A JKK death needs the JKK case
 * documents and the heirs' documents, since the heirs are paid. */
static const char *const docs_jkk_traffic[] = {
    "KPJ_CARD", "KTP", "DOCTOR_STATEMENT", "PROOF_OF_DUTY", "CHRONOLOGY", "POLICE_REPORT"};
static const char *const docs_jkk_other[] = {
    "KPJ_CARD", "KTP", "DOCTOR_STATEMENT", "PROOF_OF_DUTY", "CHRONOLOGY",
    "WITNESS_STATEMENT_1", "WITNESS_STATEMENT_2"};
static const char *const docs_jkk_death_traffic[] = {
    "KPJ_CARD", "KTP_DECEASED", "DOCTOR_STATEMENT", "PROOF_OF_DUTY", "CHRONOLOGY",
    "POLICE_REPORT", "DEATH_CERTIFICATE", "KTP_HEIRS", "KK", "HEIR_STATEMENT",
    "MARRIAGE_BOOK", "BANK_BOOK"};
static const char *const docs_jkk_death_other[] = {
    "KPJ_CARD", "KTP_DECEASED", "DOCTOR_STATEMENT", "PROOF_OF_DUTY", "CHRONOLOGY",
    "WITNESS_STATEMENT_1", "WITNESS_STATEMENT_2", "DEATH_CERTIFICATE", "KTP_HEIRS", "KK",
    "HEIR_STATEMENT", "MARRIAGE_BOOK", "BANK_BOOK"};
static const char *const docs_jkm[] = {
    "KTP_DECEASED", "KTP_HEIRS", "DEATH_CERTIFICATE", "KK", "HEIR_STATEMENT",
    "MARRIAGE_BOOK", "BANK_BOOK"};

static const char *name_of(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : NULL;
}

static int parse_of(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

const char *route_type_name(int v) { return name_of(type_names, COUNT(type_names), v); }
const char *route_circumstance_name(int v)
{
    return name_of(circumstance_names, COUNT(circumstance_names), v);
}
const char *route_severity_name(int v)
{
    return name_of(severity_names, COUNT(severity_names), v);
}
const char *route_cause_name(int v) { return name_of(cause_names, COUNT(cause_names), v); }
const char *route_coverage_status_name(int v)
{
    return name_of(coverage_status_names, COUNT(coverage_status_names), v);
}
const char *route_outcome_name(int v)
{
    return name_of(outcome_names, COUNT(outcome_names), v);
}
const char *route_benefit_name(int v)
{
    return name_of(benefit_names, COUNT(benefit_names), v);
}
const char *route_status_name(int v) { return name_of(status_names, COUNT(status_names), v); }

int route_type_parse(const char *s) { return parse_of(type_names, COUNT(type_names), s); }
int route_circumstance_parse(const char *s)
{
    return parse_of(circumstance_names, COUNT(circumstance_names), s);
}
int route_severity_parse(const char *s)
{
    return parse_of(severity_names, COUNT(severity_names), s);
}
int route_cause_parse(const char *s) { return parse_of(cause_names, COUNT(cause_names), s); }
int route_coverage_status_parse(const char *s)
{
    return parse_of(coverage_status_names, COUNT(coverage_status_names), s);
}
int route_outcome_parse(const char *s)
{
    return parse_of(outcome_names, COUNT(outcome_names), s);
}
int route_benefit_parse(const char *s)
{
    return parse_of(benefit_names, COUNT(benefit_names), s);
}
int route_status_parse(const char *s)
{
    return parse_of(status_names, COUNT(status_names), s);
}

__attribute__((format(printf, 2, 3)))
static void reason(route_decision *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

static const char *zone_name(int offset_minutes)
{
    return offset_minutes == 420 ? "WIB" : offset_minutes == 480 ? "WITA" : "WIT";
}

static const char *mask_name(unsigned mask)
{
    return mask == PROG_JKK ? "JKK" : mask == PROG_JKM ? "JKM" : "JKK or JKM";
}

static int in_force(const route_coverage *c, unsigned mask, int32_t day)
{
    return (c->program & mask) && c->status != ROUTE_COV_CANCELLED && c->valid_from <= day &&
           day <= c->valid_to;
}

/* The row of a program in mask in force on day, or NULL. */
static const route_coverage *find_in_force(const route_coverage *cov, int ncov, unsigned mask,
                                           int32_t day)
{
    for (int i = 0; i < ncov; i++)
        if (in_force(&cov[i], mask, day))
            return &cov[i];
    return NULL;
}

/* Why no row of a program in mask is in force on the decision's local date. */
static void explain_not_covered(const route_coverage *cov, int ncov, unsigned mask,
                                route_decision *out)
{
    const route_coverage *first = NULL, *prev = NULL;
    int cancelled = 0;
    char d1[16], d2[16];
    int32_t day = out->local_date;

    for (int i = 0; i < ncov; i++) {
        const route_coverage *c = &cov[i];
        if (!(c->program & mask))
            continue;
        if (c->status == ROUTE_COV_CANCELLED) {
            cancelled = 1;
            continue;
        }
        if (!first || c->valid_from < first->valid_from)
            first = c;
        if (c->valid_to < day && (!prev || c->valid_to > prev->valid_to))
            prev = c;
    }
    dates_format(day, d2, sizeof d2);
    if (!first && cancelled)
        reason(out, "cancelled: every %s term of the worker was cancelled", mask_name(mask));
    else if (!first)
        reason(out, "program_not_held: the worker holds no %s coverage", mask_name(mask));
    else if (!prev)
        reason(out, "before_term: %s coverage starts %s, incident on %s %s", mask_name(mask),
               dates_format(first->valid_from, d1, sizeof d1), d2,
               zone_name(out->utc_offset_minutes));
    else if (prev->status == ROUTE_COV_TERMINATED)
        reason(out, "terminated: %s coverage terminated on %s, incident on %s %s",
               mask_name(mask), dates_format(prev->valid_to, d1, sizeof d1), d2,
               zone_name(out->utc_offset_minutes));
    else
        reason(out, "after_term: %s coverage ended %s, incident on %s %s", mask_name(mask),
               dates_format(prev->valid_to, d1, sizeof d1), d2,
               zone_name(out->utc_offset_minutes));
}

/* The local date `years` after day; 29 February goes to 1 March in a common year. */
static int32_t add_years(int32_t day, long long years)
{
    int y, m, d;

    dates_to_civil(day, &y, &m, &d);
    y += (int)years;
    if (m == 2 && d == 29 && !dates_valid(y, m, d))
        return dates_from_civil(y, 3, 1);
    return dates_from_civil(y, m, d);
}

static int check_input(const route_incident *in, const route_coverage *cov, int ncov,
                       char *errstr, size_t errstr_size)
{
    if (!route_type_name(in->type))
        return errstr_fail(errstr, errstr_size, "unknown incident type %d", in->type);
    if (!route_circumstance_name(in->circumstance))
        return errstr_fail(errstr, errstr_size, "unknown circumstance %d", in->circumstance);
    if (!route_severity_name(in->severity))
        return errstr_fail(errstr, errstr_size, "unknown severity %d", in->severity);
    if (in->type == ROUTE_ACCIDENT && in->severity == ROUTE_SEV_NONE)
        return errstr_fail(errstr, errstr_size, "an ACCIDENT needs a severity");
    if (!route_cause_name(in->cause))
        return errstr_fail(errstr, errstr_size, "unknown cause %d", in->cause);
    for (int i = 0; i < ncov; i++) {
        if (!route_coverage_status_name(cov[i].status))
            return errstr_fail(errstr, errstr_size, "coverage %d: unknown status %d", i, cov[i].status);
        if (cov[i].valid_from > cov[i].valid_to)
            return errstr_fail(errstr, errstr_size, "coverage %d: valid_from after valid_to", i);
    }
    return 0;
}

static int need(const benefit_version *v, const char *key, long long *value, char *errstr,
                size_t errstr_size)
{
    *value = benefits_get(v, key);
    if (*value < 0)
        return errstr_fail(errstr, errstr_size, "benefit table version '%s' lacks '%s'",
                           benefits_version_name(v), key);
    return 0;
}

/* a * b + c without overflow, or -1 with errstr. */
static int amount(long long a, long long b, long long c, long long *r, char *errstr,
                  size_t errstr_size)
{
    if (__builtin_mul_overflow(a, b, r) || __builtin_add_overflow(*r, c, r))
        return errstr_fail(errstr, errstr_size, "benefit amount overflows");
    return 0;
}

static int wage_of(const route_coverage *c, long long *wage, char *errstr, size_t errstr_size)
{
    if (c->monthly_wage <= 0 || c->monthly_wage > WAGE_MAX)
        return errstr_fail(errstr, errstr_size, "coverage in force has monthly wage %lld, not 1-%lld",
                           c->monthly_wage, WAGE_MAX);
    *wage = c->monthly_wage;
    return 0;
}

static int jkm_claim(const benefit_version *v, route_decision *out, char *errstr,
                     size_t errstr_size)
{
    long long lump, periodic, funeral, sum;

    if (need(v, BENEFIT_JKM_LUMP_SUM, &lump, errstr, errstr_size) < 0 ||
        need(v, BENEFIT_JKM_PERIODIC, &periodic, errstr, errstr_size) < 0 ||
        need(v, BENEFIT_JKM_FUNERAL, &funeral, errstr, errstr_size) < 0 ||
        amount(1, lump, periodic, &sum, errstr, errstr_size) < 0 ||
        amount(1, sum, funeral, &sum, errstr, errstr_size) < 0)
        return -1;
    out->outcome = ROUTE_CLAIM;
    out->program = PROG_JKM;
    out->benefit = ROUTE_BENEFIT_JKM;
    out->initial_status = ROUTE_STATUS_AWAITING_DOCUMENTS;
    out->amount_idr = sum;
    out->documents = docs_jkm;
    out->ndocuments = COUNT(docs_jkm);
    return 0;
}

static int jkk_death_claim(const benefit_version *v, long long wage, int traffic,
                           route_decision *out, char *errstr, size_t errstr_size)
{
    long long mult, floor, funeral, periodic, base;

    if (need(v, BENEFIT_JKK_DEATH_WAGE_MULT, &mult, errstr, errstr_size) < 0 ||
        need(v, BENEFIT_JKM_LUMP_SUM, &floor, errstr, errstr_size) < 0 ||
        need(v, BENEFIT_JKK_DEATH_FUNERAL, &funeral, errstr, errstr_size) < 0 ||
        need(v, BENEFIT_JKK_DEATH_PERIODIC, &periodic, errstr, errstr_size) < 0)
        return -1;
    if (amount(wage, mult, 0, &base, errstr, errstr_size) < 0)
        return -1;
    if (base < floor)
        base = floor;
    if (amount(1, base, funeral, &base, errstr, errstr_size) < 0 ||
        amount(1, base, periodic, &base, errstr, errstr_size) < 0)
        return -1;
    out->outcome = ROUTE_CLAIM;
    out->program = PROG_JKK;
    out->benefit = ROUTE_BENEFIT_JKK_DEATH;
    out->initial_status = ROUTE_STATUS_PENDING_DETERMINATION;
    out->amount_idr = base;
    if (traffic) {
        out->documents = docs_jkk_death_traffic;
        out->ndocuments = COUNT(docs_jkk_death_traffic);
    } else {
        out->documents = docs_jkk_death_other;
        out->ndocuments = COUNT(docs_jkk_death_other);
    }
    return 0;
}

static int jkk_accident_claim(const benefit_version *v, long long wage, int severity,
                              int traffic, route_decision *out, char *errstr,
                              size_t errstr_size)
{
    long long k;

    out->outcome = ROUTE_CLAIM;
    out->program = PROG_JKK;
    out->initial_status = ROUTE_STATUS_AWAITING_DOCUMENTS;
    switch (severity) {
    case ROUTE_SEV_MINOR:
    case ROUTE_SEV_MODERATE:
        out->benefit = ROUTE_BENEFIT_JKK_MEDICAL;
        out->amount_idr = -1;
        break;
    case ROUTE_SEV_SERIOUS:
        if (need(v, BENEFIT_JKK_TEMP_FIRST_PCT, &k, errstr, errstr_size) < 0)
            return -1;
        if (amount(wage, k, 0, &k, errstr, errstr_size) < 0)
            return -1;
        out->benefit = ROUTE_BENEFIT_JKK_TEMPORARY;
        out->amount_idr = k / 100;
        break;
    default: /* PERMANENT_PARTIAL, PERMANENT_TOTAL */
        if (need(v, BENEFIT_JKK_DISABILITY_WAGE_MULT, &k, errstr, errstr_size) < 0)
            return -1;
        if (amount(wage, k, 0, &k, errstr, errstr_size) < 0)
            return -1;
        out->benefit = ROUTE_BENEFIT_JKK_DISABILITY;
        out->amount_idr = k;
        out->assessment_required = severity == ROUTE_SEV_PERMANENT_PARTIAL;
        break;
    }
    out->documents = traffic ? docs_jkk_traffic : docs_jkk_other;
    out->ndocuments = traffic ? COUNT(docs_jkk_traffic) : COUNT(docs_jkk_other);
    return 0;
}

static void decision_init(route_decision *out)
{
    memset(out, 0, sizeof *out);
    out->benefit = ROUTE_BENEFIT_NONE;
    out->initial_status = ROUTE_STATUS_NONE;
}

/* The JKK part of rule 6: 1 when reported after the lapse date (sets the reason). */
static int jkk_lapsed(const benefit_version *v, int32_t reported_day, route_decision *out,
                      char *errstr, size_t errstr_size)
{
    long long years;
    int32_t limit;
    char d1[16], d2[16];

    if (need(v, BENEFIT_JKK_LAPSE_YEARS, &years, errstr, errstr_size) < 0)
        return -1;
    limit = add_years(out->local_date, years);
    if (reported_day <= limit)
        return 0;
    out->outcome = ROUTE_REJECTED;
    reason(out, "jkk_lapsed: JKK rights lapsed on %s (%lld years), reported %s",
           dates_format(limit, d1, sizeof d1), years, dates_format(reported_day, d2, sizeof d2));
    return 1;
}

int route_incident_decide(const route_incident *in, const route_worker *w,
                          const route_coverage *cov, int ncov, const benefit_table *t,
                          route_decision *out, char *errstr, size_t errstr_size)
{
    char plain[11], err[128], d1[16], d2[16];
    int offset, rc, traffic = in->cause == ROUTE_CAUSE_TRAFFIC;
    int64_t reported = in->reported_at_us == ROUTE_TIME_NONE ? in->now_us : in->reported_at_us;
    long long hours, deadline, wage = 0;
    const benefit_version *v;
    const route_coverage *jkk = NULL, *jkm;
    int32_t reported_day;

    decision_init(out);
    if (check_input(in, cov, ncov, errstr, errstr_size) < 0)
        return -1;
    if (region_normalize(in->region_code, plain, sizeof plain, NULL, err, sizeof err) < 0)
        return errstr_fail(errstr, errstr_size, "region_code '%s': %s", in->region_code, err);
    offset = region_utc_offset_minutes((plain[0] - '0') * 10 + (plain[1] - '0'));
    if (reported < in->occurred_at_us)
        return errstr_fail(errstr, errstr_size, "reported_at is before occurred_at");

    out->utc_offset_minutes = offset;
    out->local_date = dates_local_day(in->occurred_at_us, offset);
    reported_day = dates_local_day(reported, offset);
    v = benefits_at(t, out->local_date);
    if (!v)
        return errstr_fail(errstr, errstr_size, "no benefit table version in force on %s",
                           dates_format(out->local_date, d1, sizeof d1));
    snprintf(out->table_version, sizeof out->table_version, "%s", benefits_version_name(v));
    if (need(v, BENEFIT_FIRST_REPORT_HOURS, &hours, errstr, errstr_size) < 0 ||
        amount(hours, US_PER_HOUR, 0, &deadline, errstr, errstr_size) < 0)
        return -1;
    out->late_report = reported - in->occurred_at_us > deadline;

    if (w->deceased_on != DATE_NONE && out->local_date > w->deceased_on) {
        out->outcome = ROUTE_REJECTED;
        reason(out, "worker_deceased: the worker died on %s, incident on %s",
               dates_format(w->deceased_on, d1, sizeof d1),
               dates_format(out->local_date, d2, sizeof d2));
        return 0;
    }
    if (!w->enrolled) {
        out->outcome = ROUTE_NOT_COVERED;
        reason(out, "not_enrolled: the worker has never been enrolled");
        return 0;
    }
    if (in->type == ROUTE_ACCIDENT && in->circumstance == ROUTE_OFF_DUTY) {
        out->outcome = ROUTE_NO_CLAIM_OFF_DUTY;
        reason(out, "off_duty: JKK covers accidents on duty or commuting only");
        return 0;
    }

    if (in->circumstance != ROUTE_OFF_DUTY)
        jkk = find_in_force(cov, ncov, PROG_JKK, out->local_date);
    if (jkk) {
        if (wage_of(jkk, &wage, errstr, errstr_size) < 0)
            return -1;
        rc = jkk_lapsed(v, reported_day, out, errstr, errstr_size);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (in->type == ROUTE_DEATH) {
            reason(out, "jkk_death: work-related death, pending the work-accident determination");
            return jkk_death_claim(v, wage, traffic, out, errstr, errstr_size);
        }
        reason(out, "jkk_accident: %s accident while %s%s",
               route_severity_name(in->severity), route_circumstance_name(in->circumstance),
               in->severity == ROUTE_SEV_PERMANENT_PARTIAL
                   ? "; amount is the ceiling pending the disability assessment"
                   : "");
        return jkk_accident_claim(v, wage, in->severity, traffic, out, errstr, errstr_size);
    }
    if (in->type == ROUTE_ACCIDENT) {
        out->outcome = ROUTE_NOT_COVERED;
        explain_not_covered(cov, ncov, PROG_JKK, out);
        return 0;
    }
    jkm = find_in_force(cov, ncov, PROG_JKM, out->local_date);
    if (!jkm) {
        out->outcome = ROUTE_NOT_COVERED;
        explain_not_covered(cov, ncov,
                            in->circumstance == ROUTE_OFF_DUTY ? PROG_JKM : PROG_JKK | PROG_JKM,
                            out);
        return 0;
    }
    if (in->circumstance == ROUTE_OFF_DUTY)
        reason(out, "jkm_death: death off duty");
    else
        reason(out, "jkm_without_jkk: work-related death without JKK in force, paid by JKM");
    return jkm_claim(v, out, errstr, errstr_size);
}

int route_determination(const route_incident *in, const route_worker *w,
                        const route_coverage *cov, int ncov, const benefit_table *t,
                        int work_related, route_decision *out, char *errstr,
                        size_t errstr_size)
{
    route_incident off = *in;
    char why[sizeof out->reason];

    if (in->type != ROUTE_DEATH)
        return errstr_fail(errstr, errstr_size, "a determination applies to a death only");
    if (work_related) {
        if (route_incident_decide(in, w, cov, ncov, t, out, errstr, errstr_size) < 0)
            return -1;
        if (out->outcome == ROUTE_CLAIM && out->benefit == ROUTE_BENEFIT_JKK_DEATH) {
            out->initial_status = ROUTE_STATUS_AWAITING_DOCUMENTS;
            reason(out, "determined_work_related: JKK death benefit stands");
        }
        return 0;
    }
    off.circumstance = ROUTE_OFF_DUTY;
    if (route_incident_decide(&off, w, cov, ncov, t, out, errstr, errstr_size) < 0)
        return -1;
    snprintf(why, sizeof why, "%s", out->reason);
    if (out->outcome == ROUTE_CLAIM) {
        reason(out, "determined_not_work_related: paid as JKM");
    } else {
        out->outcome = ROUTE_REJECTED;
        reason(out, "not_work_related: %s", why);
    }
    return 0;
}
