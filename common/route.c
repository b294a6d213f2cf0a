/* route: routing an incident to a claim and computing its amount (rules in route.h). */
#include "route.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "errstr.h"
#include "names.h"
#include "region.h"
#include "roster.h"

#define US_PER_HOUR INT64_C(3600000000)
/* Above this a wage is a data error, and wage x multiplier could overflow. */
#define WAGE_MAX 1000000000000LL

static const char *const coverage_status_names[] = {"ACTIVE", "TERMINATED", "CANCELLED",
                                                    "LAPSED"};
static const char *const outcome_names[] = {
    "CLAIM", "NO_CLAIM_OFF_DUTY", "NOT_COVERED", "REJECTED"};
static const char *const why_names[] = {
    "worker_deceased", "not_enrolled", "off_duty", "program_not_held", "cancelled",
    "before_term", "after_term", "terminated", "jkk_lapsed", "jkk_death", "jkk_accident",
    "jkm_death", "jkm_without_jkk", "determined_work_related", "determined_not_work_related",
    "not_work_related", "lapsed"};

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

_Static_assert(COUNT(coverage_status_names) == ROUTE_COV__COUNT, "coverage status names");
_Static_assert(COUNT(outcome_names) == ROUTE_OUTCOME__COUNT, "outcome names");
_Static_assert(COUNT(why_names) == ROUTE_WHY__COUNT, "reason codes");

const char *route_coverage_status_name(route_coverage_status v)
{
    return names_get(coverage_status_names, COUNT(coverage_status_names), (int)v);
}

const char *route_outcome_name(route_outcome v)
{
    return names_get(outcome_names, COUNT(outcome_names), (int)v);
}

const char *route_why_name(route_why v)
{
    return names_get(why_names, COUNT(why_names), (int)v);
}

int route_coverage_status_parse(const char *s)
{
    return names_find(coverage_status_names, COUNT(coverage_status_names), s);
}

int route_outcome_parse(const char *s)
{
    return names_find(outcome_names, COUNT(outcome_names), s);
}

void route_incident_from_record(const incident *inc, route_incident *out)
{
    memset(out, 0, sizeof *out);
    out->type = inc->type;
    out->circumstance = inc->circumstance;
    out->severity = (inc->fields & IF_SEVERITY) ? inc->severity : SEVERITY_NONE;
    out->cause = (inc->fields & IF_CAUSE) ? inc->cause : CAUSE_NONE;
    out->occurred_at_us = inc->occurred_at_us;
    out->reported_at_us = (inc->fields & IF_REPORTED_AT) ? inc->reported_at_us : TIME_NONE;
    out->now_us = inc->event_time_us;
    snprintf(out->region_code, sizeof out->region_code, "%s", inc->region_code);
}

/* Set the decision's reason: its code, then ": " and the text. */
__attribute__((format(printf, 3, 4)))
static void reason(route_decision *out, route_why why, const char *fmt, ...)
{
    int n;
    va_list ap;

    out->why = why;
    n = snprintf(out->reason, sizeof out->reason, "%s: ", route_why_name(why));
    va_start(ap, fmt);
    vsnprintf(out->reason + n, sizeof out->reason - (size_t)n, fmt, ap);
    va_end(ap);
}

static const char *mask_name(unsigned mask)
{
    return mask == PROG_JKK ? "JKK" : mask == PROG_JKM ? "JKM" : "JKK or JKM";
}

/* The last day a row protects: its valid_to, or for a LAPSED row its lapse if earlier. */
static int32_t last_day(const route_coverage *c)
{
    return c->status == ROUTE_COV_LAPSED && c->lapsed_on < c->valid_to ? c->lapsed_on
                                                                      : c->valid_to;
}

