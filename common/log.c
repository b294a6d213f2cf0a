/* log: leveled key=value lines on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_program = "?";
static log_level log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *program, log_level min)
{
    log_program = program;
    log_min = min;
}

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* A safety net under every caller: any run of exactly 16 digits (the shape of a NIK) in a
 * line is masked to its first and last four, whatever module wrote it (a database error
 * detail, a librdkafka message). */
static void mask_niks(char *line, int n)
{
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && line[j] >= '0' && line[j] <= '9')
            j++;
        if (j - i == 16)
            memset(line + i + 4, '*', 8);
        i = j > i ? j : i + 1;
    }
}

/* One event, one line: a value that carries line breaks or other control characters (a
 * PostgreSQL error with its DETAIL and CONTEXT, a record's bytes) has them written as
 * \n, \r, \t or \xHH. Writes at most size - 2 bytes of line's n into out (room for the
 * newline); returns how many. */
static int escape_controls(const char *line, int n, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        char esc[4];
        size_t len = 1;

        esc[0] = (char)c;
        if (c < 0x20 || c == 0x7f) {
            esc[0] = '\\';
            len = 2;
            if (c == '\n')
                esc[1] = 'n';
            else if (c == '\r')
                esc[1] = 'r';
            else if (c == '\t')
                esc[1] = 't';
            else {
                esc[1] = 'x', esc[2] = hex[c >> 4], esc[3] = hex[c & 15];
                len = 4;
            }
        }
        if (o + len > size - 2)
            break;
        memcpy(out + o, esc, len);
        o += len;
    }
    return (int)o;
}

void log_write(log_level level, const char *msg, const char *fmt, ...)
{
    char line[2048], out[2048 + 64], ts[32];
    struct timespec now;
    struct tm tm;
    va_list ap;
    int n;

    if (level < log_min)
        return;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line, sizeof line, "ts=%s.%03ldZ level=%s prog=%s msg=\"%s\"", ts,
                 now.tv_nsec / 1000000, level_names[level], log_program, msg);
    if (n < 0 || (size_t)n >= sizeof line)
        n = (int)sizeof line - 1;
    if (fmt && *fmt && (size_t)n < sizeof line - 2) {
        line[n++] = ' ';
        va_start(ap, fmt);
        int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
        va_end(ap);
        if (m > 0)
            n += m;
        if ((size_t)n >= sizeof line - 1)
            n = (int)sizeof line - 2;
    }
    mask_niks(line, n);
    n = escape_controls(line, n, out, sizeof out);
    out[n++] = '\n';
    fwrite(out, 1, (size_t)n, stderr);
}

char *log_mask_nik(const char *nik, char *out, size_t size)
{
    if (size < 17) {
        if (size)
            out[0] = '\0';
        return out;
    }
    /* Digits only: a decoded NIK may hold any bytes, and the masked form goes into
     * PostgreSQL text (dead_letters.nik_masked) and log lines. */
    if (nik && strlen(nik) == 16 && strspn(nik, "0123456789") == 16) {
        memcpy(out, nik, 4);
        memset(out + 4, '*', 8);
        memcpy(out + 12, nik + 12, 4);
    } else {
        memset(out, '*', 16);
    }
    out[16] = '\0';
    return out;
}
