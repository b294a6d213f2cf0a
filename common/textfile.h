/* textfile: a small data file read whole, as text (the regulation tables: benefits.c,
 * premiums.c). One rule for all of them: the file must open, read in full and hold no NUL
 * byte; each failure is named with the path.
 *
 * No state; any thread. */
#ifndef TEXTFILE_H
#define TEXTFILE_H

#include <stddef.h>

/* The whole of path, NUL-terminated, to free(); its length in *len when len is not NULL.
 * NULL + errstr ("<path>: unable to open: <reason>", "...: contains a NUL byte") on failure. */
char *textfile_read(const char *path, size_t *len, char *errstr, size_t errstr_size);

#endif
