/* utf8: well-formed UTF-8 sequences. */
#include "utf8.h"

size_t utf8_seq(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned min, cp;
    size_t n;

    if (u[0] < 0x80)
        return 1;
    if (u[0] >= 0xc2 && u[0] <= 0xdf)
        n = 2, min = 0x80, cp = u[0] & 0x1f;
    else if (u[0] >= 0xe0 && u[0] <= 0xef)
        n = 3, min = 0x800, cp = u[0] & 0x0f;
    else if (u[0] >= 0xf0 && u[0] <= 0xf4)
        n = 4, min = 0x10000, cp = u[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (u[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int utf8_valid(const char *s)
{
    while (*s) {
        size_t n = utf8_seq(s);
        if (!n)
            return 0;
        s += n;
    }
    return 1;
}

size_t utf8_sanitize(char *s)
{
    size_t replaced = 0;

    while (*s) {
        size_t n = utf8_seq(s);
        if (n == 0) {
            *s++ = '?';
            replaced++;
        } else {
            s += n;
        }
    }
    return replaced;
}
