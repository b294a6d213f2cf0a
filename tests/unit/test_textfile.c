/* Unit tests of common/textfile: a file read whole, and each refusal naming the path. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "textfile.h"

/* A temporary file holding len bytes of data; its path in path (PATH_MAX-sized). */
static void make_file(char *path, const char *data, size_t len)
{
    int fd;

    strcpy(path, "/tmp/test_textfile_XXXXXX");
    fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp");
    cr_assert_eq(write(fd, data, len), (ssize_t)len, "write");
    close(fd);
}

Test(textfile, reads_the_whole_file_nul_terminated)
{
    static const char data[] = "program\tfrom\nJKK\t2024-01-01\n";
    char path[64], err[256] = "";
    size_t len = 0;
    char *text;

    make_file(path, data, sizeof data - 1);
    text = textfile_read(path, &len, err, sizeof err);
    unlink(path);
    cr_assert_not_null(text, "read: %s", err);
    cr_assert_eq(len, sizeof data - 1, "length %zu", len);
    cr_assert_str_eq(text, data);
    free(text);
}

Test(textfile, empty_file_is_empty_text)
{
    char path[64], err[256] = "";
    size_t len = 99;
    char *text;

    make_file(path, "", 0);
    text = textfile_read(path, &len, err, sizeof err);
    unlink(path);
    cr_assert_not_null(text, "read: %s", err);
    cr_assert_eq(len, 0, "length %zu", len);
    cr_assert_str_eq(text, "");
    free(text);
}

Test(textfile, missing_file_names_the_path_and_reason)
{
    char err[256] = "";

    cr_assert_null(textfile_read("/nonexistent/benefits.tsv", NULL, err, sizeof err));
    cr_assert_str_eq(err, "/nonexistent/benefits.tsv: unable to open: No such file or directory");
}

Test(textfile, nul_byte_is_refused_with_its_offset)
{
    static const char data[] = "JKK\t2024\0-01-01\n";
    char path[64], err[256] = "", expect[128];

    make_file(path, data, sizeof data - 1);
    cr_assert_null(textfile_read(path, NULL, err, sizeof err), "a NUL byte must be refused");
    unlink(path);
    snprintf(expect, sizeof expect, "%s: contains a NUL byte at offset 8", path);
    cr_assert_str_eq(err, expect);
}

Test(textfile, directory_is_refused)
{
    char err[256] = "";

    cr_assert_null(textfile_read("/tmp", NULL, err, sizeof err), "a directory is no text file");
    cr_assert_str_eq(err, "/tmp: not a regular file");
}
