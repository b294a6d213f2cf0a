/* Unit tests of common/lagwin: every row of data/lag_scenarios.tsv as its own test, then
 * the group roll-up, the PostgreSQL disagreement check, parameter and sample validation,
 * the ring's eviction and the names. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwin.h"
#include "support/datafile.h"

#define SCENARIOS "data/lag_scenarios.tsv"
#define MAX_SCENARIOS 200
#define MAX_SAMPLES 64
#define NCOLS 10

enum { C_NAME, C_PARAMS, C_SAMPLES, C_NOW, C_OLDEST, C_STATUS, C_LAG, C_LAG_S, C_METHOD,
       C_NCOMMITS };

/* Seconds (decimals allowed) to milliseconds; -1 on a malformed number. */
static int parse_ms(const char *s, int64_t *ms)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0')
        return -1;
    *ms = llround(v * 1000.0);
    return 0;
}

static int parse_int(const char *s, int64_t *v)
{
    char *end;

    *v = strtoll(s, &end, 10);
    return end == s || *end != '\0' ? -1 : 0;
}

/* "-" or a comma list of key=value into *p; -1 on an unknown key or bad value. */
static int parse_params(const char *spec, lagwin_params *p)
{
    char buf[256], *item[8], *eq;
    int n;
    int64_t v;

    *p = lagwin_params_default();
    if (strcmp(spec, "-") == 0)
        return 0;
    snprintf(buf, sizeof buf, "%s", spec);
    n = datafile_split(buf, ',', item, 8);
    for (int i = 0; i < n && i < 8; i++) {
        eq = strchr(item[i], '=');
        if (!eq)
            return -1;
        *eq++ = '\0';
        if (strcmp(item[i], "min_complete") == 0)
            p->min_complete = atof(eq);
        else if (strcmp(item[i], "min_distance") == 0 && parse_ms(eq, &v) == 0)
            p->min_distance_ms = v;
        else if (strcmp(item[i], "stop_floor") == 0 && parse_ms(eq, &v) == 0)
            p->stop_floor_ms = v;
        else if (strcmp(item[i], "intervals") == 0 && parse_int(eq, &v) == 0)
            p->intervals = (int)v;
        else if (strcmp(item[i], "lookup") == 0 && parse_int(eq, &v) == 0)
            p->lookup_size = (int)v;
        else
            return -1;
    }
    return n <= 8 ? 0 : -1;
}

/* One TIME:OFFSET:WATERMARK[:COMMIT_TIME] sample; -1 when malformed. */
static int parse_sample(char *spec, lagwin_sample *s)
{
    char *part[5];
    int n = datafile_split(spec, ':', part, 5);

    if (n < 3 || n > 4 || parse_ms(part[0], &s->time_ms) < 0 ||
        parse_int(part[2], &s->high_watermark) < 0)
        return -1;
    s->offset = LAGWIN_OFFSET_NONE;
    if (strcmp(part[1], "-") != 0 && parse_int(part[1], &s->offset) < 0)
        return -1;
    s->commit_ms = LAGWIN_TIME_NONE;
    return n == 4 ? parse_ms(part[3], &s->commit_ms) : 0;
}

/* Feed the scenario's samples into w; asserts on malformed or refused samples. */
static void feed(lagwin *w, char *samples, int line, const char *name)
{
    char *spec[MAX_SAMPLES], err[256] = "";
    int n = datafile_split(samples, ' ', spec, MAX_SAMPLES);

    cr_assert_leq(n, MAX_SAMPLES, SCENARIOS ":%d %s: more than %d samples", line, name,
                  MAX_SAMPLES);
    for (int i = 0; i < n; i++) {
        lagwin_sample s;
        char copy[128];

        snprintf(copy, sizeof copy, "%s", spec[i]);
        cr_assert_eq(parse_sample(spec[i], &s), 0, SCENARIOS ":%d %s: bad sample '%s'", line,
                     name, copy);
        cr_assert_eq(lagwin_add(w, &s, err, sizeof err), 0,
                     SCENARIOS ":%d %s: sample '%s' refused: %s", line, name, copy, err);
    }
}

ParameterizedTestParameters(lagwin, scenario)
{
    return datafile_row_params(SCENARIOS, MAX_SCENARIOS);
}

