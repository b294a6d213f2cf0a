/* codec: RosterChange, Incident, ClaimEvent, CoverageChange and Invoice records <-> Avro binary in
 * the Confluent wire format (byte 0 = 0, bytes 1-4 = big-endian schema id, then the Avro
 * body). Schemas come from the catalog, subjects by the record-name strategy
 * (CODEC_*_SUBJECT): writer schemas by id (compiled in, or from the schema registry on first
 * sight), the reader schema of each type is its compiled latest. A codec caches, per
 * schema id, the Avro value class, one reusable value, the field/enum mappings and an
 * encoder and a decoder plan, so no schema is parsed per call. One codec per thread: a codec is not
 * thread-safe, but several codecs may be used in parallel. */
#ifndef CODEC_H
#define CODEC_H

#include <stddef.h>

#include "claim_event.h"
#include "codec_subjects.h"
#include "coverage_change.h"
#include "incident.h"
#include "invoice_event.h"
#include "roster.h"

/* What a decode answers when the writer schema's id is not cached and the schema registry
 * could not be asked: not the record's fault, so retry later rather than dead-letter it. */
#define CODEC_UNAVAILABLE (-2)

typedef struct codec codec;

/* A new codec; NULL and errstr filled when the catalog lacks a schema of one of the five
 * subjects or it does not parse. The compiled latest version of each subject is the
 * reader schema (its defaults fill fields an older writer lacks); catalog_latest at this
 * call is the schema written by default (in the registry's id space only the subjects this
 * program bound can be encoded). Free with codec_destroy. */
codec *codec_new(char *errstr, size_t errstr_size);

/* Frees the codec and its buffer. Accepts NULL. */
void codec_destroy(codec *c);

/* Decoding reads the body of a writer schema whose every field the record carries straight
 * into the record, in one pass; a body that pass does not accept (malformed, a value the
 * record refuses, the longest varint forms) is decoded again through avro-c, whose checks
 * name the error, so both paths answer alike. on 0: every decode takes avro-c's path (the
 * tests and the decode fuzzer compare the two). On by default. */
void codec_set_direct(codec *c, int on);
/* How many decodes the direct pass answered. */
unsigned long codec_direct_count(const codec *c);

/* Encode rc with the latest RosterChange schema, or with schema_id when > 0 (which must
 * be a RosterChange schema in the catalog), into the codec's buffer. *out and
 * *len stay valid until the next call on this codec; the codec owns the bytes.
 * An optional field is written when its RF_* bit is set in rc->fields and its value is
 * not the "none" marker (DATE_NONE, MONEY_NONE, INST_NONE, ROLE_NONE, gender 0, tps 0,
 * programs 0); otherwise null. A field the chosen schema lacks (phone before version 2)
 * is not written. Returns 0, or -1 with errstr filled (unknown id, a value with no
 * symbol in the schema, an unterminated string). */
int codec_encode_roster(codec *c, const roster_change *rc, int schema_id,
                        const void **out, size_t *len, char *errstr, size_t errstr_size);

/* Decode one framed value into rc (overwritten completely). The body is checked against
 * the writer schema named by the header (fetched from the registry when the id is new to
 * the process) before it is decoded, so any byte string is safe to pass; errors name the
 * rule and offset ("magic byte 0x05 at offset 0 is not 0", "unknown schema id 77",
 * "truncated avro body: ..."). Fields are mapped by name and enums by symbol name; a
 * field of the reader schema that the writer schema lacks takes the reader schema's
 * default (no RF_* bit when that default is null); a writer field the reader lacks is
 * skipped. The writer schema id goes to *schema_id unless it is NULL. Returns 0, -1 with
 * errstr filled (rc's content is then unspecified), or CODEC_UNAVAILABLE with errstr
 * filled when the registry could not be asked for the writer schema. */
int codec_decode_roster(codec *c, const void *data, size_t len, roster_change *rc,
                        int *schema_id, char *errstr, size_t errstr_size);

/* The same for Incident records: required fields are nik, type,
 * occurred_at, region_code, circumstance, reporter_institution, plus event_id, source and
 * event_time; each optional field is written when its IF_* bit is set and its value is not
 * the none marker (TIME_NONE, *_NONE enums); otherwise null. Same buffer ownership. */
int codec_encode_incident(codec *c, const incident *inc, int schema_id,
                          const void **out, size_t *len, char *errstr, size_t errstr_size);

/* Decode an Incident value; the rules of codec_decode_roster apply (IF_* bits for the
 * optional fields present, reader defaults for fields an older writer lacks). */
int codec_decode_incident(codec *c, const void *data, size_t len, incident *inc,
                          int *schema_id, char *errstr, size_t errstr_size);

/* The same for ClaimEvent records; optional fields use the CF_*
 * bits (from_status CLAIM_STATUS_NONE and amount_idr MONEY_NONE count as absent). */
int codec_encode_claim_event(codec *c, const claim_event *ev, int schema_id,
                             const void **out, size_t *len, char *errstr, size_t errstr_size);
int codec_decode_claim_event(codec *c, const void *data, size_t len, claim_event *ev,
                             int *schema_id, char *errstr, size_t errstr_size);

/* The same for CoverageChange records: every field is
 * required; programs 0 (no program) is written as an empty array; an enum value outside
 * its range is refused. Same buffer ownership. */
int codec_encode_coverage_change(codec *c, const coverage_change *cc, int schema_id,
                                 const void **out, size_t *len, char *errstr, size_t errstr_size);
int codec_decode_coverage_change(codec *c, const void *data, size_t len, coverage_change *cc,
                                 int *schema_id, char *errstr, size_t errstr_size);

/* The same for Invoice records (subject CODEC_INVOICE_SUBJECT): every field is required;
 * an enum value outside its range is refused. Same buffer ownership. */
int codec_encode_invoice_event(codec *c, const invoice_event *ev, int schema_id,
                               const void **out, size_t *len, char *errstr, size_t errstr_size);
int codec_decode_invoice_event(codec *c, const void *data, size_t len, invoice_event *ev,
                               int *schema_id, char *errstr, size_t errstr_size);

#endif
