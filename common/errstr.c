/* errstr: filling the caller's error buffer. */
#include "errstr.h"

#include <stdarg.h>
#include <stdio.h>

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
