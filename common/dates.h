/* dates: civil dates as day numbers, ISO 8601 parsing and formatting. */
#ifndef DATES_H
#define DATES_H

#include <stdint.h>
#include <stddef.h>

/* Days since 1970-01-01 of a proleptic Gregorian date; no range check (computed in 64
 * bits, so any arguments are safe; a result beyond int32_t is cut to 32 bits). */
int32_t dates_from_civil(int year, int month, int day);
/* Inverse of dates_from_civil, for every int32_t day (years -5877641..5881580). */
void dates_to_civil(int32_t days, int *year, int *month, int *day);
/* 1 when year/month/day is a real calendar date. */
int dates_valid(int year, int month, int day);

/* Parse "YYYY-MM-DD" strictly; return 0 and set *days, or -1. */
int dates_parse(const char *s, int32_t *days);
/* Format as "YYYY-MM-DD" into buf (size >= 11). Returns buf. */
char *dates_format(int32_t days, char *buf, size_t size);

/* Parse an ISO 8601 timestamp with offset or Z ("2024-11-27T14:30:00+08:00",
 * fractional seconds allowed); return 0 and set microseconds since the epoch, or -1. */
int dates_parse_timestamp(const char *s, int64_t *us);
/* Format microseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.ffffffZ". */
char *dates_format_timestamp(int64_t us, char *buf, size_t size);

/* Local civil date (day number) of an instant at a fixed UTC offset in minutes. */
int32_t dates_local_day(int64_t us, int offset_minutes);
/* Today's date in UTC as a day number. */
int32_t dates_today_utc(void);
/* Microseconds since the epoch, now. */
int64_t dates_now_us(void);

#endif
