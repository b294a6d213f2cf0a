/* region: Kemendagri region codes (province, kabupaten/kota, kecamatan, desa/kelurahan),
 * the province list and the province time zones. Pure functions over caller storage; no
 * allocation, no I/O; any thread may call them. */
#ifndef REGION_H
#define REGION_H

#include <stddef.h>
#include <stdint.h>

/* A code's level is its digit count. */
enum { REGION_PROVINCE = 2, REGION_REGENCY = 4, REGION_KECAMATAN = 6, REGION_DESA = 10 };

/* Normalise a code written dotted ("73.13.01.2001", "73.13.01") or plain ("7313012001")
 * into plain digits in out (out_size >= 11) and set *level (may be NULL) to its digit count.
 * Return 0, or -1 with errstr (may be NULL) for bad syntax (wrong grouping, non-digits,
 * mixed forms), an invalid province, regency 00 or 70 (01-69 kabupaten, 71-99 kota),
 * kecamatan 00, or a desa number 0000 or not starting with 1 (kelurahan), 2 (desa) or
 * 3 (desa adat). out is an empty string after a failure. */
int region_normalize(const char *in, char *out, size_t out_size, int *level, char *errstr,
                     size_t errstr_size);

/* 1 when plain code a is b itself or lies inside b (b is a's province, regency or
 * kecamatan); 0 otherwise, including when either is not a plain code of a level's length. */
int region_within(const char *a, const char *b);

/* 1 when province is one of 11-19, 21, 31-36, 51-53, 61-65, 71-76, 81-82, 91-96. */
int region_province_valid(int province);

/* The province of a code: its first two digits as a number; -1 when they are not digits. */
int region_province_of(const char *code);

/* UTC offset in minutes of the province's zone: WIB 420, WITA 480, WIT 540; -1 for a
 * province that is not valid. */
int region_utc_offset_minutes(int province);

/* The zone's name at that UTC offset: "WIB", "WITA" or "WIT"; NULL for any other. */
const char *region_zone_name(int offset_minutes);

/* The one owner of region -> time zone -> local date: the local civil date (day number) of
 * instant us (microseconds since the epoch) in the zone of the province of code (dotted or
 * plain, any level, checked as region_normalize does) into *day, and the zone's UTC offset
 * into *offset_minutes (may be NULL). 0, or -1 with errstr for a code that is not valid. */
int region_local_date(const char *code, int64_t us, int32_t *day, int *offset_minutes,
                      char *errstr, size_t errstr_size);

/* Write plain code as dotted ("7313012001" -> "73.13.01.2001") into out (size >= 14).
 * A string whose length is not a level's is copied unchanged (truncated to fit). Returns out. */
char *region_format_dotted(const char *plain, char *out, size_t size);

#endif
