/* Unit tests for common/source_topic: the pattern the consumers subscribe to, and the data
 * center a topic belongs to. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "source_topic.h"

Test(source_topic, sources_come_from_the_topic_name)
{
    char src[33];

    cr_assert_eq(source_topic_of("roster.changes.dc-sulsel", "roster.changes", src, sizeof src), 1,
                 "a data center's topic");
    cr_assert_str_eq(src, "dc-sulsel", "its source");
    cr_assert_eq(source_topic_of("roster.changes", "roster.changes", src, sizeof src), 0,
                 "the base topic: no authenticated source");
    cr_assert_eq(source_topic_of("roster.changes.dc-sulsel.dlq", "roster.changes", src, sizeof src),
                 -1, "a DLQ is no data center's topic");
    cr_assert_eq(source_topic_of("roster.changesX", "roster.changes", src, sizeof src), -1,
                 "another topic");
    cr_assert_eq(source_topic_of("roster.changes.", "roster.changes", src, sizeof src), -1,
                 "an empty source");
    cr_assert_eq(source_topic_of("incidents.dc-maluku", "roster.changes", src, sizeof src), -1,
                 "another base");
    cr_assert_eq(source_topic_of("roster.changes.a-very-long-data-center-id-of-40-chars",
                                 "roster.changes", src, sizeof src), -1, "too long for the buffer");
}

/* The pattern, compiled as POSIX extended (the syntax librdkafka's regex takes too). */
static int matches(const char *pattern, const char *topic)
{
    regex_t re;
    int rc;

    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0, "pattern %s compiles", pattern);
    rc = regexec(&re, topic, 0, NULL, 0) == 0;
    regfree(&re);
    return rc;
}

Test(source_topic, the_pattern_takes_the_base_and_each_source)
{
    static const char *const sources[] = {"dc-sulsel", "d", "dl", "dlx", "dlqx", "dx", "x", "DLQ",
                                           "dc_maluku", "0"};
    char p[200], src[33];

    source_topic_pattern("roster.changes", p, sizeof p);
    cr_assert(matches(p, "roster.changes"), "the base");
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        char topic[64];
        snprintf(topic, sizeof topic, "roster.changes.%s", sources[i]);
        cr_assert(matches(p, topic), "%s matches %s", topic, p);
        cr_assert_eq(source_topic_of(topic, "roster.changes", src, sizeof src), 1, "%s", topic);
    }
    cr_assert_not(matches(p, "roster.changes.dlq"), "not the base's DLQ");
    cr_assert_not(matches(p, "roster.changes.dc-sulsel.dlq"), "not a source's DLQ");
    cr_assert_not(matches(p, "roster_changes"), "the dot is a dot");
}

Test(source_topic, a_configured_topic_is_its_own_base_and_a_pattern_is_not)
{
    cr_assert_str_eq(source_topic_base("f10.roster", "roster.changes"), "f10.roster");
    cr_assert_str_eq(source_topic_base("^roster\\..*", "roster.changes"), "roster.changes");
    cr_assert_str_eq(source_topic_base("", "incidents"), "incidents");
    cr_assert_str_eq(source_topic_base(NULL, "incidents"), "incidents");
}

Test(source_topic, a_data_center_publishes_to_its_own_topic)
{
    char t[64], src[33];

    cr_assert_eq(source_topic_name("incidents", "dc-sulsel", t, sizeof t), 0, "a source id");
    cr_assert_str_eq(t, "incidents.dc-sulsel", "base.source");
    cr_assert_eq(source_topic_of(t, "incidents", src, sizeof src), 1, "read back as a source's");
    cr_assert_str_eq(src, "dc-sulsel", "the same source");
    cr_assert_eq(source_topic_name("incidents", "", t, sizeof t), -1, "no empty source");
    cr_assert_eq(source_topic_name("incidents", "dlq", t, sizeof t), -1, "not the DLQ");
    cr_assert_eq(source_topic_name("incidents", "dc.x", t, sizeof t), -1, "no dot");
    cr_assert_eq(source_topic_name("incidents", "../x", t, sizeof t), -1, "no path");
    cr_assert_eq(source_topic_name("incidents", "dc-sulsel", t, 12), -1, "too long for out");
}
