/* validate: the row rules of a roster change. */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "nik.h"
#include "region.h"

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

static int has(const roster_change *rc, unsigned bit)
{
    return (rc->fields & bit) != 0;
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

static void check_full_name(const roster_change *rc, validate_report *r)
{
    const unsigned char *p = (const unsigned char *)rc->full_name;
    int blank = 1;

    if (!terminated(rc->full_name, sizeof rc->full_name)) {
        validate_add(r, 0, "full_name", "full_name is longer than 100 characters");
        return;
    }
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
    else if (rc->birth_date > today)
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

/* The fields both ENROLL and UPDATE may carry, each checked when present. */
static void check_common(const roster_change *rc, int32_t today, validate_report *r)
{
    if (has(rc, RF_FULL_NAME))
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

static void check_region(const roster_change *rc, validate_report *r)
{
    char plain[REGION_DESA + 1], err[128];
    int level, want;
    const char *role = roster_role_name(rc->role);

    if (!terminated(rc->region_code, sizeof rc->region_code)) {
        validate_add(r, 0, "region_code", "region_code is longer than 10 digits");
        return;
    }
    if (region_normalize(rc->region_code, plain, sizeof plain, &level, err, sizeof err) < 0) {
        validate_add(r, 0, "region_code", "%s", err);
        return;
    }
    if (strcmp(plain, rc->region_code) != 0) {
        validate_add(r, 0, "region_code", "region_code %s must be plain digits", rc->region_code);
        return;
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

static void check_enroll(const roster_change *rc, int32_t today, validate_report *r)
{
    unsigned missing = ENROLL_REQUIRED & ~rc->fields;
    char a[16], b[16];

    for (int i = 0; i < FIELD_COUNT; i++)
        if (missing & (1u << i))
            validate_add(r, 0, field_names[i], "%s is required for ENROLL", field_names[i]);

    check_common(rc, today, r);
    if (has(rc, RF_ROLE))
        check_role(rc, r);
    else if (has(rc, RF_INSTITUTION) && !roster_institution_name(rc->institution))
        validate_add(r, 0, "institution", "institution must be KPU or BAWASLU");
    if (has(rc, RF_REGION))
        check_region(rc, r);
    if (has(rc, RF_TERM_START))
        check_date_present(rc->term_start, "term_start", r);
    if (has(rc, RF_AGREEMENT) &&
        (!terminated(rc->agreement_id, sizeof rc->agreement_id) || rc->agreement_id[0] == '\0'))
        validate_add(r, 0, "agreement_id", "agreement_id must have 1-40 characters");
    if (has(rc, RF_PROGRAMS) && (rc->programs & ~(unsigned)(PROG_JKK | PROG_JKM | PROG_JHT)))
        validate_add(r, 0, "programs", "programs must be a subset of JKK;JKM;JHT");

    if (rc->term_start != DATE_NONE && has(rc, RF_TERM_START)) {
        if (has(rc, RF_TERM_END) && rc->term_end != DATE_NONE && rc->term_start > rc->term_end)
            validate_add(r, 0, "term_end", "term_end %s is before term_start %s",
                         dates_format(rc->term_end, a, sizeof a),
                         dates_format(rc->term_start, b, sizeof b));
        if (has(rc, RF_BIRTH_DATE) && rc->birth_date != DATE_NONE && rc->birth_date >= rc->term_start)
            validate_add(r, 0, "birth_date", "birth_date %s is not before term_start %s",
                         dates_format(rc->birth_date, a, sizeof a),
                         dates_format(rc->term_start, b, sizeof b));
        if (has(rc, RF_EFFECTIVE) && rc->effective_date != rc->term_start)
            validate_add(r, 0, "effective_date", "effective_date of an ENROLL must equal term_start %s",
                         dates_format(rc->term_start, b, sizeof b));
    }
}

static void check_update(const roster_change *rc, int32_t today, validate_report *r)
{
    unsigned forbidden = rc->fields & UPDATE_FORBIDDEN;

    for (int i = 0; i < FIELD_COUNT; i++)
        if (forbidden & (1u << i))
            validate_add(r, 0, field_names[i], "%s cannot change by UPDATE; TERMINATE and ENROLL again",
                         field_names[i]);
    if (!(rc->fields & UPDATE_CHANGEABLE))
        validate_add(r, 0, "change", "an UPDATE must change at least one of full_name, birth_date, gender, "
                            "kpj, phone, monthly_wage, term_end");
    check_common(rc, today, r);
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

int validate_roster_change(const roster_change *rc, int32_t today, validate_report *out)
{
    nik_info info;
    int nik_ok;

    memset(out, 0, sizeof *out);
    nik_ok = check_nik(rc, &info, out) == 0;
    if (!terminated(rc->source, sizeof rc->source) || rc->source[0] == '\0')
        validate_add(out, 0, "source", "source is required");

    switch (rc->change) {
    case CHANGE_ENROLL:
        check_enroll(rc, today, out);
        break;
    case CHANGE_UPDATE:
        check_update(rc, today, out);
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
