/* validate: the rules of a roster change and the checks every record's rules share. */
#include "validate.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "nik.h"
#include "region.h"
#include "utf8.h"

#define WAGE_MAX 100000000
#define TPS_MAX 999

/* contracts.md column names of the RF_* bits, in bit order. */
static const char *const field_names[] = {
    "full_name", "birth_date", "gender", "institution", "role", "region_code", "tps",
    "term_start", "term_end", "monthly_wage", "programs", "agreement_id", "kpj",
    "effective_date", "phone",
};
#define FIELD_COUNT (int)(sizeof field_names / sizeof field_names[0])

enum {
    ENROLL_REQUIRED = RF_FULL_NAME | RF_BIRTH_DATE | RF_GENDER | RF_INSTITUTION | RF_ROLE |
                      RF_REGION | RF_TERM_START | RF_TERM_END | RF_WAGE | RF_AGREEMENT,
    UPDATE_CHANGEABLE = RF_FULL_NAME | RF_BIRTH_DATE | RF_GENDER | RF_KPJ | RF_PHONE |
                        RF_WAGE | RF_TERM_END,
    UPDATE_FORBIDDEN = RF_INSTITUTION | RF_ROLE | RF_REGION | RF_TPS | RF_TERM_START |
                       RF_PROGRAMS | RF_AGREEMENT,
};

void validate_report_reset(validate_report *r)
{
    r->count = r->errors = r->warnings = 0;
}

void validate_add(validate_report *r, int warning, const char *field, const char *fmt, ...)
{
    va_list ap;
    validate_issue *it;

    if (warning)
        r->warnings++;
    else
        r->errors++;
    if (r->count >= (int)(sizeof r->items / sizeof r->items[0]))
        return;
    it = &r->items[r->count++];
    snprintf(it->field, sizeof it->field, "%s", field);
    va_start(ap, fmt);
    vsnprintf(it->rule, sizeof it->rule, fmt, ap);
    va_end(ap);
    it->warning = warning;
}

/* ---- the shared checks ---- */

int validate_text(validate_report *r, const char *field, const char *s, size_t size)
{
    const char *end = memchr(s, '\0', size);

    if (!end) {
        validate_add(r, 0, field, "%s is longer than %zu bytes", field, size - 1);
        return -1;
    }
    if (!utf8_valid_len(s, (size_t)(end - s))) {
        validate_add(r, 0, field, "%s is not valid UTF-8", field);
        return -1;
    }
    return 0;
}

int validate_day(validate_report *r, const char *field, int32_t day)
{
    char b[24];

    if (day >= VALIDATE_DAY_MIN && day <= VALIDATE_DAY_MAX)
        return 0;
    validate_add(r, 0, field, "%s %s is not within 1900-01-01..2100-12-31", field,
                 dates_format(day, b, sizeof b));
    return -1;
}

int validate_time(validate_report *r, const char *field, int64_t us)
{
    char b[48];

    if (us >= VALIDATE_TIME_MIN_US && us <= VALIDATE_TIME_MAX_US)
        return 0;
    validate_add(r, 0, field, "%s %s is not within 1900-01-01..2100-12-31", field,
                 dates_format_timestamp(us, b, sizeof b));
    return -1;
}

int validate_is_uuid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                     (s[i] >= 'A' && s[i] <= 'F'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}

int validate_event_id(validate_report *r, const char *event_id, size_t size)
{
    if (size > 0 && event_id[0] == '\0') {
        validate_add(r, 0, "event_id", "event_id is required");
        return -1;
    }
    /* Only a terminated text of 36 bytes can be a UUID; memchr keeps the reads inside. */
    if (size < 37 || !memchr(event_id, '\0', size) || !validate_is_uuid(event_id)) {
        validate_add(r, 0, "event_id", "event_id must be a UUID of 8-4-4-4-12 hex digits");
        return -1;
    }
    return 0;
}

/* The bytes a data center id may hold (validate_source's rule), as a table: strspn
 * builds its own table on every call. */
