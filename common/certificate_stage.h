/* certificate_stage: the certificates of one stage of an agreement (table stages, deploy/sql/
 * 010): reads the stage's enrolments (view stage_enrolments) with region names, writes one
 * certificate PDF per enrolment, a summary PDF and an index (certificate.h draws them).
 * Called on the thread that owns the connection. */
#ifndef CERTIFICATE_STAGE_H
#define CERTIFICATE_STAGE_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

/* What certificate_stage_write wrote. */
typedef struct certificate_stage_counts {
    long certificates;   /* cert-NNNNN.pdf files */
    int regions, roles;  /* rows and columns of summary.pdf */
} certificate_stage_counts;

/* Write the stage's documents into dir (created if missing, with its parents): for the
 * enrolments ordered by region, role and name, cert-00001.pdf, cert-00002.pdf, ...; then
 * summary.pdf (by kecamatan and role) and index.tsv (seq, file, certificate number, masked
 * NIK, KPJ, role, region code: no name, no full NIK). issued_on is the date printed. Files
 * from an earlier run are replaced. 0 + *counts, or -1 + errstr (no such stage, a file that
 * cannot be written). */
int certificate_stage_write(PGconn *pg, const char *agreement, int stage_no, const char *dir,
                            int32_t issued_on, certificate_stage_counts *counts, char *errstr,
                            size_t errstr_size);

#endif