ParameterizedTest(datafile_row *s, lagwin, scenario)
{
    char text[sizeof s->text], *f[NCOLS + 1], err[256] = "";
    lagwin_params p;
    lagwin_result r;
    lagwin *w;
    int64_t now, oldest = LAGWIN_TIME_NONE, lag, ncommits;
    const char *name;

    snprintf(text, sizeof text, "%s", s->text);
    cr_assert_eq(datafile_split(text, '\t', f, NCOLS + 1), NCOLS,
                 SCENARIOS ":%d: expected %d columns", s->line, NCOLS);
    name = f[C_NAME];
    cr_assert_eq(parse_params(f[C_PARAMS], &p), 0, SCENARIOS ":%d %s: bad params '%s'",
                 s->line, name, f[C_PARAMS]);
    cr_assert(parse_ms(f[C_NOW], &now) == 0 && parse_int(f[C_LAG], &lag) == 0 &&
                  parse_int(f[C_NCOMMITS], &ncommits) == 0 &&
                  (strcmp(f[C_OLDEST], "-") == 0 || parse_ms(f[C_OLDEST], &oldest) == 0),
              SCENARIOS ":%d %s: bad now, oldest_ts, lag or ncommits", s->line, name);
    w = lagwin_new(&p, err, sizeof err);
    cr_assert_not_null(w, SCENARIOS ":%d %s: window refused: %s", s->line, name, err);
    feed(w, f[C_SAMPLES], s->line, name);
    lagwin_eval(w, now, oldest, &r);
    lagwin_destroy(w);

    cr_assert_str_eq(lagwin_status_name(r.status), f[C_STATUS],
                     SCENARIOS ":%d %s: status %s, expected %s", s->line, name,
                     lagwin_status_name(r.status), f[C_STATUS]);
    cr_assert_eq(r.lag, lag, SCENARIOS ":%d %s: lag %lld, expected %lld", s->line, name,
                 (long long)r.lag, (long long)lag);
    cr_assert_eq(r.ncommits, ncommits, SCENARIOS ":%d %s: %d commits, expected %lld",
                 s->line, name, r.ncommits, (long long)ncommits);
    cr_assert_str_eq(lagwin_seconds_method_name(r.seconds_method), f[C_METHOD],
                     SCENARIOS ":%d %s: lag seconds by %s, expected %s", s->line, name,
                     lagwin_seconds_method_name(r.seconds_method), f[C_METHOD]);
    if (strcmp(f[C_LAG_S], "nan") == 0)
        cr_assert(isnan(r.lag_seconds), SCENARIOS ":%d %s: lag seconds %f, expected nan",
                  s->line, name, r.lag_seconds);
    else
        cr_assert(fabs(r.lag_seconds - atof(f[C_LAG_S])) < 1e-6,
                  SCENARIOS ":%d %s: lag seconds %.9f, expected %s", s->line, name,
                  r.lag_seconds, f[C_LAG_S]);
}

Test(lagwin, scenario_table_is_complete)
{
    size_t n = datafile_count_rows(SCENARIOS);

    cr_assert_geq(n, 30, SCENARIOS ": %zu scenarios, expected at least 30", n);
    cr_assert_lt(n, MAX_SCENARIOS, SCENARIOS ": more than %d scenarios; raise MAX_SCENARIOS",
                 MAX_SCENARIOS);
}

static lagwin_result part(int status, int64_t lag, double lag_seconds, double complete)
{
    lagwin_result r = {0};

    r.status = status;
    r.lag = lag;
    r.lag_seconds = lag_seconds;
    r.complete = complete;
    return r;
}

typedef struct group_case {
    const char *statuses; /* comma list of partition statuses, "" for none */
    const char *expect;   /* group status */
} group_case;

Test(lagwin, group_status_is_the_worst_capped_at_err)
{
    static const group_case cases[] = {
        {"", "OK"},           {"OK,OK", "OK"},          {"OK,WARN,OK", "WARN"},
        {"WARN,STOP", "ERR"}, {"STALL,OK", "ERR"},      {"OK,REWIND,WARN", "ERR"},
        {"NOTFOUND", "OK"},   {"NOTFOUND,WARN", "WARN"},
    };

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lagwin_result parts[8];
        char buf[64], *name[8];
        int n = 0;
        lagwin_group g;

        snprintf(buf, sizeof buf, "%s", cases[c].statuses);
        if (buf[0])
            n = datafile_split(buf, ',', name, 8);
        for (int i = 0; i < n; i++)
            parts[i] = part(lagwin_status_parse(name[i]), 0, 0.0, 1.0);
        lagwin_group_eval(parts, n, &g);
        cr_assert_str_eq(lagwin_status_name(g.status), cases[c].expect,
                         "partitions '%s': group %s, expected %s", cases[c].statuses,
                         lagwin_status_name(g.status), cases[c].expect);
    }
}

