/* config: option tables filled from file, environment and flags. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct config_entry {
    char *key;
    char *value;
    int set;      /* 0: the table's default; 1: from a file, the environment or a flag */
} config_entry;

struct config {
    config_option *rows;   /* copies of the rows (their strings borrowed), in help order */
    size_t nrows;
    config_entry *entries;
    size_t count, cap;
};

static const config_option *find_option(const config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->nrows; i++)
        if (strcmp(cfg->rows[i].key, key) == 0)
            return &cfg->rows[i];
    return NULL;
}

static config_entry *find_entry(const config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->count; i++)
        if (strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    return NULL;
}

/* How a value may be stored: as a default, as set, or only over a default (a lower
 * layer, config_load_file_under). */
typedef enum { SET_DEFAULT, SET_VALUE, SET_UNDER } set_mode;

static int set_value(config *cfg, const char *key, const char *value, set_mode mode,
                     char *errstr, size_t n);

static int is_secret(const char *key)
{
    return strstr(key, "password") || strstr(key, "secret") || strstr(key, "sasl.oauthbearer");
}

config *config_new_rows(const config_option *const *rows, size_t nrows)
{
    config *cfg = calloc(1, sizeof *cfg);

    if (!cfg || !(cfg->rows = calloc(nrows + 1, sizeof *cfg->rows)))
        goto fail;
    for (size_t i = 0; i < nrows; i++) {
        if (find_option(cfg, rows[i]->key))
            goto fail; /* a key twice: a programming error in the tables */
        cfg->rows[cfg->nrows++] = *rows[i];
        if (rows[i]->def && set_value(cfg, rows[i]->key, rows[i]->def, SET_DEFAULT, NULL, 0) < 0)
            goto fail;
    }
    return cfg;
fail:
    config_destroy(cfg);
    return NULL;
}

config *config_new(const config_option *table)
{
    const config_option **rows;
    size_t n = 0;
    config *cfg;

    while (table[n].key)
        n++;
    if (!(rows = calloc(n + 1, sizeof *rows)))
        return NULL;
    for (size_t i = 0; i < n; i++)
        rows[i] = &table[i];
    cfg = config_new_rows(rows, n);
    free(rows);
    return cfg;
}

void config_destroy(config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->count; i++) {
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    free(cfg->entries);
    free(cfg->rows);
    free(cfg);
}

static int check_value(const config_option *o, const char *value, char *errstr, size_t n)
{
    char *end;
    if (o->type == CONFIG_INT) {
        errno = 0;
        (void)strtoll(value, &end, 10);
        if (errno || end == value || *end) {
            snprintf(errstr, n, "option '%s': '%s' is not an integer", o->key, value);
            return -1;
        }
    } else if (o->type == CONFIG_BOOL) {
        if (strcmp(value, "true") && strcmp(value, "false") && strcmp(value, "1") &&
            strcmp(value, "0")) {
            snprintf(errstr, n, "option '%s': '%s' is not true or false", o->key, value);
            return -1;
        }
    }
    return 0;
}

int config_set(config *cfg, const char *key, const char *value, char *errstr, size_t n)
{
    return set_value(cfg, key, value, SET_VALUE, errstr, n);
}

static int set_value(config *cfg, const char *key, const char *value, set_mode mode,
                     char *errstr, size_t n)
{
    const config_option *o = find_option(cfg, key);
    config_entry *e;
    char *copy;

    if (!o && strncmp(key, "kafka.", 6) != 0) {
        if (errstr)
            snprintf(errstr, n, "unknown option '%s'", key);
        return -1;
    }
    if (o && check_value(o, value, errstr, n) < 0)
        return -1;
    if (mode == SET_UNDER && (e = find_entry(cfg, key)) && e->set)
        return 0;
    if (!(copy = strdup(value)))
        goto oom;
    if ((e = find_entry(cfg, key))) {
        free(e->value);
        e->value = copy;
        e->set = mode != SET_DEFAULT;
        return 0;
    }
    if (cfg->count == cfg->cap) {
        size_t cap = cfg->cap ? cfg->cap * 2 : 16;
        config_entry *grown = realloc(cfg->entries, cap * sizeof *grown);
        if (!grown) {
            free(copy);
            goto oom;
        }
        cfg->entries = grown;
        cfg->cap = cap;
    }
    e = &cfg->entries[cfg->count];
    if (!(e->key = strdup(key))) {
        free(copy);
        goto oom;
    }
    e->value = copy;
    e->set = mode != SET_DEFAULT;
    cfg->count++;
    return 0;
oom:
    if (errstr)
        snprintf(errstr, n, "out of memory");
    return -1;
}

int config_set_flag(config *cfg, const char *key, const char *value, char *errstr, size_t n)
{
    if (is_secret(key)) {
        snprintf(errstr, n,
                 "option '%s' is a secret: set it in the config file or the environment, "
                 "not on the command line", key);
        return -1;
    }
    return config_set(cfg, key, value, errstr, n);
}

static char *trim(char *s)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

