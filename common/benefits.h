/* benefits: the versioned benefit table (amounts, multipliers, deadlines) with the date
 * each version takes effect, loaded from deploy/benefits/benefit_table.tsv, the single
 * source of every figure the claim workflow uses (the consumer loads the same rows into
 * PostgreSQL through benefits_row_at).
 *
 * File format: UTF-8 text, one row per line, four tab-separated fields, a header row first:
 *     version<TAB>effective_from<TAB>key<TAB>value
 *     PP82-2019<TAB>2019-12-02<TAB>jkm_lump_sum<TAB>20000000
 * Blank lines and lines starting with '#' are skipped. Every row of a version carries the
 * same effective_from (a local date); every version states every required key (no
 * inheritance from the previous version); values are whole non-negative integers.
 *
 * A table is immutable once built: any number of threads may read it at once; build and
 * destroy it from one thread. */
#ifndef BENEFITS_H
#define BENEFITS_H

#include <stddef.h>
#include <stdint.h>

/* Keys the claim workflow reads; every version must state each of them. */
#define BENEFIT_JKM_LUMP_SUM             "jkm_lump_sum"
#define BENEFIT_JKM_PERIODIC             "jkm_periodic"
#define BENEFIT_JKM_FUNERAL              "jkm_funeral"
#define BENEFIT_JKK_DEATH_WAGE_MULT      "jkk_death_wage_multiplier"
#define BENEFIT_JKK_DEATH_FUNERAL        "jkk_death_funeral"
#define BENEFIT_JKK_DEATH_PERIODIC       "jkk_death_periodic"
#define BENEFIT_JKK_DISABILITY_WAGE_MULT "jkk_disability_wage_multiplier"
#define BENEFIT_JKK_TEMP_FIRST_MONTHS    "jkk_temporary_first_months"
#define BENEFIT_JKK_TEMP_FIRST_PCT       "jkk_temporary_first_pct"
#define BENEFIT_JKK_TEMP_AFTER_PCT       "jkk_temporary_after_pct"
#define BENEFIT_FIRST_REPORT_HOURS       "first_report_deadline_hours"
#define BENEFIT_JKK_LAPSE_YEARS          "jkk_claim_lapse_years"
#define BENEFIT_DETERMINATION_DAYS       "determination_days"

enum { BENEFITS_VERSION_MAX = 31, BENEFITS_KEY_MAX = 63 };

typedef struct benefit_table benefit_table;
typedef struct benefit_version benefit_version;

/* One row of the table. Strings in rows returned by benefits_row_at belong to the table. */
typedef struct benefit_row {
    const char *version;    /* e.g. "PP82-2019": letters, digits, '.', '_', '-' */
    int32_t effective_from; /* local date (days since 1970-01-01) the version takes effect */
    const char *key;        /* lower-case letters, digits, '_' */
    long long value;        /* >= 0 */
} benefit_row;

/* Read and validate the file at path. Returns a new table (free with benefits_destroy), or
 * NULL with errstr set to "path:line: rule" (or "path: rule" for a whole-file rule). */
benefit_table *benefits_load(const char *path, char *errstr, size_t errstr_size);

/* As benefits_load, over text already in memory; name is used in error messages. */
benefit_table *benefits_parse(const char *text, const char *name, char *errstr,
                              size_t errstr_size);

/* Build a table from rows (copied; the caller keeps ownership of rows). Errors read
 * "row N: rule" with N counted from 1. */
benefit_table *benefits_from_rows(const benefit_row *rows, size_t nrows, char *errstr,
                                  size_t errstr_size);

/* Free a table; NULL is accepted. Versions and rows obtained from it become invalid. */
void benefits_destroy(benefit_table *t);

/* The version in force on local_day (the one with the latest effective_from <= local_day),
 * or NULL before the first version. Owned by the table. */
const benefit_version *benefits_at(const benefit_table *t, int32_t local_day);

/* A version's name (owned by the table) and effective date. */
const char *benefits_version_name(const benefit_version *v);
int32_t benefits_version_from(const benefit_version *v);

/* The value of key in version v, or -1 when the version does not state the key. */
long long benefits_get(const benefit_version *v, const char *key);

/* Rows in file (or input) order, e.g. to copy the table into PostgreSQL. NULL past the end. */
size_t benefits_row_count(const benefit_table *t);
const benefit_row *benefits_row_at(const benefit_table *t, size_t i);

#endif
