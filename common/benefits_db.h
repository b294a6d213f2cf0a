/* benefits_db: the benefit table in PostgreSQL (table benefit_table, deploy/sql/003): the
 * one place that writes it (from the file the incident consumer loads) and reads it back
 * (for the officers' CLI, which routes a determination with the rows the consumer used).
 * Called on the thread that owns the connection. */
#ifndef BENEFITS_DB_H
#define BENEFITS_DB_H

#include <stddef.h>
#include <libpq-fe.h>

#include "benefits.h"

/* Upsert every row of t into benefit_table in one statement (its own transaction when none
 * is open); rows already equal are left alone. 0, or -1 + errstr. */
int benefits_db_sync(PGconn *pg, const benefit_table *t, char *errstr, size_t errstr_size);

/* The table as PostgreSQL holds it, validated as benefits_from_rows does. A new table (free
 * with benefits_destroy), or NULL + errstr (also when benefit_table is empty). */
benefit_table *benefits_db_load(PGconn *pg, char *errstr, size_t errstr_size);

#endif
