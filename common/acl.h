/* acl: Kafka ACL bindings as lines of a tab-separated file, the form the stack keeps its
 * ACLs in and `topics acls` creates and lists them:
 *
 *   principal  resource  pattern  name  operation  permission  [host]
 *   User:dc-sulsel  topic  literal  roster.changes.dc-sulsel  write  allow
 *
 * resource: topic, group or cluster (name kafka-cluster); pattern: literal or prefixed;
 * operation: all, read, write, create, delete, alter, describe, cluster_action,
 * describe_configs, alter_configs or idempotent_write; permission: allow or deny; host
 * defaults to '*'. Names are lower-case; '#' starts a comment line. Pure; any thread. */
#ifndef ACL_H
#define ACL_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>

typedef struct acl_spec {
    char principal[128];
    rd_kafka_ResourceType_t resource;
    rd_kafka_ResourcePatternType_t pattern;
    char name[256];
    rd_kafka_AclOperation_t operation;
    rd_kafka_AclPermissionType_t permission;
    char host[64];
} acl_spec;

/* Parse one line (its trailing newline allowed) into out. 0 for a binding, 1 for a blank or
 * comment line (out untouched), -1 with errstr naming the column that is wrong. */
int acl_parse(const char *line, acl_spec *out, char *errstr, size_t errstr_size);

/* A new binding of spec for rd_kafka_CreateAcls (the caller destroys it), or NULL + errstr. */
rd_kafka_AclBinding_t *acl_binding_new(const acl_spec *spec, char *errstr, size_t errstr_size);

/* A binding as the file's line (no newline) into out (size bytes); returns out, or NULL
 * when it does not fit or has a type the file cannot name. */
char *acl_format(const rd_kafka_AclBinding_t *binding, char *out, size_t size);

#endif
