/* codec: RosterChange, Incident, ClaimEvent, CoverageChange and Invoice records <-> Confluent-framed
 * Avro, with per-schema-id caches. One table of fields per C record type (codec_fields.c)
 * drives every direction. Encoding follows a plan built once per writer schema (one step per
 * writer field) and writes Avro binary straight from the record (the unit tests compare its
 * bytes with avro-c's, tests/unit/support/avro_ref.c). Decoding reads a writer schema whose
 * every field the record carries straight from the bytes in one pass (another plan per
 * writer schema); whatever that pass does not accept is decoded again through avro-c's
 * generic values, which check the body against the schema and name the error. */
#include "codec.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <jansson.h>

#include "catalog.h"
#include "codec_fields.h"
#include "errstr.h"

#define HEADER_SIZE 5
/* Small on purpose: a full ENROLL record needs more, so growth is exercised early. */
#define INITIAL_BUF 128
/* Enums with more symbols than this are refused when a schema is loaded. */
#define MAX_SYMBOLS 64
/* Nesting limit when checking a body against a (possibly recursive) schema. */
#define MAX_DEPTH 32
/* Most values of any enum of ours. */
#define MAX_OURS 16

/* How one field of the C record sits in one writer schema. */
struct field_map {
    int index;            /* field index in the writer record; -1 when the writer lacks it */
    int null_branch;      /* union branch holding null; -1 when the field is not nullable */
    int value_branch;     /* union branch holding the value; -1 when the field is no union */
    int nsym;             /* enum (or programs item enum) symbol count */
    int to_sym[MAX_OURS]; /* our enum value / set bit position -> symbol index, -1 none */
    int from_sym[MAX_SYMBOLS]; /* symbol index -> our value / program bit, -1 unknown */
    avro_schema_t enum_schema;
};

/* Everything cached for one writer schema id. */
struct slot {
    int id;
    const codec_fields_type *type;
    avro_schema_t schema;           /* borrowed from the catalog */
    avro_value_iface_t *iface;
    avro_value_t value;
    struct field_map map[CODEC_FIELDS_MAX];
    void *blank;                    /* a record absent everywhere, plus reader defaults */
    char decode_err[256];           /* set when this writer cannot be read into the latest */
    /* Writer fields the C record does not carry, written as their schema default. */
    json_t *writer_json;
    size_t nextra;
    struct extra_field { int index; json_t *def; } *extra;
    char encode_err[256];           /* set when such a field has no default */
    /* Encoder plan: one step per writer field, in writer order. */
    struct enc_step *plan;
    size_t nplan;
    unsigned char *consts;          /* encoded defaults of the writer-only fields */
    size_t max_body;                /* no record's body is longer */
    char plan_err[256];             /* set when a writer-only default does not encode */
    /* Direct decoder plan: one step per writer field, in writer order; NULL when the writer
     * has a field the record does not carry (every decode then takes avro-c's path). */
    struct dec_step *dplan;
    size_t ndplan;
};

/* One writer field: a field of the C record (f, m), or, when f is NULL, the constant
 * bytes consts[off, off + len) of a default. */
struct enc_step {
    const codec_fields_def *f;
    const struct field_map *m;
    size_t off, len;
};

/* One writer field read straight into the record. */
struct dec_step {
    const codec_fields_def *f;
    const struct field_map *m;
    int branches;                   /* of its union; 0 when the field is no union */
};

struct codec {
    struct slot **slots;
    size_t nslots;
    struct {
        int latest_id;              /* the id written by default; 0 when none is bound */
        int reader_version;         /* the compiled latest version, named in messages */
        json_t *reader_json;        /* the latest schema of the type, for field defaults */
    } latest[CODEC_FIELDS_NTYPES];
    int unavailable;                /* the last slot_new could not ask the registry */
    char *buf;
    size_t cap;
    avro_reader_t reader;
    int indirect;                   /* codec_set_direct(c, 0): every decode through avro-c */
    unsigned long direct;           /* decodes the direct plan answered */
};

