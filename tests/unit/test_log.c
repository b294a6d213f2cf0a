/* Unit tests for common/log: NIKs never reach a log line unmasked. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static char *capture(const char *value)
{
    static char buf[4096];
    FILE *f;
    size_t n;

    fflush(stderr);
    log_init("test", LOG_DEBUG);
    log_info("event", "value=%s", value);
    fflush(stderr);
    f = cr_get_redirected_stderr();
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

Test(log, masks_a_nik_anywhere_in_the_line, .init = cr_redirect_stderr)
{
    char *line = capture("7313011501909301");
    cr_assert(strstr(line, "value=7313********9301") != NULL, "NIK not masked: %s", line);
    cr_assert(strstr(line, "7313011501909301") == NULL, "raw NIK in the line: %s", line);
}

Test(log, leaves_longer_and_shorter_numbers, .init = cr_redirect_stderr)
{
    char *line = capture("12345678901234567,731301150190930");
    cr_assert(strstr(line, "value=12345678901234567,731301150190930") != NULL,
              "a 17- or 15-digit number was changed: %s", line);
}

Test(log, one_line_with_level_and_program, .init = cr_redirect_stderr)
{
    char *line = capture("x");
    cr_assert(strstr(line, "level=info prog=test msg=\"event\" value=x\n") != NULL, "line: %s", line);
    cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "more than one line: %s", line);
}

Test(log, a_value_with_line_breaks_stays_on_one_line, .init = cr_redirect_stderr)
{
    char *line = capture("ERROR:  refused\nCONTEXT:  COPY stg\r\tline 2\x01");
    cr_assert(strstr(line, "value=ERROR:  refused\\nCONTEXT:  COPY stg\\r\\tline 2\\x01\n") != NULL,
              "controls not escaped: %s", line);
    cr_assert_eq(strchr(line, '\n'), line + strlen(line) - 1, "more than one line: %s", line);
}

Test(log, mask_nik_helper)
{
    char out[17];
    cr_assert_str_eq(log_mask_nik("7313011501909301", out, sizeof out), "7313********9301",
                     "masked form");
    cr_assert_str_eq(log_mask_nik("123", out, sizeof out), "****************",
                     "a malformed NIK is fully masked");
    /* A decoded NIK of 16 arbitrary bytes: its ends must not reach dead_letters.nik_masked
     * (PostgreSQL text) as invalid UTF-8. */
    cr_assert_str_eq(log_mask_nik("\xff\xfe" "731301150190" "\xc3\xa4", out, sizeof out), "****************",
                     "a 16-byte NIK that is not digits is fully masked");
}
