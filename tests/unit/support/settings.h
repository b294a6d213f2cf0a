/* settings: the "key=value|key=value" edits of data-driven record tests (a base record
 * changed field by field), with "\xHH" in a value for any byte (invalid UTF-8 included).
 * Linked into every unit test. */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stddef.h>

/* Set one field of rec from key and its unescaped value. */
typedef void (*settings_set_fn)(void *rec, const char *key, const char *value);

/* Split settings ("-" for none) at '|', each item at its first '=', unescape the value and
 * call set. Returns 0, or -1 when an item lacks '=' or settings is longer than 1023 bytes. */
int settings_apply(const char *settings, void *rec, settings_set_fn set);

/* Copy v into dst (size bytes, always terminated), each "\xHH" turned into that byte. */
void settings_unescape(char *dst, size_t size, const char *v);

#endif
