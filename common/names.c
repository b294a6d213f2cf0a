/* names: enum name tables. */
#include "names.h"

#include <string.h>

const char *names_get(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : NULL;
}

int names_find(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}
