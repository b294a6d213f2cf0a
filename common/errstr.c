/* errstr: filling the caller's error buffer. */
#include "errstr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int errstr_fail(char *errstr, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (errstr && size) {
        va_start(ap, fmt);
        vsnprintf(errstr, size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int errstr_prefix(char *errstr, size_t size, const char *fmt, ...)
{
    va_list ap;
    size_t plen, mlen;
    int n;

    if (!errstr || !size)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    plen = (size_t)n < size - 1 ? (size_t)n : size - 1;
    mlen = strnlen(errstr, size - 1);
    if (mlen > size - 1 - plen)
        mlen = size - 1 - plen;
    memmove(errstr + plen, errstr, mlen);
    errstr[plen + mlen] = '\0';
    {
        char keep = errstr[plen];
        va_start(ap, fmt);
        vsnprintf(errstr, plen + 1, fmt, ap);
        va_end(ap);
        errstr[plen] = keep;
    }
    return -1;
}
