/* premiums: the versioned contribution rates (deploy/premiums/premium_rates.tsv) and billing
 * rules (deploy/premiums/billing_rules.tsv), parsed and validated as the benefit table is
 * (benefits.h), and the premium of a worker's term under them. The same rules are written
 * in SQL in deploy/sql/012_billing.sql (premium_apply, premium_term_months, billing_owed),
 * and tests/integration/test_80_premiums.sh checks that both give the same amounts.
 *
 * The rules, in the order applied (domain.md "Contributions", SOURCES.md "Premiums" and
 * "Billing rules"):
 *  1. Months are calendar months of local dates (coverage dates are local dates).
 *  2. A month is owed for a program, in full, when the term covers at least
 *     month_owed_min_covered_days days of it, and not at all otherwise; the rules version
 *     is the one in force on the month's last day, for the agreement's scheme.
 *  3. An owed month is priced with the rates version in force on the month's last day.
 *  4. Base contribution: the flat amount, or the wage x pct_of_wage / 10000 rounded to the
 *     nearest rupiah (halves up), never less than min. The pct_of_wage of a PU JKK row is
 *     that of the agreement's risk class; a '-' row (risk class 0) stands for every class.
 *  5. Relief: base - round(base x relief_bp / 10000), rounded the same way.
 *     jkp_share_bp changes nothing billed (the JKP share is part of the rate).
 *  6. A term's premium is the sum over its programs and owed months. A program the
 *     version states no rate for (PU JHT) is an error, not zero.
 *
 * File formats: the comments at the top of each file. Both tables are immutable once built:
 * any number of threads may read them; build and destroy each from one thread. */
#ifndef PREMIUMS_H
#define PREMIUMS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    PREMIUM_SCHEME_NONE = -1, PREMIUM_BPU, PREMIUM_PU, PREMIUM_SCHEME__COUNT
} premium_scheme;

typedef enum {
    PREMIUM_KIND_NONE = -1, PREMIUM_PCT_OF_WAGE, PREMIUM_MIN, PREMIUM_FLAT, PREMIUM_RELIEF_BP,
    PREMIUM_JKP_SHARE_BP, PREMIUM_KIND__COUNT
} premium_kind;

/* Rules every version of billing_rules.tsv states (BPU all three, PU the first). */
#define PREMIUM_RULE_MIN_DAYS      "month_owed_min_covered_days"
#define PREMIUM_RULE_LAPSE_MONTHS  "lapse_after_unpaid_months"
#define PREMIUM_RULE_ARREARS       "arrears_payable_months"

enum { PREMIUMS_VERSION_MAX = 31, PREMIUMS_RULE_MAX = 63, PREMIUMS_SOURCE_MAX = 300 };

typedef struct premium_rates premium_rates;
typedef struct billing_rules billing_rules;

/* One row of premium_rates.tsv. Strings belong to the table. */
typedef struct premium_rate_row {
    const char *version;
    int32_t effective_from;   /* local date (days since 1970-01-01) */
    premium_scheme scheme;
    unsigned program;         /* one PROG_* bit (roster.h) */
    int risk_class;           /* 1-5, or 0 for '-' (every class) */
    premium_kind kind;
    long long value;          /* basis points or whole rupiah, >= 0 */
    const char *source;
} premium_rate_row;

/* One row of billing_rules.tsv. Strings belong to the table. */
typedef struct billing_rule_row {
    const char *version;
    int32_t effective_from;
    premium_scheme scheme;
    const char *rule;         /* PREMIUM_RULE_* */
    long long value;
    const char *source;
} billing_rule_row;

/* Read and validate a file; NULL with errstr "path:line: rule" (or "path: rule"). */
premium_rates *premiums_rates_load(const char *path, char *errstr, size_t errstr_size);
billing_rules *premiums_rules_load(const char *path, char *errstr, size_t errstr_size);

/* The same over text in memory; name is used in error messages. */
premium_rates *premiums_rates_parse(const char *text, const char *name, char *errstr,
                                    size_t errstr_size);
billing_rules *premiums_rules_parse(const char *text, const char *name, char *errstr,
                                    size_t errstr_size);

/* Free a table; NULL is accepted. Rows obtained from it become invalid. */
void premiums_rates_destroy(premium_rates *t);
void premiums_rules_destroy(billing_rules *r);

/* Rows in file order (to copy the tables into PostgreSQL); NULL past the end. */
size_t premiums_rates_count(const premium_rates *t);
const premium_rate_row *premiums_rates_row(const premium_rates *t, size_t i);
size_t premiums_rules_count(const billing_rules *r);
const billing_rule_row *premiums_rules_row(const billing_rules *r, size_t i);

/* Names as in the files and SQL ("BPU", "pct_of_wage"); NULL out of range. */
const char *premiums_scheme_name(premium_scheme s);
const char *premiums_kind_name(premium_kind k);
/* Parse a name: the value, or -1 when unknown. */
int premiums_scheme_parse(const char *s);
int premiums_kind_parse(const char *s);

/* The name of the version in force on local_day (owned by the table), or NULL before the
 * first version. */
const char *premiums_rates_version_at(const premium_rates *t, int32_t local_day);
const char *premiums_rules_version_at(const billing_rules *r, int32_t local_day);

/* The value of rule for scheme in the rules version in force on local_day, or -1 when no
 * version is in force or it does not state the rule for that scheme. */
long long premiums_rule(const billing_rules *r, int32_t local_day, premium_scheme s,
                        const char *rule);

/* The first and last day of the month that contains local_day. */
int32_t premiums_month_first(int32_t local_day);
int32_t premiums_month_last(int32_t local_day);

/* Days of the month containing month_day that [from, to] covers (0 when none). */
int premiums_covered_days(int32_t month_day, int32_t from, int32_t to);

/* Whether the month containing month_day is owed for a term [from, to] (rule 2): 1 or 0,
 * or -1 + errstr when no rules version is in force on the month's last day. */
int premiums_month_owed(const billing_rules *r, premium_scheme s, int32_t month_day,
                        int32_t from, int32_t to, char *errstr, size_t errstr_size);

/* The contribution of one program for the month containing month_day (rules 3-5) on
 * monthly wage `wage`: 0 with *amount (and *version, owned by the table, unless NULL), or
 * -1 + errstr (no version in force, no rate for scheme/program, wage < 0). */
int premiums_month_amount(const premium_rates *t, int32_t month_day, premium_scheme s,
                          unsigned program, int risk_class, long long wage,
                          long long *amount, const char **version, char *errstr,
                          size_t errstr_size);

/* A term's premium (rule 6). */
typedef struct premium_term {
    int months;               /* months owed (the same for every program) */
    long long jkk, jkm, jht;  /* per program, 0 when not among programs */
    long long total;
} premium_term;

/* The premium of a term [from, to] of programs (PROG_* bits) on monthly wage `wage` under
 * scheme and risk_class (PU JKK; 0 otherwise). 0 with *out, or -1 + errstr from the rules
 * above (from > to included). */
int premiums_term(const premium_rates *t, const billing_rules *r, premium_scheme s,
                  int risk_class, unsigned programs, long long wage, int32_t from, int32_t to,
                  premium_term *out, char *errstr, size_t errstr_size);

#endif
