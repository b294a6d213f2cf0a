/* nik: layout checks of the 16-digit Indonesian national ID number (NIK).
 * Pure functions over caller storage; no allocation, no I/O; any thread may call them. */
#ifndef NIK_H
#define NIK_H

#include <stddef.h>
#include <stdint.h>

/* The parts of a NIK "PP KK CC DD MM YY SSSS". birth_day is the real day of the month
 * (the +40 of a woman's NIK removed); female is 1 when the NIK carried the +40. */
typedef struct nik_info {
    int province;
    int regency;
    int kecamatan;
    int birth_day;
    int birth_month;
    int birth_yy;
    int female;
    int serial;
} nik_info;

/* Check a NIK's layout per domain.md: 16 digits, a valid province code (the list of
 * region_province_valid), regency and kecamatan non-zero, day 01-31 or 41-71 (women +40),
 * month 01-12, the embedded day/month a real date for some year (29-02 is), serial not 0000.
 * Return 0 and fill info (may be NULL), or -1 with errstr (may be NULL) naming the first
 * rule broken, e.g. "nik: serial 0000 is not allowed". */
int nik_check(const char *nik, nik_info *info, char *errstr, size_t errstr_size);

/* 1 when the NIK's embedded birth day/month/yy agree with birth_date (a day number, see
 * dates.h) and its +40 agrees with gender ('L' or 'P'); otherwise 0. A birth_date of
 * DATE_NONE (roster.h) or a gender of 0 is not compared, so an UPDATE carrying only one of
 * them can still be checked. */
int nik_matches_birth(const nik_info *info, int32_t birth_date, char gender);

#endif
