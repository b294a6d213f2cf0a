/* codec: RosterChange, Incident, ClaimEvent and CoverageChange records <-> Confluent-framed Avro, with
 * per-schema-id caches. One table of fields per C record type drives every direction.
 * Encoding follows a plan built once per writer schema (one step per writer field) and
 * writes Avro binary straight from the record; avro-c's generic values stay the reference
 * encoder (encode_avro, which the unit tests compare against) and do all decoding. */
#include "codec.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <jansson.h>

#include "catalog.h"
#include "errstr.h"

#define HEADER_SIZE 5
/* Small on purpose: a full ENROLL record needs more, so growth is exercised early. */
#define INITIAL_BUF 128
/* Enums with more symbols than this are refused when a schema is loaded. */
#define MAX_SYMBOLS 64
/* Nesting limit when checking a body against a (possibly recursive) schema. */
#define MAX_DEPTH 32

typedef enum {
    FK_STRING, FK_CHAR, FK_INT, FK_DATE, FK_LONG, FK_TIMESTAMP, FK_BOOL, FK_ENUM, FK_ENUM_SET
} field_kind;

/* One field the C record carries. Enums are stored as int, an enum set as unsigned bits
 * (1 << value). An optional field (bit != 0) is present when its bit is set in the
 * record's presence word and its value is not the kind's "none" marker: FK_CHAR 0,
 * FK_INT 0, FK_DATE DATE_NONE, FK_LONG / FK_TIMESTAMP INT64_MIN, FK_ENUM < 0, FK_ENUM_SET 0. */
struct field_def {
    const char *name;
    field_kind kind;
    unsigned bit;
    size_t off;
    size_t size;
    const char *(*sym)(int);  /* FK_ENUM, FK_ENUM_SET: name of our value i, NULL out of range */
    int nsym;                 /* count of our values */
    const char *chars;        /* FK_CHAR: the characters allowed */
};

/* One C record type and the catalog subject of its schemas. */
struct record_type {
    const char *subject;
    const struct field_def *fields;
    size_t nfields;
    size_t size;
    size_t bits_off;          /* of the unsigned presence word */
    void (*init)(void *rec);
};

_Static_assert(sizeof(roster_role) == sizeof(int) && sizeof(incident_type) == sizeof(int) &&
               sizeof(claim_status) == sizeof(int) && sizeof(coverage_status) == sizeof(int),
               "enum fields are stored as int");

static const char *sym_change(int i) { return roster_change_name((roster_change_kind)i); }
static const char *sym_institution(int i) { return roster_institution_name((roster_institution)i); }
static const char *sym_role(int i) { return roster_role_name((roster_role)i); }
static const char *sym_program_bit(int i)
{
    static const char *const names[] = {"JKK", "JKM", "JHT"};
    return i >= 0 && i < 3 ? names[i] : NULL;
}
static const char *sym_incident_type(int i) { return incident_type_name((incident_type)i); }
static const char *sym_circumstance(int i) { return incident_circumstance_name((incident_circumstance)i); }
static const char *sym_cause(int i) { return incident_cause_name((incident_cause)i); }
static const char *sym_severity(int i) { return incident_severity_name((incident_severity)i); }
static const char *sym_reporter(int i) { return incident_reporter_name((incident_reporter)i); }
static const char *sym_claim_program(int i) { return claim_program_name((claim_program)i); }
static const char *sym_benefit(int i) { return claim_benefit_name((claim_benefit)i); }
static const char *sym_status(int i) { return claim_status_name((claim_status)i); }
static const char *sym_kind(int i) { return claim_event_kind_name((claim_event_kind)i); }
static const char *sym_coverage_status(int i) { return coverage_status_name((coverage_status)i); }

#define MEMBER_SIZE(type, m) sizeof(((type *)0)->m)
#define FIELD(type, avro, member, kind, bit) {avro, kind, bit, offsetof(type, member), MEMBER_SIZE(type, member), NULL, 0, NULL}
#define ENUMF(type, avro, member, bit, fn, n) {avro, FK_ENUM, bit, offsetof(type, member), sizeof(int), fn, n, NULL}

