/* Unit tests for the pure parts of common/pg and the text helpers the consumer relies on:
 * SQLSTATE classification (data-driven), COPY text escaping, array literals, message
 * prefixes and UTF-8 sanitising. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "errstr.h"
#include "pg.h"
#include "support/datafile.h"
#include "utf8.h"

#define KINDS "data/sqlstate_kinds.txt"

typedef struct kind_case {
    int line;
    char state[8];
    char kind[16];
} kind_case;

static int fill_kind(const datafile_line *l, void *out)
{
    kind_case *k = out;

    k->line = l->line;
    return sscanf(l->field[0], "%7s %15s", k->state, k->kind) == 2;
}

Test(pg, sqlstate_kinds_follow_the_table)
{
    static kind_case cases[64];
    size_t n = datafile_load(KINDS, 1, cases, sizeof cases[0], 64, fill_kind);

    cr_assert_geq(n, 15, KINDS ": only %zu cases", n);
    for (size_t i = 0; i < n; i++) {
        const char *state = strcmp(cases[i].state, "-") == 0 ? "" : cases[i].state;
        pg_error_kind want = strcmp(cases[i].kind, "data") == 0 ? PG_ERROR_DATA
                                                                : PG_ERROR_TRANSIENT;
        cr_assert_str_neq(cases[i].kind, "", KINDS ":%d: no kind", cases[i].line);
        cr_assert_eq(pg_sqlstate_kind(state), want, KINDS ":%d: %s should be %s", cases[i].line,
                     cases[i].state, cases[i].kind);
    }
    cr_assert_eq(pg_sqlstate_kind(NULL), PG_ERROR_TRANSIENT, "NULL is transient");
    cr_assert_eq(pg_error_classify(NULL, "23505"), PG_ERROR_TRANSIENT,
                 "without a live connection nothing is the data's fault");
}

Test(pg, copy_text_is_escaped)
{
    pg_copybuf b;

    pg_copybuf_init(&b);
    pg_copybuf_str(&b, "a\tb\nc\\d\re", 1);
    pg_copybuf_null(&b, 0);
    pg_copybuf_int(&b, -42, 0);
    pg_copybuf_end_row(&b);
    cr_assert_eq(b.failed, 0, "no allocation failure");
    cr_assert_eq(b.len, strlen("a\\tb\\nc\\\\d\\re\t\\N\t-42\n"), "length %zu", b.len);
    cr_assert_eq(memcmp(b.data, "a\\tb\\nc\\\\d\\re\t\\N\t-42\n", b.len), 0, "escaped row");
    pg_copybuf_release(&b);
}

/* Each value as PostgreSQL's binary receive functions read it: a 4-byte big-endian length
 * (-1 for a null), then the value. */
Test(pg, copy_binary_values_are_send_forms)
{
    static const unsigned char want[] = {
        0, 9,                                               /* columns */
        0, 0, 0, 4, 0xff, 0xff, 0xff, 0xd6,                 /* int4 -42 */
        0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2,                 /* int8 2^32 + 2 */
        0, 0, 0, 2, 0x03, 0xe7,                             /* int2 999 */
        0xff, 0xff, 0xff, 0xff,                             /* null */
        0, 0, 0, 3, 'J', 'K', 'M',                          /* text */
        0, 0, 0, 16, 0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
        0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00,     /* uuid */
        0, 0, 0, 4, 0, 0, 0x22, 0x3e,                       /* 2024-01-01: day 8,766 of 2000 */
        0, 0, 0, 4, 0x80, 0, 0, 0x01,                       /* a day out of range: refused */
        0, 0, 0, 34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25,   /* text[]: 1 dim, no null, text */
        0, 0, 0, 2, 0, 0, 0, 1,                             /* 2 items from index 1 */
        0, 0, 0, 3, 'J', 'K', 'K', 0, 0, 0, 3, 'J', 'K', 'M',
    };
    const char *items[] = {"JKK", "JKM"};
    pg_copybuf b;

    pg_copybuf_init(&b);
    pg_copybin_row(&b, 9);
    pg_copybin_int4(&b, -42);
    pg_copybin_int8(&b, (INT64_C(1) << 32) + 2);
    pg_copybin_int2(&b, 999);
    pg_copybin_text(&b, NULL);
    pg_copybin_text(&b, "JKM");
    pg_copybin_uuid(&b, "123e4567-E89B-12d3-a456-426614174000");
    pg_copybin_date(&b, 19723);
    pg_copybin_date(&b, -(INT64_C(1) << 31) + 2);
    pg_copybin_text_array(&b, items, 2);
    cr_assert_eq(b.failed, 0, "no allocation failure");
    cr_assert_eq(b.len, sizeof want, "length %zu, want %zu", b.len, sizeof want);
    for (size_t i = 0; i < sizeof want; i++)
        cr_assert_eq((unsigned char)b.data[i], want[i], "byte %zu: 0x%02x, want 0x%02x", i,
                     (unsigned char)b.data[i], want[i]);
    pg_copybuf_release(&b);
}

Test(pg, copy_binary_refuses_what_is_not_a_uuid)
{
    static const char *const bad[] = {"123e4567-e89b-12d3-a456-42661417400",
                                      "123e4567-e89b-12d3-a456-4266141740000",
                                      "123e4567e89b-12d3-a456-4266141740000",
                                      "123e4567-e89b-12d3-a456-42661417400g", "", NULL};
    pg_copybuf b;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pg_copybuf_init(&b);
        pg_copybin_uuid(&b, bad[i]);
        cr_assert_eq(b.len, 4, "\"%s\": a null", bad[i] ? bad[i] : "(null)");
        cr_assert_eq(memcmp(b.data, "\377\377\377\377", 4), 0, "\"%s\": length -1",
                     bad[i] ? bad[i] : "(null)");
        pg_copybuf_release(&b);
    }
}

Test(pg, array_literals_quote_and_fit)
{
    const char *items[] = {"KTP", "say \"hi\"", "back\\slash"};
    char out[64], tiny[8];

    cr_assert_eq(pg_array_literal(items, 3, out, sizeof out), 0, "fits");
    cr_assert_str_eq(out, "{\"KTP\",\"say \\\"hi\\\"\",\"back\\\\slash\"}", "literal %s", out);
    cr_assert_eq(pg_array_literal(items, 3, tiny, sizeof tiny), -1, "too small is refused");
    cr_assert_eq(pg_array_literal(items, 0, out, sizeof out), 0, "empty array");
    cr_assert_str_eq(out, "{}", "empty literal %s", out);
}

Test(pg, errstr_prefix_keeps_the_message)
{
    char e[32] = "stored offset moved";

    cr_assert_eq(errstr_prefix(e, sizeof e, "partition %d: ", 7), -1, "returns -1");
    cr_assert_str_eq(e, "partition 7: stored offset move", "prefix then the cut message: %s", e);
    strcpy(e, "x");
    errstr_prefix(e, 4, "%s", "abcdef");
    cr_assert_str_eq(e, "abc", "a prefix longer than the buffer is cut: %s", e);
}

Test(pg, sanitised_messages_are_utf8)
{
    char s[] = "nama \xff\xfe ok \xc3\xa9 \xe2\x82";

    cr_assert_eq(utf8_valid(s), 0, "the input is not UTF-8");
    cr_assert_eq(utf8_scrub(s), s, "scrubbed in place");
    cr_assert_eq(utf8_valid(s), 1, "now it is: %s", s);
    cr_assert_str_eq(s, "nama ?? ok \xc3\xa9 ??", "valid sequences kept: %s", s);
}
