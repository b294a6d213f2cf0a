/* promtext: Prometheus text exposition format 0.0.4, built family by family. */
#include "promtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "strbuf.h"
#include "utf8.h"

typedef struct family {
    char *name;
    int type;
} family;

struct promtext {
    strbuf out;
    family *fam;          /* every family started, in order; the last is current */
    size_t nfam, capfam;
    char err[256];        /* the first error; "" while none */
};

static const char *const type_names[PROMTEXT_TYPE__COUNT] = {
    "counter", "gauge", "histogram", "untyped",
};

/* The histogram series suffixes, which take names from the family namespace. */
static const char *const hist_suffix[] = {"_bucket", "_sum", "_count"};
#define NSUFFIX (sizeof hist_suffix / sizeof hist_suffix[0])

const char *promtext_type_name(int type)
{
    return type >= 0 && type < PROMTEXT_TYPE__COUNT ? type_names[type] : NULL;
}

promtext *promtext_new(char *errstr, size_t errstr_size)
{
    promtext *p = calloc(1, sizeof *p);

    if (!p) {
        errstr_fail(errstr, errstr_size, "out of memory");
        return NULL;
    }
    strbuf_init(&p->out);
    return p;
}

static void forget_families(promtext *p)
{
    for (size_t i = 0; i < p->nfam; i++)
        free(p->fam[i].name);
    p->nfam = 0;
}

void promtext_destroy(promtext *p)
{
    if (!p)
        return;
    forget_families(p);
    free(p->fam);
    strbuf_release(&p->out);
    free(p);
}

void promtext_reset(promtext *p)
{
    forget_families(p);
    strbuf_reset(&p->out);
    p->err[0] = '\0';
}

/* Record the first error; returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(promtext *p, const char *fmt, ...)
{
    va_list ap;

    if (p->err[0])
        return -1;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* -1 when an earlier call failed or the buffer ran out of memory. */
static int failed(promtext *p)
{
    if (!p->err[0] && p->out.failed)
        fail(p, "out of memory");
    return p->err[0] ? -1 : 0;
}

static int name_char(int c, int first, int colon)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':'))
        return 1;
    return !first && c >= '0' && c <= '9';
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* with colon, [a-zA-Z_][a-zA-Z0-9_]* without. */
static int valid_name(const char *s, int colon)
{
    if (!s || !*s)
        return 0;
    for (size_t i = 0; s[i]; i++)
        if (!name_char((unsigned char)s[i], i == 0, colon))
            return 0;
    return 1;
}

/* Append s escaping backslash, line feed and, when quote is set, double quote. */
static void put_escaped(strbuf *b, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            strbuf_puts(b, "\\\\");
        else if (*s == '\n')
            strbuf_puts(b, "\\n");
        else if (quote && *s == '"')
            strbuf_puts(b, "\\\"");
        else
            strbuf_append(b, s, 1);
    }
}

/* An integral v below 2^53 in plain digits, else the shortest %g form that reads back as
 * v; "+Inf", "-Inf", "NaN". */
