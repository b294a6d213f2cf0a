/* names: lookups in a table of enum names (index = enum value), as the record modules keep
 * them for files, Avro and SQL. Pure; any thread. */
#ifndef NAMES_H
#define NAMES_H

/* names[v], or NULL when v is outside 0..n-1. */
const char *names_get(const char *const *names, int n, int v);

/* The index of s in names, or -1 when absent. */
int names_find(const char *const *names, int n, const char *s);

#endif
