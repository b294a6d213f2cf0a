/* Unit tests of common/orderq: items come back in the order submitted however the workers
 * finish, a full ring hands out no item, the owner's thread runs the work without workers,
 * the workers' CPU time is theirs alone, and destroying with items pending returns. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "orderq.h"

typedef struct job {
    int seq;       /* set by the owner */
    int result;    /* seq * 2 + 1 by the work */
    int worker;    /* which context ran it */
    pthread_t thread;
} job;

typedef struct ctx {
    int id;
    atomic_int ran;
} ctx;

static void pause_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* Later items of a round of four finish first: seq 0 waits longest. */
static void work(void *item, void *worker_ctx)
{
    job *j = item;
    ctx *c = worker_ctx;

    pause_us((3 - j->seq % 4) * 2000L);
    j->result = j->seq * 2 + 1;
    j->worker = c->id;
    j->thread = pthread_self();
    atomic_fetch_add(&c->ran, 1);
}

Test(orderq, items_come_back_in_submission_order)
{
    job jobs[8];
    void *items[8];
    ctx ctxs[4];
    void *cp[4];
    char err[128];
    int next_seq = 0, expect = 0, total = 200;

    for (int i = 0; i < 8; i++)
        items[i] = &jobs[i];
    for (int i = 0; i < 4; i++) {
        ctxs[i].id = i;
        atomic_init(&ctxs[i].ran, 0);
        cp[i] = &ctxs[i];
    }
    orderq *q = orderq_new(items, 8, 4, work, cp, err, sizeof err);
    cr_assert_not_null(q, "orderq_new: %s", err);
    while (expect < total) {
        job *j;
        while (next_seq < total && (j = orderq_free_item(q))) {
            j->seq = next_seq++;
            j->result = -1;
            orderq_submit(q);
        }
        j = orderq_oldest(q, 1);
        cr_assert_not_null(j, "an item is pending after %d", expect);
        cr_assert_eq(j->seq, expect, "item %d came back as %d", expect, j->seq);
        cr_assert_eq(j->result, expect * 2 + 1, "item %d was worked on (%d)", expect, j->result);
        cr_assert(!pthread_equal(j->thread, pthread_self()), "item %d ran on a worker", expect);
        orderq_release(q);
        expect++;
    }
    cr_assert_eq(orderq_pending(q), 0, "nothing pending at the end");
    cr_assert_null(orderq_oldest(q, 1), "no oldest item when nothing is pending");
    int ran = 0, busy = 0;
    for (int i = 0; i < 4; i++) {
        ran += atomic_load(&ctxs[i].ran);
        busy += atomic_load(&ctxs[i].ran) > 0;
    }
    cr_assert_eq(ran, total, "every item ran once (%d)", ran);
    cr_assert_geq(busy, 2, "the work was spread over the workers (%d busy)", busy);
    orderq_destroy(q);
}

Test(orderq, a_full_ring_hands_out_no_item)
{
    job jobs[2];
    void *items[2] = {&jobs[0], &jobs[1]};
    ctx c = {0, 0};
    void *cp[1] = {&c};
    char err[128];

    orderq *q = orderq_new(items, 2, 1, work, cp, err, sizeof err);
    cr_assert_not_null(q, "orderq_new: %s", err);
    for (int i = 0; i < 2; i++) {
        job *j = orderq_free_item(q);
        cr_assert_eq(j, &jobs[i], "item %d handed out in ring order", i);
        j->seq = 0; /* the longest wait, so the first is not done at once */
        orderq_submit(q);
    }
    cr_assert_null(orderq_free_item(q), "no free item while both are pending");
    cr_assert_eq(orderq_pending(q), 2, "two pending");
    cr_assert_null(orderq_oldest(q, 0), "the first item is not done yet without waiting");
    cr_assert_eq(orderq_oldest(q, 1), &jobs[0], "waiting gives the first item");
    orderq_release(q);
    cr_assert_eq(orderq_free_item(q), &jobs[0], "the released item is free again");
    cr_assert_eq(orderq_oldest(q, 1), &jobs[1], "then the second");
    orderq_release(q);
    orderq_destroy(q);
}

