/* certificate_stage: a stage's enrolments to certificate and summary PDFs. */
#include "certificate_stage.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certificate.h"
#include "errstr.h"
#include "log.h"
#include "pg.h"
#include "region.h"
#include "roster.h"

/* Columns of the enrolment query. */
enum {
    E_NIK, E_NAME, E_KPJ, E_ROLE, E_INSTITUTION, E_REGION, E_TPS, E_PROGRAMS, E_FROM, E_TO,
    E_EVENT, E_KEC_NAME, E_UNIT_NAME
};

static const char enrolments_sql[] =
    "SELECT e.nik, e.full_name, coalesce(e.kpj, ''), e.role, e.institution, e.region_code,"
    " coalesce(e.tps::text, ''), array_to_string(e.programs, ', '),"
    " e.valid_from - DATE '1970-01-01', e.valid_to - DATE '1970-01-01', e.enroll_event,"
    " coalesce(k.name, ''), coalesce(u.name, '')"
    " FROM stage_enrolments e"
    " LEFT JOIN regions k ON k.region_code = left(e.region_code, 6)"
    " LEFT JOIN regions u ON u.region_code = e.region_code AND length(e.region_code) = 10"
    " WHERE e.agreement_id = $1 AND e.stage_no = $2::int"
    " ORDER BY e.region_code, e.role, e.full_name, e.nik, e.enroll_event";

/* Short column headings of the summary, by role. */
static const char *const role_labels[ROLE__COUNT] = {
    "PPK", "PPS", "Sekr. PPK", "Sekr. PPS", "Pantarlih", "KPPS", "Linmas", "Panwascam",
    "Sekr. Panwascam", "PKD", "PTPS", "Staf pendukung"};

/* mkdir -p */
static int make_dirs(const char *dir, char *errstr, size_t n)
{
    char path[PATH_MAX];

    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return errstr_fail(errstr, n, "unable to create '%s': %s", path, strerror(errno));
            if (!c)
                break;
            *p = c;
        }
    }
    return 0;
}

/* "TPS 3, Desa Tosora, Kec. Majauleng" from the row's region, TPS and names. */
static void unit_text(const PGresult *res, int row, char *out, size_t size)
{
    const char *code = PQgetvalue(res, row, E_REGION), *tps = PQgetvalue(res, row, E_TPS);
    const char *kec = PQgetvalue(res, row, E_KEC_NAME), *unit = PQgetvalue(res, row, E_UNIT_NAME);
    char dotted[16], kec_dotted[16], kec_plain[8];
    size_t used = 0;

    region_format_dotted(code, dotted, sizeof dotted);
    snprintf(kec_plain, sizeof kec_plain, "%.6s", code);
    region_format_dotted(kec_plain, kec_dotted, sizeof kec_dotted);
    out[0] = '\0';
    if (*tps)
        used += (size_t)snprintf(out + used, size - used, "TPS %s, ", tps);
    if (strlen(code) == 10 && used < size)
        used += (size_t)snprintf(out + used, size - used, "%s %s, ",
                                 code[6] == '1' ? "Kelurahan" : "Desa", *unit ? unit : dotted);
    if (used < size)
        snprintf(out + used, size - used, "Kecamatan %s", *kec ? kec : kec_dotted);
}

/* The summary's rows (kecamatan, in the order rows came) and counts by role. */
typedef struct tally {
    char (*codes)[16];
    const char **code_ptrs, **names;
    long *counts;             /* nregions x ROLE__COUNT */
    int nregions;
} tally;

static void tally_release(tally *t)
{
    free(t->codes);
    free(t->code_ptrs);
    free(t->names);
    free(t->counts);
}