static int in_force(const route_coverage *c, unsigned mask, int32_t day)
{
    return (c->program & mask) && c->status != ROUTE_COV_CANCELLED && c->valid_from <= day &&
           day <= last_day(c);
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
    const route_coverage *first = NULL, *prev = NULL, *started = NULL;
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
        if (c->valid_from <= day && (!started || c->valid_from > started->valid_from))
            started = c;
    }
    dates_format(day, d2, sizeof d2);
    if (started && started->status == ROUTE_COV_LAPSED && started->lapsed_on < day)
        reason(out, ROUTE_WHY_LAPSED,
               "%s coverage lapsed on %s (contributions unpaid), incident on %s %s",
               mask_name(mask), dates_format(started->lapsed_on, d1, sizeof d1), d2,
               region_zone_name(out->utc_offset_minutes));
    else if (!first && cancelled)
        reason(out, ROUTE_WHY_CANCELLED, "every %s term of the worker was cancelled", mask_name(mask));
    else if (!first)
        reason(out, ROUTE_WHY_PROGRAM_NOT_HELD, "the worker holds no %s coverage", mask_name(mask));
    else if (!prev)
        reason(out, ROUTE_WHY_BEFORE_TERM, "%s coverage starts %s, incident on %s %s", mask_name(mask),
               dates_format(first->valid_from, d1, sizeof d1), d2,
               region_zone_name(out->utc_offset_minutes));
    else if (prev->status == ROUTE_COV_TERMINATED)
        reason(out, ROUTE_WHY_TERMINATED, "%s coverage terminated on %s, incident on %s %s",
               mask_name(mask), dates_format(prev->valid_to, d1, sizeof d1), d2,
               region_zone_name(out->utc_offset_minutes));
    else
        reason(out, ROUTE_WHY_AFTER_TERM, "%s coverage ended %s, incident on %s %s", mask_name(mask),
               dates_format(prev->valid_to, d1, sizeof d1), d2,
               region_zone_name(out->utc_offset_minutes));
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
    if (!incident_type_name(in->type))
        return errstr_fail(errstr, errstr_size, "unknown incident type %d", in->type);
    if (!incident_circumstance_name(in->circumstance))
        return errstr_fail(errstr, errstr_size, "unknown circumstance %d", in->circumstance);
    if (in->severity != SEVERITY_NONE && !incident_severity_name(in->severity))
        return errstr_fail(errstr, errstr_size, "unknown severity %d", in->severity);
    if (in->type == INCIDENT_ACCIDENT && in->severity == SEVERITY_NONE)
        return errstr_fail(errstr, errstr_size, "an ACCIDENT needs a severity");
    if (in->cause != CAUSE_NONE && !incident_cause_name(in->cause))
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
    out->program = CLAIM_PROGRAM_JKM;
    out->benefit = BENEFIT_JKM;
    out->initial_status = CLAIM_AWAITING_DOCUMENTS;
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
    out->program = CLAIM_PROGRAM_JKK;
    out->benefit = BENEFIT_JKK_DEATH;
    out->initial_status = CLAIM_PENDING_DETERMINATION;
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
    out->program = CLAIM_PROGRAM_JKK;
    out->initial_status = CLAIM_AWAITING_DOCUMENTS;
    switch (severity) {
    case SEVERITY_MINOR:
    case SEVERITY_MODERATE:
        out->benefit = BENEFIT_JKK_MEDICAL;
        out->amount_idr = -1;
        break;
    case SEVERITY_SERIOUS:
        if (need(v, BENEFIT_JKK_TEMP_FIRST_PCT, &k, errstr, errstr_size) < 0)
            return -1;
        if (amount(wage, k, 0, &k, errstr, errstr_size) < 0)
            return -1;
        out->benefit = BENEFIT_JKK_TEMPORARY;
        out->amount_idr = k / 100;
        break;
    default: /* PERMANENT_PARTIAL, PERMANENT_TOTAL */
        if (need(v, BENEFIT_JKK_DISABILITY_WAGE_MULT, &k, errstr, errstr_size) < 0)
            return -1;
        if (amount(wage, k, 0, &k, errstr, errstr_size) < 0)
            return -1;
        out->benefit = BENEFIT_JKK_DISABILITY;
        out->amount_idr = k;
        out->assessment_required = severity == SEVERITY_PERMANENT_PARTIAL;
        break;
    }
    out->documents = traffic ? docs_jkk_traffic : docs_jkk_other;
    out->ndocuments = traffic ? COUNT(docs_jkk_traffic) : COUNT(docs_jkk_other);
    return 0;
}

static void decision_init(route_decision *out)
{
    memset(out, 0, sizeof *out);
    out->outcome = ROUTE_OUTCOME_NONE;
    out->why = ROUTE_WHY_NONE;
    out->program = CLAIM_PROGRAM_NONE;
    out->benefit = BENEFIT_NONE;
    out->initial_status = CLAIM_STATUS_NONE;
}

/* The lapse date of JKK rights from an accident on day: jkk_claim_lapse_years of the
 * version in force that day, extended by a later version that came into force before that
 * date (a longer period applies to rights not yet lapsed; a shorter one never shortens
 * them). *years is the period that gives the date. 0, or -1 + errstr. */
