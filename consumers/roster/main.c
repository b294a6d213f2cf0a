/* roster-consumer: keeps workers and coverages exact from the roster.changes topic. */
#include "consumer_service.h"
#include "roster.h"
#include "roster_apply.h"
#include "source_topic.h"

static const config_option options[] = {
    {"topic", CONFIG_STR, ROSTER_TOPIC, NULL,
     "topic to consume (and each data center's <topic>.<source>), or a ^pattern"},
    {"group", CONFIG_STR, "roster-consumer", NULL, "consumer group"},
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
