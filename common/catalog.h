/* catalog: the schema catalog (schema id -> subject, version, Avro schema).
 * The table is compiled in from schemas/catalog.tsv (see schemas/README.md). This module
 * is the seam where a Confluent schema registry plugs in later: every lookup of a schema
 * by id or subject goes through these functions. */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>
#include <avro.h>

#include "catalog_data.h"

/* Entry for a schema id; NULL if none. The entry stays valid until catalog_release.
 * Any thread. */
const struct catalog_entry *catalog_find(int id);

/* Entry with the highest version of a subject ("roster.changes-value"); NULL if the
 * subject has none. Any thread. */
const struct catalog_entry *catalog_latest(const char *subject);

/* The parsed schema of an id, parsed on first use and cached for the life of the
 * process. The catalog keeps ownership: do not decref it (incref it if you keep it past
 * catalog_release). Any thread (the cache is guarded by a mutex). Returns NULL and fills
 * errstr for an unknown id or a schema that does not parse. */
avro_schema_t catalog_schema(int id, char *errstr, size_t errstr_size);

/* Register one more schema at run time (a schema registry client, or a test's own
 * version): copies subject and json, parses the schema, and refuses an id or a
 * (subject, version) pair the catalog already has. The entry lives until
 * catalog_release. Any thread. Returns 0, or -1 with errstr filled. */
int catalog_add(int id, const char *subject, int version, const char *json,
                char *errstr, size_t errstr_size);

/* Drop the parsed-schema cache and the entries added with catalog_add (for leak checkers at exit). Call only when no other
 * thread uses the catalog; schemas returned earlier are invalid afterwards unless the
 * caller holds its own reference. */
void catalog_release(void);

#endif
