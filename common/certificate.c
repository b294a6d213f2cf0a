/* certificate: certificates and stage summaries as PDF, drawn with Cairo. */
#include "certificate.h"

#include <stdio.h>
#include <string.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>

#include "dates.h"
#include "errstr.h"

#define FONT "DejaVu Sans"
/* A4 in PostScript points. */
#define A4_W 595.28
#define A4_H 841.89
#define MARGIN 42.0

/* Colours: BPJS Ketenagakerjaan green and a dark ink. */
#define GREEN 0.0, 0.47, 0.25
#define INK 0.13, 0.15, 0.18
#define GREY 0.42, 0.45, 0.48
#define PALE 0.93, 0.97, 0.94

static const char *const month_names[] = {
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember"};

char *certificate_format_date(int32_t day, char *buf, size_t size)
{
    int y, m, d;

    dates_to_civil(day, &y, &m, &d);
    snprintf(buf, size, "%d %s %d", d, month_names[(m - 1) % 12], y);
    return buf;
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static double text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;

    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

static void text_at(cairo_t *cr, double x, double y, const char *s)
{
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, s);
}

static void text_centered(cairo_t *cr, double cx, double y, const char *s)
{
    text_at(cr, cx - text_width(cr, s) / 2, y, s);
}

static void text_right(cairo_t *cr, double right, double y, const char *s)
{
    text_at(cr, right - text_width(cr, s), y, s);
}

/* Draw s from (x, y) wrapped at word boundaries to width; returns the y below the last line. */
static double text_wrapped(cairo_t *cr, double x, double y, double width, double leading,
                           const char *s)
{
    char line[512];
    size_t used = 0;

    line[0] = '\0';
    while (*s) {
        size_t word = strcspn(s, " ");
        char trial[512];
        snprintf(trial, sizeof trial, "%s%s%.*s", line, used ? " " : "", (int)word, s);
        if (used && text_width(cr, trial) > width) {
            text_at(cr, x, y, line);
            y += leading;
            snprintf(line, sizeof line, "%.*s", (int)word, s);
        } else {
            snprintf(line, sizeof line, "%s", trial);
        }
        used = strlen(line);
        s += word;
        while (*s == ' ')
            s++;
    }
    if (used) {
        text_at(cr, x, y, line);
        y += leading;
    }
    return y;
}

/* Finish a document: the first error of the context or the surface, if any. */
static int finish(cairo_t *cr, cairo_surface_t *surface, const char *path, char *errstr,
                  size_t n)
{
    cairo_status_t st = cairo_status(cr);

    cairo_destroy(cr);
    cairo_surface_finish(surface);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(errstr, n, "unable to write '%s': %s", path, cairo_status_to_string(st));
        return -1;
    }
    return 0;
}

