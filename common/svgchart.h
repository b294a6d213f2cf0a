/* svgchart: the lag monitor's status page chart, a line chart of values over time (lag
 * per group, last hour by default) rendered as one inline <svg> element, no script. Pure:
 * no I/O and no clock (the right edge of the time axis is a parameter); any thread may
 * call, nothing is shared.
 *
 * What the chart shows:
 *  - the x axis spans [end - span, end]; ticks fall on whole local-clock steps (1, 2, 5,
 *    10, 15, 20, 30 minutes, 1, 2, 3, 6, 12, 24 hours: the smallest giving at most 7
 *    ticks) labelled HH:MM in the given UTC offset (the project's WIB, WITA, WIT);
 *  - the y axis runs from 0 to a round top (1, 2 or 5 x 10^k steps, at most 5 of them)
 *    above the largest value drawn; tick labels use k, M, G for thousands, millions,
 *    billions; a negative value is drawn at 0 (a lag never is negative);
 *  - each series is a <g class="series"> in a colour of a fixed palette (cycled), holding
 *    its <title> (the name) and one <polyline> per run of points: a value that is not
 *    finite or a point outside the time window ends a run; a run of one point is a
 *    <circle>;
 *  - a legend below the axis names every series (names longer than 24 characters are cut
 *    with an ellipsis).
 * Text (title, axis caption, names) is escaped for XML: & < > " ' become entities,
 * control characters and invalid UTF-8 become U+FFFD, so the element is well-formed for
 * any input. */
#ifndef SVGCHART_H
#define SVGCHART_H

#include <stddef.h>
#include <stdint.h>

#define SVGCHART_HOUR_MS INT64_C(3600000)

typedef struct svgchart_point {
    int64_t time_ms;          /* milliseconds since the epoch */
    double value;             /* NaN (or infinite): no value, breaks the line */
} svgchart_point;

typedef struct svgchart_series {
    const char *name;         /* legend and tooltip text */
    const svgchart_point *points; /* in non-decreasing time order */
    size_t npoints;
} svgchart_series;

typedef struct svgchart_spec {
    int width, height;        /* pixels; 0 for 640 x 240 */
    int64_t end_ms;           /* the right edge of the time axis: now */
    int64_t span_ms;          /* the time axis' length; 0 for one hour */
    int utc_offset_minutes;   /* zone of the HH:MM labels, e.g. 420 for WIB */
    const char *title;        /* heading and the <title> of the chart; NULL for none */
    const char *y_label;      /* caption of the y axis, e.g. "lag (events)"; NULL: none */
} svgchart_spec;

/* Render the chart. Returns a malloc'ed NUL-terminated "<svg ...>...</svg>\n" the caller
 * frees with free(), its length in *len when len is not NULL; NULL with errstr filled when
 * the spec is out of range (width 200..4000, height 120..4000, span beyond 0..31 days,
 * UTC offset beyond +-18 h), a series has no name or its points go back in time, the legend leaves
 * the plot no room, or memory runs out. Series are not modified and may be freed after. */
char *svgchart_render(const svgchart_spec *spec, const svgchart_series *series,
                      size_t nseries, size_t *len, char *errstr, size_t errstr_size);

#endif
