/* cli: the aligned result tables of the command-line tools. Called from main only. */
#ifndef CLI_H
#define CLI_H

#include <libpq-fe.h>

/* Print res on stdout as a table: a header of column names, a rule of dashes, the rows with
 * columns two spaces apart and left-aligned to their widest value (the last column too
 * when pad_last is set), then "(N rows)". */
void cli_print_table(const PGresult *res, int pad_last);

#endif
