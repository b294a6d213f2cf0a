/* acl: Kafka ACL bindings as tab-separated lines. */
#include "acl.h"

#include <stdio.h>
#include <string.h>

typedef struct name_value {
    const char *name;
    int value;
} name_value;

static const name_value resources[] = {
    {"topic", RD_KAFKA_RESOURCE_TOPIC},
    {"group", RD_KAFKA_RESOURCE_GROUP},
    {"cluster", RD_KAFKA_RESOURCE_BROKER}, /* Kafka's CLUSTER (4); librdkafka calls it BROKER */
    {NULL, 0},
};

static const name_value patterns[] = {
    {"literal", RD_KAFKA_RESOURCE_PATTERN_LITERAL},
    {"prefixed", RD_KAFKA_RESOURCE_PATTERN_PREFIXED},
    {NULL, 0},
};

static const name_value operations[] = {
    {"all", RD_KAFKA_ACL_OPERATION_ALL},
    {"read", RD_KAFKA_ACL_OPERATION_READ},
    {"write", RD_KAFKA_ACL_OPERATION_WRITE},
    {"create", RD_KAFKA_ACL_OPERATION_CREATE},
    {"delete", RD_KAFKA_ACL_OPERATION_DELETE},
    {"alter", RD_KAFKA_ACL_OPERATION_ALTER},
    {"describe", RD_KAFKA_ACL_OPERATION_DESCRIBE},
    {"cluster_action", RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION},
    {"describe_configs", RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS},
    {"alter_configs", RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS},
    {"idempotent_write", RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE},
    {NULL, 0},
};

static const name_value permissions[] = {
    {"allow", RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW},
    {"deny", RD_KAFKA_ACL_PERMISSION_TYPE_DENY},
    {NULL, 0},
};

static int lookup(const name_value *t, const char *name, int *value)
{
    for (; t->name; t++)
        if (strcmp(t->name, name) == 0) {
            *value = t->value;
            return 0;
        }
    return -1;
}

static const char *name_of(const name_value *t, int value)
{
    for (; t->name; t++)
        if (t->value == value)
            return t->name;
    return NULL;
}

/* The choices of a table, "a, b or c", for an error message. */
static void choices(const name_value *t, char *out, size_t size)
{
    size_t used = 0;

    out[0] = '\0';
    for (const name_value *e = t; e->name && used < size; e++)
        used += (size_t)snprintf(out + used, size - used, "%s%s",
                                 e == t ? "" : e[1].name ? ", " : " or ", e->name);
}

int acl_parse(const char *line, acl_spec *out, char *errstr, size_t n)
{
    static const char *const columns[] = {"principal", "resource", "pattern", "name",
                                          "operation", "permission", "host"};
    char buf[1024], *fields[8], *save = NULL, *tok, list[160];
    const name_value *tables[] = {NULL, resources, patterns, NULL, operations, permissions};
    int values[6] = {0}, nf = 0;
    size_t len;

    if (strlen(line) >= sizeof buf) {
        snprintf(errstr, n, "line longer than %zu characters", sizeof buf - 1);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", line);
    len = strcspn(buf, "\r\n");
    buf[len] = '\0';
    if (!buf[strspn(buf, " \t")] || buf[strspn(buf, " \t")] == '#')
        return 1;
    for (tok = strtok_r(buf, "\t", &save); tok; tok = strtok_r(NULL, "\t", &save)) {
        if (nf == 7) {
            snprintf(errstr, n, "more than 7 columns (principal, resource, pattern, name,"
                                " operation, permission, host)");
            return -1;
        }
        fields[nf++] = tok;
    }
    if (nf < 6) {
        snprintf(errstr, n, "expected 'principal<TAB>resource<TAB>pattern<TAB>name<TAB>"
                            "operation<TAB>permission[<TAB>host]', got %d columns", nf);
        return -1;
    }
    for (int i = 0; i < 6; i++) {
        if (!tables[i])
            continue;
        if (lookup(tables[i], fields[i], &values[i]) < 0) {
            choices(tables[i], list, sizeof list);
            snprintf(errstr, n, "%s '%s' is none of %s", columns[i], fields[i], list);
            return -1;
        }
    }
    if (strncmp(fields[0], "User:", 5) != 0 || !fields[0][5] ||
        strlen(fields[0]) >= sizeof out->principal) {
        snprintf(errstr, n, "principal '%s' is not User:<name> (at most %zu characters)",
                 fields[0], sizeof out->principal - 1);
        return -1;
    }
    if (strlen(fields[3]) >= sizeof out->name) {
        snprintf(errstr, n, "name '%s' is longer than %zu characters", fields[3],
                 sizeof out->name - 1);
        return -1;
    }
    if (nf == 7 && strlen(fields[6]) >= sizeof out->host) {
        snprintf(errstr, n, "host '%s' is longer than %zu characters", fields[6],
                 sizeof out->host - 1);
        return -1;
    }
    snprintf(out->principal, sizeof out->principal, "%s", fields[0]);
    out->resource = (rd_kafka_ResourceType_t)values[1];
    out->pattern = (rd_kafka_ResourcePatternType_t)values[2];
    snprintf(out->name, sizeof out->name, "%s", fields[3]);
    out->operation = (rd_kafka_AclOperation_t)values[4];
    out->permission = (rd_kafka_AclPermissionType_t)values[5];
    snprintf(out->host, sizeof out->host, "%s", nf == 7 ? fields[6] : "*");
    return 0;
}

rd_kafka_AclBinding_t *acl_binding_new(const acl_spec *a, char *errstr, size_t n)
{
    return rd_kafka_AclBinding_new(a->resource, a->name, a->pattern, a->principal, a->host,
                                   a->operation, a->permission, errstr, n);
}

char *acl_format(const rd_kafka_AclBinding_t *b, char *out, size_t size)
{
    const char *res = name_of(resources, rd_kafka_AclBinding_restype(b));
    const char *pat = name_of(patterns, rd_kafka_AclBinding_resource_pattern_type(b));
    const char *op = name_of(operations, rd_kafka_AclBinding_operation(b));
    const char *perm = name_of(permissions, rd_kafka_AclBinding_permission_type(b));
    int len;

    if (!res || !pat || !op || !perm)
        return NULL;
    len = snprintf(out, size, "%s\t%s\t%s\t%s\t%s\t%s\t%s", rd_kafka_AclBinding_principal(b), res,
                   pat, rd_kafka_AclBinding_name(b), op, perm, rd_kafka_AclBinding_host(b));
    return len < 0 || (size_t)len >= size ? NULL : out;
}