Test(orderq, without_workers_the_owner_runs_the_work)
{
    job jobs[3];
    void *items[3] = {&jobs[0], &jobs[1], &jobs[2]};
    ctx c = {7, 0};
    void *cp[1] = {&c};
    char err[128];

    orderq *q = orderq_new(items, 3, 0, work, cp, err, sizeof err);
    cr_assert_not_null(q, "orderq_new: %s", err);
    job *j = orderq_free_item(q);
    j->seq = 3;
    orderq_submit(q);
    cr_assert_eq(j->result, 7, "the work ran inside orderq_submit");
    cr_assert(pthread_equal(j->thread, pthread_self()), "on the owner's thread");
    cr_assert_eq(j->worker, 7, "with ctx[0]");
    cr_assert_eq(orderq_oldest(q, 0), j, "done at once");
    orderq_release(q);
    cr_assert_null(orderq_oldest(q, 0), "nothing pending");
    orderq_destroy(q);
}

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Spins for 20 ms of its thread's CPU time. */
static void burn(void *item, void *worker_ctx)
{
    double t0 = thread_cpu();

    (void)item;
    (void)worker_ctx;
    while (thread_cpu() - t0 < 0.020)
        ;
}

Test(orderq, counts_the_workers_cpu_time_and_not_the_owners)
{
    job jobs[4];
    void *items[4] = {&jobs[0], &jobs[1], &jobs[2], &jobs[3]};
    ctx cs[2] = {{0, 0}, {1, 0}};
    void *cp[2] = {&cs[0], &cs[1]};
    char err[128];

    orderq *q = orderq_new(items, 4, 2, burn, cp, err, sizeof err);
    cr_assert_not_null(q, "orderq_new: %s", err);
    double before = orderq_cpu_seconds(q);
    cr_assert(before >= 0 && before < 0.010, "idle workers used %.3f s", before);
    for (int i = 0; i < 4; i++) {
        orderq_free_item(q);
        orderq_submit(q);
    }
    for (int i = 0; i < 4; i++) {
        cr_assert_not_null(orderq_oldest(q, 1));
        orderq_release(q);
    }
    double after = orderq_cpu_seconds(q);
    cr_assert(after - before >= 0.080, "4 items of 20 ms: %.3f s counted", after - before);
    cr_assert(after - before < 0.500, "4 items of 20 ms: %.3f s counted", after - before);
    orderq_destroy(q);

    /* Without workers the owner runs the work: none of it is the workers'. */
    q = orderq_new(items, 4, 0, burn, cp, err, sizeof err);
    cr_assert_not_null(q, "orderq_new: %s", err);
    orderq_free_item(q);
    orderq_submit(q);
    cr_assert_float_eq(orderq_cpu_seconds(q), 0.0, 1e-9, "no workers, no workers' time");
    cr_assert_not_null(orderq_oldest(q, 0));
    orderq_release(q);
    orderq_destroy(q);
}

Test(orderq, destroy_with_items_pending_returns)
{
    job jobs[4];
    void *items[4] = {&jobs[0], &jobs[1], &jobs[2], &jobs[3]};
    ctx c = {0, 0};
    void *cp[1] = {&c};
    char err[128];

    orderq *q = orderq_new(items, 4, 1, work, cp, err, sizeof err);
    cr_assert_not_null(q, "orderq_new: %s", err);
    for (int i = 0; i < 4; i++) {
        job *j = orderq_free_item(q);
        j->seq = i;
        orderq_submit(q);
    }
    orderq_destroy(q);
    cr_assert_leq(atomic_load(&c.ran), 4, "no item ran twice");
    orderq_destroy(NULL);
}

Test(orderq, refuses_no_items)
{
    ctx c = {0, 0};
    void *cp[1] = {&c};
    char err[128] = "";

    cr_assert_null(orderq_new(NULL, 0, 1, work, cp, err, sizeof err), "no items");
    cr_assert_neq(err[0], '\0', "with a message");
}
