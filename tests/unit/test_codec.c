/* Tests for common/codec: round trips per catalog version, framing errors, corrupted
 * input, enum and field mapping by name, reader defaults; Incident, ClaimEvent and
 * CoverageChange records; the plan encoder byte for byte against the avro-c reference
 * encoder of support/avro_ref.c. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "catalog.h"
#include "claim_event.h"
#include "codec.h"
#include "coverage_change.h"
#include "dates.h"
#include "incident.h"
#include "incident_row.h"
#include "roster.h"
#include "rowsrc.h"
#include "support/avro_ref.h"
#include "support/datafile.h"
#include "support/settings.h"
#include "utf8.h"

#define MAX_RECORDS 32
#define REORDERED_ID 9001
#define REORDERED_SCHEMA "data/roster_change.reordered.avsc"

static roster_change records[MAX_RECORDS];
static size_t nrecords;
static char err[512];

static void copy_str(char *dst, size_t size, const char *val, const char *key)
{
    cr_assert_lt(strlen(val), size, "data value of '%s' too long: '%s'", key, val);
    strcpy(dst, val);
}

static int32_t date_of(const char *s)
{
    int32_t d;

    cr_assert_eq(dates_parse(s, &d), 0, "bad date in data: '%s'", s);
    return d;
}

static void set_field(roster_change *rc, const char *key, const char *val)
{
    if (strcmp(key, "event_id") == 0) {
        copy_str(rc->event_id, sizeof rc->event_id, val, key);
    } else if (strcmp(key, "source") == 0) {
        copy_str(rc->source, sizeof rc->source, val, key);
    } else if (strcmp(key, "event_time") == 0) {
        cr_assert_eq(dates_parse_timestamp(val, &rc->event_time_us), 0, "bad time '%s'", val);
    } else if (strcmp(key, "change") == 0) {
        int k = roster_change_parse(val);
        cr_assert_geq(k, 0, "bad change '%s'", val);
        rc->change = (roster_change_kind)k;
    } else if (strcmp(key, "nik") == 0) {
        copy_str(rc->nik, sizeof rc->nik, val, key);
    } else if (strcmp(key, "full_name") == 0) {
        copy_str(rc->full_name, sizeof rc->full_name, val, key);
        rc->fields |= RF_FULL_NAME;
    } else if (strcmp(key, "birth_date") == 0) {
        rc->birth_date = date_of(val);
        rc->fields |= RF_BIRTH_DATE;
    } else if (strcmp(key, "gender") == 0) {
        rc->gender = val[0];
        rc->fields |= RF_GENDER;
    } else if (strcmp(key, "institution") == 0) {
        int i = roster_institution_parse(val);
        cr_assert_geq(i, 0, "bad institution '%s'", val);
        rc->institution = (roster_institution)i;
        rc->fields |= RF_INSTITUTION;
    } else if (strcmp(key, "role") == 0) {
        int r = roster_role_parse(val);
        cr_assert_geq(r, 0, "bad role '%s'", val);
        rc->role = (roster_role)r;
        rc->fields |= RF_ROLE;
    } else if (strcmp(key, "region_code") == 0) {
        copy_str(rc->region_code, sizeof rc->region_code, val, key);
        rc->fields |= RF_REGION;
    } else if (strcmp(key, "tps") == 0) {
        rc->tps = atoi(val);
        rc->fields |= RF_TPS;
    } else if (strcmp(key, "term_start") == 0) {
        rc->term_start = date_of(val);
        rc->fields |= RF_TERM_START;
    } else if (strcmp(key, "term_end") == 0) {
        rc->term_end = date_of(val);
        rc->fields |= RF_TERM_END;
    } else if (strcmp(key, "effective_date") == 0) {
        rc->effective_date = date_of(val);
        rc->fields |= RF_EFFECTIVE;
    } else if (strcmp(key, "monthly_wage") == 0) {
        rc->monthly_wage = strtoll(val, NULL, 10);
        rc->fields |= RF_WAGE;
    } else if (strcmp(key, "programs") == 0) {
        int p = roster_programs_parse(val);
        cr_assert_gt(p, 0, "bad programs '%s'", val);
        rc->programs = (unsigned)p;
        rc->fields |= RF_PROGRAMS;
    } else if (strcmp(key, "agreement_id") == 0) {
        copy_str(rc->agreement_id, sizeof rc->agreement_id, val, key);
        rc->fields |= RF_AGREEMENT;
    } else if (strcmp(key, "kpj") == 0) {
        copy_str(rc->kpj, sizeof rc->kpj, val, key);
        rc->fields |= RF_KPJ;
    } else if (strcmp(key, "phone") == 0) {
        copy_str(rc->phone, sizeof rc->phone, val, key);
        rc->fields |= RF_PHONE;
    } else {
        cr_assert_fail("unknown key '%s' in data/codec_records.txt", key);
    }
}

static void init_roster_any(void *r) { roster_change_init(r); }
static void set_roster_any(void *r, const char *k, const char *v) { set_field(r, k, v); }

static void load_records(void)
{
    nrecords = settings_load("data/codec_records.txt", records, sizeof records[0], MAX_RECORDS,
                             init_roster_any, set_roster_any);
}

/* Register the test-only schema with reordered enums (as the latest roster version). */
static void add_reordered(const char *from, const char *to)
{
    char *json = datafile_text(REORDERED_SCHEMA);

    cr_assert_not_null(json, "cannot read %s", REORDERED_SCHEMA);
    if (from) {
        char *at = strstr(json, from);
        cr_assert_not_null(at, "'%s' not in the reordered schema", from);
        size_t tl = strlen(to), fl = strlen(from);
        cr_assert_leq(tl, fl, "replacement must not be longer");
        memmove(at + tl, at + fl, strlen(at + fl) + 1);
        memcpy(at, to, tl);
    }
    cr_assert_eq(catalog_add(REORDERED_ID, CODEC_ROSTER_SUBJECT, 99, json, err, sizeof err), 0,
                 "catalog_add: %s", err);
    free(json);
}

static size_t roster_ids(int *ids, size_t max)
{
    size_t n = 0;

    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++)
        if (strcmp(e->subject, CODEC_ROSTER_SUBJECT) == 0 && n < max)
            ids[n++] = e->id;
    return n;
}

static int schema_has(int id, const char *field)
{
    avro_schema_t s = catalog_schema(id, err, sizeof err);

    cr_assert_not_null(s, "catalog_schema(%d): %s", id, err);
    return avro_schema_record_field_get_index(s, field) >= 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void assert_same(const roster_change *want, const roster_change *got, const char *ctx)
{
    cr_assert_str_eq(got->event_id, want->event_id, "%s: event_id '%s'", ctx, got->event_id);
    cr_assert_str_eq(got->source, want->source, "%s: source '%s'", ctx, got->source);
    cr_assert_eq(got->event_time_us, want->event_time_us, "%s: event_time %lld", ctx,
                 (long long)got->event_time_us);
    cr_assert_eq(got->change, want->change, "%s: change %d", ctx, got->change);
    cr_assert_str_eq(got->nik, want->nik, "%s: nik '%s'", ctx, got->nik);
    cr_assert_eq(got->fields, want->fields, "%s: fields 0x%x, want 0x%x", ctx, got->fields,
                 want->fields);
    cr_assert_str_eq(got->full_name, want->full_name, "%s: full_name '%s'", ctx, got->full_name);
    cr_assert_eq(got->birth_date, want->birth_date, "%s: birth_date %d", ctx, got->birth_date);
    cr_assert_eq(got->gender, want->gender, "%s: gender %d", ctx, got->gender);
    cr_assert_eq(got->institution, want->institution, "%s: institution %d", ctx,
                 got->institution);
    cr_assert_eq(got->role, want->role, "%s: role %d", ctx, got->role);
    cr_assert_str_eq(got->region_code, want->region_code, "%s: region '%s'", ctx,
                     got->region_code);
    cr_assert_eq(got->tps, want->tps, "%s: tps %d", ctx, got->tps);
    cr_assert_eq(got->term_start, want->term_start, "%s: term_start %d", ctx, got->term_start);
    cr_assert_eq(got->term_end, want->term_end, "%s: term_end %d", ctx, got->term_end);
    cr_assert_eq(got->effective_date, want->effective_date, "%s: effective %d", ctx,
                 got->effective_date);
    cr_assert_eq(got->monthly_wage, want->monthly_wage, "%s: wage %lld", ctx,
                 (long long)got->monthly_wage);
    cr_assert_eq(got->programs, want->programs, "%s: programs 0x%x", ctx, got->programs);
    cr_assert_str_eq(got->agreement_id, want->agreement_id, "%s: agreement '%s'", ctx,
                     got->agreement_id);
    cr_assert_str_eq(got->kpj, want->kpj, "%s: kpj '%s'", ctx, got->kpj);
    cr_assert_str_eq(got->phone, want->phone, "%s: phone '%s'", ctx, got->phone);
}

/* Encode record i with id into a malloc'd copy. */
static unsigned char *encode_copy(codec *c, const roster_change *rc, int id, size_t *len)
{
    const void *out;
    unsigned char *copy;

    cr_assert_eq(codec_encode_roster(c, rc, id, &out, len, err, sizeof err), 0,
                 "encode with id %d: %s", id, err);
    copy = malloc(*len);
    cr_assert_not_null(copy, "out of memory");
    memcpy(copy, out, *len);
    return copy;
}

Test(codec, round_trip_every_roster_version)
{
    int ids[16], seen[CHANGE__COUNT] = {0};
    size_t nids = roster_ids(ids, 16);
    codec *c = codec_new(err, sizeof err);

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    cr_assert_geq(nids, 2, "catalog should list at least two roster versions, has %zu", nids);
    for (size_t v = 0; v < nids; v++) {
        int has_phone = schema_has(ids[v], "phone");
        for (size_t i = 0; i < nrecords; i++) {
            const void *out;
            size_t len;
            int got_id = -1;
            roster_change want = records[i], got;
            char ctx[64];

            snprintf(ctx, sizeof ctx, "schema id %d, record %zu", ids[v], i + 1);
            seen[records[i].change]++;
            cr_assert_eq(codec_encode_roster(c, &records[i], ids[v], &out, &len, err, sizeof err),
                         0, "%s: encode: %s", ctx, err);
            cr_assert_gt(len, 5, "%s: length %zu", ctx, len);
            cr_assert_eq(((const unsigned char *)out)[0], 0, "%s: magic byte", ctx);
            cr_assert_eq(be32((const unsigned char *)out + 1), (uint32_t)ids[v],
                         "%s: header id %u", ctx, be32((const unsigned char *)out + 1));
            cr_assert_eq(codec_decode_roster(c, out, len, &got, &got_id, err, sizeof err), 0,
                         "%s: decode: %s", ctx, err);
            cr_assert_eq(got_id, ids[v], "%s: decoded writer id %d", ctx, got_id);
            if (!has_phone) {
                want.phone[0] = '\0';
                want.fields &= ~(unsigned)RF_PHONE;
            }
            assert_same(&want, &got, ctx);
        }
    }
    for (int k = 0; k < CHANGE__COUNT; k++)
        cr_assert_gt(seen[k], 0, "data has no %s record", roster_change_name((roster_change_kind)k));
    codec_destroy(c);
}

Test(codec, version_without_phone_drops_it_and_latest_keeps_it)
{
    int ids[16];
    size_t nids = roster_ids(ids, 16);
    codec *c = codec_new(err, sizeof err);
    int without = 0;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    cr_assert_eq(records[0].fields & RF_PHONE, (unsigned)RF_PHONE, "record 1 needs a phone");
    for (size_t v = 0; v < nids; v++) {
        const void *out;
        size_t len;
        roster_change got;

        cr_assert_eq(codec_encode_roster(c, &records[0], ids[v], &out, &len, err, sizeof err), 0,
                     "encode: %s", err);
        cr_assert_eq(codec_decode_roster(c, out, len, &got, NULL, err, sizeof err), 0,
                     "decode: %s", err);
        if (schema_has(ids[v], "phone")) {
            cr_assert_str_eq(got.phone, records[0].phone, "id %d lost phone", ids[v]);
            cr_assert(got.fields & RF_PHONE, "id %d: RF_PHONE unset", ids[v]);
        } else {
            without++;
            cr_assert_str_eq(got.phone, "", "id %d: phone '%s', want absent", ids[v], got.phone);
            cr_assert_eq(got.fields & RF_PHONE, 0u, "id %d: RF_PHONE set", ids[v]);
        }
    }
    cr_assert_gt(without, 0, "no roster version without phone to test");
    cr_assert(schema_has(catalog_latest(CODEC_ROSTER_SUBJECT)->id, "phone"),
              "latest roster schema lacks phone");
    codec_destroy(c);
}

Test(codec, encode_defaults_to_latest_id)
{
    const struct catalog_entry *latest = catalog_latest(CODEC_ROSTER_SUBJECT);
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    cr_assert_eq(codec_encode_roster(c, &records[0], 0, &out, &len, err, sizeof err), 0,
                 "encode: %s", err);
    cr_assert_eq(be32((const unsigned char *)out + 1), (uint32_t)latest->id,
                 "header id %u, latest is %d", be32((const unsigned char *)out + 1), latest->id);
    codec_destroy(c);
}

Test(codec, absent_means_bit_unset_or_none_value)
{
    codec *c = codec_new(err, sizeof err);
    roster_change rc, got;
    const void *out;
    size_t len;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    rc = records[0];
    rc.birth_date = DATE_NONE;          /* flagged but none */
    rc.role = ROLE_NONE;
    rc.monthly_wage = MONEY_NONE;
    rc.fields &= ~(unsigned)RF_FULL_NAME; /* value but not flagged */
    cr_assert_eq(codec_encode_roster(c, &rc, 0, &out, &len, err, sizeof err), 0, "encode: %s", err);
    cr_assert_eq(codec_decode_roster(c, out, len, &got, NULL, err, sizeof err), 0, "decode: %s", err);
    cr_assert_eq(got.fields & (RF_BIRTH_DATE | RF_ROLE | RF_WAGE | RF_FULL_NAME), 0u,
                 "absent fields came back: 0x%x", got.fields);
    cr_assert_eq(got.birth_date, DATE_NONE, "birth_date %d", got.birth_date);
    cr_assert_eq(got.role, ROLE_NONE, "role %d", got.role);
    cr_assert_eq(got.monthly_wage, MONEY_NONE, "wage %lld", (long long)got.monthly_wage);
    cr_assert_str_eq(got.full_name, "", "full_name '%s'", got.full_name);
    cr_assert(got.fields & RF_GENDER, "present gender lost");
    codec_destroy(c);
}

Test(codec, encode_rejects_unknown_and_foreign_ids)
{
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    cr_assert_eq(codec_encode_roster(c, &records[0], 77, &out, &len, err, sizeof err), -1,
                 "id 77 accepted");
    cr_assert_str_eq(err, "unknown schema id 77", "message: %s", err);
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++) {
        if (strcmp(e->subject, CODEC_ROSTER_SUBJECT) == 0)
            continue;
        cr_assert_eq(codec_encode_roster(c, &records[0], e->id, &out, &len, err, sizeof err), -1,
                     "non-roster id %d accepted", e->id);
        cr_assert_not_null(strstr(err, e->subject), "message should name '%s': %s", e->subject,
                           err);
    }
    codec_destroy(c);
}

