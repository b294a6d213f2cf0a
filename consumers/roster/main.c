/* roster-consumer: keeps workers and coverages exact from the roster.changes topic. */
#include "consumer_service.h"
#include "roster.h"
#include "roster_apply.h"
#include "source_topic.h"

static const config_option options[] = {
    {"topic", CONFIG_STR, ROSTER_TOPIC, NULL,
     "topic to consume (and each data center's <topic>.<source>), or a ^pattern"},
    {"group", CONFIG_STR, "roster-consumer", NULL, "consumer group"},
    /* Longer than the consumers' 200 ms: at a backlog a batch then fills to
     * batch.max.messages before its deadline, and the two apply connections wait less for
     * their next batch (make bench, 1M, same code: 200 ms 23.0-25.5k events/s with 1.45
     * connections busy on average, 1000 ms 28.2k with 1.68, 3000 ms 29.2k, 50 ms 21.4k).
     * A batch at the end of the log is handed off at once, whatever the deadline. */
    {"batch.max.ms", CONFIG_INT, "1000", NULL, NULL},
    /* With batches that long, a connection that finishes its batch while the fetches lag
     * behind it would wait until the next is full or 1,000 ms old: it takes the next one as
     * it is instead, and the one after grows meanwhile. Stop 24's national run (without
     * it) had 1.68 of 2 connections busy; on a day PostgreSQL was twice as slow, the fetch
     * kept up either way (make bench-national: 408 s with it, 425 s without, 1.98 / 1.96
     * busy; make bench 1M: 57.6 / 55.6 s), so it costs nothing where it does not help. */
    {"batch.idle.handoff", CONFIG_BOOL, "true", NULL, NULL},
    /* A batch slot holds its messages and their ids, about 0.5 kB an event, and each
     * worker has two: 7,000 instead of the consumers' 10,000 keeps the 4,096 KB librdkafka
     * fetches ahead (common/consumer.c) within 50 MB at a backlog (make bench, 1M, one
     * after the other: 10,000 36.2k events/s in 50.5 MB; 7,000 33.3k and 33.3k in 46.2
     * and 45.3 MB; 1,536 KB ahead with 10,000 30.7k and 31.7k in 44.8 and 44.6 MB). */
    {"batch.max.messages", CONFIG_INT, "7000", NULL, NULL},
    {NULL, 0, NULL, NULL, NULL},
};

static void *ctx_new(const config *cfg, char *errstr, size_t n)
{
    return roster_apply_new(source_topic_base(config_get(cfg, "topic"), ROSTER_TOPIC), errstr, n);
}

static void ctx_destroy(void *ctx)
{
    roster_apply_destroy(ctx);
}

int main(int argc, char **argv)
{
    static const consumer_service_def def = {
        .program = {"roster-consumer",
                    "usage: roster-consumer [options]\n"
                    "Applies roster changes to PostgreSQL exactly once; rejected events go to "
                    "<topic>.dlq.\n\noptions:\n",
                    CONSUMER_SERVICE_OPTIONS, options, 0, 0},
        .ctx_new = ctx_new,
        .ctx_destroy = ctx_destroy,
        .prepare = roster_apply_prepare,
        .apply = roster_apply_batch,
    };

    return consumer_service_main(argc, argv, &def);
}