static int tally_add(tally *t, const PGresult *res, int row)
{
    char plain[8], dotted[16];
    int role = roster_role_parse(PQgetvalue(res, row, E_ROLE)), r;

    snprintf(plain, sizeof plain, "%.6s", PQgetvalue(res, row, E_REGION));
    region_format_dotted(plain, dotted, sizeof dotted);
    for (r = 0; r < t->nregions; r++)
        if (strcmp(t->codes[r], dotted) == 0)
            break;
    if (r == t->nregions) {
        snprintf(t->codes[r], sizeof t->codes[r], "%s", dotted);
        t->names[r] = PQgetvalue(res, row, E_KEC_NAME);
        t->nregions++;
    }
    if (role < 0)
        return -1;
    t->counts[r * ROLE__COUNT + role]++;
    return 0;
}

static int write_summary(const tally *t, const certificate_summary *base, const char *dir,
                         certificate_stage_counts *counts, char *errstr, size_t n)
{
    const char *labels[ROLE__COUNT];
    int used[ROLE__COUNT], nroles = 0, rc;
    long *cells = calloc((size_t)(t->nregions ? t->nregions : 1) * ROLE__COUNT, sizeof *cells);
    certificate_summary s = *base;
    char path[PATH_MAX];

    if (!cells)
        return errstr_fail(errstr, n, "out of memory");
    for (int k = 0; k < ROLE__COUNT; k++) {
        long any = 0;
        for (int r = 0; r < t->nregions; r++)
            any += t->counts[r * ROLE__COUNT + k];
        if (any) {
            used[nroles] = k;
            labels[nroles++] = role_labels[k];
        }
    }
    for (int r = 0; r < t->nregions; r++)
        for (int k = 0; k < nroles; k++)
            cells[r * nroles + k] = t->counts[r * ROLE__COUNT + used[k]];
    for (int r = 0; r < t->nregions; r++)
        t->code_ptrs[r] = t->codes[r];
    s.role_labels = labels;
    s.nroles = nroles;
    s.region_codes = t->code_ptrs;
    s.region_names = t->names;
    s.nregions = t->nregions;
    s.counts = cells;
    snprintf(path, sizeof path, "%s/summary.pdf", dir);
    rc = certificate_summary_write(path, &s, errstr, n);
    counts->regions = t->nregions;
    counts->roles = nroles;
    free(cells);
    return rc;
}