static avro_schema_t resolve(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

static int our_symbol_parse(const codec_fields_def *f, const char *name)
{
    for (int i = 0; i < f->nsym; i++)
        if (strcmp(f->sym(i), name) == 0)
            return i;
    return -1;
}

static avro_type_t expected_type(codec_fields_kind kind)
{
    switch (kind) {
    case CODEC_FIELDS_STRING: case CODEC_FIELDS_CHAR: return AVRO_STRING;
    case CODEC_FIELDS_INT: case CODEC_FIELDS_DATE: return AVRO_INT32;
    case CODEC_FIELDS_LONG: case CODEC_FIELDS_TIMESTAMP: return AVRO_INT64;
    case CODEC_FIELDS_BOOL: return AVRO_BOOLEAN;
    case CODEC_FIELDS_ENUM_SET: return AVRO_ARRAY;
    default: return AVRO_ENUM;
    }
}

static const char *expected_name(codec_fields_kind kind)
{
    switch (expected_type(kind)) {
    case AVRO_STRING: return "string";
    case AVRO_INT32: return "int";
    case AVRO_INT64: return "long";
    case AVRO_BOOLEAN: return "boolean";
    case AVRO_ARRAY: return "array";
    default: return "enum";
    }
}

static unsigned presence(const codec_fields_type *t, const void *rec)
{
    unsigned bits;

    memcpy(&bits, (const char *)rec + t->bits_off, sizeof bits);
    return bits;
}

static void mark_present(const codec_fields_type *t, void *rec, unsigned bit)
{
    unsigned bits = presence(t, rec) | bit;

    memcpy((char *)rec + t->bits_off, &bits, sizeof bits);
}

/* Build both directions of an enum mapping by symbol name. */
static int map_enum(struct field_map *m, const codec_fields_def *f, avro_schema_t en,
                    int id, char *errstr, size_t errstr_size)
{
    int nsym = avro_schema_enum_number_of_symbols(en);
    int ours = f->nsym;

    if (ours > MAX_OURS)
        return errstr_fail(errstr, errstr_size, "field '%s' has %d values, more than %d", f->name, ours,
                           MAX_OURS);
    if (nsym < 0 || nsym > MAX_SYMBOLS)
        return errstr_fail(errstr, errstr_size, "schema id %d: enum of field '%s' has %d symbols, "
                           "more than %d", id, f->name, nsym, MAX_SYMBOLS);
    m->enum_schema = en;
    m->nsym = nsym;
    for (int i = 0; i < nsym; i++)
        m->from_sym[i] = our_symbol_parse(f, avro_schema_enum_get(en, i));
    for (int i = 0; i < ours; i++)
        m->to_sym[i] = avro_schema_enum_get_by_name(en, f->sym(i));
    return 0;
}

/* Find where field f sits in the writer record and check its type. */
static int map_field(struct field_map *m, const codec_fields_def *f, avro_schema_t rec,
                     int id, char *errstr, size_t errstr_size)
{
    avro_schema_t t, v;

    memset(m, 0, sizeof *m);
    m->null_branch = m->value_branch = -1;
    m->index = avro_schema_record_field_get_index(rec, f->name);
    if (m->index < 0)
        return 0;
    t = resolve(avro_schema_record_field_get_by_index(rec, m->index));
    v = t;
    if (is_avro_union(t)) {
        size_t n = avro_schema_union_size(t);
        for (size_t i = 0; i < n; i++) {
            avro_schema_t b = resolve(avro_schema_union_branch(t, (int)i));
            if (is_avro_null(b) && m->null_branch < 0)
                m->null_branch = (int)i;
            else if (m->value_branch < 0 && !is_avro_null(b))
                m->value_branch = (int)i, v = b;
            else
                return errstr_fail(errstr, errstr_size, "schema id %d: field '%s' is a union other "
                                   "than [null, T]", id, f->name);
        }
        if (m->value_branch < 0)
            return errstr_fail(errstr, errstr_size, "schema id %d: field '%s' holds only null",
                               id, f->name);
    }
    if (avro_typeof(v) != expected_type(f->kind))
        return errstr_fail(errstr, errstr_size, "schema id %d: field '%s' is %s, expected %s", id,
                           f->name, avro_schema_type_name(v), expected_name(f->kind));
    if (f->kind == CODEC_FIELDS_ENUM_SET) {
        v = resolve(avro_schema_array_items(v));
        if (!is_avro_enum(v))
            return errstr_fail(errstr, errstr_size, "schema id %d: items of field '%s' are not an "
                               "enum", id, f->name);
    }
    if (is_avro_enum(v))
        return map_enum(m, f, v, id, errstr, errstr_size);
    return 0;
}

/* Store a decoded string into the record field, checking its size. */
static int put_string(void *rec, const codec_fields_def *f, const char *s, size_t n,
                      char *errstr, size_t errstr_size)
{
    char *dst = (char *)rec + f->off;

    if (f->kind == CODEC_FIELDS_CHAR) {
        if (n != 1 || !s[0] || !strchr(f->chars, s[0])) {
            /* The value is any bytes; the message may become PostgreSQL text (a dead letter's
             * error), so it shows them as printable ASCII, '?' for any other byte. */
            char shown[9];
            size_t k;
            for (k = 0; k < n && k < 8; k++)
                shown[k] = s[k] >= 0x20 && s[k] < 0x7f ? s[k] : '?';
            shown[k] = '\0';
            return errstr_fail(errstr, errstr_size, "field '%s' value '%s' is not one of '%s'", f->name,
                               shown, f->chars);
        }
        *dst = s[0];
        return 0;
    }
    if (n >= f->size)
        return errstr_fail(errstr, errstr_size, "field '%s' has %zu bytes, more than %zu", f->name,
                           n, f->size - 1);
    if (memchr(s, '\0', n))
        return errstr_fail(errstr, errstr_size, "field '%s' contains a NUL byte", f->name);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* Apply a reader-schema default (JSON) to the blank record of a writer lacking f. */
static int apply_default(const codec_fields_type *t, void *rec, const codec_fields_def *f,
                         json_t *def, char *errstr, size_t errstr_size)
{
    char *p = (char *)rec + f->off;

    if (json_is_null(def))
        return 0;
    switch (f->kind) {
    case CODEC_FIELDS_STRING: case CODEC_FIELDS_CHAR:
        if (!json_is_string(def))
            goto bad;
        if (put_string(rec, f, json_string_value(def), json_string_length(def), errstr,
                       errstr_size) < 0)
            return -1;
        break;
    case CODEC_FIELDS_INT: case CODEC_FIELDS_DATE: {
        int32_t v;
        if (!json_is_integer(def) || json_integer_value(def) < INT32_MIN
            || json_integer_value(def) > INT32_MAX)
            goto bad;
        v = (int32_t)json_integer_value(def);
        memcpy(p, &v, sizeof v);
        break;
    }
    case CODEC_FIELDS_LONG: case CODEC_FIELDS_TIMESTAMP: {
        int64_t v;
        if (!json_is_integer(def))
            goto bad;
        v = json_integer_value(def);
        memcpy(p, &v, sizeof v);
        break;
    }
    case CODEC_FIELDS_BOOL: {
        int v;
        if (!json_is_boolean(def))
            goto bad;
        v = json_is_true(def);
        memcpy(p, &v, sizeof v);
        break;
    }
    case CODEC_FIELDS_ENUM: {
        int v = json_is_string(def) ? our_symbol_parse(f, json_string_value(def)) : -1;
        if (v < 0)
            goto bad;
        memcpy(p, &v, sizeof v);
        break;
    }
    case CODEC_FIELDS_ENUM_SET: {
        size_t i;
        json_t *item;
        unsigned bits = 0;
        if (!json_is_array(def))
            goto bad;
        json_array_foreach(def, i, item) {
            int v = json_is_string(item) ? our_symbol_parse(f, json_string_value(item)) : -1;
            if (v < 0)
                goto bad;
            bits |= 1u << v;
        }
        memcpy(p, &bits, sizeof bits);
        if (!bits)
            return 0;
        break;
    }
    }
    mark_present(t, rec, f->bit);
    return 0;
bad:
    return errstr_fail(errstr, errstr_size, "default of field '%s' does not fit its type", f->name);
}

/* Prepare the record blank for a writer schema: reader defaults for the fields it lacks. */
static void prepare_blank(codec *c, struct slot *s)
{
    const codec_fields_type *t = s->type;
    int reader_version = c->latest[t - codec_fields_types].reader_version;
    json_t *rfields = json_object_get(c->latest[t - codec_fields_types].reader_json, "fields");
    char err[200];

    t->init(s->blank);
    for (size_t i = 0; i < t->nfields; i++) {
        json_t *rf = NULL, *item, *def;
        size_t k;

        if (s->map[i].index >= 0)
            continue;
        json_array_foreach(rfields, k, item) {
            const char *name = json_string_value(json_object_get(item, "name"));
            if (name && strcmp(name, t->fields[i].name) == 0)
                rf = item;
        }
        if (!rf)
            continue;
        def = json_object_get(rf, "default");
        if (!def) {
            snprintf(s->decode_err, sizeof s->decode_err, "writer schema id %d lacks field "
                     "'%s', which the reader schema (%s version %d) has without a default",
                     s->id, t->fields[i].name, t->subject, reader_version);
            return;
        }
        if (apply_default(t, s->blank, &t->fields[i], def, err, sizeof err) < 0) {
            snprintf(s->decode_err, sizeof s->decode_err, "reader schema (%s version %d): %s",
                     t->subject, reader_version, err);
            return;
        }
    }
}

/* Fields of the writer schema the C record does not know: remember their defaults. */
static int prepare_extra(struct slot *s, char *errstr, size_t errstr_size)
{
    const struct catalog_entry *e = catalog_find(s->id);
    size_t n = avro_schema_record_size(s->schema);
    json_t *wfields;
    json_error_t jerr;

    s->writer_json = e ? json_loads(e->json, 0, &jerr) : NULL;
    wfields = json_object_get(s->writer_json, "fields");
    if (!json_is_array(wfields))
        return errstr_fail(errstr, errstr_size, "schema id %d: cannot read its JSON fields", s->id);
    s->extra = calloc(n ? n : 1, sizeof *s->extra);
    if (!s->extra)
        return errstr_fail(errstr, errstr_size, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(s->schema, (int)i);
        int known = 0;
        json_t *item, *def = NULL;
        size_t k;

        for (size_t f = 0; f < s->type->nfields && !known; f++)
            known = strcmp(s->type->fields[f].name, name) == 0;
        if (known)
            continue;
        json_array_foreach(wfields, k, item)
            if (json_is_string(json_object_get(item, "name"))
                && strcmp(json_string_value(json_object_get(item, "name")), name) == 0)
                def = json_object_get(item, "default");
        if (!def) {
            snprintf(s->encode_err, sizeof s->encode_err, "schema id %d field '%s' is unknown "
                     "to this program and has no default", s->id, name);
            continue;
        }
        s->extra[s->nextra].index = (int)i;
        s->extra[s->nextra++].def = def;
    }
    return 0;
}

/* Set v from a JSON default value (Avro rule: a union's default is of its first branch). */
static int set_from_json(avro_value_t *v, json_t *j)
{
    avro_value_t child;
    size_t i;
    json_t *item;
    const char *key;
    int rval = EINVAL;

    switch (avro_value_get_type(v)) {
    case AVRO_NULL: return json_is_null(j) ? avro_value_set_null(v) : EINVAL;
    case AVRO_BOOLEAN: return json_is_boolean(j) ? avro_value_set_boolean(v, json_is_true(j)) : EINVAL;
    case AVRO_INT32: return json_is_integer(j) ? avro_value_set_int(v, (int32_t)json_integer_value(j)) : EINVAL;
    case AVRO_INT64: return json_is_integer(j) ? avro_value_set_long(v, json_integer_value(j)) : EINVAL;
    case AVRO_FLOAT: return json_is_number(j) ? avro_value_set_float(v, (float)json_number_value(j)) : EINVAL;
    case AVRO_DOUBLE: return json_is_number(j) ? avro_value_set_double(v, json_number_value(j)) : EINVAL;
    case AVRO_STRING:
        return json_is_string(j) ? avro_value_set_string_len(v, json_string_value(j),
                                                             json_string_length(j) + 1) : EINVAL;
    case AVRO_ENUM: {
        int sym = json_is_string(j) ? avro_schema_enum_get_by_name(avro_value_get_schema(v),
                                                                   json_string_value(j)) : -1;
        return sym >= 0 ? avro_value_set_enum(v, sym) : EINVAL;
    }
    case AVRO_UNION:
        rval = avro_value_set_branch(v, 0, &child);
        return rval ? rval : set_from_json(&child, j);
    case AVRO_ARRAY:
        if (!json_is_array(j))
            return EINVAL;
        json_array_foreach(j, i, item) {
            if ((rval = avro_value_append(v, &child, NULL)) != 0
                || (rval = set_from_json(&child, item)) != 0)
                return rval;
        }
        return 0;
    case AVRO_MAP:
        if (!json_is_object(j))
            return EINVAL;
        json_object_foreach(j, key, item) {
            if ((rval = avro_value_add(v, key, &child, NULL, NULL)) != 0
                || (rval = set_from_json(&child, item)) != 0)
                return rval;
        }
        return 0;
    case AVRO_RECORD:
        if (!json_is_object(j))
            return EINVAL;
        json_object_foreach(j, key, item) {
            if ((rval = avro_value_get_by_name(v, key, &child, NULL)) != 0
                || (rval = set_from_json(&child, item)) != 0)
                return rval;
        }
        return 0;
    default:
        return EINVAL;
    }
}

/* Most bytes of a varint-encoded long. */
#define MAX_VARINT 10

/* Most bytes the encoder plan writes for one field of the C record. */
static size_t step_bound(const struct enc_step *st)
{
    size_t n = st->m->value_branch >= 0 ? MAX_VARINT : 0;

    switch (st->f->kind) {
    case CODEC_FIELDS_STRING: return n + MAX_VARINT + st->f->size;
    case CODEC_FIELDS_CHAR: return n + 2;
    case CODEC_FIELDS_BOOL: return n + 1;
    case CODEC_FIELDS_ENUM_SET: return n + MAX_VARINT * ((size_t)st->f->nsym + 2);
    default: return n + MAX_VARINT;
    }
}

/* Consts of a slot's plan while it is built. */
struct consts_buf {
    size_t used, cap;
};

/* Append to the plan a step writing the default of writer-only field extra[k], its bytes
 * written by avro-c itself into s->consts. Sets plan_err when the default does not fit. */
static int plan_default(struct slot *s, size_t k, struct consts_buf *cb, char *errstr,
                        size_t errstr_size)
{
    const char *name = avro_schema_record_field_name(s->schema, s->extra[k].index);
    struct enc_step *st = &s->plan[s->nplan];
    avro_writer_t w;
    avro_value_t field;
    int rval;

    if (avro_value_get_by_index(&s->value, (size_t)s->extra[k].index, &field, NULL) != 0
        || set_from_json(&field, s->extra[k].def) != 0) {
        snprintf(s->plan_err, sizeof s->plan_err, "schema id %d: default of field '%s' does "
                 "not fit its type", s->id, name);
        return 0;
    }
    for (;;) {
        w = avro_writer_memory((char *)s->consts + cb->used, (int64_t)(cb->cap - cb->used));
        if (!w)
            return errstr_fail(errstr, errstr_size, "out of memory");
        rval = avro_value_write(w, &field);
        if (rval != ENOSPC)
            break;
        avro_writer_free(w);
        unsigned char *grown = realloc(s->consts, cb->cap * 2);
        if (!grown)
            return errstr_fail(errstr, errstr_size, "out of memory");
        s->consts = grown;
        cb->cap *= 2;
    }
    st->f = NULL;
    st->m = NULL;
    st->off = cb->used;
    st->len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    if (rval != 0) {
        snprintf(s->plan_err, sizeof s->plan_err, "schema id %d: default of field '%s': %s",
                 s->id, name, avro_strerror());
        return 0;
    }
    cb->used += st->len;
    s->max_body += st->len;
    s->nplan++;
    return 0;
}

/* Build the encoder plan of a slot from its field maps and writer-only defaults. A slot
 * whose encode_err or plan_err is set has no usable plan: encoding reports that error. */
static int plan_build(struct slot *s, char *errstr, size_t errstr_size)
{
    const codec_fields_type *t = s->type;
    size_t n = avro_schema_record_size(s->schema);
    struct consts_buf cb = {0, 64};
    int rval = 0;

    if (s->encode_err[0])
        return 0;
    s->plan = calloc(n ? n : 1, sizeof *s->plan);
    s->consts = malloc(cb.cap);
    if (!s->plan || !s->consts)
        return errstr_fail(errstr, errstr_size, "out of memory");
    if (avro_value_reset(&s->value) != 0)
        return errstr_fail(errstr, errstr_size, "schema id %d: reset: %s", s->id, avro_strerror());
    for (size_t i = 0; i < n && rval == 0 && !s->plan_err[0]; i++) {
        size_t j, k;

        for (j = 0; j < t->nfields && s->map[j].index != (int)i; j++)
            ;
        if (j < t->nfields) {
            struct enc_step *st = &s->plan[s->nplan++];
            st->f = &t->fields[j];
            st->m = &s->map[j];
            s->max_body += step_bound(st);
            continue;
        }
        for (k = 0; k < s->nextra && s->extra[k].index != (int)i; k++)
            ;
        if (k == s->nextra)
            snprintf(s->plan_err, sizeof s->plan_err, "schema id %d: field '%s' has no "
                     "encoding step", s->id, avro_schema_record_field_name(s->schema, (int)i));
        else
            rval = plan_default(s, k, &cb, errstr, errstr_size);
    }
    avro_value_reset(&s->value);
    return rval;
}

/* The direct decoder plan of a writer whose every field is one of the record's (none when
 * memory is short: decoding then takes avro-c's path, as for any other writer). */
static void dplan_build(struct slot *s)
{
    size_t n = avro_schema_record_size(s->schema);

    if (!(s->dplan = calloc(n ? n : 1, sizeof *s->dplan)))
        return;
    for (size_t w = 0; w < n; w++) {
        struct dec_step *st = &s->dplan[w];
        avro_schema_t ft = resolve(avro_schema_record_field_get_by_index(s->schema, (int)w));

        for (size_t i = 0; i < s->type->nfields && !st->f; i++)
            if (s->map[i].index == (int)w)
                st->f = &s->type->fields[i], st->m = &s->map[i];
        if (!st->f) {
            free(s->dplan);
            s->dplan = NULL;
            return;
        }
        st->branches = is_avro_union(ft) ? (int)avro_schema_union_size(ft) : 0;
    }
    s->ndplan = n;
}

static void slot_free(struct slot *s)
{
    if (!s)
        return;
    free(s->plan);
    free(s->dplan);
    free(s->consts);
    json_decref(s->writer_json);
    free(s->extra);
    free(s->blank);
    if (s->iface) {
        avro_value_decref(&s->value);
        avro_value_iface_decref(s->iface);
    }
    free(s);
}

static struct slot *slot_new(codec *c, const codec_fields_type *t, int id, char *errstr,
                             size_t errstr_size)
{
    const struct catalog_entry *e = NULL;
    struct slot *s = NULL;
    int found = catalog_lookup(id, &e, errstr, errstr_size);

    c->unavailable = found == CATALOG_UNAVAILABLE;
    if (found != CATALOG_OK)
        return NULL;
    if (strcmp(e->subject, t->subject) != 0) {
        errstr_fail(errstr, errstr_size, "schema id %d is subject '%s', not '%s'", id, e->subject,
                    t->subject);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s || !(s->blank = malloc(t->size))) {
        free(s);
        errstr_fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->id = id;
    s->type = t;
    s->schema = catalog_schema(id, errstr, errstr_size);
    if (!s->schema)
        goto err;
    if (!is_avro_record(s->schema)) {
        errstr_fail(errstr, errstr_size, "schema id %d is not a record", id);
        goto err;
    }
    for (size_t i = 0; i < t->nfields; i++)
        if (map_field(&s->map[i], &t->fields[i], s->schema, id, errstr, errstr_size) < 0)
            goto err;
    s->iface = avro_generic_class_from_schema(s->schema);
    if (!s->iface) {
        errstr_fail(errstr, errstr_size, "schema id %d: %s", id, avro_strerror());
        goto err;
    }
    if (avro_generic_value_new(s->iface, &s->value) != 0) {
        errstr_fail(errstr, errstr_size, "schema id %d: %s", id, avro_strerror());
        avro_value_iface_decref(s->iface);
        s->iface = NULL;
        goto err;
    }
    if (prepare_extra(s, errstr, errstr_size) < 0)
        goto err;
    prepare_blank(c, s);
    if (plan_build(s, errstr, errstr_size) < 0)
        goto err;
    dplan_build(s);
    return s;
err:
    slot_free(s);
    return NULL;
}

/* The slot of schema id for record type t, made on first use. */
static struct slot *slot_get(codec *c, const codec_fields_type *t, int id, char *errstr,
                             size_t errstr_size)
{
    struct slot **grown, *s;

    for (size_t i = 0; i < c->nslots; i++) {
        if (c->slots[i]->id != id)
            continue;
        if (c->slots[i]->type != t)
            return errstr_fail(errstr, errstr_size, "schema id %d is subject '%s', not '%s'", id,
                               c->slots[i]->type->subject, t->subject), NULL;
        return c->slots[i];
    }
    s = slot_new(c, t, id, errstr, errstr_size);
    if (!s)
        return NULL;
    grown = realloc(c->slots, (c->nslots + 1) * sizeof *grown);
    if (!grown) {
        slot_free(s);
        errstr_fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->slots = grown;
    c->slots[c->nslots++] = s;
    return s;
}

/* Remember the reader schema of type ti (the compiled latest) and its JSON (for reader
 * defaults), and the id written by default (catalog_latest; none when the registry's id
 * space has none bound for the subject). */
static int load_latest(codec *c, int ti, char *errstr, size_t errstr_size)
{
    const char *subject = codec_fields_types[ti].subject;
    const struct catalog_entry *reader = catalog_reader(subject);
    const struct catalog_entry *writer = catalog_latest(subject);
    json_error_t jerr;
    json_t *j;

    if (!reader)
        return errstr_fail(errstr, errstr_size, "catalog has no '%s' schema", subject);
    j = json_loads(reader->json, 0, &jerr);
    c->latest[ti].latest_id = writer ? writer->id : 0;
    c->latest[ti].reader_version = reader->version;
    c->latest[ti].reader_json = j;
    if (!j || !json_is_array(json_object_get(j, "fields")))
        return errstr_fail(errstr, errstr_size, "'%s' line %d: %s", reader->file, jerr.line,
                           j ? "no \"fields\" array" : jerr.text);
    if (!writer)
        return 0;
    return slot_get(c, &codec_fields_types[ti], writer->id, errstr, errstr_size) ? 0 : -1;
}

codec *codec_new(char *errstr, size_t errstr_size)
{
    codec *c = calloc(1, sizeof *c);

    if (!c) {
        errstr_fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->cap = INITIAL_BUF;
    c->buf = calloc(1, c->cap);
    c->reader = avro_reader_memory(c->buf, 0);
    if (!c->buf || !c->reader) {
        errstr_fail(errstr, errstr_size, "out of memory");
        goto err;
    }
    for (int ti = 0; ti < CODEC_FIELDS_NTYPES; ti++)
        if (load_latest(c, ti, errstr, errstr_size) < 0)
            goto err;
    return c;
err:
    codec_destroy(c);
    return NULL;
}

void codec_destroy(codec *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nslots; i++)
        slot_free(c->slots[i]);
    free(c->slots);
    if (c->reader)
        avro_reader_free(c->reader);
    for (int ti = 0; ti < CODEC_FIELDS_NTYPES; ti++)
        json_decref(c->latest[ti].reader_json);
    free(c->buf);
    free(c);
}

void codec_set_direct(codec *c, int on)
{
    c->indirect = !on;
}

unsigned long codec_direct_count(const codec *c)
{
    return c->direct;
}

/* ---- encoding ---- */

static int get_int(const void *rec, const codec_fields_def *f)
{
    int v;

    memcpy(&v, (const char *)rec + f->off, sizeof v);
    return v;
}

static int64_t get_long(const void *rec, const codec_fields_def *f)
{
    int64_t v;

    memcpy(&v, (const char *)rec + f->off, sizeof v);
    return v;
}

/* Whether field f of rec is written, given the record's presence word. */
static int present(unsigned bits, const void *rec, const codec_fields_def *f)
{
    if (f->bit == 0)
        return 1;
    if (!(bits & f->bit))
        return 0;
    switch (f->kind) {
    case CODEC_FIELDS_CHAR: return *((const char *)rec + f->off) != 0;
    case CODEC_FIELDS_INT: return get_int(rec, f) != 0;
    case CODEC_FIELDS_DATE: return get_int(rec, f) != DATE_NONE;
    case CODEC_FIELDS_LONG: case CODEC_FIELDS_TIMESTAMP: return get_long(rec, f) != INT64_MIN;
    case CODEC_FIELDS_ENUM: return get_int(rec, f) >= 0;
    case CODEC_FIELDS_ENUM_SET: return get_int(rec, f) != 0;
    default: return 1;
    }
}

/* The writer's symbol index of our enum value, or -1 with errstr filled. */
static int enum_index(const struct field_map *m, const codec_fields_def *f, int ours, int id,
                      char *errstr, size_t errstr_size)
{
    if (ours < 0 || ours >= f->nsym)
        return errstr_fail(errstr, errstr_size, "field '%s' has out-of-range value %d", f->name, ours);
    if (m->to_sym[ours] < 0)
        return errstr_fail(errstr, errstr_size, "field '%s' value '%s' is not a symbol of schema id %d",
                           f->name, f->sym(ours), id);
    return m->to_sym[ours];
}

/* Length of the string field at p, or -1 with errstr filled when it is unterminated. */
static int string_len(const char *p, const codec_fields_def *f, size_t *n, char *errstr,
                      size_t errstr_size)
{
    *n = strnlen(p, f->size);
    if (*n == f->size)
        return errstr_fail(errstr, errstr_size, "field '%s' is not NUL-terminated", f->name);
    return 0;
}

/* The bits of an enum-set field, or -1 with errstr filled when one has no value of ours. */
static int set_bits(const void *rec, const codec_fields_def *f, unsigned *bits, char *errstr,
                    size_t errstr_size)
{
    *bits = (unsigned)get_int(rec, f);
    if (*bits >> f->nsym)
        return errstr_fail(errstr, errstr_size, "field '%s' has unknown bits 0x%x", f->name, *bits);
    return 0;
}

static int required(const codec_fields_def *f, int id, char *errstr, size_t errstr_size)
{
    return errstr_fail(errstr, errstr_size, "field '%s' is required by schema id %d", f->name, id);
}

/* Avro long: zig-zag, then base-128 varint, low group first. */
static unsigned char *put_long(unsigned char *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (0 - ((uint64_t)v >> 63));

    while (z > 0x7f) {
        *p++ = (unsigned char)(z | 0x80);
        z >>= 7;
    }
    *p++ = (unsigned char)z;
    return p;
}

/* Write one present field value at p; returns the end, or NULL with errstr filled. */
static unsigned char *write_value(unsigned char *p, const void *rec, const codec_fields_def *f,
                                  const struct field_map *m, int id, char *errstr,
                                  size_t errstr_size)
{
    const char *src = (const char *)rec + f->off;
    int sym;

    switch (f->kind) {
    case CODEC_FIELDS_STRING: {
        size_t n;
        if (string_len(src, f, &n, errstr, errstr_size) < 0)
            return NULL;
        p = put_long(p, (int64_t)n);
        memcpy(p, src, n);
        return p + n;
    }
    case CODEC_FIELDS_CHAR:
        *p++ = 2;                       /* length 1 */
        *p++ = (unsigned char)*src;
        return p;
    case CODEC_FIELDS_INT: case CODEC_FIELDS_DATE: return put_long(p, get_int(rec, f));
    case CODEC_FIELDS_LONG: case CODEC_FIELDS_TIMESTAMP: return put_long(p, get_long(rec, f));
    case CODEC_FIELDS_BOOL:
        *p++ = get_int(rec, f) != 0;
        return p;
    case CODEC_FIELDS_ENUM:
        sym = enum_index(m, f, get_int(rec, f), id, errstr, errstr_size);
        return sym < 0 ? NULL : put_long(p, sym);
    case CODEC_FIELDS_ENUM_SET: {
        unsigned bits;
        if (set_bits(rec, f, &bits, errstr, errstr_size) < 0)
            return NULL;
        if (bits) {
            int n = 0;
            for (unsigned b = bits; b; b &= b - 1)
                n++;
            p = put_long(p, n);
            for (int i = 0; i < f->nsym; i++) {
                if (!(bits & (1u << i)))
                    continue;
                if ((sym = enum_index(m, f, i, id, errstr, errstr_size)) < 0)
                    return NULL;
                p = put_long(p, sym);
            }
        }
        *p++ = 0;                       /* end of blocks */
        return p;
    }
    }
    errstr_fail(errstr, errstr_size, "field '%s' has an unknown kind", f->name);
    return NULL;
}

/* Make room for n bytes in c->buf. */
static int reserve(codec *c, size_t n, char *errstr, size_t errstr_size)
{
    size_t cap = c->cap;
    char *grown;

    if (n <= cap)
        return 0;
    while (cap < n)
        cap *= 2;
    grown = realloc(c->buf, cap);
    if (!grown)
        return errstr_fail(errstr, errstr_size, "out of memory growing the encode buffer");
    c->buf = grown;
    c->cap = cap;
    return 0;
}

/* Encode rec into c->buf after the header by following the slot's plan; the same bytes
 * as avro_value_write of the record as an avro-c value. With several bad fields, the first
 * in writer order is reported. */
static int encode_plan(codec *c, struct slot *s, const void *rec, size_t *body, char *errstr,
                       size_t errstr_size)
{
    unsigned bits = presence(s->type, rec);
    unsigned char *start, *p;

    if (s->encode_err[0])
        return errstr_fail(errstr, errstr_size, "%s", s->encode_err);
    if (s->plan_err[0])
        return errstr_fail(errstr, errstr_size, "%s", s->plan_err);
    if (reserve(c, HEADER_SIZE + s->max_body, errstr, errstr_size) < 0)
        return -1;
    start = p = (unsigned char *)c->buf + HEADER_SIZE;
    for (size_t i = 0; i < s->nplan; i++) {
        const struct enc_step *st = &s->plan[i];
        const codec_fields_def *f = st->f;
        const struct field_map *m = st->m;
        int has;

        if (!f) {
            memcpy(p, s->consts + st->off, st->len);
            p += st->len;
            continue;
        }
        has = present(bits, rec, f);
        if (m->value_branch >= 0) {
            if (!has && m->null_branch < 0)
                return required(f, s->id, errstr, errstr_size);
            p = put_long(p, has ? m->value_branch : m->null_branch);
            if (!has)
                continue;
        } else if (!has) {
            return required(f, s->id, errstr, errstr_size);
        }
        if (!(p = write_value(p, rec, f, m, s->id, errstr, errstr_size)))
            return -1;
    }
    *body = (size_t)(p - start);
    return 0;
}

static int encode(codec *c, int ti, const void *rec, int schema_id, const void **out,
                  size_t *len, char *errstr, size_t errstr_size)
{
    int id = schema_id > 0 ? schema_id : c->latest[ti].latest_id;
    struct slot *s;
    size_t body = 0;

    if (id <= 0)
        return errstr_fail(errstr, errstr_size, "no schema id to write '%s' with: this program "
                           "did not register it in the schema registry",
                           codec_fields_types[ti].subject);
    if (!(s = slot_get(c, &codec_fields_types[ti], id, errstr, errstr_size)))
        return -1;
    if (encode_plan(c, s, rec, &body, errstr, errstr_size) < 0)
        return -1;
    c->buf[0] = 0;
    c->buf[1] = (char)((uint32_t)s->id >> 24);
    c->buf[2] = (char)((uint32_t)s->id >> 16);
    c->buf[3] = (char)((uint32_t)s->id >> 8);
    c->buf[4] = (char)(uint32_t)s->id;
    *out = c->buf;
    *len = HEADER_SIZE + body;
    return 0;
}

int codec_encode_roster(codec *c, const roster_change *rc, int schema_id,
                        const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    return encode(c, CODEC_FIELDS_ROSTER, rc, schema_id, out, len, errstr, errstr_size);
}

int codec_encode_incident(codec *c, const incident *inc, int schema_id,
                          const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    return encode(c, CODEC_FIELDS_INCIDENT, inc, schema_id, out, len, errstr, errstr_size);
}

int codec_encode_claim_event(codec *c, const claim_event *ev, int schema_id,
                             const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    return encode(c, CODEC_FIELDS_CLAIM, ev, schema_id, out, len, errstr, errstr_size);
}

int codec_encode_coverage_change(codec *c, const coverage_change *cc, int schema_id,
                                 const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    return encode(c, CODEC_FIELDS_COVERAGE, cc, schema_id, out, len, errstr, errstr_size);
}

int codec_encode_invoice_event(codec *c, const invoice_event *ev, int schema_id,
                               const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    return encode(c, CODEC_FIELDS_INVOICE, ev, schema_id, out, len, errstr, errstr_size);
}

/* ---- checking a body against the writer schema ---- */

struct cursor {
    const uint8_t *start, *p, *end;
};

static int read_varint(struct cursor *cur, int64_t *out, int max_bytes, const char *what,
                       char *errstr, size_t errstr_size)
{
    uint64_t u = 0;
    size_t at = (size_t)(cur->p - cur->start);

    for (int i = 0; i < max_bytes; i++) {
        if (cur->p >= cur->end)
            return errstr_fail(errstr, errstr_size, "truncated avro body: %s at offset %zu", what, at);
        uint8_t b = *cur->p++;
        u |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return 0;
        }
    }
    return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu is a varint longer "
                       "than %d bytes", what, at, max_bytes);
}

static int need(struct cursor *cur, int64_t n, const char *what, char *errstr,
                size_t errstr_size)
{
    size_t at = (size_t)(cur->p - cur->start);

    if (n < 0)
        return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has negative "
                           "length %lld", what, at, (long long)n);
    if (n > cur->end - cur->p)
        return errstr_fail(errstr, errstr_size, "truncated avro body: %s needs %lld bytes at offset "
                           "%zu, %zu left", what, (long long)n, at, (size_t)(cur->end - cur->p));
    cur->p += n;
    return 0;
}

static int check_value(struct cursor *cur, avro_schema_t s, const char *what, int depth,
                       char *errstr, size_t errstr_size)
{
    int64_t v = 0;
    size_t at = (size_t)(cur->p - cur->start);

    s = resolve(s);
    if (depth > MAX_DEPTH)
        return errstr_fail(errstr, errstr_size, "malformed avro body: nesting deeper than %d at "
                           "offset %zu", MAX_DEPTH, at);
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (need(cur, 1, what, errstr, errstr_size) < 0)
            return -1;
        if (cur->p[-1] > 1)
            return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu is boolean "
                               "byte 0x%02x", what, at, cur->p[-1]);
        return 0;
    case AVRO_INT32:
        if (read_varint(cur, &v, 5, what, errstr, errstr_size) < 0)
            return -1;
        if (v < INT32_MIN || v > INT32_MAX)
            return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu does not "
                               "fit an int", what, at);
        return 0;
    case AVRO_INT64:
        return read_varint(cur, &v, 10, what, errstr, errstr_size);
    case AVRO_FLOAT:
        return need(cur, 4, what, errstr, errstr_size);
    case AVRO_DOUBLE:
        return need(cur, 8, what, errstr, errstr_size);
    case AVRO_FIXED:
        return need(cur, avro_schema_fixed_size(s), what, errstr, errstr_size);
    case AVRO_STRING: case AVRO_BYTES:
        if (read_varint(cur, &v, 10, what, errstr, errstr_size) < 0)
            return -1;
        return need(cur, v, what, errstr, errstr_size);
    case AVRO_ENUM:
        if (read_varint(cur, &v, 10, what, errstr, errstr_size) < 0)
            return -1;
        if (v < 0 || v >= avro_schema_enum_number_of_symbols(s))
            return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has enum "
                               "index %lld, outside 0..%d", what, at, (long long)v,
                               avro_schema_enum_number_of_symbols(s) - 1);
        return 0;
    case AVRO_UNION:
        if (read_varint(cur, &v, 10, what, errstr, errstr_size) < 0)
            return -1;
        if (v < 0 || (uint64_t)v >= avro_schema_union_size(s))
            return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has union "
                               "branch %lld, outside 0..%zu", what, at, (long long)v,
                               avro_schema_union_size(s) - 1);
        return check_value(cur, avro_schema_union_branch(s, (int)v), what, depth + 1, errstr,
                           errstr_size);
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(s); i++)
            if (check_value(cur, avro_schema_record_field_get_by_index(s, (int)i),
                            avro_schema_record_field_name(s, (int)i), depth + 1, errstr,
                            errstr_size) < 0)
                return -1;
        return 0;
    case AVRO_ARRAY: case AVRO_MAP: {
        int is_map = is_avro_map(s);
        avro_schema_t item = is_map ? avro_schema_map_values(s) : avro_schema_array_items(s);
        for (;;) {
            int64_t count = 0, bytes = 0;
            at = (size_t)(cur->p - cur->start);
            if (read_varint(cur, &count, 10, what, errstr, errstr_size) < 0)
                return -1;
            if (count == 0)
                return 0;
            if (count < 0) {
                if (count == INT64_MIN)
                    return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has "
                                       "a bad block count", what, at);
                if (read_varint(cur, &bytes, 10, what, errstr, errstr_size) < 0)
                    return -1;
                if (bytes < 0)
                    return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has "
                                       "negative block size", what, at);
                count = -count;
            }
            /* Every item takes at least one byte unless it is null. */
            if (count > cur->end - cur->p && !is_avro_null(resolve(item)))
                return errstr_fail(errstr, errstr_size, "truncated avro body: %s at offset %zu has "
                                   "%lld items, %zu bytes left", what, at, (long long)count,
                                   (size_t)(cur->end - cur->p));
            if (count > 65536)
                return errstr_fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has "
                                   "%lld items", what, at, (long long)count);
            for (int64_t i = 0; i < count; i++) {
                if (is_map) {
                    int64_t klen = 0;
                    if (read_varint(cur, &klen, 10, what, errstr, errstr_size) < 0
                        || need(cur, klen, what, errstr, errstr_size) < 0)
                        return -1;
                }
                if (check_value(cur, item, what, depth + 1, errstr, errstr_size) < 0)
                    return -1;
            }
        }
    }
    default:
        return errstr_fail(errstr, errstr_size, "schema type %s is not supported",
                           avro_schema_type_name(s));
    }
}

