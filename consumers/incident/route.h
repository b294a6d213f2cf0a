/* route: the incident consumer's domain rules. Decides, for one reported incident, whether
 * it opens a claim, under which program and benefit, in which initial status, for what
 * amount, with which document checklist; or why it opens none. A pure function of
 * (incident, worker, coverages, benefit table): no I/O, no clock, no allocation; any thread
 * may call it. The apply module turns a decision into SQL.
 *
 * Rules (domain.md "Benefits", "Claim workflow", "Time zones"), in the order applied:
 *  1. Coverage and the benefit-table version are resolved on the incident's local date in
 *     the time zone of its region's province (WIB/WITA/WIT).
 *  2. An incident after the worker's recorded death is REJECTED ("worker_deceased").
 *  3. A worker with no enrolment is NOT_COVERED ("not_enrolled").
 *  4. ACCIDENT OFF_DUTY opens no claim (NO_CLAIM_OFF_DUTY, "off_duty").
 *  5. ACCIDENT ON_DUTY/COMMUTING needs JKK in force, DEATH ON_DUTY/COMMUTING needs JKK or
 *     (falling back) JKM, DEATH OFF_DUTY needs JKM; otherwise NOT_COVERED with the precise
 *     reason: "program_not_held", "cancelled", "before_term", "after_term", "terminated".
 *     A row is in force on day d when its status is not CANCELLED and
 *     valid_from <= d <= valid_to (a TERMINATED row's valid_to is its termination date).
 *  6. A JKK claim reported (local date) more than jkk_claim_lapse_years after the local
 *     date of the accident is REJECTED ("jkk_lapsed"); the anniversary itself is in time
 *     (29 February runs to 1 March). A lapsed work-related death does not fall back to JKM.
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
 *     The wage is that of the JKK coverage row in force on the local date.
 *  Any outcome is flagged late_report when reported_at - occurred_at exceeds
 *  first_report_deadline_hours (exactly the deadline is in time); a late report still
 *  opens the claim. */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "benefits.h"

/* reported_at not given: the decision uses now_us. */
#define ROUTE_TIME_NONE INT64_MIN

/* Enum values follow the symbol order of the Avro schemas (incident.v1, claim_event.v1). */
enum { ROUTE_ACCIDENT, ROUTE_DEATH, ROUTE_TYPE__COUNT };
enum { ROUTE_ON_DUTY, ROUTE_COMMUTING, ROUTE_OFF_DUTY, ROUTE_CIRCUMSTANCE__COUNT };
enum {
    ROUTE_SEV_NONE, ROUTE_SEV_MINOR, ROUTE_SEV_MODERATE, ROUTE_SEV_SERIOUS,
    ROUTE_SEV_PERMANENT_PARTIAL, ROUTE_SEV_PERMANENT_TOTAL, ROUTE_SEV__COUNT
};
enum {
    ROUTE_CAUSE_NONE, ROUTE_CAUSE_TRAFFIC, ROUTE_CAUSE_FALL, ROUTE_CAUSE_VIOLENCE,
    ROUTE_CAUSE_ILLNESS, ROUTE_CAUSE_EXHAUSTION, ROUTE_CAUSE_OTHER, ROUTE_CAUSE__COUNT
};
enum { ROUTE_COV_ACTIVE, ROUTE_COV_TERMINATED, ROUTE_COV_CANCELLED, ROUTE_COV__COUNT };
enum {
    ROUTE_CLAIM, ROUTE_NO_CLAIM_OFF_DUTY, ROUTE_NOT_COVERED, ROUTE_REJECTED, ROUTE_OUTCOME__COUNT
};
enum {
    ROUTE_BENEFIT_NONE = -1,
    ROUTE_BENEFIT_JKK_DEATH, ROUTE_BENEFIT_JKK_DISABILITY, ROUTE_BENEFIT_JKK_TEMPORARY,
    ROUTE_BENEFIT_JKK_MEDICAL, ROUTE_BENEFIT_JKM, ROUTE_BENEFIT__COUNT
};
enum {
    ROUTE_STATUS_NONE = -1,
    ROUTE_STATUS_OPENED, ROUTE_STATUS_AWAITING_DOCUMENTS, ROUTE_STATUS_PENDING_DETERMINATION,
    ROUTE_STATUS_UNDER_REVIEW, ROUTE_STATUS_APPROVED, ROUTE_STATUS_REJECTED, ROUTE_STATUS_PAID,
    ROUTE_STATUS__COUNT
};

/* One coverages row: worker x program x term. */
typedef struct route_coverage {
    unsigned program;         /* PROG_* bits (common/roster.h); normally one bit */
    int32_t valid_from;       /* local dates, inclusive */
    int32_t valid_to;
    int status;               /* ROUTE_COV_* */
    long long monthly_wage;   /* rupiah */
} route_coverage;

typedef struct route_incident {
    int type;                 /* ROUTE_ACCIDENT, ROUTE_DEATH */
    int circumstance;         /* ROUTE_ON_DUTY, ... */
    int severity;             /* ROUTE_SEV_*; required (not NONE) for ACCIDENT */
    int cause;                /* ROUTE_CAUSE_*; NONE when unknown */
    int64_t occurred_at_us;   /* microseconds since the epoch, UTC */
    int64_t reported_at_us;   /* or ROUTE_TIME_NONE */
    int64_t now_us;           /* the time of publishing, used when reported_at is absent */
    char region_code[11];     /* plain Kemendagri code, any level */
} route_incident;

typedef struct route_worker {
    int enrolled;             /* 0: no workers row */
    int32_t deceased_on;      /* DATE_NONE while alive */
} route_worker;

typedef struct route_decision {
    int outcome;              /* ROUTE_CLAIM, ... */
    char reason[160];         /* "code: human text"; the code is stable (see above) */
    unsigned program;         /* PROG_JKK or PROG_JKM for a claim, else 0 */
    int benefit;              /* ROUTE_BENEFIT_*; NONE without a claim */
    int initial_status;       /* ROUTE_STATUS_*; NONE without a claim */
    long long amount_idr;     /* -1 "as medically needed"; 0 without a claim */
    int assessment_required;  /* amount is a ceiling pending the medical assessment */
    char table_version[BENEFITS_VERSION_MAX + 1];
    int late_report;
    int32_t local_date;       /* incident's local date */
    int utc_offset_minutes;   /* zone of local_date */
    const char *const *documents; /* checklist, static storage; NULL without a claim */
    int ndocuments;
} route_decision;

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

/* Names as they appear in files, Avro and SQL; NULL when out of range. */
const char *route_type_name(int v);
const char *route_circumstance_name(int v);
const char *route_severity_name(int v);     /* NONE -> "NONE" */
const char *route_cause_name(int v);        /* NONE -> "NONE" */
const char *route_coverage_status_name(int v);
const char *route_outcome_name(int v);
const char *route_benefit_name(int v);
const char *route_status_name(int v);

/* Parse a name; return the value, or -1 when unknown (for benefit and status, -1 is also
 * the NONE value, which has no name). */
int route_type_parse(const char *s);
int route_circumstance_parse(const char *s);
int route_severity_parse(const char *s);
int route_cause_parse(const char *s);
int route_coverage_status_parse(const char *s);
int route_outcome_parse(const char *s);
int route_benefit_parse(const char *s);
int route_status_parse(const char *s);

#endif
