/* utf8: checking UTF-8 text (well-formed: no overlong forms, no surrogates, nothing past
 * U+10FFFF) for the modules that write it into formats that require it (promtext,
 * svgchart), read it (rowsrc) or check records before they reach PostgreSQL (validate,
 * incident). Pure; any thread may call. */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/* The length (1-4) of the well-formed UTF-8 sequence at the start of the NUL-terminated
 * s, 0 when s does not start with one (the NUL itself counts as a 1-byte sequence). */
size_t utf8_seq(const char *s);

/* 1 when the NUL-terminated s is well-formed UTF-8 throughout, else 0. */
int utf8_valid(const char *s);

/* 1 when the len bytes at s are well-formed UTF-8 without a NUL byte (text PostgreSQL
 * accepts), else 0. Reads no byte past s + len. */
int utf8_valid_len(const char *s, size_t len);

/* The length of the longest prefix of the NUL-terminated s, at most max bytes, that does
 * not end inside a multi-byte sequence: for quoting a cut text in a message
 * ("%.*s", (int)utf8_cut(s, 64), s), so the message stays valid UTF-8 when s is. */
size_t utf8_cut(const char *s, size_t max);

/* Make the NUL-terminated s valid UTF-8 in place: every byte that does not start a
 * well-formed sequence becomes '?'. For text from elsewhere in a message (a library's
 * error that quotes its input). Returns s. */
char *utf8_scrub(char *s);

#endif