static cairo_t *open_pdf(const char *path, double w, double h, const char *title,
                         cairo_surface_t **surface, char *errstr, size_t n)
{
    cairo_status_t st;
    cairo_t *cr;

    *surface = cairo_pdf_surface_create(path, w, h);
    if ((st = cairo_surface_status(*surface)) != CAIRO_STATUS_SUCCESS) {
        snprintf(errstr, n, "unable to create '%s': %s", path, cairo_status_to_string(st));
        cairo_surface_destroy(*surface);
        return NULL;
    }
    cairo_pdf_surface_set_metadata(*surface, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(*surface, CAIRO_PDF_METADATA_CREATOR, "covadm certificates");
    cr = cairo_create(*surface);
    return cr;
}

/* The green double frame and the header band every page has. */
static void frame(cairo_t *cr, double w, double h, const char *branch)
{
    cairo_set_source_rgb(cr, GREEN);
    cairo_set_line_width(cr, 3.0);
    cairo_rectangle(cr, 18, 18, w - 36, h - 36);
    cairo_stroke(cr);
    cairo_set_line_width(cr, 0.8);
    cairo_rectangle(cr, 24, 24, w - 48, h - 48);
    cairo_stroke(cr);

    cairo_rectangle(cr, 24, 24, w - 48, 52);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    font(cr, 17, 1);
    text_at(cr, MARGIN, 57, "BPJS Ketenagakerjaan");
    font(cr, 9, 0);
    text_right(cr, w - MARGIN, 47, "Perlindungan Pekerja Badan Ad Hoc Pemilu");
    text_right(cr, w - MARGIN, 61, or_dash(branch));
}

/* One labelled row of the certificate; returns the y of the next row. */
static double field(cairo_t *cr, double y, const char *label, const char *value)
{
    const double label_x = MARGIN + 18, value_x = MARGIN + 170, width = A4_W - value_x - MARGIN - 10;

    font(cr, 10, 0);
    cairo_set_source_rgb(cr, GREY);
    text_at(cr, label_x, y, label);
    font(cr, 11, 1);
    cairo_set_source_rgb(cr, INK);
    return text_wrapped(cr, value_x, y, width, 15, or_dash(value)) + 9;
}

int certificate_write(const char *path, const certificate_info *c, char *errstr, size_t n)
{
    cairo_surface_t *surface;
    char title[256], kpj[64];
    cairo_t *cr;
    double y;

    snprintf(title, sizeof title, "Sertifikat kepesertaan %s", or_dash(c->number));
    if (!(cr = open_pdf(path, A4_W, A4_H, title, &surface, errstr, n)))
        return -1;
    frame(cr, A4_W, A4_H, c->bpjs_branch);

    cairo_set_source_rgb(cr, GREEN);
    font(cr, 26, 1);
    text_centered(cr, A4_W / 2, 140, "SERTIFIKAT KEPESERTAAN");
    cairo_set_source_rgb(cr, INK);
    font(cr, 12, 0);
    text_centered(cr, A4_W / 2, 162, "Jaminan Sosial Ketenagakerjaan bagi Badan Ad Hoc Pemilihan Umum");
    font(cr, 10, 0);
    cairo_set_source_rgb(cr, GREY);
    text_centered(cr, A4_W / 2, 180, or_dash(c->number));

    cairo_set_source_rgb(cr, INK);
    font(cr, 11, 0);
    text_centered(cr, A4_W / 2, 222, "Dengan ini menyatakan bahwa");
    font(cr, 22, 1);
    text_centered(cr, A4_W / 2, 256, or_dash(c->full_name));
    cairo_set_source_rgb(cr, GREEN);
    cairo_set_line_width(cr, 1.0);
    cairo_move_to(cr, A4_W / 2 - 170, 266);
    cairo_line_to(cr, A4_W / 2 + 170, 266);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, INK);
    font(cr, 11, 0);
    text_centered(cr, A4_W / 2, 290,
                  "terdaftar sebagai peserta program jaminan sosial ketenagakerjaan berikut:");

    /* The facts, drawn into a group first so that the pale panel behind them fits them. */
    snprintf(kpj, sizeof kpj, "%s", c->kpj && *c->kpj ? c->kpj : "belum terbit (not yet issued)");
    cairo_push_group(cr);
    y = 332;
    y = field(cr, y, "NIK", c->nik_masked);
    y = field(cr, y, "Nomor KPJ", kpj);
    y = field(cr, y, "Jabatan", c->role);
    y = field(cr, y, "Unit kerja", c->unit);
    y = field(cr, y, "Kode wilayah", c->region_code);
    y = field(cr, y, "Program", c->programs);
    y = field(cr, y, "Masa perlindungan", c->period);
    y = field(cr, y, "Perjanjian kerja sama", c->agreement_id);
    y = field(cr, y, "", c->agreement_name);
    y = field(cr, y, "Pemberi kerja", c->counterparty);
    y = field(cr, y, "Tahap", c->stage);
    {
        cairo_pattern_t *facts = cairo_pop_group(cr);
        cairo_set_source_rgb(cr, PALE);
        cairo_rectangle(cr, MARGIN, 306, A4_W - 2 * MARGIN, y - 306);
        cairo_fill(cr);
        cairo_set_source(cr, facts);
        cairo_paint(cr);
        cairo_pattern_destroy(facts);
    }

    font(cr, 9, 0);
    cairo_set_source_rgb(cr, GREY);
    y = text_wrapped(cr, MARGIN + 6, y + 24, A4_W - 2 * MARGIN - 12, 12,
                     "Perlindungan berlaku pada tanggal setempat selama masa perlindungan di atas, "
                     "selama iuran dibayar menurut perjanjian kerja sama. Manfaat JKK dan JKM "
                     "menurut PP 44/2015 sebagaimana telah diubah. NIK ditampilkan tersamar.");
    cairo_set_source_rgb(cr, INK);
    font(cr, 10, 0);
    snprintf(title, sizeof title, "Diterbitkan %s", or_dash(c->issued_on));
    text_at(cr, MARGIN + 6, y + 30, title);
    snprintf(title, sizeof title, "Kode verifikasi %s", or_dash(c->verification));
    text_right(cr, A4_W - MARGIN - 6, y + 30, title);
    return finish(cr, surface, path, errstr, n);
}

/* ---- summary ---- */

#define L_W 841.89
#define L_H 595.28
#define ROW_H 16.0
#define FIRST_ROW_Y 168.0
#define LAST_ROW_Y (L_H - 64.0)

static void number_at(cairo_t *cr, double right, double y, long v)
{
    char buf[32];

    snprintf(buf, sizeof buf, "%ld", v);
    text_right(cr, right, y, buf);
}

/* A heading of up to two lines (split at the first space when it is too wide). */
static void heading(cairo_t *cr, double right, double y, double width, const char *s)
{
    const char *space = strchr(s, ' ');

    if (text_width(cr, s) <= width || !space) {
        text_right(cr, right, y + 10, s);
        return;
    }
    {
        char first[64];
        snprintf(first, sizeof first, "%.*s", (int)(space - s), s);
        text_right(cr, right, y, first);
        text_right(cr, right, y + 10, space + 1);
    }
}

