/* utf8: checking UTF-8 text (well-formed: no overlong forms, no surrogates, nothing past
 * U+10FFFF) for the modules that write it into formats that require it (promtext,
 * svgchart). Pure; any thread may call. */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>

/* The length (1-4) of the well-formed UTF-8 sequence at the start of the NUL-terminated
 * s, 0 when s does not start with one (the NUL itself counts as a 1-byte sequence). */
size_t utf8_seq(const char *s);

/* 1 when the NUL-terminated s is well-formed UTF-8 throughout, else 0. */
int utf8_valid(const char *s);

/* Replace, in place, every byte of s that does not start a well-formed sequence with '?',
 * so that s becomes well-formed UTF-8 (for messages that quote untrusted input). Returns
 * the count of bytes replaced. */
size_t utf8_sanitize(char *s);

#endif
