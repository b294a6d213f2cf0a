/* Unit tests of common/utf8: sequence lengths and the forms UTF-8 forbids. */
#include <criterion/criterion.h>

#include <stdio.h>

#include "utf8.h"

typedef struct utf8_case {
    const char *s;
    size_t seq;   /* utf8_seq of s */
    int valid;    /* utf8_valid of s */
} utf8_case;

Test(utf8, sequences_and_forbidden_forms)
{
    static const utf8_case cases[] = {
        {"", 1, 1},                       /* the NUL */
        {"a", 1, 1},
        {"\xc3\xa4x", 2, 1},              /* U+00E4 */
        {"\xe2\x82\xac", 3, 1},           /* U+20AC */
        {"\xf0\x9f\x98\x80", 4, 1},       /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 4, 1},       /* U+10FFFF */
        {"\xc0\xaf", 0, 0},               /* overlong '/' */
        {"\xe0\x80\xaf", 0, 0},           /* overlong, 3 bytes */
        {"\xed\xa0\x80", 0, 0},           /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", 0, 0},       /* past U+10FFFF */
        {"\xc3", 0, 0},                   /* cut short by the NUL */
        {"\xc3\x28", 0, 0},               /* bad continuation */
        {"\x80", 0, 0},                   /* lone continuation */
        {"\xff", 0, 0},
        {"ok\xff", 1, 0},                 /* bad later on */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(utf8_seq(cases[i].s), cases[i].seq, "case %zu: utf8_seq %zu", i,
                     utf8_seq(cases[i].s));
        cr_assert_eq(utf8_valid(cases[i].s), cases[i].valid, "case %zu: utf8_valid", i);
    }
}

Test(utf8, valid_len_stops_at_len_and_refuses_nul)
{
    static const struct {
        const char *s;
        size_t len;
        int valid;
    } cases[] = {
        {"", 0, 1},
        {"abc", 3, 1},
        {"a\0b", 3, 0},                     /* a NUL inside the length */
        {"\xc3\xa4", 2, 1},
        {"\xc3\xa4", 1, 0},                 /* sequence cut by the length */
        {"\xe2\x82\xac!", 3, 1},
        {"\xe2\x82\xac", 2, 0},
        {"\xf0\x9f\x98\x80", 3, 0},
        {"ok\xff", 2, 1},                   /* the bad byte lies past the length */
        {"ok\xff", 3, 0},
        {"\xed\xa0\x80", 3, 0},             /* surrogate */
        /* past eight bytes, where whole words of ASCII are taken at once */
        {"abcdefghijklmnop", 16, 1},
        {"abcdefgh\0jklmnop", 16, 0},       /* a NUL in the second word */
        {"abc\0efghijk", 11, 0},            /* a NUL in the first word */
        {"abcdefg\xc3\xa4hijklmn", 16, 1},   /* a sequence across two words */
        {"abcdefghijklmno\xc3\xa4", 16, 0},  /* cut by the length after a word */
        {"abcdefghij\xffklmnop", 17, 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(utf8_valid_len(cases[i].s, cases[i].len), cases[i].valid, "case %zu: utf8_valid_len",
                     i);
}

Test(utf8, cut_never_splits_a_character)
{
    static const struct {
        const char *s;
        size_t max, len;
    } cases[] = {
        {"abc", 2, 2},
        {"abc", 5, 3},
        {"ab\xc3\xa4", 3, 2},                 /* would end inside U+00E4 */
        {"ab\xc3\xa4", 4, 4},
        {"a\xe2\x82\xac", 2, 1},
        {"a\xe2\x82\xac", 3, 1},
        {"a\xe2\x82\xac", 4, 4},
        {"\xf0\x9f\x98\x80z", 4, 4},
        {"\xf0\x9f\x98\x80z", 1, 0},
        {"", 4, 0},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_eq(utf8_cut(cases[i].s, cases[i].max), cases[i].len, "case %zu: utf8_cut %zu", i,
                     utf8_cut(cases[i].s, cases[i].max));
}

Test(utf8, scrub_replaces_what_does_not_start_a_sequence)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"ok", "ok"},
        {"near '\"\\u0\xd0'", "near '\"\\u0?'"},   /* jansson's quote cut inside a character */
        {"\xc3\xa4\xff\xc3", "\xc3\xa4??"},
        {"\xed\xa0\x80", "???"},
        {"\xe2\x82\xac", "\xe2\x82\xac"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%s", cases[i].in);
        cr_assert_str_eq(utf8_scrub(buf), cases[i].out, "case %zu", i);
        cr_assert(utf8_valid(buf), "case %zu: not valid after scrub", i);
    }
}
