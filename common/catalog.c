/* catalog: lookups in the compiled-in schema table (plus run-time additions: schemas bound
 * to or fetched from a registry) and a cache of parsed schemas. */
#include "catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A parsed schema, or an added entry (owned, with its strings), guarded by lock. */
struct cached {
    const struct catalog_entry *entry;
    avro_schema_t schema;
    struct catalog_entry *owned;    /* set for entries added with catalog_add or bound */
    int bound;                      /* catalog_bind: what this process writes */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached *cache;
static size_t cache_len, cache_cap;
/* The registry's id space; set once before other threads start (catalog_use_registry). */
static int registry_ids;
static catalog_fetch_fn fetch_fn;
static void *fetch_opaque;

/* A compiled-in entry by id: none in the registry's id space. */
static const struct catalog_entry *find_static(int id)
{
    if (registry_ids)
        return NULL;
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++)
        if (e->id == id)
            return e;
    return NULL;
}

void catalog_use_registry(catalog_fetch_fn fetch, void *opaque)
{
    pthread_mutex_lock(&lock);
    registry_ids = 1;
    fetch_fn = fetch;
    fetch_opaque = opaque;
    pthread_mutex_unlock(&lock);
}

int catalog_uses_registry(void)
{
    return registry_ids;
}

static struct cached *cache_find(const struct catalog_entry *e, int id)
{
    for (size_t i = 0; i < cache_len; i++)
        if (e ? cache[i].entry == e : (cache[i].owned && cache[i].owned->id == id))
            return &cache[i];
    return NULL;
}

static struct cached *cache_push(void)
{
    if (cache_len == cache_cap) {
        size_t cap = cache_cap ? cache_cap * 2 : 16;
        struct cached *grown = realloc(cache, cap * sizeof *grown);
        if (!grown)
            return NULL;
        cache = grown;
        cache_cap = cap;
    }
    memset(&cache[cache_len], 0, sizeof cache[cache_len]);
    return &cache[cache_len++];
}

static const struct catalog_entry *find_added(int id)
{
    struct cached *c;
    const struct catalog_entry *e;

    pthread_mutex_lock(&lock);
    c = cache_find(NULL, id);
    e = c ? c->entry : NULL;
    pthread_mutex_unlock(&lock);
    return e;
}

int catalog_lookup(int id, const struct catalog_entry **out, char *errstr, size_t errstr_size)
{
    char *subject = NULL, *json = NULL, err[512];
    int version = 0, rval;

    if ((*out = find_static(id)) || (*out = find_added(id)))
        return CATALOG_OK;
    if (!registry_ids || !fetch_fn || id <= 0) {
        snprintf(errstr, errstr_size, "unknown schema id %d", id);
        return CATALOG_UNKNOWN;
    }
    rval = fetch_fn(fetch_opaque, id, &subject, &version, &json, errstr, errstr_size);
    if (rval == CATALOG_OK) {
        /* Another thread may have added it meanwhile: then its entry stands. */
        if (catalog_add(id, subject, version, json, err, sizeof err) < 0 && !find_added(id)) {
            snprintf(errstr, errstr_size, "schema id %d from the registry: %s", id, err);
            rval = CATALOG_UNKNOWN;
        }
        *out = find_added(id);
    }
    free(subject);
    free(json);
    return *out ? CATALOG_OK : rval == CATALOG_OK ? CATALOG_UNKNOWN : rval;
}

const struct catalog_entry *catalog_find(int id)
{
    const struct catalog_entry *e;
    char err[512];

    return catalog_lookup(id, &e, err, sizeof err) == CATALOG_OK ? e : NULL;
}

static const struct catalog_entry *compiled_latest(const char *subject)
{
    const struct catalog_entry *best = NULL;

    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++)
        if (strcmp(e->subject, subject) == 0 && (!best || e->version > best->version))
            best = e;
    return best;
}

const struct catalog_entry *catalog_reader(const char *subject)
{
    return registry_ids ? compiled_latest(subject) : catalog_latest(subject);
}

const struct catalog_entry *catalog_latest(const char *subject)
{
    const struct catalog_entry *best = registry_ids ? NULL : compiled_latest(subject);

    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < cache_len; i++) {
        const struct catalog_entry *e = cache[i].owned;
        if (e && (!registry_ids || cache[i].bound) && strcmp(e->subject, subject) == 0
            && (!best || e->version > best->version))
            best = e;
    }
    pthread_mutex_unlock(&lock);
    return best;
}

static int parse(const struct catalog_entry *e, avro_schema_t *out, char *errstr,
                 size_t errstr_size)
{
    if (avro_schema_from_json_length(e->json, strlen(e->json), out) != 0) {
        snprintf(errstr, errstr_size, "schema id %d ('%s'): %s", e->id, e->file,
                 avro_strerror());
        *out = NULL;
        return -1;
    }
    return 0;
}

