/* route: the claim rules, shared by the incident consumer and the officers' claims CLI.
 * Decides, for one reported incident, whether it opens a claim, under which program and
 * benefit, in which initial status, for what amount, with which document checklist; or why
 * it opens none. A pure function of (incident, worker, coverages, benefit table): no I/O,
 * no clock, no allocation; any thread may call it. It speaks the record types' vocabulary
 * (incident.h, claim_event.h) and returns every decision it takes in route_decision, so no
 * caller re-derives one; the incident consumer's apply module turns a decision into SQL.
 *
 * Rules (domain.md "Benefits", "Claim workflow", "Time zones"), in the order applied:
 *  1. Coverage and the benefit-table version are resolved on the incident's local date in
 *     the time zone of its region's province (WIB/WITA/WIT), as region_local_date()
 *     computes it.
 *  2. An incident after the worker's recorded death is REJECTED ("worker_deceased").
 *  3. A worker with no enrolment is NOT_COVERED ("not_enrolled").
 *  4. ACCIDENT OFF_DUTY opens no claim (NO_CLAIM_OFF_DUTY, "off_duty").
 *  5. ACCIDENT ON_DUTY/COMMUTING needs JKK in force, DEATH ON_DUTY/COMMUTING needs JKK or
 *     (falling back) JKM, DEATH OFF_DUTY needs JKM; otherwise NOT_COVERED with the precise
 *     reason: "program_not_held", "cancelled", "before_term", "after_term", "terminated",
 *     "lapsed". A row is in force on day d when its status is not CANCELLED and
 *     valid_from <= d <= valid_to (a TERMINATED row's valid_to is its termination date),
 *     and a LAPSED row only up to its lapsed_on as well (contributions unpaid: the lapse
 *     rule of deploy/premiums/billing_rules.tsv; a term that started after lapsed_on is
 *     never in force). "lapsed" is the reason when the latest row of the program that
 *     started on or before the local date is LAPSED and the date is after its lapsed_on;
 *     the text names the lapse date.
 *  6. A JKK claim reported (local date) more than jkk_claim_lapse_years after the local
 *     date of the accident is REJECTED ("jkk_lapsed"); the anniversary itself is in time
 *     (29 February runs to 1 March). The years are those of the version in force on the
 *     accident's date, extended by a later version in force before the rights lapsed
 *     (PP 82/2019 took the period from 2 to 5 years for rights not yet lapsed); a shorter
 *     later period never shortens them. A lapsed work-related death does not fall back to
 *     JKM.
 *  7. Otherwise a claim:
 *     - accident MINOR/MODERATE: JKK_MEDICAL, amount -1 (as medically needed);
 *     - SERIOUS: JKK_TEMPORARY, amount = the first month's benefit,
 *       monthly wage x jkk_temporary_first_pct / 100 (the claim is paid monthly; the
 *       total depends on the recovery date, which is not known at the first report);
 *     - PERMANENT_TOTAL: JKK_DISABILITY, wage x jkk_disability_wage_multiplier;
 *     - PERMANENT_PARTIAL: JKK_DISABILITY with the same formula as the ceiling and
 *       assessment_required set: the payable share follows the doctor's disability
 *       percentage, which the first report does not carry;
 *     - work-related DEATH with JKK: JKK_DEATH, PENDING_DETERMINATION, amount =
 *       max(wage x jkk_death_wage_multiplier, jkm_lump_sum) + jkk_death_funeral +
 *       jkk_death_periodic;
 *     - other DEATH with JKM: JKM, jkm_lump_sum + jkm_periodic + jkm_funeral.
 *     Non-death JKK claims and JKM claims open as AWAITING_DOCUMENTS (the first report
 *     opens the case; the claim proper waits for the second report's documents).
 *     The wage is that of the JKK coverage row in force on the local date; the decision
 *     returns it (monthly_wage) for the claim to record.
 *  Any outcome is flagged late_report when reported_at - occurred_at exceeds
 *  first_report_deadline_hours (exactly the deadline is in time); a late report still
 *  opens the claim. A DEATH of an enrolled worker closes the worker's coverage from the
 *  next local day (closes_coverage), unless it was refused by rule 2. */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "benefits.h"
#include "claim_event.h"
#include "incident.h"

/* Status of a coverages row (a column of the coverages table; no record carries it). */
typedef enum {
    ROUTE_COV_NONE = -1, ROUTE_COV_ACTIVE, ROUTE_COV_TERMINATED, ROUTE_COV_CANCELLED,
    ROUTE_COV_LAPSED, ROUTE_COV__COUNT
} route_coverage_status;

/* What an incident opens (the incidents.outcome column). */
typedef enum {
    ROUTE_OUTCOME_NONE = -1, ROUTE_CLAIM, ROUTE_NO_CLAIM_OFF_DUTY, ROUTE_NOT_COVERED,
    ROUTE_REJECTED, ROUTE_OUTCOME__COUNT
} route_outcome;