Test(lagwin, group_sums_lag_and_finds_the_maxima)
{
    lagwin_result parts[4] = {
        part(LAGWIN_OK, 10, 2.5, 1.0), part(LAGWIN_STALL, 40, NAN, 1.0),
        part(LAGWIN_WARN, -1, NAN, 0.5), part(LAGWIN_OK, 40, 9.0, 0.2),
    };
    lagwin_group g;

    lagwin_group_eval(parts, 4, &g);
    cr_assert_eq(g.status, LAGWIN_ERR, "status %d", g.status);
    cr_assert_eq(g.worst, LAGWIN_STALL, "worst %d", g.worst);
    cr_assert_eq(g.total_lag, 90, "total lag %lld skips the unknown one", (long long)g.total_lag);
    cr_assert_eq(g.max_lag_index, 1, "the first of the largest lags, got %d", g.max_lag_index);
    cr_assert_float_eq(g.max_lag_seconds, 9.0, 1e-9, "max lag seconds %f", g.max_lag_seconds);
    cr_assert_float_eq(g.complete, 0.5, 1e-9, "two of four windows full: %f", g.complete);
    lagwin_group_eval(parts, 0, &g);
    cr_assert(g.status == LAGWIN_OK && g.max_lag_index == -1 && isnan(g.max_lag_seconds) &&
                  g.complete == 0.0 && g.total_lag == 0,
              "an empty group: status %d index %d", g.status, g.max_lag_index);
}

Test(lagwin, kafka_and_postgresql_disagree_beyond_a_batch)
{
    cr_assert_eq(lagwin_offsets_disagree(1000, 1000, 0), 0, "equal offsets");
    cr_assert_eq(lagwin_offsets_disagree(1500, 1000, 500), 0, "exactly a batch apart");
    cr_assert_eq(lagwin_offsets_disagree(1501, 1000, 500), 1, "Kafka ahead by more");
    cr_assert_eq(lagwin_offsets_disagree(1000, 1501, 500), 1, "PostgreSQL ahead by more");
    cr_assert_eq(lagwin_offsets_disagree(LAGWIN_OFFSET_NONE, 5000, 10), 0, "Kafka unknown");
    cr_assert_eq(lagwin_offsets_disagree(5000, LAGWIN_OFFSET_NONE, 10), 0, "PG unknown");
}

Test(lagwin, params_out_of_range_are_refused)
{
    static const struct {
        lagwin_params p;
        const char *expect;
    } cases[] = {
        {{0, 60, 0, 0, 0.0}, "intervals 0 is not in 1..100000"},
        {{10, 1, 0, 0, 0.0}, "lookup_size 1 is not in 2..100000"},
        {{10, 60, -1, 0, 0.0}, "min_distance_ms -1 or stop_floor_ms 0 is negative"},
        {{10, 60, 0, 0, 1.5}, "min_complete 1.5 is not in 0..1"},
        {{10, 60, 0, 0, NAN}, "min_complete nan is not in 0..1"},
    };
    char err[256];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        cr_assert_null(lagwin_new(&cases[i].p, err, sizeof err), "case %zu accepted", i);
        cr_assert_str_eq(err, cases[i].expect, "case %zu: %s", i, err);
    }
    lagwin_destroy(NULL);
}

Test(lagwin, bad_samples_leave_the_window_unchanged)
{
    lagwin_params p = lagwin_params_default();
    lagwin *w = lagwin_new(&p, NULL, 0);
    lagwin_sample ok = {1000, 5, 10, LAGWIN_TIME_NONE};
    lagwin_sample same_time = {1000, 6, 11, LAGWIN_TIME_NONE};
    lagwin_sample negative = {2000, 6, -1, LAGWIN_TIME_NONE};
    lagwin_sample below = {2000, -2, 11, LAGWIN_TIME_NONE};
    lagwin_result r;
    char err[256] = "";

    cr_assert_not_null(w, "default params refused");
    cr_assert_eq(lagwin_add(w, &ok, err, sizeof err), 0, "first sample: %s", err);
    cr_assert_eq(lagwin_add(w, &same_time, err, sizeof err), -1, "a sample at the same time");
    cr_assert_str_eq(err, "sample at 1000 ms is not after the previous one at 1000 ms", "%s",
                     err);
    cr_assert_eq(lagwin_add(w, &negative, err, sizeof err), -1, "a negative watermark");
    cr_assert_str_eq(err, "high watermark -1 is negative", "%s", err);
    cr_assert_eq(lagwin_add(w, &below, err, sizeof err), -1, "an offset below -1");
    cr_assert_str_eq(err, "committed offset -2 is below -1", "%s", err);
    lagwin_eval(w, 1500, LAGWIN_TIME_NONE, &r);
    cr_assert(r.offset == 5 && r.high_watermark == 10 && r.lag == 5 && r.ncommits == 1,
              "window changed: offset %lld watermark %lld", (long long)r.offset,
              (long long)r.high_watermark);
    lagwin_destroy(w);
}

