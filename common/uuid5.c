/* uuid5: canonical record names and RFC 4122 version 5 UUIDs over OpenSSL's SHA-1. */
/* SHA1_Init/Update/Final are deprecated since OpenSSL 3.0 in favour of EVP, and kept
 * throughout 3.x. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "uuid5.h"

#include <string.h>
#include <openssl/sha.h>

void uuid5_init(uuid5 *u)
{
    u->len = 0;
    u->overflow = 0;
}

static void put(uuid5 *u, const char *s, size_t n)
{
    if (u->len + n > sizeof u->name) {
        n = sizeof u->name - u->len;
        u->overflow = 1;
    }
    memcpy(u->name + u->len, s, n);
    u->len += n;
}

static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                            "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                            "8081828384858687888990919293949596979899";

/* Two digits of v (< 100) as a 16-bit word in memory order. */
static uint64_t pair(uint32_t v)
{
    uint16_t w;

    memcpy(&w, pairs + v * 2, 2);
    return w;
}

#if !defined(__BYTE_ORDER__) || (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ && __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__)
#error "uuid5.c puts digits together in a word: it needs the compiler's __BYTE_ORDER__ (gcc, clang)"
#endif

/* The decimal digits of v (< 10^8) as 8 characters, leading zeros included, in a word in
 * memory order: its halves' pairs come from two independent divisions, and the word is put
 * together in a register (four 2-byte stores read back as one 8-byte load would stall). */
static uint64_t eight_digits(uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    uint64_t a = pair(hi / 100), b = pair(hi % 100), c = pair(lo / 100), d = pair(lo % 100);

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return a << 48 | b << 32 | c << 16 | d;
#else
    return a | b << 16 | c << 32 | d << 48;
#endif
}

/* Write the decimal digits of v (>= 10^8) at p, from the end two at a time; returns the
 * end. Out of line: ids, not the rows' numbers, get this long. */
static __attribute__((noinline)) char *long_digits_at(char *p, uint64_t v)
{
    char tmp[20];
    int n = (int)sizeof tmp;

    while (v >= 100) {
        memcpy(tmp + (n -= 2), pairs + v % 100 * 2, 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(tmp + (n -= 2), pairs + v * 2, 2);
    else
        tmp[--n] = (char)('0' + v);
    memcpy(p, tmp + n, sizeof tmp - (size_t)n);
    return p + (sizeof tmp - (size_t)n);
}

/* Write the decimal digits of v at p; returns the end. p has room for 21 bytes: numbers
 * under 10^8 (lengths, days, wages) are written as one 8-byte word whose leading zeros are
 * shifted out, the bytes after the end being overwritten by what follows. */
static inline char *digits_at(char *p, uint64_t v)
{
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    if (v < 100) {
        memcpy(p, pairs + v * 2, 2);
        return p + 2;
    }
    if (v >= 100000000)
        return long_digits_at(p, v);
    int n = v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6 : v < 10000000 ? 7 : 8;
    uint64_t w = eight_digits((uint32_t)v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w <<= 8 * (8 - n);
#else
    w >>= 8 * (8 - n);
#endif
    memcpy(p, &w, sizeof w);
    return p + n;
}

/* A number and its end mark, cut at the name's end (the slow path of a full name). */
static void put_digits(uuid5 *u, uint64_t v, int negative, char end)
{
    char tmp[32], *p = tmp;     /* digits_at's room: 21 bytes, and its 8-byte stores */

    if (negative)
        *p++ = '-';
    p = digits_at(p, v);
    *p++ = end;
    put(u, tmp, (size_t)(p - tmp));
}

void uuid5_text(uuid5 *u, const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max) : 0;

    /* Room for the longest length, ':', the text and '|': write in place. */
    if (u->len + 22 + n <= sizeof u->name) {
        char *start = u->name + u->len, *p = digits_at(start, n);
        *p++ = ':';
        memcpy(p, s ? s : "", n);
        p[n] = '|';
        u->len += (size_t)(p + n + 1 - start);
        return;
    }
    put_digits(u, n, 0, ':');
    put(u, s ? s : "", n);
    put(u, "|", 1);
}

void uuid5_num(uuid5 *u, int64_t v)
{
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    /* Room for a sign, 20 digits and '|': write in place. */
    if (u->len + 22 <= sizeof u->name) {
        char *start = u->name + u->len, *p = start;
        if (v < 0)
            *p++ = '-';
        p = digits_at(p, a);
        *p++ = '|';
        u->len += (size_t)(p - start);
        return;
    }
    put_digits(u, a, v < 0, '|');
}

/* The 36 lower-case characters of id, 8-4-4-4-12, and a NUL (libuuid's form). */
static void unparse(const unsigned char id[16], char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *out++ = '-';
        *out++ = hex[id[i] >> 4];
        *out++ = hex[id[i] & 15];
    }
    *out = '\0';
}

void uuid5_finish(const uuid5 *u, const unsigned char ns[16], char *out)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA_CTX c;

    /* The low-level calls: EVP's per-call dispatch cost the producers more than the hash. */
    SHA1_Init(&c);
    SHA1_Update(&c, ns, 16);
    SHA1_Update(&c, u->name, u->len);
    SHA1_Final(md, &c);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);  /* version 5 */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
    unparse(md, out);
}
