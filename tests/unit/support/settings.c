/* settings: applying "key=value|..." edits to a test record. */
#include "settings.h"

#include <stdio.h>
#include <string.h>

void settings_unescape(char *dst, size_t size, const char *v)
{
    size_t n = 0;

    while (*v && n + 1 < size) {
        unsigned byte;
        if (v[0] == '\\' && v[1] == 'x' && sscanf(v + 2, "%2x", &byte) == 1) {
            dst[n++] = (char)byte;
            v += 4;
        } else {
            dst[n++] = *v++;
        }
    }
    dst[n] = '\0';
}

int settings_apply(const char *settings, void *rec, settings_set_fn set)
{
    char buf[1024], value[1024], *item, *next;

    if (strcmp(settings, "-") == 0)
        return 0;
    if (strlen(settings) >= sizeof buf)
        return -1;
    strcpy(buf, settings);
    for (item = buf; item; item = next) {
        char *eq;
        next = strchr(item, '|');
        if (next)
            *next++ = '\0';
        if (!*item)
            continue;
        if (!(eq = strchr(item, '=')))
            return -1;
        *eq = '\0';
        settings_unescape(value, sizeof value, eq + 1);
        set(rec, item, value);
    }
    return 0;
}
