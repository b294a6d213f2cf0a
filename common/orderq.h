/* orderq: an ordered work queue over a fixed ring of the caller's items. One thread, the
 * owner, fills items and submits them in order; worker threads run the work function on
 * them in parallel; the owner takes them back in the order it submitted them, whatever
 * order they finished in. Nothing is allocated per item. Every function but orderq_new's
 * work function is the owner's: called from one thread only. */
#ifndef ORDERQ_H
#define ORDERQ_H

#include <stddef.h>

typedef struct orderq orderq;

/* The work on one item, run by worker i with ctx[i]: it may change the item and its
 * worker's context, nothing the owner reads meanwhile. */
typedef void (*orderq_fn)(void *item, void *worker_ctx);

/* A queue over nitems (>= 1) items (the array is copied, the items are the caller's and
 * must outlive the queue) with nworkers threads; worker i gets ctx[i]. With nworkers 0,
 * fn runs inside orderq_submit on the owner's thread and ctx[0] is its context. NULL with
 * errstr filled when memory or a thread cannot be had. */
orderq *orderq_new(void *const *items, int nitems, int nworkers, orderq_fn fn, void *const *ctx,
                   char *errstr, size_t errstr_size);

/* Stop the workers, after the items they run now (submitted items not yet started are
 * dropped), and free the queue, not the items. Accepts NULL. */
void orderq_destroy(orderq *q);

/* The item to fill next, or NULL while every item is submitted and not yet released. */
void *orderq_free_item(orderq *q);

/* Hand the item orderq_free_item returned to the workers. */
void orderq_submit(orderq *q);

/* Items submitted and not yet released. */
int orderq_pending(const orderq *q);

/* The oldest submitted item not yet released, once its work is done; waits for that when
 * wait is set. NULL when nothing is pending, or without wait when the work is not done. */
void *orderq_oldest(orderq *q, int wait);

/* Give the item orderq_oldest returned back, to be filled again. */
void orderq_release(orderq *q);

/* CPU seconds the worker threads have used so far, all together (0 without workers), or
 * -1 when a thread's CPU clock cannot be read. */
double orderq_cpu_seconds(const orderq *q);

#endif
