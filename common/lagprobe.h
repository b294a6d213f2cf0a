/* lagprobe: reads one round of the lag monitor's observations (common/lagmon.h) from Kafka
 * and PostgreSQL:
 *  1. the consumer groups, with librdkafka's Admin API: ListConsumerGroups (every state,
 *     so a group without a running member is listed too), DescribeConsumerGroups (the
 *     member count), ListConsumerGroupOffsets (each group's committed offsets);
 *  2. the offsets this project's consumers store in PostgreSQL (consumer_offsets, with
 *     updated_at as the commit time); a failure here is logged and the round goes on
 *     without them (pg_read 0), connecting again next round;
 *  3. the high watermark of every partition a group has an offset for;
 *  4. when asked, the timestamp of the oldest unconsumed message of each lagging
 *     partition: the message at the offset the monitor judges the partition by, read with
 *     a consumer that joins no group and commits nothing (so the monitor never shows up as
 *     a group itself); a partition whose message does not come within a short wait is left
 *     to the interpolation of watermarks (lagwin rule T5).
 * One thread uses a probe. */
#ifndef LAGPROBE_H
#define LAGPROBE_H

#include <stddef.h>

#include "config.h"
#include "lagmon.h"

typedef struct lagprobe_params {
    const char *const *groups;  /* only these groups (copied); NULL: every group */
    size_t ngroups;
    int timeout_ms;             /* bound of each Kafka request */
    int message_age;            /* step 4 */
    int read_pg;                /* step 2 */
} lagprobe_params;

typedef struct lagprobe lagprobe;

/* A probe with Kafka's "bootstrap" and kafka.* options of cfg and, when p->read_pg, its "pg"
 * options (connected at the first round). NULL with errstr filled when the Kafka client
 * cannot be made or memory runs out. Free with lagprobe_destroy. */
lagprobe *lagprobe_new(const config *cfg, const lagprobe_params *p, char *errstr,
                       size_t errstr_size);

/* Free the probe, closing its connections. Accepts NULL. */
void lagprobe_destroy(lagprobe *p);

/* Read one round into out (lagmon_round_init'ed here with the time it started; the caller
 * releases it, also after a failure). Returns 0, or -1 with errstr filled when Kafka could
 * not be read (the round is then not to be used). */
int lagprobe_collect(lagprobe *p, lagmon_round *out, char *errstr, size_t errstr_size);

#endif
