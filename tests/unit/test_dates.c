/* Unit tests of common/dates: formatting, parsing and local days, driven by
 * data/dates_cases.txt (down to the extremes of int32_t days and int64_t microseconds,
 * where UBSan once found a signed overflow), and civil round trips over the whole day
 * range. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "support/datafile.h"

#define CASES_FILE "data/dates_cases.txt"
#define MAX_CASES 100

typedef struct dates_case {
    int line;
    char kind[8];
    char input[48];
    char expect[48];
} dates_case;

static int fill_case(const datafile_line *l, void *out)
{
    dates_case *c = out;

    if (l->nfields != 3)
        return 0;
    memset(c, 0, sizeof *c);
    c->line = l->line;
    snprintf(c->kind, sizeof c->kind, "%s", l->field[0]);
    snprintf(c->input, sizeof c->input, "%s", l->field[1]);
    snprintf(c->expect, sizeof c->expect, "%s", l->field[2]);
    return 1;
}

static size_t load_cases(dates_case *out, size_t max)
{
    return datafile_load(CASES_FILE, 3, out, sizeof *out, max, fill_case);
}

ParameterizedTestParameters(dates, case_line)
{
    static dates_case tmp[MAX_CASES];
    size_t n = load_cases(tmp, MAX_CASES);

    return datafile_params(tmp, n, sizeof *tmp);
}

ParameterizedTest(dates_case *c, dates, case_line)
{
    char buf[64];

    if (strcmp(c->kind, "day") == 0) {
        dates_format((int32_t)strtol(c->input, NULL, 10), buf, sizeof buf);
        cr_assert_str_eq(buf, c->expect, "line %d: day %s formats as %s", c->line, c->input, buf);
    } else if (strcmp(c->kind, "time") == 0) {
        dates_format_timestamp(strtoll(c->input, NULL, 10), buf, sizeof buf);
        cr_assert_str_eq(buf, c->expect, "line %d: time %s formats as %s", c->line, c->input, buf);
    } else if (strcmp(c->kind, "local") == 0) {
        long long us;
        int offset;
        cr_assert_eq(sscanf(c->input, "%lld %d", &us, &offset), 2, "line %d: bad input", c->line);
        int32_t day = dates_local_day((int64_t)us, offset);
        cr_assert_eq(day, strtol(c->expect, NULL, 10), "line %d: local day %" PRId32, c->line, day);
    } else if (strcmp(c->kind, "parse") == 0) {
        int32_t day = 0;
        int rc = dates_parse(c->input, &day);
        if (strcmp(c->expect, "ERR") == 0)
            cr_assert_eq(rc, -1, "line %d: '%s' accepted as %" PRId32, c->line, c->input, day);
        else
            cr_assert(rc == 0 && day == strtol(c->expect, NULL, 10), "line %d: '%s' gave rc %d day %" PRId32,
                      c->line, c->input, rc, day);
    } else {
        int64_t us = 0;
        cr_assert_str_eq(c->kind, "stamp", "line %d: unknown kind", c->line);
        int rc = dates_parse_timestamp(c->input, &us);
        if (strcmp(c->expect, "ERR") == 0)
            cr_assert_eq(rc, -1, "line %d: '%s' accepted as %" PRId64, c->line, c->input, us);
        else
            cr_assert(rc == 0 && us == strtoll(c->expect, NULL, 10), "line %d: '%s' gave rc %d us %" PRId64,
                      c->line, c->input, rc, us);
    }
}

Test(dates, case_file_loads)
{
    static dates_case tmp[MAX_CASES];

    cr_assert_geq(load_cases(tmp, MAX_CASES), 30, "%s holds too few cases", CASES_FILE);
}

/* Every day number maps to a civil date and back, at both ends of int32_t too. */
Test(dates, civil_round_trip_over_the_whole_range)
{
    int64_t step = 65521; /* a prime, so every residue class is visited across the range */

    for (int64_t d = INT32_MIN; d <= INT32_MAX; d += d < INT32_MIN + 400000 || d > INT32_MAX - 400000 ? 1 : step) {
        int y, m, dd;
        dates_to_civil((int32_t)d, &y, &m, &dd);
        cr_assert(m >= 1 && m <= 12 && dd >= 1 && dd <= 31, "day %" PRId64 ": %d-%d-%d", d, y, m, dd);
        cr_assert_eq(dates_from_civil(y, m, dd), (int32_t)d, "day %" PRId64 " -> %d-%02d-%02d -> %" PRId32, d,
                     y, m, dd, dates_from_civil(y, m, dd));
    }
}