static const unsigned char source_chars[256] = {
    ['.'] = 1, ['_'] = 1, ['-'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int validate_source(validate_report *r, const char *source, size_t size)
{
    size_t n = 0;

    while (n < size && source_chars[(unsigned char)source[n]])
        n++;
    if (size == 0 || source[0] == '\0') {
        validate_add(r, 0, "source", "source is required");
        return -1;
    }
    /* Good only when the id's bytes run up to its NUL, within the limit. */
    if (n == size || source[n] != '\0' || n > VALIDATE_SOURCE_MAX) {
        validate_add(r, 0, "source", "source must be a data center id: 1-%d letters, digits, '.', '_' or '-'",
                     VALIDATE_SOURCE_MAX);
        return -1;
    }
    return 0;
}

/* ---- roster changes ---- */

static int has(const roster_change *rc, unsigned bit)
{
    return (rc->fields & bit) != 0;
}

/* 1 when day is a date within the sane range (so comparisons with it mean something). */
static int day_ok(int32_t day)
{
    return day >= VALIDATE_DAY_MIN && day <= VALIDATE_DAY_MAX;
}

/* 1 when the fixed-size field holds a terminated string. */
static int terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

static int digits_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int tps_role(roster_role role)
{
    return role == ROLE_KPPS || role == ROLE_LINMAS || role == ROLE_PTPS || role == ROLE_PANTARLIH;
}

static int kecamatan_role(roster_role role)
{
    return role == ROLE_PPK || role == ROLE_PANWASCAM || role == ROLE_SEKRETARIAT_PPK ||
           role == ROLE_SEKRETARIAT_PANWASCAM || role == ROLE_SUPPORT_STAFF;
}

static roster_institution role_institution(roster_role role)
{
    switch (role) {
    case ROLE_PANWASCAM:
    case ROLE_SEKRETARIAT_PANWASCAM:
    case ROLE_PKD:
    case ROLE_PTPS:
        return INST_BAWASLU;
    case ROLE_SUPPORT_STAFF:
        return INST_NONE;
    default:
        return INST_KPU;
    }
}

static const char *level_name(int level)
{
    switch (level) {
    case REGION_PROVINCE: return "province";
    case REGION_REGENCY: return "regency";
    case REGION_KECAMATAN: return "kecamatan";
    default: return "desa";
    }
}

static int check_nik(const roster_change *rc, nik_info *info, validate_report *r)
{
    char err[128];

    if (!terminated(rc->nik, sizeof rc->nik) || rc->nik[0] == '\0') {
        validate_add(r, 0, "nik", "nik is required");
        return -1;
    }
    if (nik_check(rc->nik, info, err, sizeof err) < 0) {
        validate_add(r, 0, "nik", "%s", err);
        return -1;
    }
    return 0;
}

/* full_name, already known to be terminated UTF-8 (check_texts). */
static void check_full_name(const roster_change *rc, validate_report *r)
{
    const unsigned char *p = (const unsigned char *)rc->full_name;
    int blank = 1;

    for (; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            validate_add(r, 0, "full_name", "full_name contains a control character");
            return;
        }
        if (*p != ' ')
            blank = 0;
    }
    if (blank)
        validate_add(r, 0, "full_name", "full_name must have 1-100 characters, not all blanks");
}

static void check_birth_date(const roster_change *rc, int32_t today, validate_report *r)
{
    char b[16], t[16];

    if (rc->birth_date == DATE_NONE)
        validate_add(r, 0, "birth_date", "birth_date is empty");
    else if (day_ok(rc->birth_date) && rc->birth_date > today)
        validate_add(r, 0, "birth_date", "birth_date %s is in the future (today is %s)",
                     dates_format(rc->birth_date, b, sizeof b), dates_format(today, t, sizeof t));
}

static void check_gender(const roster_change *rc, validate_report *r)
{
    if (rc->gender != 'L' && rc->gender != 'P')
        validate_add(r, 0, "gender", "gender must be L or P");
}

static void check_wage(const roster_change *rc, validate_report *r)
{
    if (rc->monthly_wage <= 0 || rc->monthly_wage > WAGE_MAX)
        validate_add(r, 0, "monthly_wage", "monthly_wage must be more than 0 and at most %d rupiah",
                     WAGE_MAX);
}

static void check_kpj(const roster_change *rc, validate_report *r)
{
    if (!terminated(rc->kpj, sizeof rc->kpj) || strlen(rc->kpj) != 11 || !digits_only(rc->kpj, 11))
        validate_add(r, 0, "kpj", "kpj must be 11 digits");
}

static void check_phone(const roster_change *rc, validate_report *r)
{
    const char *p = rc->phone;
    size_t n;

    if (!terminated(rc->phone, sizeof rc->phone)) {
        validate_add(r, 0, "phone", "phone must be an optional + and 8-15 digits");
        return;
    }
    if (*p == '+')
        p++;
    n = strlen(p);
    if (n < 8 || n > 15 || !digits_only(p, n))
        validate_add(r, 0, "phone", "phone must be an optional + and 8-15 digits");
}

static void check_date_present(int32_t v, const char *field, validate_report *r)
{
    if (v == DATE_NONE)
        validate_add(r, 0, field, "%s is empty", field);
}

/* Text fields of a roster change besides nik and source: free text (UTF-8 checked here)
 * or digits (checked by their own rules). */
static const struct {
    const char *name;
    unsigned bit;
    size_t off, size;
    int free;
} texts[] = {
#define TEXT(member, bit, free) {#member, bit, offsetof(roster_change, member), sizeof ((roster_change *)0)->member, free}
    TEXT(full_name, RF_FULL_NAME, 1),
    TEXT(region_code, RF_REGION, 0),
    TEXT(agreement_id, RF_AGREEMENT, 1),
    TEXT(kpj, RF_KPJ, 0),
    TEXT(phone, RF_PHONE, 0),
#undef TEXT
};

/* Every text the record carries is terminated UTF-8: the free texts whenever present, and
 * any text that holds something without its bit (a consumer stores it all the same).
 * Returns the RF_* bits of the texts found broken, for the later rules to skip. */
static unsigned check_texts(const roster_change *rc, validate_report *r)
{
    unsigned bad = 0;

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *s = (const char *)rc + texts[i].off;
        int present = has(rc, texts[i].bit);

        if ((present && texts[i].free) || (!present && s[0] != '\0'))
            if (validate_text(r, texts[i].name, s, texts[i].size) < 0)
                bad |= texts[i].bit;
    }
    return bad;
}

