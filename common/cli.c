/* cli: aligned result tables. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Row t of res, or the column names when t is -1. */
static void print_row(const PGresult *res, const int *w, int t, int pad_last)
{
    int nf = PQnfields(res);

    for (int f = 0; f < nf; f++)
        printf("%s%-*s", f ? "  " : "", f < nf - 1 || pad_last ? w[f] : 0,
               t < 0 ? PQfname(res, f) : PQgetvalue(res, t, f));
    putchar('\n');
}

void cli_print_table(const PGresult *res, int pad_last)
{
    int nf = PQnfields(res), nt = PQntuples(res);
    int *w = calloc((size_t)nf + 1, sizeof *w);

    if (!w)
        return;
    for (int f = 0; f < nf; f++) {
        w[f] = (int)strlen(PQfname(res, f));
        for (int t = 0; t < nt; t++)
            if ((int)strlen(PQgetvalue(res, t, f)) > w[f])
                w[f] = (int)strlen(PQgetvalue(res, t, f));
    }
    print_row(res, w, -1, pad_last);
    for (int f = 0; f < nf; f++) {
        printf("%s", f ? "  " : "");
        for (int i = 0; i < w[f]; i++)
            putchar('-');
    }
    putchar('\n');
    for (int t = 0; t < nt; t++)
        print_row(res, w, t, pad_last);
    printf("(%d rows)\n", nt);
    free(w);
}
