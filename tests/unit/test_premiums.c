/* Unit tests of common/premiums: every row of data/premium_cases.tsv as its own test against
 * the deployed rates (and the deployed or a test billing rules file), the deployed files'
 * versions by date, month arithmetic, and the parsers' rules. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dates.h"
#include "premiums.h"
#include "roster.h"
#include "support/datafile.h"

#define CASES "data/premium_cases.tsv"
#define DEPLOYED_RATES "../../deploy/premiums/premium_rates.tsv"
#define DEPLOYED_RULES "../../deploy/premiums/billing_rules.tsv"
#define MAX_CASES 100
#define NCOLS 12

enum { C_NAME, C_RULES, C_SCHEME, C_RISK, C_PROGRAMS, C_WAGE, C_TERM, C_MONTHS, C_JKK, C_JKM,
       C_JHT, C_TOTAL };

typedef struct premium_case {
    int line;
    char text[512];
} premium_case;

static int fill_case(const datafile_line *l, void *out)
{
    premium_case *c = out;

    if (strncmp(l->field[0], "name\t", 5) == 0)
        return 0;
    c->line = l->line;
    snprintf(c->text, sizeof c->text, "%s", l->field[0]);
    return 1;
}

static int32_t day(const char *s)
{
    int32_t d = 0;

    cr_assert_eq(dates_parse(s, &d), 0, "bad date '%s' in the test", s);
    return d;
}

static premium_rates *deployed_rates(void)
{
    char err[256] = "";
    premium_rates *t = premiums_rates_load(DEPLOYED_RATES, err, sizeof err);

    cr_assert_not_null(t, "deployed premium rates do not load: %s", err);
    return t;
}

static billing_rules *rules_file(const char *which)
{
    char err[256] = "", path[128];
    billing_rules *r;

    if (strcmp(which, "deployed") == 0)
        snprintf(path, sizeof path, "%s", DEPLOYED_RULES);
    else
        snprintf(path, sizeof path, "data/%s", which);
    r = premiums_rules_load(path, err, sizeof err);
    cr_assert_not_null(r, "billing rules %s do not load: %s", path, err);
    return r;
}

ParameterizedTestParameters(premiums, cases)
{
    static premium_case tmp[MAX_CASES];
    size_t n = datafile_load(CASES, 1, tmp, sizeof *tmp, MAX_CASES, fill_case);

    return datafile_params(tmp, n, sizeof *tmp);
}

ParameterizedTest(premium_case *c, premiums, cases)
{
    char text[512], *f[NCOLS + 1], *dots, err[256] = "";
    int nf = 0, programs, rc;
    premium_rates *t = deployed_rates();
    billing_rules *r;
    premium_term out;
    int32_t from, to;

    snprintf(text, sizeof text, "%s", c->text);
    for (char *p = text; p && nf <= NCOLS; nf++) {
        f[nf] = p;
        if ((p = strchr(p, '\t')))
            *p++ = '\0';
    }
    cr_assert_eq(nf, NCOLS, CASES ":%d: %d fields, expected %d", c->line, nf, NCOLS);
    r = rules_file(f[C_RULES]);
    programs = roster_programs_parse(f[C_PROGRAMS]);
    cr_assert_gt(programs, 0, CASES ":%d: programs '%s'", c->line, f[C_PROGRAMS]);
    dots = strstr(f[C_TERM], "..");
    cr_assert_not_null(dots, CASES ":%d: term '%s' is not FROM..TO", c->line, f[C_TERM]);
    *dots = '\0';
    from = day(f[C_TERM]);
    to = day(dots + 2);
    rc = premiums_term(t, r, (premium_scheme)premiums_scheme_parse(f[C_SCHEME]),
                       strcmp(f[C_RISK], "-") == 0 ? 0 : atoi(f[C_RISK]), (unsigned)programs,
                       atoll(f[C_WAGE]), from, to, &out, err, sizeof err);
    if (strcmp(f[C_MONTHS], "ERROR") == 0) {
        cr_assert_eq(rc, -1, CASES ":%d %s: expected an error, got %lld", c->line, f[C_NAME],
                     out.total);
        cr_assert_not_null(strstr(err, f[C_TOTAL]), CASES ":%d %s: error '%s' lacks '%s'",
                           c->line, f[C_NAME], err, f[C_TOTAL]);
    } else {
        cr_assert_eq(rc, 0, CASES ":%d %s: %s", c->line, f[C_NAME], err);
        cr_assert_eq(out.months, atoi(f[C_MONTHS]), CASES ":%d %s: months %d, expected %s",
                     c->line, f[C_NAME], out.months, f[C_MONTHS]);
        cr_assert_eq(out.jkk, atoll(f[C_JKK]), CASES ":%d %s: JKK %lld, expected %s", c->line,
                     f[C_NAME], out.jkk, f[C_JKK]);
        cr_assert_eq(out.jkm, atoll(f[C_JKM]), CASES ":%d %s: JKM %lld, expected %s", c->line,
                     f[C_NAME], out.jkm, f[C_JKM]);
        cr_assert_eq(out.jht, atoll(f[C_JHT]), CASES ":%d %s: JHT %lld, expected %s", c->line,
                     f[C_NAME], out.jht, f[C_JHT]);
        cr_assert_eq(out.total, atoll(f[C_TOTAL]), CASES ":%d %s: total %lld, expected %s",
                     c->line, f[C_NAME], out.total, f[C_TOTAL]);
    }
    premiums_rules_destroy(r);
    premiums_rates_destroy(t);
}

Test(premiums, case_file_is_complete)
{
    static premium_case tmp[MAX_CASES];
    size_t n = datafile_load(CASES, 1, tmp, sizeof *tmp, MAX_CASES, fill_case);

    cr_assert_geq(n, 40, CASES ": %zu cases, expected at least 40", n);
    cr_assert_lt(n, MAX_CASES, CASES ": raise MAX_CASES");
}

Test(premiums, deployed_versions_by_last_day_of_month)
{
    premium_rates *t = deployed_rates();
    billing_rules *r = rules_file("deployed");
    static const struct {
        const char *day, *version;
    } at[] = {
        {"2015-06-30", NULL},          {"2015-07-01", "PP44-2015"},
        {"2020-07-31", "PP44-2015"},   {"2020-08-01", "PP49-2020"},
        {"2021-01-31", "PP49-2020"},   {"2021-02-01", "PP44-2015-R2021"},
        {"2023-10-05", "PP44-2015-R2021"}, {"2023-10-06", "PP49-2023"},
    };

    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        const char *v = premiums_rates_version_at(t, day(at[i].day));
        if (!at[i].version)
            cr_assert_null(v, "%s: expected no version, got %s", at[i].day, v);
        else
            cr_assert(v && strcmp(v, at[i].version) == 0, "%s: version %s, expected %s",
                      at[i].day, v ? v : "(none)", at[i].version);
    }
    {
        long long amount = 0;
        const char *v = NULL;
        char err[256] = "";
        /* October 2023: PP49-2023 takes effect on the 6th, so it prices the whole month. */
        cr_assert_eq(premiums_month_amount(t, day("2023-10-01"), PREMIUM_BPU, PROG_JKM, 0, 1,
                                           &amount, &v, err, sizeof err), 0, "%s", err);
        cr_assert_str_eq(v, "PP49-2023", "October 2023 is priced by %s", v);
        cr_assert_eq(amount, 6800, "JKM %lld", amount);
    }
    cr_assert_eq(premiums_rule(r, day("2024-02-29"), PREMIUM_BPU, PREMIUM_RULE_MIN_DAYS), 1,
                 "deployed default: any covered day owes the month");
    cr_assert_eq(premiums_rule(r, day("2024-02-29"), PREMIUM_BPU, PREMIUM_RULE_LAPSE_MONTHS), 3,
                 "lapse after 3 unpaid months");
    cr_assert_eq(premiums_rule(r, day("2024-02-29"), PREMIUM_PU, PREMIUM_RULE_LAPSE_MONTHS), -1,
                 "PU has no lapse rule");
    cr_assert_eq(premiums_rule(r, day("2015-06-30"), PREMIUM_BPU, PREMIUM_RULE_MIN_DAYS), -1,
                 "no rules before the first version");
    cr_assert_str_eq(premiums_rules_version_at(r, day("2024-01-01")), "BR-2015", "rules version");
    cr_assert_eq(premiums_rates_count(t), 46, "rate rows: %zu", premiums_rates_count(t));
    cr_assert_eq(premiums_rules_count(r), 4, "rule rows: %zu", premiums_rules_count(r));
    premiums_rules_destroy(r);
    premiums_rates_destroy(t);
}

