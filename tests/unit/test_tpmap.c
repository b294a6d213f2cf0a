/* Unit tests for common/tpmap: entries by (topic, partition), interned topics, growth. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tpmap.h"

Test(tpmap, entries_are_found_by_topic_and_partition)
{
    tpmap *m = tpmap_new();
    tpmap_entry *a, *b, *c;

    cr_assert_not_null(m, "tpmap_new");
    a = tpmap_get(m, "roster.changes.dc-sulsel", 0);
    b = tpmap_get(m, "roster.changes.dc-maluku", 0);
    c = tpmap_get(m, "roster.changes.dc-sulsel", 1);
    cr_assert(a && b && c && a != b && a != c && b != c, "three distinct entries");
    cr_assert_eq(a->expected, -1, "a new entry has no stored offset");
    cr_assert_eq(a->taken, -1, "nor a taken one");
    cr_assert_eq(tpmap_get(m, "roster.changes.dc-sulsel", 0), a, "the same entry again");
    cr_assert_eq(tpmap_find(m, "roster.changes.dc-maluku", 0), b, "found");
    cr_assert_null(tpmap_find(m, "roster.changes.dc-maluku", 1), "not added by a find");
    cr_assert_eq(a->topic, c->topic, "one interned name per topic");
    cr_assert_eq(tpmap_count(m), 3, "count %zu", tpmap_count(m));
    cr_assert_eq(tpmap_at(m, 1), b, "entries in the order added");
    cr_assert_null(tpmap_at(m, 3), "past the end");
    tpmap_destroy(m);
}

Test(tpmap, entries_stay_put_while_the_map_grows)
{
    tpmap *m = tpmap_new();
    tpmap_entry *first = tpmap_get(m, "t0", 0);
    char topic[32];

    first->expected = 42;
    for (int t = 0; t < 40; t++)
        for (int p = 0; p < 24; p++) {
            snprintf(topic, sizeof topic, "t%d", t);
            cr_assert_not_null(tpmap_get(m, topic, p), "get %s/%d", topic, p);
        }
    cr_assert_eq(tpmap_count(m), 960, "count %zu", tpmap_count(m));
    cr_assert_eq(tpmap_find(m, "t0", 0), first, "the first entry did not move");
    cr_assert_eq(first->expected, 42, "and kept its state");
    for (int t = 0; t < 40; t++)
        for (int p = 0; p < 24; p++) {
            tpmap_entry *e;
            snprintf(topic, sizeof topic, "t%d", t);
            e = tpmap_find(m, topic, p);
            cr_assert(e && e->partition == p && strcmp(e->topic, topic) == 0, "%s/%d", topic, p);
        }
    tpmap_destroy(m);
}
