/* codec: RosterChange <-> Confluent-framed Avro, with per-schema-id caches. */
#include "codec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <jansson.h>

#include "catalog.h"

#define HEADER_SIZE 5
/* Small on purpose: a full ENROLL record needs more, so growth is exercised early. */
#define INITIAL_BUF 128
/* Enums with more symbols than this are refused when a schema is loaded. */
#define MAX_SYMBOLS 64
/* Nesting limit when checking a body against a (possibly recursive) schema. */
#define MAX_DEPTH 32

typedef enum {
    FK_STRING, FK_GENDER, FK_INT, FK_DATE, FK_LONG, FK_TIMESTAMP,
    FK_CHANGE, FK_INSTITUTION, FK_ROLE, FK_PROGRAMS
} field_kind;

/* A RosterChange field the C record carries; rf == 0 marks a field every record has. */
struct field_def {
    const char *name;
    field_kind kind;
    unsigned rf;
    size_t off;
    size_t size;
};

#define F(name, kind, rf) {#name, kind, rf, offsetof(roster_change, name), \
                           sizeof(((roster_change *)0)->name)}
static const struct field_def fields[] = {
    F(event_id, FK_STRING, 0),
    F(source, FK_STRING, 0),
    {"event_time", FK_TIMESTAMP, 0, offsetof(roster_change, event_time_us), sizeof(int64_t)},
    F(change, FK_CHANGE, 0),
    F(nik, FK_STRING, 0),
    F(full_name, FK_STRING, RF_FULL_NAME),
    F(birth_date, FK_DATE, RF_BIRTH_DATE),
    F(gender, FK_GENDER, RF_GENDER),
    F(institution, FK_INSTITUTION, RF_INSTITUTION),
    F(role, FK_ROLE, RF_ROLE),
    F(region_code, FK_STRING, RF_REGION),
    F(tps, FK_INT, RF_TPS),
    F(term_start, FK_DATE, RF_TERM_START),
    F(term_end, FK_DATE, RF_TERM_END),
    F(effective_date, FK_DATE, RF_EFFECTIVE),
    F(monthly_wage, FK_LONG, RF_WAGE),
    F(programs, FK_PROGRAMS, RF_PROGRAMS),
    F(agreement_id, FK_STRING, RF_AGREEMENT),
    F(kpj, FK_STRING, RF_KPJ),
    F(phone, FK_STRING, RF_PHONE),
};
#undef F
#define NFIELDS (sizeof fields / sizeof fields[0])

static const char *const program_symbols[] = {"JKK", "JKM", "JHT"};
static const unsigned program_bits[] = {PROG_JKK, PROG_JKM, PROG_JHT};

/* How one field of the C record sits in one writer schema. */
struct field_map {
    int index;            /* field index in the writer record; -1 when the writer lacks it */
    int null_branch;      /* union branch holding null; -1 when the field is not nullable */
    int value_branch;     /* union branch holding the value; -1 when the field is no union */
    int nsym;             /* enum (or programs item enum) symbol count */
    int to_sym[16];       /* our enum value / program bit position -> symbol index, -1 none */
    int from_sym[MAX_SYMBOLS]; /* symbol index -> our value / program bit, -1 unknown */
    avro_schema_t enum_schema;
};

/* Everything cached for one writer schema id. */
struct slot {
    int id;
    avro_schema_t schema;           /* borrowed from the catalog */
    avro_value_iface_t *iface;
    avro_value_t value;
    struct field_map map[NFIELDS];
    roster_change blank;            /* absent everywhere, plus reader defaults */
    char decode_err[256];           /* set when this writer cannot be read into the latest */
    /* Writer fields the C record does not carry, written as their schema default. */
    json_t *writer_json;
    size_t nextra;
    struct extra_field { int index; json_t *def; } *extra;
    char encode_err[256];           /* set when such a field has no default */
};

struct codec {
    struct slot **slots;
    size_t nslots;
    int latest_id;
    json_t *reader_json;            /* the latest roster schema, for field defaults */
    avro_writer_t writer;
    char *buf;
    size_t cap;
    avro_reader_t reader;
};