avro_schema_t catalog_schema(int id, char *errstr, size_t errstr_size)
{
    const struct catalog_entry *e = find_static(id);
    avro_schema_t schema = NULL;
    struct cached *c;

    /* In the registry's id space an id is known once looked up (fetched on first sight). */
    if (registry_ids && catalog_lookup(id, &e, errstr, errstr_size) != CATALOG_OK)
        return NULL;
    e = find_static(id);

    pthread_mutex_lock(&lock);
    c = cache_find(e, id);
    if (c) {
        schema = c->schema;
        goto out;
    }
    if (!e) {
        snprintf(errstr, errstr_size, "unknown schema id %d", id);
        goto out;
    }
    if (parse(e, &schema, errstr, errstr_size) < 0)
        goto out;
    c = cache_push();
    if (!c) {
        snprintf(errstr, errstr_size, "out of memory caching schema id %d", id);
        avro_schema_decref(schema);
        schema = NULL;
        goto out;
    }
    c->entry = e;
    c->schema = schema;
out:
    pthread_mutex_unlock(&lock);
    return schema;
}

/* catalog_add, with the file name the entry names and whether it is bound. */
static int add(int id, const char *subject, int version, const char *json, const char *file,
               int bound, char *errstr, size_t errstr_size)
{
    struct catalog_entry *e = NULL;
    avro_schema_t schema = NULL;
    struct cached *c;
    int rval = -1;

    if (id <= 0 || version <= 0) {
        snprintf(errstr, errstr_size, "schema id %d and version %d must be positive", id,
                 version);
        return -1;
    }
    e = calloc(1, sizeof *e);
    if (!e || !(e->subject = strdup(subject)) || !(e->json = strdup(json))
        || !(e->file = strdup(file))) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    e->id = id;
    e->version = version;
    if (parse(e, &schema, errstr, errstr_size) < 0)
        goto out;

    pthread_mutex_lock(&lock);
    if (find_static(id) || cache_find(NULL, id)) {
        snprintf(errstr, errstr_size, "schema id %d is already in the catalog", id);
        goto unlock;
    }
    for (const struct catalog_entry *s = catalog_entries; !registry_ids && s->id != 0; s++)
        if (s->version == version && strcmp(s->subject, subject) == 0) {
            snprintf(errstr, errstr_size, "subject '%s' version %d is already schema id %d",
                     subject, version, s->id);
            goto unlock;
        }
    for (size_t i = 0; i < cache_len; i++)
        if (cache[i].owned && cache[i].owned->version == version
            && strcmp(cache[i].owned->subject, subject) == 0) {
            snprintf(errstr, errstr_size, "subject '%s' version %d is already schema id %d",
                     subject, version, cache[i].owned->id);
            goto unlock;
        }
    c = cache_push();
    if (!c) {
        snprintf(errstr, errstr_size, "out of memory");
        goto unlock;
    }
    c->entry = c->owned = e;
    c->schema = schema;
    c->bound = bound;
    e = NULL;
    schema = NULL;
    rval = 0;
unlock:
    pthread_mutex_unlock(&lock);
out:
    if (schema)
        avro_schema_decref(schema);
    if (e) {
        free((char *)e->subject);
        free((char *)e->json);
        free((char *)e->file);
        free(e);
    }
    return rval;
}

int catalog_add(int id, const char *subject, int version, const char *json,
                char *errstr, size_t errstr_size)
{
    char file[32];

    snprintf(file, sizeof file, "(added id %d)", id);
    return add(id, subject, version, json, file, 0, errstr, errstr_size);
}

int catalog_bind(int id, int version, const struct catalog_entry *compiled, char *errstr,
                 size_t errstr_size)
{
    struct cached *c;
    int rval = -1;

    if (!registry_ids) {
        snprintf(errstr, errstr_size, "catalog_bind: not in the registry's id space");
        return -1;
    }
    pthread_mutex_lock(&lock);
    c = cache_find(NULL, id);
    if (c && strcmp(c->owned->json, compiled->json) != 0)
        snprintf(errstr, errstr_size, "schema id %d is already known with another text than "
                 "'%s'", id, compiled->file);
    else if (c)
        c->bound = rval = 1;
    pthread_mutex_unlock(&lock);
    if (c)
        return rval > 0 ? 0 : -1;
    return add(id, compiled->subject, version, compiled->json, compiled->file, 1, errstr,
               errstr_size);
}

void catalog_release(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < cache_len; i++) {
        if (cache[i].schema)
            avro_schema_decref(cache[i].schema);
        if (cache[i].owned) {
            free((char *)cache[i].owned->subject);
            free((char *)cache[i].owned->json);
            free((char *)cache[i].owned->file);
            free(cache[i].owned);
        }
    }
    free(cache);
    cache = NULL;
    cache_len = cache_cap = 0;
    registry_ids = 0;
    fetch_fn = NULL;
    fetch_opaque = NULL;
    pthread_mutex_unlock(&lock);
}
