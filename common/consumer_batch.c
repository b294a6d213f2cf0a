/* consumer_batch: what a service sees of a batch (the types are all in consumer_batch.h), and
 * the monotonic clock of the consumer's batch deadlines and waits. */
#include "consumer_batch.h"

#include <time.h>

int64_t consumer_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
