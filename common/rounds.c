/* rounds: per-key ordinals in a batch, by open addressing over the caller's keys. */
#include "rounds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    const char *key;   /* NULL = empty */
    int count;         /* events of this key so far */
} slot;

struct rounds {
    slot *slots;
    int nslots;        /* a power of two, at least twice the batch */
    int left;          /* assignments left in this batch */
};

rounds *rounds_new(void)
{
    return calloc(1, sizeof(rounds));
}

void rounds_destroy(rounds *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r);
}

int rounds_reset(rounds *r, int count, char *errstr, size_t n)
{
    int want = 16;

    while (want < count * 2)
        want *= 2;
    if (want > r->nslots) {
        free(r->slots);
        if (!(r->slots = malloc((size_t)want * sizeof *r->slots))) {
            r->nslots = 0;
            r->left = 0;
            snprintf(errstr, n, "out of memory");
            return -1;
        }
        r->nslots = want;
    }
    memset(r->slots, 0, (size_t)r->nslots * sizeof *r->slots);
    r->left = count;
    return 0;
}

int rounds_assign(rounds *r, const char *key)
{
    unsigned h = 2166136261u, mask;

    if (r->left <= 0)
        return -1;
    r->left--;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    mask = (unsigned)r->nslots - 1;
    for (unsigned i = h & mask;; i = (i + 1) & mask) {
        slot *s = &r->slots[i];
        if (!s->key) {
            s->key = key;
            s->count = 1;
            return 1;
        }
        if (strcmp(s->key, key) == 0)
            return ++s->count;
    }
}
