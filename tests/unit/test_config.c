/* Unit tests for common/config: file < environment < flags, kafka.* pass-through, secrets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const config_option table[] = {
    {"group", CONFIG_STR, "g-default", "TEST_CFG_GROUP", "group"},
    {"batch", CONFIG_INT, "10", NULL, "batch"},
    {"dry-run", CONFIG_BOOL, "false", NULL, "dry run"},
    {NULL, 0, NULL, NULL, NULL},
};

static char path[64];

static void write_file(const char *text)
{
    FILE *f;
    snprintf(path, sizeof path, "/tmp/test_config_%d.conf", (int)getpid());
    f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void cleanup(void)
{
    if (path[0])
        remove(path);
    unsetenv("TEST_CFG_GROUP");
}

static config *parse(int argc, const char **args, int *rest, int expect)
{
    char errstr[256] = "";
    char *argv[16];
    config *cfg = config_new(table);
    cr_assert_not_null(cfg, "config_new");
    for (int i = 0; i < argc; i++)
        argv[i] = (char *)args[i];
    int rc = config_parse_args(cfg, argc, argv, rest, errstr, sizeof errstr);
    cr_assert_eq(rc, expect, "config_parse_args returned %d (%s)", rc, errstr);
    return cfg;
}

Test(config, defaults_apply, .fini = cleanup)
{
    int rest;
    config *cfg = parse(0, NULL, &rest, 0);
    cr_assert_str_eq(config_get(cfg, "group"), "g-default", "default group");
    cr_assert_eq(config_int(cfg, "batch"), 10, "default batch");
    cr_assert_eq(config_bool(cfg, "dry-run"), 0, "default bool");
    config_destroy(cfg);
}

Test(config, flags_override_environment_override_file, .fini = cleanup)
{
    int rest;
    write_file("# comment\ngroup = from-file\nbatch = 20\nkafka.linger.ms = 7\n");
    setenv("TEST_CFG_GROUP", "from-env", 1);
    const char *args[] = {"--batch", "30", "--config", path};
    config *cfg = parse(4, args, &rest, 0);
    cr_assert_str_eq(config_get(cfg, "group"), "from-env", "environment beats the file");
    cr_assert_eq(config_int(cfg, "batch"), 30, "a flag beats the file, wherever --config stands");
    cr_assert_str_eq(config_get(cfg, "kafka.linger.ms"), "7", "kafka.* from the file");
    config_destroy(cfg);

    const char *args2[] = {"--group=from-flag", "--config", path};
    cfg = parse(3, args2, &rest, 0);
    cr_assert_str_eq(config_get(cfg, "group"), "from-flag", "a flag beats the environment");
    config_destroy(cfg);
}

Test(config, kafka_properties_pass_through_unchanged, .fini = cleanup)
{
    int rest;
    char errstr[256], value[64];
    size_t size = sizeof value;
    const char *args[] = {"-X", "socket.timeout.ms=1234", "--kafka.client.id", "abc"};
    config *cfg = parse(4, args, &rest, 0);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    cr_assert_eq(config_apply_kafka(cfg, conf, errstr, sizeof errstr), 0, "apply: %s", errstr);
    cr_assert_eq(rd_kafka_conf_get(conf, "socket.timeout.ms", value, &size), RD_KAFKA_CONF_OK, "get");
    cr_assert_str_eq(value, "1234", "-X property reached librdkafka");
    size = sizeof value;
    cr_assert_eq(rd_kafka_conf_get(conf, "client.id", value, &size), RD_KAFKA_CONF_OK, "get");
    cr_assert_str_eq(value, "abc", "--kafka.* property reached librdkafka");
    rd_kafka_conf_destroy(conf);
    config_destroy(cfg);

    const char *bad[] = {"-X", "no.such.property=1"};
    cfg = parse(2, bad, &rest, 0);
    conf = rd_kafka_conf_new();
    cr_assert_eq(config_apply_kafka(cfg, conf, errstr, sizeof errstr), -1, "unknown property refused");
    cr_assert(strstr(errstr, "no.such.property") != NULL, "message names it: %s", errstr);
    rd_kafka_conf_destroy(conf);
    config_destroy(cfg);
}

Test(config, secrets_refused_on_the_command_line, .fini = cleanup)
{
    int rest;
    char errstr[256] = "";
    const char *args[] = {"-X", "sasl.password=hunter2"};
    char *argv[2] = {(char *)args[0], (char *)args[1]};
    config *cfg = config_new(table);
    cr_assert_eq(config_parse_args(cfg, 2, argv, &rest, errstr, sizeof errstr), -1,
                 "a password flag must be refused");
    cr_assert(strstr(errstr, "sasl.password") && !strstr(errstr, "hunter2"),
              "the message names the option, never the value: %s", errstr);
    config_destroy(cfg);

    write_file("kafka.sasl.password = hunter2\n");
    const char *ok[] = {"--config", path};
    cfg = parse(2, ok, &rest, 0);
    cr_assert_str_eq(config_get(cfg, "kafka.sasl.password"), "hunter2", "allowed from the file");
    config_destroy(cfg);
}

Test(config, errors_name_the_file_line_and_option, .fini = cleanup)
{
    int rest;
    char errstr[256] = "";
    write_file("group = a\nthis line has no equals sign\n");
    char *argv[2] = {(char *)"--config", path};
    config *cfg = config_new(table);
    cr_assert_eq(config_parse_args(cfg, 2, argv, &rest, errstr, sizeof errstr), -1, "bad file");
    char want[96];
    snprintf(want, sizeof want, "%s:2:", path);
    cr_assert(strstr(errstr, want) != NULL, "names file:line: %s", errstr);
    config_destroy(cfg);

    const char *bad_int[] = {"--batch", "ten"};
    char *argv2[2] = {(char *)bad_int[0], (char *)bad_int[1]};
    cfg = config_new(table);
    cr_assert_eq(config_parse_args(cfg, 2, argv2, &rest, errstr, sizeof errstr), -1, "bad int");
    cr_assert(strstr(errstr, "batch") && strstr(errstr, "ten"), "names option and value: %s", errstr);
    config_destroy(cfg);

    const char *unknown[] = {"--no-such-option", "x"};
    char *argv3[2] = {(char *)unknown[0], (char *)unknown[1]};
    cfg = config_new(table);
    cr_assert_eq(config_parse_args(cfg, 2, argv3, &rest, errstr, sizeof errstr), -1, "unknown");
    cr_assert(strstr(errstr, "no-such-option") != NULL, "names it: %s", errstr);
    config_destroy(cfg);
}

Test(config, booleans_and_positional_arguments, .fini = cleanup)
{
    int rest;
    const char *args[] = {"a.csv", "--dry-run", "b.csv"};
    char *argv[3] = {(char *)args[0], (char *)args[1], (char *)args[2]};
    char errstr[256];
    config *cfg = config_new(table);
    cr_assert_eq(config_parse_args(cfg, 3, argv, &rest, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(config_bool(cfg, "dry-run"), 1, "--dry-run sets true");
    cr_assert_eq(rest, 2, "two files left");
    cr_assert_str_eq(argv[0], "a.csv", "first file first");
    cr_assert_str_eq(argv[1], "b.csv", "second file second");
    config_destroy(cfg);

    const char *neg[] = {"--no-dry-run"};
    cfg = parse(1, neg, &rest, 0);
    cr_assert_eq(config_bool(cfg, "dry-run"), 0, "--no-dry-run sets false");
    config_destroy(cfg);
}

Test(config, rows_from_several_tables, .fini = cleanup)
{
    static const config_option more[] = {
        {"topic", CONFIG_STR, "t-default", NULL, "topic"},
        {"group", CONFIG_STR, "again", NULL, "the same key as table's"},
        {NULL, 0, NULL, NULL, NULL},
    };
    const config_option *rows[] = {&table[0], &table[1], &more[0]};
    const config_option *twice[] = {&table[0], &more[1]};
    config *cfg = config_new_rows(rows, 3);

    cr_assert_not_null(cfg, "config_new_rows");
    cr_assert_str_eq(config_get(cfg, "topic"), "t-default", "a row of the second table");
    cr_assert_eq(config_int(cfg, "batch"), 10, "a row of the first table");
    cr_assert_null(config_get(cfg, "dry-run"), "a row not taken is not an option");
    config_destroy(cfg);
    cr_assert_null(config_new_rows(twice, 2), "a key given twice is refused");
}

Test(config, a_lower_layer_fills_only_what_nothing_set, .fini = cleanup)
{
    char errstr[256] = "";
    int rest, loaded = -1;
    const char *args[] = {"--batch", "20"};
    config *cfg;

    setenv("TEST_CFG_GROUP", "g-env", 1);
    cfg = parse(2, args, &rest, 0);
    cr_assert_eq(config_is_set(cfg, "dry-run"), 0, "a default is not set");
    cr_assert_eq(config_is_set(cfg, "batch"), 1, "a flag is");
    write_file("group = g-file\nbatch = 30\ndry-run = true\nkafka.sasl.password = s3cret\n");
    cr_assert_eq(config_load_file_under(cfg, path, 0, &loaded, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(loaded, 1, "the file was read");
    cr_assert_str_eq(config_get(cfg, "group"), "g-env", "the environment stays above");
    cr_assert_eq(config_int(cfg, "batch"), 20, "the flag stays above");
    cr_assert_eq(config_bool(cfg, "dry-run"), 1, "a default is replaced");
    cr_assert_str_eq(config_get(cfg, "kafka.sasl.password"), "s3cret", "a new key is taken");
    /* A second lower file: the first one's values count as set. */
    write_file("dry-run = false\nkafka.sasl.password = other\nkafka.acks = all\n");
    cr_assert_eq(config_load_file_under(cfg, path, 0, NULL, errstr, sizeof errstr), 0, "%s", errstr);
    cr_assert_eq(config_bool(cfg, "dry-run"), 1, "the first lower file wins");
    cr_assert_str_eq(config_get(cfg, "kafka.sasl.password"), "s3cret", "for kafka keys too");
    cr_assert_str_eq(config_get(cfg, "kafka.acks"), "all", "what nobody set is taken");
    config_destroy(cfg);
}

Test(config, a_missing_lower_file_may_be_skipped, .fini = cleanup)
{
    char errstr[256] = "";
    int loaded = -1;
    config *cfg = config_new(table);

    cr_assert_eq(config_load_file_under(cfg, "/nonexistent/x.conf", 1, &loaded, errstr, sizeof errstr),
                 0, "missing_ok: %s", errstr);
    cr_assert_eq(loaded, 0, "nothing read");
    cr_assert_eq(config_load_file_under(cfg, "/nonexistent/x.conf", 0, NULL, errstr, sizeof errstr),
                 -1, "missing and not ok");
    cr_assert_not_null(strstr(errstr, "/nonexistent/x.conf"), "names the file: %s", errstr);
    write_file("batch = many\n");
    cr_assert_eq(config_load_file_under(cfg, path, 1, NULL, errstr, sizeof errstr), -1, "bad value");
    cr_assert_not_null(strstr(errstr, ":1:"), "names the line: %s", errstr);
    config_destroy(cfg);
}