static int fail(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

static avro_schema_t resolve(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

/* Symbol name of our enum value i of an enum kind; NULL when out of range. */
static const char *our_symbol(field_kind kind, int i)
{
    switch (kind) {
    case FK_CHANGE: return roster_change_name((roster_change_kind)i);
    case FK_INSTITUTION: return roster_institution_name((roster_institution)i);
    case FK_ROLE: return roster_role_name((roster_role)i);
    case FK_PROGRAMS: return (i >= 0 && i < 3) ? program_symbols[i] : NULL;
    default: return NULL;
    }
}

static int our_symbol_count(field_kind kind)
{
    switch (kind) {
    case FK_CHANGE: return CHANGE__COUNT;
    case FK_INSTITUTION: return INST__COUNT;
    case FK_ROLE: return ROLE__COUNT;
    case FK_PROGRAMS: return 3;
    default: return 0;
    }
}

static int our_symbol_parse(field_kind kind, const char *name)
{
    int n = our_symbol_count(kind);

    for (int i = 0; i < n; i++)
        if (strcmp(our_symbol(kind, i), name) == 0)
            return i;
    return -1;
}

static avro_type_t expected_type(field_kind kind)
{
    switch (kind) {
    case FK_STRING: case FK_GENDER: return AVRO_STRING;
    case FK_INT: case FK_DATE: return AVRO_INT32;
    case FK_LONG: case FK_TIMESTAMP: return AVRO_INT64;
    case FK_PROGRAMS: return AVRO_ARRAY;
    default: return AVRO_ENUM;
    }
}

/* Build both directions of an enum mapping by symbol name. */
static int map_enum(struct field_map *m, const struct field_def *f, avro_schema_t en,
                    int id, char *errstr, size_t errstr_size)
{
    int nsym = avro_schema_enum_number_of_symbols(en);
    int ours = our_symbol_count(f->kind);

    if (nsym < 0 || nsym > MAX_SYMBOLS)
        return fail(errstr, errstr_size, "schema id %d: enum of field '%s' has %d symbols, "
                    "more than %d", id, f->name, nsym, MAX_SYMBOLS);
    m->enum_schema = en;
    m->nsym = nsym;
    for (int i = 0; i < nsym; i++)
        m->from_sym[i] = our_symbol_parse(f->kind, avro_schema_enum_get(en, i));
    for (int i = 0; i < ours; i++)
        m->to_sym[i] = avro_schema_enum_get_by_name(en, our_symbol(f->kind, i));
    return 0;
}

/* Find where field f sits in the writer record and check its type. */
static int map_field(struct field_map *m, const struct field_def *f, avro_schema_t rec,
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
                return fail(errstr, errstr_size, "schema id %d: field '%s' is a union other "
                            "than [null, T]", id, f->name);
        }
        if (m->value_branch < 0)
            return fail(errstr, errstr_size, "schema id %d: field '%s' holds only null",
                        id, f->name);
    }
    if (avro_typeof(v) != expected_type(f->kind))
        return fail(errstr, errstr_size, "schema id %d: field '%s' is %s, expected %s", id,
                    f->name, avro_schema_type_name(v),
                    f->kind == FK_STRING || f->kind == FK_GENDER ? "string"
                    : expected_type(f->kind) == AVRO_ENUM ? "enum"
                    : expected_type(f->kind) == AVRO_ARRAY ? "array"
                    : expected_type(f->kind) == AVRO_INT32 ? "int" : "long");
    if (f->kind == FK_PROGRAMS) {
        v = resolve(avro_schema_array_items(v));
        if (!is_avro_enum(v))
            return fail(errstr, errstr_size, "schema id %d: items of field '%s' are not an "
                        "enum", id, f->name);
    }
    if (is_avro_enum(v))
        return map_enum(m, f, v, id, errstr, errstr_size);
    return 0;
}