static int load_file(config *cfg, const char *path, set_mode mode, int missing_ok, int *loaded,
                     char *errstr, size_t n)
{
    char line[4096], msg[512];
    int lineno = 0, rc = 0;
    FILE *f = fopen(path, "r");

    if (loaded)
        *loaded = 0;
    if (!f) {
        if (missing_ok && errno == ENOENT)
            return 0;
        snprintf(errstr, n, "unable to open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    if (loaded)
        *loaded = 1;
    while (fgets(line, sizeof line, f)) {
        char *s, *eq;
        lineno++;
        s = trim(line);
        if (!*s || *s == '#')
            continue;
        if (!(eq = strchr(s, '='))) {
            snprintf(errstr, n, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        if (set_value(cfg, trim(s), trim(eq + 1), mode, msg, sizeof msg) < 0) {
            snprintf(errstr, n, "%s:%d: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int config_load_file(config *cfg, const char *path, char *errstr, size_t n)
{
    return load_file(cfg, path, SET_VALUE, 0, NULL, errstr, n);
}

int config_load_file_under(config *cfg, const char *path, int missing_ok, int *loaded,
                           char *errstr, size_t n)
{
    return load_file(cfg, path, SET_UNDER, missing_ok, loaded, errstr, n);
}

int config_is_set(const config *cfg, const char *key)
{
    const config_entry *e = find_entry(cfg, key);
    return e && e->set;
}

int config_load_env(config *cfg, char *errstr, size_t n)
{
    for (size_t i = 0; i < cfg->nrows; i++) {
        const config_option *o = &cfg->rows[i];
        const char *v = o->env ? getenv(o->env) : NULL;
        if (v && *v && config_set(cfg, o->key, v, errstr, n) < 0)
            return -1;
    }
    return 0;
}

int config_parse_args(config *cfg, int argc, char **argv, int *rest_argc, char *errstr, size_t n)
{
    int rest = 0;

    /* The file comes first whatever its position, so flags override it. */
    for (int i = 0; i < argc; i++) {
        const char *path = NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        if (path && config_load_file(cfg, path, errstr, n) < 0)
            return -1;
    }
    if (config_load_env(cfg, errstr, n) < 0)
        return -1;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i], key[256];
        const char *value = NULL;
        const config_option *o;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return 1;
        if (strcmp(arg, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(arg, "--config=", 9) == 0)
            continue;
        if (strcmp(arg, "-X") == 0) {
            char *eq;
            if (i + 1 >= argc || !(eq = strchr(argv[i + 1], '='))) {
                snprintf(errstr, n, "-X needs kafka.property=value");
                return -1;
            }
            i++;
            int klen = (int)(eq - argv[i]);
            if (klen > 200) {
                snprintf(errstr, n, "-X: property name longer than 200 characters");
                return -1;
            }
            snprintf(key, sizeof key, "%s%.*s", strncmp(argv[i], "kafka.", 6) ? "kafka." : "",
                     klen, argv[i]);
            if (config_set_flag(cfg, key, eq + 1, errstr, n) < 0)
                return -1;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            argv[rest++] = arg;
            continue;
        }
        const char *eq = strchr(arg + 2, '=');
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - arg - 2) : (int)strlen(arg + 2), arg + 2);
        o = find_option(cfg, key);
        if (!o && strncmp(key, "no-", 3) == 0 && (o = find_option(cfg, key + 3)) &&
            o->type == CONFIG_BOOL && !eq) {
            if (config_set_flag(cfg, o->key, "false", errstr, n) < 0)
                return -1;
            continue;
        }
        if (!o && strncmp(key, "kafka.", 6) != 0) {
            snprintf(errstr, n, "unknown option '--%s' (see --help)", key);
            return -1;
        }
        if (eq)
            value = eq + 1;
        else if (o && o->type == CONFIG_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            snprintf(errstr, n, "option '--%s' needs a value", key);
            return -1;
        }
        if (config_set_flag(cfg, key, value, errstr, n) < 0)
            return -1;
    }
    *rest_argc = rest;
    return 0;
}

const char *config_get(const config *cfg, const char *key)
{
    const config_entry *e = find_entry(cfg, key);
    return e ? e->value : NULL;
}

long long config_int(const config *cfg, const char *key)
{
    const char *v = config_get(cfg, key);
    return v ? strtoll(v, NULL, 10) : 0;
}

int config_bool(const config *cfg, const char *key)
{
    const char *v = config_get(cfg, key);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

int config_apply_kafka(const config *cfg, rd_kafka_conf_t *conf, char *errstr, size_t n)
{
    char msg[512];
    for (size_t i = 0; i < cfg->count; i++) {
        const config_entry *e = &cfg->entries[i];
        if (strncmp(e->key, "kafka.", 6) != 0)
            continue;
        if (rd_kafka_conf_set(conf, e->key + 6, e->value, msg, sizeof msg) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, n, "kafka property '%s': %s", e->key + 6, msg);
            return -1;
        }
    }
    return 0;
}

void config_usage(const config *cfg, FILE *out)
{
    for (size_t i = 0; i < cfg->nrows; i++) {
        const config_option *o = &cfg->rows[i];
        fprintf(out, "  --%-24s %s", o->key, o->help ? o->help : "");
        if (o->def)
            fprintf(out, " (default: %s)", o->def);
        if (o->env)
            fprintf(out, " [env %s]", o->env);
        fputc('\n', out);
    }
    fputs("  --config FILE              read 'key = value' lines first (flags override)\n"
          "  -X kafka.prop=value        any librdkafka property, passed through unchanged\n",
          out);
}