Test(codec, encode_rejects_bad_values)
{
    codec *c = codec_new(err, sizeof err);
    roster_change rc;
    const void *out;
    size_t len;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    rc = records[0];
    rc.role = (roster_role)ROLE__COUNT;
    cr_assert_eq(codec_encode_roster(c, &rc, 0, &out, &len, err, sizeof err), -1,
                 "out-of-range role accepted");
    cr_assert_not_null(strstr(err, "role"), "message should name role: %s", err);
    rc = records[0];
    memset(rc.nik, '7', sizeof rc.nik);
    cr_assert_eq(codec_encode_roster(c, &rc, 0, &out, &len, err, sizeof err), -1,
                 "unterminated nik accepted");
    cr_assert_not_null(strstr(err, "nik"), "message should name nik: %s", err);
    rc = records[0];
    rc.programs = 8;
    cr_assert_eq(codec_encode_roster(c, &rc, 0, &out, &len, err, sizeof err), -1,
                 "unknown program bit accepted");
    codec_destroy(c);
}

Test(codec, decode_rejects_bad_magic)
{
    codec *c = codec_new(err, sizeof err);
    roster_change got;
    size_t len;
    unsigned char *msg;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    msg = encode_copy(c, &records[0], 0, &len);
    msg[0] = 5;
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), -1,
                 "bad magic accepted");
    cr_assert_str_eq(err, "magic byte 0x05 at offset 0 is not 0", "message: %s", err);
    free(msg);
    codec_destroy(c);
}

Test(codec, decode_rejects_unknown_and_foreign_ids)
{
    codec *c = codec_new(err, sizeof err);
    roster_change got;
    size_t len;
    unsigned char *msg;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    msg = encode_copy(c, &records[0], 0, &len);
    msg[1] = msg[2] = msg[3] = 0;
    msg[4] = 77;
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), -1,
                 "id 77 accepted");
    cr_assert_str_eq(err, "unknown schema id 77", "message: %s", err);
    msg[1] = 0x80;
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), -1,
                 "id 0x8000004d accepted");
    cr_assert_not_null(strstr(err, "unknown schema id"), "message: %s", err);
    msg[1] = 0;
    msg[4] = 10;
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), -1,
                 "incident schema id accepted as roster");
    cr_assert_not_null(strstr(err, CODEC_INCIDENT_SUBJECT), "message: %s", err);
    free(msg);
    codec_destroy(c);
}

/* Found by fuzz_codec_decode: the message echoed the raw bytes of a gender, so it could
 * hold invalid UTF-8, which the consumer then failed to store in dead_letters. */
Test(codec, decode_error_shows_untrusted_bytes_as_ascii)
{
    codec *c = codec_new(err, sizeof err);
    roster_change rc, got;
    size_t len;
    unsigned char *msg;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    rc = records[0];
    rc.gender = (char)0xc2;
    msg = encode_copy(c, &rc, 0, &len);
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), -1, "gender 0xc2 accepted");
    cr_assert(utf8_valid(err), "message is not UTF-8");
    cr_assert_str_eq(err, "field 'gender' value '?' is not one of 'LP'", "message: %s", err);
    free(msg);
    codec_destroy(c);
}

Test(codec, decode_rejects_every_truncation)
{
    int ids[16];
    size_t nids = roster_ids(ids, 16);
    codec *c = codec_new(err, sizeof err);
    roster_change got;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    for (size_t v = 0; v < nids; v++) {
        for (size_t i = 0; i < nrecords; i++) {
            size_t len;
            unsigned char *msg = encode_copy(c, &records[i], ids[v], &len);
            for (size_t n = 0; n < len; n++) {
                /* A copy of exactly n bytes, so ASan sees any read past the end. */
                unsigned char *cut = malloc(n ? n : 1);
                cr_assert_not_null(cut, "out of memory");
                memcpy(cut, msg, n);
                cr_assert_eq(codec_decode_roster(c, cut, n, &got, NULL, err, sizeof err), -1,
                             "id %d record %zu: %zu of %zu bytes accepted", ids[v], i + 1, n, len);
                if (n >= 5)
                    cr_assert_not_null(strstr(err, "truncated avro body"),
                                       "%zu of %zu bytes: message: %s", n, len, err);
                else
                    cr_assert_not_null(strstr(err, "shorter than"), "%zu bytes: message: %s", n,
                                       err);
                free(cut);
            }
            cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), 0,
                         "whole message rejected after truncations: %s", err);
            free(msg);
        }
    }
    codec_destroy(c);
}

Test(codec, decode_rejects_trailing_bytes)
{
    codec *c = codec_new(err, sizeof err);
    roster_change got;
    size_t len;
    unsigned char *msg, *longer;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    msg = encode_copy(c, &records[4], 0, &len);
    longer = malloc(len + 1);
    cr_assert_not_null(longer, "out of memory");
    memcpy(longer, msg, len);
    longer[len] = 0;
    cr_assert_eq(codec_decode_roster(c, longer, len + 1, &got, NULL, err, sizeof err), -1,
                 "trailing byte accepted");
    cr_assert_not_null(strstr(err, "trailing"), "message: %s", err);
    free(longer);
    free(msg);
    codec_destroy(c);
}

/* Every single-byte corruption of every body byte: decoding may succeed or fail but must
 * not crash, and what it returns must be a well-formed record. */
Test(codec, decode_survives_corrupted_bytes)
{
    codec *c = codec_new(err, sizeof err);
    size_t rejected = 0, tried = 0;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    for (size_t i = 0; i < nrecords; i += 3) {
        size_t len;
        unsigned char *msg = encode_copy(c, &records[i], 0, &len);
        for (size_t pos = 5; pos < len; pos++) {
            unsigned char orig = msg[pos];
            for (int b = 0; b < 256; b++) {
                roster_change got;
                if (b == orig)
                    continue;
                msg[pos] = (unsigned char)b;
                tried++;
                if (codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err) != 0) {
                    rejected++;
                    cr_assert_gt(strlen(err), 0, "empty error message");
                    continue;
                }
                cr_assert_lt(strnlen(got.full_name, sizeof got.full_name), sizeof got.full_name,
                             "unterminated full_name");
                cr_assert_lt(strnlen(got.nik, sizeof got.nik), sizeof got.nik, "unterminated nik");
                cr_assert(got.change >= 0 && got.change < CHANGE__COUNT, "change %d", got.change);
                cr_assert(got.role >= ROLE_NONE && got.role < ROLE__COUNT, "role %d", got.role);
                cr_assert(got.institution >= INST_NONE && got.institution < INST__COUNT,
                          "institution %d", got.institution);
                cr_assert(got.gender == 0 || got.gender == 'L' || got.gender == 'P',
                          "gender %d", got.gender);
                cr_assert_eq(got.programs & ~7u, 0u, "programs 0x%x", got.programs);
            }
            msg[pos] = orig;
        }
        free(msg);
    }
    cr_assert_gt(rejected, 0, "no corruption detected out of %zu", tried);
    codec_destroy(c);
}

