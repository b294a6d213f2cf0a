/* uuid5: name-based UUIDs (RFC 4122 version 5, SHA-1), the stable event ids.
 *
 * A record's canonical name is built field by field: texts as "len:text|", numbers as
 * "decimal|", so no choice of field values can make two records share a name. */
#ifndef UUID5_H
#define UUID5_H

#include <stddef.h>
#include <stdint.h>

typedef struct uuid5 {
    char name[9216];
    size_t len;
    int overflow;       /* the name was cut; the id is still stable, only less unique */
} uuid5;

void uuid5_init(uuid5 *u);
/* Append a text of at most max bytes (NULL counts as empty). */
void uuid5_text(uuid5 *u, const char *s, size_t max);
void uuid5_num(uuid5 *u, int64_t v);
/* Write the UUID of the name within namespace ns as 36 lower-case characters plus NUL
 * into out (size >= 37). Equal to libuuid's uuid_generate_sha1 over the same name, with
 * OpenSSL's faster SHA-1 (the producers hash every row). Any thread may call it; it
 * allocates nothing. */
void uuid5_finish(const uuid5 *u, const unsigned char ns[16], char *out);

#endif
