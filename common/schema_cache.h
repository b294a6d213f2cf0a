/* schema_cache: the schema ids a program bound before, remembered per schema registry in a
 * small file, so that a program can start while its registry cannot answer (the registry
 * up but its storage, PostgreSQL, down; schemas/README.md).
 *
 * A line of the file is "url TAB subject TAB file TAB id TAB version": the registry's id
 * for the compiled-in schema `file` (schemas/catalog.tsv; its content never changes)
 * under `subject`. A registry never gives an id to other content, so an id remembered
 * for a URL stays right as long as that registry keeps its storage.
 *
 * Owns only the file's format and its atomic rewrite (a temporary file renamed over it,
 * writers serialised by flock on "<file>.lock"); when to use it is schemareg.c's decision.
 * Not thread-safe within a process; called at start-up. */
#ifndef SCHEMA_CACHE_H
#define SCHEMA_CACHE_H

#include <stddef.h>

/* The default file: $XDG_CACHE_HOME/coverage/schema-ids.tsv, else
 * $HOME/.cache/coverage/schema-ids.tsv, into out. 0, or -1 when neither variable is set or
 * the path is too long. */
int schema_cache_default_path(char *out, size_t out_size);

/* The id and version remembered in path for (url, subject, file): 0 and *id, *version set;
 * -1 when the file or the line is missing or unreadable. */
int schema_cache_find(const char *path, const char *url, const char *subject,
                      const char *file, int *id, int *version);

/* Remember (url, subject, file) -> (id, version) in path, replacing the line of the same
 * key; creates path's folder (and its parent) when missing. 0, or -1 with errstr filled.
 * Strings holding a tab or a newline are refused. */
int schema_cache_store(const char *path, const char *url, const char *subject,
                       const char *file, int id, int version, char *errstr,
                       size_t errstr_size);

#endif
