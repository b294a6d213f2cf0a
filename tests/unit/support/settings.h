/* settings: the "key=value|key=value" edits of data-driven record tests (a base record
 * changed field by field), with "\xHH" in a value for any byte (invalid UTF-8 included),
 * and the records files written the same way, one record a line (tests/unit/data/); the
 * notation of their values: a name or "#N" for an enum, "none" or "#N" for a date or
 * time, to forge records no parser would give. Linked into every unit test. */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stddef.h>
#include <stdint.h>

/* Set one field of rec from key and its unescaped value. */
typedef void (*settings_set_fn)(void *rec, const char *key, const char *value);

/* Drop the field key from rec (mark it absent). */
typedef void (*settings_drop_fn)(void *rec, const char *key);

/* Reset rec to an empty record of its type. */
typedef void (*settings_init_fn)(void *rec);

/* Split settings ("-" for none) at '|', each item at its first '=', unescape the value and
 * call set; an item "-key" (no '=') calls drop. Empty items are skipped. Returns 0, or -1
 * when an item lacks '=' (and is no "-key" with drop given) or settings is longer than
 * 1023 bytes. */
int settings_apply(const char *settings, void *rec, settings_set_fn set, settings_drop_fn drop);

/* Copy v into dst (size bytes, always terminated), each "\xHH" turned into that byte. */
void settings_unescape(char *dst, size_t size, const char *v);

/* An enum from its name, parsed by parse, or from "#N", the raw number N. Fails the calling
 * test for an unknown name. */
int settings_named(const char *v, int (*parse)(const char *));

/* A day number (dates.h) from "YYYY-MM-DD", "none" (DATE_NONE) or "#N" (N raw). Fails the
 * calling test for a malformed date. */
int32_t settings_day(const char *v);

/* Microseconds since the epoch from an ISO 8601 timestamp with offset (dates.h), "none"
 * (INT64_MIN, every record's absent time) or "#N" (N raw). Fails the calling test for a
 * malformed timestamp. */
int64_t settings_time(const char *v);

/* Read the records of path, one settings line each ('#' comment and blank lines skipped),
 * into recs (an array of max records of size bytes each): each reset with init, then
 * filled with settings_apply and set. Returns their count. Fails the calling test when
 * path cannot be opened, holds no record or more than max, or a line does not apply. */
size_t settings_load(const char *path, void *recs, size_t size, size_t max, settings_init_fn init,
                     settings_set_fn set);

#endif
