/* Tests for common/catalog and the schema files it is built from: ids, subjects,
 * versions, parsing, documentation and compatibility between versions. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <avro.h>
#include <jansson.h>

#include "catalog.h"

#define NAMESPACE "id.bpjs.adhoc"

static char err[512];

static json_t *load_json(const struct catalog_entry *e)
{
    json_error_t jerr;
    json_t *j = json_loads(e->json, 0, &jerr);

    cr_assert_not_null(j, "%s: line %d: %s", e->file, jerr.line, jerr.text);
    return j;
}

static json_t *field_named(json_t *record, const char *name)
{
    size_t i;
    json_t *f;

    json_array_foreach(json_object_get(record, "fields"), i, f)
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return f;
    return NULL;
}

/* Assert that every named type (record, enum, fixed) under t and every field has a doc. */
static void assert_documented(json_t *t, const char *file, const char *where)
{
    const char *type;
    size_t i;
    json_t *item;

    if (json_is_array(t)) {
        json_array_foreach(t, i, item)
            assert_documented(item, file, where);
        return;
    }
    if (!json_is_object(t))
        return;
    type = json_string_value(json_object_get(t, "type"));
    if (type && (strcmp(type, "record") == 0 || strcmp(type, "enum") == 0
                 || strcmp(type, "fixed") == 0)) {
        const char *doc = json_string_value(json_object_get(t, "doc"));
        cr_assert(doc && *doc, "%s: type '%s' in %s has no doc", file,
                  json_string_value(json_object_get(t, "name")), where);
    }
    if (type && strcmp(type, "record") == 0) {
        json_array_foreach(json_object_get(t, "fields"), i, item) {
            const char *name = json_string_value(json_object_get(item, "name"));
            const char *doc = json_string_value(json_object_get(item, "doc"));
            cr_assert(doc && *doc, "%s: field '%s' has no doc", file, name);
            assert_documented(json_object_get(item, "type"), file, name);
        }
    }
    if (type && strcmp(type, "array") == 0)
        assert_documented(json_object_get(t, "items"), file, where);
    if (json_is_array(json_object_get(t, "type")) || json_is_object(json_object_get(t, "type")))
        assert_documented(json_object_get(t, "type"), file, where);
}

Test(catalog, ids_and_subject_versions_are_unique)
{
    size_t n = 0;

    for (const struct catalog_entry *a = catalog_entries; a->id != 0; a++, n++) {
        cr_assert_gt(a->id, 0, "id %d not positive", a->id);
        cr_assert_gt(a->version, 0, "%s: version %d not positive", a->file, a->version);
        for (const struct catalog_entry *b = a + 1; b->id != 0; b++) {
            cr_assert_neq(a->id, b->id, "id %d used by %s and %s", a->id, a->file, b->file);
            cr_assert(strcmp(a->subject, b->subject) != 0 || a->version != b->version,
                      "%s version %d listed twice", a->subject, a->version);
        }
        cr_assert_eq(catalog_find(a->id), a, "catalog_find(%d) is not its entry", a->id);
    }
    cr_assert_gt(n, 0, "catalog is empty");
}

Test(catalog, contract_subjects_are_present)
{
    FILE *f = fopen("data/catalog_subjects.txt", "r");
    char line[128];
    int n = 0;

    cr_assert_not_null(f, "cannot open data/catalog_subjects.txt");
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        n++;
        cr_assert_not_null(catalog_latest(line), "no schema for subject '%s'", line);
    }
    fclose(f);
    cr_assert_gt(n, 0, "no subjects in data file");
}

Test(catalog, latest_is_highest_version)
{
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++) {
        const struct catalog_entry *latest = catalog_latest(e->subject);
        cr_assert_not_null(latest, "no latest for '%s'", e->subject);
        cr_assert_geq(latest->version, e->version, "latest of '%s' is v%d, but v%d exists",
                      e->subject, latest->version, e->version);
        cr_assert_str_eq(latest->subject, e->subject, "latest of '%s' has subject '%s'",
                         e->subject, latest->subject);
    }
    cr_assert_null(catalog_latest("no.such-value"), "unknown subject has a latest");
}

Test(catalog, unknown_id_is_an_error)
{
    err[0] = '\0';
    cr_assert_null(catalog_find(77), "id 77 found");
    cr_assert_null(catalog_schema(77, err, sizeof err), "id 77 parsed");
    cr_assert_str_eq(err, "unknown schema id 77", "message: %s", err);
}

