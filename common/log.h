/* log: leveled, one key=value line per event on stderr (control characters escaped), NIKs
 * masked. */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Set the program name printed on every line and the minimum level.
 * Call once from main before any thread starts. */
void log_init(const char *program, log_level min);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int log_level_parse(const char *s);

/* Print "ts=... level=... prog=... msg=\"...\" <kv>" where fmt renders the key=value
 * tail. Any thread may call it; lines are written whole. */
void log_write(log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_write(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_write(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_write(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_write(LOG_ERROR, msg, __VA_ARGS__)

/* Write the masked form of a NIK ("7313********0001") into out (size >= 17).
 * Anything that is not 16 digits is fully masked, so out is always ASCII. Returns out. */
char *log_mask_nik(const char *nik, char *out, size_t size);

#endif
