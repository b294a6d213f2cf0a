/* catalog: the schema catalog (schema id -> subject, version, Avro schema).
 *
 * Two id spaces, one per process (schemas/README.md):
 *  - compiled (the default): the ids of schemas/catalog.tsv, compiled in (catalog_data.h);
 *    what an air-gapped deployment without a schema registry writes and reads;
 *  - registry (after catalog_use_registry): the ids a Confluent-compatible schema registry
 *    assigned. The compiled ids then mean nothing: an id is known once it was bound
 *    (catalog_bind: a schema this process writes, registered or looked up at start-up) or
 *    fetched from the registry on first sight through the fetch function, and cached for
 *    the life of the process (an id never changes).
 * Subjects follow the record-name strategy: a record's full name ("id.bpjs.adhoc.RosterChange"),
 * whatever topic it is written to. Every lookup of a schema by id or subject goes through
 * these functions; the compiled schemas stay the reader schemas (catalog_reader). */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>
#include <avro.h>

#include "catalog_data.h"

/* Answers of catalog_lookup and of a fetch function. */
enum {
    CATALOG_OK = 0,
    CATALOG_UNKNOWN = -1,       /* no such id (a record to dead-letter) */
    CATALOG_UNAVAILABLE = -2,   /* the registry could not be asked now (try again later) */
};

/* Fetch the schema of id from a registry: fill *subject and *json (malloc'ed; the catalog
 * frees them) and *version, and return CATALOG_OK, or CATALOG_UNKNOWN or
 * CATALOG_UNAVAILABLE with errstr filled. Called without the catalog's lock, from any
 * thread that looks an id up. */
typedef int (*catalog_fetch_fn)(void *opaque, int id, char **subject, int *version,
                                char **json, char *errstr, size_t errstr_size);

/* Switch to the registry's id space, with fetch (NULL: only bound ids are known). Call once
 * at start-up before any other thread uses the catalog (common/schemareg.c does). */
void catalog_use_registry(catalog_fetch_fn fetch, void *opaque);

/* 1 in the registry's id space, 0 in the compiled one. */
int catalog_uses_registry(void);

/* Entry for a schema id; NULL if none (or when the registry could not be asked). The entry
 * stays valid until catalog_release. Any thread. */
const struct catalog_entry *catalog_find(int id);

/* The same with the reason: CATALOG_OK and *out, or CATALOG_UNKNOWN / CATALOG_UNAVAILABLE
 * with errstr filled ("unknown schema id 77", or why the registry did not answer). */
int catalog_lookup(int id, const struct catalog_entry **out, char *errstr, size_t errstr_size);

/* The entry a writer of subject uses: the highest compiled version, or in the registry's
 * id space the one bound with catalog_bind (NULL when this process bound none). Any thread. */
const struct catalog_entry *catalog_latest(const char *subject);

/* The reader schema of subject (its defaults fill the fields an older writer lacks): the
 * highest version compiled in or added (as catalog_latest), or in the registry's id space
 * the highest compiled in (schemas fetched from the registry are other writers'; the id
 * of the entry answered is then a compiled id, meaningless on the wire). NULL when the
 * subject has none. Any thread. */
const struct catalog_entry *catalog_reader(const char *subject);

/* The parsed schema of an id, parsed on first use and cached for the life of the
 * process. The catalog keeps ownership: do not decref it (incref it if you keep it past
 * catalog_release). Any thread (the cache is guarded by a mutex). Returns NULL and fills
 * errstr for an unknown id or a schema that does not parse. */
avro_schema_t catalog_schema(int id, char *errstr, size_t errstr_size);

/* Register one more schema at run time (a schema fetched from a registry, or a test's own
 * version): copies subject and json, parses the schema, and refuses an id or a
 * (subject, version) pair the catalog already has (in the compiled id space the
 * compiled-in entries count too). The entry lives until catalog_release. Any thread.
 * Returns 0, or -1 with errstr filled. */
int catalog_add(int id, const char *subject, int version, const char *json,
                char *errstr, size_t errstr_size);

/* In the registry's id space: make id (registry version version) the schema this process
 * writes for compiled's subject, with compiled's text; catalog_latest(subject) answers it
 * from now on. 0, or -1 with errstr filled (not in the registry's id space, an id already
 * known with another text). Any thread. */
int catalog_bind(int id, int version, const struct catalog_entry *compiled, char *errstr,
                 size_t errstr_size);

/* Drop the parsed-schema cache, the entries added or bound, and the registry's id space
 * (back to the compiled one; for tests and leak checkers at exit). Call only when no other
 * thread uses the catalog; schemas returned earlier are invalid afterwards unless the
 * caller holds its own reference. */
void catalog_release(void);

#endif