Test(catalog, every_schema_parses_and_is_cached)
{
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++) {
        avro_schema_t s = catalog_schema(e->id, err, sizeof err);
        json_t *j = load_json(e);

        cr_assert_not_null(s, "%s: %s", e->file, err);
        cr_assert(is_avro_record(s), "%s: not a record", e->file);
        cr_assert_str_eq(avro_schema_namespace(s), NAMESPACE, "%s: namespace '%s'", e->file,
                         avro_schema_namespace(s));
        cr_assert_str_eq(avro_schema_name(s), json_string_value(json_object_get(j, "name")),
                         "%s: name", e->file);
        cr_assert_eq(catalog_schema(e->id, err, sizeof err), s, "%s: parsed twice", e->file);
        json_decref(j);
    }
}

Test(catalog, every_type_and_field_is_documented)
{
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++) {
        json_t *j = load_json(e);
        assert_documented(j, e->file, "top level");
        json_decref(j);
    }
}

/* A newer version may only add fields that have a default, and never drop a field, so a
 * reader of the latest version can read every older message (backward compatibility). */
Test(catalog, later_versions_only_add_defaulted_fields)
{
    for (const struct catalog_entry *old = catalog_entries; old->id != 0; old++) {
        for (const struct catalog_entry *new = catalog_entries; new->id != 0; new++) {
            json_t *jo, *jn, *f;
            size_t i;

            if (strcmp(old->subject, new->subject) != 0 || new->version <= old->version)
                continue;
            jo = load_json(old);
            jn = load_json(new);
            json_array_foreach(json_object_get(jn, "fields"), i, f) {
                const char *name = json_string_value(json_object_get(f, "name"));
                if (!field_named(jo, name))
                    cr_assert_not_null(json_object_get(f, "default"),
                                       "%s adds field '%s' without a default", new->file, name);
            }
            json_array_foreach(json_object_get(jo, "fields"), i, f) {
                const char *name = json_string_value(json_object_get(f, "name"));
                cr_assert_not_null(field_named(jn, name), "%s drops field '%s' of %s",
                                   new->file, name, old->file);
            }
            json_decref(jo);
            json_decref(jn);
        }
    }
}

/* Optional fields are ["null", T] with default null, the form Kafka Connect expects. */
Test(catalog, nullable_fields_default_to_null)
{
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++) {
        json_t *j = load_json(e), *f;
        size_t i;

        json_array_foreach(json_object_get(j, "fields"), i, f) {
            json_t *type = json_object_get(f, "type");
            const char *name = json_string_value(json_object_get(f, "name"));
            if (!json_is_array(type))
                continue;
            cr_assert_str_eq(json_string_value(json_array_get(type, 0)), "null",
                             "%s: field '%s' union does not start with null", e->file, name);
            cr_assert(json_is_null(json_object_get(f, "default")),
                      "%s: field '%s' default is not null", e->file, name);
        }
        json_decref(j);
    }
}

Test(catalog, add_refuses_duplicates_and_bad_json)
{
    const struct catalog_entry *first = catalog_entries;
    const char *json = "{\"type\":\"record\",\"name\":\"T\",\"fields\":[]}";

    cr_assert_eq(catalog_add(first->id, "x-value", 1, json, err, sizeof err), -1,
                 "duplicate id accepted");
    cr_assert_eq(catalog_add(5000, first->subject, first->version, json, err, sizeof err), -1,
                 "duplicate subject version accepted");
    cr_assert_eq(catalog_add(5001, "x-value", 1, "{\"type\":", err, sizeof err), -1,
                 "bad json accepted");
    cr_assert_null(catalog_find(5001), "rejected entry is findable");
    cr_assert_eq(catalog_add(5002, "x-value", 1, json, err, sizeof err), 0, "add: %s", err);
    cr_assert_eq(catalog_add(5003, "x-value", 2, json, err, sizeof err), 0, "add: %s", err);
    cr_assert_not_null(catalog_schema(5002, err, sizeof err), "added schema: %s", err);
    cr_assert_eq(catalog_latest("x-value"), catalog_find(5003), "latest of added subject");
    cr_assert_eq(catalog_add(5004, "x-value", 2, json, err, sizeof err), -1,
                 "duplicate added version accepted");
    catalog_release();
    cr_assert_null(catalog_find(5002), "added entry survives release");
}

static void *parse_all(void *arg)
{
    avro_schema_t *out = arg;
    char e[256];
    size_t i = 0;

    for (const struct catalog_entry *c = catalog_entries; c->id != 0; c++)
        out[i++] = catalog_schema(c->id, e, sizeof e);
    return NULL;
}

Test(catalog, schema_cache_is_shared_across_threads)
{
    enum { THREADS = 8, MAX = 64 };
    static avro_schema_t got[THREADS][MAX];
    pthread_t t[THREADS];
    size_t n = 0;

    while (catalog_entries[n].id != 0)
        n++;
    cr_assert_leq(n, MAX, "too many entries for the test");
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, parse_all, got[i]), 0, "pthread_create");
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (size_t k = 0; k < n; k++) {
        cr_assert_not_null(got[0][k], "entry %zu not parsed", k);
        for (int i = 1; i < THREADS; i++)
            cr_assert_eq(got[i][k], got[0][k], "thread %d got another schema for entry %zu", i, k);
    }
}

