/* rounds: splits a batch into "rounds" by key so set-based SQL keeps each key's order.
 * Round k holds the k-th event of every key (e.g. NIK) in the batch: a round has at most
 * one event per key, and applying rounds 1, 2, ... in turn applies each key's events in
 * batch order. One rounds per thread; it is not thread-safe. */
#ifndef ROUNDS_H
#define ROUNDS_H

#include <stddef.h>

typedef struct rounds rounds;

/* NULL when out of memory. Free with rounds_destroy. */
rounds *rounds_new(void);
void rounds_destroy(rounds *r);

/* Start a batch of at most count keys. Forgets every key of the previous batch.
 * 0, or -1 + errstr when out of memory. */
int rounds_reset(rounds *r, int count, char *errstr, size_t errstr_size);

/* The round (1, 2, ...) of the next event with key, a NUL-terminated string that must stay
 * valid until the next rounds_reset. At most count calls per reset; -1 past that. */
int rounds_assign(rounds *r, const char *key);

#endif