Test(codec, decode_does_not_accumulate_between_messages)
{
    codec *c = codec_new(err, sizeof err);
    roster_change a = {0}, b = {0}, got;
    size_t la, lb;
    unsigned char *ma, *mb;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    for (size_t i = 0; i < nrecords; i++) {
        if (records[i].programs == (PROG_JKK | PROG_JKM | PROG_JHT))
            a = records[i];
        if (records[i].programs == PROG_JHT)
            b = records[i];
    }
    cr_assert(a.programs && b.programs, "data needs JKK;JKM;JHT and JHT records");
    ma = encode_copy(c, &a, 0, &la);
    mb = encode_copy(c, &b, 0, &lb);
    cr_assert_eq(codec_decode_roster(c, ma, la, &got, NULL, err, sizeof err), 0, "decode: %s", err);
    cr_assert_eq(codec_decode_roster(c, mb, lb, &got, NULL, err, sizeof err), 0, "decode: %s", err);
    cr_assert_eq(got.programs, (unsigned)PROG_JHT, "programs 0x%x after reuse", got.programs);
    cr_assert_str_eq(got.full_name, b.full_name, "full_name '%s' leaked from first message",
                     got.full_name);
    free(ma);
    free(mb);
    codec_destroy(c);
}

/* Read the body of msg with avro-c and return the symbol name of an enum field. */
static const char *written_symbol(const unsigned char *msg, size_t len, const char *field)
{
    static char name[64];
    avro_schema_t s = catalog_schema((int)be32(msg + 1), err, sizeof err);
    avro_value_iface_t *iface = avro_generic_class_from_schema(s);
    avro_reader_t r = avro_reader_memory((const char *)msg + 5, (int64_t)(len - 5));
    avro_value_t v, f, br, *e = &f;
    int sym;

    cr_assert_not_null(iface, "class: %s", avro_strerror());
    cr_assert_eq(avro_generic_value_new(iface, &v), 0, "value: %s", avro_strerror());
    cr_assert_eq(avro_value_read(r, &v), 0, "read: %s", avro_strerror());
    cr_assert_eq(avro_value_get_by_name(&v, field, &f, NULL), 0, "no field %s", field);
    if (avro_value_get_type(&f) == AVRO_UNION) {
        cr_assert_eq(avro_value_get_current_branch(&f, &br), 0, "branch of %s", field);
        e = &br;
    }
    cr_assert_eq(avro_value_get_enum(e, &sym), 0, "enum of %s", field);
    snprintf(name, sizeof name, "%s", avro_schema_enum_get(avro_value_get_schema(e), sym));
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_reader_free(r);
    return name;
}

Test(codec, enums_and_fields_map_by_name)
{
    codec *c;

    load_records();
    add_reordered(NULL, NULL);
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    for (size_t i = 0; i < nrecords; i++) {
        size_t len;
        unsigned char *msg = encode_copy(c, &records[i], REORDERED_ID, &len);
        roster_change got;

        cr_assert_str_eq(written_symbol(msg, len, "change"), roster_change_name(records[i].change),
                         "record %zu: change written by ordinal", i + 1);
        if (records[i].fields & RF_ROLE)
            cr_assert_str_eq(written_symbol(msg, len, "role"), roster_role_name(records[i].role),
                             "record %zu: role written by ordinal", i + 1);
        if (records[i].fields & RF_INSTITUTION)
            cr_assert_str_eq(written_symbol(msg, len, "institution"),
                             roster_institution_name(records[i].institution),
                             "record %zu: institution written by ordinal", i + 1);
        cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), 0,
                     "record %zu: decode: %s", i + 1, err);
        assert_same(&records[i], &got, "reordered schema");
        free(msg);
    }
    codec_destroy(c);
}

Test(codec, unknown_symbol_is_an_error)
{
    codec *c;
    size_t len;
    unsigned char *msg;
    roster_change got;
    avro_value_iface_t *iface;
    avro_value_t v, f, br;
    avro_reader_t r;
    avro_writer_t w;

    load_records();
    add_reordered(NULL, NULL);
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert(records[0].fields & RF_ROLE, "record 1 needs a role");
    msg = encode_copy(c, &records[0], REORDERED_ID, &len);
    /* Rewrite role as FUTURE_ROLE (a symbol this program does not know). */
    iface = avro_generic_class_from_schema(catalog_schema(REORDERED_ID, err, sizeof err));
    cr_assert_eq(avro_generic_value_new(iface, &v), 0, "value: %s", avro_strerror());
    r = avro_reader_memory((const char *)msg + 5, (int64_t)(len - 5));
    cr_assert_eq(avro_value_read(r, &v), 0, "read: %s", avro_strerror());
    cr_assert_eq(avro_value_get_by_name(&v, "role", &f, NULL), 0, "no role");
    cr_assert_eq(avro_value_get_current_branch(&f, &br), 0, "no role branch");
    cr_assert_eq(avro_value_set_enum(&br, avro_schema_enum_get_by_name(avro_value_get_schema(&br),
                                                                        "FUTURE_ROLE")), 0,
                 "set_enum");
    w = avro_writer_memory((const char *)msg + 5, (int64_t)(len - 5));
    cr_assert_eq(avro_value_write(w, &v), 0, "write: %s", avro_strerror());
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), -1,
                 "unknown role symbol accepted");
    cr_assert_not_null(strstr(err, "FUTURE_ROLE"), "message should name the symbol: %s", err);
    avro_writer_free(w);
    avro_reader_free(r);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    free(msg);
    codec_destroy(c);
}

Test(codec, missing_field_takes_reader_default)
{
    codec *c;
    size_t len;
    unsigned char *msg;
    roster_change got;
    int v1 = 0;

    load_records();
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++)
        if (strcmp(e->subject, CODEC_ROSTER_SUBJECT) == 0 && !schema_has(e->id, "phone"))
            v1 = e->id;
    cr_assert_gt(v1, 0, "no roster version without phone");
    add_reordered(NULL, NULL);
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    msg = encode_copy(c, &records[0], v1, &len);
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), 0,
                 "decode: %s", err);
    cr_assert_str_eq(got.phone, "unknown", "phone '%s', want the reader default", got.phone);
    cr_assert(got.fields & RF_PHONE, "non-null default must set RF_PHONE");
    free(msg);
    codec_destroy(c);
}

Test(codec, missing_field_without_default_is_an_error)
{
    codec *c;
    size_t len;
    unsigned char *msg;
    roster_change got;
    int v1 = 0;

    load_records();
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++)
        if (strcmp(e->subject, CODEC_ROSTER_SUBJECT) == 0 && !schema_has(e->id, "phone"))
            v1 = e->id;
    cr_assert_gt(v1, 0, "no roster version without phone");
    add_reordered("\"type\": [\"string\", \"null\"], \"default\": \"unknown\"", "\"type\": \"string\"");
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    msg = encode_copy(c, &records[0], v1, &len);
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), -1,
                 "missing field without default accepted");
    cr_assert_not_null(strstr(err, "'phone'"), "message should name phone: %s", err);
    free(msg);
    codec_destroy(c);
}

Test(codec, destroy_accepts_null)
{
    codec_destroy(NULL);
    cr_assert(1, "codec_destroy(NULL) returned");
}

Test(codec, unknown_writer_field_is_written_with_its_default)
{
    codec *c;
    size_t len, size;
    unsigned char *msg;
    avro_value_iface_t *iface;
    avro_value_t v, f;
    avro_reader_t r;
    const char *note;

    load_records();
    add_reordered(NULL, NULL);
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    msg = encode_copy(c, &records[0], REORDERED_ID, &len);
    iface = avro_generic_class_from_schema(catalog_schema(REORDERED_ID, err, sizeof err));
    cr_assert_eq(avro_generic_value_new(iface, &v), 0, "value: %s", avro_strerror());
    r = avro_reader_memory((const char *)msg + 5, (int64_t)(len - 5));
    cr_assert_eq(avro_value_read(r, &v), 0, "read: %s", avro_strerror());
    cr_assert_eq(avro_value_get_by_name(&v, "note", &f, NULL), 0, "no note field");
    cr_assert_eq(avro_value_get_string(&f, &note, &size), 0, "note not a string");
    cr_assert_str_eq(note, "n/a", "note '%s', want the schema default", note);
    avro_reader_free(r);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    free(msg);
    codec_destroy(c);
}

Test(codec, unknown_writer_field_without_default_refuses_encoding)
{
    codec *c;
    const void *out;
    size_t len;

    load_records();
    add_reordered("\"type\": \"string\", \"default\": \"n/a\"", "\"type\": \"string\"");
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_eq(codec_encode_roster(c, &records[0], REORDERED_ID, &out, &len, err, sizeof err),
                 -1, "encoded a field it cannot fill");
    cr_assert_not_null(strstr(err, "'note'"), "message should name note: %s", err);
    codec_destroy(c);
}

/* ---- Incident ---- */

#define MAX_INCIDENTS 8

/* The rows of data/incidents_ok.csv, parsed by incident_row_parse, with an event id,
 * source and time as the producer would stamp them. */
static size_t load_incidents(incident *out, size_t max)
{
    FILE *f = fopen("data/incidents_ok.csv", "r");
    rowsrc *rs;
    const rowsrc_row *row;
    size_t n = 0;
    int r;

    cr_assert_not_null(f, "cannot open data/incidents_ok.csv (run from tests/unit)");
    rs = rowsrc_new(f, "incidents_ok.csv", ROWSRC_CSV, err, sizeof err);
    cr_assert_not_null(rs, "rowsrc_new: %s", err);
    while ((r = rowsrc_next(rs, &row, err, sizeof err)) != 0) {
        cr_assert_eq(r, 1, "row: %s", err);
        cr_assert_lt(n, max, "too many incidents in data file");
        incident_init(&out[n]);
        cr_assert_eq(incident_row_parse(row, "incidents_ok.csv", 0, &out[n], err, sizeof err), 0,
                     "parse: %s", err);
        snprintf(out[n].source, sizeof out[n].source, "dc-%zu", n);
        out[n].event_time_us = 1700000000000000 + (int64_t)n;
        incident_event_id(&out[n]);
        n++;
    }
    rowsrc_destroy(rs);
    fclose(f);
    cr_assert_gt(n, 0, "no incidents loaded");
    return n;
}

