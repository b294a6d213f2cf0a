/* codec_fields: the field tables of the codec's record types (see codec_fields.h). */
#include "codec_fields.h"

#include <stddef.h>

#include "claim_event.h"
#include "codec_subjects.h"
#include "coverage_change.h"
#include "incident.h"
#include "invoice_event.h"
#include "roster.h"

_Static_assert(sizeof(roster_role) == sizeof(int) && sizeof(incident_type) == sizeof(int) &&
               sizeof(claim_status) == sizeof(int) && sizeof(coverage_status) == sizeof(int) &&
               sizeof(invoice_status) == sizeof(int) && sizeof(premium_scheme) == sizeof(int),
               "enum fields are stored as int");

static const char *sym_change(int i) { return roster_change_name((roster_change_kind)i); }
static const char *sym_institution(int i) { return roster_institution_name((roster_institution)i); }
static const char *sym_role(int i) { return roster_role_name((roster_role)i); }
static const char *sym_program_bit(int i)
{
    static const char *const names[] = {"JKK", "JKM", "JHT"};
    return i >= 0 && i < 3 ? names[i] : NULL;
}
static const char *sym_incident_type(int i) { return incident_type_name((incident_type)i); }
static const char *sym_circumstance(int i) { return incident_circumstance_name((incident_circumstance)i); }
static const char *sym_cause(int i) { return incident_cause_name((incident_cause)i); }
static const char *sym_severity(int i) { return incident_severity_name((incident_severity)i); }
static const char *sym_reporter(int i) { return incident_reporter_name((incident_reporter)i); }
static const char *sym_invoice_status(int i) { return invoice_status_name((invoice_status)i); }
static const char *sym_scheme(int i) { return premiums_scheme_name((premium_scheme)i); }
static const char *sym_claim_program(int i) { return claim_program_name((claim_program)i); }
static const char *sym_benefit(int i) { return claim_benefit_name((claim_benefit)i); }
static const char *sym_status(int i) { return claim_status_name((claim_status)i); }
static const char *sym_kind(int i) { return claim_event_kind_name((claim_event_kind)i); }
static const char *sym_coverage_status(int i) { return coverage_status_name((coverage_status)i); }

