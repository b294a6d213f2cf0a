/* nik: layout checks of the national ID number (NIK). */
#include "nik.h"

#include "dates.h"
#include "errstr.h"
#include "region.h"
#include "roster.h"

static int two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int nik_check(const char *nik, nik_info *info, char *errstr, size_t errstr_size)
{
    nik_info n;
    size_t len = 0;

    if (!nik)
        return errstr_fail(errstr, errstr_size, "nik: missing");
    while (len <= 16 && nik[len] >= '0' && nik[len] <= '9')
        len++;
    if (len != 16 || nik[16] != '\0')
        return errstr_fail(errstr, errstr_size, "nik: must be exactly 16 digits");

    n.province = region_province_of(nik);
    n.regency = two(nik + 2);
    n.kecamatan = two(nik + 4);
    n.birth_day = two(nik + 6);
    n.birth_month = two(nik + 8);
    n.birth_yy = two(nik + 10);
    n.serial = two(nik + 12) * 100 + two(nik + 14);
    n.female = 0;

    if (!region_province_valid(n.province))
        return errstr_fail(errstr, errstr_size, "nik: province %02d is not a valid province code",
                           n.province);
    if (n.regency == 0)
        return errstr_fail(errstr, errstr_size, "nik: regency 00 is not allowed");
    if (n.kecamatan == 0)
        return errstr_fail(errstr, errstr_size, "nik: kecamatan 00 is not allowed");
    if (n.birth_day >= 41 && n.birth_day <= 71) {
        n.female = 1;
        n.birth_day -= 40;
    } else if (n.birth_day < 1 || n.birth_day > 31) {
        return errstr_fail(errstr, errstr_size,
                           "nik: birth day %02d is not 01-31 (men) or 41-71 (women)", n.birth_day);
    }
    if (n.birth_month < 1 || n.birth_month > 12)
        return errstr_fail(errstr, errstr_size, "nik: birth month %02d is not 01-12", n.birth_month);
    /* 2000 is a leap year, so 29-02 passes: the day/month must be real in some year. */
    if (!dates_valid(2000, n.birth_month, n.birth_day))
        return errstr_fail(errstr, errstr_size, "nik: birth date %02d-%02d is not a real date",
                           n.birth_day, n.birth_month);
    if (n.serial == 0)
        return errstr_fail(errstr, errstr_size, "nik: serial 0000 is not allowed");

    if (info)
        *info = n;
    return 0;
}

int nik_matches_birth(const nik_info *info, int32_t birth_date, char gender)
{
    if (birth_date != DATE_NONE) {
        int y, m, d;
        dates_to_civil(birth_date, &y, &m, &d);
        if (d != info->birth_day || m != info->birth_month || ((y % 100) + 100) % 100 != info->birth_yy)
            return 0;
    }
    if (gender == 'L' && info->female)
        return 0;
    if (gender == 'P' && !info->female)
        return 0;
    return 1;
}
