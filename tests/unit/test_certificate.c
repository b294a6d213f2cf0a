/* Unit tests of common/certificate: a certificate is a one-page PDF, a summary takes as many
 * pages as its rows need, a file that cannot be written is an error, and dates are written
 * the Indonesian way. What the pages look like is checked on the real stack
 * (tests/integration/test_81_stages.sh renders them). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certificate.h"
#include "dates.h"

/* A file's bytes (NUL-terminated copy; *len its size). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n, "short read of %s", path);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Page objects of a PDF: "/Type /Page" not followed by "s". */
static int pages(const char *path)
{
    size_t len;
    char *pdf = slurp(path, &len);
    int n = 0;

    cr_assert(len > 5 && memcmp(pdf, "%PDF-", 5) == 0, "%s is not a PDF", path);
    for (size_t i = 0; i + 11 <= len; i++)
        if (memcmp(pdf + i, "/Type /Page", 11) == 0 && (i + 11 == len || pdf[i + 11] != 's'))
            n++;
    free(pdf);
    return n;
}

static char dir[] = "/tmp/test_certificate.XXXXXX";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir), "mkdtemp");
}

static void teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0, "cleanup");
    /* Each test runs in a process of its own: what Cairo and fontconfig cache goes with it
     * (LeakSanitizer reports it otherwise). */
    certificate_release();
}

static const certificate_info sample = {
    "PKS-KPU-7313-2023/T3/00001", "Jusman Latif", "7313********8301", "", "KPPS (KPU)",
    "TPS 3, Desa Doka, Kecamatan Sabbangparu", "73.13.01.2001", "JKK, JKM, JHT",
    "25 Januari 2024 s.d. 25 Februari 2024", "PKS-KPU-7313-2023",
    "Perlindungan Jaminan Sosial Ketenagakerjaan Badan Ad Hoc Pemilu 2024 KPU Kabupaten Wajo",
    "KPU Kabupaten Wajo", "BPJS Ketenagakerjaan KC Sengkang", "Tahap 3 - KPPS dan Linmas",
    "1 Februari 2024", "D582CBB2"};

Test(certificate, one_page_pdf, .init = setup, .fini = teardown)
{
    char path[256], err[256] = "";

    snprintf(path, sizeof path, "%s/cert.pdf", dir);
    cr_assert_eq(certificate_write(path, &sample, err, sizeof err), 0, "write: %s", err);
    cr_assert_eq(pages(path), 1, "pages of a certificate");
}

Test(certificate, missing_fields_print_as_dashes, .init = setup, .fini = teardown)
{
    char path[256], err[256] = "";
    certificate_info blank = {0};

    snprintf(path, sizeof path, "%s/blank.pdf", dir);
    cr_assert_eq(certificate_write(path, &blank, err, sizeof err), 0, "write: %s", err);
    cr_assert_eq(pages(path), 1, "pages");
}

Test(certificate, summary_pages_follow_rows, .init = setup, .fini = teardown)
{
    static const char *const roles[] = {"KPPS", "Linmas", "PTPS"};
    const char *codes[80], *names[80];
    long counts[80 * 3];
    char labels[80][16], path[256], err[256] = "";
    certificate_summary s = {"PKS-KPU-7313-2023", "Perlindungan", "KPU Kabupaten Wajo",
                             "BPJS Ketenagakerjaan KC Sengkang", "Tahap 3", "terms", "1 Februari 2024",
                             roles, 3, codes, names, 0, counts};
    int one, many;

    for (int r = 0; r < 80; r++) {
        snprintf(labels[r], sizeof labels[r], "73.13.%02d", r + 1);
        codes[r] = labels[r];
        names[r] = r % 2 ? "Sabbangparu" : NULL;
        for (int k = 0; k < 3; k++)
            counts[r * 3 + k] = r + k;
    }
    s.nregions = 14;
    snprintf(path, sizeof path, "%s/one.pdf", dir);
    cr_assert_eq(certificate_summary_write(path, &s, err, sizeof err), 0, "write: %s", err);
    one = pages(path);
    cr_assert_eq(one, 1, "14 kecamatan fit one page, got %d", one);
    s.nregions = 80;
    snprintf(path, sizeof path, "%s/many.pdf", dir);
    cr_assert_eq(certificate_summary_write(path, &s, err, sizeof err), 0, "write: %s", err);
    many = pages(path);
    cr_assert(many >= 3 && many <= 4, "80 kecamatan and a total need 3 or 4 pages, got %d", many);
    s.nregions = 0;
    snprintf(path, sizeof path, "%s/empty.pdf", dir);
    cr_assert_eq(certificate_summary_write(path, &s, err, sizeof err), 0, "an empty stage: %s", err);
    cr_assert_eq(pages(path), 1, "an empty stage has its totals page");
}

Test(certificate, unwritable_path_is_an_error)
{
    char err[256] = "";

    cr_assert_eq(certificate_write("/nonexistent-dir/cert.pdf", &sample, err, sizeof err), -1,
                 "wrote into a missing folder");
    cr_assert_not_null(strstr(err, "/nonexistent-dir/cert.pdf"), "error names the file: %s", err);
}

Test(certificate, indonesian_dates)
{
    static const struct {
        int y, m, d;
        const char *want;
    } cases[] = {
        {2024, 2, 14, "14 Februari 2024"}, {2024, 2, 29, "29 Februari 2024"},
        {2023, 12, 31, "31 Desember 2023"}, {2024, 1, 1, "1 Januari 2024"},
        {2024, 8, 17, "17 Agustus 2024"},
    };
    char buf[40];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        certificate_format_date(dates_from_civil(cases[i].y, cases[i].m, cases[i].d), buf, sizeof buf);
        cr_assert_str_eq(buf, cases[i].want, "date %d-%d-%d", cases[i].y, cases[i].m, cases[i].d);
    }
}