static int lapse_date(const benefit_table *t, const benefit_version *v, int32_t day,
                      int32_t *limit, long long *years, char *errstr, size_t errstr_size)
{
    const benefit_version *later;
    long long y;

    if (need(v, BENEFIT_JKK_LAPSE_YEARS, years, errstr, errstr_size) < 0)
        return -1;
    *limit = add_years(day, *years);
    while ((later = benefits_at(t, *limit)) != v) {
        if (need(later, BENEFIT_JKK_LAPSE_YEARS, &y, errstr, errstr_size) < 0)
            return -1;
        v = later;
        if (add_years(day, y) > *limit) {
            *limit = add_years(day, y);
            *years = y;
        }
    }
    return 0;
}

/* The JKK part of rule 6: 1 when reported after the lapse date (sets the reason). */
static int jkk_lapsed(const benefit_table *t, const benefit_version *v, int32_t reported_day,
                      route_decision *out, char *errstr, size_t errstr_size)
{
    long long years;
    int32_t limit;
    char d1[16], d2[16];

    if (lapse_date(t, v, out->local_date, &limit, &years, errstr, errstr_size) < 0)
        return -1;
    if (reported_day <= limit)
        return 0;
    out->outcome = ROUTE_REJECTED;
    reason(out, ROUTE_WHY_JKK_LAPSED, "JKK rights lapsed on %s (%lld years), reported %s",
           dates_format(limit, d1, sizeof d1), years, dates_format(reported_day, d2, sizeof d2));
    return 1;
}

/* Rule 1 and the late flag: the local date and zone, the table version in force that day
 * (*v) and the local date of the report (*reported_day). 0, or -1 + errstr. */
static int resolve_day(const route_incident *in, const benefit_table *t, route_decision *out,
                       const benefit_version **v, int32_t *reported_day, char *errstr,
                       size_t errstr_size)
{
    char err[128], d1[16];
    int64_t reported = in->reported_at_us == TIME_NONE ? in->now_us : in->reported_at_us;
    long long hours, deadline;

    if (region_local_date(in->region_code, in->occurred_at_us, &out->local_date,
                          &out->utc_offset_minutes, err, sizeof err) < 0)
        return errstr_fail(errstr, errstr_size, "region_code '%s': %s", in->region_code, err);
    if (reported < in->occurred_at_us)
        return errstr_fail(errstr, errstr_size, "reported_at is before occurred_at");
    *reported_day = dates_local_day(reported, out->utc_offset_minutes);
    if (!(*v = benefits_at(t, out->local_date)))
        return errstr_fail(errstr, errstr_size, "no benefit table version in force on %s",
                           dates_format(out->local_date, d1, sizeof d1));
    snprintf(out->table_version, sizeof out->table_version, "%s", benefits_version_name(*v));
    if (need(*v, BENEFIT_FIRST_REPORT_HOURS, &hours, errstr, errstr_size) < 0 ||
        amount(hours, US_PER_HOUR, 0, &deadline, errstr, errstr_size) < 0)
        return -1;
    out->late_report = reported - in->occurred_at_us > deadline;
    return 0;
}

/* Rule 5 onwards for a work-related incident with JKK in force (row jkk). */
static int jkk_claim(const route_incident *in, const route_coverage *jkk,
                     const benefit_table *t, const benefit_version *v, int32_t reported_day,
                     route_decision *out, char *errstr, size_t errstr_size)
{
    int rc, traffic = in->cause == CAUSE_TRAFFIC;
    long long wage = 0;

    if (wage_of(jkk, &wage, errstr, errstr_size) < 0)
        return -1;
    if ((rc = jkk_lapsed(t, v, reported_day, out, errstr, errstr_size)) != 0)
        return rc < 0 ? -1 : 0;
    out->monthly_wage = wage;
    if (in->type == INCIDENT_DEATH) {
        reason(out, ROUTE_WHY_JKK_DEATH, "work-related death, pending the work-accident determination");
        return jkk_death_claim(v, wage, traffic, out, errstr, errstr_size);
    }
    reason(out, ROUTE_WHY_JKK_ACCIDENT, "%s accident while %s%s",
           incident_severity_name(in->severity), incident_circumstance_name(in->circumstance),
           in->severity == SEVERITY_PERMANENT_PARTIAL
               ? "; amount is the ceiling pending the disability assessment"
               : "");
    return jkk_accident_claim(v, wage, in->severity, traffic, out, errstr, errstr_size);
}