static void assert_same_incident(const incident *want, const incident *got, const char *ctx)
{
    cr_assert_str_eq(got->event_id, want->event_id, "%s: event_id '%s'", ctx, got->event_id);
    cr_assert_str_eq(got->source, want->source, "%s: source '%s'", ctx, got->source);
    cr_assert_eq(got->event_time_us, want->event_time_us, "%s: event_time", ctx);
    cr_assert_eq(got->fields, want->fields, "%s: fields 0x%x, want 0x%x", ctx, got->fields, want->fields);
    cr_assert_str_eq(got->report_id, want->report_id, "%s: report_id '%s'", ctx, got->report_id);
    cr_assert_str_eq(got->nik, want->nik, "%s: nik '%s'", ctx, got->nik);
    cr_assert_eq(got->type, want->type, "%s: type %d", ctx, got->type);
    cr_assert_eq(got->occurred_at_us, want->occurred_at_us, "%s: occurred_at", ctx);
    cr_assert_eq(got->reported_at_us, want->reported_at_us, "%s: reported_at %lld", ctx,
                 (long long)got->reported_at_us);
    cr_assert_str_eq(got->region_code, want->region_code, "%s: region '%s'", ctx, got->region_code);
    cr_assert_eq(got->circumstance, want->circumstance, "%s: circumstance %d", ctx, got->circumstance);
    cr_assert_eq(got->cause, want->cause, "%s: cause %d", ctx, got->cause);
    cr_assert_eq(got->severity, want->severity, "%s: severity %d", ctx, got->severity);
    cr_assert_str_eq(got->description, want->description, "%s: description", ctx);
    cr_assert_eq(got->reporter_institution, want->reporter_institution, "%s: reporter %d", ctx,
                 got->reporter_institution);
    cr_assert_str_eq(got->reporter_name, want->reporter_name, "%s: reporter_name", ctx);
    cr_assert_str_eq(got->reporter_phone, want->reporter_phone, "%s: reporter_phone", ctx);
}

static size_t subject_ids(const char *subject, int *ids, size_t max)
{
    size_t n = 0;

    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++)
        if (strcmp(e->subject, subject) == 0 && n < max)
            ids[n++] = e->id;
    return n;
}

/* One record type for round_trip: encode/decode through the typed API, compare. */
struct rt_type {
    const char *subject;
    size_t size;
    int (*encode)(codec *c, const void *rec, int id, const void **out, size_t *len);
    int (*decode)(codec *c, const void *data, size_t len, void *rec, int *id);
    void (*same)(const void *want, const void *got, const char *ctx);
};

/* Encode every record with every catalog version of the type's subject and decode it back. */
static void round_trip(const struct rt_type *t, const void *recs, size_t n)
{
    int ids[16];
    size_t nids = subject_ids(t->subject, ids, 16);
    codec *c = codec_new(err, sizeof err), *generic = codec_new(err, sizeof err);
    void *got = malloc(t->size), *again = malloc(t->size);
    unsigned long decodes = 0;

    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_not_null(generic, "codec_new: %s", err);
    cr_assert(got && again, "out of memory");
    codec_set_direct(generic, 0);
    cr_assert_gt(nids, 0, "catalog has no '%s' schema", t->subject);
    for (size_t v = 0; v < nids; v++) {
        for (size_t i = 0; i < n; i++) {
            const void *want = (const char *)recs + i * t->size, *out;
            size_t len;
            int id = 0;
            char ctx[64];

            snprintf(ctx, sizeof ctx, "schema %d record %zu", ids[v], i + 1);
            cr_assert_eq(t->encode(c, want, ids[v], &out, &len), 0, "%s: encode: %s", ctx, err);
            cr_assert_eq(be32((const unsigned char *)out + 1), (uint32_t)ids[v], "%s: header id", ctx);
            memset(got, 0x5a, t->size);
            cr_assert_eq(t->decode(c, out, len, got, &id), 0, "%s: decode: %s", ctx, err);
            decodes++;
            cr_assert_eq(id, ids[v], "%s: schema id %d", ctx, id);
            t->same(want, got, ctx);
            /* avro-c's path reads the same bytes into the very same record. */
            memset(again, 0xa5, t->size);
            cr_assert_eq(t->decode(generic, out, len, again, &id), 0, "%s: avro-c: %s", ctx, err);
            cr_assert_eq(memcmp(got, again, t->size), 0, "%s: direct and avro-c records differ", ctx);
        }
    }
    /* Every catalog version's fields are the record's: the direct pass read them all. */
    cr_assert_eq(codec_direct_count(c), decodes, "%s: %lu of %lu decodes direct", t->subject,
                 codec_direct_count(c), decodes);
    cr_assert_eq(codec_direct_count(generic), 0, "direct decodes with the direct pass off");
    free(got);
    free(again);
    codec_destroy(c);
    codec_destroy(generic);
}

/* The adapters and the round-trip test of one record type: every record of its data file,
 * encoded with every catalog version of its subject and decoded back. */