Test(premiums, month_arithmetic)
{
    static const struct {
        const char *in, *first, *last;
    } m[] = {
        {"2024-02-14", "2024-02-01", "2024-02-29"}, {"2023-02-28", "2023-02-01", "2023-02-28"},
        {"2023-12-31", "2023-12-01", "2023-12-31"}, {"2024-01-01", "2024-01-01", "2024-01-31"},
        {"2100-02-10", "2100-02-01", "2100-02-28"}, {"2000-02-10", "2000-02-01", "2000-02-29"},
    };

    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        cr_assert_eq(premiums_month_first(day(m[i].in)), day(m[i].first), "first of %s", m[i].in);
        cr_assert_eq(premiums_month_last(day(m[i].in)), day(m[i].last), "last of %s", m[i].in);
    }
    cr_assert_eq(premiums_covered_days(day("2024-02-01"), day("2024-01-20"), day("2024-03-05")),
                 29, "all of a leap February");
    cr_assert_eq(premiums_covered_days(day("2024-02-01"), day("2024-03-01"), day("2024-03-05")),
                 0, "a term after the month");
    cr_assert_eq(premiums_covered_days(day("2024-03-31"), day("2024-03-31"), day("2024-04-30")),
                 1, "the month's last day");
}

Test(premiums, names_round_trip)
{
    for (int s = 0; s < PREMIUM_SCHEME__COUNT; s++)
        cr_assert_eq(premiums_scheme_parse(premiums_scheme_name((premium_scheme)s)), s, "scheme %d", s);
    for (int k = 0; k < PREMIUM_KIND__COUNT; k++)
        cr_assert_eq(premiums_kind_parse(premiums_kind_name((premium_kind)k)), k, "kind %d", k);
    cr_assert_null(premiums_scheme_name(PREMIUM_SCHEME__COUNT), "out of range");
    cr_assert_eq(premiums_scheme_parse("bpu"), -1, "names are upper case");
}