/* Dates of a roster change with their RF_* bit. */
static const struct {
    const char *name;
    unsigned bit;
    size_t off;
} date_fields[] = {
    {"birth_date", RF_BIRTH_DATE, offsetof(roster_change, birth_date)},
    {"term_start", RF_TERM_START, offsetof(roster_change, term_start)},
    {"term_end", RF_TERM_END, offsetof(roster_change, term_end)},
    {"effective_date", RF_EFFECTIVE, offsetof(roster_change, effective_date)},
};

/* Every date the record holds is within the sane range, present or not (a consumer stores
 * what is there). */
static void check_dates(const roster_change *rc, validate_report *r)
{
    for (size_t i = 0; i < sizeof date_fields / sizeof date_fields[0]; i++) {
        int32_t v;
        memcpy(&v, (const char *)rc + date_fields[i].off, sizeof v);
        if (v != DATE_NONE)
            validate_day(r, date_fields[i].name, v);
    }
}

/* The fields both ENROLL and UPDATE may carry, each checked when present; bad holds the
 * RF_* bits of texts check_texts refused. */
static void check_common(const roster_change *rc, int32_t today, unsigned bad, validate_report *r)
{
    if (has(rc, RF_FULL_NAME) && !(bad & RF_FULL_NAME))
        check_full_name(rc, r);
    if (has(rc, RF_BIRTH_DATE))
        check_birth_date(rc, today, r);
    if (has(rc, RF_GENDER))
        check_gender(rc, r);
    if (has(rc, RF_WAGE))
        check_wage(rc, r);
    if (has(rc, RF_KPJ))
        check_kpj(rc, r);
    if (has(rc, RF_PHONE))
        check_phone(rc, r);
    if (has(rc, RF_TERM_END))
        check_date_present(rc->term_end, "term_end", r);
}

/* The last region_code this thread found valid and plain, with its level: the rows of an
 * export mostly share a region, and that finding is a pure function of the code. */
