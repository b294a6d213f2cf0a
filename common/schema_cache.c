/* schema_cache: the ids bound before, per registry, in a TSV file (schema_cache.h). */
#include "schema_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errstr.h"

enum { LINE_MAX_LEN = 4096 };

int schema_cache_default_path(char *out, size_t out_size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;

    if (xdg && *xdg)
        n = snprintf(out, out_size, "%s/coverage/schema-ids.tsv", xdg);
    else if (home && *home)
        n = snprintf(out, out_size, "%s/.cache/coverage/schema-ids.tsv", home);
    else
        return -1;
    return n > 0 && (size_t)n < out_size ? 0 : -1;
}

/* 1 when line (no newline) starts with the key "url TAB subject TAB file TAB". */
static int has_key(const char *line, const char *url, const char *subject, const char *file)
{
    const char *parts[] = {url, subject, file};

    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        if (strncmp(line, parts[i], n) != 0 || line[n] != '\t')
            return 0;
        line += n + 1;
    }
    return 1;
}

int schema_cache_find(const char *path, const char *url, const char *subject,
                      const char *file, int *id, int *version)
{
    char line[LINE_MAX_LEN];
    FILE *f = fopen(path, "r");
    int found = -1;

    if (!f)
        return -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        const char *rest;
        int i, v;
        if (!has_key(line, url, subject, file))
            continue;
        rest = line + strlen(url) + strlen(subject) + strlen(file) + 3;
        if (sscanf(rest, "%d\t%d", &i, &v) == 2 && i > 0 && v > 0) {
            *id = i;
            *version = v;
            found = 0;
        }
    }
    fclose(f);
    return found;
}

/* mkdir -p of path's folder (0700 for the folders it makes). */
static int make_folders(const char *path, char *errstr, size_t errstr_size)
{
    char dir[LINE_MAX_LEN];

    if (strlen(path) >= sizeof dir)
        return errstr_fail(errstr, errstr_size, "path too long: %s", path);
    strcpy(dir, path);
    for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return errstr_fail(errstr, errstr_size, "mkdir %s: %s", dir, strerror(errno));
        *p = '/';
    }
    return 0;
}

int schema_cache_store(const char *path, const char *url, const char *subject,
                       const char *file, int id, int version, char *errstr,
                       size_t errstr_size)
{
    char tmp[LINE_MAX_LEN + 32], line[LINE_MAX_LEN];
    const char *parts[] = {url, subject, file};
    FILE *in, *out;
    int ok, lock;

    for (size_t i = 0; i < 3; i++)
        if (strpbrk(parts[i], "\t\n"))
            return errstr_fail(errstr, errstr_size, "a tab or newline in '%s'", parts[i]);
    if (make_folders(path, errstr, errstr_size) < 0)
        return -1;
    /* Writers take turns (programs started together), so that none drops another's line. */
    snprintf(tmp, sizeof tmp, "%s.lock", path);
    if ((lock = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return errstr_fail(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
    if (flock(lock, LOCK_EX) < 0) {
        errstr_fail(errstr, errstr_size, "locking %s: %s", tmp, strerror(errno));
        close(lock);
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (!(out = fopen(tmp, "w"))) {
        errstr_fail(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
        close(lock);
        return -1;
    }
    if ((in = fopen(path, "r"))) {
        while (fgets(line, sizeof line, in))
            if (!has_key(line, url, subject, file) && strchr(line, '\n'))
                fputs(line, out);
        fclose(in);
    }
    fprintf(out, "%s\t%s\t%s\t%d\t%d\n", url, subject, file, id, version);
    ok = !ferror(out);
    if (fclose(out) != 0 || !ok || rename(tmp, path) < 0) {
        errstr_fail(errstr, errstr_size, "writing %s: %s", path, strerror(errno));
        unlink(tmp);
        close(lock);
        return -1;
    }
    close(lock);
    return 0;
}