int certificate_stage_write(PGconn *pg, const char *agreement, int stage_no, const char *dir,
                            int32_t issued_on, certificate_stage_counts *counts, char *errstr,
                            size_t n)
{
    char stage_txt[16], issued[40], stage_label[200], terms[160], d1[40], d2[40];
    const char *p[2] = {agreement, stage_txt};
    PGresult *head = NULL, *rows = NULL;
    FILE *index = NULL;
    tally t = {0};
    int rc = -1, nrows;

    memset(counts, 0, sizeof *counts);
    snprintf(stage_txt, sizeof stage_txt, "%d", stage_no);
    certificate_format_date(issued_on, issued, sizeof issued);
    if (!(head = pg_query(pg,
                          "SELECT a.name, a.counterparty, a.bpjs_branch, s.name,"
                          " s.term_from - DATE '1970-01-01', s.term_to - DATE '1970-01-01'"
                          " FROM stages s JOIN agreements a USING (agreement_id)"
                          " WHERE s.agreement_id = $1 AND s.stage_no = $2::int",
                          2, p, errstr, n)))
        goto out;
    if (PQntuples(head) != 1) {
        errstr_fail(errstr, n, "agreement %s has no stage %d (covadm stages add)", agreement,
                    stage_no);
        goto out;
    }
    if (!(rows = pg_query(pg, enrolments_sql, 2, p, errstr, n)))
        goto out;
    if (make_dirs(dir, errstr, n) < 0)
        goto out;
    nrows = PQntuples(rows);
    t.codes = calloc((size_t)nrows + 1, sizeof *t.codes);
    t.code_ptrs = calloc((size_t)nrows + 1, sizeof *t.code_ptrs);
    t.names = calloc((size_t)nrows + 1, sizeof *t.names);
    t.counts = calloc(((size_t)nrows + 1) * ROLE__COUNT, sizeof *t.counts);
    if (!t.codes || !t.code_ptrs || !t.names || !t.counts) {
        errstr_fail(errstr, n, "out of memory");
        goto out;
    }
    snprintf(stage_label, sizeof stage_label, "Tahap %d - %s", stage_no, PQgetvalue(head, 0, 3));
    snprintf(terms, sizeof terms, "masa tugas mulai %s s.d. %s",
             certificate_format_date((int32_t)atol(PQgetvalue(head, 0, 4)), d1, sizeof d1),
             certificate_format_date((int32_t)atol(PQgetvalue(head, 0, 5)), d2, sizeof d2));
    {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/index.tsv", dir);
        if (!(index = fopen(path, "w"))) {
            errstr_fail(errstr, n, "unable to create '%s': %s", path, strerror(errno));
            goto out;
        }
        fprintf(index, "seq\tfile\tnumber\tnik_masked\tkpj\trole\tregion_code\n");
    }
    for (int r = 0; r < nrows; r++) {
        char path[PATH_MAX], number[96], masked[24], role[64], unit[256], period[96], code[16];
        char verification[16];
        certificate_info c;

        snprintf(number, sizeof number, "%s/T%d/%05d", agreement, stage_no, r + 1);
        log_mask_nik(PQgetvalue(rows, r, E_NIK), masked, sizeof masked);
        snprintf(role, sizeof role, "%s (%s)", PQgetvalue(rows, r, E_ROLE),
                 PQgetvalue(rows, r, E_INSTITUTION));
        for (char *q = role; *q; q++)
            if (*q == '_')
                *q = ' ';
        unit_text(rows, r, unit, sizeof unit);
        region_format_dotted(PQgetvalue(rows, r, E_REGION), code, sizeof code);
        snprintf(period, sizeof period, "%s s.d. %s",
                 certificate_format_date((int32_t)atol(PQgetvalue(rows, r, E_FROM)), d1, sizeof d1),
                 certificate_format_date((int32_t)atol(PQgetvalue(rows, r, E_TO)), d2, sizeof d2));
        snprintf(verification, sizeof verification, "%.8s", PQgetvalue(rows, r, E_EVENT));
        for (char *q = verification; *q; q++)
            if (*q >= 'a' && *q <= 'f')
                *q = (char)(*q - 'a' + 'A');
        c = (certificate_info){number, PQgetvalue(rows, r, E_NAME), masked,
                               PQgetvalue(rows, r, E_KPJ), role, unit, code,
                               PQgetvalue(rows, r, E_PROGRAMS), period, agreement,
                               PQgetvalue(head, 0, 0), PQgetvalue(head, 0, 1),
                               PQgetvalue(head, 0, 2), stage_label, issued, verification};
        snprintf(path, sizeof path, "%s/cert-%05d.pdf", dir, r + 1);
        if (certificate_write(path, &c, errstr, n) < 0)
            goto out;
        fprintf(index, "%d\tcert-%05d.pdf\t%s\t%s\t%s\t%s\t%s\n", r + 1, r + 1, number, masked,
                PQgetvalue(rows, r, E_KPJ), PQgetvalue(rows, r, E_ROLE), code);
        if (tally_add(&t, rows, r) < 0) {
            errstr_fail(errstr, n, "unknown role '%s'", PQgetvalue(rows, r, E_ROLE));
            goto out;
        }
        counts->certificates++;
    }
    {
        certificate_summary s = {agreement, PQgetvalue(head, 0, 0), PQgetvalue(head, 0, 1),
                                 PQgetvalue(head, 0, 2), stage_label, terms, issued,
                                 NULL, 0, NULL, NULL, 0, NULL};
        if (write_summary(&t, &s, dir, counts, errstr, n) < 0)
            goto out;
    }
    if (fclose(index) != 0) {
        index = NULL;
        errstr_fail(errstr, n, "unable to write '%s/index.tsv': %s", dir, strerror(errno));
        goto out;
    }
    index = NULL;
    rc = 0;
out:
    if (index)
        fclose(index);
    tally_release(&t);
    PQclear(rows);
    PQclear(head);
    return rc;
}
