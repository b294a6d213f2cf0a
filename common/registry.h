/* registry: a client of a Confluent-compatible schema registry's REST API (Confluent Schema
 * Registry, or Apicurio Registry under /apis/ccompat/v7): look a schema up under a subject,
 * register it, and fetch a schema by its id. HTTP with libcurl (keep-alive on one
 * connection), JSON with jansson. No caching here: common/schemareg.c caches through the
 * catalog (an id never changes).
 *
 * Every call answers one of:
 *  - REGISTRY_OK;
 *  - REGISTRY_REFUSED: the registry answered and said no (an incompatible schema, a schema
 *    that does not parse, an unknown id or subject): errstr has its HTTP status, error code
 *    and message;
 *  - REGISTRY_UNAVAILABLE: no usable answer (refused connection, timeout, HTTP 5xx, a body
 *    that is not the JSON expected): worth trying again later;
 *  - REGISTRY_DENIED: this client is refused (HTTP 401 or 403, a server certificate that
 *    does not verify): its configuration is wrong; worth trying again only once it is
 *    fixed, and never a reason to use anything remembered.
 *
 * The base URL must not carry credentials (they would reach logs); give them with
 * registry_new's user and password (HTTP basic authentication). The URL is printed in
 * messages, never the password.
 *
 * Threads: a registry handle may be used from any thread; calls are serialised on it. */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <stddef.h>

typedef struct registry registry;

enum {
    REGISTRY_OK = 0,
    REGISTRY_REFUSED = -1,
    REGISTRY_UNAVAILABLE = -2,
    REGISTRY_DENIED = -3,
};

/* Error codes of the Confluent API that callers tell apart. */
#define REGISTRY_SUBJECT_NOT_FOUND 40401
#define REGISTRY_SCHEMA_NOT_FOUND 40403

/* A client of the registry at url ("http://host:port/apis/ccompat/v7"; a trailing '/' is
 * dropped). user and password may be NULL (no authentication); both are copied. Each
 * request gives up after timeout_ms. NULL + errstr for a URL that is not http(s), one with
 * credentials in it, or no memory. Free with registry_destroy. */
registry *registry_new(const char *url, const char *user, const char *password,
                       long timeout_ms, char *errstr, size_t errstr_size);

/* Close the connection and free the handle. Accepts NULL. */
void registry_destroy(registry *r);

/* The base URL (owned by r). */
const char *registry_url(const registry *r);

/* The id and version of schema (Avro JSON text) under subject: POST /subjects/{subject}.
 * REGISTRY_OK with *id and *version; REGISTRY_REFUSED with *error_code set (e.g.
 * REGISTRY_SUBJECT_NOT_FOUND, REGISTRY_SCHEMA_NOT_FOUND; 0 when none came) when the
 * registry does not have it; REGISTRY_UNAVAILABLE. */
int registry_lookup(registry *r, const char *subject, const char *schema, int *id,
                    int *version, int *error_code, char *errstr, size_t errstr_size);

/* Register schema under subject (POST /subjects/{subject}/versions): the registry checks it
 * against the subject's compatibility level and answers the id, a new one or that of the
 * same schema registered before. REGISTRY_OK with *id; REGISTRY_REFUSED (e.g. HTTP 409,
 * incompatible: errstr says why); REGISTRY_UNAVAILABLE. */
int registry_register(registry *r, const char *subject, const char *schema, int *id,
                      char *errstr, size_t errstr_size);

/* The schema of id (GET /schemas/ids/{id}) and the first subject and version it is
 * registered under (GET /schemas/ids/{id}/versions). On REGISTRY_OK *schema and *subject
 * are malloc'ed strings the caller frees; REGISTRY_REFUSED when the id is unknown
 * (errstr: "schema id N is not in the registry at URL"); REGISTRY_UNAVAILABLE. */
int registry_fetch(registry *r, int id, char **schema, char **subject, int *version,
                   char *errstr, size_t errstr_size);

#endif
