/* schemareg: binding the catalog to a schema registry at start-up. */
#include "schemareg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "errstr.h"
#include "log.h"
#include "registry.h"
#include "schema_cache.h"

static registry *client;
static int started;
/* registry.cache resolved: the file of the ids bound before; "" when off. */
static char cache_path[4096];

/* registry.cache: a path, "none" (off), or empty for schema_cache_default_path. */
static void cache_init(const config *cfg)
{
    const char *opt = config_get(cfg, "registry.cache");

    cache_path[0] = '\0';
    if (opt && strcmp(opt, "none") == 0)
        return;
    if (opt && *opt)
        snprintf(cache_path, sizeof cache_path, "%s", opt);
    else if (schema_cache_default_path(cache_path, sizeof cache_path) < 0)
        cache_path[0] = '\0';
}

/* The registry could not answer at start-up: the id bound before for this registry, if
 * any (what the registry gave once it never gives to other content). */
static int cached(const char *subject, const struct catalog_entry *e, int *id, int *version)
{
    return cache_path[0]
        ? schema_cache_find(cache_path, registry_url(client), subject, e->file, id, version)
        : -1;
}

/* Remember an id the registry gave, unless the file has it already (programs started
 * together would otherwise rewrite it together). */
static void remember(const char *subject, const struct catalog_entry *e, int id, int version)
{
    char err[512];
    int had_id = 0, had_version = 0;

    if (cache_path[0]
        && !(cached(subject, e, &had_id, &had_version) == 0 && had_id == id
             && had_version == version)
        && schema_cache_store(cache_path, registry_url(client), subject, e->file, id, version,
                              err, sizeof err) < 0)
        log_warn("schema id not remembered", "subject=%s error=\"%s\"", subject, err);
}

/* catalog_fetch_fn over the registry client. */
static int fetch(void *opaque, int id, char **subject, int *version, char **json,
                 char *errstr, size_t errstr_size)
{
    int rc = registry_fetch(opaque, id, json, subject, version, errstr, errstr_size);

    if (rc == REGISTRY_OK)
        return CATALOG_OK;
    if (rc == REGISTRY_UNAVAILABLE || rc == REGISTRY_DENIED)
        log_warn("schema registry unavailable", "schema_id=%d error=\"%s\"", id, errstr);
    return rc == REGISTRY_REFUSED ? CATALOG_UNKNOWN : CATALOG_UNAVAILABLE;
}

/* Look the compiled latest of subject up, register it when allowed and missing, bind it. */
static int bind_subject(const char *subject, int auto_register, char *errstr,
                        size_t errstr_size)
{
    const struct catalog_entry *e = catalog_reader(subject);
    int id = 0, version = 0, code = 0, rc;
    const char *how = "found";

    if (!e)
        return errstr_fail(errstr, errstr_size, "no compiled-in schema for subject '%s'", subject);
    rc = registry_lookup(client, subject, e->json, &id, &version, &code, errstr, errstr_size);
    if (rc == REGISTRY_REFUSED && auto_register
        && (code == REGISTRY_SUBJECT_NOT_FOUND || code == REGISTRY_SCHEMA_NOT_FOUND)) {
        how = "registered";
        rc = registry_register(client, subject, e->json, &id, errstr, errstr_size);
        if (rc == REGISTRY_OK)
            rc = registry_lookup(client, subject, e->json, &id, &version, &code, errstr,
                                 errstr_size);
    } else if (rc == REGISTRY_REFUSED
               && (code == REGISTRY_SUBJECT_NOT_FOUND || code == REGISTRY_SCHEMA_NOT_FOUND)) {
        errstr_prefix(errstr, errstr_size, "'%s' (version %d) is not registered and "
                      "registry.auto.register is off: ", e->file, e->version);
    }
    if (rc == REGISTRY_UNAVAILABLE && cached(subject, e, &id, &version) == 0) {
        log_warn("schema registry unavailable; the id bound before is used",
                 "subject=%s id=%d error=\"%s\"", subject, id, errstr);
        how = "cached";
        rc = REGISTRY_OK;
    }
    if (rc != REGISTRY_OK)
        return -1;
    if (catalog_bind(id, version, e, errstr, errstr_size) < 0)
        return -1;
    if (strcmp(how, "cached") != 0)
        remember(subject, e, id, version);
    log_info("schema bound", "registry=%s subject=%s file=%s id=%d version=%d how=%s",
             registry_url(client), subject, e->file, id, version, how);
    return 0;
}

int schemareg_start(const config *cfg, const char *const *writes, char *errstr,
                    size_t errstr_size)
{
    const char *url = config_get(cfg, "registry.url");

    if (started)
        return errstr_fail(errstr, errstr_size, "schemareg_start called twice");
    started = 1;
    if (!url || !*url) {
        log_debug("schemas compiled in", "registry=none");
        return 0;
    }
    client = registry_new(url, config_get(cfg, "registry.user"),
                          config_get(cfg, "registry.password"),
                          (long)config_int(cfg, "registry.timeout.ms"), errstr, errstr_size);
    if (!client)
        return -1;
    cache_init(cfg);
    catalog_use_registry(fetch, client);
    for (size_t i = 0; writes && writes[i]; i++)
        if (bind_subject(writes[i], config_bool(cfg, "registry.auto.register"), errstr,
                         errstr_size) < 0)
            return -1;
    return 0;
}

int schemareg_active(void)
{
    return client != NULL;
}

void schemareg_stop(void)
{
    catalog_release();
    registry_destroy(client);
    client = NULL;
    started = 0;
}
