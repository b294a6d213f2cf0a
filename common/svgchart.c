/* svgchart: a time-series line chart as an inline SVG element (see svgchart.h). */
#include "svgchart.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "strbuf.h"
#include "utf8.h"

#define DEFAULT_WIDTH 640
#define DEFAULT_HEIGHT 240
#define MAX_SPAN_MS (31 * 24 * SVGCHART_HOUR_MS)
#define LEGEND_ENTRY_W 160
#define LEGEND_ROW_H 16
#define LEGEND_NAME_MAX 24
#define MIN_PLOT_H 40

static const char *const palette[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
};
#define NPALETTE (sizeof palette / sizeof palette[0])

/* Local-clock tick steps, minutes. */
static const int tick_minutes[] = {1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720, 1440};
#define NTICKSTEPS (sizeof tick_minutes / sizeof tick_minutes[0])

typedef struct layout {
    int width, height;
    double left, right, top, bottom;  /* the plot rectangle */
    int64_t start_ms, end_ms;
    int64_t off_ms;                   /* UTC offset of the labels */
    double ytop, ystep;               /* y axis: 0..ytop in steps of ystep */
    int legend_cols;
    double legend_y;                  /* baseline of the first legend row */
} layout;

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int check_spec(const svgchart_spec *s, char *errstr, size_t n)
{
    if (s->width && (s->width < 200 || s->width > 4000))
        return errstr_fail(errstr, n, "width %d is not in 200..4000", s->width);
    if (s->height && (s->height < 120 || s->height > 4000))
        return errstr_fail(errstr, n, "height %d is not in 120..4000", s->height);
    if (s->span_ms < 0 || s->span_ms > MAX_SPAN_MS)
        return errstr_fail(errstr, n, "span %" PRId64 " ms is not in 0..31 days", s->span_ms);
    if (s->utc_offset_minutes < -18 * 60 || s->utc_offset_minutes > 18 * 60)
        return errstr_fail(errstr, n, "UTC offset %d minutes is beyond 18 hours",
                           s->utc_offset_minutes);
    return 0;
}

static int check_series(const svgchart_series *series, size_t nseries, char *errstr,
                        size_t n)
{
    for (size_t i = 0; i < nseries; i++) {
        const svgchart_series *s = &series[i];
        if (!s->name)
            return errstr_fail(errstr, n, "series %zu has no name", i);
        if (s->npoints && !s->points)
            return errstr_fail(errstr, n, "series %zu has %zu points but no array", i,
                               s->npoints);
        for (size_t k = 1; k < s->npoints; k++)
            if (s->points[k].time_ms < s->points[k - 1].time_ms)
                return errstr_fail(errstr, n, "series %zu: point %zu goes back in time", i, k);
    }
    return 0;
}

static int visible(const layout *L, const svgchart_point *p)
{
    return isfinite(p->value) && p->time_ms >= L->start_ms && p->time_ms <= L->end_ms;
}

/* The largest value drawn, 0 when none. */
static double max_value(const layout *L, const svgchart_series *series, size_t nseries)
{
    double hi = 0;

    for (size_t i = 0; i < nseries; i++)
        for (size_t k = 0; k < series[i].npoints; k++)
            if (visible(L, &series[i].points[k]) && series[i].points[k].value > hi)
                hi = series[i].points[k].value;
    return hi;
}

/* A 1, 2 or 5 x 10^k step giving at most 5 steps up to a top >= hi. */
static void y_scale(double hi, double *top, double *step)
{
    double raw, mag, norm;

    if (!(hi > 0))
        hi = 1;
    raw = hi / 5;
    mag = pow(10, floor(log10(raw)));
    norm = raw / mag;
    *step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    *top = ceil(hi / *step - 1e-9) * *step;
    if (*top < hi)
        *top += *step;
}