/* ---- decoding straight from the bytes ---- */

/* A zig-zag varint of at most max bytes at *p, read as the checked path and avro-c read it
 * (the bits of a tenth byte past 64 are dropped). 0 and *p past it, or -1. */
static int direct_varint(const uint8_t **p, const uint8_t *end, int max, int64_t *out)
{
    const uint8_t *q = *p;
    uint64_t u = 0;

    for (int i = 0; i < max && q < end; i++) {
        uint8_t b = *q++;
        u |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            *p = q;
            return 0;
        }
    }
    return -1;
}

/* Our value of enum symbol index sym of field m, or -1. */
static int direct_enum(const struct field_map *m, int64_t sym)
{
    return sym >= 0 && sym < m->nsym ? m->from_sym[sym] : -1;
}

/* The value of one field (not null) at *p into rec. 1 when present, 0 when absent (an empty
 * set), -1 when the direct pass does not accept it. */
static int direct_value(const codec_fields_def *f, const struct field_map *m,
                        const uint8_t **p, const uint8_t *end, void *rec)
{
    char *dst = (char *)rec + f->off;
    int64_t v;
    int ours;

    switch (f->kind) {
    case CODEC_FIELDS_STRING: case CODEC_FIELDS_CHAR:
        if (direct_varint(p, end, 10, &v) < 0 || v < 0 || v > end - *p)
            return -1;
        if (f->kind == CODEC_FIELDS_CHAR) {
            if (v != 1 || !**p || !strchr(f->chars, **p))
                return -1;
            *dst = (char)**p;
        } else {
            if ((size_t)v >= f->size || memchr(*p, '\0', (size_t)v))
                return -1;
            memcpy(dst, *p, (size_t)v);
            dst[v] = '\0';
        }
        *p += v;
        return 1;
    case CODEC_FIELDS_INT: case CODEC_FIELDS_DATE: {
        int32_t x;
        /* At most 4 bytes, within int32 (a fifth byte's bits avro-c folds into 32 bits, the
         * checked path checks). */
        if (direct_varint(p, end, 4, &v) < 0)
            return -1;
        x = (int32_t)v;
        memcpy(dst, &x, sizeof x);
        return 1;
    }
    case CODEC_FIELDS_LONG: case CODEC_FIELDS_TIMESTAMP:
        if (direct_varint(p, end, 10, &v) < 0)
            return -1;
        memcpy(dst, &v, sizeof v);
        return 1;
    case CODEC_FIELDS_BOOL:
        if (*p >= end || **p > 1)
            return -1;
        ours = *(*p)++;
        memcpy(dst, &ours, sizeof ours);
        return 1;
    case CODEC_FIELDS_ENUM:
        if (direct_varint(p, end, 10, &v) < 0 || (ours = direct_enum(m, v)) < 0)
            return -1;
        memcpy(dst, &ours, sizeof ours);
        return 1;
    case CODEC_FIELDS_ENUM_SET: {
        unsigned bits = 0;
        int64_t count = -1;
        /* Blocks of positive counts (the sized form is left to the checked path). */
        while (direct_varint(p, end, 10, &count) == 0 && count != 0) {
            if (count < 0 || count > end - *p)
                return -1;
            for (int64_t i = 0; i < count; i++) {
                if (direct_varint(p, end, 10, &v) < 0 || (ours = direct_enum(m, v)) < 0
                    || bits & (1u << ours))
                    return -1;
                bits |= 1u << ours;
            }
        }
        if (count != 0)
            return -1;
        memcpy(dst, &bits, sizeof bits);
        return bits != 0;
    }
    }
    return -1;
}

