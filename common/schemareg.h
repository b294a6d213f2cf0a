/* schemareg: where this process's schema ids come from (schemas/README.md).
 *
 * With registry.url set (option group PROGRAM_OPT_REGISTRY of program.h), the catalog
 * switches to the schema registry's id space (catalog.h): for each subject the program
 * writes, the latest compiled-in schema is looked up under its subject (record-name
 * strategy) and, when the registry lacks it and registry.auto.register is on, registered
 * (the registry checks compatibility then); catalog_bind makes that id the one written.
 * Ids the program reads and does not know yet are fetched from the registry on first
 * sight and cached for the life of the process. A registry that cannot be reached or
 * refuses a schema at start-up is an error: no fallback to the compiled-in ids, which
 * would mean other schemas under the same numbers. One that cannot answer (down, or its
 * storage down) is not, for a subject this program bound before with this registry: the
 * id it gave then (schema_cache.h, file registry.cache) is used, with a warning.
 *
 * With registry.url empty the compiled-in catalog's ids are used: an air-gapped data
 * center without a registry, where every program of the deployment must run so.
 *
 * Threads: schemareg_start and schemareg_stop from the main thread, before any other thread
 * starts and after every other one ended; the fetching behind the catalog from any thread. */
#ifndef SCHEMAREG_H
#define SCHEMAREG_H

#include <stddef.h>

#include "config.h"

/* Subjects a program writes (the latest compiled-in version of each), NULL-terminated. */
typedef const char *const schemareg_subjects[];

/* Read registry.url, registry.user, registry.password, registry.timeout.ms,
 * registry.auto.register and registry.cache from cfg; with a URL, bind each subject of
 * writes (may be NULL) and fetch unknown ids from then on; log one line per subject bound
 * (subject, id, version, how: found, registered or cached). 0, or -1 with errstr naming the subject and the registry's answer. Once per
 * process (a second call fails). */
int schemareg_start(const config *cfg, const char *const *writes, char *errstr,
                    size_t errstr_size);

/* 1 after a schemareg_start that chose the registry. */
int schemareg_active(void);

/* Back to the compiled-in ids, and free the client (for tests and leak checkers). */
void schemareg_stop(void);

#endif
