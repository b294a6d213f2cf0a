/* Unit tests for common/schema_cache: the ids bound before, per registry, in a file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema_cache.h"

static char dir[64], path[128];
static const char *const A = "http://a:1/apis/ccompat/v7", *const B = "http://b:2/apis/ccompat/v7";

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_schema_cache_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    /* Two folders that do not exist yet: store makes them. */
    snprintf(path, sizeof path, "%s/cache/coverage/schema-ids.tsv", dir);
}

static void teardown(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(schema_cache, .init = setup, .fini = teardown);

Test(schema_cache, a_missing_file_finds_nothing)
{
    int id = 0, version = 0;
    cr_assert_eq(schema_cache_find(path, A, "id.bpjs.adhoc.Incident", "incident.v1.avsc", &id,
                                   &version), -1);
}

Test(schema_cache, stores_and_finds_per_registry_subject_and_file)
{
    char err[256];
    int id = 0, version = 0;
    struct stat st;

    cr_assert_eq(schema_cache_store(path, A, "id.bpjs.adhoc.RosterChange", "roster_change.v2.avsc",
                                    7, 2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(schema_cache_store(path, B, "id.bpjs.adhoc.RosterChange", "roster_change.v2.avsc",
                                    31, 2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(schema_cache_find(path, A, "id.bpjs.adhoc.RosterChange", "roster_change.v2.avsc",
                                   &id, &version), 0);
    cr_assert_eq(id, 7);
    cr_assert_eq(version, 2);
    cr_assert_eq(schema_cache_find(path, B, "id.bpjs.adhoc.RosterChange", "roster_change.v2.avsc",
                                   &id, &version), 0);
    cr_assert_eq(id, 31);
    /* Another file of the same subject, another subject, a URL that is a prefix: nothing. */
    cr_assert_eq(schema_cache_find(path, A, "id.bpjs.adhoc.RosterChange", "roster_change.v1.avsc",
                                   &id, &version), -1);
    cr_assert_eq(schema_cache_find(path, A, "id.bpjs.adhoc.Incident", "roster_change.v2.avsc",
                                   &id, &version), -1);
    cr_assert_eq(schema_cache_find(path, "http://a:1", "id.bpjs.adhoc.RosterChange",
                                   "roster_change.v2.avsc", &id, &version), -1);
}

Test(schema_cache, a_new_id_replaces_the_line_of_its_key)
{
    char err[256], line[512];
    int id = 0, version = 0, lines = 0;
    FILE *f;

    cr_assert_eq(schema_cache_store(path, A, "id.bpjs.adhoc.Incident", "incident.v1.avsc", 3, 1,
                                    err, sizeof err), 0, "%s", err);
    cr_assert_eq(schema_cache_store(path, A, "id.bpjs.adhoc.ClaimEvent", "claim_event.v1.avsc", 4,
                                    1, err, sizeof err), 0, "%s", err);
    /* The registry was rebuilt and gave the same schema another id. */
    cr_assert_eq(schema_cache_store(path, A, "id.bpjs.adhoc.Incident", "incident.v1.avsc", 12, 1,
                                    err, sizeof err), 0, "%s", err);
    cr_assert_eq(schema_cache_find(path, A, "id.bpjs.adhoc.Incident", "incident.v1.avsc", &id,
                                   &version), 0);
    cr_assert_eq(id, 12);
    cr_assert_eq(schema_cache_find(path, A, "id.bpjs.adhoc.ClaimEvent", "claim_event.v1.avsc",
                                   &id, &version), 0);
    cr_assert_eq(id, 4);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f))
        lines++;
    fclose(f);
    cr_assert_eq(lines, 2, "one line per key, got %d", lines);
}

Test(schema_cache, refuses_a_tab_in_a_key_and_ignores_a_damaged_line)
{
    char err[256];
    int id = 0, version = 0;
    FILE *f;

    cr_assert_eq(schema_cache_store(path, A, "bad\tsubject", "x.avsc", 1, 1, err, sizeof err), -1);
    cr_assert(strstr(err, "tab") != NULL, "%s", err);
    cr_assert_eq(schema_cache_store(path, A, "id.bpjs.adhoc.Incident", "incident.v1.avsc", 3, 1,
                                    err, sizeof err), 0, "%s", err);
    f = fopen(path, "a");
    cr_assert_not_null(f);
    fprintf(f, "%s\tid.bpjs.adhoc.ClaimEvent\tclaim_event.v1.avsc\tnot-a-number\t1\n", A);
    fclose(f);
    cr_assert_eq(schema_cache_find(path, A, "id.bpjs.adhoc.ClaimEvent", "claim_event.v1.avsc",
                                   &id, &version), -1);
    cr_assert_eq(schema_cache_find(path, A, "id.bpjs.adhoc.Incident", "incident.v1.avsc", &id,
                                   &version), 0);
}

Test(schema_cache, default_path_prefers_xdg_cache_home)
{
    char out[256];

    setenv("XDG_CACHE_HOME", "/var/cache/x", 1);
    cr_assert_eq(schema_cache_default_path(out, sizeof out), 0);
    cr_assert_str_eq(out, "/var/cache/x/coverage/schema-ids.tsv");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/op", 1);
    cr_assert_eq(schema_cache_default_path(out, sizeof out), 0);
    cr_assert_str_eq(out, "/home/op/.cache/coverage/schema-ids.tsv");
    unsetenv("HOME");
    cr_assert_eq(schema_cache_default_path(out, sizeof out), -1);
}
