/* strbuf: a growable NUL-terminated text buffer with a sticky allocation failure. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(strbuf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void strbuf_release(strbuf *b)
{
    if (!b)
        return;
    free(b->data);
    strbuf_init(b);
}

void strbuf_reset(strbuf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Make room for extra more bytes plus the NUL; 0 or -1 (failed set). */
static int reserve(strbuf *b, size_t extra)
{
    size_t want, cap;
    char *p;

    if (b->failed)
        return -1;
    if (extra > (size_t)-1 / 2 - b->len - 1)
        goto fail;
    want = b->len + extra + 1;
    if (want <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        goto fail;
    b->data = p;
    b->cap = cap;
    return 0;
fail:
    b->failed = 1;
    return -1;
}

int strbuf_append(strbuf *b, const char *s, size_t n)
{
    if (reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int strbuf_puts(strbuf *b, const char *s)
{
    return strbuf_append(b, s, strlen(s));
}

int strbuf_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (reserve(b, 0) < 0)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        goto fail;
    if ((size_t)n >= b->cap - b->len) {
        if (reserve(b, (size_t)n) < 0)
            return -1;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
fail:
    b->failed = 1;
    b->data[b->len] = '\0';
    return -1;
}

const char *strbuf_str(const strbuf *b)
{
    return b->data ? b->data : "";
}

char *strbuf_detach(strbuf *b, size_t *len)
{
    char *s;

    if (b->failed || reserve(b, 0) < 0) {
        strbuf_release(b);
        return NULL;
    }
    s = b->data;
    s[b->len] = '\0';
    if (len)
        *len = b->len;
    strbuf_init(b);
    return s;
}