/* Store a decoded string into the record field, checking its size. */
static int put_string(roster_change *rc, const struct field_def *f, const char *s, size_t n,
                      char *errstr, size_t errstr_size)
{
    char *dst = (char *)rc + f->off;

    if (f->kind == FK_GENDER) {
        if (n != 1 || (s[0] != 'L' && s[0] != 'P'))
            return fail(errstr, errstr_size, "field 'gender' value '%.*s' is not L or P",
                        (int)(n > 8 ? 8 : n), s);
        *dst = s[0];
        return 0;
    }
    if (n >= f->size)
        return fail(errstr, errstr_size, "field '%s' has %zu bytes, more than %zu", f->name,
                    n, f->size - 1);
    if (memchr(s, '\0', n))
        return fail(errstr, errstr_size, "field '%s' contains a NUL byte", f->name);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* Apply a reader-schema default (JSON) to the blank record of a writer lacking f. */
static int apply_default(roster_change *rc, const struct field_def *f, json_t *def,
                         char *errstr, size_t errstr_size)
{
    char *p = (char *)rc + f->off;

    if (json_is_null(def))
        return 0;
    switch (f->kind) {
    case FK_STRING: case FK_GENDER:
        if (!json_is_string(def))
            goto bad;
        if (put_string(rc, f, json_string_value(def), json_string_length(def), errstr,
                       errstr_size) < 0)
            return -1;
        break;
    case FK_INT: case FK_DATE:
        if (!json_is_integer(def) || json_integer_value(def) < INT32_MIN
            || json_integer_value(def) > INT32_MAX)
            goto bad;
        if (f->kind == FK_INT)
            *(int *)(void *)p = (int)json_integer_value(def);
        else
            *(int32_t *)(void *)p = (int32_t)json_integer_value(def);
        break;
    case FK_LONG: case FK_TIMESTAMP:
        if (!json_is_integer(def))
            goto bad;
        *(int64_t *)(void *)p = json_integer_value(def);
        break;
    case FK_CHANGE: case FK_INSTITUTION: case FK_ROLE: {
        int v = json_is_string(def) ? our_symbol_parse(f->kind, json_string_value(def)) : -1;
        if (v < 0)
            goto bad;
        *(int *)(void *)p = v;
        break;
    }
    case FK_PROGRAMS: {
        size_t i;
        json_t *item;
        unsigned bits = 0;
        if (!json_is_array(def))
            goto bad;
        json_array_foreach(def, i, item) {
            int v = json_is_string(item) ? our_symbol_parse(f->kind, json_string_value(item)) : -1;
            if (v < 0)
                goto bad;
            bits |= program_bits[v];
        }
        rc->programs = bits;
        if (!bits)
            return 0;
        break;
    }
    }
    rc->fields |= f->rf;
    return 0;
bad:
    return fail(errstr, errstr_size, "default of field '%s' does not fit its type", f->name);
}

/* Prepare the record blank for a writer schema: reader defaults for the fields it lacks. */
static void prepare_blank(codec *c, struct slot *s)
{
    json_t *rfields = json_object_get(c->reader_json, "fields");
    char err[200];

    roster_change_init(&s->blank);
    for (size_t i = 0; i < NFIELDS; i++) {
        json_t *rf = NULL, *item, *def;
        size_t k;

        if (s->map[i].index >= 0)
            continue;
        json_array_foreach(rfields, k, item) {
            const char *name = json_string_value(json_object_get(item, "name"));
            if (name && strcmp(name, fields[i].name) == 0)
                rf = item;
        }
        if (!rf)
            continue;
        def = json_object_get(rf, "default");
        if (!def) {
            snprintf(s->decode_err, sizeof s->decode_err, "writer schema id %d lacks field "
                     "'%s', which latest schema id %d has without a default", s->id,
                     fields[i].name, c->latest_id);
            return;
        }
        if (apply_default(&s->blank, &fields[i], def, err, sizeof err) < 0) {
            snprintf(s->decode_err, sizeof s->decode_err, "latest schema id %d: %s",
                     c->latest_id, err);
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
        return fail(errstr, errstr_size, "schema id %d: cannot read its JSON fields", s->id);
    s->extra = calloc(n ? n : 1, sizeof *s->extra);
    if (!s->extra)
        return fail(errstr, errstr_size, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(s->schema, (int)i);
        int known = 0;
        json_t *item, *def = NULL;
        size_t k;

        for (size_t f = 0; f < NFIELDS && !known; f++)
            known = strcmp(fields[f].name, name) == 0;
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

static void slot_free(struct slot *s)
{
    if (!s)
        return;
    json_decref(s->writer_json);
    free(s->extra);
    if (s->iface) {
        avro_value_decref(&s->value);
        avro_value_iface_decref(s->iface);
    }
    free(s);
}

static struct slot *slot_new(codec *c, int id, char *errstr, size_t errstr_size)
{
    const struct catalog_entry *e = catalog_find(id);
    struct slot *s = NULL;

    if (!e) {
        fail(errstr, errstr_size, "unknown schema id %d", id);
        return NULL;
    }
    if (strcmp(e->subject, CODEC_ROSTER_SUBJECT) != 0) {
        fail(errstr, errstr_size, "schema id %d is subject '%s', not '%s'", id, e->subject,
             CODEC_ROSTER_SUBJECT);
        return NULL;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->id = id;
    s->schema = catalog_schema(id, errstr, errstr_size);
    if (!s->schema)
        goto err;
    if (!is_avro_record(s->schema)) {
        fail(errstr, errstr_size, "schema id %d is not a record", id);
        goto err;
    }
    for (size_t i = 0; i < NFIELDS; i++)
        if (map_field(&s->map[i], &fields[i], s->schema, id, errstr, errstr_size) < 0)
            goto err;
    s->iface = avro_generic_class_from_schema(s->schema);
    if (!s->iface) {
        fail(errstr, errstr_size, "schema id %d: %s", id, avro_strerror());
        goto err;
    }
    if (avro_generic_value_new(s->iface, &s->value) != 0) {
        fail(errstr, errstr_size, "schema id %d: %s", id, avro_strerror());
        avro_value_iface_decref(s->iface);
        s->iface = NULL;
        goto err;
    }
    if (prepare_extra(s, errstr, errstr_size) < 0)
        goto err;
    prepare_blank(c, s);
    return s;
err:
    slot_free(s);
    return NULL;
}

static struct slot *slot_get(codec *c, int id, char *errstr, size_t errstr_size)
{
    struct slot **grown, *s;

    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i]->id == id)
            return c->slots[i];
    s = slot_new(c, id, errstr, errstr_size);
    if (!s)
        return NULL;
    grown = realloc(c->slots, (c->nslots + 1) * sizeof *grown);
    if (!grown) {
        slot_free(s);
        fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->slots = grown;
    c->slots[c->nslots++] = s;
    return s;
}

codec *codec_new(char *errstr, size_t errstr_size)
{
    const struct catalog_entry *latest = catalog_latest(CODEC_ROSTER_SUBJECT);
    json_error_t jerr;
    codec *c;

    if (!latest) {
        fail(errstr, errstr_size, "catalog has no '%s' schema", CODEC_ROSTER_SUBJECT);
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->latest_id = latest->id;
    c->reader_json = json_loads(latest->json, 0, &jerr);
    if (!c->reader_json || !json_is_array(json_object_get(c->reader_json, "fields"))) {
        fail(errstr, errstr_size, "schema id %d ('%s') line %d: %s", latest->id, latest->file,
             jerr.line, c->reader_json ? "no \"fields\" array" : jerr.text);
        goto err;
    }
    c->cap = INITIAL_BUF;
    c->buf = malloc(c->cap);
    c->writer = c->buf ? avro_writer_memory(c->buf, (int64_t)c->cap) : NULL;
    c->reader = avro_reader_memory(c->buf, 0);
    if (!c->writer || !c->reader) {
        fail(errstr, errstr_size, "out of memory");
        goto err;
    }
    if (!slot_get(c, c->latest_id, errstr, errstr_size))
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
    if (c->writer)
        avro_writer_free(c->writer);
    if (c->reader)
        avro_reader_free(c->reader);
    json_decref(c->reader_json);
    free(c->buf);
    free(c);
}

/* ---- encoding ---- */

static int present(const roster_change *rc, const struct field_def *f)
{
    const char *p = (const char *)rc + f->off;

    if (f->rf == 0)
        return 1;
    if (!(rc->fields & f->rf))
        return 0;
    switch (f->kind) {
    case FK_GENDER: return *p != 0;
    case FK_INT: return *(const int *)(const void *)p != 0;
    case FK_DATE: return *(const int32_t *)(const void *)p != DATE_NONE;
    case FK_LONG: return *(const int64_t *)(const void *)p != MONEY_NONE;
    case FK_INSTITUTION: return rc->institution != INST_NONE;
    case FK_ROLE: return rc->role != ROLE_NONE;
    case FK_PROGRAMS: return rc->programs != 0;
    default: return 1;
    }
}

static int put_enum(avro_value_t *v, const struct field_map *m, const struct field_def *f,
                    int ours, int id, char *errstr, size_t errstr_size)
{
    int n = our_symbol_count(f->kind);

    if (ours < 0 || ours >= n)
        return fail(errstr, errstr_size, "field '%s' has out-of-range value %d", f->name, ours);
    if (m->to_sym[ours] < 0)
        return fail(errstr, errstr_size, "field '%s' value '%s' is not a symbol of schema id %d",
                    f->name, our_symbol(f->kind, ours), id);
    return avro_value_set_enum(v, m->to_sym[ours]);
}

/* Write one present field value into v (the field or its value branch). */
static int put_value(avro_value_t *v, const roster_change *rc, const struct field_def *f,
                     const struct field_map *m, int id, char *errstr, size_t errstr_size)
{
    const char *p = (const char *)rc + f->off;
    int rval = 0;

    switch (f->kind) {
    case FK_STRING: {
        size_t n = strnlen(p, f->size);
        if (n == f->size)
            return fail(errstr, errstr_size, "field '%s' is not NUL-terminated", f->name);
        rval = avro_value_set_string_len(v, p, n + 1);
        break;
    }
    case FK_GENDER: {
        char g[2] = {*p, '\0'};
        rval = avro_value_set_string_len(v, g, 2);
        break;
    }
    case FK_INT: rval = avro_value_set_int(v, *(const int *)(const void *)p); break;
    case FK_DATE: rval = avro_value_set_int(v, *(const int32_t *)(const void *)p); break;
    case FK_LONG: case FK_TIMESTAMP:
        rval = avro_value_set_long(v, *(const int64_t *)(const void *)p);
        break;
    case FK_CHANGE: case FK_INSTITUTION: case FK_ROLE:
        return put_enum(v, m, f, *(const int *)(const void *)p, id, errstr, errstr_size);
    case FK_PROGRAMS:
        if (rc->programs & ~(unsigned)(PROG_JKK | PROG_JKM | PROG_JHT))
            return fail(errstr, errstr_size, "field 'programs' has unknown bits 0x%x",
                        rc->programs);
        for (int i = 0; i < 3 && rval == 0; i++) {
            avro_value_t item;
            if (!(rc->programs & program_bits[i]))
                continue;
            rval = avro_value_append(v, &item, NULL);
            if (rval == 0 && put_enum(&item, m, f, i, id, errstr, errstr_size) < 0)
                return -1;
        }
        break;
    }
    if (rval != 0)
        return fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
    return 0;
}

static int fill_value(struct slot *s, const roster_change *rc, char *errstr, size_t errstr_size)
{
    if (s->encode_err[0])
        return fail(errstr, errstr_size, "%s", s->encode_err);
    if (avro_value_reset(&s->value) != 0)
        return fail(errstr, errstr_size, "reset: %s", avro_strerror());
    for (size_t i = 0; i < s->nextra; i++) {
        avro_value_t field;
        if (avro_value_get_by_index(&s->value, (size_t)s->extra[i].index, &field, NULL) != 0
            || set_from_json(&field, s->extra[i].def) != 0)
            return fail(errstr, errstr_size, "schema id %d: default of field '%s' does not fit "
                        "its type", s->id, avro_schema_record_field_name(s->schema,
                                                                        s->extra[i].index));
    }
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field_def *f = &fields[i];
        const struct field_map *m = &s->map[i];
        avro_value_t field, branch;
        int has = present(rc, f);

        if (m->index < 0)
            continue;
        if (avro_value_get_by_index(&s->value, (size_t)m->index, &field, NULL) != 0)
            return fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
        if (m->value_branch < 0) {
            if (!has)
                return fail(errstr, errstr_size, "field '%s' is required by schema id %d",
                            f->name, s->id);
            if (put_value(&field, rc, f, m, s->id, errstr, errstr_size) < 0)
                return -1;
            continue;
        }
        if (!has && m->null_branch < 0)
            return fail(errstr, errstr_size, "field '%s' is required by schema id %d",
                        f->name, s->id);
        if (avro_value_set_branch(&field, has ? m->value_branch : m->null_branch, &branch) != 0)
            return fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
        if (!has) {
            if (avro_value_set_null(&branch) != 0)
                return fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
        } else if (put_value(&branch, rc, f, m, s->id, errstr, errstr_size) < 0) {
            return -1;
        }
    }
    return 0;
}

int codec_encode_roster(codec *c, const roster_change *rc, int schema_id,
                        const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    struct slot *s = slot_get(c, schema_id > 0 ? schema_id : c->latest_id, errstr, errstr_size);
    int rval;

    if (!s)
        return -1;
    if (fill_value(s, rc, errstr, errstr_size) < 0)
        return -1;
    for (;;) {
        avro_writer_memory_set_dest(c->writer, c->buf + HEADER_SIZE,
                                    (int64_t)(c->cap - HEADER_SIZE));
        rval = avro_value_write(c->writer, &s->value);
        if (rval != ENOSPC)
            break;
        char *grown = realloc(c->buf, c->cap * 2);
        if (!grown)
            return fail(errstr, errstr_size, "out of memory growing the encode buffer");
        c->buf = grown;
        c->cap *= 2;
    }
    if (rval != 0)
        return fail(errstr, errstr_size, "avro write: %s", avro_strerror());
    c->buf[0] = 0;
    c->buf[1] = (char)((uint32_t)s->id >> 24);
    c->buf[2] = (char)((uint32_t)s->id >> 16);
    c->buf[3] = (char)((uint32_t)s->id >> 8);
    c->buf[4] = (char)(uint32_t)s->id;
    *out = c->buf;
    *len = HEADER_SIZE + (size_t)avro_writer_tell(c->writer);
    return 0;
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
            return fail(errstr, errstr_size, "truncated avro body: %s at offset %zu", what, at);
        uint8_t b = *cur->p++;
        u |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
            return 0;
        }
    }
    return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu is a varint longer "
                "than %d bytes", what, at, max_bytes);
}

static int need(struct cursor *cur, int64_t n, const char *what, char *errstr,
                size_t errstr_size)
{
    size_t at = (size_t)(cur->p - cur->start);

    if (n < 0)
        return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has negative "
                    "length %lld", what, at, (long long)n);
    if (n > cur->end - cur->p)
        return fail(errstr, errstr_size, "truncated avro body: %s needs %lld bytes at offset "
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
        return fail(errstr, errstr_size, "malformed avro body: nesting deeper than %d at "
                    "offset %zu", MAX_DEPTH, at);
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (need(cur, 1, what, errstr, errstr_size) < 0)
            return -1;
        if (cur->p[-1] > 1)
            return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu is boolean "
                        "byte 0x%02x", what, at, cur->p[-1]);
        return 0;
    case AVRO_INT32:
        if (read_varint(cur, &v, 5, what, errstr, errstr_size) < 0)
            return -1;
        if (v < INT32_MIN || v > INT32_MAX)
            return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu does not "
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
            return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has enum "
                        "index %lld, outside 0..%d", what, at, (long long)v,
                        avro_schema_enum_number_of_symbols(s) - 1);
        return 0;
    case AVRO_UNION:
        if (read_varint(cur, &v, 10, what, errstr, errstr_size) < 0)
            return -1;
        if (v < 0 || (uint64_t)v >= avro_schema_union_size(s))
            return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has union "
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
                    return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has "
                                "a bad block count", what, at);
                if (read_varint(cur, &bytes, 10, what, errstr, errstr_size) < 0)
                    return -1;
                if (bytes < 0)
                    return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has "
                                "negative block size", what, at);
                count = -count;
            }
            /* Every item takes at least one byte unless it is null. */
            if (count > cur->end - cur->p && !is_avro_null(resolve(item)))
                return fail(errstr, errstr_size, "truncated avro body: %s at offset %zu has "
                            "%lld items, %zu bytes left", what, at, (long long)count,
                            (size_t)(cur->end - cur->p));
            if (count > 65536)
                return fail(errstr, errstr_size, "malformed avro body: %s at offset %zu has "
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
        return fail(errstr, errstr_size, "schema type %s is not supported",
                    avro_schema_type_name(s));
    }
}

