/* catalog: lookups in the compiled-in schema table (plus run-time additions) and a
 * cache of parsed schemas. */
#include "catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A parsed schema, or an added entry (owned, with its strings), guarded by lock. */
struct cached {
    const struct catalog_entry *entry;
    avro_schema_t schema;
    struct catalog_entry *owned;    /* set for entries added with catalog_add */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached *cache;
static size_t cache_len, cache_cap;

static const struct catalog_entry *find_static(int id)
{
    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++)
        if (e->id == id)
            return e;
    return NULL;
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

const struct catalog_entry *catalog_find(int id)
{
    const struct catalog_entry *e = find_static(id);
    struct cached *c;

    if (e)
        return e;
    pthread_mutex_lock(&lock);
    c = cache_find(NULL, id);
    e = c ? c->entry : NULL;
    pthread_mutex_unlock(&lock);
    return e;
}

const struct catalog_entry *catalog_latest(const char *subject)
{
    const struct catalog_entry *best = NULL;

    for (const struct catalog_entry *e = catalog_entries; e->id != 0; e++)
        if (strcmp(e->subject, subject) == 0 && (!best || e->version > best->version))
            best = e;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < cache_len; i++) {
        const struct catalog_entry *e = cache[i].owned;
        if (e && strcmp(e->subject, subject) == 0 && (!best || e->version > best->version))
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

int catalog_add(int id, const char *subject, int version, const char *json,
                char *errstr, size_t errstr_size)
{
    struct catalog_entry *e = NULL;
    avro_schema_t schema = NULL;
    struct cached *c;
    char file[32];
    int rval = -1;

    if (id <= 0 || version <= 0) {
        snprintf(errstr, errstr_size, "schema id %d and version %d must be positive", id,
                 version);
        return -1;
    }
    snprintf(file, sizeof file, "(added id %d)", id);
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
    for (const struct catalog_entry *s = catalog_entries; s->id != 0; s++)
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
    pthread_mutex_unlock(&lock);
}