/* A minimal valid rates file, with extra rows appended after line 12. */
static const char rates_head[] =
    "version\teffective_from\tscheme\tprogram\trisk_class\tkind\tvalue\tsource\n"
    "V1\t2020-01-01\tBPU\tJKK\t-\tpct_of_wage\t100\ts\n"
    "V1\t2020-01-01\tBPU\tJKK\t-\tmin\t10000\ts\n"
    "V1\t2020-01-01\tBPU\tJKM\t-\tflat\t6800\ts\n"
    "V1\t2020-01-01\tBPU\tJHT\t-\tpct_of_wage\t200\ts\n"
    "V1\t2020-01-01\tPU\tJKK\t1\tpct_of_wage\t24\ts\n"
    "V1\t2020-01-01\tPU\tJKK\t2\tpct_of_wage\t54\ts\n"
    "V1\t2020-01-01\tPU\tJKK\t3\tpct_of_wage\t89\ts\n"
    "V1\t2020-01-01\tPU\tJKK\t4\tpct_of_wage\t127\ts\n"
    "V1\t2020-01-01\tPU\tJKK\t5\tpct_of_wage\t174\ts\n"
    "V1\t2020-01-01\tPU\tJKM\t-\tpct_of_wage\t30\ts\n"
    "# comment\n";