Test(lagwin, ring_keeps_the_newest_commits_in_order)
{
    lagwin_params p = lagwin_params_default();
    lagwin_commit c[8];
    lagwin_result r;
    lagwin *w;
    int n;

    p.intervals = 3;
    w = lagwin_new(&p, NULL, 0);
    cr_assert_not_null(w, "params refused");
    for (int i = 1; i <= 7; i++) {
        lagwin_sample s = {i * 1000, i * 10, i * 10 + i, LAGWIN_TIME_NONE};
        cr_assert_eq(lagwin_add(w, &s, NULL, 0), 0, "sample %d refused", i);
    }
    n = lagwin_commits(w, c, 8);
    cr_assert_eq(n, 3, "%d commits held", n);
    for (int i = 0; i < 3; i++)
        cr_assert(c[i].offset == (5 + i) * 10 && c[i].time_ms == (5 + i) * 1000 &&
                      c[i].lag == 5 + i,
                  "commit %d: offset %lld at %lld lag %lld", i, (long long)c[i].offset,
                  (long long)c[i].time_ms, (long long)c[i].lag);
    cr_assert_eq(lagwin_commits(w, c, 2), 2, "copy limited by max");
    lagwin_eval(w, 7000, LAGWIN_TIME_NONE, &r);
    cr_assert(r.start.offset == 50 && r.end.offset == 70 && r.complete == 1.0,
              "start %lld end %lld complete %f", (long long)r.start.offset,
              (long long)r.end.offset, r.complete);
    lagwin_destroy(w);
}

Test(lagwin, lag_seconds_never_negative)
{
    lagwin_params p = lagwin_params_default();
    lagwin *w = lagwin_new(&p, NULL, 0);
    lagwin_sample a = {10000, 100, 100, LAGWIN_TIME_NONE};
    lagwin_sample b = {20000, 100, 200, LAGWIN_TIME_NONE};
    lagwin_result r;

    cr_assert(lagwin_add(w, &a, NULL, 0) == 0 && lagwin_add(w, &b, NULL, 0) == 0, "samples");
    lagwin_eval(w, 5000, LAGWIN_TIME_NONE, &r);
    cr_assert(r.seconds_method == LAGWIN_SECONDS_INTERPOLATED && r.lag_seconds == 0.0,
              "evaluated before the watermark reached the offset: %f by %s", r.lag_seconds,
              lagwin_seconds_method_name(r.seconds_method));
    lagwin_eval(w, 5000, 9000, &r);
    cr_assert(r.seconds_method == LAGWIN_SECONDS_MESSAGE_AGE && r.lag_seconds == 0.0,
              "a message from the future: %f", r.lag_seconds);
    lagwin_destroy(w);
}

Test(lagwin, names_round_trip)
{
    for (int i = 0; i < LAGWIN_STATUS__COUNT; i++)
        cr_assert_eq(lagwin_status_parse(lagwin_status_name(i)), i, "status %d", i);
    for (int i = 0; i < LAGWIN_SECONDS__COUNT; i++)
        cr_assert_eq(lagwin_seconds_method_parse(lagwin_seconds_method_name(i)), i,
                     "method %d", i);
    cr_assert_null(lagwin_status_name(LAGWIN_STATUS__COUNT), "a status past the end");
    cr_assert_null(lagwin_status_name(-1), "status -1");
    cr_assert_null(lagwin_seconds_method_name(LAGWIN_SECONDS__COUNT), "a method past the end");
    cr_assert_eq(lagwin_status_parse("ERROR"), -1, "Burrow spells it ERR");
    cr_assert_eq(lagwin_seconds_method_parse("bogus"), -1, "unknown method");
    cr_assert_str_eq(lagwin_status_name(LAGWIN_REWIND), "REWIND", "Burrow's value 6");
    cr_assert_eq(LAGWIN_REWIND, 6, "Burrow's numbering");
}