/* The Avro body [p, end) of writer s into rec in one pass. 0, or -1 when the pass does not
 * accept it: a malformed body, a value the record refuses, a form it leaves to avro-c (an
 * int of 5 bytes, an array block with its size). */
static int decode_direct(const struct slot *s, const uint8_t *p, const uint8_t *end, void *rec)
{
    const codec_fields_type *t = s->type;

    memcpy(rec, s->blank, t->size);
    for (size_t k = 0; k < s->ndplan; k++) {
        const struct dec_step *st = &s->dplan[k];
        int64_t branch;
        int rc;

        if (st->branches) {
            if (direct_varint(&p, end, 10, &branch) < 0 || branch < 0 || branch >= st->branches)
                return -1;
            if (branch == st->m->null_branch)
                continue;
        }
        if ((rc = direct_value(st->f, st->m, &p, end, rec)) < 0)
            return -1;
        if (rc)
            mark_present(t, rec, st->f->bit);
    }
    return p == end ? 0 : -1;
}

/* ---- decoding ---- */

static int take_enum(const avro_value_t *v, const codec_fields_def *f, const struct field_map *m,
                     int *ours, char *errstr, size_t errstr_size)
{
    int sym;

    if (avro_value_get_enum(v, &sym) != 0)
        return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
    if (sym < 0 || sym >= m->nsym || m->from_sym[sym] < 0)
        return errstr_fail(errstr, errstr_size, "field '%s' symbol '%s' is unknown to this program",
                           f->name, sym >= 0 && sym < m->nsym ? avro_schema_enum_get(m->enum_schema, sym)
                                                       : "?");
    *ours = m->from_sym[sym];
    return 0;
}

