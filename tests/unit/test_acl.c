/* Unit tests for common/acl: the ACL file's lines, parsed, made bindings and formatted back. */
#include <criterion/criterion.h>
#include <string.h>

#include "acl.h"

Test(acl, a_line_round_trips_through_a_binding)
{
    static const char *const lines[] = {
        "User:dc-sulsel\ttopic\tliteral\troster.changes.dc-sulsel\twrite\tallow\t*",
        "User:roster-consumer\ttopic\tprefixed\troster.changes.\tread\tallow\t*",
        "User:lag-monitor\tgroup\tliteral\t*\tdescribe\tallow\t*",
        "User:admin\tcluster\tliteral\tkafka-cluster\talter\tdeny\t127.0.0.1",
    };
    char err[256], out[512];

    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        acl_spec a;
        rd_kafka_AclBinding_t *b;

        cr_assert_eq(acl_parse(lines[i], &a, err, sizeof err), 0, "%s: %s", lines[i], err);
        cr_assert_not_null(b = acl_binding_new(&a, err, sizeof err), "binding: %s", err);
        cr_assert_not_null(acl_format(b, out, sizeof out), "format");
        cr_assert_str_eq(out, lines[i], "formatted back as read");
        rd_kafka_AclBinding_destroy(b);
    }
}

Test(acl, the_host_defaults_to_any_and_comments_are_skipped)
{
    acl_spec a;
    char err[256];

    memset(&a, 0, sizeof a);
    cr_assert_eq(acl_parse("User:analytics\ttopic\tliteral\tclaims\tread\tallow\n", &a, err,
                           sizeof err), 0, "%s", err);
    cr_assert_str_eq(a.host, "*", "any host");
    cr_assert_eq(a.operation, RD_KAFKA_ACL_OPERATION_READ, "read");
    cr_assert_eq(a.resource, RD_KAFKA_RESOURCE_TOPIC, "a topic");
    cr_assert_eq(acl_parse("# principal\tresource\n", &a, err, sizeof err), 1, "a comment");
    cr_assert_eq(acl_parse("  \n", &a, err, sizeof err), 1, "a blank line");
}

Test(acl, a_bad_column_is_named)
{
    static const struct {
        const char *line, *says;
    } bad[] = {
        {"dc-sulsel\ttopic\tliteral\tx\twrite\tallow", "principal 'dc-sulsel'"},
        {"User:x\tqueue\tliteral\tx\twrite\tallow", "resource 'queue' is none of topic, group or cluster"},
        {"User:x\ttopic\tmatch\tx\twrite\tallow", "pattern 'match'"},
        {"User:x\ttopic\tliteral\tx\tproduce\tallow", "operation 'produce'"},
        {"User:x\ttopic\tliteral\tx\twrite\tmaybe", "permission 'maybe'"},
        {"User:x\ttopic\tliteral\tx\twrite", "got 5 columns"},
        {"User:x\ttopic\tliteral\tx\twrite\tallow\t*\textra", "more than 7 columns"},
    };
    char err[256];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        acl_spec a;
        cr_assert_eq(acl_parse(bad[i].line, &a, err, sizeof err), -1, "%s is refused", bad[i].line);
        cr_assert_not_null(strstr(err, bad[i].says), "'%s' says '%s'", err, bad[i].says);
    }
}
