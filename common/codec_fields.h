/* codec_fields: the field tables of the codec's five C record types: which member of the
 * struct is which Avro field, of what kind, under which presence bit, with which enum
 * symbols. For codec.c and its tests only (the reference encoder of tests/unit/support/
 * reads the same tables); programs use codec.h. Constant data; any thread. */
#ifndef CODEC_FIELDS_H
#define CODEC_FIELDS_H

#include <stddef.h>

/* How a member is stored in the C record and which Avro type carries it. */
typedef enum {
    CODEC_FIELDS_STRING,    /* char[size], NUL-terminated: string */
    CODEC_FIELDS_CHAR,      /* one char: a string of length 1 */
    CODEC_FIELDS_INT,       /* int: int */
    CODEC_FIELDS_DATE,      /* int32_t days since 1970-01-01: int (logical type date) */
    CODEC_FIELDS_LONG,      /* int64_t: long */
    CODEC_FIELDS_TIMESTAMP, /* int64_t microseconds: long (logical type timestamp-micros) */
    CODEC_FIELDS_BOOL,      /* int, 0 or not: boolean */
    CODEC_FIELDS_ENUM,      /* an enum stored as int: enum, mapped by symbol name */
    CODEC_FIELDS_ENUM_SET   /* unsigned, bit i = our value i: array of enum */
} codec_fields_kind;

/* One field the C record carries. An optional field (bit != 0) is present when its bit is
 * set in the record's presence word and its value is not the kind's "none" marker: CHAR 0,
 * INT 0, DATE DATE_NONE, LONG / TIMESTAMP INT64_MIN, ENUM < 0, ENUM_SET 0. A required field
 * (bit 0) is always present. */
typedef struct codec_fields_def {
    const char *name;         /* the Avro field name */
    codec_fields_kind kind;
    unsigned bit;             /* presence bit (RF_*, IF_*, CF_*); 0 when required */
    size_t off;               /* offset of the member in the record */
    size_t size;              /* size of the member */
    const char *(*sym)(int);  /* ENUM, ENUM_SET: symbol name of our value i, NULL out of range */
    int nsym;                 /* ENUM, ENUM_SET: count of our values */
    const char *chars;        /* CHAR: the characters allowed */
} codec_fields_def;

/* One C record type and the catalog subject of its schemas. */
typedef struct codec_fields_type {
    const char *subject;      /* CODEC_*_SUBJECT (codec_subjects.h) */
    const codec_fields_def *fields;
    size_t nfields;
    size_t size;              /* sizeof the record */
    size_t bits_off;          /* offset of its unsigned presence word */
    void (*init)(void *rec);  /* resets the record to "every field absent" */
} codec_fields_type;

/* The record types, indexes of codec_fields_types. */
enum {
    CODEC_FIELDS_ROSTER, CODEC_FIELDS_INCIDENT, CODEC_FIELDS_CLAIM, CODEC_FIELDS_COVERAGE,
    CODEC_FIELDS_INVOICE, CODEC_FIELDS_NTYPES
};

/* No record type has more fields than this. */
#define CODEC_FIELDS_MAX 24

/* roster_change, incident, claim_event, coverage_change and invoice_event, in that order. */
extern const codec_fields_type codec_fields_types[CODEC_FIELDS_NTYPES];

#endif