static int take_value(const codec_fields_type *t, avro_value_t *v, void *rec,
                      const codec_fields_def *f, const struct field_map *m, char *errstr,
                      size_t errstr_size)
{
    char *p = (char *)rec + f->off;
    int rval = 0, ours;

    switch (f->kind) {
    case CODEC_FIELDS_STRING: case CODEC_FIELDS_CHAR: {
        const char *str;
        size_t size;
        rval = avro_value_get_string(v, &str, &size);
        if (rval == 0 && put_string(rec, f, str, size ? size - 1 : 0, errstr, errstr_size) < 0)
            return -1;
        break;
    }
    case CODEC_FIELDS_INT: case CODEC_FIELDS_DATE: {
        int32_t x = 0;
        rval = avro_value_get_int(v, &x);
        memcpy(p, &x, sizeof x);
        break;
    }
    case CODEC_FIELDS_LONG: case CODEC_FIELDS_TIMESTAMP: {
        int64_t x = 0;
        rval = avro_value_get_long(v, &x);
        memcpy(p, &x, sizeof x);
        break;
    }
    case CODEC_FIELDS_BOOL: {
        int x = 0;
        rval = avro_value_get_boolean(v, &x);
        x = x != 0;
        memcpy(p, &x, sizeof x);
        break;
    }
    case CODEC_FIELDS_ENUM:
        if (take_enum(v, f, m, &ours, errstr, errstr_size) < 0)
            return -1;
        memcpy(p, &ours, sizeof ours);
        break;
    case CODEC_FIELDS_ENUM_SET: {
        size_t n = 0;
        unsigned bits = 0;
        rval = avro_value_get_size(v, &n);
        for (size_t i = 0; i < n && rval == 0; i++) {
            avro_value_t item;
            if ((rval = avro_value_get_by_index(v, i, &item, NULL)) != 0)
                break;
            if (take_enum(&item, f, m, &ours, errstr, errstr_size) < 0)
                return -1;
            if (bits & (1u << ours))
                return errstr_fail(errstr, errstr_size, "field '%s' lists '%s' twice", f->name,
                                   f->sym(ours));
            bits |= 1u << ours;
        }
        memcpy(p, &bits, sizeof bits);
        if (rval == 0 && bits == 0)
            return 0;
        break;
    }
    }
    if (rval != 0)
        return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
    mark_present(t, rec, f->bit);
    return 0;
}

