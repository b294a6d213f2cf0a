/* dates: civil-date arithmetic (Howard Hinnant's days-from-civil) and ISO 8601. */
#include "dates.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* a / b rounded down, for b > 0; no overflow for any a. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return q - (a % b < 0);
}

int32_t dates_from_civil(int y0, int m, int d)
{
    /* 64-bit throughout: the caller's year, month and day are not range-checked. */
    const int64_t y = (int64_t)y0 - (m <= 2);
    const int64_t era = floor_div(y, 400);
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * ((int64_t)m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

void dates_to_civil(int32_t z0, int *year, int *month, int *day)
{
    /* 64-bit: z0 + 719468 overflows an int for the last days of the int32_t range. */
    const int64_t z = (int64_t)z0 + 719468;
    const int64_t era = floor_div(z, 146097);
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t y = yoe + era * 400;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

int dates_valid(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_date_prefix(const char *s, int *y, int *m, int *d)
{
    if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) || s[7] != '-' ||
        digits(s + 8, 2, d) || !dates_valid(*y, *m, *d))
        return -1;
    return 0;
}

int dates_parse(const char *s, int32_t *days)
{
    int y, m, d;
    if (strlen(s) != 10 || parse_date_prefix(s, &y, &m, &d))
        return -1;
    *days = dates_from_civil(y, m, d);
    return 0;
}

char *dates_format(int32_t days, char *buf, size_t size)
{
    int y, m, d;
    dates_to_civil(days, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02d", y, m, d);
    return buf;
}

int dates_parse_timestamp(const char *s, int64_t *us)
{
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 1;
    long frac = 0;
    const char *p;

    if (strlen(s) < 20 || parse_date_prefix(s, &y, &mo, &d) || (s[10] != 'T' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
        digits(s + 17, 2, &sec) || h > 23 || mi > 59 || sec > 59)
        return -1;
    p = s + 19;
    if (*p == '.') {
        int n = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (n < 6) {
                frac = frac * 10 + (*p - '0');
                n++;
            }
            p++;
        }
        if (n == 0)
            return -1;
        while (n++ < 6)
            frac *= 10;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 14 || om > 59)
            return -1;
        p += 6;
    } else {
        return -1;
    }
    if (*p)
        return -1;
    int64_t secs = (int64_t)dates_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
                   sign * (oh * 3600 + om * 60);
    *us = secs * 1000000 + frac;
    return 0;
}

char *dates_format_timestamp(int64_t us, char *buf, size_t size)
{
    /* floor_div, not -((-us + 999999) / 1000000): -INT64_MIN overflows. */
    int64_t secs = floor_div(us, 1000000);
    int64_t frac = us % 1000000 + (us % 1000000 < 0 ? 1000000 : 0);
    int32_t days = (int32_t)floor_div(secs, 86400);  /* |days| < 1.1e8 for any us */
    int64_t rem = secs - (int64_t)days * 86400;
    int y, m, d;
    dates_to_civil(days, &y, &m, &d);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60), (long)frac);
    return buf;
}

int32_t dates_local_day(int64_t us, int offset_minutes)
{
    int64_t secs = floor_div(us, 1000000) + (int64_t)offset_minutes * 60;
    return (int32_t)floor_div(secs, 86400);
}

int64_t dates_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int32_t dates_today_utc(void)
{
    return dates_local_day(dates_now_us(), 0);
}
