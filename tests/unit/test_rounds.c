/* Unit tests of common/rounds: per-key ordinals within a batch and reuse across batches. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "rounds.h"

Test(rounds, kth_event_of_a_key_gets_round_k)
{
    const char *keys[] = {"a", "b", "a", "c", "a", "b"};
    const int want[] = {1, 1, 2, 1, 3, 2};
    char err[64];
    rounds *r = rounds_new();

    cr_assert_not_null(r, "rounds_new failed");
    cr_assert_eq(rounds_reset(r, 6, err, sizeof err), 0, "reset failed: %s", err);
    for (int i = 0; i < 6; i++) {
        int got = rounds_assign(r, keys[i]);
        cr_assert_eq(got, want[i], "event %d (key %s): round %d, want %d", i, keys[i], got, want[i]);
    }
    rounds_destroy(r);
}

Test(rounds, reset_forgets_the_previous_batch)
{
    char err[64];
    rounds *r = rounds_new();

    rounds_reset(r, 2, err, sizeof err);
    rounds_assign(r, "7313014101900001");
    cr_assert_eq(rounds_assign(r, "7313014101900001"), 2, "second event of the key is round 2");
    cr_assert_eq(rounds_reset(r, 1, err, sizeof err), 0, "reset failed: %s", err);
    cr_assert_eq(rounds_assign(r, "7313014101900001"), 1, "a new batch starts again at round 1");
    rounds_destroy(r);
}

Test(rounds, refuses_more_keys_than_announced)
{
    char err[64];
    rounds *r = rounds_new();

    rounds_reset(r, 1, err, sizeof err);
    cr_assert_eq(rounds_assign(r, "x"), 1, "first key within the announced count");
    cr_assert_eq(rounds_assign(r, "y"), -1, "a key past the announced count is refused");
    rounds_destroy(r);
}

Test(rounds, many_distinct_keys_stay_in_round_one)
{
    static char keys[5000][8];
    char err[64];
    rounds *r = rounds_new();

    cr_assert_eq(rounds_reset(r, 10000, err, sizeof err), 0, "reset failed: %s", err);
    for (int i = 0; i < 5000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        cr_assert_eq(rounds_assign(r, keys[i]), 1, "distinct key %s: round 1", keys[i]);
    }
    for (int i = 0; i < 5000; i++)
        cr_assert_eq(rounds_assign(r, keys[i]), 2, "key %s again: round 2", keys[i]);
    rounds_destroy(r);
}

Test(rounds, destroy_accepts_null)
{
    rounds_destroy(NULL);
    cr_assert(1, "rounds_destroy(NULL) returned");
}
