/* Unit tests of common/svgchart: well-formedness (a tag-balance check here, and xmllint
 * when installed), the polylines and their points, runs broken by gaps and the window,
 * the time and value axes' labels, the legend, escaping, and the refused specs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "svgchart.h"

#define MIN_MS INT64_C(60000)
#define END_MS INT64_C(1707890400000) /* 2024-02-14T06:00:00Z, 13:00 WIB */
#define WIB (7 * 60)

static char *render(const svgchart_spec *spec, const svgchart_series *s, size_t n)
{
    char err[256] = "";
    size_t len = 0;
    char *svg = svgchart_render(spec, s, n, &len, err, sizeof err);

    cr_assert_not_null(svg, "svgchart_render: %s", err);
    cr_assert_eq(len, strlen(svg), "length %zu", len);
    return svg;
}

static int count(const char *s, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The point counts of the polylines of svg, in order, into out; returns how many. */
static int polyline_points(const char *svg, int *out, int max)
{
    int n = 0;

    for (const char *p = strstr(svg, "<polyline"); p && n < max; p = strstr(p + 1, "<polyline")) {
        const char *q = strstr(p, "points=\"") + 8;
        int pts = 1;
        for (; *q != '"'; q++)
            pts += *q == ' ';
        out[n++] = pts;
    }
    return n;
}

/* Whether the element nests properly: every <name> closed by </name> in order, entities
 * only the five of XML. A check that does not need xmllint. */
static int balanced(const char *s)
{
    const char *stack[64];
    int depth = 0;

    for (; *s; s++) {
        if (*s == '&' && strncmp(s, "&amp;", 5) && strncmp(s, "&lt;", 4) &&
            strncmp(s, "&gt;", 4) && strncmp(s, "&quot;", 6) && strncmp(s, "&apos;", 6))
            return 0;
        if (*s != '<')
            continue;
        if (s[1] == '/') {
            size_t n = strcspn(s + 2, ">");
            if (depth == 0 || strncmp(stack[depth - 1], s + 2, n) != 0 ||
                strcspn(stack[depth - 1], " >/") != n)
                return 0;
            depth--;
        } else {
            const char *end = strchr(s, '>');
            if (!end || depth == 64)
                return 0;
            if (end[-1] != '/')
                stack[depth++] = s + 1;
        }
    }
    return depth == 0;
}

/* Exit status of "xmllint --noout" on svg; -1 when xmllint is not installed. */
static int xmllint(const char *svg)
{
    char path[] = "/tmp/test_svgchart.XXXXXX", cmd[128];
    int fd, rc;
    FILE *f;

    if (system("command -v xmllint >/dev/null 2>&1") != 0)
        return -1;
    fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp");
    f = fdopen(fd, "w");
    fputs(svg, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "xmllint --noout %s >/dev/null 2>&1", path);
    rc = system(cmd);
    unlink(path);
    return WEXITSTATUS(rc);
}

static void assert_well_formed(const char *svg, const char *what)
{
    int rc = xmllint(svg);

    cr_assert(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0,
              "%s: does not start with the svg element", what);
    cr_assert(strlen(svg) > 7 && strcmp(svg + strlen(svg) - 7, "</svg>\n") == 0,
              "%s: does not end with </svg>", what);
    cr_assert(balanced(svg), "%s: tags do not balance:\n%s", what, svg);
    cr_assert(rc == 0 || rc == -1, "%s: xmllint exits %d:\n%s", what, rc, svg);
}

/* An hour of one point a minute ending at END_MS: a rising line and a saw with a gap. */
static void hour_series(svgchart_point *rise, svgchart_point *saw)
{
    for (int i = 0; i <= 60; i++) {
        int64_t t = END_MS - (60 - i) * MIN_MS;
        rise[i] = (svgchart_point){t, 1000 + 40.0 * i};
        saw[i] = (svgchart_point){t, i == 30 ? NAN : 500.0 * (i % 7)};
    }
}

Test(svgchart, hour_chart_has_its_lines_axes_and_legend)
{
    svgchart_point rise[61], saw[61];
    svgchart_series s[] = {{"incident <&> \"grp\"", rise, 61},
                           {"roster-consumer-with-a-very-long-name", saw, 61}};
    svgchart_spec spec = {0, 0, END_MS, 0, WIB, "Lag, last hour (WIB)", "lag (events)"};
    static const char *const x_labels[] = {">12:00<", ">12:10<", ">12:20<", ">12:30<",
                                           ">12:40<", ">12:50<", ">13:00<"};
    static const char *const y_labels[] = {">0<", ">1k<", ">2k<", ">3k<", ">4k<"};
    int pts[8], n;
    char *svg;

    hour_series(rise, saw);
    svg = render(&spec, s, 2);
    assert_well_formed(svg, "hour chart");
    n = polyline_points(svg, pts, 8);
    cr_assert_eq(n, 3, "polylines: %d (one line, a line broken by a gap)", n);
    cr_assert(pts[0] == 61 && pts[1] == 30 && pts[2] == 30, "points %d %d %d", pts[0],
              pts[1], pts[2]);
    cr_assert_eq(count(svg, "<circle"), 0, "no isolated point");
    cr_assert_eq(count(svg, "<g class=\"series\""), 2, "two series");
    for (size_t i = 0; i < sizeof x_labels / sizeof x_labels[0]; i++)
        cr_assert_not_null(strstr(svg, x_labels[i]), "x label %s", x_labels[i]);
    cr_assert_eq(count(svg, "text-anchor=\"middle\">"), 8, "7 time labels + the y caption");
    for (size_t i = 0; i < sizeof y_labels / sizeof y_labels[0]; i++)
        cr_assert_not_null(strstr(svg, y_labels[i]), "y label %s", y_labels[i]);
    cr_assert_null(strstr(svg, ">5k<"), "the y axis stops at 4k");
    cr_assert_not_null(strstr(svg, "<title>Lag, last hour (WIB)</title>"), "chart title");
    cr_assert_not_null(strstr(svg, ">lag (events)</text>"), "y caption");
    cr_assert_not_null(strstr(svg, "<title>incident &lt;&amp;&gt; &quot;grp&quot;</title>"),
                       "series title escaped");
    cr_assert_not_null(strstr(svg, ">roster-consumer-with-a-v\xe2\x80\xa6</text>"),
                       "long legend name cut after 24 characters");
    cr_assert_not_null(strstr(svg, "<title>roster-consumer-with-a-very-long-name</title>"),
                       "full name in the tooltip");
    free(svg);
}

Test(svgchart, points_scale_to_the_plot)
{
    svgchart_point p[] = {{END_MS - 60 * MIN_MS, 0}, {END_MS, 100}};
    svgchart_series s = {"g", p, 2};
    svgchart_spec spec = {640, 240, END_MS, 0, 0, NULL, NULL};
    char *svg = render(&spec, &s, 1);

    /* plot x 52..626, y 12 (100) to 194 (0) with one legend row */
    cr_assert_not_null(strstr(svg, "points=\"52.0,194.0 626.0,12.0\""), "corners:\n%s", svg);
    cr_assert_not_null(strstr(svg, ">100<"), "y top label 100");
    cr_assert_not_null(strstr(svg, ">20<"), "y step 20");
    free(svg);
}

Test(svgchart, window_and_gaps_break_runs)
{
    svgchart_point p[] = {
        {END_MS - 90 * MIN_MS, 5}, {END_MS - 60 * MIN_MS, 5}, {END_MS - 50 * MIN_MS, 6},
        {END_MS - 40 * MIN_MS, NAN}, {END_MS - 30 * MIN_MS, 7}, {END_MS - 20 * MIN_MS, INFINITY},
        {END_MS - 10 * MIN_MS, 8}, {END_MS, 9}, {END_MS + MIN_MS, 1e9},
    };
    svgchart_series s = {"g", p, sizeof p / sizeof p[0]};
    svgchart_spec spec = {0, 0, END_MS, 0, WIB, NULL, NULL};
    int pts[8], n;
    char *svg = render(&spec, &s, 1);

    assert_well_formed(svg, "gaps");
    n = polyline_points(svg, pts, 8);
    cr_assert(n == 2 && pts[0] == 2 && pts[1] == 2, "runs: %d (%d, %d)", n, pts[0], pts[1]);
    cr_assert_eq(count(svg, "<circle"), 1, "the point between two gaps");
    cr_assert_not_null(strstr(svg, ">10<"), "y axis scaled to 9, not to points outside: %s",
                       svg);
    free(svg);
}

Test(svgchart, time_ticks_fall_on_the_local_clock)
{
    svgchart_spec spec = {0, 0, END_MS + 7 * MIN_MS + 30000, 0, WIB, NULL, NULL};
    char *svg = render(&spec, NULL, 0);

    cr_assert_null(strstr(svg, ">12:00<"), "12:00 is before the window");
    cr_assert_not_null(strstr(svg, ">12:10<"), "first whole ten minutes");
    cr_assert_not_null(strstr(svg, ">13:00<"), "last whole ten minutes");
    cr_assert_eq(count(svg, "text-anchor=\"middle\">"), 6, "six ticks");
    free(svg);
    spec = (svgchart_spec){0, 0, END_MS - 3 * 60 * MIN_MS, 6 * 60 * MIN_MS, -300, NULL, NULL};
    svg = render(&spec, NULL, 0);
    cr_assert_not_null(strstr(svg, ">16:00<"), "six hours in UTC-5 start at 16:00");
    cr_assert_not_null(strstr(svg, ">22:00<"), "and end at 22:00");
    cr_assert_eq(count(svg, "text-anchor=\"middle\">"), 7, "hourly ticks");
    free(svg);
}

Test(svgchart, empty_chart_is_well_formed)
{
    svgchart_spec spec = {0, 0, END_MS, 0, WIB, NULL, NULL};
    svgchart_series s = {"idle", NULL, 0};
    char *svg = render(&spec, NULL, 0);

    assert_well_formed(svg, "no series");
    cr_assert_not_null(strstr(svg, "<title>lag over time</title>"), "default title");
    cr_assert(strstr(svg, ">0<") && strstr(svg, ">1<"), "a 0..1 axis without values");
    cr_assert_eq(count(svg, "<polyline"), 0, "no line");
    free(svg);
    svg = render(&spec, &s, 1);
    assert_well_formed(svg, "a series without points");
    cr_assert_not_null(strstr(svg, ">idle</text>"), "its legend entry");
    free(svg);
}

Test(svgchart, any_text_stays_well_formed)
{
    svgchart_point p[] = {{END_MS, 1}};
    svgchart_series s[] = {{"bad\xff utf8 \xc0\xaf", p, 1}, {"ctl\x01\x1f tab\t ]]> 'q'", p, 1}};
    svgchart_spec spec = {0, 0, END_MS, 0, WIB, "</svg><script>x()</script>", "a&b"};
    char *svg = render(&spec, s, 2);

    assert_well_formed(svg, "hostile text");
    cr_assert_null(strstr(svg, "<script"), "markup in the title escaped");
    cr_assert_not_null(strstr(svg, "<title>bad\xef\xbf\xbd utf8 \xef\xbf\xbd\xef\xbf\xbd</title>"),
                       "invalid bytes replaced");
    cr_assert_not_null(strstr(svg, "ctl\xef\xbf\xbd\xef\xbf\xbd tab\t ]]&gt; &apos;q&apos;"),
                       "control characters replaced, quotes escaped");
    cr_assert_not_null(strstr(svg, ">a&amp;b</text>"), "caption escaped");
    free(svg);
}

typedef struct bad_spec {
    svgchart_spec spec;
    int nseries;              /* how many of the series below to pass */
    const char *expect;
} bad_spec;

Test(svgchart, out_of_range_input_is_refused)
{
    static const svgchart_point back[] = {{END_MS, 1}, {END_MS + 1, 2}, {END_MS, 3}};
    svgchart_series many[20];
    static const bad_spec cases[] = {
        {{100, 0, END_MS, 0, 0, NULL, NULL}, 0, "width 100 is not in 200..4000"},
        {{0, 5000, END_MS, 0, 0, NULL, NULL}, 0, "height 5000 is not in 120..4000"},
        {{0, 0, END_MS, -1, 0, NULL, NULL}, 0, "span -1 ms is not in 0..31 days"},
        {{0, 0, END_MS, 0, 1200, NULL, NULL}, 0, "UTC offset 1200 minutes is beyond 18 hours"},
        {{0, 120, END_MS, 0, 0, NULL, NULL}, 20, "a legend of 20 series leaves no room at "
                                                 "height 120"},
    };
    svgchart_series named[] = {{"ok", back, 2}, {"back", back, 3}};
    svgchart_series unnamed = {NULL, back, 1}, no_array = {"x", NULL, 3};
    svgchart_spec ok = {0, 0, END_MS, 0, 0, NULL, NULL};
    char err[256];

    for (size_t i = 0; i < 20; i++)
        many[i] = (svgchart_series){"s", back, 1};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        cr_assert_null(svgchart_render(&cases[i].spec, many, (size_t)cases[i].nseries, NULL,
                                       err, sizeof err), "case %zu rendered", i);
        cr_assert_str_eq(err, cases[i].expect, "case %zu: %s", i, err);
    }
    cr_assert_null(svgchart_render(&ok, named, 2, NULL, err, sizeof err), "time going back");
    cr_assert_str_eq(err, "series 1: point 2 goes back in time", "%s", err);
    cr_assert_null(svgchart_render(&ok, &unnamed, 1, NULL, err, sizeof err), "no name");
    cr_assert_str_eq(err, "series 0 has no name", "%s", err);
    cr_assert_null(svgchart_render(&ok, &no_array, 1, NULL, err, sizeof err), "no array");
    cr_assert_str_eq(err, "series 0 has 3 points but no array", "%s", err);
}

Test(svgchart, the_checks_catch_broken_markup)
{
    cr_assert(balanced("<svg a=\"1\"><g><line/></g><text>a &amp; b</text></svg>\n"),
              "good markup");
    cr_assert(!balanced("<svg><g></svg>"), "an unclosed g");
    cr_assert(!balanced("<svg><text>a & b</text></svg>"), "a bare ampersand");
    cr_assert(!balanced("<svg></g></svg>"), "a stray close");
    if (system("command -v xmllint >/dev/null 2>&1") == 0)
        cr_assert_neq(xmllint("<svg><g></svg>"), 0, "xmllint accepts broken markup");
}