static _Thread_local struct {
    char code[REGION_DESA + 1];     /* "" when none is kept */
    int level;
} region_seen;

static void check_region(const roster_change *rc, validate_report *r)
{
    char plain[REGION_DESA + 1], err[128];
    int level, want;
    const char *role = roster_role_name(rc->role);

    if (!terminated(rc->region_code, sizeof rc->region_code)) {
        validate_add(r, 0, "region_code", "region_code is longer than 10 digits");
        return;
    }
    if (region_seen.code[0] && strcmp(region_seen.code, rc->region_code) == 0) {
        level = region_seen.level;
        memcpy(plain, region_seen.code, sizeof plain);
    } else {
        if (region_normalize(rc->region_code, plain, sizeof plain, &level, err, sizeof err) < 0) {
            validate_add(r, 0, "region_code", "%s", err);
            return;
        }
        if (strcmp(plain, rc->region_code) != 0) {
            validate_add(r, 0, "region_code", "region_code %s must be plain digits", rc->region_code);
            return;
        }
        memcpy(region_seen.code, plain, sizeof region_seen.code);
        region_seen.level = level;
    }
    if (!role)
        return;
    want = kecamatan_role(rc->role) ? REGION_KECAMATAN : REGION_DESA;
    if (level != want)
        validate_add(r, 0, "region_code", "region_code %s is a %s; role %s works in a %s", plain,
                     level_name(level), role, level_name(want));
}

static void check_role(const roster_change *rc, validate_report *r)
{
    const char *role = roster_role_name(rc->role);
    const char *inst = roster_institution_name(rc->institution);
    roster_institution owner;

    if (has(rc, RF_INSTITUTION) && !inst)
        validate_add(r, 0, "institution", "institution must be KPU or BAWASLU");
    if (!role) {
        validate_add(r, 0, "role", "role is not a known ad hoc role");
        return;
    }
    owner = role_institution(rc->role);
    if (inst && owner != INST_NONE && owner != rc->institution)
        validate_add(r, 0, "role", "role %s belongs to %s, not %s", role,
                     roster_institution_name(owner), inst);

    if (tps_role(rc->role)) {
        if (!has(rc, RF_TPS))
            validate_add(r, 0, "tps", "tps is required for role %s", role);
        else if (rc->tps < 1 || rc->tps > TPS_MAX)
            validate_add(r, 0, "tps", "tps %d is not in 1-%d", rc->tps, TPS_MAX);
    } else if (has(rc, RF_TPS)) {
        validate_add(r, 0, "tps", "tps is not allowed for role %s", role);
    }
}

static void check_enroll(const roster_change *rc, int32_t today, unsigned bad, validate_report *r)
{
    unsigned missing = ENROLL_REQUIRED & ~rc->fields;
    char a[16], b[16];

    for (int i = 0; i < FIELD_COUNT; i++)
        if (missing & (1u << i))
            validate_add(r, 0, field_names[i], "%s is required for ENROLL", field_names[i]);

    check_common(rc, today, bad, r);
    if (has(rc, RF_ROLE))
        check_role(rc, r);
    else if (has(rc, RF_INSTITUTION) && !roster_institution_name(rc->institution))
        validate_add(r, 0, "institution", "institution must be KPU or BAWASLU");
    if (has(rc, RF_REGION))
        check_region(rc, r);
    if (has(rc, RF_TERM_START))
        check_date_present(rc->term_start, "term_start", r);
    if (has(rc, RF_AGREEMENT) && !(bad & RF_AGREEMENT) && rc->agreement_id[0] == '\0')
        validate_add(r, 0, "agreement_id", "agreement_id must have 1-40 characters");
    if (has(rc, RF_PROGRAMS) && (rc->programs & ~(unsigned)(PROG_JKK | PROG_JKM | PROG_JHT)))
        validate_add(r, 0, "programs", "programs must be a subset of JKK;JKM;JHT");

    /* Comparisons only between dates within the sane range (the others are errors already). */
    if (day_ok(rc->term_start) && has(rc, RF_TERM_START)) {
        if (has(rc, RF_TERM_END) && day_ok(rc->term_end) && rc->term_start > rc->term_end)
            validate_add(r, 0, "term_end", "term_end %s is before term_start %s",
                         dates_format(rc->term_end, a, sizeof a),
                         dates_format(rc->term_start, b, sizeof b));
        if (has(rc, RF_BIRTH_DATE) && day_ok(rc->birth_date) && rc->birth_date >= rc->term_start)
            validate_add(r, 0, "birth_date", "birth_date %s is not before term_start %s",
                         dates_format(rc->birth_date, a, sizeof a),
                         dates_format(rc->term_start, b, sizeof b));
        if (has(rc, RF_EFFECTIVE) && rc->effective_date != rc->term_start)
            validate_add(r, 0, "effective_date", "effective_date of an ENROLL must equal term_start %s",
                         dates_format(rc->term_start, b, sizeof b));
    }
}