static int make_layout(const svgchart_spec *s, const svgchart_series *series, size_t nseries,
                       layout *L, char *errstr, size_t n)
{
    int64_t span = s->span_ms ? s->span_ms : SVGCHART_HOUR_MS;
    int rows;

    L->width = s->width ? s->width : DEFAULT_WIDTH;
    L->height = s->height ? s->height : DEFAULT_HEIGHT;
    L->end_ms = s->end_ms;
    L->start_ms = s->end_ms - span;
    L->off_ms = (int64_t)s->utc_offset_minutes * 60000;
    L->left = s->y_label ? 66 : 52;
    L->right = L->width - 14;
    L->top = s->title ? 30 : 12;
    L->legend_cols = (int)((L->right - L->left) / LEGEND_ENTRY_W);
    if (L->legend_cols < 1)
        L->legend_cols = 1;
    rows = (int)((nseries + (size_t)L->legend_cols - 1) / (size_t)L->legend_cols);
    L->bottom = L->height - 24 - rows * LEGEND_ROW_H - (rows ? 6 : 0);
    L->legend_y = L->bottom + 34;
    if (L->bottom - L->top < MIN_PLOT_H)
        return errstr_fail(errstr, n, "a legend of %zu series leaves no room at height %d",
                           nseries, L->height);
    y_scale(max_value(L, series, nseries), &L->ytop, &L->ystep);
    return 0;
}

static double xpos(const layout *L, int64_t t)
{
    return L->left + (double)(t - L->start_ms) * (L->right - L->left) /
                         (double)(L->end_ms - L->start_ms);
}

static double ypos(const layout *L, double v)
{
    if (v < 0)
        v = 0;
    return L->bottom - v / L->ytop * (L->bottom - L->top);
}

/* Append s as XML character data, cut after max characters (0: no limit) with an
 * ellipsis. */
static void put_text(strbuf *b, const char *s, size_t max)
{
    size_t chars = 0;

    while (*s) {
        size_t n = utf8_seq(s);
        unsigned char c = (unsigned char)*s;
        if (max && ++chars > max) {
            strbuf_puts(b, "\xe2\x80\xa6");
            return;
        }
        if (n == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
            strbuf_puts(b, "\xef\xbf\xbd");
        else if (c == '&')
            strbuf_puts(b, "&amp;");
        else if (c == '<')
            strbuf_puts(b, "&lt;");
        else if (c == '>')
            strbuf_puts(b, "&gt;");
        else if (c == '"')
            strbuf_puts(b, "&quot;");
        else if (c == '\'')
            strbuf_puts(b, "&apos;");
        else
            strbuf_append(b, s, n);
        s += n ? n : 1;
    }
}

/* A y tick label: 0.5, 40, 1.5k, 12M, 3G. */
static void format_tick(double v, char *buf, size_t size)
{
    static const struct {
        double div;
        const char *suffix;
    } scale[] = {{1e9, "G"}, {1e6, "M"}, {1e3, "k"}};

    for (size_t i = 0; i < sizeof scale / sizeof scale[0]; i++)
        if (fabs(v) >= scale[i].div) {
            snprintf(buf, size, "%g%s", v / scale[i].div, scale[i].suffix);
            return;
        }
    snprintf(buf, size, "%g", v);
}

static void put_head(strbuf *b, const layout *L, const svgchart_spec *s)
{
    strbuf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lagchart\" "
                  "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
                  "font-family=\"sans-serif\" font-size=\"11\">\n<title>",
                  L->width, L->height, L->width, L->height);
    put_text(b, s->title ? s->title : "lag over time", 0);
    strbuf_puts(b, "</title>\n");
    if (s->title) {
        strbuf_printf(b, "<text class=\"title\" x=\"%.1f\" y=\"18\" font-size=\"13\">",
                      L->left);
        put_text(b, s->title, 0);
        strbuf_puts(b, "</text>\n");
    }
}

static void put_y_axis(strbuf *b, const layout *L, const svgchart_spec *s)
{
    char label[32];

    strbuf_puts(b, "<g class=\"y-axis\">\n");
    for (int i = 0; i * L->ystep <= L->ytop * (1 + 1e-9); i++) {
        double v = i * L->ystep, y = ypos(L, v);
        format_tick(v, label, sizeof label);
        strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#e5e5e5\"/>\n", L->left, y, L->right, y);
        strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                      L->left - 4, y + 4, label);
    }
    strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
                  L->left, L->top, L->left, L->bottom);
    if (s->y_label) {
        strbuf_printf(b, "<text class=\"y-label\" transform=\"translate(14 %.1f) rotate(-90)\" "
                      "text-anchor=\"middle\">", (L->top + L->bottom) / 2);
        put_text(b, s->y_label, 0);
        strbuf_puts(b, "</text>\n");
    }
    strbuf_puts(b, "</g>\n");
}