/* ---- the registry's id space, with a fake fetch function ---- */

static int fetches;

/* Id 1 is an Incident here (a registry numbers its own way), 2 is unknown, 3 cannot be
 * asked now. */
static int fake_fetch(void *opaque, int id, char **subject, int *version, char **json,
                      char *errstr, size_t errstr_size)
{
    const struct catalog_entry *incident = catalog_reader("id.bpjs.adhoc.Incident");

    (void)opaque;
    fetches++;
    if (id == 3) {
        snprintf(errstr, errstr_size, "registry down");
        return CATALOG_UNAVAILABLE;
    }
    if (id != 1) {
        snprintf(errstr, errstr_size, "schema id %d is not in the registry", id);
        return CATALOG_UNKNOWN;
    }
    *subject = strdup(incident->subject);
    *json = strdup(incident->json);
    *version = 4;
    return CATALOG_OK;
}

Test(catalog, registry_ids_replace_compiled_ones_and_are_fetched_once)
{
    const struct catalog_entry *e, *compiled = catalog_find(1);

    cr_assert_str_eq(compiled->subject, "id.bpjs.adhoc.RosterChange", "compiled id 1: %s",
                     compiled->subject);
    catalog_use_registry(fake_fetch, NULL);
    cr_assert(catalog_uses_registry(), "not in the registry's id space");
    e = catalog_find(1);
    cr_assert_not_null(e, "id 1 not fetched");
    cr_assert_str_eq(e->subject, "id.bpjs.adhoc.Incident", "id 1 is the registry's: %s",
                     e->subject);
    cr_assert_eq(e->version, 4, "version %d", e->version);
    cr_assert_not_null(catalog_schema(1, err, sizeof err), "schema of id 1: %s", err);
    cr_assert_eq(catalog_find(1), e, "another entry the second time");
    cr_assert_eq(fetches, 1, "fetched %d times", fetches);
    cr_assert_null(catalog_latest("id.bpjs.adhoc.Incident"),
                   "a fetched schema became what this process writes");
    cr_assert_eq(catalog_reader("id.bpjs.adhoc.Incident")->id, 10,
                 "the reader schema is the compiled one");
    catalog_release();
    cr_assert_eq(catalog_find(1), compiled, "compiled ids are back after release");
}

Test(catalog, registry_unknown_and_unavailable_ids_say_so)
{
    const struct catalog_entry *e = NULL;

    catalog_use_registry(fake_fetch, NULL);
    cr_assert_eq(catalog_lookup(2, &e, err, sizeof err), CATALOG_UNKNOWN, "id 2 found");
    cr_assert_str_eq(err, "schema id 2 is not in the registry", "message: %s", err);
    cr_assert_eq(catalog_lookup(3, &e, err, sizeof err), CATALOG_UNAVAILABLE,
                 "id 3 not unavailable");
    cr_assert_str_eq(err, "registry down", "message: %s", err);
    cr_assert_null(catalog_schema(10, err, sizeof err), "compiled id 10 known in the registry's"
                   " id space");
    catalog_release();
}

Test(catalog, bind_sets_what_this_process_writes)
{
    const struct catalog_entry *roster = catalog_reader("id.bpjs.adhoc.RosterChange");
    const struct catalog_entry *other = catalog_reader("id.bpjs.adhoc.ClaimEvent");

    cr_assert_eq(catalog_bind(41, 2, roster, err, sizeof err), -1,
                 "bound in the compiled id space");
    catalog_use_registry(NULL, NULL);
    cr_assert_null(catalog_latest(roster->subject), "a latest before any bind");
    cr_assert_eq(catalog_bind(41, 2, roster, err, sizeof err), 0, "bind: %s", err);
    cr_assert_eq(catalog_latest(roster->subject)->id, 41, "latest is not the bound id");
    cr_assert_eq(catalog_find(41)->json, catalog_latest(roster->subject)->json, "find 41");
    cr_assert_str_eq(catalog_find(41)->json, roster->json, "bound with another text");
    cr_assert_eq(catalog_bind(41, 2, roster, err, sizeof err), 0, "binding again: %s", err);
    cr_assert_eq(catalog_bind(41, 1, other, err, sizeof err), -1, "id 41 rebound to a claim");
    cr_assert_not_null(strstr(err, "another text"), "message: %s", err);
    cr_assert_null(catalog_find(1), "an unbound id found without a fetch function");
    catalog_release();
}
