/* settings: applying "key=value|..." edits to a test record; loading records files. */
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dates.h"
#include "roster.h"

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

int settings_apply(const char *settings, void *rec, settings_set_fn set, settings_drop_fn drop)
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
        if (!(eq = strchr(item, '='))) {
            if (item[0] != '-' || !drop)
                return -1;
            drop(rec, item + 1);
            continue;
        }
        *eq = '\0';
        settings_unescape(value, sizeof value, eq + 1);
        set(rec, item, value);
    }
    return 0;
}

int settings_named(const char *v, int (*parse)(const char *))
{
    int x;

    if (v[0] == '#')
        return atoi(v + 1);
    x = parse(v);
    cr_assert_neq(x, -1, "unknown name '%s'", v);
    return x;
}

/* A forged value: none for "none", N for "#N"; 1 with *out set, or 0 for another v. */
static int forged(const char *v, int64_t none, int64_t *out)
{
    if (strcmp(v, "none") == 0)
        *out = none;
    else if (v[0] == '#')
        *out = strtoll(v + 1, NULL, 10);
    else
        return 0;
    return 1;
}

int32_t settings_day(const char *v)
{
    int64_t raw;
    int32_t d;

    if (forged(v, DATE_NONE, &raw))
        return (int32_t)raw;
    cr_assert_eq(dates_parse(v, &d), 0, "bad date '%s'", v);
    return d;
}

int64_t settings_time(const char *v)
{
    int64_t us;

    if (!forged(v, INT64_MIN, &us))
        cr_assert_eq(dates_parse_timestamp(v, &us), 0, "bad timestamp '%s'", v);
    return us;
}

size_t settings_load(const char *path, void *recs, size_t size, size_t max, settings_init_fn init,
                     settings_set_fn set)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, n = 0;
    int lineno = 0;

    cr_assert_not_null(f, "cannot open %s (run from tests/unit)", path);
    while (getline(&line, &cap, f) >= 0) {
        void *rec = (char *)recs + n * size;

        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        cr_assert_lt(n, max, "%s: more than %zu records", path, max);
        init(rec);
        cr_assert_eq(settings_apply(line, rec, set, NULL), 0, "%s:%d: bad record", path, lineno);
        n++;
    }
    free(line);
    fclose(f);
    cr_assert_gt(n, 0, "no records in %s", path);
    return n;
}
