/* Unit tests for common/program: the shared option rows by group, the one start-up
 * (precedence, --help, positional arguments, log.level) and the stop flag. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "config.h"
#include "program.h"

static const config_option own[] = {
    {"topic", CONFIG_STR, "roster.changes", NULL, "topic"},
    {NULL, 0, NULL, NULL, NULL},
};

static const program_def consumer_like = {
    "test-program", "usage: test-program [options] [FILE]\n\noptions:\n",
    PROGRAM_OPT_KAFKA | PROGRAM_OPT_PG | PROGRAM_OPT_CONSUMER, own, 0, 1, NULL,
};

static const program_def producer_like = {
    "test-producer", "usage: test-producer [FILE...]\n", PROGRAM_OPT_KAFKA | PROGRAM_OPT_PRODUCER,
    own, 0, -1, NULL,
};

static const program_def cli_like = {
    "test-cli", "usage: test-cli COMMAND\n", PROGRAM_OPT_PG, NULL, 1, 2, NULL,
};

/* program_start over a copy of args (argv[0] is added); *rc its exit code. */
static config *start(const program_def *def, int n, const char *const *args, int *nargs,
                     int *rc, char **argv)
{
    argv[0] = (char *)"test";
    for (int i = 0; i < n; i++)
        argv[i + 1] = (char *)args[i];
    return program_start(def, n + 1, argv, nargs, rc);
}

static char dir[64];

