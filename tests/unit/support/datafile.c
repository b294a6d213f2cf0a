/* datafile: loading the data files of data-driven unit tests. */
#include "datafile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/alloc.h>

/* Split line at TABs into at most n fields (in place), the last keeping the rest of the
 * line; returns the field count. */
static int split_tabs(char *line, char **field, int n)
{
    int k = 0;

    field[k++] = line;
    while (k < n && (line = strchr(line, '\t')) != NULL) {
        *line++ = '\0';
        field[k++] = line;
    }
    return k;
}

size_t datafile_load(const char *path, int max_fields, void *cases, size_t size, size_t max,
                     datafile_fill_fn fill)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    datafile_line l = {0};

    if (!f)
        return 0;
    if (max_fields > DATAFILE_MAX_FIELDS)
        max_fields = DATAFILE_MAX_FIELDS;
    while (n < max && getline(&buf, &cap, f) >= 0) {
        l.line++;
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0] == '#' || buf[0] == '\0')
            continue;
        l.nfields = split_tabs(buf, l.field, max_fields);
        n += fill(&l, (char *)cases + n * size) ? 1 : 0;
    }
    free(buf);
    fclose(f);
    return n;
}

static int fill_case(const datafile_line *l, void *out)
{
    datafile_case *c = out;

    if (l->nfields != 3)
        return 0;
    memset(c, 0, sizeof *c);
    c->line = l->line;
    snprintf(c->input, sizeof c->input, "%s", l->field[0]);
    c->ok = strcmp(l->field[1], "OK") == 0;
    snprintf(c->expect, sizeof c->expect, "%s", l->field[2]);
    return 1;
}

size_t datafile_load_cases(const char *path, datafile_case *cases, size_t max)
{
    return datafile_load(path, 3, cases, sizeof *cases, max, fill_case);
}

static void free_params(struct criterion_test_params *crp)
{
    cr_free(crp->params);
}

struct criterion_test_params datafile_params(const void *cases, size_t n, size_t size)
{
    void *copy = cr_malloc(size * (n ? n : 1));

    if (copy)
        memcpy(copy, cases, size * n);
    return (struct criterion_test_params){
        .size = size, .params = copy, .length = copy ? n : 0, .cleanup = free_params};
}

static int fill_row(const datafile_line *l, void *out)
{
    datafile_row *r = out;

    if (strncmp(l->field[0], "name\t", 5) == 0)
        return 0;
    r->line = l->line;
    snprintf(r->text, sizeof r->text, "%s", l->field[0]);
    return 1;
}

size_t datafile_count_rows(const char *path)
{
    datafile_row scratch;

    /* A case size of 0: every row is filled into the one scratch row; only the count stays. */
    return datafile_load(path, 1, &scratch, 0, SIZE_MAX, fill_row);
}

struct criterion_test_params datafile_row_params(const char *path, size_t max)
{
    datafile_row *rows = malloc(max * sizeof *rows);
    size_t n = rows ? datafile_load(path, 1, rows, sizeof *rows, max, fill_row) : 0;
    struct criterion_test_params p = datafile_params(rows, n, sizeof *rows);

    free(rows);
    return p;
}

int datafile_split(char *s, char sep, char **field, int n)
{
    int k = 0;

    while (k < n) {
        field[k++] = s;
        s = strchr(s, sep);
        if (!s)
            break;
        *s++ = '\0';
    }
    return s ? k + 1 : k;
}

char *datafile_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0
        && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}
