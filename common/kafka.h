/* kafka: librdkafka configuration shared by every program. */
#ifndef KAFKA_H
#define KAFKA_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>

#include "config.h"

/* A new configuration: defaults (NULL-terminated key, value pairs; may be NULL), then
 * "bootstrap" from cfg, then group.id when group is not NULL, then the user's kafka.*
 * properties, which always win. librdkafka's own log lines go through log_write.
 * The caller owns the result (rd_kafka_new takes it on success). NULL + errstr on error. */
rd_kafka_conf_t *kafka_conf_new(const config *cfg, const char *const *defaults, const char *group,
                                char *errstr, size_t errstr_size);

#endif