/* Write dir/name.conf with text (dir made on first use). */
static void write_conf(const char *name, const char *text)
{
    char path[128];
    FILE *f;

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/test_program_%d", (int)getpid());
        mkdir(dir, 0700);
    }
    snprintf(path, sizeof path, "%s/%s.conf", dir, name);
    cr_assert_not_null(f = fopen(path, "w"), "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void cleanup(void)
{
    static const char *const names[] = {"test-program", "test-producer", "dc-a", "dc-b"};
    char path[128];

    unsetenv("KAFKA_BOOTSTRAP");
    unsetenv("COVERAGE_CONFIG_DIR");
    unsetenv("COVERAGE_SOURCE");
    if (!dir[0])
        return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.conf", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
    dir[0] = '\0';
}

Test(program, metrics_group_is_off_by_default)
{
    config *cfg = program_config_new(PROGRAM_OPT_METRICS, NULL);

    cr_assert_not_null(cfg, "config");
    cr_assert_eq(config_int(cfg, "metrics.port"), 0, "metrics.port 0: off");
    cr_assert_str_eq(config_get(cfg, "metrics.host"), "127.0.0.1", "loopback");
    config_destroy(cfg);
}

static const program_def writer_like = {
    "test-writer", "usage: test-writer\n", PROGRAM_OPT_KAFKA | PROGRAM_OPT_REGISTRY, NULL, 0, 0,
    (const char *const[]){"id.bpjs.adhoc.RosterChange", NULL},
};

static void registry_cleanup(void)
{
    unsetenv("SCHEMA_REGISTRY_URL");
}

Test(program, registry_group_defaults_to_the_compiled_ids, .fini = registry_cleanup)
{
    char *argv[4];
    int nargs, rc;
    config *cfg;

    unsetenv("SCHEMA_REGISTRY_URL");
    cfg = start(&writer_like, 0, NULL, &nargs, &rc, argv);
    cr_assert_not_null(cfg, "start failed with %d", rc);
    cr_assert_str_eq(config_get(cfg, "registry.url"), "", "no registry by default");
    cr_assert(config_bool(cfg, "registry.auto.register"), "auto.register on by default");
    cr_assert_not(catalog_uses_registry(), "compiled ids without a registry");
    config_destroy(cfg);
}

Test(program, registry_password_is_refused_on_the_command_line)
{
    char *argv[4];
    int nargs, rc;
    config *cfg = start(&writer_like, 2, (const char *const[]){"--registry.password", "pw"},
                        &nargs, &rc, argv);

    cr_assert_null(cfg, "a password on argv was taken");
    cr_assert_eq(rc, 2, "usage error, got %d", rc);
}

Test(program, registry_down_at_start_up_is_an_error, .fini = registry_cleanup)
{
    char *argv[4];
    int nargs, rc;
    config *cfg;

    setenv("SCHEMA_REGISTRY_URL", "http://127.0.0.1:1/apis/ccompat/v7", 1);
    cfg = start(&writer_like, 2, (const char *const[]){"--registry.timeout.ms", "500"}, &nargs,
                &rc, argv);
    cr_assert_null(cfg, "started without its registry");
    cr_assert_eq(rc, 1, "exit status %d, want 1", rc);
}

Test(program, shared_rows_by_group, .fini = cleanup)
{
    char *argv[4];
    int nargs, rc;
    config *cfg = start(&consumer_like, 0, NULL, &nargs, &rc, argv);

    cr_assert_not_null(cfg, "start failed with %d", rc);
    cr_assert_str_eq(config_get(cfg, "bootstrap"), "127.0.0.1:19092", "kafka group");
    cr_assert_not_null(config_get(cfg, "pg"), "pg group");
    cr_assert_eq(config_int(cfg, "batch.max.messages"), 10000, "consumer group");
    cr_assert_str_eq(config_get(cfg, "log.level"), "info", "every program has log.level");
    cr_assert_str_eq(config_get(cfg, "topic"), "roster.changes", "the program's own row");
    cr_assert_null(config_get(cfg, "batch.size"), "no relay row in a consumer");
    cr_assert_null(config_get(cfg, "source"), "no producer row in a consumer");
    cr_assert_null(config_get(cfg, "metrics.port"), "metrics rows only with their group");
    config_destroy(cfg);

    cfg = start(&cli_like, 1, (const char *const[]){"list"}, &nargs, &rc, argv);
    cr_assert_not_null(cfg, "start failed with %d", rc);
    cr_assert_null(config_get(cfg, "bootstrap"), "a PostgreSQL-only program has no bootstrap");
    config_destroy(cfg);
}

Test(program, environment_then_flags, .fini = cleanup)
{
    char *argv[4];
    int nargs, rc;
    config *cfg;

    setenv("KAFKA_BOOTSTRAP", "env:9092", 1);
    cfg = start(&consumer_like, 0, NULL, &nargs, &rc, argv);
    cr_assert_str_eq(config_get(cfg, "bootstrap"), "env:9092", "the environment sets it");
    config_destroy(cfg);
    cfg = start(&consumer_like, 2, (const char *const[]){"--bootstrap", "flag:9092"}, &nargs,
                &rc, argv);
    cr_assert_str_eq(config_get(cfg, "bootstrap"), "flag:9092", "a flag beats the environment");
    config_destroy(cfg);
}

Test(program, positional_arguments_are_counted)
{
    char *argv[5];
    int nargs = -1, rc = -1;
    config *cfg = start(&consumer_like, 1, (const char *const[]){"a.csv"}, &nargs, &rc, argv);

    cr_assert_not_null(cfg, "one file is allowed");
    cr_assert_eq(nargs, 1, "nargs %d", nargs);
    cr_assert_str_eq(argv[1], "a.csv", "argument at argv[1]");
    config_destroy(cfg);
    cfg = start(&consumer_like, 2, (const char *const[]){"a.csv", "b.csv"}, &nargs, &rc, argv);
    cr_assert_null(cfg, "two files are one too many");
    cr_assert_eq(rc, 2, "usage error exit code %d", rc);
    cfg = start(&cli_like, 0, NULL, &nargs, &rc, argv);
    cr_assert_null(cfg, "a missing command");
    cr_assert_eq(rc, 2, "usage error exit code %d", rc);
}

Test(program, help_and_bad_values_end_the_start)
{
    char *argv[4];
    int nargs, rc = -1;
    FILE *saved = stdout;

    stdout = fopen("/dev/null", "w");
    cr_assert_null(start(&consumer_like, 1, (const char *const[]){"--help"}, &nargs, &rc, argv),
                   "--help ends the start");
    fclose(stdout);
    stdout = saved;
    cr_assert_eq(rc, 0, "--help exits 0, not %d", rc);
    cr_assert_null(start(&consumer_like, 2, (const char *const[]){"--log.level", "loud"}, &nargs,
                         &rc, argv),
                   "an unknown log.level is refused");
    cr_assert_eq(rc, 2, "exit code %d", rc);
    cr_assert_null(start(&consumer_like, 2, (const char *const[]){"-X", "sasl.password=x"},
                         &nargs, &rc, argv),
                   "a secret on the command line is refused");
    cr_assert_eq(rc, 2, "exit code %d", rc);
}

static volatile sig_atomic_t stopped_with;

static void on_stop(void *opaque)
{
    stopped_with = *(int *)opaque;
}

Test(program, a_signal_sets_the_flag_and_calls_back)
{
    static int token = 42;
    char *argv[2];
    int nargs, rc;
    config *cfg = start(&consumer_like, 0, NULL, &nargs, &rc, argv);

    cr_assert_eq(program_stopping(), 0, "not stopping before a signal");
    program_on_stop(on_stop, &token);
    raise(SIGTERM);
    cr_assert_eq(program_stopping(), 1, "SIGTERM sets the flag");
    cr_assert_eq(stopped_with, 42, "the callback ran with its opaque");
    stopped_with = 0;
    program_on_stop(on_stop, &token);
    cr_assert_eq(stopped_with, 42, "a callback set after the signal runs at once");
    config_destroy(cfg);
}

Test(program, a_service_takes_its_principals_file_under_everything, .fini = cleanup)
{
    char *argv[4];
    int nargs, rc;
    config *cfg;

    write_conf("test-program", "bootstrap = file:9093\nkafka.sasl.username = svc\n"
                               "batch.max.messages = 7\n");
    cfg = start(&consumer_like, 0, NULL, &nargs, &rc, argv);
    cr_assert_str_eq(config_get(cfg, "bootstrap"), "127.0.0.1:19092", "no COVERAGE_CONFIG_DIR");
    config_destroy(cfg);
    setenv("COVERAGE_CONFIG_DIR", dir, 1);
    setenv("KAFKA_BOOTSTRAP", "env:9092", 1);
    cfg = start(&consumer_like, 2, (const char *const[]){"--batch.max.messages", "9"}, &nargs,
                &rc, argv);
    cr_assert_not_null(cfg, "start failed with %d", rc);
    cr_assert_str_eq(config_get(cfg, "kafka.sasl.username"), "svc", "the principal's file");
    cr_assert_str_eq(config_get(cfg, "bootstrap"), "env:9092", "the environment beats it");
    cr_assert_eq(config_int(cfg, "batch.max.messages"), 9, "a flag beats it");
    config_destroy(cfg);
    write_conf("test-program", "no such line\n");
    cr_assert_null(start(&consumer_like, 0, NULL, &nargs, &rc, argv), "a bad file ends the start");
    cr_assert_eq(rc, 2, "exit code %d", rc);
}

Test(program, a_producer_takes_its_data_centers_file_first, .fini = cleanup)
{
    char *argv[4];
    int nargs, rc;
    config *cfg;

    write_conf("dc-a", "kafka.sasl.username = dc-a\ntopic.per-source = true\n");
    write_conf("dc-b", "kafka.sasl.username = dc-b\n");
    write_conf("test-producer", "kafka.sasl.username = generic\nformat = jsonl\n");
    setenv("COVERAGE_CONFIG_DIR", dir, 1);
    cfg = start(&producer_like, 2, (const char *const[]){"--source", "dc-a"}, &nargs, &rc, argv);
    cr_assert_not_null(cfg, "start failed with %d", rc);
    cr_assert_str_eq(config_get(cfg, "kafka.sasl.username"), "dc-a", "the data center's file");
    cr_assert_eq(config_bool(cfg, "topic.per-source"), 1, "its own topic");
    cr_assert_str_eq(config_get(cfg, "format"), "jsonl", "then the program's file");
    config_destroy(cfg);
    setenv("COVERAGE_SOURCE", "dc-b", 1);
    cfg = start(&producer_like, 0, NULL, &nargs, &rc, argv);
    cr_assert_str_eq(config_get(cfg, "kafka.sasl.username"), "dc-b", "source from the environment");
    cr_assert_eq(config_bool(cfg, "topic.per-source"), 0, "dc-b's file says nothing of it");
    config_destroy(cfg);
    unsetenv("COVERAGE_SOURCE");
    write_conf("test-producer", "source = dc-a\n");
    cfg = start(&producer_like, 0, NULL, &nargs, &rc, argv);
    cr_assert_str_eq(config_get(cfg, "kafka.sasl.username"), "dc-a",
                     "a source named by the program's file");
    config_destroy(cfg);
    cfg = start(&producer_like, 2, (const char *const[]){"--source", "../dc-a"}, &nargs, &rc, argv);
    cr_assert_null(config_get(cfg, "kafka.sasl.username"), "a source that is no id names no file");
    config_destroy(cfg);
}

/* A program's own row named as a shared one replaces it: its default, one row in --help. */
static const config_option own_batch[] = {
    {"batch.max.ms", CONFIG_INT, "1000", NULL, "longest wait to fill a batch (own)"},
    {"topic", CONFIG_STR, "roster.changes", NULL, "topic"},
    {NULL, 0, NULL, NULL, NULL},
};

Test(program, own_row_replaces_the_shared_row_of_its_name)
{
    config *cfg = program_config_new(PROGRAM_OPT_CONSUMER, own_batch), *plain;
    static const program_def def = {"test-own", "usage: test-own\n", PROGRAM_OPT_CONSUMER,
                                    own_batch, 0, 0, NULL};
    char *text = NULL;
    const char *first;
    size_t len = 0;
    FILE *out;

    cr_assert_not_null(cfg, "config");
    cr_assert_eq(config_int(cfg, "batch.max.ms"), 1000, "the program's own default");
    cr_assert_eq(config_int(cfg, "batch.max.messages"), 10000, "the other shared rows stay");
    cr_assert_str_eq(config_get(cfg, "topic"), "roster.changes", "its other own rows stay");
    config_destroy(cfg);
    cr_assert_not_null(plain = program_config_new(PROGRAM_OPT_CONSUMER, NULL), "config");
    cr_assert_eq(config_int(plain, "batch.max.ms"), 200, "without the own row, the shared default");
    config_destroy(plain);

    cr_assert_not_null(out = open_memstream(&text, &len), "memstream");
    program_usage(&def, out);
    fclose(out);
    cr_assert_not_null(strstr(text, "(own)"), "the own row's text in --help:\n%s", text);
    /* The option's row ("--batch.max.ms "), not another row's text that names it. */
    first = strstr(text, "--batch.max.ms ");
    cr_assert_not_null(first, "batch.max.ms listed in --help:\n%s", text);
    cr_assert_null(strstr(first + 1, "--batch.max.ms "), "batch.max.ms listed once:\n%s", text);
    free(text);
}

/* An own row that changes only the default (NULL text, NULL variable) keeps the shared
 * row's text in --help and its environment variable: the text is written once. */
static const config_option own_default_only[] = {
    {"batch.max.ms", CONFIG_INT, "1000", NULL, NULL},
    {"registry.url", CONFIG_STR, "http://registry.test:8080", NULL, NULL},
    {NULL, 0, NULL, NULL, NULL},
};

Test(program, own_row_without_text_keeps_the_shared_text_and_variable)
{
    static const program_def def = {"test-own", "usage: test-own\n",
                                    PROGRAM_OPT_CONSUMER | PROGRAM_OPT_REGISTRY,
                                    own_default_only, 0, 0, NULL};
    config *cfg = program_config_new(def.shared, own_default_only);
    char errstr[256], *text = NULL;
    const char *row;
    size_t len = 0;
    FILE *out;

    cr_assert_not_null(cfg, "config");
    cr_assert_eq(config_int(cfg, "batch.max.ms"), 1000, "the program's own default");
    cr_assert_str_eq(config_get(cfg, "registry.url"), "http://registry.test:8080",
                     "the program's own default");
    setenv("SCHEMA_REGISTRY_URL", "http://from-env:8081", 1);
    cr_assert_eq(config_load_env(cfg, errstr, sizeof errstr), 0, "%s", errstr);
    unsetenv("SCHEMA_REGISTRY_URL");
    cr_assert_str_eq(config_get(cfg, "registry.url"), "http://from-env:8081",
                     "the shared row's variable still sets it");
    config_destroy(cfg);

    cr_assert_not_null(out = open_memstream(&text, &len), "memstream");
    program_usage(&def, out);
    fclose(out);
    row = strstr(text, "--batch.max.ms ");
    cr_assert_not_null(row, "batch.max.ms listed in --help:\n%s", text);
    cr_assert_not_null(strstr(row, "longest wait to fill a batch (default: 1000)"),
                       "the shared text with the own default:\n%s", text);
    cr_assert_null(strstr(text, "(null)"), "no row without text:\n%s", text);
    free(text);
}