Test(premiums, rates_parser_rules)
{
    static const struct {
        const char *extra, *error;
    } cases[] = {
        {"", NULL},
        {"V1\t2020-01-01\tBPU\tJKK\t-\trelief_bp\t9900\ts\n", NULL},
        {"V1\t2020-01-01\tBPU\tJKK\t-\tpct_of_wage\t100\ts\n", "t.tsv:13: duplicate BPU JKK pct_of_wage"},
        {"V1\t2020-02-01\tBPU\tJKK\t-\trelief_bp\t1\ts\n", "t.tsv:13: version 'V1' takes effect on 2020-01-01"},
        {"V2\t2020-01-01\tBPU\tJKK\t-\trelief_bp\t1\ts\n", "t.tsv:13: versions 'V1' and 'V2' both take effect"},
        {"V1\t2020-01-01\tSELF\tJKK\t-\tmin\t1\ts\n", "t.tsv:13: scheme 'SELF' must be BPU or PU"},
        {"V1\t2020-01-01\tBPU\tJKP\t-\tmin\t1\ts\n", "t.tsv:13: program 'JKP' must be"},
        {"V1\t2020-01-01\tBPU\tJKK;JKM\t-\tmin\t1\ts\n", "t.tsv:13: program 'JKK;JKM' must be"},
        {"V1\t2020-01-01\tBPU\tJKK\t2\trelief_bp\t1\ts\n", "t.tsv:13: a risk class is for PU JKK only"},
        {"V1\t2020-01-01\tPU\tJKK\t6\trelief_bp\t1\ts\n", "t.tsv:13: risk_class '6' must be 1-5"},
        {"V1\t2020-01-01\tPU\tJKK\t-\tflat\t1\ts\n", "t.tsv:13: a PU JKK flat row needs a risk class"},
        {"V1\t2020-01-01\tBPU\tJKK\t-\tdiscount\t1\ts\n", "t.tsv:13: kind 'discount' must be"},
        {"V1\t2020-01-01\tBPU\tJKK\t-\trelief_bp\t10001\ts\n", "t.tsv:13: relief_bp 10001 is more than"},
        {"V1\t2020-01-01\tBPU\tJKK\t-\trelief_bp\t1.5\ts\n", "t.tsv:13: value '1.5' must be"},
        {"V1\t2020-01-01\tBPU\tJKK\t-\trelief_bp\t-1\ts\n", "t.tsv:13: value '-1' must be"},
        {"V1\t2020-01-01\tBPU\tJKK\t-\trelief_bp\t1\t\n", "t.tsv:13: source must be"},
        {"V1\t2020-01-01\tBPU\tJKK\t-\trelief_bp\t1\n", "t.tsv:13: expected 8 tab-separated fields"},
        {"V1\t2020-01-01\tBPU\tJKM\t-\tpct_of_wage\t30\ts\n", "t.tsv:2: version 'V1' states both pct_of_wage and flat for BPU JKM"},
        {"V1\t2020-01-01\tPU\tJKM\t-\tmin\t1000\ts\n", NULL},
        {"V1\t2020-01-01\tBPU\tJKM\t-\tmin\t1000\ts\n", "t.tsv:13: a min needs a pct_of_wage of BPU JKM"},
        {"V 1\t2020-01-01\tBPU\tJKK\t-\trelief_bp\t1\ts\n", "t.tsv:13: version 'V 1' must be"},
        {"V1\t2020-13-01\tBPU\tJKK\t-\trelief_bp\t1\ts\n", "t.tsv:13: effective_from '2020-13-01'"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048], err[256] = "";
        premium_rates *t;
        snprintf(text, sizeof text, "%s%s", rates_head, cases[i].extra);
        t = premiums_rates_parse(text, "t.tsv", err, sizeof err);
        if (!cases[i].error) {
            cr_assert_not_null(t, "case %zu: refused: %s", i, err);
        } else {
            cr_assert_null(t, "case %zu: accepted, expected '%s'", i, cases[i].error);
            cr_assert_not_null(strstr(err, cases[i].error), "case %zu: error '%s', expected '%s'",
                               i, err, cases[i].error);
        }
        premiums_rates_destroy(t);
    }
}

Test(premiums, rates_file_level_rules)
{
    char err[256] = "";
    /* A version without a JHT rate for BPU. */
    char text[2048];
    const char *cut = strstr(rates_head, "V1\t2020-01-01\tBPU\tJHT");
    size_t keep = (size_t)(cut - rates_head);
    premium_rates *t;

    snprintf(text, sizeof text, "%.*s%s", (int)keep, rates_head, strchr(cut, '\n') + 1);
    t = premiums_rates_parse(text, "t.tsv", err, sizeof err);
    cr_assert_null(t, "a version without BPU JHT was accepted");
    cr_assert_not_null(strstr(err, "t.tsv:2: version 'V1' states no rate (pct_of_wage or flat) for BPU JHT"),
                       "error: %s", err);
    cr_assert_null(premiums_rates_parse("# only a comment\n", "t.tsv", err, sizeof err), "empty");
    cr_assert_str_eq(err, "t.tsv: no header row", "error: %s", err);
    cr_assert_null(premiums_rates_parse("version\tkey\n", "t.tsv", err, sizeof err), "bad header");
    cr_assert_not_null(strstr(err, "t.tsv:1: expected the header row 'version<TAB>effective_from"),
                       "error: %s", err);
    cr_assert_null(premiums_rates_load("data/no-such-file.tsv", err, sizeof err), "missing file");
    cr_assert_not_null(strstr(err, "data/no-such-file.tsv: unable to open"), "error: %s", err);
}