static void summary_page_head(cairo_t *cr, const certificate_summary *s, int page, int pages,
                              double region_w, double col_w)
{
    char buf[320];

    frame(cr, L_W, L_H, s->bpjs_branch);
    cairo_set_source_rgb(cr, GREEN);
    font(cr, 18, 1);
    text_at(cr, MARGIN, 106, "REKAPITULASI SERTIFIKAT KEPESERTAAN");
    cairo_set_source_rgb(cr, INK);
    font(cr, 10, 1);
    snprintf(buf, sizeof buf, "%s - %s", or_dash(s->agreement_id), or_dash(s->stage));
    text_at(cr, MARGIN, 124, buf);
    font(cr, 8.5, 0);
    snprintf(buf, sizeof buf, "%s; %s", or_dash(s->agreement_name), or_dash(s->counterparty));
    text_at(cr, MARGIN, 136, buf);
    text_right(cr, L_W - MARGIN, 124, or_dash(s->terms));
    snprintf(buf, sizeof buf, "halaman %d dari %d", page, pages);
    text_right(cr, L_W - MARGIN, 106, buf);

    cairo_set_source_rgb(cr, GREEN);
    cairo_rectangle(cr, MARGIN - 4, 142, L_W - 2 * MARGIN + 8, 24);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, 1, 1, 1);
    font(cr, 8, 1);
    text_at(cr, MARGIN, 158, "Kecamatan");
    for (int k = 0; k < s->nroles; k++)
        heading(cr, MARGIN + region_w + (k + 1) * col_w - 4, 151, col_w - 4, s->role_labels[k]);
    heading(cr, MARGIN + region_w + (s->nroles + 1) * col_w - 4, 151, col_w - 4, "Jumlah");
}

int certificate_summary_write(const char *path, const certificate_summary *s, char *errstr,
                              size_t n)
{
    const double region_w = 190;
    double col_w = (L_W - 2 * MARGIN - region_w) / (s->nroles + 1);
    int per_page = (int)((LAST_ROW_Y - FIRST_ROW_Y) / ROW_H) - 1;
    int pages = (s->nregions + per_page) / per_page, page = 0;
    long grand = 0;
    cairo_surface_t *surface;
    char title[256], buf[160];
    cairo_t *cr;
    double y = 0;

    if (s->nroles < 0 || s->nregions < 0)
        return errstr_fail(errstr, n, "summary: negative counts");
    if (col_w > 70)
        col_w = 70;
    snprintf(title, sizeof title, "Rekapitulasi %s %s", or_dash(s->agreement_id), or_dash(s->stage));
    if (!(cr = open_pdf(path, L_W, L_H, title, &surface, errstr, n)))
        return -1;
    for (int r = 0; r <= s->nregions; r++) {
        long total = 0;
        int last = r == s->nregions;

        if (r % per_page == 0) {
            if (page)
                cairo_show_page(cr);
            summary_page_head(cr, s, ++page, pages, region_w, col_w);
            y = FIRST_ROW_Y + ROW_H;
        }
        if (!last && r % 2) {
            cairo_set_source_rgb(cr, PALE);
            cairo_rectangle(cr, MARGIN - 4, y - 11.5, L_W - 2 * MARGIN + 8, ROW_H);
            cairo_fill(cr);
        }
        cairo_set_source_rgb(cr, INK);
        font(cr, 8.5, last);
        if (last) {
            cairo_set_source_rgb(cr, GREEN);
            cairo_set_line_width(cr, 1.0);
            cairo_move_to(cr, MARGIN - 4, y - 12);
            cairo_line_to(cr, L_W - MARGIN + 4, y - 12);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, INK);
            text_at(cr, MARGIN, y, "Jumlah");
        } else {
            const char *name = s->region_names && s->region_names[r] ? s->region_names[r] : "";
            snprintf(buf, sizeof buf, "%s %.28s", s->region_codes[r], name);
            text_at(cr, MARGIN, y, buf);
        }
        for (int k = 0; k < s->nroles; k++) {
            long v = 0;
            if (last)
                for (int q = 0; q < s->nregions; q++)
                    v += s->counts[q * s->nroles + k];
            else
                v = s->counts[r * s->nroles + k];
            total += v;
            if (v)
                number_at(cr, MARGIN + region_w + (k + 1) * col_w - 4, y, v);
            else {
                cairo_set_source_rgb(cr, GREY);
                text_right(cr, MARGIN + region_w + (k + 1) * col_w - 4, y, "-");
                cairo_set_source_rgb(cr, INK);
            }
        }
        font(cr, 8.5, 1);
        number_at(cr, MARGIN + region_w + (s->nroles + 1) * col_w - 4, y, total);
        if (!last)
            grand += total;
        y += ROW_H;
    }
    cairo_set_source_rgb(cr, GREY);
    font(cr, 8, 0);
    snprintf(buf, sizeof buf, "%ld sertifikat; diterbitkan %s", grand, or_dash(s->issued_on));
    text_at(cr, MARGIN, L_H - 36, buf);
    return finish(cr, surface, path, errstr, n);
}

void certificate_release(void)
{
    /* Cairo's font caches hold fontconfig patterns: reset them first. */
    cairo_debug_reset_static_data();
    FcFini();
}