#define MEMBER_SIZE(type, m) sizeof(((type *)0)->m)
/* A field of kind CODEC_FIELDS_<kind>; an enum field with its symbol names. */
#define FIELD(type, avro, member, kind, bit) \
    {avro, CODEC_FIELDS_##kind, bit, offsetof(type, member), MEMBER_SIZE(type, member), NULL, 0, NULL}
#define ENUMF(type, avro, member, bit, fn, n) \
    {avro, CODEC_FIELDS_ENUM, bit, offsetof(type, member), sizeof(int), fn, n, NULL}

static const codec_fields_def roster_fields[] = {
    FIELD(roster_change, "event_id", event_id, STRING, 0),
    FIELD(roster_change, "source", source, STRING, 0),
    FIELD(roster_change, "event_time", event_time_us, TIMESTAMP, 0),
    ENUMF(roster_change, "change", change, 0, sym_change, CHANGE__COUNT),
    FIELD(roster_change, "nik", nik, STRING, 0),
    FIELD(roster_change, "full_name", full_name, STRING, RF_FULL_NAME),
    FIELD(roster_change, "birth_date", birth_date, DATE, RF_BIRTH_DATE),
    {"gender", CODEC_FIELDS_CHAR, RF_GENDER, offsetof(roster_change, gender), 1, NULL, 0, "LP"},
    ENUMF(roster_change, "institution", institution, RF_INSTITUTION, sym_institution, INST__COUNT),
    ENUMF(roster_change, "role", role, RF_ROLE, sym_role, ROLE__COUNT),
    FIELD(roster_change, "region_code", region_code, STRING, RF_REGION),
    FIELD(roster_change, "tps", tps, INT, RF_TPS),
    FIELD(roster_change, "term_start", term_start, DATE, RF_TERM_START),
    FIELD(roster_change, "term_end", term_end, DATE, RF_TERM_END),
    FIELD(roster_change, "effective_date", effective_date, DATE, RF_EFFECTIVE),
    FIELD(roster_change, "monthly_wage", monthly_wage, LONG, RF_WAGE),
    {"programs", CODEC_FIELDS_ENUM_SET, RF_PROGRAMS, offsetof(roster_change, programs),
     sizeof(unsigned), sym_program_bit, 3, NULL},
    FIELD(roster_change, "agreement_id", agreement_id, STRING, RF_AGREEMENT),
    FIELD(roster_change, "kpj", kpj, STRING, RF_KPJ),
    FIELD(roster_change, "phone", phone, STRING, RF_PHONE),
};

static const codec_fields_def incident_fields[] = {
    FIELD(incident, "event_id", event_id, STRING, 0),
    FIELD(incident, "source", source, STRING, 0),
    FIELD(incident, "event_time", event_time_us, TIMESTAMP, 0),
    FIELD(incident, "report_id", report_id, STRING, IF_REPORT_ID),
    FIELD(incident, "nik", nik, STRING, 0),
    ENUMF(incident, "type", type, 0, sym_incident_type, INCIDENT_TYPE__COUNT),
    FIELD(incident, "occurred_at", occurred_at_us, TIMESTAMP, 0),
    FIELD(incident, "reported_at", reported_at_us, TIMESTAMP, IF_REPORTED_AT),
    FIELD(incident, "region_code", region_code, STRING, 0),
    ENUMF(incident, "circumstance", circumstance, 0, sym_circumstance, CIRCUMSTANCE__COUNT),
    ENUMF(incident, "cause", cause, IF_CAUSE, sym_cause, CAUSE__COUNT),
    ENUMF(incident, "severity", severity, IF_SEVERITY, sym_severity, SEVERITY__COUNT),
    FIELD(incident, "description", description, STRING, IF_DESCRIPTION),
    ENUMF(incident, "reporter_institution", reporter_institution, 0, sym_reporter, REPORTER__COUNT),
    FIELD(incident, "reporter_name", reporter_name, STRING, IF_REPORTER_NAME),
    FIELD(incident, "reporter_phone", reporter_phone, STRING, IF_REPORTER_PHONE),
};

static const codec_fields_def claim_fields[] = {
    FIELD(claim_event, "event_id", event_id, STRING, 0),
    FIELD(claim_event, "source", source, STRING, 0),
    FIELD(claim_event, "claim_id", claim_id, STRING, 0),
    FIELD(claim_event, "incident_id", incident_id, STRING, 0),
    FIELD(claim_event, "nik", nik, STRING, 0),
    ENUMF(claim_event, "program", program, 0, sym_claim_program, CLAIM_PROGRAM__COUNT),
    ENUMF(claim_event, "benefit", benefit, 0, sym_benefit, BENEFIT__COUNT),
    ENUMF(claim_event, "from_status", from_status, CF_FROM_STATUS, sym_status, CLAIM_STATUS__COUNT),
    ENUMF(claim_event, "to_status", to_status, 0, sym_status, CLAIM_STATUS__COUNT),
    ENUMF(claim_event, "kind", kind, 0, sym_kind, CLAIM_EVENT_KIND__COUNT),
    FIELD(claim_event, "amount_idr", amount_idr, LONG, CF_AMOUNT),
    FIELD(claim_event, "benefit_table_version", benefit_table_version, STRING, CF_TABLE_VERSION),
    FIELD(claim_event, "reason", reason, STRING, 0),
    FIELD(claim_event, "actor", actor, STRING, 0),
    FIELD(claim_event, "payment_reference", payment_reference, STRING, CF_PAYMENT_REF),
    FIELD(claim_event, "late_report", late_report, BOOL, 0),
    FIELD(claim_event, "event_time", event_time_us, TIMESTAMP, 0),
};

static const codec_fields_def coverage_fields[] = {
    FIELD(coverage_change, "event_id", event_id, STRING, 0),
    FIELD(coverage_change, "source", source, STRING, 0),
    FIELD(coverage_change, "nik", nik, STRING, 0),
    {"programs", CODEC_FIELDS_ENUM_SET, 0, offsetof(coverage_change, programs), sizeof(unsigned),
     sym_program_bit, 3, NULL},
    ENUMF(coverage_change, "status", status, 0, sym_coverage_status, COVERAGE_STATUS__COUNT),
    FIELD(coverage_change, "valid_from", valid_from, DATE, 0),
    FIELD(coverage_change, "valid_to", valid_to, DATE, 0),
    FIELD(coverage_change, "region_code", region_code, STRING, 0),
    ENUMF(coverage_change, "role", role, 0, sym_role, ROLE__COUNT),
    ENUMF(coverage_change, "institution", institution, 0, sym_institution, INST__COUNT),
    FIELD(coverage_change, "event_time", event_time_us, TIMESTAMP, 0),
};

static const codec_fields_def invoice_fields[] = {
    FIELD(invoice_event, "event_id", event_id, STRING, 0),
    FIELD(invoice_event, "source", source, STRING, 0),
    FIELD(invoice_event, "invoice_id", invoice_id, STRING, 0),
    FIELD(invoice_event, "agreement_id", agreement_id, STRING, 0),
    FIELD(invoice_event, "billing_month", billing_month, DATE, 0),
    ENUMF(invoice_event, "status", status, 0, sym_invoice_status, INVOICE_STATUS__COUNT),
    ENUMF(invoice_event, "premium_scheme", scheme, 0, sym_scheme, PREMIUM_SCHEME__COUNT),
    FIELD(invoice_event, "rates_version", rates_version, STRING, 0),
    FIELD(invoice_event, "workers", workers, INT, 0),
    FIELD(invoice_event, "worker_months", worker_months, INT, 0),
    FIELD(invoice_event, "adjustment_worker_months", adjustment_worker_months, INT, 0),
    FIELD(invoice_event, "lines", lines, INT, 0),
    FIELD(invoice_event, "jkk_idr", jkk_idr, LONG, 0),
    FIELD(invoice_event, "jkm_idr", jkm_idr, LONG, 0),
    FIELD(invoice_event, "jht_idr", jht_idr, LONG, 0),
    FIELD(invoice_event, "current_idr", current_idr, LONG, 0),
    FIELD(invoice_event, "adjustment_idr", adjustment_idr, LONG, 0),
    FIELD(invoice_event, "total_idr", total_idr, LONG, 0),
    FIELD(invoice_event, "issued_at", issued_at_us, TIMESTAMP, 0),
    FIELD(invoice_event, "issued_by", issued_by, STRING, 0),
    FIELD(invoice_event, "event_time", event_time_us, TIMESTAMP, 0),
};
#undef FIELD
#undef ENUMF
#undef MEMBER_SIZE

#define COUNT(a) (sizeof (a) / sizeof (a)[0])
_Static_assert(COUNT(roster_fields) <= CODEC_FIELDS_MAX
               && COUNT(incident_fields) <= CODEC_FIELDS_MAX
               && COUNT(claim_fields) <= CODEC_FIELDS_MAX
               && COUNT(coverage_fields) <= CODEC_FIELDS_MAX
               && COUNT(invoice_fields) <= CODEC_FIELDS_MAX,
               "a record type has more than CODEC_FIELDS_MAX fields");

static void init_roster(void *rec) { roster_change_init(rec); }
static void init_incident(void *rec) { incident_init(rec); }
static void init_claim(void *rec) { claim_event_init(rec); }
static void init_coverage(void *rec) { coverage_change_init(rec); }
static void init_invoice(void *rec) { invoice_event_init(rec); }

const codec_fields_type codec_fields_types[CODEC_FIELDS_NTYPES] = {
    {CODEC_ROSTER_SUBJECT, roster_fields, COUNT(roster_fields),
     sizeof(roster_change), offsetof(roster_change, fields), init_roster},
    {CODEC_INCIDENT_SUBJECT, incident_fields, COUNT(incident_fields),
     sizeof(incident), offsetof(incident, fields), init_incident},
    {CODEC_CLAIM_SUBJECT, claim_fields, COUNT(claim_fields),
     sizeof(claim_event), offsetof(claim_event, fields), init_claim},
    {CODEC_COVERAGE_SUBJECT, coverage_fields, COUNT(coverage_fields),
     sizeof(coverage_change), offsetof(coverage_change, fields), init_coverage},
    {CODEC_INVOICE_SUBJECT, invoice_fields, COUNT(invoice_fields),
     sizeof(invoice_event), offsetof(invoice_event, fields), init_invoice},
};