/* Why: the stable code that starts route_decision.reason (rules above). */
typedef enum {
    ROUTE_WHY_NONE = -1,
    ROUTE_WHY_WORKER_DECEASED, ROUTE_WHY_NOT_ENROLLED, ROUTE_WHY_OFF_DUTY,
    ROUTE_WHY_PROGRAM_NOT_HELD, ROUTE_WHY_CANCELLED, ROUTE_WHY_BEFORE_TERM,
    ROUTE_WHY_AFTER_TERM, ROUTE_WHY_TERMINATED, ROUTE_WHY_JKK_LAPSED, ROUTE_WHY_JKK_DEATH,
    ROUTE_WHY_JKK_ACCIDENT, ROUTE_WHY_JKM_DEATH, ROUTE_WHY_JKM_WITHOUT_JKK,
    ROUTE_WHY_DETERMINED_WORK_RELATED, ROUTE_WHY_DETERMINED_NOT_WORK_RELATED,
    ROUTE_WHY_NOT_WORK_RELATED, ROUTE_WHY_LAPSED, ROUTE_WHY__COUNT
} route_why;

/* One coverages row: worker x program x term. */
typedef struct route_coverage {
    unsigned program;         /* PROG_* bits (common/roster.h); normally one bit */
    int32_t valid_from;       /* local dates, inclusive */
    int32_t valid_to;
    route_coverage_status status;
    long long monthly_wage;   /* rupiah */
    int32_t lapsed_on;        /* LAPSED rows: the last day of protection; unused otherwise */
} route_coverage;

/* The facts of an incident that routing reads; enums are incident.h's. */
typedef struct route_incident {
    incident_type type;
    incident_circumstance circumstance;
    incident_severity severity; /* SEVERITY_NONE when absent; required for ACCIDENT */
    incident_cause cause;       /* CAUSE_NONE when absent */
    int64_t occurred_at_us;     /* microseconds since the epoch, UTC */
    int64_t reported_at_us;     /* TIME_NONE when absent: now_us is used */
    int64_t now_us;             /* the time of publishing */
    char region_code[11];       /* plain Kemendagri code, any level */
} route_incident;

typedef struct route_worker {
    int enrolled;             /* 0: no workers row */
    int32_t deceased_on;      /* DATE_NONE while alive */
} route_worker;

typedef struct route_decision {
    route_outcome outcome;
    route_why why;            /* the code of reason */
    char reason[160];         /* "code: human text" */
    claim_program program;    /* CLAIM_PROGRAM_JKK or _JKM for a claim, else _NONE */
    claim_benefit benefit;    /* BENEFIT_NONE without a claim */
    claim_status initial_status; /* CLAIM_STATUS_NONE without a claim */
    long long amount_idr;     /* -1 "as medically needed"; 0 without a claim */
    long long monthly_wage;   /* the wage a JKK claim was priced on; 0 otherwise */
    int assessment_required;  /* amount is a ceiling pending the medical assessment */
    char table_version[BENEFITS_VERSION_MAX + 1];
    int late_report;
    int closes_coverage;      /* a recorded death: coverage ends after local_date */
    int32_t local_date;       /* incident's local date */
    int utc_offset_minutes;   /* zone of local_date */
    const char *const *documents; /* checklist, static storage; NULL without a claim */
    int ndocuments;
} route_decision;

/* Route's input from a decoded Incident: optional fields whose presence bit is off become
 * NONE / TIME_NONE, now_us is the event time. Values are copied, not checked (route_incident_decide
 * checks them). */
void route_incident_from_record(const incident *inc, route_incident *out);

/* Decide what the incident opens. Returns 0 with *out filled (every outcome, including
 * NOT_COVERED and REJECTED, is a decision), or -1 with errstr for input that cannot be
 * decided: an unknown enum value, an ACCIDENT without severity, a region code that is not
 * valid, reported_at before occurred_at, a coverage in force without a positive wage, or
 * no benefit-table version in force on the local date. */
int route_incident_decide(const route_incident *in, const route_worker *w,
                          const route_coverage *cov, int ncov, const benefit_table *t,
                          route_decision *out, char *errstr, size_t errstr_size);

/* BPJS has determined whether the death behind a JKK_DEATH claim was caused by work.
 * work_related: the claim stays JKK_DEATH (same amount) and moves to AWAITING_DOCUMENTS.
 * Otherwise it becomes a JKM claim (AWAITING_DOCUMENTS) with the JKM amount of the table
 * version in force on the incident's local date, or REJECTED ("not_work_related: ...")
 * when JKM was not in force that day. Same return convention as route_incident_decide. */
int route_determination(const route_incident *in, const route_worker *w,
                        const route_coverage *cov, int ncov, const benefit_table *t,
                        int work_related, route_decision *out, char *errstr,
                        size_t errstr_size);

/* Names as in SQL (route_why: the reason codes); NULL when out of range. */
const char *route_coverage_status_name(route_coverage_status v);
const char *route_outcome_name(route_outcome v);
const char *route_why_name(route_why v);

/* Parse a name; the value, or -1 when unknown. */
int route_coverage_status_parse(const char *s);
int route_outcome_parse(const char *s);

#endif