/* ---- decoding ---- */

static int take_value(avro_value_t *v, roster_change *rc, const struct field_def *f,
                      const struct field_map *m, char *errstr, size_t errstr_size)
{
    char *p = (char *)rc + f->off;
    int rval = 0, sym;

    switch (f->kind) {
    case FK_STRING: case FK_GENDER: {
        const char *str;
        size_t size;
        rval = avro_value_get_string(v, &str, &size);
        if (rval == 0 && put_string(rc, f, str, size ? size - 1 : 0, errstr, errstr_size) < 0)
            return -1;
        break;
    }
    case FK_INT: {
        int32_t x = 0;
        rval = avro_value_get_int(v, &x);
        *(int *)(void *)p = x;
        break;
    }
    case FK_DATE: rval = avro_value_get_int(v, (int32_t *)(void *)p); break;
    case FK_LONG: case FK_TIMESTAMP: rval = avro_value_get_long(v, (int64_t *)(void *)p); break;
    case FK_CHANGE: case FK_INSTITUTION: case FK_ROLE:
        rval = avro_value_get_enum(v, &sym);
        if (rval != 0)
            break;
        if (sym < 0 || sym >= m->nsym || m->from_sym[sym] < 0)
            return fail(errstr, errstr_size, "field '%s' symbol '%s' is unknown to this "
                        "program", f->name, sym >= 0 && sym < m->nsym
                        ? avro_schema_enum_get(m->enum_schema, sym) : "?");
        *(int *)(void *)p = m->from_sym[sym];
        break;
    case FK_PROGRAMS: {
        size_t n = 0;
        rc->programs = 0;
        rval = avro_value_get_size(v, &n);
        for (size_t i = 0; i < n && rval == 0; i++) {
            avro_value_t item;
            rval = avro_value_get_by_index(v, i, &item, NULL);
            if (rval == 0)
                rval = avro_value_get_enum(&item, &sym);
            if (rval != 0)
                break;
            if (sym < 0 || sym >= m->nsym || m->from_sym[sym] < 0)
                return fail(errstr, errstr_size, "field 'programs' symbol '%s' is unknown to "
                            "this program", sym >= 0 && sym < m->nsym
                            ? avro_schema_enum_get(m->enum_schema, sym) : "?");
            if (rc->programs & program_bits[m->from_sym[sym]])
                return fail(errstr, errstr_size, "field 'programs' lists '%s' twice",
                            program_symbols[m->from_sym[sym]]);
            rc->programs |= program_bits[m->from_sym[sym]];
        }
        if (rval == 0 && rc->programs == 0)
            return 0;
        break;
    }
    }
    if (rval != 0)
        return fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
    rc->fields |= f->rf;
    return 0;
}