static const struct field_def roster_fields[] = {
    FIELD(roster_change, "event_id", event_id, FK_STRING, 0),
    FIELD(roster_change, "source", source, FK_STRING, 0),
    FIELD(roster_change, "event_time", event_time_us, FK_TIMESTAMP, 0),
    ENUMF(roster_change, "change", change, 0, sym_change, CHANGE__COUNT),
    FIELD(roster_change, "nik", nik, FK_STRING, 0),
    FIELD(roster_change, "full_name", full_name, FK_STRING, RF_FULL_NAME),
    FIELD(roster_change, "birth_date", birth_date, FK_DATE, RF_BIRTH_DATE),
    {"gender", FK_CHAR, RF_GENDER, offsetof(roster_change, gender), 1, NULL, 0, "LP"},
    ENUMF(roster_change, "institution", institution, RF_INSTITUTION, sym_institution, INST__COUNT),
    ENUMF(roster_change, "role", role, RF_ROLE, sym_role, ROLE__COUNT),
    FIELD(roster_change, "region_code", region_code, FK_STRING, RF_REGION),
    FIELD(roster_change, "tps", tps, FK_INT, RF_TPS),
    FIELD(roster_change, "term_start", term_start, FK_DATE, RF_TERM_START),
    FIELD(roster_change, "term_end", term_end, FK_DATE, RF_TERM_END),
    FIELD(roster_change, "effective_date", effective_date, FK_DATE, RF_EFFECTIVE),
    FIELD(roster_change, "monthly_wage", monthly_wage, FK_LONG, RF_WAGE),
    {"programs", FK_ENUM_SET, RF_PROGRAMS, offsetof(roster_change, programs), sizeof(unsigned),
     sym_program_bit, 3, NULL},
    FIELD(roster_change, "agreement_id", agreement_id, FK_STRING, RF_AGREEMENT),
    FIELD(roster_change, "kpj", kpj, FK_STRING, RF_KPJ),
    FIELD(roster_change, "phone", phone, FK_STRING, RF_PHONE),
};

static const struct field_def incident_fields[] = {
    FIELD(incident, "event_id", event_id, FK_STRING, 0),
    FIELD(incident, "source", source, FK_STRING, 0),
    FIELD(incident, "event_time", event_time_us, FK_TIMESTAMP, 0),
    FIELD(incident, "report_id", report_id, FK_STRING, IF_REPORT_ID),
    FIELD(incident, "nik", nik, FK_STRING, 0),
    ENUMF(incident, "type", type, 0, sym_incident_type, INCIDENT_TYPE__COUNT),
    FIELD(incident, "occurred_at", occurred_at_us, FK_TIMESTAMP, 0),
    FIELD(incident, "reported_at", reported_at_us, FK_TIMESTAMP, IF_REPORTED_AT),
    FIELD(incident, "region_code", region_code, FK_STRING, 0),
    ENUMF(incident, "circumstance", circumstance, 0, sym_circumstance, CIRCUMSTANCE__COUNT),
    ENUMF(incident, "cause", cause, IF_CAUSE, sym_cause, CAUSE__COUNT),
    ENUMF(incident, "severity", severity, IF_SEVERITY, sym_severity, SEVERITY__COUNT),
    FIELD(incident, "description", description, FK_STRING, IF_DESCRIPTION),
    ENUMF(incident, "reporter_institution", reporter_institution, 0, sym_reporter, REPORTER__COUNT),
    FIELD(incident, "reporter_name", reporter_name, FK_STRING, IF_REPORTER_NAME),
    FIELD(incident, "reporter_phone", reporter_phone, FK_STRING, IF_REPORTER_PHONE),
};