/* The smallest local-clock step giving at most 7 ticks over the span. */
static int64_t x_step_ms(const layout *L)
{
    int64_t span = L->end_ms - L->start_ms;

    for (size_t i = 0; i < NTICKSTEPS; i++)
        if (span / (tick_minutes[i] * INT64_C(60000)) <= 6)
            return tick_minutes[i] * INT64_C(60000);
    return tick_minutes[NTICKSTEPS - 1] * INT64_C(60000);
}

static void put_x_axis(strbuf *b, const layout *L)
{
    int64_t step = x_step_ms(L);
    int64_t t = (floor_div(L->start_ms + L->off_ms - 1, step) + 1) * step - L->off_ms;

    strbuf_puts(b, "<g class=\"x-axis\">\n");
    strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>\n",
                  L->left, L->bottom, L->right, L->bottom);
    for (; t <= L->end_ms; t += step) {
        int64_t minute = floor_div(t + L->off_ms, 60000) % 1440;
        double x = xpos(L, t);
        if (minute < 0)
            minute += 1440;
        strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#888\"/>\n", x, L->bottom, x, L->bottom + 4);
        strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%02d:%02d</text>\n",
                      x, L->bottom + 16, (int)(minute / 60), (int)(minute % 60));
    }
    strbuf_puts(b, "</g>\n");
}

/* One run of visible points [from, to) as a polyline, or a circle when it is one. */
static void put_run(strbuf *b, const layout *L, const svgchart_point *p, size_t from,
                    size_t to)
{
    if (to - from == 1) {
        strbuf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2\" stroke=\"none\"/>\n",
                      xpos(L, p[from].time_ms), ypos(L, p[from].value));
        return;
    }
    strbuf_puts(b, "<polyline fill=\"none\" stroke-width=\"1.5\" points=\"");
    for (size_t k = from; k < to; k++)
        strbuf_printf(b, "%s%.1f,%.1f", k > from ? " " : "", xpos(L, p[k].time_ms),
                      ypos(L, p[k].value));
    strbuf_puts(b, "\"/>\n");
}

static void put_series(strbuf *b, const layout *L, const svgchart_series *s, size_t index)
{
    const char *colour = palette[index % NPALETTE];
    size_t from = 0;

    strbuf_printf(b, "<g class=\"series\" stroke=\"%s\" fill=\"%s\"><title>", colour, colour);
    put_text(b, s->name, 0);
    strbuf_puts(b, "</title>\n");
    while (from < s->npoints) {
        size_t to = from;
        while (to < s->npoints && visible(L, &s->points[to]))
            to++;
        if (to > from)
            put_run(b, L, s->points, from, to);
        from = to + (to == from);
    }
    strbuf_puts(b, "</g>\n");
}

static void put_legend(strbuf *b, const layout *L, const svgchart_series *series,
                       size_t nseries)
{
    strbuf_puts(b, "<g class=\"legend\">\n");
    for (size_t i = 0; i < nseries; i++) {
        double x = L->left + (double)(i % (size_t)L->legend_cols) * LEGEND_ENTRY_W;
        double y = L->legend_y + (double)(i / (size_t)L->legend_cols) * LEGEND_ROW_H;
        strbuf_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "stroke-width=\"2\"/>\n", x, y - 4, x + 14, y - 4,
                      palette[i % NPALETTE]);
        strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">", x + 18, y);
        put_text(b, series[i].name, LEGEND_NAME_MAX);
        strbuf_puts(b, "</text>\n");
    }
    strbuf_puts(b, "</g>\n");
}

char *svgchart_render(const svgchart_spec *spec, const svgchart_series *series,
                      size_t nseries, size_t *len, char *errstr, size_t errstr_size)
{
    strbuf b;
    layout L = {0};
    char *out = NULL;

    strbuf_init(&b);
    if (check_spec(spec, errstr, errstr_size) < 0 ||
        check_series(series, nseries, errstr, errstr_size) < 0 ||
        make_layout(spec, series, nseries, &L, errstr, errstr_size) < 0)
        goto out;
    put_head(&b, &L, spec);
    put_y_axis(&b, &L, spec);
    put_x_axis(&b, &L);
    for (size_t i = 0; i < nseries; i++)
        put_series(&b, &L, &series[i], i);
    put_legend(&b, &L, series, nseries);
    strbuf_puts(&b, "</svg>\n");
    out = strbuf_detach(&b, len);
    if (!out)
        errstr_fail(errstr, errstr_size, "out of memory");
out:
    strbuf_release(&b);
    return out;
}
