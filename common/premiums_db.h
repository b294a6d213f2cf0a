/* premiums_db: the premium rates and billing rules in PostgreSQL (tables premium_rates and
 * billing_rules, deploy/sql/012), copied from the files premiums.c validated: the one place
 * that writes them. Whoever computes invoices syncs them first (covadm); the roster
 * consumer's budget rule and the invoice SQL read them. Called on the thread that owns the
 * connection. */
#ifndef PREMIUMS_DB_H
#define PREMIUMS_DB_H

#include <stddef.h>
#include <libpq-fe.h>

#include "premiums.h"

/* Rows written or removed by a sync. */
typedef struct premiums_db_counts {
    long rates_changed, rates_removed;
    long rules_changed, rules_removed;
} premiums_db_counts;

/* Make both tables hold exactly the rows of t and r (rows equal already are left alone; rows
 * no longer in a file are removed), in the caller's transaction or one of its own. counts may
 * be NULL. 0, or -1 + errstr. */
int premiums_db_sync(PGconn *pg, const premium_rates *t, const billing_rules *r,
                     premiums_db_counts *counts, char *errstr, size_t errstr_size);

#endif
