/* textfile: see textfile.h. */
#include "textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *textfile_read(const char *path, size_t *len, char *errstr, size_t n)
{
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size;

    if (!f) {
        snprintf(errstr, n, "%s: unable to open: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(errstr, n, "%s: unable to read: %s", path, strerror(errno));
        goto fail;
    }
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
