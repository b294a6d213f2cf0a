/* rulecase: the data-driven tests of a record type's rules (a validator of common/). A
 * cases file (tests/unit/data/<type>_cases.txt) holds one case a line, TAB-separated:
 *     name [base] settings expect [field rule]
 * A case starts from a base record, edits it with its settings (settings.h: key=value,
 * -key, \xHH) and checks what the rules report: OK, no error and no warning; ERR, an error
 * on field whose rule contains rule; WARN, such a warning and no error. Where the type has
 * row rules (what a producer checks before it sets the envelope), every case also checks
 * that they report what the full rules do less the errors on event_id and event_time.
 * A test file describes its record type once in a rulecase_type and defines its tests with
 * RULECASE_TEST. Linked into every unit test. */
#ifndef RULECASE_H
#define RULECASE_H

#include <stddef.h>

#include <criterion/parameterized.h>

#include "settings.h"
#include "validate.h"

#define RULECASE_MAX 256     /* cases one file may hold */
#define RULECASE_RECORDS 16  /* records a records file may hold */

/* A record type under test: where its cases are and how to build, edit and check one. */
typedef struct rulecase_type {
    const char *cases;       /* the cases file, relative to tests/unit */
    int based;               /* 1: a base column follows the name */
    size_t size;             /* sizeof the record */
    /* The base record: the first record of records (settings_load with init and set)
     * when records is set, else base(name, rec), which returns 0, or -1 for an unknown
     * name. */
    const char *records;
    settings_init_fn init;
    int (*base)(const char *name, void *rec);
    settings_set_fn set;     /* a case's key=value items */
    settings_drop_fn drop;   /* its -key items; NULL when the type drops no field */
    /* The full rules; fill r and return r->errors. */
    int (*validate)(const void *rec, validate_report *r);
    /* The row rules (the full ones less event_id and event_time); NULL when none. */
    int (*validate_row)(const void *rec, validate_report *r);
} rulecase_type;

/* One line of a cases file. */
typedef struct rulecase {
    int line;            /* 1-based number of its line */
    char name[64];
    char base[16];       /* "" when the file has no base column */
    char settings[256];
    char expect[8];      /* OK, ERR or WARN */
    char field[32];      /* for ERR and WARN */
    char rule[120];      /* a substring of the rule */
} rulecase;

/* Criterion parameters for the cases of t (at most RULECASE_MAX). For
 * ParameterizedTestParameters. */
struct criterion_test_params rulecase_params(const rulecase_type *t);

/* Run case c: build its base record, apply its settings and rulecase_expect. */
void rulecase_run(const rulecase_type *t, const rulecase *c);

/* Assert that t's rules report on rec what expect says (OK, ERR or WARN; field and rule
 * for ERR and WARN), and that its row rules agree; what names the record in the messages
 * ("line 12 no_event_id"). */
void rulecase_expect(const rulecase_type *t, const void *rec, const char *expect, const char *field,
                     const char *rule, const char *what);

/* Define the parameterized Criterion test suite::name: one test per case of *t. */
#define RULECASE_TEST(suite, name, t)                                                              \
    ParameterizedTestParameters(suite, name)                                                       \
    {                                                                                              \
        return rulecase_params(t);                                                                 \
    }                                                                                              \
    ParameterizedTest(rulecase *c, suite, name)                                                    \
    {                                                                                              \
        rulecase_run(t, c);                                                                        \
    }

/* Assert that t->cases holds at least min cases, all of them loaded (fewer than
 * RULECASE_MAX), OK ones and ERR ones among them. */
void rulecase_check_file(const rulecase_type *t, size_t min);

/* Assert that the records of t->records are n that t's rules accept, then one last that
 * they refuse with an error on field edge (the codec's edge case). */
void rulecase_check_records(const rulecase_type *t, size_t n, const char *edge);

/* The first issue of r on field whose rule contains rule (any rule for ""), a warning when
 * warning is set, else an error; NULL when there is none. */
const validate_issue *rulecase_issue(const validate_report *r, const char *field, const char *rule,
                                     int warning);

#endif
