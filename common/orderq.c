/* orderq: a ring of items, each free, submitted (waiting or running) or done, with one
 * lock and two condition variables. Items are started in ring order: of the pending items
 * from head on, the first count - waiting are running or done, the rest wait at next. */
#include "orderq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct orderq {
    void **items;
    unsigned char *done;
    int nitems;
    int head;          /* oldest pending item */
    int count;         /* pending items */
    int next;          /* oldest waiting item */
    int waiting;       /* submitted items no worker started yet */
    int nworkers, started;
    int stop;
    orderq_fn fn;
    void **ctx;
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t work;  /* an item was submitted, or stop */
    pthread_cond_t fin;   /* an item is done */
};

struct worker_arg {
    orderq *q;
    void *ctx;
};

static void *worker_main(void *arg)
{
    orderq *q = ((struct worker_arg *)arg)->q;
    void *ctx = ((struct worker_arg *)arg)->ctx;

    free(arg);
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->stop && !q->waiting)
            pthread_cond_wait(&q->work, &q->lock);
        if (q->stop)
            break;
        int i = q->next;
        q->next = (q->next + 1) % q->nitems;
        q->waiting--;
        pthread_mutex_unlock(&q->lock);
        q->fn(q->items[i], ctx);
        pthread_mutex_lock(&q->lock);
        q->done[i] = 1;
        if (i == q->head)
            pthread_cond_signal(&q->fin);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

orderq *orderq_new(void *const *items, int nitems, int nworkers, orderq_fn fn, void *const *ctx,
                   char *errstr, size_t errstr_size)
{
    orderq *q = calloc(1, sizeof *q);

    if (!q || nitems < 1 || nworkers < 0) {
        snprintf(errstr, errstr_size, q ? "an orderq needs an item and no negative worker count" : "out of memory");
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->fin, NULL);
    q->nitems = nitems;
    q->nworkers = nworkers;
    q->fn = fn;
    q->items = malloc((size_t)nitems * sizeof *q->items);
    q->done = calloc((size_t)nitems, 1);
    q->ctx = malloc((size_t)(nworkers ? nworkers : 1) * sizeof *q->ctx);
    q->threads = calloc((size_t)(nworkers ? nworkers : 1), sizeof *q->threads);
    if (!q->items || !q->done || !q->ctx || !q->threads) {
        snprintf(errstr, errstr_size, "out of memory");
        goto err;
    }
    memcpy(q->items, items, (size_t)nitems * sizeof *q->items);
    memcpy(q->ctx, ctx, (size_t)(nworkers ? nworkers : 1) * sizeof *q->ctx);
    for (int i = 0; i < nworkers; i++) {
        struct worker_arg *arg = malloc(sizeof *arg);
        int rc = arg ? 0 : -1;
        if (arg) {
            arg->q = q;
            arg->ctx = q->ctx[i];
            if ((rc = pthread_create(&q->threads[i], NULL, worker_main, arg)) != 0)
                free(arg);
        }
        if (rc != 0) {
            snprintf(errstr, errstr_size, "unable to start a worker thread: %s", arg ? strerror(rc) : "out of memory");
            goto err;
        }
        q->started++;
    }
    return q;
err:
    orderq_destroy(q);
    return NULL;
}

void orderq_destroy(orderq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stop = 1;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->started; i++)
        pthread_join(q->threads[i], NULL);
    pthread_cond_destroy(&q->fin);
    pthread_cond_destroy(&q->work);
    pthread_mutex_destroy(&q->lock);
    free(q->threads);
    free(q->ctx);
    free(q->done);
    free(q->items);
    free(q);
}

void *orderq_free_item(orderq *q)
{
    return q->count < q->nitems ? q->items[(q->head + q->count) % q->nitems] : NULL;
}

void orderq_submit(orderq *q)
{
    int i = (q->head + q->count) % q->nitems;

    if (!q->nworkers) {
        q->fn(q->items[i], q->ctx[0]);
        q->done[i] = 1;
        q->count++;
        return;
    }
    pthread_mutex_lock(&q->lock);
    q->count++;
    q->waiting++;
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->lock);
}

int orderq_pending(const orderq *q)
{
    return q->count;
}

void *orderq_oldest(orderq *q, int wait)
{
    void *item = NULL;

    if (!q->count)
        return NULL;
    if (!q->nworkers)
        return q->items[q->head];
    pthread_mutex_lock(&q->lock);
    while (wait && !q->done[q->head])
        pthread_cond_wait(&q->fin, &q->lock);
    if (q->done[q->head])
        item = q->items[q->head];
    pthread_mutex_unlock(&q->lock);
    return item;
}

void orderq_release(orderq *q)
{
    pthread_mutex_lock(&q->lock);
    q->done[q->head] = 0;
    q->head = (q->head + 1) % q->nitems;
    q->count--;
    pthread_mutex_unlock(&q->lock);
}

double orderq_cpu_seconds(const orderq *q)
{
    double total = 0;

    for (int i = 0; i < q->started; i++) {
        clockid_t clock;
        struct timespec ts;
        if (pthread_getcpuclockid(q->threads[i], &clock) != 0 || clock_gettime(clock, &ts) != 0)
            return -1;
        total += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    return total;
}
