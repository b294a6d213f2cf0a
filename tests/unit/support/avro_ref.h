/* avro_ref: the reference encoder of the codec's unit tests. It writes a C record of the
 * codec (roster_change, incident, claim_event, coverage_change) the slow, obvious way: one
 * avro-c generic value of the writer schema, filled field by field with avro_value_set_*
 * and written with avro_value_write. test_codec compares the codec's plan encoder with it
 * byte for byte. It shares only the field tables (common/codec_fields.h) with the codec,
 * none of its encoding code. Linked into every unit test. */
#ifndef AVRO_REF_H
#define AVRO_REF_H

#include <stddef.h>

/* Encode rec, a record of the C type whose schemas are of subject (a CODEC_*_SUBJECT of
 * codec.h), with the catalog's schema schema_id, or with the subject's latest schema in
 * the catalog at this call when schema_id is 0, in the Confluent framing (byte 0 = 0,
 * bytes 1-4 = big-endian schema id, then the Avro body). The rules are codec.h's: an
 * optional field is written when its presence bit is set and its value is not the none
 * marker, otherwise null; a field the schema lacks is not written; a writer field the C
 * record does not carry gets its default from the schema.
 * On success *out is a malloc'd message of *len bytes, which the caller frees. Returns 0,
 * or -1 with errstr filled: the refusals of the codec's encoder (unknown or foreign id, a
 * required field absent, an enum value out of range or with no symbol in the schema, an
 * unterminated string, unknown bits in a set, a writer-only field without a default or
 * whose default does not fit), worded as the codec words them. Builds the value class
 * on every call (nothing is cached). Any thread. */
int avro_ref_encode(const char *subject, int schema_id, const void *rec, unsigned char **out,
                    size_t *len, char *errstr, size_t errstr_size);

#endif
