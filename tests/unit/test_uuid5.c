/* Unit tests of common/uuid5: names field by field, and ids equal to libuuid's
 * uuid_generate_sha1 over the same name (the id every event has carried so far). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include "roster.h"
#include "uuid5.h"

static const unsigned char ns[16] = {0x5c, 0x1e, 0x7a, 0x52, 0x0b, 0x7d, 0x4e, 0x0f,
                                     0x9a, 0x64, 0x31, 0x2e, 0x83, 0x55, 0xd2, 0x10};

static void expect_libuuid(const uuid5 *u)
{
    char got[37], want[37];
    uuid_t id;

    uuid5_finish(u, ns, got);
    uuid_generate_sha1(id, ns, u->name, u->len);
    uuid_unparse_lower(id, want);
    cr_assert_str_eq(got, want, "uuid5 of a %zu-byte name equals libuuid's", u->len);
}

Test(uuid5, name_is_built_field_by_field)
{
    uuid5 u;

    uuid5_init(&u);
    uuid5_text(&u, "dc-sulsel", 33);
    uuid5_text(&u, NULL, 16);
    uuid5_text(&u, "abcdef", 3);
    uuid5_num(&u, 0);
    uuid5_num(&u, -25567);
    uuid5_num(&u, INT64_MIN);
    uuid5_num(&u, INT64_MAX);
    const char want[] = "9:dc-sulsel|0:|3:abc|0|-25567|-9223372036854775808|9223372036854775807|";
    cr_assert_eq(u.len, sizeof want - 1, "name length %zu", u.len);
    cr_assert_eq(memcmp(u.name, want, u.len), 0, "name '%.*s'", (int)u.len, u.name);
    cr_assert_eq(u.overflow, 0, "no overflow");
    expect_libuuid(&u);
}

/* Numbers are written in pieces (two digits, eight digits at once): every length of
 * number, either side of each power of ten, reads as printf's decimal. */
Test(uuid5, numbers_read_as_decimal_at_every_length)
{
    int64_t v = 1;

    for (int digits = 1; digits <= 19; digits++) {
        const int64_t around[] = {v - 1, v, v + 1, v * 2 - 1, -v, -(v - 1), INT64_MAX, INT64_MIN};
        for (size_t k = 0; k < sizeof around / sizeof around[0]; k++) {
            char want[32];
            uuid5 u;
            uuid5_init(&u);
            uuid5_num(&u, around[k]);
            uuid5_text(&u, "x", 2);
            int n = snprintf(want, sizeof want, "%lld|1:x|", (long long)around[k]);
            cr_assert_eq(u.len, (size_t)n, "%lld: length %zu, want %d", (long long)around[k], u.len, n);
            cr_assert_eq(memcmp(u.name, want, u.len), 0, "%lld: '%.*s', want '%s'", (long long)around[k],
                         (int)u.len, u.name, want);
        }
        if (digits < 19)
            v *= 10;            /* 10^19 does not fit */
    }
}

Test(uuid5, ids_equal_libuuids)
{
    uuid5 u;
    char text[200];

    for (int i = 0; i < 200; i++) {
        uuid5_init(&u);
        memset(text, 'a' + i % 26, (size_t)i);
        text[i] = '\0';
        uuid5_text(&u, text, sizeof text);
        uuid5_num(&u, (int64_t)i * 7919 - 500);
        expect_libuuid(&u);
    }
}

Test(uuid5, a_long_name_is_cut_and_flagged)
{
    static char big[4000];
    uuid5 u;

    memset(big, 'x', sizeof big - 1);
    uuid5_init(&u);
    for (int i = 0; i < 4; i++)
        uuid5_text(&u, big, sizeof big);
    uuid5_num(&u, 12345);
    cr_assert_eq(memcmp(u.name, "3999:x", 6), 0, "the first text's length");
    cr_assert_eq(memcmp(u.name + 4004, "|3999:x", 7), 0, "the second text's length");
    /* The third does not fit: written piece by piece, then cut. */
    cr_assert_eq(memcmp(u.name + 8009, "|3999:x", 7), 0, "the third text's length, before the cut");
    cr_assert_eq(u.len, sizeof u.name, "the name fills its buffer");
    cr_assert_eq(u.overflow, 1, "and says it was cut");
    expect_libuuid(&u);
}

/* A roster event's id is a contract: a row published again, by any version of the
 * producer, must carry the id it carried before, or the consumers apply it twice. These
 * ids were computed by the producers of 2026-11-28 onwards (the "len:text|" names). */
Test(uuid5, roster_event_ids_never_change)
{
    roster_change rc;

    roster_change_init(&rc);
    strcpy(rc.source, "dc-sulsel");
    rc.change = CHANGE_ENROLL;
    strcpy(rc.nik, "7313011107800001");
    rc.fields = RF_FULL_NAME | RF_BIRTH_DATE | RF_GENDER | RF_INSTITUTION | RF_ROLE | RF_REGION | RF_TPS |
                RF_TERM_START | RF_TERM_END | RF_WAGE | RF_PROGRAMS | RF_AGREEMENT | RF_KPJ | RF_EFFECTIVE |
                RF_PHONE;
    strcpy(rc.full_name, "Andi Besse Tenri Ajeng");
    rc.birth_date = -1826;
    rc.gender = 'P';
    rc.institution = INST_KPU;
    rc.role = ROLE_KPPS;
    strcpy(rc.region_code, "7313011001");
    rc.tps = 12;
    rc.term_start = 19700;
    rc.term_end = 19800;
    rc.effective_date = 19701;
    rc.monthly_wage = 1250000;
    rc.programs = 3;
    strcpy(rc.agreement_id, "PKS-KPU-7313-2023");
    strcpy(rc.kpj, "23001234567");
    strcpy(rc.phone, "+6285682533382");
    roster_event_id(&rc);
    cr_assert_str_eq(rc.event_id, "263ef8de-4751-5547-b5f1-1ac0001498d9", "every field present");

    roster_change_init(&rc);
    strcpy(rc.source, "dc-jatim");
    rc.change = CHANGE_TERMINATE;
    strcpy(rc.nik, "3578012301900002");
    roster_event_id(&rc);
    cr_assert_str_eq(rc.event_id, "5b101e27-9913-5819-a5c5-c86d138ff9b2", "only change and nik");
}