#define ROUND_TRIP_TEST(tag, type, subject, encode_fn, decode_fn, same_fn, load_fn, max)        \
    static int rt_encode_##tag(codec *c, const void *rec, int id, const void **out, size_t *len) \
    {                                                                                          \
        return encode_fn(c, rec, id, out, len, err, sizeof err);                               \
    }                                                                                          \
    static int rt_decode_##tag(codec *c, const void *data, size_t len, void *rec, int *id)     \
    {                                                                                          \
        return decode_fn(c, data, len, rec, id, err, sizeof err);                              \
    }                                                                                          \
    static void rt_same_##tag(const void *want, const void *got, const char *ctx)              \
    {                                                                                          \
        same_fn(want, got, ctx);                                                               \
    }                                                                                          \
    static const struct rt_type rt_##tag = {subject, sizeof(type), rt_encode_##tag,            \
                                            rt_decode_##tag, rt_same_##tag};                   \
    Test(codec, round_trip_every_##tag##_version)                                              \
    {                                                                                          \
        type want[max];                                                                        \
        size_t n = load_fn(want, max);                                                         \
        round_trip(&rt_##tag, want, n);                                                        \
    }

ROUND_TRIP_TEST(incident, incident, CODEC_INCIDENT_SUBJECT, codec_encode_incident,
                codec_decode_incident, assert_same_incident, load_incidents, MAX_INCIDENTS)

Test(codec, incident_absent_optionals_are_null_and_come_back_absent)
{
    incident want[MAX_INCIDENTS], got;
    size_t n = load_incidents(want, MAX_INCIDENTS);
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len;

    cr_assert_not_null(c, "codec_new: %s", err);
    for (size_t i = 0; i < n; i++) {
        incident bare = want[i];
        /* A bit set over a none value is absent too. */
        bare.fields = IF_CAUSE | IF_SEVERITY | IF_REPORTED_AT;
        bare.cause = CAUSE_NONE;
        bare.severity = SEVERITY_NONE;
        bare.reported_at_us = TIME_NONE;
        cr_assert_eq(codec_encode_incident(c, &bare, 0, &out, &len, err, sizeof err), 0, "encode: %s", err);
        cr_assert_eq(codec_decode_incident(c, out, len, &got, NULL, err, sizeof err), 0, "decode: %s", err);
        cr_assert_eq(got.fields, 0u, "incident %zu: fields 0x%x", i + 1, got.fields);
        cr_assert_eq(got.cause, CAUSE_NONE, "incident %zu: cause %d", i + 1, got.cause);
        cr_assert_eq(got.severity, SEVERITY_NONE, "incident %zu: severity %d", i + 1, got.severity);
        cr_assert_eq(got.reported_at_us, TIME_NONE, "incident %zu: reported_at", i + 1);
        cr_assert_str_eq(got.description, "", "incident %zu: description '%s'", i + 1, got.description);
    }
    codec_destroy(c);
}

Test(codec, incident_long_description_grows_the_buffer)
{
    incident want[MAX_INCIDENTS], got;
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len;

    load_incidents(want, MAX_INCIDENTS);
    cr_assert_not_null(c, "codec_new: %s", err);
    for (size_t i = 0; i < sizeof want[0].description - 1; i++)
        want[0].description[i] = (char)('a' + i % 26);
    want[0].description[sizeof want[0].description - 1] = '\0';
    want[0].fields |= IF_DESCRIPTION;
    cr_assert_eq(codec_encode_incident(c, &want[0], 0, &out, &len, err, sizeof err), 0, "encode: %s", err);
    cr_assert_gt(len, sizeof want[0].description, "encoded %zu bytes", len);
    cr_assert_eq(codec_decode_incident(c, out, len, &got, NULL, err, sizeof err), 0, "decode: %s", err);
    assert_same_incident(&want[0], &got, "long description");
    codec_destroy(c);
}

Test(codec, incident_encode_rejects_missing_required_and_bad_values)
{
    incident want[MAX_INCIDENTS], bad;
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len;

    load_incidents(want, MAX_INCIDENTS);
    cr_assert_not_null(c, "codec_new: %s", err);
    bad = want[0];
    bad.type = INCIDENT_TYPE_NONE;
    cr_assert_eq(codec_encode_incident(c, &bad, 0, &out, &len, err, sizeof err), -1, "type NONE accepted");
    cr_assert_not_null(strstr(err, "'type'"), "message should name type: %s", err);
    bad = want[0];
    bad.severity = SEVERITY__COUNT;
    bad.fields |= IF_SEVERITY;
    cr_assert_eq(codec_encode_incident(c, &bad, 0, &out, &len, err, sizeof err), -1,
                 "out-of-range severity accepted");
    cr_assert_not_null(strstr(err, "severity"), "message should name severity: %s", err);
    bad = want[0];
    memset(bad.region_code, '7', sizeof bad.region_code);
    cr_assert_eq(codec_encode_incident(c, &bad, 0, &out, &len, err, sizeof err), -1,
                 "unterminated region accepted");
    cr_assert_not_null(strstr(err, "region_code"), "message should name region_code: %s", err);
    cr_assert_eq(codec_encode_incident(c, &want[0], 1, &out, &len, err, sizeof err), -1,
                 "roster schema id used for an incident");
    cr_assert_not_null(strstr(err, CODEC_ROSTER_SUBJECT), "message: %s", err);
    codec_destroy(c);
}

Test(codec, incident_decode_rejects_foreign_ids_and_truncation)
{
    incident want[MAX_INCIDENTS], got;
    codec *c = codec_new(err, sizeof err);
    const void *out;
    unsigned char *msg;
    roster_change rc;
    size_t len;

    load_incidents(want, MAX_INCIDENTS);
    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_eq(codec_encode_incident(c, &want[0], 0, &out, &len, err, sizeof err), 0, "encode: %s", err);
    msg = malloc(len);
    cr_assert_not_null(msg, "out of memory");
    memcpy(msg, out, len);
    cr_assert_eq(codec_decode_roster(c, msg, len, &rc, NULL, err, sizeof err), -1,
                 "incident decoded as a roster change");
    cr_assert_not_null(strstr(err, CODEC_INCIDENT_SUBJECT), "message: %s", err);
    cr_assert_eq(codec_decode_claim_event(c, msg, len, &(claim_event){0}, NULL, err, sizeof err), -1,
                 "incident decoded as a claim event");
    for (size_t cut = 0; cut < len; cut++)
        cr_assert_eq(codec_decode_incident(c, msg, cut, &got, NULL, err, sizeof err), -1,
                     "truncated to %zu of %zu bytes accepted", cut, len);
    cr_assert_eq(codec_decode_incident(c, msg, len, &got, NULL, err, sizeof err), 0,
                 "whole message after truncations: %s", err);
    free(msg);
    codec_destroy(c);
}

/* ---- ClaimEvent ---- */

#define MAX_CLAIMS 8

static void set_claim_field(claim_event *ev, const char *key, const char *val)
{
    int k;

    if (strcmp(key, "event_id") == 0) {
        copy_str(ev->event_id, sizeof ev->event_id, val, key);
    } else if (strcmp(key, "claim_id") == 0) {
        copy_str(ev->claim_id, sizeof ev->claim_id, val, key);
    } else if (strcmp(key, "incident_id") == 0) {
        copy_str(ev->incident_id, sizeof ev->incident_id, val, key);
    } else if (strcmp(key, "nik") == 0) {
        copy_str(ev->nik, sizeof ev->nik, val, key);
    } else if (strcmp(key, "program") == 0) {
        cr_assert_geq(k = claim_program_parse(val), 0, "bad program '%s'", val);
        ev->program = (claim_program)k;
    } else if (strcmp(key, "benefit") == 0) {
        cr_assert_geq(k = claim_benefit_parse(val), 0, "bad benefit '%s'", val);
        ev->benefit = (claim_benefit)k;
    } else if (strcmp(key, "from_status") == 0) {
        cr_assert_geq(k = claim_status_parse(val), 0, "bad status '%s'", val);
        ev->from_status = (claim_status)k;
        ev->fields |= CF_FROM_STATUS;
    } else if (strcmp(key, "to_status") == 0) {
        cr_assert_geq(k = claim_status_parse(val), 0, "bad status '%s'", val);
        ev->to_status = (claim_status)k;
    } else if (strcmp(key, "kind") == 0) {
        cr_assert_geq(k = claim_event_kind_parse(val), 0, "bad kind '%s'", val);
        ev->kind = (claim_event_kind)k;
    } else if (strcmp(key, "amount_idr") == 0) {
        ev->amount_idr = strtoll(val, NULL, 10);
        ev->fields |= CF_AMOUNT;
    } else if (strcmp(key, "benefit_table_version") == 0) {
        copy_str(ev->benefit_table_version, sizeof ev->benefit_table_version, val, key);
        ev->fields |= CF_TABLE_VERSION;
    } else if (strcmp(key, "reason") == 0) {
        copy_str(ev->reason, sizeof ev->reason, val, key);
    } else if (strcmp(key, "actor") == 0) {
        copy_str(ev->actor, sizeof ev->actor, val, key);
    } else if (strcmp(key, "source") == 0) {
        copy_str(ev->source, sizeof ev->source, val, key);
    } else if (strcmp(key, "payment_reference") == 0) {
        copy_str(ev->payment_reference, sizeof ev->payment_reference, val, key);
        ev->fields |= CF_PAYMENT_REF;
    } else if (strcmp(key, "late_report") == 0) {
        ev->late_report = atoi(val);
    } else if (strcmp(key, "event_time") == 0) {
        cr_assert_eq(dates_parse_timestamp(val, &ev->event_time_us), 0, "bad time '%s'", val);
    } else {
        cr_assert_fail("unknown key '%s' in data/claim_events.txt", key);
    }
}

static void init_claim_any(void *r) { claim_event_init(r); }
static void set_claim_any(void *r, const char *k, const char *v) { set_claim_field(r, k, v); }

static size_t load_claims(claim_event *out, size_t max)
{
    return settings_load("data/claim_events.txt", out, sizeof *out, max, init_claim_any,
                         set_claim_any);
}

static void assert_same_claim(const claim_event *want, const claim_event *got, const char *ctx)
{
    cr_assert_str_eq(got->event_id, want->event_id, "%s: event_id", ctx);
    cr_assert_str_eq(got->claim_id, want->claim_id, "%s: claim_id '%s'", ctx, got->claim_id);
    cr_assert_str_eq(got->incident_id, want->incident_id, "%s: incident_id", ctx);
    cr_assert_str_eq(got->nik, want->nik, "%s: nik", ctx);
    cr_assert_eq(got->fields, want->fields, "%s: fields 0x%x, want 0x%x", ctx, got->fields, want->fields);
    cr_assert_eq(got->program, want->program, "%s: program %d", ctx, got->program);
    cr_assert_eq(got->benefit, want->benefit, "%s: benefit %d", ctx, got->benefit);
    cr_assert_eq(got->from_status, want->from_status, "%s: from_status %d", ctx, got->from_status);
    cr_assert_eq(got->to_status, want->to_status, "%s: to_status %d", ctx, got->to_status);
    cr_assert_eq(got->kind, want->kind, "%s: kind %d", ctx, got->kind);
    cr_assert_eq(got->amount_idr, want->amount_idr, "%s: amount %lld", ctx, (long long)got->amount_idr);
    cr_assert_str_eq(got->benefit_table_version, want->benefit_table_version, "%s: table version", ctx);
    cr_assert_str_eq(got->reason, want->reason, "%s: reason", ctx);
    cr_assert_str_eq(got->actor, want->actor, "%s: actor", ctx);
    cr_assert_str_eq(got->payment_reference, want->payment_reference, "%s: payment_reference", ctx);
    cr_assert_eq(got->late_report, want->late_report, "%s: late_report %d", ctx, got->late_report);
    cr_assert_eq(got->event_time_us, want->event_time_us, "%s: event_time", ctx);
}

ROUND_TRIP_TEST(claim_event, claim_event, CODEC_CLAIM_SUBJECT, codec_encode_claim_event,
                codec_decode_claim_event, assert_same_claim, load_claims, MAX_CLAIMS)

Test(codec, claim_event_statuses_map_by_name_through_the_named_type)
{
    claim_event want[MAX_CLAIMS], got;
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len;

    load_claims(want, MAX_CLAIMS);
    cr_assert_not_null(c, "codec_new: %s", err);
    /* to_status refers to the ClaimStatus enum declared by from_status: every status
     * must survive in both places. */
    for (int s = 0; s < CLAIM_STATUS__COUNT; s++) {
        claim_event ev = want[1];
        ev.from_status = (claim_status)s;
        ev.to_status = (claim_status)(CLAIM_STATUS__COUNT - 1 - s);
        cr_assert_eq(codec_encode_claim_event(c, &ev, 0, &out, &len, err, sizeof err), 0, "encode: %s", err);
        cr_assert_eq(codec_decode_claim_event(c, out, len, &got, NULL, err, sizeof err), 0, "decode: %s", err);
        cr_assert_str_eq(claim_status_name(got.from_status), claim_status_name(ev.from_status),
                         "from_status of status %d", s);
        cr_assert_str_eq(claim_status_name(got.to_status), claim_status_name(ev.to_status),
                         "to_status of status %d", s);
    }
    codec_destroy(c);
}

Test(codec, claim_event_encode_rejects_missing_required)
{
    claim_event want[MAX_CLAIMS], bad;
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len;

    load_claims(want, MAX_CLAIMS);
    cr_assert_not_null(c, "codec_new: %s", err);
    bad = want[0];
    bad.to_status = CLAIM_STATUS_NONE;
    cr_assert_eq(codec_encode_claim_event(c, &bad, 0, &out, &len, err, sizeof err), -1,
                 "to_status NONE accepted");
    cr_assert_not_null(strstr(err, "to_status"), "message should name to_status: %s", err);
    bad = want[0];
    bad.kind = CLAIM_EVENT_KIND__COUNT;
    cr_assert_eq(codec_encode_claim_event(c, &bad, 0, &out, &len, err, sizeof err), -1,
                 "out-of-range kind accepted");
    cr_assert_not_null(strstr(err, "kind"), "message should name kind: %s", err);
    codec_destroy(c);
}

/* ---- the plan encoder against avro-c ---- */

/* Encode rec, a record of subject's type, with the codec (its plan encoder). */
static int plan_encode(codec *c, const char *subject, const void *rec, int id, const void **out,
                       size_t *len, char *errstr, size_t errstr_size)
{
    if (strcmp(subject, CODEC_ROSTER_SUBJECT) == 0)
        return codec_encode_roster(c, rec, id, out, len, errstr, errstr_size);
    if (strcmp(subject, CODEC_INCIDENT_SUBJECT) == 0)
        return codec_encode_incident(c, rec, id, out, len, errstr, errstr_size);
    if (strcmp(subject, CODEC_CLAIM_SUBJECT) == 0)
        return codec_encode_claim_event(c, rec, id, out, len, errstr, errstr_size);
    cr_assert_str_eq(subject, CODEC_COVERAGE_SUBJECT, "no encoder for subject '%s'", subject);
    return codec_encode_coverage_change(c, rec, id, out, len, errstr, errstr_size);
}

/* Encode rec, a record of subject's type, with the avro-c reference encoder and with the
 * plan: both must succeed and write the same bytes. Returns the reference's message
 * (malloc'd). */
static unsigned char *same_bytes(codec *c, const char *subject, const void *rec, int id,
                                 const char *ctx, size_t *len)
{
    const void *out;
    unsigned char *ref;
    size_t ref_len;

    cr_assert_eq(avro_ref_encode(subject, id, rec, &ref, &ref_len, err, sizeof err), 0,
                 "%s: avro-c encode: %s", ctx, err);
    /* Encode once and poison what the codec wrote: the second encoding of the same record
     * lands on those bytes, so none left from an earlier message can pass for one the
     * plan failed to write. */
    cr_assert_eq(plan_encode(c, subject, rec, id, &out, len, err, sizeof err), 0,
                 "%s: plan encode: %s", ctx, err);
    memset((void *)out, 0xa5, *len);
    cr_assert_eq(plan_encode(c, subject, rec, id, &out, len, err, sizeof err), 0,
                 "%s: plan encode: %s", ctx, err);
    cr_assert_eq(*len, ref_len, "%s: plan wrote %zu bytes, avro-c %zu", ctx, *len, ref_len);
    for (size_t i = 0; i < ref_len; i++)
        cr_assert_eq(((const unsigned char *)out)[i], ref[i], "%s: byte %zu is 0x%02x, "
                     "avro-c wrote 0x%02x", ctx, i, ((const unsigned char *)out)[i], ref[i]);
    return ref;
}

/* same_bytes, then decode the message and compare with want. */
static void same_bytes_round_trip(codec *c, const roster_change *rc, int id, const char *ctx)
{
    size_t len;
    unsigned char *msg = same_bytes(c, CODEC_ROSTER_SUBJECT, rc, id, ctx, &len);
    roster_change want = *rc, got;

    cr_assert_eq(codec_decode_roster(c, msg, len, &got, NULL, err, sizeof err), 0,
                 "%s: decode: %s", ctx, err);
    if (!schema_has(id, "phone")) {
        want.phone[0] = '\0';
        want.fields &= ~(unsigned)RF_PHONE;
    }
    assert_same(&want, &got, ctx);
    free(msg);
}

/* Every roster schema id of the catalog plus the test-only reordered one, which has a
 * writer-only field with a default and a [string, null] union. Call it after codec_new,
 * so the catalog's latest version stays the codec's reader schema. */
static size_t plan_roster_ids(int *ids, size_t max)
{
    size_t n = roster_ids(ids, max - 1);

    add_reordered(NULL, NULL);
    ids[n++] = REORDERED_ID;
    return n;
}

/* rc with its required fields only: every optional field absent. */
static roster_change bare_roster(const roster_change *rc)
{
    roster_change b;

    roster_change_init(&b);
    memcpy(b.event_id, rc->event_id, sizeof b.event_id);
    memcpy(b.source, rc->source, sizeof b.source);
    memcpy(b.nik, rc->nik, sizeof b.nik);
    b.event_time_us = rc->event_time_us;
    b.change = rc->change;
    return b;
}

Test(codec_plan, same_bytes_as_avro_c_for_every_record_and_roster_version)
{
    int ids[16];
    size_t nids;
    codec *c;

    load_records();
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    nids = plan_roster_ids(ids, 16);
    for (size_t v = 0; v < nids; v++) {
        for (size_t i = 0; i < nrecords; i++) {
            roster_change bare = bare_roster(&records[i]);
            char ctx[80];

            snprintf(ctx, sizeof ctx, "schema id %d, record %zu", ids[v], i + 1);
            same_bytes_round_trip(c, &records[i], ids[v], ctx);
            snprintf(ctx, sizeof ctx, "schema id %d, record %zu without optionals", ids[v], i + 1);
            same_bytes_round_trip(c, &bare, ids[v], ctx);
        }
    }
    codec_destroy(c);
}

Test(codec_plan, same_bytes_as_avro_c_for_every_enum_symbol)
{
    int ids[16];
    size_t nids;
    codec *c;

    load_records();
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    nids = plan_roster_ids(ids, 16);
    for (size_t v = 0; v < nids; v++) {
        char ctx[80];

        for (int k = 0; k < CHANGE__COUNT; k++) {
            roster_change rc = records[0];
            rc.change = (roster_change_kind)k;
            snprintf(ctx, sizeof ctx, "schema id %d, change %s", ids[v], roster_change_name(rc.change));
            same_bytes_round_trip(c, &rc, ids[v], ctx);
        }
        for (int k = 0; k < INST__COUNT; k++) {
            roster_change rc = records[0];
            rc.institution = (roster_institution)k;
            snprintf(ctx, sizeof ctx, "schema id %d, institution %d", ids[v], k);
            same_bytes_round_trip(c, &rc, ids[v], ctx);
        }
        for (int k = 0; k < ROLE__COUNT; k++) {
            roster_change rc = records[0];
            rc.role = (roster_role)k;
            snprintf(ctx, sizeof ctx, "schema id %d, role %s", ids[v], roster_role_name(rc.role));
            same_bytes_round_trip(c, &rc, ids[v], ctx);
        }
        for (unsigned set = 1; set < 8; set++) {
            roster_change rc = records[0];
            rc.programs = set;
            rc.fields |= RF_PROGRAMS;
            snprintf(ctx, sizeof ctx, "schema id %d, programs 0x%x", ids[v], set);
            same_bytes_round_trip(c, &rc, ids[v], ctx);
        }
    }
    codec_destroy(c);
}

/* n bytes of text and a NUL at dst: letters with a two-byte UTF-8 character every 4 bytes. */
static void fill_text(char *dst, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (i % 4 == 0 && n - i >= 2) {
            dst[i++] = '\xc3';        /* U+00F1 */
            dst[i++] = '\xb1';
        } else {
            dst[i] = (char)('a' + i % 26);
            i++;
        }
    }
    dst[n] = '\0';
}

/* Lengths around the varint limits of string lengths (63 | 64 zig-zag to 1 | 2 bytes). */
static const size_t edge_lengths[] = {0, 1, 62, 63, 64, 65, 99, 100};
/* Numbers around varint and sign limits. */
static const int64_t edge_longs[] = {
    0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1,
    (int64_t)INT32_MIN - 1, INT64_MAX, INT64_MIN + 1, -1700000000000000,
};

Test(codec_plan, same_bytes_as_avro_c_for_edge_numbers_and_long_strings)
{
    int ids[16];
    size_t nids, nlongs = sizeof edge_longs / sizeof edge_longs[0], cases = 0;
    codec *c;

    load_records();
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    nids = plan_roster_ids(ids, 16);
    for (size_t v = 0; v < nids; v++) {
        for (size_t k = 0; k < nlongs; k++) {
            int64_t x = edge_longs[k];
            /* Clamped into int, never DATE_NONE (INT32_MIN), which would mean absent. */
            int32_t x32 = x <= INT32_MIN ? INT32_MIN + 1 : x > INT32_MAX ? INT32_MAX : (int32_t)x;
            roster_change rc = records[0];
            char ctx[80];

            rc.event_time_us = x;
            rc.monthly_wage = x;
            rc.birth_date = rc.term_start = rc.term_end = rc.effective_date = x32;
            rc.tps = x32 ? x32 : 1;
            rc.fields |= RF_EFFECTIVE | RF_TPS;
            snprintf(ctx, sizeof ctx, "schema id %d, number %lld", ids[v], (long long)x);
            same_bytes_round_trip(c, &rc, ids[v], ctx);
            cases++;
        }
        for (size_t k = 0; k < sizeof edge_lengths / sizeof edge_lengths[0]; k++) {
            roster_change rc = records[5];
            size_t n = edge_lengths[k];
            char ctx[80];

            cr_assert_lt(n, sizeof rc.full_name, "edge length %zu too long for full_name", n);
            fill_text(rc.full_name, n);
            snprintf(ctx, sizeof ctx, "schema id %d, full_name of %zu bytes", ids[v], n);
            same_bytes_round_trip(c, &rc, ids[v], ctx);
            cases++;
        }
    }
    cr_assert_gt(cases, nids, "no edge cases ran");
    codec_destroy(c);
}

/* Both encoders refuse rec, a record of subject's type, with the same message. */
static void same_refusal(codec *c, const char *subject, const void *rec, int id,
                         const char *ctx)
{
    const void *out;
    unsigned char *ref = NULL;
    size_t len;
    char ref_err[512];

    cr_assert_eq(avro_ref_encode(subject, id, rec, &ref, &len, ref_err, sizeof ref_err), -1,
                 "%s: avro-c accepted it", ctx);
    cr_assert_eq(plan_encode(c, subject, rec, id, &out, &len, err, sizeof err), -1,
                 "%s: plan accepted it", ctx);
    cr_assert_str_eq(err, ref_err, "%s: plan says '%s', avro-c '%s'", ctx, err, ref_err);
}

Test(codec_plan, refuses_bad_roster_values_like_avro_c)
{
    codec *c = codec_new(err, sizeof err);
    roster_change rc;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    rc = records[0];
    rc.role = (roster_role)ROLE__COUNT;
    same_refusal(c, CODEC_ROSTER_SUBJECT, &rc, 0, "role out of range");
    rc = records[0];
    rc.change = (roster_change_kind)-1;
    same_refusal(c, CODEC_ROSTER_SUBJECT, &rc, 0, "change -1");
    rc = records[0];
    memset(rc.nik, '7', sizeof rc.nik);
    same_refusal(c, CODEC_ROSTER_SUBJECT, &rc, 0, "unterminated nik");
    rc = records[0];
    memset(rc.full_name, 'x', sizeof rc.full_name);
    same_refusal(c, CODEC_ROSTER_SUBJECT, &rc, 0, "unterminated full_name");
    rc = records[0];
    rc.programs = 8;
    same_refusal(c, CODEC_ROSTER_SUBJECT, &rc, 0, "unknown program bit");
    codec_destroy(c);
}

Test(codec_plan, value_without_a_symbol_in_the_writer_refuses_like_avro_c)
{
    codec *c;
    roster_change rc;
    size_t len;

    load_records();
    add_reordered("\"symbols\": [\"BAWASLU\", \"KPU\"]", "\"symbols\": [\"KPU\"]");
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    rc = records[0];
    rc.institution = INST_BAWASLU;
    rc.fields |= RF_INSTITUTION;
    same_refusal(c, CODEC_ROSTER_SUBJECT, &rc, REORDERED_ID, "institution BAWASLU");
    cr_assert_not_null(strstr(err, "'BAWASLU'"), "message should name the value: %s", err);
    rc.institution = INST_KPU;
    free(same_bytes(c, CODEC_ROSTER_SUBJECT, &rc, REORDERED_ID, "institution KPU", &len));
    codec_destroy(c);
}

Test(codec_plan, writer_only_field_whose_default_does_not_fit_refuses_like_avro_c)
{
    codec *c;

    load_records();
    add_reordered("\"default\": \"n/a\"", "\"default\": 7");
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    same_refusal(c, CODEC_ROSTER_SUBJECT, &records[0], REORDERED_ID, "note default 7");
    cr_assert_not_null(strstr(err, "'note'"), "message should name note: %s", err);
    codec_destroy(c);
}

Test(codec_plan, writer_only_field_without_default_refuses_like_avro_c)
{
    codec *c;

    load_records();
    add_reordered("\"type\": \"string\", \"default\": \"n/a\"", "\"type\": \"string\"");
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    same_refusal(c, CODEC_ROSTER_SUBJECT, &records[0], REORDERED_ID, "note without default");
    codec_destroy(c);
}

Test(codec_plan, optional_field_the_writer_requires_refuses_like_avro_c)
{
    codec *c = codec_new(err, sizeof err);
    size_t len;
    unsigned char *msg;

    cr_assert_not_null(c, "codec_new: %s", err);
    load_records();
    add_reordered("[\"string\", \"null\"], \"default\": \"unknown\"",
                  "[\"string\"], \"default\": \"unknown\"");
    cr_assert_eq(records[1].fields & RF_PHONE, 0u, "record 2 must lack a phone");
    same_refusal(c, CODEC_ROSTER_SUBJECT, &records[1], REORDERED_ID,
                 "phone absent, writer union [string]");
    cr_assert_not_null(strstr(err, "'phone'"), "message should name phone: %s", err);
    msg = same_bytes(c, CODEC_ROSTER_SUBJECT, &records[0], REORDERED_ID,
                     "phone present, union [string]", &len);
    free(msg);
    codec_destroy(c);
}

/* Encode a record with both encoders, compare the bytes, decode and compare with want. */
static void same_plan(codec *c, const struct rt_type *t, const void *want, int id,
                      const char *ctx)
{
    size_t len;
    unsigned char *msg = same_bytes(c, t->subject, want, id, ctx, &len);
    void *got = malloc(t->size);

    cr_assert_not_null(got, "out of memory");
    cr_assert_eq(t->decode(c, msg, len, got, NULL), 0, "%s: decode: %s", ctx, err);
    t->same(want, got, ctx);
    free(got);
    free(msg);
}

static void same_incident(codec *c, const incident *want, int id, const char *ctx)
{
    same_plan(c, &rt_incident, want, id, ctx);
}

Test(codec_plan, same_bytes_as_avro_c_for_incidents)
{
    incident want[MAX_INCIDENTS];
    size_t n = load_incidents(want, MAX_INCIDENTS);
    int ids[16];
    size_t nids = subject_ids(CODEC_INCIDENT_SUBJECT, ids, 16);
    codec *c = codec_new(err, sizeof err);
    int rounds = 0;
    const int counts[] = {INCIDENT_TYPE__COUNT, CIRCUMSTANCE__COUNT, CAUSE__COUNT,
                          SEVERITY__COUNT, REPORTER__COUNT};

    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        rounds = counts[k] > rounds ? counts[k] : rounds;
    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_gt(nids, 0, "no incident schema");
    for (size_t v = 0; v < nids; v++) {
        char ctx[80];

        for (size_t i = 0; i < n; i++) {
            incident bare = want[i];
            snprintf(ctx, sizeof ctx, "schema id %d, incident %zu", ids[v], i + 1);
            same_incident(c, &want[i], ids[v], ctx);
            bare.fields = 0;
            bare.cause = CAUSE_NONE;
            bare.severity = SEVERITY_NONE;
            bare.reported_at_us = TIME_NONE;
            bare.report_id[0] = bare.description[0] = bare.reporter_name[0] = '\0';
            bare.reporter_phone[0] = '\0';
            snprintf(ctx, sizeof ctx, "schema id %d, incident %zu bare", ids[v], i + 1);
            same_incident(c, &bare, ids[v], ctx);
        }
        for (int k = 0; k < rounds; k++) {
            /* Every symbol of every enum: k cycles through each enum's values. */
            incident in = want[0];
            in.fields |= IF_CAUSE | IF_SEVERITY;
            in.circumstance = (incident_circumstance)(k % CIRCUMSTANCE__COUNT);
            in.cause = (incident_cause)(k % CAUSE__COUNT);
            in.severity = (incident_severity)(k % SEVERITY__COUNT);
            in.reporter_institution = (incident_reporter)(k % REPORTER__COUNT);
            in.type = (incident_type)(k % INCIDENT_TYPE__COUNT);
            snprintf(ctx, sizeof ctx, "schema id %d, enum round %d", ids[v], k);
            same_incident(c, &in, ids[v], ctx);
        }
        incident longest = want[0];
        memset(longest.description, 'd', sizeof longest.description - 1);
        longest.description[sizeof longest.description - 1] = '\0';
        longest.fields |= IF_DESCRIPTION;
        snprintf(ctx, sizeof ctx, "schema id %d, longest description", ids[v]);
        same_incident(c, &longest, ids[v], ctx);
    }
    codec_destroy(c);
}

static void same_claim(codec *c, const claim_event *want, int id, const char *ctx)
{
    same_plan(c, &rt_claim_event, want, id, ctx);
}

Test(codec_plan, same_bytes_as_avro_c_for_claim_events)
{
    claim_event want[MAX_CLAIMS];
    size_t n = load_claims(want, MAX_CLAIMS);
    int ids[16];
    size_t nids = subject_ids(CODEC_CLAIM_SUBJECT, ids, 16);
    codec *c = codec_new(err, sizeof err);
    int rounds = 0;
    const int counts[] = {CLAIM_PROGRAM__COUNT, BENEFIT__COUNT, CLAIM_STATUS__COUNT,
                          CLAIM_EVENT_KIND__COUNT};

    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        rounds = counts[k] > rounds ? counts[k] : rounds;
    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_gt(nids, 0, "no claim schema");
    for (size_t v = 0; v < nids; v++) {
        char ctx[80];

        for (size_t i = 0; i < n; i++) {
            snprintf(ctx, sizeof ctx, "schema id %d, claim event %zu", ids[v], i + 1);
            same_claim(c, &want[i], ids[v], ctx);
        }
        for (int k = 0; k < rounds; k++) {
            /* Every symbol of every enum, and both booleans and signs of the amount. */
            claim_event ev = want[0];
            ev.program = (claim_program)(k % CLAIM_PROGRAM__COUNT);
            ev.benefit = (claim_benefit)(k % BENEFIT__COUNT);
            ev.from_status = (claim_status)(k % CLAIM_STATUS__COUNT);
            ev.to_status = (claim_status)(CLAIM_STATUS__COUNT - 1 - k % CLAIM_STATUS__COUNT);
            ev.kind = (claim_event_kind)(k % CLAIM_EVENT_KIND__COUNT);
            ev.late_report = k % 2;
            ev.amount_idr = k % 2 ? -(int64_t)k * 1000003 : (int64_t)k * 999983;
            ev.fields |= CF_FROM_STATUS | CF_AMOUNT;
            snprintf(ctx, sizeof ctx, "schema id %d, enum round %d", ids[v], k);
            same_claim(c, &ev, ids[v], ctx);
        }
    }
    codec_destroy(c);
}

/* ---- CoverageChange ---- */

#define MAX_COVERAGES 8

static void set_coverage_field(coverage_change *cc, const char *key, const char *val)
{
    int k;

    if (strcmp(key, "event_id") == 0) {
        copy_str(cc->event_id, sizeof cc->event_id, val, key);
    } else if (strcmp(key, "source") == 0) {
        copy_str(cc->source, sizeof cc->source, val, key);
    } else if (strcmp(key, "nik") == 0) {
        copy_str(cc->nik, sizeof cc->nik, val, key);
    } else if (strcmp(key, "programs") == 0) {
        k = *val ? roster_programs_parse(val) : 0;
        cr_assert_geq(k, 0, "bad programs '%s'", val);
        cc->programs = (unsigned)k;
    } else if (strcmp(key, "status") == 0) {
        cr_assert_geq(k = coverage_status_parse(val), 0, "bad status '%s'", val);
        cc->status = (coverage_status)k;
    } else if (strcmp(key, "valid_from") == 0) {
        cc->valid_from = date_of(val);
    } else if (strcmp(key, "valid_to") == 0) {
        cc->valid_to = date_of(val);
    } else if (strcmp(key, "region_code") == 0) {
        copy_str(cc->region_code, sizeof cc->region_code, val, key);
    } else if (strcmp(key, "role") == 0) {
        cr_assert_geq(k = roster_role_parse(val), 0, "bad role '%s'", val);
        cc->role = (roster_role)k;
    } else if (strcmp(key, "institution") == 0) {
        cr_assert_geq(k = roster_institution_parse(val), 0, "bad institution '%s'", val);
        cc->institution = (roster_institution)k;
    } else if (strcmp(key, "event_time") == 0) {
        cr_assert_eq(dates_parse_timestamp(val, &cc->event_time_us), 0, "bad time '%s'", val);
    } else {
        cr_assert_fail("unknown key '%s' in data/coverage_changes.txt", key);
    }
}

static void init_coverage_any(void *r) { coverage_change_init(r); }
static void set_coverage_any(void *r, const char *k, const char *v) { set_coverage_field(r, k, v); }

static size_t load_coverages(coverage_change *out, size_t max)
{
    return settings_load("data/coverage_changes.txt", out, sizeof *out, max, init_coverage_any,
                         set_coverage_any);
}

static void assert_same_coverage(const coverage_change *want, const coverage_change *got,
                                 const char *ctx)
{
    cr_assert_str_eq(got->event_id, want->event_id, "%s: event_id '%s'", ctx, got->event_id);
    cr_assert_str_eq(got->source, want->source, "%s: source '%s'", ctx, got->source);
    cr_assert_str_eq(got->nik, want->nik, "%s: nik '%s'", ctx, got->nik);
    cr_assert_eq(got->fields, want->fields, "%s: fields 0x%x", ctx, got->fields);
    cr_assert_eq(got->programs, want->programs, "%s: programs 0x%x, want 0x%x", ctx, got->programs,
                 want->programs);
    cr_assert_eq(got->status, want->status, "%s: status %d", ctx, got->status);
    cr_assert_eq(got->valid_from, want->valid_from, "%s: valid_from %d", ctx, got->valid_from);
    cr_assert_eq(got->valid_to, want->valid_to, "%s: valid_to %d", ctx, got->valid_to);
    cr_assert_str_eq(got->region_code, want->region_code, "%s: region_code '%s'", ctx, got->region_code);
    cr_assert_eq(got->role, want->role, "%s: role %d", ctx, got->role);
    cr_assert_eq(got->institution, want->institution, "%s: institution %d", ctx, got->institution);
    cr_assert_eq(got->event_time_us, want->event_time_us, "%s: event_time %lld", ctx,
                 (long long)got->event_time_us);
}

ROUND_TRIP_TEST(coverage_change, coverage_change, CODEC_COVERAGE_SUBJECT,
                codec_encode_coverage_change, codec_decode_coverage_change, assert_same_coverage,
                load_coverages, MAX_COVERAGES)

Test(codec, coverage_change_empty_programs_is_an_empty_array)
{
    coverage_change want[MAX_COVERAGES], got;
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len, full_len;

    load_coverages(want, MAX_COVERAGES);
    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_eq(want[2].programs, 0u, "data record 3 should have no program");
    want[2].programs = PROG_JKK;
    cr_assert_eq(codec_encode_coverage_change(c, &want[2], 0, &out, &full_len, err, sizeof err), 0,
                 "encode with a program: %s", err);
    want[2].programs = 0;
    cr_assert_eq(codec_encode_coverage_change(c, &want[2], 0, &out, &len, err, sizeof err), 0,
                 "encode without programs: %s", err);
    /* One block of one enum index (2 bytes) fewer than with JKK. */
    cr_assert_eq(len + 2, full_len, "empty programs take %zu bytes, one program %zu", len, full_len);
    cr_assert_eq(codec_decode_coverage_change(c, out, len, &got, NULL, err, sizeof err), 0,
                 "decode: %s", err);
    cr_assert_eq(got.programs, 0u, "programs 0x%x after a round trip", got.programs);
    codec_destroy(c);
}

Test(codec, coverage_change_encode_rejects_bad_enums)
{
    coverage_change want[MAX_COVERAGES], bad;
    codec *c = codec_new(err, sizeof err);
    const void *out;
    size_t len;

    load_coverages(want, MAX_COVERAGES);
    cr_assert_not_null(c, "codec_new: %s", err);
    bad = want[0];
    bad.status = COVERAGE_STATUS_NONE;
    cr_assert_eq(codec_encode_coverage_change(c, &bad, 0, &out, &len, err, sizeof err), -1,
                 "status NONE accepted");
    cr_assert_not_null(strstr(err, "status"), "message should name status: %s", err);
    bad = want[0];
    bad.role = ROLE__COUNT;
    cr_assert_eq(codec_encode_coverage_change(c, &bad, 0, &out, &len, err, sizeof err), -1,
                 "out-of-range role accepted");
    cr_assert_not_null(strstr(err, "role"), "message should name role: %s", err);
    bad = want[0];
    bad.programs = 1u << 3;
    cr_assert_eq(codec_encode_coverage_change(c, &bad, 0, &out, &len, err, sizeof err), -1,
                 "unknown program bit accepted");
    cr_assert_not_null(strstr(err, "programs"), "message should name programs: %s", err);
    codec_destroy(c);
}

Test(codec, coverage_change_decode_rejects_foreign_ids_and_truncation)
{
    coverage_change want[MAX_COVERAGES], got;
    codec *c = codec_new(err, sizeof err);
    const void *out;
    unsigned char *msg;
    size_t len;
    claim_event ev;

    load_coverages(want, MAX_COVERAGES);
    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_eq(codec_encode_coverage_change(c, &want[1], 0, &out, &len, err, sizeof err), 0,
                 "encode: %s", err);
    msg = malloc(len);
    cr_assert_not_null(msg, "out of memory");
    memcpy(msg, out, len);
    cr_assert_eq(codec_decode_claim_event(c, msg, len, &ev, NULL, err, sizeof err), -1,
                 "coverage change decoded as a claim event");
    cr_assert_not_null(strstr(err, CODEC_COVERAGE_SUBJECT), "message: %s", err);
    for (size_t cut = 0; cut < len; cut++)
        cr_assert_eq(codec_decode_coverage_change(c, msg, cut, &got, NULL, err, sizeof err), -1,
                     "truncated to %zu of %zu bytes accepted", cut, len);
    cr_assert_eq(codec_decode_coverage_change(c, msg, len, &got, NULL, err, sizeof err), 0,
                 "whole message after truncations: %s", err);
    assert_same_coverage(&want[1], &got, "after truncations");
    free(msg);
    codec_destroy(c);
}

static void same_coverage(codec *c, const coverage_change *want, int id, const char *ctx)
{
    same_plan(c, &rt_coverage_change, want, id, ctx);
}

Test(codec_plan, same_bytes_as_avro_c_for_coverage_changes)
{
    coverage_change want[MAX_COVERAGES];
    size_t n = load_coverages(want, MAX_COVERAGES);
    int ids[16];
    size_t nids = subject_ids(CODEC_COVERAGE_SUBJECT, ids, 16);
    codec *c = codec_new(err, sizeof err);

    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_gt(nids, 0, "no coverage change schema");
    for (size_t v = 0; v < nids; v++) {
        char ctx[80];

        for (size_t i = 0; i < n; i++) {
            snprintf(ctx, sizeof ctx, "schema id %d, coverage change %zu", ids[v], i + 1);
            same_coverage(c, &want[i], ids[v], ctx);
        }
        /* Every role, institution, status and program set, and signs of the numbers. */
        for (int k = 0; k < ROLE__COUNT; k++) {
            coverage_change cc = want[k % n];
            cc.role = (roster_role)k;
            cc.institution = (roster_institution)(k % INST__COUNT);
            cc.status = (coverage_status)(k % COVERAGE_STATUS__COUNT);
            cc.programs = (unsigned)(k % 8);
            cc.valid_from = k % 2 ? -k * 4099 : k * 40009;
            cc.valid_to = cc.valid_from + k * 97;
            cc.event_time_us = k % 2 ? -(int64_t)k * 1000000007 : (int64_t)k * 86400000000LL;
            snprintf(ctx, sizeof ctx, "schema id %d, enum round %d", ids[v], k);
            same_coverage(c, &cc, ids[v], ctx);
        }
    }
    codec_destroy(c);
}

/* ---- the registry's id space (catalog_use_registry), with a fake fetch function ---- */

/* Id 500: a RosterChange version newer than any compiled in (v2 plus a field this program
 * does not know, with a default); 501: the registry cannot be asked. */
static int fetch_newer(void *opaque, int id, char **subject, int *version, char **json,
                       char *errstr, size_t errstr_size)
{
    const char *v2 = catalog_reader(CODEC_ROSTER_SUBJECT)->json;
    const char *added = "{\"name\": \"district_office\", \"type\": \"string\", "
                        "\"default\": \"none\", \"doc\": \"added later\"},";
    const char *at = strstr(v2, "\"fields\": [");
    size_t head;

    (void)opaque;
    if (id == 501)
        return snprintf(errstr, errstr_size, "registry down"), CATALOG_UNAVAILABLE;
    if (id != 500 || !at)
        return snprintf(errstr, errstr_size, "no id %d", id), CATALOG_UNKNOWN;
    head = (size_t)(at - v2) + strlen("\"fields\": [");
    *json = malloc(strlen(v2) + strlen(added) + 1);
    memcpy(*json, v2, head);
    strcpy(*json + head, added);
    strcat(*json, v2 + head);
    *subject = strdup(CODEC_ROSTER_SUBJECT);
    *version = 3;
    return CATALOG_OK;
}

Test(codec, registry_writer_newer_than_the_reader_is_read_by_name)
{
    codec *c;
    size_t len;
    unsigned char *msg;
    roster_change got;
    int id = 0;

    load_records();
    catalog_use_registry(fetch_newer, NULL);
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new without any bound subject: %s", err);
    msg = encode_copy(c, &records[0], 500, &len);
    cr_assert_eq(be32(msg + 1), 500u, "header id %u", be32(msg + 1));
    cr_assert_eq(codec_decode_roster(c, msg, len, &got, &id, err, sizeof err), 0,
                 "decode: %s", err);
    cr_assert_eq(id, 500, "writer id %d", id);
    assert_same(&records[0], &got, "writer v3 from the registry");
    free(msg);
    codec_destroy(c);
    catalog_release();
}

Test(codec, registry_unavailable_is_not_a_bad_record)
{
    unsigned char msg[] = {0, 0, 0, 0x01, 0xf5, 0x02};    /* schema id 501 */
    const void *out;
    size_t len;
    roster_change got;
    codec *c;

    load_records();
    catalog_use_registry(fetch_newer, NULL);
    c = codec_new(err, sizeof err);
    cr_assert_not_null(c, "codec_new: %s", err);
    cr_assert_eq(codec_decode_roster(c, msg, sizeof msg, &got, NULL, err, sizeof err),
                 CODEC_UNAVAILABLE, "unavailable registry not told apart: %s", err);
    cr_assert_str_eq(err, "registry down", "message: %s", err);
    msg[4] = 0xf6;                                          /* 502: unknown */
    cr_assert_eq(codec_decode_roster(c, msg, sizeof msg, &got, NULL, err, sizeof err), -1,
                 "unknown id not a bad record");
    cr_assert_eq(codec_encode_roster(c, &records[0], 0, &out, &len, err, sizeof err), -1,
                 "encoded an unbound subject");
    cr_assert_not_null(strstr(err, "did not register it"), "message: %s", err);
    codec_destroy(c);
    catalog_release();
}

/* ---- the direct decode pass against avro-c's generic path ---- */

/* The reordered test schema without its writer-only field: every field is the record's, so
 * the direct pass reads it, with enums remapped by name and a [string, null] union. */
#define DIRECT_ID 9002

static void add_direct_reordered(void)
{
    char *json = datafile_text(REORDERED_SCHEMA), *line, *end;

    cr_assert_not_null(json, "cannot read %s", REORDERED_SCHEMA);
    line = strstr(json, "{\"name\": \"note\"");
    cr_assert_not_null(line, "no note field in %s", REORDERED_SCHEMA);
    end = strchr(line, '\n');
    cr_assert_not_null(end, "note field without a line end");
    memmove(line, end + 1, strlen(end + 1) + 1);
    cr_assert_eq(catalog_add(DIRECT_ID, CODEC_ROSTER_SUBJECT, 98, json, err, sizeof err), 0,
                 "catalog_add: %s", err);
    free(json);
}

/* msg decoded by both codecs: the same answer, the same error or the very same record.
 * Returns the answer. */
static int decode_both(codec *direct, codec *generic, const unsigned char *msg, size_t len,
                       const char *ctx)
{
    roster_change a, b;
    char ea[512] = "", eb[512] = "";
    int ra, rb;

    memset(&a, 0x5a, sizeof a);
    memset(&b, 0xa5, sizeof b);
    ra = codec_decode_roster(direct, msg, len, &a, NULL, ea, sizeof ea);
    rb = codec_decode_roster(generic, msg, len, &b, NULL, eb, sizeof eb);
    cr_assert_eq(ra, rb, "%s: direct answered %d (%s), avro-c %d (%s)", ctx, ra, ea, rb, eb);
    if (ra < 0)
        cr_assert_str_eq(ea, eb, "%s: the errors differ", ctx);
    else
        cr_assert_eq(memcmp(&a, &b, sizeof a), 0, "%s: the records differ", ctx);
    return ra;
}

/* Every roster version, each record whole and bare, intact, cut at every length and with
 * every body byte replaced by a few telling values (varint continuation bits, zero, a union
 * branch or enum index out of range, NUL in a string): both paths answer alike, and the
 * direct pass answers the intact messages of the writers it can read. */
Test(codec_direct, agrees_with_avro_c_on_every_version_cut_and_corruption)
{
    static const unsigned char values[] = {0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff};
    codec *direct, *generic;
    int ids[16];
    size_t nids, failed = 0, tried = 0;

    load_records();
    direct = codec_new(err, sizeof err);
    generic = codec_new(err, sizeof err);
    cr_assert(direct && generic, "codec_new: %s", err);
    codec_set_direct(generic, 0);
    nids = plan_roster_ids(ids, 15);
    add_direct_reordered();
    ids[nids++] = DIRECT_ID;
    for (size_t v = 0; v < nids; v++) {
        for (size_t i = 0; i < nrecords; i++) {
            for (int whole = 0; whole < 2; whole++) {
                roster_change bare = bare_roster(&records[i]);
                size_t len;
                unsigned char *msg = encode_copy(direct, whole ? &records[i] : &bare, ids[v], &len);
                unsigned long before = codec_direct_count(direct);
                char ctx[96];

                snprintf(ctx, sizeof ctx, "schema id %d, record %zu%s", ids[v], i + 1,
                         whole ? "" : " bare");
                cr_assert_eq(decode_both(direct, generic, msg, len, ctx), 0, "%s: decode", ctx);
                /* The reordered schema has a field the record lacks: avro-c reads it. */
                cr_assert_eq(codec_direct_count(direct) - before, ids[v] == REORDERED_ID ? 0u : 1u,
                             "%s: direct decodes %lu", ctx, codec_direct_count(direct) - before);
                for (size_t cut = 5; cut < len; cut++) {
                    snprintf(ctx, sizeof ctx, "schema id %d, record %zu, cut at %zu", ids[v], i + 1, cut);
                    tried++;
                    failed += decode_both(direct, generic, msg, cut, ctx) < 0;
                }
                for (size_t pos = 5; pos < len; pos++) {
                    unsigned char orig = msg[pos];
                    for (size_t k = 0; k < sizeof values; k++) {
                        msg[pos] = values[k];
                        snprintf(ctx, sizeof ctx, "schema id %d, record %zu, byte %zu = 0x%02x",
                                 ids[v], i + 1, pos, values[k]);
                        tried++;
                        failed += decode_both(direct, generic, msg, len, ctx) < 0;
                    }
                    msg[pos] = orig;
                }
                free(msg);
            }
        }
    }
    cr_assert_gt(failed, 0, "no cut or corruption failed out of %zu", tried);
    cr_assert_lt(failed, tried, "every cut or corruption failed");
    cr_assert_eq(codec_direct_count(generic), 0, "direct decodes with the direct pass off");
    codec_destroy(direct);
    codec_destroy(generic);
}
