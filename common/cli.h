/* cli: the prelude every program's main shares (flags, --help, the PostgreSQL connection)
 * and the aligned result tables of the command-line tools. Called from main only. */
#ifndef CLI_H
#define CLI_H

#include <stdio.h>

#include "config.h"
#include "pg.h"

/* What --help and error messages say about a program. Static data; not copied. */
typedef struct cli_program {
    const char *name;              /* "covadm": prefix of every message */
    const char *usage;             /* printed before the option list, "usage: ...\n...options:\n" */
    const config_option *options;  /* the program's option table */
} cli_program;

/* Print p->usage and then p's option table to out. */
void cli_usage(const cli_program *p, FILE *out);

/* Parse argv[1..] into cfg with config_parse_args. Returns -1 when the program goes on, with
 * *rest the count of non-option arguments (moved to argv[1..]); else the status main should
 * return: 0 after printing the help to stdout for --help, 2 after "NAME: error" on stderr. */
int cli_parse_args(const cli_program *p, config *cfg, int argc, char **argv, int *rest);

/* Connect to PostgreSQL with the "pg" option, p->name being the application name. On
 * failure prints "NAME: error" on stderr and returns NULL. The caller PQfinish()es. */
PGconn *cli_connect(const cli_program *p, const config *cfg);

/* Print res on stdout as a table: a header of column names, a rule of dashes, the rows with
 * columns two spaces apart and left-aligned to their widest value (the last column too
 * when pad_last is set), then "(N rows)". */
void cli_print_table(const PGresult *res, int pad_last);

#endif
