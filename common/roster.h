/* roster: the in-memory RosterChange record shared by producer, codec and consumer. */
#ifndef ROSTER_H
#define ROSTER_H

#include <stdint.h>
#include <stddef.h>

/* A date is a count of days since 1970-01-01 (Avro logical type "date").
 * DATE_NONE marks an absent date. */
#define DATE_NONE INT32_MIN
/* Money in whole rupiah; MONEY_NONE marks an absent amount. */
#define MONEY_NONE INT64_MIN

/* The topic of roster changes; "roster.changes.<source>" is a data center's own
 * (source_topic.h). */
#define ROSTER_TOPIC "roster.changes"

typedef enum { CHANGE_ENROLL, CHANGE_UPDATE, CHANGE_TERMINATE, CHANGE__COUNT } roster_change_kind;
typedef enum { INST_NONE = -1, INST_KPU, INST_BAWASLU, INST__COUNT } roster_institution;
typedef enum {
    ROLE_NONE = -1,
    ROLE_PPK, ROLE_PPS, ROLE_SEKRETARIAT_PPK, ROLE_SEKRETARIAT_PPS, ROLE_PANTARLIH,
    ROLE_KPPS, ROLE_LINMAS, ROLE_PANWASCAM, ROLE_SEKRETARIAT_PANWASCAM, ROLE_PKD,
    ROLE_PTPS, ROLE_SUPPORT_STAFF, ROLE__COUNT
} roster_role;
/* Programs are a bit set. */
enum { PROG_JKK = 1, PROG_JKM = 2, PROG_JHT = 4, PROG_DEFAULT = PROG_JKK | PROG_JKM };

/* Which optional fields a record carries (an UPDATE carries only what changes). */
enum {
    RF_FULL_NAME = 1 << 0, RF_BIRTH_DATE = 1 << 1, RF_GENDER = 1 << 2,
    RF_INSTITUTION = 1 << 3, RF_ROLE = 1 << 4, RF_REGION = 1 << 5, RF_TPS = 1 << 6,
    RF_TERM_START = 1 << 7, RF_TERM_END = 1 << 8, RF_WAGE = 1 << 9,
    RF_PROGRAMS = 1 << 10, RF_AGREEMENT = 1 << 11, RF_KPJ = 1 << 12,
    RF_EFFECTIVE = 1 << 13, RF_PHONE = 1 << 14
};

typedef struct roster_change {
    char event_id[37];          /* UUID text, stable across re-publishing */
    char source[33];            /* publishing data center id */
    int64_t event_time_us;      /* microseconds since the epoch, UTC */
    roster_change_kind change;
    char nik[17];
    unsigned fields;            /* RF_* bits of the fields present */
    char full_name[101];
    int32_t birth_date;
    char gender;                /* 'L', 'P' or 0 */
    roster_institution institution;
    roster_role role;
    char region_code[11];       /* plain digits: 6 (kecamatan) or 10 (desa) */
    int tps;                    /* 0 = none */
    int32_t term_start, term_end, effective_date;
    int64_t monthly_wage;
    unsigned programs;          /* PROG_* bits; 0 = absent */
    char agreement_id[41];
    char kpj[12];
    char phone[21];
} roster_change;

/* Resets every field to "absent". */
void roster_change_init(roster_change *rc);

/* Names of enum values as they appear in files, Avro and SQL. NULL when out of range. */
const char *roster_change_name(roster_change_kind k);
const char *roster_institution_name(roster_institution i);
const char *roster_role_name(roster_role r);

/* Parse a name; return the value or -1 when unknown. */
int roster_change_parse(const char *s);
int roster_institution_parse(const char *s);
int roster_role_parse(const char *s);

/* Parse "JKK;JKM" into PROG_* bits; return -1 on an unknown or repeated program. */
int roster_programs_parse(const char *s);
/* The names of bits' programs, in the order above, into names. Returns their number. */
int roster_programs_list(unsigned bits, const char *names[3]);
/* Write "JKK;JKM" form of bits into buf (size >= 12). Returns buf. */
char *roster_programs_format(unsigned bits, char *buf, size_t size);

/* Derive rc->event_id from the record's content (a name-based UUID, version 5, over the
 * source and every field except event_id and event_time), so publishing the same row again
 * gives the same id whatever the schema version. */
void roster_event_id(roster_change *rc);

#endif
