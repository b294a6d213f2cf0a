/* Unit tests of common/strbuf: appending, formatting past the first allocation, reset
 * and detach. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

Test(strbuf, empty_buffer_reads_as_empty_string)
{
    strbuf b;

    strbuf_init(&b);
    cr_assert_str_eq(strbuf_str(&b), "", "empty text");
    cr_assert_eq(b.len, 0, "length %zu", b.len);
    strbuf_release(&b);
    strbuf_release(NULL);
}

Test(strbuf, appends_and_formats_across_growth)
{
    strbuf b;
    char expect[4096];
    size_t n = 0;

    strbuf_init(&b);
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(strbuf_printf(&b, "%d,", i), 0, "printf %d", i);
        n += (size_t)snprintf(expect + n, sizeof expect - n, "%d,", i);
    }
    cr_assert_eq(strbuf_puts(&b, "end"), 0, "puts");
    cr_assert_eq(strbuf_append(&b, "xyz", 1), 0, "append");
    snprintf(expect + n, sizeof expect - n, "endx");
    cr_assert_str_eq(strbuf_str(&b), expect, "text after growth");
    cr_assert_eq(b.len, strlen(expect), "length %zu", b.len);
    strbuf_reset(&b);
    cr_assert_str_eq(strbuf_str(&b), "", "text after reset");
    cr_assert_eq(strbuf_printf(&b, "%s", ""), 0, "empty printf");
    strbuf_release(&b);
}

Test(strbuf, detach_hands_over_the_text)
{
    strbuf b;
    size_t len = 99;
    char *s;

    strbuf_init(&b);
    s = strbuf_detach(&b, &len);
    cr_assert(s && s[0] == '\0' && len == 0, "detach of an empty buffer");
    free(s);
    strbuf_printf(&b, "%s-%d", "abc", 7);
    s = strbuf_detach(&b, &len);
    cr_assert_str_eq(s, "abc-7", "detached text");
    cr_assert_eq(len, 5, "detached length %zu", len);
    cr_assert(b.data == NULL && b.len == 0, "buffer emptied");
    free(s);
}

Test(strbuf, failure_is_sticky_until_reset)
{
    strbuf b;

    strbuf_init(&b);
    strbuf_puts(&b, "kept");
    b.failed = 1;
    cr_assert_eq(strbuf_puts(&b, "lost"), -1, "append after a failure");
    cr_assert_eq(strbuf_printf(&b, "%d", 1), -1, "printf after a failure");
    cr_assert_str_eq(strbuf_str(&b), "kept", "text kept: %s", strbuf_str(&b));
    strbuf_reset(&b);
    cr_assert_eq(strbuf_puts(&b, "again"), 0, "append after reset");
    b.failed = 1;
    cr_assert_null(strbuf_detach(&b, NULL), "detach of a failed buffer");
    cr_assert(b.data == NULL, "failed detach frees");
}
