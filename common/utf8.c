/* utf8: well-formed UTF-8 sequences. */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* The length of the well-formed sequence at u, which has avail readable bytes (avail >= 1),
 * or 0. */
static size_t seq(const unsigned char *u, size_t avail)
{
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
    if (n > avail)
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

size_t utf8_seq(const char *s)
{
    /* A NUL ends the string and is no continuation byte, so no read passes it. */
    return seq((const unsigned char *)s, 4);
}

int utf8_valid_len(const char *s, size_t len)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        /* Most text is ASCII: eight bytes at a time while none is high or NUL. */
        if (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (!(w & highs) && !((w - ones) & ~w & highs)) {
                i += 8;
                continue;
            }
        }
        if (u[i] - 1u < 0x7fu) {
            i++;
            continue;
        }
        size_t n = u[i] ? seq(u + i, len - i) : 0;
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

size_t utf8_cut(const char *s, size_t max)
{
    size_t n = strnlen(s, max);

    /* Cut before the sequence the byte after the cut continues. */
    if (n == max)
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    return n;
}

char *utf8_scrub(char *s)
{
    for (char *p = s; *p;) {
        size_t n = utf8_seq(p);
        if (!n) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
    return s;
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
