/* avro_ref: a codec record -> avro-c generic value -> avro_value_write (see avro_ref.h). */
#include "avro_ref.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <jansson.h>

#include "catalog.h"
#include "codec_fields.h"
#include "errstr.h"
#include "roster.h"

#define HEADER_SIZE 5

static int avro_fail(const codec_fields_def *f, char *errstr, size_t errstr_size)
{
    return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
}

static avro_schema_t resolve(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

/* The member of f in rec, widened: int, int32_t and unsigned members are 4 bytes,
 * int64_t members 8 (the table records the size). */
static int64_t member_int(const void *rec, const codec_fields_def *f)
{
    const char *p = (const char *)rec + f->off;

    if (f->size == sizeof(int64_t)) {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static unsigned member_bits(const void *rec, const codec_fields_def *f)
{
    unsigned v;

    memcpy(&v, (const char *)rec + f->off, sizeof v);
    return v;
}

/* The presence rule of codec_fields.h: a required field always; an optional one when its
 * bit is set and its value is not its kind's none marker. */
static int is_present(const codec_fields_type *t, const void *rec, const codec_fields_def *f)
{
    unsigned bits;

    if (f->bit == 0)
        return 1;
    memcpy(&bits, (const char *)rec + t->bits_off, sizeof bits);
    if (!(bits & f->bit))
        return 0;
    switch (f->kind) {
    case CODEC_FIELDS_CHAR: return *((const char *)rec + f->off) != '\0';
    case CODEC_FIELDS_INT: return member_int(rec, f) != 0;
    case CODEC_FIELDS_DATE: return member_int(rec, f) != DATE_NONE;
    case CODEC_FIELDS_LONG: case CODEC_FIELDS_TIMESTAMP: return member_int(rec, f) != INT64_MIN;
    case CODEC_FIELDS_ENUM: return member_int(rec, f) >= 0;
    case CODEC_FIELDS_ENUM_SET: return member_bits(rec, f) != 0;
    case CODEC_FIELDS_STRING: case CODEC_FIELDS_BOOL: return 1;
    }
    return 1;
}

/* Set enum value v to the symbol named as our value ours. */
static int set_enum(avro_value_t *v, const codec_fields_def *f, int64_t ours, int id,
                    char *errstr, size_t errstr_size)
{
    const char *name = ours >= 0 && ours < f->nsym ? f->sym((int)ours) : NULL;
    int sym;

    if (!name)
        return errstr_fail(errstr, errstr_size, "field '%s' has out-of-range value %lld", f->name,
                           (long long)ours);
    sym = avro_schema_enum_get_by_name(avro_value_get_schema(v), name);
    if (sym < 0)
        return errstr_fail(errstr, errstr_size, "field '%s' value '%s' is not a symbol of schema "
                           "id %d", f->name, name, id);
    return avro_value_set_enum(v, sym) ? avro_fail(f, errstr, errstr_size) : 0;
}

/* Set v (the field, or its value branch) to the member of f in rec. */
static int set_member(avro_value_t *v, const void *rec, const codec_fields_def *f, int id,
                      char *errstr, size_t errstr_size)
{
    const char *p = (const char *)rec + f->off;
    int rval = 0;

    switch (f->kind) {
    case CODEC_FIELDS_STRING: {
        size_t n = strnlen(p, f->size);
        if (n == f->size)
            return errstr_fail(errstr, errstr_size, "field '%s' is not NUL-terminated", f->name);
        rval = avro_value_set_string_len(v, p, n + 1);
        break;
    }
    case CODEC_FIELDS_CHAR: {
        char s[2] = {*p, '\0'};
        rval = avro_value_set_string_len(v, s, sizeof s);
        break;
    }
    case CODEC_FIELDS_INT: case CODEC_FIELDS_DATE:
        rval = avro_value_set_int(v, (int32_t)member_int(rec, f));
        break;
    case CODEC_FIELDS_LONG: case CODEC_FIELDS_TIMESTAMP:
        rval = avro_value_set_long(v, member_int(rec, f));
        break;
    case CODEC_FIELDS_BOOL:
        rval = avro_value_set_boolean(v, member_int(rec, f) != 0);
        break;
    case CODEC_FIELDS_ENUM:
        return set_enum(v, f, member_int(rec, f), id, errstr, errstr_size);
    case CODEC_FIELDS_ENUM_SET: {
        unsigned bits = member_bits(rec, f);
        if (bits >> f->nsym)
            return errstr_fail(errstr, errstr_size, "field '%s' has unknown bits 0x%x", f->name,
                               bits);
        for (int i = 0; i < f->nsym; i++) {
            avro_value_t item;
            if (!(bits & 1u << i))
                continue;
            if (avro_value_append(v, &item, NULL) != 0)
                return avro_fail(f, errstr, errstr_size);
            if (set_enum(&item, f, i, id, errstr, errstr_size) < 0)
                return -1;
        }
        break;
    }
    }
    return rval ? avro_fail(f, errstr, errstr_size) : 0;
}

/* Set writer field v from the record's f: the value, or null when f is absent and the
 * field is a union with a null branch. */
static int set_field(avro_value_t *v, const codec_fields_type *t, const void *rec,
                     const codec_fields_def *f, int id, char *errstr, size_t errstr_size)
{
    int has = is_present(t, rec, f), null_branch = -1, value_branch = -1;
    avro_schema_t u = resolve(avro_value_get_schema(v));
    avro_value_t branch;

    if (!is_avro_union(u)) {
        if (!has)
            return errstr_fail(errstr, errstr_size, "field '%s' is required by schema id %d",
                               f->name, id);
        return set_member(v, rec, f, id, errstr, errstr_size);
    }
    for (size_t i = 0; i < avro_schema_union_size(u); i++) {
        if (is_avro_null(resolve(avro_schema_union_branch(u, (int)i)))) {
            if (null_branch < 0)
                null_branch = (int)i;
        } else if (value_branch < 0) {
            value_branch = (int)i;
        }
    }
    if (!has && null_branch < 0)
        return errstr_fail(errstr, errstr_size, "field '%s' is required by schema id %d",
                           f->name, id);
    if (has && value_branch < 0)
        return errstr_fail(errstr, errstr_size, "schema id %d: field '%s' holds only null", id,
                           f->name);
    if (avro_value_set_branch(v, has ? value_branch : null_branch, &branch) != 0)
        return avro_fail(f, errstr, errstr_size);
    if (!has)
        return avro_value_set_null(&branch) ? avro_fail(f, errstr, errstr_size) : 0;
    return set_member(&branch, rec, f, id, errstr, errstr_size);
}

/* Set v from a JSON default (Avro rule: a union's default is of its first branch).
 * Returns 0 or an errno value. */
static int set_default(avro_value_t *v, json_t *j)
{
    avro_value_t child;
    const char *key;
    json_t *item;
    size_t i;
    int rval;

    switch (avro_value_get_type(v)) {
    case AVRO_NULL: return json_is_null(j) ? avro_value_set_null(v) : EINVAL;
    case AVRO_BOOLEAN:
        return json_is_boolean(j) ? avro_value_set_boolean(v, json_is_true(j)) : EINVAL;
    case AVRO_INT32:
        return json_is_integer(j) ? avro_value_set_int(v, (int32_t)json_integer_value(j)) : EINVAL;
    case AVRO_INT64:
        return json_is_integer(j) ? avro_value_set_long(v, json_integer_value(j)) : EINVAL;
    case AVRO_FLOAT:
        return json_is_number(j) ? avro_value_set_float(v, (float)json_number_value(j)) : EINVAL;
    case AVRO_DOUBLE:
        return json_is_number(j) ? avro_value_set_double(v, json_number_value(j)) : EINVAL;
    case AVRO_STRING:
        return json_is_string(j) ? avro_value_set_string_len(v, json_string_value(j),
                                                             json_string_length(j) + 1) : EINVAL;
    case AVRO_ENUM: {
        int sym = json_is_string(j) ? avro_schema_enum_get_by_name(avro_value_get_schema(v),
                                                                   json_string_value(j)) : -1;
        return sym >= 0 ? avro_value_set_enum(v, sym) : EINVAL;
    }
    case AVRO_UNION:
        return (rval = avro_value_set_branch(v, 0, &child)) != 0 ? rval : set_default(&child, j);
    case AVRO_ARRAY:
        if (!json_is_array(j))
            return EINVAL;
        json_array_foreach(j, i, item)
            if ((rval = avro_value_append(v, &child, NULL)) != 0
                || (rval = set_default(&child, item)) != 0)
                return rval;
        return 0;
    case AVRO_MAP:
        if (!json_is_object(j))
            return EINVAL;
        json_object_foreach(j, key, item)
            if ((rval = avro_value_add(v, key, &child, NULL, NULL)) != 0
                || (rval = set_default(&child, item)) != 0)
                return rval;
        return 0;
    case AVRO_RECORD:
        if (!json_is_object(j))
            return EINVAL;
        json_object_foreach(j, key, item)
            if ((rval = avro_value_get_by_name(v, key, &child, NULL)) != 0
                || (rval = set_default(&child, item)) != 0)
                return rval;
        return 0;
    default:
        return EINVAL;
    }
}

/* The C field named name, or NULL when the record type does not carry it. */
static const codec_fields_def *field_named(const codec_fields_type *t, const char *name)
{
    for (size_t i = 0; i < t->nfields; i++)
        if (strcmp(t->fields[i].name, name) == 0)
            return &t->fields[i];
    return NULL;
}

/* The "default" of field name in the schema JSON; NULL when it has none. */
static json_t *default_of(json_t *schema, const char *name)
{
    json_t *item;
    size_t i;

    json_array_foreach(json_object_get(schema, "fields"), i, item) {
        const char *n = json_string_value(json_object_get(item, "name"));
        if (n && strcmp(n, name) == 0)
            return json_object_get(item, "default");
    }
    return NULL;
}

/* Fill record value v of writer schema s (schema id id, JSON text json) from rec: first
 * the writer fields rec does not carry, from their defaults, then the others in writer
 * order, so the first refusal is the one the codec reports. */
static int fill(avro_value_t *v, avro_schema_t s, int id, const char *json,
                const codec_fields_type *t, const void *rec, char *errstr, size_t errstr_size)
{
    size_t n = avro_schema_record_size(s);
    json_t *schema = NULL;
    int rval = 0;

    for (size_t i = 0; i < n && rval == 0; i++) {
        const char *name = avro_schema_record_field_name(s, (int)i);
        avro_value_t field;
        json_t *def;

        if (field_named(t, name))
            continue;
        if (!schema && !(schema = json_loads(json, 0, NULL))) {
            rval = errstr_fail(errstr, errstr_size, "schema id %d: its JSON does not parse", id);
            break;
        }
        if (!(def = default_of(schema, name)))
            rval = errstr_fail(errstr, errstr_size, "schema id %d field '%s' is unknown to this "
                               "program and has no default", id, name);
        else if (avro_value_get_by_index(v, i, &field, NULL) != 0 || set_default(&field, def) != 0)
            rval = errstr_fail(errstr, errstr_size, "schema id %d: default of field '%s' does not "
                               "fit its type", id, name);
    }
    json_decref(schema);
    for (size_t i = 0; i < n && rval == 0; i++) {
        const codec_fields_def *f = field_named(t, avro_schema_record_field_name(s, (int)i));
        avro_value_t field;

        if (!f)
            continue;
        if (avro_value_get_by_index(v, i, &field, NULL) != 0)
            rval = avro_fail(f, errstr, errstr_size);
        else
            rval = set_field(&field, t, rec, f, id, errstr, errstr_size);
    }
    return rval;
}

/* The catalog entry of schema_id (the subject's latest when 0), checked against subject. */
static const struct catalog_entry *entry_of(const char *subject, int schema_id, char *errstr,
                                            size_t errstr_size)
{
    const struct catalog_entry *e = schema_id ? catalog_find(schema_id) : catalog_latest(subject);

    if (!e && schema_id)
        errstr_fail(errstr, errstr_size, "unknown schema id %d", schema_id);
    else if (!e)
        errstr_fail(errstr, errstr_size, "catalog has no '%s' schema", subject);
    else if (strcmp(e->subject, subject) != 0)
        errstr_fail(errstr, errstr_size, "schema id %d is subject '%s', not '%s'", e->id,
                    e->subject, subject);
    else
        return e;
    return NULL;
}

int avro_ref_encode(const char *subject, int schema_id, const void *rec, unsigned char **out,
                    size_t *len, char *errstr, size_t errstr_size)
{
    const codec_fields_type *t = NULL;
    const struct catalog_entry *e;
    avro_value_iface_t *iface = NULL;
    avro_value_t value = {0};
    avro_writer_t w = NULL;
    avro_schema_t s;
    unsigned char *buf = NULL;
    size_t size = 0;
    int rval = -1;

    for (int i = 0; i < CODEC_FIELDS_NTYPES; i++)
        if (strcmp(codec_fields_types[i].subject, subject) == 0)
            t = &codec_fields_types[i];
    if (!t)
        return errstr_fail(errstr, errstr_size, "no C record type has subject '%s'", subject);
    if (!(e = entry_of(subject, schema_id, errstr, errstr_size)))
        return -1;
    if (!(s = catalog_schema(e->id, errstr, errstr_size)))
        return -1;
    if (!is_avro_record(s))
        return errstr_fail(errstr, errstr_size, "schema id %d is not a record", e->id);
    if (!(iface = avro_generic_class_from_schema(s))
        || avro_generic_value_new(iface, &value) != 0) {
        errstr_fail(errstr, errstr_size, "schema id %d: %s", e->id, avro_strerror());
        goto out;
    }
    if (fill(&value, s, e->id, e->json, t, rec, errstr, errstr_size) < 0)
        goto out;
    if (avro_value_sizeof(&value, &size) != 0 || !(buf = malloc(HEADER_SIZE + size))
        || !(w = avro_writer_memory((char *)buf + HEADER_SIZE, (int64_t)size))) {
        errstr_fail(errstr, errstr_size, "schema id %d: sizing the body: %s", e->id,
                    avro_strerror());
        goto out;
    }
    if (avro_value_write(w, &value) != 0 || (size_t)avro_writer_tell(w) != size) {
        errstr_fail(errstr, errstr_size, "avro write: %s", avro_strerror());
        goto out;
    }
    buf[0] = 0;
    buf[1] = (unsigned char)((uint32_t)e->id >> 24);
    buf[2] = (unsigned char)((uint32_t)e->id >> 16);
    buf[3] = (unsigned char)((uint32_t)e->id >> 8);
    buf[4] = (unsigned char)(uint32_t)e->id;
    *out = buf;
    *len = HEADER_SIZE + size;
    buf = NULL;
    rval = 0;
out:
    free(buf);
    if (w)
        avro_writer_free(w);
    if (iface) {
        if (value.iface)
            avro_value_decref(&value);
        avro_value_iface_decref(iface);
    }
    return rval;
}
