/* strbuf: a growable, always NUL-terminated text buffer in the caller's storage, for the
 * modules that render text (promtext, svgchart). An allocation failure is sticky: the
 * buffer keeps what it had, every later append is ignored and `failed` stays set until
 * strbuf_reset, so a renderer checks once at the end. One buffer per thread; no locking. */
#ifndef STRBUF_H
#define STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char *data;   /* NULL until the first append; then NUL-terminated */
    size_t len;   /* bytes before the NUL */
    size_t cap;   /* bytes allocated */
    int failed;   /* an allocation failed since init or reset */
} strbuf;

/* An empty buffer; allocates nothing. */
void strbuf_init(strbuf *b);

/* Free the buffer's memory and leave it empty (initialised). Accepts NULL. */
void strbuf_release(strbuf *b);

/* Empty the text and clear `failed`, keeping the memory for reuse. */
void strbuf_reset(strbuf *b);

/* Append n bytes of s / the string s / formatted text. Return 0, or -1 when memory ran
 * out now or earlier (nothing is appended then). */
int strbuf_append(strbuf *b, const char *s, size_t n);
int strbuf_puts(strbuf *b, const char *s);
int strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The text (never NULL: "" while empty); valid until the next call that changes b. */
const char *strbuf_str(const strbuf *b);

/* Hand the text over: returns a malloc'ed NUL-terminated string the caller frees with
 * free(), its length in *len when len is not NULL, and leaves b empty. NULL when an
 * allocation failed (b is then emptied too). */
char *strbuf_detach(strbuf *b, size_t *len);

#endif
