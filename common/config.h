/* config: one option table per program; values from a file, the environment and flags,
 * in that order of precedence. Keys starting with "kafka." are librdkafka properties and
 * pass through unchanged; libpq takes a connection string or the standard PG* variables. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdio.h>
#include <librdkafka/rdkafka.h>

typedef enum { CONFIG_STR, CONFIG_INT, CONFIG_BOOL } config_type;

typedef struct config_option {
    const char *key;  /* "group", "batch.max.messages", ... */
    config_type type;
    const char *def;  /* default text, NULL = unset */
    const char *env;  /* environment variable that sets it, or NULL */
    const char *help;
} config_option;

typedef struct config config;

/* A config of one table, which ends with a {NULL} entry; its strings must outlive the config.
 * Defaults are set. NULL when out of memory. */
config *config_new(const config_option *table);
/* A config of nrows rows taken from any tables (common/program.h joins the shared rows and
 * a program's own), in --help order; the rows are copied, their strings must outlive the
 * config.
 * NULL when out of memory or when a key is given twice. */
config *config_new_rows(const config_option *const *rows, size_t nrows);
void config_destroy(config *cfg);

/* Read "key = value" lines ('#' comments). Errors name "file:line: ...". */
int config_load_file(config *cfg, const char *path, char *errstr, size_t errstr_size);
/* As config_load_file, but a lower layer loaded after the higher ones: a key of the file
 * takes effect only where no file, variable or flag set it before (a default is replaced).
 * What it sets counts as set, so of two such files loaded in turn the first wins. A file
 * that does not exist is no error when missing_ok; *loaded (may be NULL) says whether it
 * was read. 0 or -1 + errstr. */
int config_load_file_under(config *cfg, const char *path, int missing_ok, int *loaded,
                           char *errstr, size_t errstr_size);
/* 1 when key was set by a file, a variable or a flag, 0 when it has its default or none. */
int config_is_set(const config *cfg, const char *key);
/* Apply each option's environment variable when set. */
int config_load_env(config *cfg, char *errstr, size_t errstr_size);
/* Set one value (from a flag). Secrets (keys containing "password", "secret" or
 * "sasl.oauthbearer") are refused here: they belong in the file or environment, never argv. */
int config_set_flag(config *cfg, const char *key, const char *value, char *errstr, size_t errstr_size);
int config_set(config *cfg, const char *key, const char *value, char *errstr, size_t errstr_size);

/* Parse argv: "--config FILE" (read first), "--key value", "--key=value", "-X kafka.prop=value",
 * and boolean "--key"/"--no-key". Non-option arguments are left in argv and their count
 * returned via *rest_argc (argv is permuted so they come first from argv[0]).
 * Precedence: file < environment < flags. Returns 0, 1 when --help was asked, or -1. */
int config_parse_args(config *cfg, int argc, char **argv, int *rest_argc, char *errstr,
                      size_t errstr_size);

/* Lookups: the string is owned by cfg; NULL when unset. */
const char *config_get(const config *cfg, const char *key);
long long config_int(const config *cfg, const char *key);
int config_bool(const config *cfg, const char *key);

/* Copy every "kafka.*" entry (prefix stripped) into conf. */
int config_apply_kafka(const config *cfg, rd_kafka_conf_t *conf, char *errstr, size_t errstr_size);

/* Print the options as help text, in row order, then --config and -X. */
void config_usage(const config *cfg, FILE *out);

#endif