static void format_value(double v, char *buf, size_t size)
{
    if (isnan(v)) {
        snprintf(buf, size, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(buf, size, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void put_value(strbuf *b, double v)
{
    char buf[40];

    format_value(v, buf, sizeof buf);
    strbuf_puts(b, buf);
}

/* Whether a family named name clashes with family f (also through histogram series). */
static int clashes(const char *name, int type, const family *f)
{
    char series[512];

    if (strcmp(name, f->name) == 0)
        return 1;
    for (size_t i = 0; i < NSUFFIX; i++) {
        if (f->type == PROMTEXT_HISTOGRAM) {
            snprintf(series, sizeof series, "%s%s", f->name, hist_suffix[i]);
            if (strcmp(name, series) == 0)
                return 1;
        }
        if (type == PROMTEXT_HISTOGRAM) {
            snprintf(series, sizeof series, "%s%s", name, hist_suffix[i]);
            if (strcmp(series, f->name) == 0)
                return 1;
        }
    }
    return 0;
}

static int check_family(promtext *p, const char *name, int type, const char *help)
{
    if (!valid_name(name, 1) || strlen(name) > 400)
        return fail(p, "invalid metric name '%s'", name ? name : "(null)");
    if (!promtext_type_name(type))
        return fail(p, "%s: unknown metric type %d", name, type);
    if (help && !utf8_valid(help))
        return fail(p, "%s: help text is not valid UTF-8", name);
    for (size_t i = 0; i < p->nfam; i++)
        if (clashes(name, type, &p->fam[i]))
            return fail(p, "%s: clashes with family '%s' written before", name,
                        p->fam[i].name);
    return 0;
}

static int remember_family(promtext *p, const char *name, int type)
{
    char *copy = strdup(name);

    if (copy && p->nfam == p->capfam) {
        size_t cap = p->capfam ? 2 * p->capfam : 16;
        family *f = realloc(p->fam, cap * sizeof *f);
        if (!f) {
            free(copy);
            copy = NULL;
        } else {
            p->fam = f;
            p->capfam = cap;
        }
    }
    if (!copy)
        return fail(p, "out of memory");
    p->fam[p->nfam++] = (family){copy, type};
    return 0;
}

int promtext_family(promtext *p, const char *name, int type, const char *help)
{
    if (failed(p) < 0 || check_family(p, name, type, help) < 0 ||
        remember_family(p, name, type) < 0)
        return -1;
    if (help && *help) {
        strbuf_printf(&p->out, "# HELP %s ", name);
        put_escaped(&p->out, help, 0);
        strbuf_puts(&p->out, "\n");
    }
    strbuf_printf(&p->out, "# TYPE %s %s\n", name, type_names[type]);
    return failed(p);
}

/* The current family when it has type want (histogram or not); NULL after fail(). */
static const family *current(promtext *p, int histogram)
{
    const family *f;

    if (failed(p) < 0)
        return NULL;
    if (p->nfam == 0) {
        fail(p, "a sample before any family");
        return NULL;
    }
    f = &p->fam[p->nfam - 1];
    if ((f->type == PROMTEXT_HISTOGRAM) != histogram) {
        fail(p, "%s: a %s sample in a %s family", f->name,
             histogram ? "histogram" : "single-value", type_names[f->type]);
        return NULL;
    }
    return f;
}

static int check_labels(promtext *p, const family *f, const promtext_label *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = l[i].name;
        if (!valid_name(name, 0) || strncmp(name, "__", 2) == 0)
            return fail(p, "%s: invalid label name '%s'", f->name, name ? name : "(null)");
        if (f->type == PROMTEXT_HISTOGRAM && strcmp(name, "le") == 0)
            return fail(p, "%s: label 'le' is reserved in histograms", f->name);
        if (!l[i].value || !utf8_valid(l[i].value))
            return fail(p, "%s: value of label '%s' is not valid UTF-8", f->name, name);
        for (size_t j = 0; j < i; j++)
            if (strcmp(name, l[j].name) == 0)
                return fail(p, "%s: label '%s' given twice", f->name, name);
    }
    return 0;
}

/* Write "name suffix{labels[,le="le"]} " (braces only when there is a label). */
static void put_series(strbuf *b, const char *name, const char *suffix,
                       const promtext_label *l, size_t n, const char *le)
{
    strbuf_puts(b, name);
    strbuf_puts(b, suffix);
    if (n || le)
        strbuf_puts(b, "{");
    for (size_t i = 0; i < n; i++) {
        strbuf_printf(b, "%s%s=\"", i ? "," : "", l[i].name);
        put_escaped(b, l[i].value, 1);
        strbuf_puts(b, "\"");
    }
    if (le)
        strbuf_printf(b, "%sle=\"%s\"", n ? "," : "", le);
    strbuf_puts(b, n || le ? "} " : " ");
}

int promtext_sample(promtext *p, const promtext_label *labels, size_t nlabels, double value)
{
    const family *f = current(p, 0);

    if (!f || check_labels(p, f, labels, nlabels) < 0)
        return -1;
    if (f->type == PROMTEXT_COUNTER && !(value >= 0))
        return fail(p, "%s: counter value %g is not >= 0", f->name, value);
    put_series(&p->out, f->name, "", labels, nlabels, NULL);
    put_value(&p->out, value);
    strbuf_puts(&p->out, "\n");
    return failed(p);
}

static int check_bounds(promtext *p, const family *f, const double *bounds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(bounds[i]))
            return fail(p, "%s: bucket bound %g is not finite", f->name, bounds[i]);
        if (i && !(bounds[i] > bounds[i - 1]))
            return fail(p, "%s: bucket bound %g does not exceed %g", f->name, bounds[i],
                        bounds[i - 1]);
    }
    return 0;
}

int promtext_histogram(promtext *p, const promtext_label *labels, size_t nlabels,
                       const double *bounds, const uint64_t *counts, size_t nbounds,
                       double sum)
{
    const family *f = current(p, 1);
    uint64_t total = 0;
    char le[40];

    if (!f || check_labels(p, f, labels, nlabels) < 0 ||
        check_bounds(p, f, bounds, nbounds) < 0)
        return -1;
    for (size_t i = 0; i <= nbounds; i++) {
        total += counts[i];
        if (i < nbounds)
            format_value(bounds[i], le, sizeof le);
        put_series(&p->out, f->name, "_bucket", labels, nlabels, i < nbounds ? le : "+Inf");
        strbuf_printf(&p->out, "%llu\n", (unsigned long long)total);
    }
    put_series(&p->out, f->name, "_sum", labels, nlabels, NULL);
    put_value(&p->out, sum);
    strbuf_puts(&p->out, "\n");
    put_series(&p->out, f->name, "_count", labels, nlabels, NULL);
    strbuf_printf(&p->out, "%llu\n", (unsigned long long)total);
    return failed(p);
}

const char *promtext_finish(promtext *p, size_t *len, char *errstr, size_t errstr_size)
{
    if (failed(p) < 0) {
        errstr_fail(errstr, errstr_size, "%s", p->err);
        return NULL;
    }
    if (len)
        *len = p->out.len;
    return strbuf_str(&p->out);
}
