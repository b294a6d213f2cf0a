/* errstr: filling the caller's error buffer that every fallible function takes. */
#ifndef ERRSTR_H
#define ERRSTR_H

#include <stddef.h>

/* Format a message into errstr (nothing when errstr is NULL or size is 0; cut to size) and
 * return -1, so that a failing function can end with `return errstr_fail(...)`.
 * Any thread may call it. */
int errstr_fail(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Put a formatted prefix before the message already in errstr ("claim X: " + message; the
 * message's tail is cut to size) and return -1. Any thread may call it. */
int errstr_prefix(char *errstr, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