static void check_update(const roster_change *rc, int32_t today, unsigned bad, validate_report *r)
{
    unsigned forbidden = rc->fields & UPDATE_FORBIDDEN;

    for (int i = 0; i < FIELD_COUNT; i++)
        if (forbidden & (1u << i))
            validate_add(r, 0, field_names[i], "%s cannot change by UPDATE; TERMINATE and ENROLL again",
                         field_names[i]);
    if (!(rc->fields & UPDATE_CHANGEABLE))
        validate_add(r, 0, "change", "an UPDATE must change at least one of full_name, birth_date, gender, "
                            "kpj, phone, monthly_wage, term_end");
    check_common(rc, today, bad, r);
}

static void check_terminate(const roster_change *rc, validate_report *r)
{
    unsigned extra = rc->fields & ~(unsigned)RF_EFFECTIVE;

    for (int i = 0; i < FIELD_COUNT; i++)
        if (extra & (1u << i))
            validate_add(r, 0, field_names[i], "%s is not allowed on TERMINATE; it carries only nik and "
                                      "effective_date", field_names[i]);
}

static void check_nik_birth(const roster_change *rc, const nik_info *info, validate_report *r)
{
    int32_t birth = has(rc, RF_BIRTH_DATE) ? rc->birth_date : DATE_NONE;
    char gender = has(rc, RF_GENDER) && (rc->gender == 'L' || rc->gender == 'P') ? rc->gender : 0;
    char b[16];

    if (birth == DATE_NONE && !gender)
        return;
    if (nik_matches_birth(info, birth, gender))
        return;
    validate_add(r, 1, "nik", "nik encodes birth %02d-%02d-%02d and gender %c; the row says %s and %c",
                 info->birth_day, info->birth_month, info->birth_yy, info->female ? 'P' : 'L',
                 birth == DATE_NONE ? "no birth_date" : dates_format(birth, b, sizeof b),
                 gender ? gender : '-');
}

int validate_roster_row(const roster_change *rc, int32_t today, validate_report *out)
{
    nik_info info;
    unsigned bad;
    int nik_ok;

    validate_report_reset(out);
    nik_ok = check_nik(rc, &info, out) == 0;
    validate_source(out, rc->source, sizeof rc->source);
    bad = check_texts(rc, out);
    check_dates(rc, out);

    switch (rc->change) {
    case CHANGE_ENROLL:
        check_enroll(rc, today, bad, out);
        break;
    case CHANGE_UPDATE:
        check_update(rc, today, bad, out);
        break;
    case CHANGE_TERMINATE:
        check_terminate(rc, out);
        break;
    default:
        validate_add(out, 0, "change", "change must be ENROLL, UPDATE or TERMINATE");
        return out->errors;
    }
    if (rc->change != CHANGE_ENROLL) {
        if (!has(rc, RF_EFFECTIVE))
            validate_add(out, 0, "effective_date", "effective_date is required for %s",
                         roster_change_name(rc->change));
        else
            check_date_present(rc->effective_date, "effective_date", out);
    }
    if (nik_ok && rc->change != CHANGE_TERMINATE)
        check_nik_birth(rc, &info, out);
    return out->errors;
}

int validate_roster_change(const roster_change *rc, int32_t today, validate_report *out)
{
    validate_roster_row(rc, today, out);
    validate_event_id(out, rc->event_id, sizeof rc->event_id);
    validate_time(out, "event_time", rc->event_time_us);
    return out->errors;
}
