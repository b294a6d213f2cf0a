/* codec: RosterChange records <-> Avro binary in the Confluent wire format
 * (byte 0 = 0, bytes 1-4 = big-endian schema id, then the Avro body).
 * Schemas come from the catalog (subject "roster.changes-value"). A codec caches, per
 * schema id, the Avro value class, one reusable value and the field/enum mappings, so no
 * schema is parsed per call. One codec per thread: a codec is not thread-safe, but
 * several codecs may be used in parallel. */
#ifndef CODEC_H
#define CODEC_H

#include <stddef.h>

#include "roster.h"

#define CODEC_ROSTER_SUBJECT "roster.changes-value"

typedef struct codec codec;

/* A new codec; NULL and errstr filled when the catalog has no roster schema or it does
 * not parse. Free with codec_destroy. */
codec *codec_new(char *errstr, size_t errstr_size);

/* Frees the codec and its buffer. Accepts NULL. */
void codec_destroy(codec *c);

/* Encode rc with the latest RosterChange schema, or with schema_id when > 0 (which must
 * be a roster.changes-value schema in the catalog), into the codec's buffer. *out and
 * *len stay valid until the next call on this codec; the codec owns the bytes.
 * An optional field is written when its RF_* bit is set in rc->fields and its value is
 * not the "none" marker (DATE_NONE, MONEY_NONE, INST_NONE, ROLE_NONE, gender 0, tps 0,
 * programs 0); otherwise null. A field the chosen schema lacks (phone before version 2)
 * is not written. Returns 0, or -1 with errstr filled (unknown id, a value with no
 * symbol in the schema, an unterminated string). */
int codec_encode_roster(codec *c, const roster_change *rc, int schema_id,
                        const void **out, size_t *len, char *errstr, size_t errstr_size);

/* Decode one framed value into rc (overwritten completely). The body is checked against
 * the writer schema named by the header before it is decoded, so any byte string is
 * safe to pass; errors name the rule and offset ("magic byte 0x05 at offset 0 is not 0",
 * "unknown schema id 77", "truncated avro body: ..."). Fields are mapped by name and
 * enums by symbol name; a field of the latest roster schema that the writer schema lacks
 * takes the latest schema's default (no RF_* bit when that default is null). The writer
 * schema id goes to *schema_id unless it is NULL. Returns 0, or -1 with errstr filled
 * (rc's content is then unspecified). */
int codec_decode_roster(codec *c, const void *data, size_t len, roster_change *rc,
                        int *schema_id, char *errstr, size_t errstr_size);

#endif
