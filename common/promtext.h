/* promtext: a builder of the Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/, "Text format details"),
 * for the lag monitor's /metrics. A family is started with its name, type and help text,
 * then its samples follow; families come out in the order they were started, each one
 * contiguous, its "# HELP" and "# TYPE" lines once, before its first sample.
 *
 * What the builder writes and checks:
 *  - names: metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
 *    and do not start with "__" (reserved); a label name appears once per sample; "le" is
 *    reserved in histograms;
 *  - a family name is used once, also counting the _bucket, _sum and _count series of the
 *    histograms (those would be duplicate series to a scraper);
 *  - help text escapes backslash as \\ and line feed as \n; label values escape backslash,
 *    double quote and line feed as \\, \" and \n; both must be valid UTF-8;
 *  - values: integers below 2^53 in plain digits, others in the shortest %g form that
 *    reads back to the same double, and "+Inf", "-Inf", "NaN"; a counter's value must be
 *    >= 0 (not NaN);
 *  - a histogram sample becomes name_bucket{...,le="b"} lines with cumulative counts for
 *    every bound and le="+Inf", then name_sum and name_count (as the Go client orders
 *    them); bounds must be finite and strictly increasing.
 * Not checked: that two samples of a family have different label sets, and the "_total"
 * suffix that promtool's linter expects of counter names; both are the caller's.
 *
 * Errors are sticky: the first failing call returns -1 and records why, later calls return
 * -1 and write nothing, and promtext_finish reports the message; what was written before
 * stays. A builder is not thread-safe: one thread builds (e.g. per scrape), or the caller
 * locks. */
#ifndef PROMTEXT_H
#define PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

/* The HTTP Content-Type of this format. */
#define PROMTEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum { PROMTEXT_COUNTER, PROMTEXT_GAUGE, PROMTEXT_HISTOGRAM, PROMTEXT_UNTYPED,
       PROMTEXT_TYPE__COUNT };

/* One label of a sample; both strings are the caller's and are copied into the text. */
typedef struct promtext_label {
    const char *name;
    const char *value;
} promtext_label;

typedef struct promtext promtext;

/* A new, empty builder; NULL with errstr filled when memory runs out. Free with
 * promtext_destroy. */
promtext *promtext_new(char *errstr, size_t errstr_size);

/* Free the builder and its text. Accepts NULL. */
void promtext_destroy(promtext *p);

/* Forget the text, the families and any error, keeping the memory for the next scrape. */
void promtext_reset(promtext *p);

/* Start a family: write "# HELP name help" (unless help is NULL or "") and
 * "# TYPE name type". type is a PROMTEXT_* value. 0 or -1 (see the checks above). */
int promtext_family(promtext *p, const char *name, int type, const char *help);

/* One sample of the current counter, gauge or untyped family: "name{labels} value".
 * labels may be NULL when nlabels is 0. 0 or -1. */
int promtext_sample(promtext *p, const promtext_label *labels, size_t nlabels, double value);

/* One histogram of the current histogram family. bounds holds nbounds finite upper bounds
 * in increasing order; counts holds nbounds + 1 per-bucket observation counts (counts[i]:
 * observations in (bounds[i-1], bounds[i]]; counts[nbounds]: above the last bound); the
 * builder writes them cumulatively, their total as le="+Inf" and name_count, and sum as
 * name_sum. 0 or -1. */
int promtext_histogram(promtext *p, const promtext_label *labels, size_t nlabels,
                       const double *bounds, const uint64_t *counts, size_t nbounds,
                       double sum);

/* The text so far and its length in *len (when len is not NULL): owned by the builder,
 * valid until the next call on it. NULL with errstr filled when a call failed since the
 * last reset (memory, or a check above). */
const char *promtext_finish(promtext *p, size_t *len, char *errstr, size_t errstr_size);

/* "counter", "gauge", "histogram", "untyped"; NULL when out of range. */
const char *promtext_type_name(int type);

#endif
