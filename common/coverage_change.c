/* coverage_change: names of the CoverageChange status enum, the record's blank state and
 * its rules. */
#include "coverage_change.h"

#include <string.h>

#include "names.h"
#include "nik.h"
#include "region.h"

static const char *const status_names[COVERAGE_STATUS__COUNT] = {"ACTIVE", "TERMINATED", "EXPIRED"};

void coverage_change_init(coverage_change *cc)
{
    memset(cc, 0, sizeof *cc);
    cc->status = COVERAGE_STATUS_NONE;
    cc->valid_from = cc->valid_to = DATE_NONE;
    cc->role = ROLE_NONE;
    cc->institution = INST_NONE;
}

const char *coverage_status_name(coverage_status v)
{
    return names_get(status_names, COVERAGE_STATUS__COUNT, v);
}

int coverage_status_parse(const char *s) { return names_find(status_names, COVERAGE_STATUS__COUNT, s); }

/* ---- rules ---- */

static void check_enum(validate_report *r, const char *field, int v, int count)
{
    if (v < 0 || v >= count)
        validate_add(r, 0, field, "%s has out-of-range value %d", field, v);
}

/* A required date within the sane range; 1 when it can be compared. */
static int check_day(validate_report *r, const char *field, int32_t day)
{
    if (day == DATE_NONE) {
        validate_add(r, 0, field, "%s is required", field);
        return 0;
    }
    return validate_day(r, field, day) == 0;
}

static void check_region(const coverage_change *cc, validate_report *r)
{
    char plain[REGION_DESA + 1], err[128];
    int level;

    if (!memchr(cc->region_code, '\0', sizeof cc->region_code) || cc->region_code[0] == '\0')
        validate_add(r, 0, "region_code", "region_code is required");
    else if (region_normalize(cc->region_code, plain, sizeof plain, &level, err, sizeof err) < 0)
        validate_add(r, 0, "region_code", "%s", err);
    else if (strcmp(plain, cc->region_code) != 0 || (level != REGION_KECAMATAN && level != REGION_DESA))
        validate_add(r, 0, "region_code", "region_code must be a plain kecamatan or desa code");
}

int coverage_change_validate(const coverage_change *cc, validate_report *out)
{
    char err[128];
    int from_ok, to_ok;

    memset(out, 0, sizeof *out);
    validate_event_id(out, cc->event_id, sizeof cc->event_id);
    validate_source(out, cc->source, sizeof cc->source);
    if (!memchr(cc->nik, '\0', sizeof cc->nik) || cc->nik[0] == '\0')
        validate_add(out, 0, "nik", "nik is required");
    else if (nik_check(cc->nik, NULL, err, sizeof err) < 0)
        validate_add(out, 0, "nik", "%s", err);
    if (cc->programs & ~(unsigned)(PROG_JKK | PROG_JKM | PROG_JHT))
        validate_add(out, 0, "programs", "programs must be a subset of JKK;JKM;JHT");
    check_enum(out, "status", cc->status, COVERAGE_STATUS__COUNT);
    from_ok = check_day(out, "valid_from", cc->valid_from);
    to_ok = check_day(out, "valid_to", cc->valid_to);
    if (from_ok && to_ok && cc->valid_from > cc->valid_to)
        validate_add(out, 0, "valid_to", "valid_to is before valid_from");
    check_region(cc, out);
    check_enum(out, "role", cc->role, ROLE__COUNT);
    check_enum(out, "institution", cc->institution, INST__COUNT);
    validate_time(out, "event_time", cc->event_time_us);
    return out->errors;
}