Test(premiums, rules_parser_rules)
{
    static const char head[] = "version\teffective_from\tscheme\trule\tvalue\tsource\n"
                               "R1\t2020-01-01\tBPU\tmonth_owed_min_covered_days\t1\ts\n"
                               "R1\t2020-01-01\tBPU\tlapse_after_unpaid_months\t3\ts\n"
                               "R1\t2020-01-01\tBPU\tarrears_payable_months\t3\ts\n";
    static const struct {
        const char *extra, *error;
    } cases[] = {
        {"R1\t2020-01-01\tPU\tmonth_owed_min_covered_days\t1\ts\n", NULL},
        {"", "t.tsv:2: version 'R1' lacks PU month_owed_min_covered_days"},
        {"R1\t2020-01-01\tPU\tmonth_owed_min_covered_days\t29\ts\n", "t.tsv:5: month_owed_min_covered_days 29 must be 1-28"},
        {"R1\t2020-01-01\tPU\tmonth_owed_min_covered_days\t0\ts\n", "t.tsv:5: month_owed_min_covered_days 0 must be 1-28"},
        {"R1\t2020-01-01\tPU\tmonth_prorate_by_days\t1\ts\n", "t.tsv:5: unknown rule 'month_prorate_by_days'"},
        {"R1\t2020-01-01\tBPU\tlapse_after_unpaid_months\t3\ts\n", "t.tsv:5: duplicate BPU lapse_after_unpaid_months"},
        {"R1\t2020-01-01\tPU\tmonth_owed_min_covered_days\t1\ts\n"
         "R2\t2021-01-01\tBPU\tmonth_owed_min_covered_days\t1\ts\n", "t.tsv:6: version 'R2' lacks BPU lapse_after_unpaid_months"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024], err[256] = "";
        billing_rules *r;
        snprintf(text, sizeof text, "%s%s", head, cases[i].extra);
        r = premiums_rules_parse(text, "t.tsv", err, sizeof err);
        if (!cases[i].error) {
            cr_assert_not_null(r, "case %zu: refused: %s", i, err);
        } else {
            cr_assert_null(r, "case %zu: accepted, expected '%s'", i, cases[i].error);
            cr_assert_not_null(strstr(err, cases[i].error), "case %zu: error '%s', expected '%s'",
                               i, err, cases[i].error);
        }
        premiums_rules_destroy(r);
    }
}

Test(premiums, month_amount_refuses_bad_input)
{
    premium_rates *t = deployed_rates();
    long long amount = 0;
    char err[256] = "";

    cr_assert_eq(premiums_month_amount(t, day("2024-01-01"), PREMIUM_BPU, PROG_JKK, 0, -1,
                                       &amount, NULL, err, sizeof err), -1, "negative wage");
    cr_assert_not_null(strstr(err, "wage -1 is out of range"), "error: %s", err);
    cr_assert_eq(premiums_month_amount(t, day("2024-01-01"), PREMIUM_SCHEME_NONE, PROG_JKK, 0, 1,
                                       &amount, NULL, err, sizeof err), -1, "no scheme");
    cr_assert_eq(premiums_month_amount(t, day("2024-01-01"), PREMIUM_BPU, PROG_JKK | PROG_JKM, 0,
                                       1, &amount, NULL, err, sizeof err), -1, "two programs");
    /* BPU ignores a risk class. */
    cr_assert_eq(premiums_month_amount(t, day("2024-01-01"), PREMIUM_BPU, PROG_JKK, 4, 1000000,
                                       &amount, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(amount, 10000, "BPU JKK %lld", amount);
    premiums_rates_destroy(t);
}
