/* region: Kemendagri region codes, the province list and province time zones. */
#include "region.h"

#include <stdio.h>
#include <string.h>

#include "dates.h"
#include "errstr.h"

/* Ranges of valid provinces with their UTC offsets in minutes (domain.md). */
static const struct {
    int lo, hi, offset;
} provinces[] = {
    {11, 19, 420}, {21, 21, 420}, {31, 36, 420}, {51, 53, 480}, {61, 62, 420},
    {63, 65, 480}, {71, 76, 480}, {81, 82, 540}, {91, 96, 540},
};

/* The zones by UTC offset. */
static const struct {
    int offset;
    const char *name;
} zones[] = {{420, "WIB"}, {480, "WITA"}, {540, "WIT"}};

const char *region_zone_name(int offset_minutes)
{
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (zones[i].offset == offset_minutes)
            return zones[i].name;
    return NULL;
}

int region_province_valid(int province)
{
    return region_utc_offset_minutes(province) >= 0;
}

int region_utc_offset_minutes(int province)
{
    for (size_t i = 0; i < sizeof provinces / sizeof provinces[0]; i++)
        if (province >= provinces[i].lo && province <= provinces[i].hi)
            return provinces[i].offset;
    return -1;
}

static int is_level(size_t len)
{
    return len == REGION_PROVINCE || len == REGION_REGENCY || len == REGION_KECAMATAN ||
           len == REGION_DESA;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int region_province_of(const char *code)
{
    if (!code || !all_digits(code, 2) || strnlen(code, 2) < 2)
        return -1;
    return two(code);
}

int region_local_date(const char *code, int64_t us, int32_t *day, int *offset_minutes,
                      char *errstr, size_t errstr_size)
{
    char plain[REGION_DESA + 1];
    int offset;

    if (region_normalize(code, plain, sizeof plain, NULL, errstr, errstr_size) < 0)
        return -1;
    offset = region_utc_offset_minutes(two(plain));
    *day = dates_local_day(us, offset);
    if (offset_minutes)
        *offset_minutes = offset;
    return 0;
}

enum { UNDOT_GROUPING = -1, UNDOT_NONDIGIT = -2, UNDOT_MIXED = -3 };

/* Copy the digits of a dotted code ("PP.KK.CC.NNNN", any leading groups) into digits
 * (size >= 11). Returns the digit count or an UNDOT_* error. */
static int undot(const char *in, char *digits)
{
    static const size_t group_len[] = {2, 2, 2, 4};
    size_t n = 0;
    int group = 0;
    const char *p = in;

    for (;;) {
        size_t len = strcspn(p, ".");
        if (!all_digits(p, len))
            return UNDOT_NONDIGIT;
        if (group >= 4 || len < group_len[group])
            return UNDOT_GROUPING;
        if (len > group_len[group])
            return UNDOT_MIXED;
        memcpy(digits + n, p, len);
        n += len;
        group++;
        p += len;
        if (*p == '\0')
            break;
        p++;
    }
    digits[n] = '\0';
    return (int)n;
}

static int check_parts(const char *c, size_t len, char *errstr, size_t errstr_size)
{
    int pp = two(c);

    if (!region_province_valid(pp))
        return errstr_fail(errstr, errstr_size, "region: province %02d is not a valid province code", pp);
    if (len >= REGION_REGENCY) {
        int kk = two(c + 2);
        if (kk == 0 || kk == 70)
            return errstr_fail(errstr, errstr_size,
                               "region: regency %02d is neither a kabupaten (01-69) nor a kota (71-99)", kk);
    }
    if (len >= REGION_KECAMATAN && two(c + 4) == 0)
        return errstr_fail(errstr, errstr_size, "region: kecamatan 00 is not allowed");
    if (len >= REGION_DESA) {
        if (memcmp(c + 6, "0000", 4) == 0)
            return errstr_fail(errstr, errstr_size, "region: desa 0000 is not allowed");
        if (c[6] < '1' || c[6] > '3')
            return errstr_fail(errstr, errstr_size,
                               "region: desa %.4s must start with 1 (kelurahan), 2 (desa) or 3 (desa adat)",
                               c + 6);
    }
    return 0;
}

/* The first 20 bytes of an untrusted code for a message, every byte that is not printable
 * ASCII shown as '?': the message may end up in PostgreSQL text (a dead letter's error),
 * which must be valid UTF-8, and a cut multi-byte sequence would not be. */
static const char *shown(const char *in, char *buf)
{
    size_t n = 0;

    for (; in[n] && n < 20; n++)
        buf[n] = in[n] >= 0x20 && in[n] < 0x7f ? in[n] : '?';
    buf[n] = '\0';
    return buf;
}

int region_normalize(const char *in, char *out, size_t out_size, int *level, char *errstr,
                     size_t errstr_size)
{
    char digits[REGION_DESA + 1], q[21];
    size_t len;

    if (out && out_size)
        out[0] = '\0';
    if (!out || out_size < REGION_DESA + 1)
        return errstr_fail(errstr, errstr_size, "region: output buffer too small");
    if (!in || !*in)
        return errstr_fail(errstr, errstr_size, "region: empty code");

    len = strlen(in);
    if (strchr(in, '.')) {
        switch (undot(in, digits)) {
        case UNDOT_NONDIGIT:
            return errstr_fail(errstr, errstr_size,
                               "region: '%s' contains a character that is not a digit", shown(in, q));
        case UNDOT_MIXED:
            return errstr_fail(errstr, errstr_size, "region: '%s' mixes dotted and plain forms", shown(in, q));
        case UNDOT_GROUPING:
            return errstr_fail(errstr, errstr_size, "region: '%s' is not grouped as PP.KK.CC.NNNN", shown(in, q));
        default:
            break;
        }
        len = strlen(digits);
    } else {
        if (!all_digits(in, len))
            return errstr_fail(errstr, errstr_size,
                               "region: '%s' contains a character that is not a digit", shown(in, q));
        if (!is_level(len))
            return errstr_fail(errstr, errstr_size,
                               "region: %zu digits is not a level (2, 4, 6 or 10)", len);
        memcpy(digits, in, len + 1);
    }
    if (check_parts(digits, len, errstr, errstr_size) < 0)
        return -1;
    memcpy(out, digits, len + 1);
    if (level)
        *level = (int)len;
    return 0;
}

int region_within(const char *a, const char *b)
{
    size_t la, lb;

    if (!a || !b)
        return 0;
    la = strlen(a);
    lb = strlen(b);
    if (!is_level(la) || !is_level(lb) || lb > la || !all_digits(a, la))
        return 0;
    return memcmp(a, b, lb) == 0;
}

char *region_format_dotted(const char *plain, char *out, size_t size)
{
    size_t len = strlen(plain);

    if (!size)
        return out;
    if (!is_level(len)) {
        snprintf(out, size, "%s", plain);
        return out;
    }
    switch (len) {
    case REGION_PROVINCE:
        snprintf(out, size, "%.2s", plain);
        break;
    case REGION_REGENCY:
        snprintf(out, size, "%.2s.%.2s", plain, plain + 2);
        break;
    case REGION_KECAMATAN:
        snprintf(out, size, "%.2s.%.2s.%.2s", plain, plain + 2, plain + 4);
        break;
    default:
        snprintf(out, size, "%.2s.%.2s.%.2s.%.4s", plain, plain + 2, plain + 4, plain + 6);
        break;
    }
    return out;
}
