/* claim_event: the in-memory ClaimEvent record (topic claims, key claim_id), one state
 * change of a claim, as the claim workflow writes it to its outbox and the relay encodes
 * it. Enum names as in contracts.md and schemas/claim_event.v1.avsc. Pure; any thread. */
#ifndef CLAIM_EVENT_H
#define CLAIM_EVENT_H

#include <stdint.h>

/* MONEY_NONE (roster.h) marks an absent amount. */
#include "roster.h"
#include "validate.h"

typedef enum { CLAIM_PROGRAM_NONE = -1, CLAIM_PROGRAM_JKK, CLAIM_PROGRAM_JKM, CLAIM_PROGRAM_JHT,
               CLAIM_PROGRAM__COUNT } claim_program;
typedef enum {
    BENEFIT_NONE = -1, BENEFIT_JKK_DEATH, BENEFIT_JKK_DISABILITY, BENEFIT_JKK_TEMPORARY,
    BENEFIT_JKK_MEDICAL, BENEFIT_JKM, BENEFIT__COUNT
} claim_benefit;
typedef enum {
    CLAIM_STATUS_NONE = -1, CLAIM_OPENED, CLAIM_AWAITING_DOCUMENTS, CLAIM_PENDING_DETERMINATION,
    CLAIM_UNDER_REVIEW, CLAIM_APPROVED, CLAIM_REJECTED, CLAIM_PAID, CLAIM_STATUS__COUNT
} claim_status;
typedef enum {
    CLAIM_EVENT_KIND_NONE = -1, CLAIM_EV_OPENED, CLAIM_EV_DOCUMENTS_RECEIVED, CLAIM_EV_DETERMINATION,
    CLAIM_EV_APPROVED, CLAIM_EV_REJECTED, CLAIM_EV_PAID, CLAIM_EVENT_KIND__COUNT
} claim_event_kind;

/* Which optional fields a record carries. */
enum { CF_FROM_STATUS = 1 << 0, CF_AMOUNT = 1 << 1, CF_TABLE_VERSION = 1 << 2, CF_PAYMENT_REF = 1 << 3 };

typedef struct claim_event {
    char event_id[37];              /* UUID text, stable when the relay publishes again */
    char source[33];                /* publishing service id */
    char claim_id[41];
    char incident_id[41];
    char nik[17];
    unsigned fields;                /* CF_* bits of the optional fields present */
    claim_program program;
    claim_benefit benefit;
    claim_status from_status;       /* CF_FROM_STATUS; CLAIM_STATUS_NONE when opened */
    claim_status to_status;
    claim_event_kind kind;
    int64_t amount_idr;             /* CF_AMOUNT; MONEY_NONE = absent */
    char benefit_table_version[33]; /* CF_TABLE_VERSION */
    char reason[501];
    char actor[65];
    char payment_reference[65];     /* CF_PAYMENT_REF */
    int late_report;                /* 0 or 1 */
    int64_t event_time_us;          /* when the state changed, UTC */
} claim_event;

/* Reset every field to absent (texts empty, enums NONE, amount MONEY_NONE). */
void claim_event_init(claim_event *ev);

/* Names as in Avro and SQL; NULL when out of range. */
const char *claim_program_name(claim_program v);
const char *claim_benefit_name(claim_benefit v);
const char *claim_status_name(claim_status v);
const char *claim_event_kind_name(claim_event_kind v);

/* Parse a name; the value, or -1 when unknown. */
int claim_program_parse(const char *s);
int claim_benefit_parse(const char *s);
int claim_status_parse(const char *s);
int claim_event_kind_parse(const char *s);

/* Check ev as a subscriber receives it against what the claims tables hold (deploy/sql) and
 * fill out (overwritten): event_id a UUID, source an id (validate.h), claim_id, incident_id
 * and actor present, every text terminated valid UTF-8, nik layout (nik.h), enums in range,
 * program JKM exactly when benefit JKM, amount_idr not negative, a REJECTED claim with a
 * reason and a PAID one with a payment_reference, late_report 0 or 1, event_time within
 * 1900-01-01..2100-12-31. Returns out->errors. */
int claim_event_validate(const claim_event *ev, validate_report *out);

#endif