static const struct field_def claim_fields[] = {
    FIELD(claim_event, "event_id", event_id, FK_STRING, 0),
    FIELD(claim_event, "source", source, FK_STRING, 0),
    FIELD(claim_event, "claim_id", claim_id, FK_STRING, 0),
    FIELD(claim_event, "incident_id", incident_id, FK_STRING, 0),
    FIELD(claim_event, "nik", nik, FK_STRING, 0),
    ENUMF(claim_event, "program", program, 0, sym_claim_program, CLAIM_PROGRAM__COUNT),
    ENUMF(claim_event, "benefit", benefit, 0, sym_benefit, BENEFIT__COUNT),
    ENUMF(claim_event, "from_status", from_status, CF_FROM_STATUS, sym_status, CLAIM_STATUS__COUNT),
    ENUMF(claim_event, "to_status", to_status, 0, sym_status, CLAIM_STATUS__COUNT),
    ENUMF(claim_event, "kind", kind, 0, sym_kind, CLAIM_EVENT_KIND__COUNT),
    FIELD(claim_event, "amount_idr", amount_idr, FK_LONG, CF_AMOUNT),
    FIELD(claim_event, "benefit_table_version", benefit_table_version, FK_STRING, CF_TABLE_VERSION),
    FIELD(claim_event, "reason", reason, FK_STRING, 0),
    FIELD(claim_event, "actor", actor, FK_STRING, 0),
    FIELD(claim_event, "payment_reference", payment_reference, FK_STRING, CF_PAYMENT_REF),
    FIELD(claim_event, "late_report", late_report, FK_BOOL, 0),
    FIELD(claim_event, "event_time", event_time_us, FK_TIMESTAMP, 0),
};

static const struct field_def coverage_fields[] = {
    FIELD(coverage_change, "event_id", event_id, FK_STRING, 0),
    FIELD(coverage_change, "source", source, FK_STRING, 0),
    FIELD(coverage_change, "nik", nik, FK_STRING, 0),
    {"programs", FK_ENUM_SET, 0, offsetof(coverage_change, programs), sizeof(unsigned),
     sym_program_bit, 3, NULL},
    ENUMF(coverage_change, "status", status, 0, sym_coverage_status, COVERAGE_STATUS__COUNT),
    FIELD(coverage_change, "valid_from", valid_from, FK_DATE, 0),
    FIELD(coverage_change, "valid_to", valid_to, FK_DATE, 0),
    FIELD(coverage_change, "region_code", region_code, FK_STRING, 0),
    ENUMF(coverage_change, "role", role, 0, sym_role, ROLE__COUNT),
    ENUMF(coverage_change, "institution", institution, 0, sym_institution, INST__COUNT),
    FIELD(coverage_change, "event_time", event_time_us, FK_TIMESTAMP, 0),
};
#undef FIELD
#undef ENUMF

static void init_roster(void *rec) { roster_change_init(rec); }
static void init_incident(void *rec) { incident_init(rec); }
static void init_claim(void *rec) { claim_event_init(rec); }
static void init_coverage(void *rec) { coverage_change_init(rec); }

enum { T_ROSTER, T_INCIDENT, T_CLAIM, T_COVERAGE, NTYPES };
static const struct record_type types[NTYPES] = {
    {CODEC_ROSTER_SUBJECT, roster_fields, sizeof roster_fields / sizeof roster_fields[0],
     sizeof(roster_change), offsetof(roster_change, fields), init_roster},
    {CODEC_INCIDENT_SUBJECT, incident_fields, sizeof incident_fields / sizeof incident_fields[0],
     sizeof(incident), offsetof(incident, fields), init_incident},
    {CODEC_CLAIM_SUBJECT, claim_fields, sizeof claim_fields / sizeof claim_fields[0],
     sizeof(claim_event), offsetof(claim_event, fields), init_claim},
    {CODEC_COVERAGE_SUBJECT, coverage_fields, sizeof coverage_fields / sizeof coverage_fields[0],
     sizeof(coverage_change), offsetof(coverage_change, fields), init_coverage},
};
/* Most fields of any record type (field maps are sized by it). */
#define MAX_FIELDS 24
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
    const struct record_type *type;
    avro_schema_t schema;           /* borrowed from the catalog */
    avro_value_iface_t *iface;
    avro_value_t value;
    struct field_map map[MAX_FIELDS];
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
};

