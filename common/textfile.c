/* textfile: see textfile.h. */
#include "textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *textfile_read(const char *path, size_t *len, char *errstr, size_t n)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    struct stat st;
    off_t size;

    if (!f) {
        snprintf(errstr, n, "%s: unable to open: %s", path, strerror(errno));
        return NULL;
    }
    /* A directory opens too, and its "size" is whatever the file system says (LONG_MAX on
     * ext4): only a regular file has a length to read. */
    if (fstat(fileno(f), &st) != 0) {
        snprintf(errstr, n, "%s: unable to read: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(errstr, n, "%s: not a regular file", path);
        goto fail;
    }
    size = st.st_size;
    if (!(text = malloc((size_t)size + 1))) {
        snprintf(errstr, n, "%s: out of memory", path);
        goto fail;
    }
    if (fread(text, 1, (size_t)size, f) != (size_t)size) {
        snprintf(errstr, n, "%s: short read", path);
        goto fail;
    }
    text[size] = '\0';
    if (strlen(text) != (size_t)size) {
        snprintf(errstr, n, "%s: contains a NUL byte at offset %zu", path, strlen(text));
        goto fail;
    }
    fclose(f);
    if (len)
        *len = (size_t)size;
    return text;
fail:
    free(text);
    fclose(f);
    return NULL;
}