int codec_decode_roster(codec *c, const void *data, size_t len, roster_change *rc,
                        int *schema_id, char *errstr, size_t errstr_size)
{
    const uint8_t *b = data;
    struct cursor cur;
    struct slot *s;
    uint32_t id;

    if (len < HEADER_SIZE)
        return fail(errstr, errstr_size, "message of %zu bytes is shorter than the %d-byte "
                    "header", len, HEADER_SIZE);
    if (b[0] != 0)
        return fail(errstr, errstr_size, "magic byte 0x%02x at offset 0 is not 0", b[0]);
    id = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
    if (id == 0 || id > INT32_MAX)
        return fail(errstr, errstr_size, "unknown schema id %u", id);
    s = slot_get(c, (int)id, errstr, errstr_size);
    if (!s)
        return -1;
    if (s->decode_err[0])
        return fail(errstr, errstr_size, "%s", s->decode_err);
    cur.start = b;
    cur.p = b + HEADER_SIZE;
    cur.end = b + len;
    if (check_value(&cur, s->schema, "record", 0, errstr, errstr_size) < 0)
        return -1;
    if (cur.p != cur.end)
        return fail(errstr, errstr_size, "malformed avro body: %zu trailing bytes at offset %zu",
                    (size_t)(cur.end - cur.p), (size_t)(cur.p - cur.start));

    avro_reader_memory_set_source(c->reader, (const char *)b + HEADER_SIZE,
                                  (int64_t)(len - HEADER_SIZE));
    if (avro_value_read(c->reader, &s->value) != 0)
        return fail(errstr, errstr_size, "avro read (schema id %u): %s", id, avro_strerror());

    *rc = s->blank;
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field_def *f = &fields[i];
        const struct field_map *m = &s->map[i];
        avro_value_t field, branch, *v = &field;

        if (m->index < 0)
            continue;
        if (avro_value_get_by_index(&s->value, (size_t)m->index, &field, NULL) != 0)
            return fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
        if (m->value_branch >= 0) {
            int disc;
            if (avro_value_get_discriminant(&field, &disc) != 0
                || avro_value_get_current_branch(&field, &branch) != 0)
                return fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
            if (disc == m->null_branch)
                continue;
            v = &branch;
        }
        if (take_value(v, rc, f, m, errstr, errstr_size) < 0)
            return -1;
    }
    if (schema_id)
        *schema_id = (int)id;
    return 0;
}