/* One writer field: a field of the C record (f, m), or, when f is NULL, the constant
 * bytes consts[off, off + len) of a default. */
struct enc_step {
    const struct field_def *f;
    const struct field_map *m;
    size_t off, len;
};

struct codec {
    struct slot **slots;
    size_t nslots;
    struct {
        int latest_id;
        json_t *reader_json;        /* the latest schema of the type, for field defaults */
    } latest[NTYPES];
    avro_writer_t writer;
    char *buf;
    size_t cap;
    avro_reader_t reader;
};

static avro_schema_t resolve(avro_schema_t s)
{
    while (s && is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

static int our_symbol_parse(const struct field_def *f, const char *name)
{
    for (int i = 0; i < f->nsym; i++)
        if (strcmp(f->sym(i), name) == 0)
            return i;
    return -1;
}

static avro_type_t expected_type(field_kind kind)
{
    switch (kind) {
    case FK_STRING: case FK_CHAR: return AVRO_STRING;
    case FK_INT: case FK_DATE: return AVRO_INT32;
    case FK_LONG: case FK_TIMESTAMP: return AVRO_INT64;
    case FK_BOOL: return AVRO_BOOLEAN;
    case FK_ENUM_SET: return AVRO_ARRAY;
    default: return AVRO_ENUM;
    }
}

static const char *expected_name(field_kind kind)
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

static unsigned presence(const struct record_type *t, const void *rec)
{
    unsigned bits;

    memcpy(&bits, (const char *)rec + t->bits_off, sizeof bits);
    return bits;
}

static void mark_present(const struct record_type *t, void *rec, unsigned bit)
{
    unsigned bits = presence(t, rec) | bit;

    memcpy((char *)rec + t->bits_off, &bits, sizeof bits);
}

/* Build both directions of an enum mapping by symbol name. */
static int map_enum(struct field_map *m, const struct field_def *f, avro_schema_t en,
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
    if (f->kind == FK_ENUM_SET) {
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
static int put_string(void *rec, const struct field_def *f, const char *s, size_t n,
                      char *errstr, size_t errstr_size)
{
    char *dst = (char *)rec + f->off;

    if (f->kind == FK_CHAR) {
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
static int apply_default(const struct record_type *t, void *rec, const struct field_def *f,
                         json_t *def, char *errstr, size_t errstr_size)
{
    char *p = (char *)rec + f->off;

    if (json_is_null(def))
        return 0;
    switch (f->kind) {
    case FK_STRING: case FK_CHAR:
        if (!json_is_string(def))
            goto bad;
        if (put_string(rec, f, json_string_value(def), json_string_length(def), errstr,
                       errstr_size) < 0)
            return -1;
        break;
    case FK_INT: case FK_DATE: {
        int32_t v;
        if (!json_is_integer(def) || json_integer_value(def) < INT32_MIN
            || json_integer_value(def) > INT32_MAX)
            goto bad;
        v = (int32_t)json_integer_value(def);
        memcpy(p, &v, sizeof v);
        break;
    }
    case FK_LONG: case FK_TIMESTAMP: {
        int64_t v;
        if (!json_is_integer(def))
            goto bad;
        v = json_integer_value(def);
        memcpy(p, &v, sizeof v);
        break;
    }
    case FK_BOOL: {
        int v;
        if (!json_is_boolean(def))
            goto bad;
        v = json_is_true(def);
        memcpy(p, &v, sizeof v);
        break;
    }
    case FK_ENUM: {
        int v = json_is_string(def) ? our_symbol_parse(f, json_string_value(def)) : -1;
        if (v < 0)
            goto bad;
        memcpy(p, &v, sizeof v);
        break;
    }
    case FK_ENUM_SET: {
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
    const struct record_type *t = s->type;
    int latest_id = c->latest[t - types].latest_id;
    json_t *rfields = json_object_get(c->latest[t - types].reader_json, "fields");
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
                     "'%s', which latest schema id %d has without a default", s->id,
                     t->fields[i].name, latest_id);
            return;
        }
        if (apply_default(t, s->blank, &t->fields[i], def, err, sizeof err) < 0) {
            snprintf(s->decode_err, sizeof s->decode_err, "latest schema id %d: %s",
                     latest_id, err);
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
    case FK_STRING: return n + MAX_VARINT + st->f->size;
    case FK_CHAR: return n + 2;
    case FK_BOOL: return n + 1;
    case FK_ENUM_SET: return n + MAX_VARINT * ((size_t)st->f->nsym + 2);
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
    const struct record_type *t = s->type;
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

static void slot_free(struct slot *s)
{
    if (!s)
        return;
    free(s->plan);
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

static struct slot *slot_new(codec *c, const struct record_type *t, int id, char *errstr,
                             size_t errstr_size)
{
    const struct catalog_entry *e = catalog_find(id);
    struct slot *s = NULL;

    if (!e) {
        errstr_fail(errstr, errstr_size, "unknown schema id %d", id);
        return NULL;
    }
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
    return s;
err:
    slot_free(s);
    return NULL;
}

/* The slot of schema id for record type t, made on first use. */
static struct slot *slot_get(codec *c, const struct record_type *t, int id, char *errstr,
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

/* Remember the latest schema of type ti and its JSON (for reader defaults). */
static int load_latest(codec *c, int ti, char *errstr, size_t errstr_size)
{
    const struct catalog_entry *latest = catalog_latest(types[ti].subject);
    json_error_t jerr;
    json_t *j;

    if (!latest)
        return errstr_fail(errstr, errstr_size, "catalog has no '%s' schema", types[ti].subject);
    j = json_loads(latest->json, 0, &jerr);
    c->latest[ti].latest_id = latest->id;
    c->latest[ti].reader_json = j;
    if (!j || !json_is_array(json_object_get(j, "fields")))
        return errstr_fail(errstr, errstr_size, "schema id %d ('%s') line %d: %s", latest->id,
                           latest->file, jerr.line, j ? "no \"fields\" array" : jerr.text);
    return slot_get(c, &types[ti], latest->id, errstr, errstr_size) ? 0 : -1;
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
    c->writer = c->buf ? avro_writer_memory(c->buf, (int64_t)c->cap) : NULL;
    c->reader = avro_reader_memory(c->buf, 0);
    if (!c->writer || !c->reader) {
        errstr_fail(errstr, errstr_size, "out of memory");
        goto err;
    }
    for (int ti = 0; ti < NTYPES; ti++)
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
    if (c->writer)
        avro_writer_free(c->writer);
    if (c->reader)
        avro_reader_free(c->reader);
    for (int ti = 0; ti < NTYPES; ti++)
        json_decref(c->latest[ti].reader_json);
    free(c->buf);
    free(c);
}

/* ---- encoding ---- */

static int get_int(const void *rec, const struct field_def *f)
{
    int v;

    memcpy(&v, (const char *)rec + f->off, sizeof v);
    return v;
}

static int64_t get_long(const void *rec, const struct field_def *f)
{
    int64_t v;

    memcpy(&v, (const char *)rec + f->off, sizeof v);
    return v;
}

/* Whether field f of rec is written, given the record's presence word. */
static int present(unsigned bits, const void *rec, const struct field_def *f)
{
    if (f->bit == 0)
        return 1;
    if (!(bits & f->bit))
        return 0;
    switch (f->kind) {
    case FK_CHAR: return *((const char *)rec + f->off) != 0;
    case FK_INT: return get_int(rec, f) != 0;
    case FK_DATE: return get_int(rec, f) != DATE_NONE;
    case FK_LONG: case FK_TIMESTAMP: return get_long(rec, f) != INT64_MIN;
    case FK_ENUM: return get_int(rec, f) >= 0;
    case FK_ENUM_SET: return get_int(rec, f) != 0;
    default: return 1;
    }
}

/* The writer's symbol index of our enum value, or -1 with errstr filled. */
static int enum_index(const struct field_map *m, const struct field_def *f, int ours, int id,
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
static int string_len(const char *p, const struct field_def *f, size_t *n, char *errstr,
                      size_t errstr_size)
{
    *n = strnlen(p, f->size);
    if (*n == f->size)
        return errstr_fail(errstr, errstr_size, "field '%s' is not NUL-terminated", f->name);
    return 0;
}

/* The bits of an enum-set field, or -1 with errstr filled when one has no value of ours. */
static int set_bits(const void *rec, const struct field_def *f, unsigned *bits, char *errstr,
                    size_t errstr_size)
{
    *bits = (unsigned)get_int(rec, f);
    if (*bits >> f->nsym)
        return errstr_fail(errstr, errstr_size, "field '%s' has unknown bits 0x%x", f->name, *bits);
    return 0;
}

static int required(const struct field_def *f, int id, char *errstr, size_t errstr_size)
{
    return errstr_fail(errstr, errstr_size, "field '%s' is required by schema id %d", f->name, id);
}

/* -- the reference encoder: fill the generic avro-c value, then avro_value_write -- */

static int put_enum(avro_value_t *v, const struct field_map *m, const struct field_def *f,
                    int ours, int id, char *errstr, size_t errstr_size)
{
    int sym = enum_index(m, f, ours, id, errstr, errstr_size);

    return sym < 0 ? -1 : avro_value_set_enum(v, sym);
}

/* Write one present field value into v (the field or its value branch). */
static int put_value(avro_value_t *v, const void *rec, const struct field_def *f,
                     const struct field_map *m, int id, char *errstr, size_t errstr_size)
{
    const char *p = (const char *)rec + f->off;
    int rval = 0;

    switch (f->kind) {
    case FK_STRING: {
        size_t n;
        if (string_len(p, f, &n, errstr, errstr_size) < 0)
            return -1;
        rval = avro_value_set_string_len(v, p, n + 1);
        break;
    }
    case FK_CHAR: {
        char g[2] = {*p, '\0'};
        rval = avro_value_set_string_len(v, g, 2);
        break;
    }
    case FK_INT: case FK_DATE: rval = avro_value_set_int(v, get_int(rec, f)); break;
    case FK_LONG: case FK_TIMESTAMP: rval = avro_value_set_long(v, get_long(rec, f)); break;
    case FK_BOOL: rval = avro_value_set_boolean(v, get_int(rec, f) != 0); break;
    case FK_ENUM: return put_enum(v, m, f, get_int(rec, f), id, errstr, errstr_size);
    case FK_ENUM_SET: {
        unsigned bits;
        if (set_bits(rec, f, &bits, errstr, errstr_size) < 0)
            return -1;
        for (int i = 0; i < f->nsym && rval == 0; i++) {
            avro_value_t item;
            if (!(bits & (1u << i)))
                continue;
            rval = avro_value_append(v, &item, NULL);
            if (rval == 0 && put_enum(&item, m, f, i, id, errstr, errstr_size) < 0)
                return -1;
        }
        break;
    }
    }
    if (rval != 0)
        return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
    return 0;
}

static int fill_value(struct slot *s, const void *rec, char *errstr, size_t errstr_size)
{
    const struct record_type *t = s->type;

    if (s->encode_err[0])
        return errstr_fail(errstr, errstr_size, "%s", s->encode_err);
    if (avro_value_reset(&s->value) != 0)
        return errstr_fail(errstr, errstr_size, "reset: %s", avro_strerror());
    for (size_t i = 0; i < s->nextra; i++) {
        avro_value_t field;
        if (avro_value_get_by_index(&s->value, (size_t)s->extra[i].index, &field, NULL) != 0
            || set_from_json(&field, s->extra[i].def) != 0)
            return errstr_fail(errstr, errstr_size, "schema id %d: default of field '%s' does not fit "
                               "its type", s->id, avro_schema_record_field_name(s->schema,
                                                                        s->extra[i].index));
    }
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field_def *f = &t->fields[i];
        const struct field_map *m = &s->map[i];
        avro_value_t field, branch;
        int has = present(presence(t, rec), rec, f);

        if (m->index < 0)
            continue;
        if (avro_value_get_by_index(&s->value, (size_t)m->index, &field, NULL) != 0)
            return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
        if (m->value_branch < 0) {
            if (!has)
                return required(f, s->id, errstr, errstr_size);
            if (put_value(&field, rec, f, m, s->id, errstr, errstr_size) < 0)
                return -1;
            continue;
        }
        if (!has && m->null_branch < 0)
            return required(f, s->id, errstr, errstr_size);
        if (avro_value_set_branch(&field, has ? m->value_branch : m->null_branch, &branch) != 0)
            return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
        if (!has) {
            if (avro_value_set_null(&branch) != 0)
                return errstr_fail(errstr, errstr_size, "field '%s': %s", f->name, avro_strerror());
        } else if (put_value(&branch, rec, f, m, s->id, errstr, errstr_size) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Encode rec into c->buf after the header with avro-c; the body length goes to *body. */
static int encode_avro(codec *c, struct slot *s, const void *rec, size_t *body, char *errstr,
                       size_t errstr_size)
{
    int rval;

    if (fill_value(s, rec, errstr, errstr_size) < 0)
        return -1;
    for (;;) {
        avro_writer_memory_set_dest(c->writer, c->buf + HEADER_SIZE,
                                    (int64_t)(c->cap - HEADER_SIZE));
        rval = avro_value_write(c->writer, &s->value);
        if (rval != ENOSPC)
            break;
        char *grown = realloc(c->buf, c->cap * 2);
        if (!grown)
            return errstr_fail(errstr, errstr_size, "out of memory growing the encode buffer");
        c->buf = grown;
        c->cap *= 2;
    }
    if (rval != 0)
        return errstr_fail(errstr, errstr_size, "avro write: %s", avro_strerror());
    *body = (size_t)avro_writer_tell(c->writer);
    return 0;
}

/* -- the plan encoder: Avro binary written straight from the record -- */

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
static unsigned char *write_value(unsigned char *p, const void *rec, const struct field_def *f,
                                  const struct field_map *m, int id, char *errstr,
                                  size_t errstr_size)
{
    const char *src = (const char *)rec + f->off;
    int sym;

    switch (f->kind) {
    case FK_STRING: {
        size_t n;
        if (string_len(src, f, &n, errstr, errstr_size) < 0)
            return NULL;
        p = put_long(p, (int64_t)n);
        memcpy(p, src, n);
        return p + n;
    }
    case FK_CHAR:
        *p++ = 2;                       /* length 1 */
        *p++ = (unsigned char)*src;
        return p;
    case FK_INT: case FK_DATE: return put_long(p, get_int(rec, f));
    case FK_LONG: case FK_TIMESTAMP: return put_long(p, get_long(rec, f));
    case FK_BOOL:
        *p++ = get_int(rec, f) != 0;
        return p;
    case FK_ENUM:
        sym = enum_index(m, f, get_int(rec, f), id, errstr, errstr_size);
        return sym < 0 ? NULL : put_long(p, sym);
    case FK_ENUM_SET: {
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
 * as encode_avro. With several bad fields, the first in writer order is reported. */
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
        const struct field_def *f = st->f;
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

/* How encode writes the body: the plan (every caller), or avro-c (tests compare). */
enum encoder { ENC_PLAN, ENC_AVRO };

static int encode(codec *c, int ti, const void *rec, int schema_id, enum encoder how,
                  const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    struct slot *s = slot_get(c, &types[ti], schema_id > 0 ? schema_id : c->latest[ti].latest_id,
                              errstr, errstr_size);
    size_t body = 0;

    if (!s)
        return -1;
    if ((how == ENC_AVRO ? encode_avro : encode_plan)(c, s, rec, &body, errstr, errstr_size) < 0)
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
    return encode(c, T_ROSTER, rc, schema_id, ENC_PLAN, out, len, errstr, errstr_size);
}

int codec_encode_incident(codec *c, const incident *inc, int schema_id,
                          const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    return encode(c, T_INCIDENT, inc, schema_id, ENC_PLAN, out, len, errstr, errstr_size);
}

int codec_encode_claim_event(codec *c, const claim_event *ev, int schema_id,
                             const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    return encode(c, T_CLAIM, ev, schema_id, ENC_PLAN, out, len, errstr, errstr_size);
}

int codec_encode_coverage_change(codec *c, const coverage_change *cc, int schema_id,
                                 const void **out, size_t *len, char *errstr, size_t errstr_size)
{
    return encode(c, T_COVERAGE, cc, schema_id, ENC_PLAN, out, len, errstr, errstr_size);
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

/* ---- decoding ---- */

static int take_enum(const avro_value_t *v, const struct field_def *f, const struct field_map *m,
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

static int take_value(const struct record_type *t, avro_value_t *v, void *rec,
                      const struct field_def *f, const struct field_map *m, char *errstr,
                      size_t errstr_size)
{
    char *p = (char *)rec + f->off;
    int rval = 0, ours;

    switch (f->kind) {
    case FK_STRING: case FK_CHAR: {
        const char *str;
        size_t size;
        rval = avro_value_get_string(v, &str, &size);
        if (rval == 0 && put_string(rec, f, str, size ? size - 1 : 0, errstr, errstr_size) < 0)
            return -1;
        break;
    }
    case FK_INT: case FK_DATE: {
        int32_t x = 0;
        rval = avro_value_get_int(v, &x);
        memcpy(p, &x, sizeof x);
        break;
    }
    case FK_LONG: case FK_TIMESTAMP: {
        int64_t x = 0;
        rval = avro_value_get_long(v, &x);
        memcpy(p, &x, sizeof x);
        break;
    }
    case FK_BOOL: {
        int x = 0;
        rval = avro_value_get_boolean(v, &x);
        x = x != 0;
        memcpy(p, &x, sizeof x);
        break;
    }
    case FK_ENUM:
        if (take_enum(v, f, m, &ours, errstr, errstr_size) < 0)
            return -1;
        memcpy(p, &ours, sizeof ours);
        break;
    case FK_ENUM_SET: {
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
    const struct record_type *t = &types[ti];
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
    s = slot_get(c, t, (int)id, errstr, errstr_size);
    if (!s)
        return -1;
    if (s->decode_err[0])
        return errstr_fail(errstr, errstr_size, "%s", s->decode_err);
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
        const struct field_def *f = &t->fields[i];
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
    return decode(c, T_ROSTER, data, len, rc, schema_id, errstr, errstr_size);
}

int codec_decode_incident(codec *c, const void *data, size_t len, incident *inc,
                          int *schema_id, char *errstr, size_t errstr_size)
{
    return decode(c, T_INCIDENT, data, len, inc, schema_id, errstr, errstr_size);
}

int codec_decode_claim_event(codec *c, const void *data, size_t len, claim_event *ev,
                             int *schema_id, char *errstr, size_t errstr_size)
{
    return decode(c, T_CLAIM, data, len, ev, schema_id, errstr, errstr_size);
}

int codec_decode_coverage_change(codec *c, const void *data, size_t len, coverage_change *cc,
                                 int *schema_id, char *errstr, size_t errstr_size)
{
    return decode(c, T_COVERAGE, data, len, cc, schema_id, errstr, errstr_size);
}
