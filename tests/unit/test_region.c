/* Unit tests of common/region: data-driven code cases (data/region_cases.txt), nesting,
 * province list, time zones and dotted formatting. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "region.h"
#include "support/datafile.h"

#define CASES_FILE "data/region_cases.txt"
#define MAX_CASES 200

/* expect: for OK "plain level"; for ERR a substring of the rule broken. */
typedef datafile_case region_case;

ParameterizedTestParameters(region, normalize_case)
{
    static region_case tmp[MAX_CASES];
    size_t n = datafile_load_cases(CASES_FILE, tmp, MAX_CASES);

    return datafile_params(tmp, n, sizeof *tmp);
}

ParameterizedTest(region_case *c, region, normalize_case)
{
    char out[11], err[128] = "";
    int level = -1;
    int rc = region_normalize(c->input, out, sizeof out, &level, err, sizeof err);

    if (c->ok) {
        char want[16];
        int want_level;
        cr_assert_eq(rc, 0, "line %d: '%s' rejected: %s", c->line, c->input, err);
        cr_assert_eq(sscanf(c->expect, "%15s %d", want, &want_level), 2, "line %d: bad expectation '%s'",
                     c->line, c->expect);
        cr_assert_str_eq(out, want, "line %d: '%s' normalised to '%s', expected '%s'", c->line, c->input,
                         out, want);
        cr_assert_eq(level, want_level, "line %d: '%s' level %d, expected %d", c->line, c->input, level,
                     want_level);
    } else {
        cr_assert_eq(rc, -1, "line %d: '%s' accepted, expected '%s'", c->line, c->input, c->expect);
        cr_assert(strstr(err, c->expect) != NULL, "line %d: '%s' error '%s' lacks '%s'", c->line, c->input,
                  err, c->expect);
        cr_assert_str_empty(out, "line %d: out not emptied after failure: '%s'", c->line, out);
    }
}

Test(region, case_file_loads)
{
    static region_case tmp[MAX_CASES];
    size_t n = datafile_load_cases(CASES_FILE, tmp, MAX_CASES), good = 0;

    for (size_t i = 0; i < n; i++)
        good += tmp[i].ok;
    cr_assert_geq(n, 15, "%s holds %zu cases, expected at least 15", CASES_FILE, n);
    cr_assert(good > 0 && good < n, "%s needs good and bad cases: %zu of %zu good", CASES_FILE, good, n);
}

Test(region, small_output_buffer_rejected)
{
    char out[6], err[128] = "";

    cr_assert_eq(region_normalize("731301", out, sizeof out, NULL, err, sizeof err), -1,
                 "a 6-byte output buffer was accepted");
    cr_assert(strstr(err, "buffer") != NULL, "error '%s' does not name the buffer", err);
}

Test(region, desa_within_its_kecamatan_regency_province)
{
    cr_assert_eq(region_within("7313012001", "731301"), 1, "desa not within its kecamatan");
    cr_assert_eq(region_within("7313012001", "7313"), 1, "desa not within its regency");
    cr_assert_eq(region_within("7313012001", "73"), 1, "desa not within its province");
    cr_assert_eq(region_within("7313012001", "7313012001"), 1, "desa not within itself");
}

Test(region, not_within_other_or_smaller_units)
{
    cr_assert_eq(region_within("7313012001", "731302"), 0, "desa within another kecamatan");
    cr_assert_eq(region_within("7313012001", "7371"), 0, "wajo desa within kota makassar");
    cr_assert_eq(region_within("731301", "7313012001"), 0, "kecamatan within its own desa");
    cr_assert_eq(region_within("7313012001", "731"), 0, "prefix off a level boundary counted");
    cr_assert_eq(region_within("7313012001", ""), 0, "empty code counted as a level");
}

Test(region, papua_provinces_valid)
{
    for (int p = 91; p <= 96; p++)
        cr_assert_eq(region_province_valid(p), 1, "papua province %d invalid", p);
    cr_assert_eq(region_province_valid(97), 0, "province 97 valid");
    cr_assert_eq(region_province_valid(90), 0, "province 90 valid");
}

Test(region, province_list_edges)
{
    static const int valid[] = {11, 19, 21, 31, 36, 51, 53, 61, 65, 71, 76, 81, 82};
    static const int invalid[] = {0, 10, 20, 22, 30, 37, 50, 54, 60, 66, 70, 77, 80, 83, 99, 100, -11};

    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++)
        cr_assert_eq(region_province_valid(valid[i]), 1, "province %d invalid", valid[i]);
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        cr_assert_eq(region_province_valid(invalid[i]), 0, "province %d valid", invalid[i]);
}

Test(region, time_zones)
{
    cr_assert_eq(region_utc_offset_minutes(31), 420, "jakarta not WIB");
    cr_assert_eq(region_utc_offset_minutes(62), 420, "kalimantan tengah not WIB");
    cr_assert_eq(region_utc_offset_minutes(63), 480, "kalimantan selatan not WITA");
    cr_assert_eq(region_utc_offset_minutes(51), 480, "bali not WITA");
    cr_assert_eq(region_utc_offset_minutes(73), 480, "sulawesi selatan not WITA");
    cr_assert_eq(region_utc_offset_minutes(81), 540, "maluku not WIT");
    cr_assert_eq(region_utc_offset_minutes(96), 540, "papua barat daya not WIT");
    cr_assert_eq(region_utc_offset_minutes(20), -1, "unknown province has an offset");
}

Test(region, format_dotted_each_level)
{
    char out[14];

    cr_assert_str_eq(region_format_dotted("7313012001", out, sizeof out), "73.13.01.2001", "desa: %s", out);
    cr_assert_str_eq(region_format_dotted("731301", out, sizeof out), "73.13.01", "kecamatan: %s", out);
    cr_assert_str_eq(region_format_dotted("8171", out, sizeof out), "81.71", "regency: %s", out);
    cr_assert_str_eq(region_format_dotted("91", out, sizeof out), "91", "province: %s", out);
    cr_assert_str_eq(region_format_dotted("731", out, sizeof out), "731", "odd length: %s", out);
}

Test(region, format_then_normalize_round_trips)
{
    char dotted[14], plain[11], err[128];
    int level;

    region_format_dotted("9501012001", dotted, sizeof dotted);
    cr_assert_eq(region_normalize(dotted, plain, sizeof plain, &level, err, sizeof err), 0,
                 "'%s' rejected: %s", dotted, err);
    cr_assert_str_eq(plain, "9501012001", "round trip gave %s", plain);
    cr_assert_eq(level, REGION_DESA, "round trip level %d", level);
}