/* Rules 2 to 7 once the day is resolved. */
static int apply_rules(const route_incident *in, const route_worker *w,
                       const route_coverage *cov, int ncov, const benefit_table *t,
                       const benefit_version *v, int32_t reported_day, route_decision *out,
                       char *errstr, size_t errstr_size)
{
    char d1[16], d2[16];
    const route_coverage *jkk = NULL;
    int off_duty = in->circumstance == CIRCUMSTANCE_OFF_DUTY;

    if (w->deceased_on != DATE_NONE && out->local_date > w->deceased_on) {
        out->outcome = ROUTE_REJECTED;
        reason(out, ROUTE_WHY_WORKER_DECEASED, "the worker died on %s, incident on %s",
               dates_format(w->deceased_on, d1, sizeof d1),
               dates_format(out->local_date, d2, sizeof d2));
        return 0;
    }
    if (!w->enrolled) {
        out->outcome = ROUTE_NOT_COVERED;
        reason(out, ROUTE_WHY_NOT_ENROLLED, "the worker has never been enrolled");
        return 0;
    }
    if (in->type == INCIDENT_ACCIDENT && off_duty) {
        out->outcome = ROUTE_NO_CLAIM_OFF_DUTY;
        reason(out, ROUTE_WHY_OFF_DUTY, "JKK covers accidents on duty or commuting only");
        return 0;
    }
    if (!off_duty && (jkk = find_in_force(cov, ncov, PROG_JKK, out->local_date)))
        return jkk_claim(in, jkk, t, v, reported_day, out, errstr, errstr_size);
    if (in->type == INCIDENT_ACCIDENT) {
        out->outcome = ROUTE_NOT_COVERED;
        explain_not_covered(cov, ncov, PROG_JKK, out);
        return 0;
    }
    if (!find_in_force(cov, ncov, PROG_JKM, out->local_date)) {
        out->outcome = ROUTE_NOT_COVERED;
        explain_not_covered(cov, ncov, off_duty ? PROG_JKM : PROG_JKK | PROG_JKM, out);
        return 0;
    }
    if (off_duty)
        reason(out, ROUTE_WHY_JKM_DEATH, "death off duty");
    else
        reason(out, ROUTE_WHY_JKM_WITHOUT_JKK, "work-related death without JKK in force, paid by JKM");
    return jkm_claim(v, out, errstr, errstr_size);
}

int route_incident_decide(const route_incident *in, const route_worker *w,
                          const route_coverage *cov, int ncov, const benefit_table *t,
                          route_decision *out, char *errstr, size_t errstr_size)
{
    const benefit_version *v = NULL;
    int32_t reported_day = 0;

    decision_init(out);
    if (check_input(in, cov, ncov, errstr, errstr_size) < 0 ||
        resolve_day(in, t, out, &v, &reported_day, errstr, errstr_size) < 0 ||
        apply_rules(in, w, cov, ncov, t, v, reported_day, out, errstr, errstr_size) < 0)
        return -1;
    out->closes_coverage = in->type == INCIDENT_DEATH && w->enrolled &&
                           out->why != ROUTE_WHY_WORKER_DECEASED;
    return 0;
}

int route_determination(const route_incident *in, const route_worker *w,
                        const route_coverage *cov, int ncov, const benefit_table *t,
                        int work_related, route_decision *out, char *errstr,
                        size_t errstr_size)
{
    route_incident off = *in;
    char why[sizeof out->reason];

    if (in->type != INCIDENT_DEATH)
        return errstr_fail(errstr, errstr_size, "a determination applies to a death only");
    if (work_related) {
        if (route_incident_decide(in, w, cov, ncov, t, out, errstr, errstr_size) < 0)
            return -1;
        if (out->outcome == ROUTE_CLAIM && out->benefit == BENEFIT_JKK_DEATH) {
            out->initial_status = CLAIM_AWAITING_DOCUMENTS;
            reason(out, ROUTE_WHY_DETERMINED_WORK_RELATED, "JKK death benefit stands");
        }
        return 0;
    }
    off.circumstance = CIRCUMSTANCE_OFF_DUTY;
    if (route_incident_decide(&off, w, cov, ncov, t, out, errstr, errstr_size) < 0)
        return -1;
    snprintf(why, sizeof why, "%s", out->reason);
    if (out->outcome == ROUTE_CLAIM) {
        reason(out, ROUTE_WHY_DETERMINED_NOT_WORK_RELATED, "paid as JKM");
    } else {
        out->outcome = ROUTE_REJECTED;
        reason(out, ROUTE_WHY_NOT_WORK_RELATED, "%s", why);
    }
    return 0;
}
