/* fuzz_codec_decode: the input is a Kafka message value in the Confluent wire format (magic
 * byte, big-endian schema id, Avro body), as a consumer receives it from any client. It is
 * decoded as the record type of its schema id's subject (as all four when the id is
 * unknown), and a decoded record is checked by that type's full rules.
 *
 * Asserts besides memory safety: the codec's direct pass and avro-c's generic path (a second
 * codec with codec_set_direct off) answer alike: the same result, the same error, the same
 * record; a decode error is terminated UTF-8 (the consumer stores it in
 * dead_letters.error_message), so is every report; a record the rules accept is one
 * PostgreSQL accepts (fuzzcheck_*_ok); and it encodes again with its writer schema into a
 * message that decodes to the very same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "codec.h"
#include "support/fuzzcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "Now" of the incident rules: fixed, so a run is reproducible. 2024-06-01T00:00:00Z. */
#define NOW_US INT64_C(1717200000000000)
#define TODAY 19875

static codec *cd, *generic;

typedef int (*decode_fn)(codec *, const void *, size_t, void *, int *, char *, size_t);
typedef int (*encode_fn)(codec *, const void *, int, const void **, size_t *, char *, size_t);
typedef int (*rules_fn)(const void *);

/* Adapters to one signature per direction. */
static int dec_roster(codec *c, const void *d, size_t n, void *r, int *id, char *e, size_t es)
{
    return codec_decode_roster(c, d, n, r, id, e, es);
}
static int dec_incident(codec *c, const void *d, size_t n, void *r, int *id, char *e, size_t es)
{
    return codec_decode_incident(c, d, n, r, id, e, es);
}
static int dec_claim(codec *c, const void *d, size_t n, void *r, int *id, char *e, size_t es)
{
    return codec_decode_claim_event(c, d, n, r, id, e, es);
}
static int dec_coverage(codec *c, const void *d, size_t n, void *r, int *id, char *e, size_t es)
{
    return codec_decode_coverage_change(c, d, n, r, id, e, es);
}
static int enc_roster(codec *c, const void *r, int id, const void **o, size_t *n, char *e, size_t es)
{
    return codec_encode_roster(c, r, id, o, n, e, es);
}
static int enc_incident(codec *c, const void *r, int id, const void **o, size_t *n, char *e, size_t es)
{
    return codec_encode_incident(c, r, id, o, n, e, es);
}
static int enc_claim(codec *c, const void *r, int id, const void **o, size_t *n, char *e, size_t es)
{
    return codec_encode_claim_event(c, r, id, o, n, e, es);
}
static int enc_coverage(codec *c, const void *r, int id, const void **o, size_t *n, char *e, size_t es)
{
    return codec_encode_coverage_change(c, r, id, o, n, e, es);
}

/* The full rules; 1 when the record is accepted (then fuzzcheck has checked it). */
static int ok_roster(const void *r)
{
    validate_report rep;
    int ok = validate_roster_change(r, TODAY, &rep) == 0;

    fuzzcheck_report(&rep);
    if (ok)
        fuzzcheck_roster_ok(r);
    return ok;
}
static int ok_incident(const void *r)
{
    validate_report rep;
    int ok = incident_validate(r, NOW_US, &rep) == 0;

    fuzzcheck_report(&rep);
    if (ok)
        fuzzcheck_incident_ok(r);
    return ok;
}
static int ok_claim(const void *r)
{
    validate_report rep;
    int ok = claim_event_validate(r, &rep) == 0;

    fuzzcheck_report(&rep);
    if (ok)
        fuzzcheck_claim_ok(r);
    return ok;
}
static int ok_coverage(const void *r)
{
    validate_report rep;
    int ok = coverage_change_validate(r, &rep) == 0;

    fuzzcheck_report(&rep);
    if (ok)
        fuzzcheck_coverage_ok(r);
    return ok;
}

static const struct type {
    const char *subject;
    size_t size;
    decode_fn decode;
    encode_fn encode;
    rules_fn ok;
} types[] = {
    {CODEC_ROSTER_SUBJECT, sizeof(roster_change), dec_roster, enc_roster, ok_roster},
    {CODEC_INCIDENT_SUBJECT, sizeof(incident), dec_incident, enc_incident, ok_incident},
    {CODEC_CLAIM_SUBJECT, sizeof(claim_event), dec_claim, enc_claim, ok_claim},
    {CODEC_COVERAGE_SUBJECT, sizeof(coverage_change), dec_coverage, enc_coverage, ok_coverage},
};
#define NTYPES (sizeof types / sizeof types[0])

/* Decode as type t; check the error or the record; re-encode an accepted record. */
static void one(const struct type *t, const uint8_t *data, size_t size)
{
    /* Records live on the heap so ASan sees every overrun of them. */
    void *rec = malloc(t->size), *again = malloc(t->size);
    const void *out;
    size_t len;
    char err[512], err2[512];
    int id = 0, id2 = 0, rc, rc2;

    if (!rec || !again)
        fuzzcheck_fail("out of memory");
    memset(err, 0, sizeof err);
    memset(err2, 0, sizeof err2);
    rc = t->decode(cd, data, size, rec, &id, err, sizeof err);
    rc2 = t->decode(generic, data, size, again, &id2, err2, sizeof err2);
    if (rc != rc2 || (rc < 0 && strcmp(err, err2) != 0))
        fuzzcheck_fail("%s: the direct decode answered %d (%s), avro-c's %d (%s)", t->subject, rc,
                       rc < 0 ? err : "", rc2, rc2 < 0 ? err2 : "");
    if (rc == 0 && (id != id2 || memcmp(rec, again, t->size) != 0))
        fuzzcheck_fail("%s: the direct decode and avro-c's read different records", t->subject);
    if (rc < 0) {
        fuzzcheck_text("decode error", err, sizeof err);
        goto out;
    }
    if (!t->ok(rec))
        goto out;
    if (t->encode(cd, rec, id, &out, &len, err, sizeof err) < 0)
        fuzzcheck_fail("an accepted %s record does not encode again: %s", t->subject, err);
    if (t->decode(cd, out, len, again, &id2, err, sizeof err) < 0)
        fuzzcheck_fail("a re-encoded %s record does not decode: %s", t->subject, err);
    if (id2 != id || memcmp(rec, again, t->size) != 0)
        fuzzcheck_fail("a %s record changed on the way through encode and decode", t->subject);
out:
    free(rec);
    free(again);
}

/* avro-c's generic unions keep their branch's pointers at 4-byte offsets; LeakSanitizer
 * must scan unaligned words too, or it calls the codec's own values leaked. */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "use_unaligned=1";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct catalog_entry *e = NULL;
    char err[512];

    /* One codec for the run, as a consumer keeps one: its caches are part of what is tested. */
    if (!cd && !(cd = codec_new(err, sizeof err)))
        fuzzcheck_fail("codec_new: %s", err);
    if (!generic) {
        if (!(generic = codec_new(err, sizeof err)))
            fuzzcheck_fail("codec_new: %s", err);
        codec_set_direct(generic, 0);
    }
    if (size >= 5)
        e = catalog_find((int)((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4]));
    for (size_t i = 0; i < NTYPES; i++)
        if (!e || strcmp(e->subject, types[i].subject) == 0)
            one(&types[i], data, size);
    return 0;
}
