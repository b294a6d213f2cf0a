/* certificate: the PDF documents of a certificate stage, drawn with Cairo (cairo-pdf): one
 * certificate per enrolment (A4 portrait, one page) and one summary per stage (A4 landscape:
 * enrolments by kecamatan and role, as many pages as the rows need). No database: the
 * caller (covadm certificates) reads the stage and passes plain text. Every call has its
 * own Cairo surface, so any thread may call; the strings are borrowed for the call only.
 * Text is UTF-8, set in DejaVu Sans (Debian fonts-dejavu-core). */
#ifndef CERTIFICATE_H
#define CERTIFICATE_H

#include <stddef.h>
#include <stdint.h>

/* One worker's certificate. NULL or "" prints as "-" (kpj: "belum terbit", not issued). */
typedef struct certificate_info {
    const char *number;         /* certificate number, e.g. "PKS-KPU-7313-2023/T1/00001" */
    const char *full_name;
    const char *nik_masked;     /* never the full NIK (style.md) */
    const char *kpj;
    const char *role;           /* as printed, e.g. "KPPS (KPU)" */
    const char *unit;           /* unit of work, e.g. "TPS 3, Desa Tosora, Kec. Majauleng" */
    const char *region_code;    /* dotted Kemendagri code of the unit */
    const char *programs;       /* e.g. "JKK, JKM" */
    const char *period;         /* e.g. "25 Januari 2024 s.d. 24 Februari 2024" */
    const char *agreement_id;
    const char *agreement_name;
    const char *counterparty;   /* the employer party of the agreement */
    const char *bpjs_branch;
    const char *stage;          /* e.g. "Tahap 1 - PPK dan PPS" */
    const char *issued_on;      /* e.g. "1 Februari 2024" */
    const char *verification;   /* a short code derived from the enrolment event */
} certificate_info;

/* Write c as a one-page PDF at path (replaced if it exists). 0, or -1 + errstr. */
int certificate_write(const char *path, const certificate_info *c, char *errstr,
                      size_t errstr_size);

/* A stage's summary: counts[r * nroles + k] enrolments of role k in region r. */
typedef struct certificate_summary {
    const char *agreement_id, *agreement_name, *counterparty, *bpjs_branch;
    const char *stage;          /* e.g. "Tahap 1 - PPK dan PPS" */
    const char *terms;          /* e.g. "terms starting 1 Januari 2023 s.d. 31 Januari 2023" */
    const char *issued_on;
    const char *const *role_labels;   /* column headings, nroles of them */
    int nroles;
    const char *const *region_codes;  /* row headings (dotted codes), nregions of them */
    const char *const *region_names;  /* names, or NULL entries when unknown */
    int nregions;
    const long *counts;
} certificate_summary;

/* Write s as a PDF at path: a table with a total per row and column and a grand total.
 * 0, or -1 + errstr. */
int certificate_summary_write(const char *path, const certificate_summary *s, char *errstr,
                              size_t errstr_size);

/* Free what Cairo and fontconfig keep for the whole process after drawing text (font
 * caches, fontconfig's configuration), so that a leak checker sees only real leaks. Call
 * once, after the last certificate of the process; drawing again afterwards is allowed
 * (they load again). */
void certificate_release(void);

/* A local date written the Indonesian way, "14 Februari 2024", into buf. Returns buf. */
char *certificate_format_date(int32_t day, char *buf, size_t size);

#endif