static int decode(codec *c, int ti, const void *data, size_t len, void *rec, int *schema_id,
                  char *errstr, size_t errstr_size)
{
    const codec_fields_type *t = &codec_fields_types[ti];
    const uint8_t *b = data;
    struct cursor cur;
    struct slot *s;
    uint32_t id;

    if (len < HEADER_SIZE)
        return errstr_fail(errstr, errstr_size, "message of %zu bytes is shorter than the %d-byte "
                           "header", len, HEADER_SIZE);
    if (b[0] != 0)
        return errstr_fail(errstr, errstr_size, "magic byte 0x%02x at offset 0 is not 0", b[0]);
    id = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
    if (id == 0 || id > INT32_MAX)
        return errstr_fail(errstr, errstr_size, "unknown schema id %u", id);
    c->unavailable = 0;
    s = slot_get(c, t, (int)id, errstr, errstr_size);
    if (!s)
        return c->unavailable ? CODEC_UNAVAILABLE : -1;
    if (s->decode_err[0])
        return errstr_fail(errstr, errstr_size, "%s", s->decode_err);
    if (!c->indirect && s->dplan && decode_direct(s, b + HEADER_SIZE, b + len, rec) == 0) {
        c->direct++;
        if (schema_id)
            *schema_id = (int)id;
        return 0;
    }
    cur.start = b;
    cur.p = b + HEADER_SIZE;
    cur.end = b + len;
    if (check_value(&cur, s->schema, "record", 0, errstr, errstr_size) < 0)
        return -1;
    if (cur.p != cur.end)
        return errstr_fail(errstr, errstr_size, "malformed avro body: %zu trailing bytes at offset %zu",
                           (size_t)(cur.end - cur.p), (size_t)(cur.p - cur.start));

    avro_reader_memory_set_source(c->reader, (const char *)b + HEADER_SIZE,
                                  (int64_t)(len - HEADER_SIZE));
    if (avro_value_read(c->reader, &s->value) != 0)
        return errstr_fail(errstr, errstr_size, "avro read (schema id %u): %s", id, avro_strerror());

    memcpy(rec, s->blank, t->size);
    for (size_t i = 0; i < t->nfields; i++) {
        const codec_fields_def *f = &t->fields[i];
        const struct field_map *m = &s->map[i];
        avro_value_t field, branch, *v = &field;

        if (m->index < 0)
            continue;
        if (avro_value_get_by_index(&s->value, (size_t)m->index, &field, NULL) != 0)
            return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
        if (m->value_branch >= 0) {
            int disc;
            if (avro_value_get_discriminant(&field, &disc) != 0
                || avro_value_get_current_branch(&field, &branch) != 0)
                return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
            if (disc == m->null_branch)
                continue;
            v = &branch;
        }
        if (take_value(t, v, rec, f, m, errstr, errstr_size) < 0)
            return -1;
    }
    if (schema_id)
        *schema_id = (int)id;
    return 0;
}

