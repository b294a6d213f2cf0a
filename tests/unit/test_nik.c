/* Unit tests of common/nik: data-driven layout cases (data/nik_cases.txt) and birth matching. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "nik.h"
#include "roster.h"
#include "support/datafile.h"

#define CASES_FILE "data/nik_cases.txt"
#define MAX_CASES 200

/* expect: for OK the eight nik_info numbers; for ERR a substring of the rule broken. */
typedef datafile_case nik_case;

ParameterizedTestParameters(nik, layout_case)
{
    static nik_case tmp[MAX_CASES];
    size_t n = datafile_load_cases(CASES_FILE, tmp, MAX_CASES);

    return datafile_params(tmp, n, sizeof *tmp);
}

ParameterizedTest(nik_case *c, nik, layout_case)
{
    nik_info info;
    char err[128] = "";
    int rc = nik_check(c->input, &info, err, sizeof err);

    if (c->ok) {
        int want[8];
        int got[8] = {info.province, info.regency, info.kecamatan, info.birth_day,
                      info.birth_month, info.birth_yy, info.female, info.serial};
        cr_assert_eq(rc, 0, "line %d: nik '%s' rejected: %s", c->line, c->input, err);
        cr_assert_eq(sscanf(c->expect, "%d %d %d %d %d %d %d %d", &want[0], &want[1], &want[2],
                            &want[3], &want[4], &want[5], &want[6], &want[7]), 8,
                     "line %d: expected eight numbers, got '%s'", c->line, c->expect);
        for (int i = 0; i < 8; i++)
            cr_assert_eq(got[i], want[i], "line %d: nik '%s' part %d is %d, expected %d", c->line,
                         c->input, i, got[i], want[i]);
    } else {
        cr_assert_eq(rc, -1, "line %d: nik '%s' accepted, expected '%s'", c->line, c->input, c->expect);
        cr_assert(strstr(err, c->expect) != NULL, "line %d: nik '%s' error '%s' lacks '%s'", c->line,
                  c->input, err, c->expect);
    }
}

Test(nik, case_file_loads)
{
    static nik_case tmp[MAX_CASES];
    size_t n = datafile_load_cases(CASES_FILE, tmp, MAX_CASES), good = 0;

    for (size_t i = 0; i < n; i++)
        good += tmp[i].ok;
    cr_assert_geq(n, 15, "%s holds %zu cases, expected at least 15", CASES_FILE, n);
    cr_assert(good > 0 && good < n, "%s needs good and bad cases: %zu of %zu good", CASES_FILE, good, n);
}

Test(nik, null_info_and_errstr_allowed)
{
    cr_assert_eq(nik_check("7313014508900001", NULL, NULL, 0), 0, "valid nik with NULL info rejected");
    cr_assert_eq(nik_check("7313014508900000", NULL, NULL, 0), -1, "serial 0000 accepted with NULL errstr");
    cr_assert_eq(nik_check(NULL, NULL, NULL, 0), -1, "NULL nik accepted");
}

Test(nik, errstr_truncated_safely)
{
    char err[8];

    memset(err, 'x', sizeof err);
    cr_assert_eq(nik_check("7313014508900000", NULL, err, sizeof err), -1, "serial 0000 accepted");
    cr_assert_eq(err[sizeof err - 1], '\0', "errstr not terminated");
}

static nik_info info_of(const char *nik)
{
    nik_info info;
    char err[128];

    cr_assert_eq(nik_check(nik, &info, err, sizeof err), 0, "nik %s rejected: %s", nik, err);
    return info;
}

Test(nik, woman_matches_her_birth_date)
{
    nik_info info = info_of("7313014508900001");

    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1990, 8, 5), 'P'), 1,
                 "female nik 45-08-90 does not match 1990-08-05 P");
}

Test(nik, woman_does_not_match_man)
{
    nik_info info = info_of("7313014508900001");

    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1990, 8, 5), 'L'), 0,
                 "female nik matched gender L");
}

Test(nik, man_does_not_match_woman)
{
    nik_info info = info_of("7371010101850002");

    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1985, 1, 1), 'L'), 1, "male nik did not match");
    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1985, 1, 1), 'P'), 0, "male nik matched P");
}

Test(nik, other_day_month_or_century_year_mismatch)
{
    nik_info info = info_of("7313014508900001");

    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1990, 8, 6), 'P'), 0, "day 06 matched 05");
    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1990, 9, 5), 'P'), 0, "month 09 matched 08");
    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1991, 8, 5), 'P'), 0, "year 91 matched 90");
    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1890, 8, 5), 'P'), 1,
                 "two-digit year 90 should match 1890 as well");
}

Test(nik, year_2000_is_yy_00)
{
    nik_info info = info_of("9101012912000003");

    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(2000, 12, 29), 'L'), 1, "yy 00 did not match 2000");
}

Test(nik, absent_parts_are_not_compared)
{
    nik_info info = info_of("7313014508900001");

    cr_assert_eq(nik_matches_birth(&info, DATE_NONE, 'P'), 1, "absent birth date compared");
    cr_assert_eq(nik_matches_birth(&info, DATE_NONE, 'L'), 0, "gender not compared without date");
    cr_assert_eq(nik_matches_birth(&info, dates_from_civil(1990, 8, 5), 0), 1, "absent gender compared");
}