int codec_decode_roster(codec *c, const void *data, size_t len, roster_change *rc,
                        int *schema_id, char *errstr, size_t errstr_size)
{
    return decode(c, CODEC_FIELDS_ROSTER, data, len, rc, schema_id, errstr, errstr_size);
}

int codec_decode_incident(codec *c, const void *data, size_t len, incident *inc,
                          int *schema_id, char *errstr, size_t errstr_size)
{
    return decode(c, CODEC_FIELDS_INCIDENT, data, len, inc, schema_id, errstr, errstr_size);
}

int codec_decode_claim_event(codec *c, const void *data, size_t len, claim_event *ev,
                             int *schema_id, char *errstr, size_t errstr_size)
{
    return decode(c, CODEC_FIELDS_CLAIM, data, len, ev, schema_id, errstr, errstr_size);
}

int codec_decode_coverage_change(codec *c, const void *data, size_t len, coverage_change *cc,
                                 int *schema_id, char *errstr, size_t errstr_size)
{
    return decode(c, CODEC_FIELDS_COVERAGE, data, len, cc, schema_id, errstr, errstr_size);
}

int codec_decode_invoice_event(codec *c, const void *data, size_t len, invoice_event *ev,
                               int *schema_id, char *errstr, size_t errstr_size)
{
    return decode(c, CODEC_FIELDS_INVOICE, data, len, ev, schema_id, errstr, errstr_size);
}
