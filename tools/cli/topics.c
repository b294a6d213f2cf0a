/* topics: create, list and wait for Kafka topics, and create and list ACLs, through
 * librdkafka's Admin API.
 *
 *   topics [options] create <topics.tsv>
 *   topics [options] list
 *   topics [options] wait
 *   topics [options] acls <acls.tsv>      create the ACL bindings of the file (common/acl.h)
 *   topics [options] list-acls            every ACL binding, in the file's form, sorted
 *
 * Options as every program's (common/program.h): --bootstrap (or $KAFKA_BOOTSTRAP),
 * --config, -X property=value (TLS, SASL, ...), plus --timeout.ms and --replication.
 * topics.tsv: one topic a line, tab-separated
 * "name  partitions  key=value,key=value" (third column optional or "-"); '#' starts a
 * comment line. Exit 0 on success, 1 on a failure, 2 on a usage error. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "kafka.h"
#include "log.h"
#include "program.h"

#define TOPICS_MAX 256
#define ACLS_MAX 4096
#define LINE_MAX_LEN 4096

typedef struct {
    char name[250];
    int partitions;
    char config[1024]; /* "k=v,k=v" or "" */
} topic_spec;

static const config_option options[] = {
    {"timeout.ms", CONFIG_INT, "30000", NULL, "longest wait for the cluster's answers"},
    {"replication", CONFIG_INT, "-1", NULL,
     "create: replication factor (-1: the broker's default.replication.factor)"},
    {NULL, 0, NULL, NULL, NULL},
};

static const program_def program = {
    "topics",
    "usage: topics [options] create TOPICS.tsv | list | wait | acls ACLS.tsv | list-acls\n"
    "Creates the topics of a TSV file (name, partitions, key=value,... per line), lists the\n"
    "cluster's topics, waits until the cluster answers, creates the ACL bindings of a TSV\n"
    "file (principal, resource, pattern, name, operation, permission[, host] per line) or\n"
    "lists the cluster's ACLs in that form. Exit status: 0 done, 1 failed, 2 usage.\n"
    "\noptions:\n",
    PROGRAM_OPT_KAFKA,
    options,
    1,
    2,
    NULL,
};

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        *--end = '\0';
    return s;
}

/* Parse one non-comment line into spec; 0 on success, -1 with errstr filled. */
static int parse_line(char *line, topic_spec *spec, char *errstr, size_t errsize)
{
    char *fields[3] = {NULL, NULL, NULL};
    char *save = NULL, *tok, *end;
    int n = 0;
    long parts;

    for (tok = strtok_r(line, "\t", &save); tok && n < 3; tok = strtok_r(NULL, "\t", &save))
        fields[n++] = trim(tok);
    if (tok) {
        snprintf(errstr, errsize, "too many columns");
        return -1;
    }
    if (n < 2 || !*fields[0]) {
        snprintf(errstr, errsize, "expected 'name<TAB>partitions[<TAB>config]'");
        return -1;
    }
    if (strlen(fields[0]) >= sizeof spec->name) {
        snprintf(errstr, errsize, "topic name too long '%s'", fields[0]);
        return -1;
    }
    errno = 0;
    parts = strtol(fields[1], &end, 10);
    if (errno || *end || parts < 1 || parts > 10000) {
        snprintf(errstr, errsize, "bad partition count '%s'", fields[1]);
        return -1;
    }
    strcpy(spec->name, fields[0]);
    spec->partitions = (int)parts;
    spec->config[0] = '\0';
    if (n == 3 && strlen(fields[2]) >= sizeof spec->config) {
        snprintf(errstr, errsize, "topic config too long");
        return -1;
    }
    if (n == 3 && strcmp(fields[2], "-") != 0)
        snprintf(spec->config, sizeof spec->config, "%s", fields[2]);
    return 0;
}

/* Read the topics file; returns the topic count or -1 after logging the error. */
static int read_specs(const char *path, topic_spec *specs, int max)
{
    char line[LINE_MAX_LEN], errstr[512];
    FILE *f = fopen(path, "r");
    int count = 0, lineno = 0, rc = -1;

    if (!f) {
        log_error("unable to open topics file", "path=%s err=\"%s\"", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);

        lineno++;
        if (!*s || *s == '#')
            continue;
        if (count == max) {
            log_error("too many topics", "path=%s line=%d max=%d", path, lineno, max);
            goto out;
        }
        if (parse_line(s, &specs[count], errstr, sizeof errstr) != 0) {
            log_error("bad topics line", "path=%s line=%d err=\"%s\"", path, lineno, errstr);
            goto out;
        }
        count++;
    }
    if (ferror(f)) {
        log_error("unable to read topics file", "path=%s err=\"%s\"", path, strerror(errno));
        goto out;
    }
    rc = count;
out:
    fclose(f);
    return rc;
}

/* Apply the comma-separated key=value list to a NewTopic; -1 with errstr on a bad entry. */
static int set_topic_config(rd_kafka_NewTopic_t *nt, const char *settings, char *errstr,
                            size_t errsize)
{
    char buf[LINE_MAX_LEN];
    char *save = NULL, *kv, *eq;

    snprintf(buf, sizeof buf, "%s", settings);
    for (kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        kv = trim(kv);
        if (!*kv)
            continue;
        eq = strchr(kv, '=');
        if (!eq || eq == kv) {
            snprintf(errstr, errsize, "settings entry '%s' is not key=value", kv);
            return -1;
        }
        *eq = '\0';
        if (rd_kafka_NewTopic_set_config(nt, kv, eq + 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(errstr, errsize, "unable to set settings '%s'", kv);
            return -1;
        }
    }
    return 0;
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* 1 when every topic of specs shows in md with all its partitions led. */
static int all_visible(const struct rd_kafka_metadata *md, const topic_spec *specs, int count)
{
    for (int i = 0; i < count; i++) {
        int found = 0;

        for (int j = 0; j < md->topic_cnt && !found; j++) {
            const struct rd_kafka_metadata_topic *t = &md->topics[j];

            if (strcmp(t->topic, specs[i].name) != 0 || t->err || t->partition_cnt < 1)
                continue;
            found = 1;
            for (int k = 0; k < t->partition_cnt; k++)
                if (t->partitions[k].leader < 0)
                    found = 0;
        }
        if (!found)
            return 0;
    }
    return 1;
}

/* Created topics reach the broker's metadata cache a moment later; wait for them so a
 * caller may use them as soon as `create` returns. */
static int wait_visible(rd_kafka_t *rk, const topic_spec *specs, int count, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;

    while (now_ms() < deadline) {
        const struct rd_kafka_metadata *md = NULL;
        int ok;

        if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            ok = all_visible(md, specs, count);
            rd_kafka_metadata_destroy(md);
            if (ok)
                return 0;
        }
        usleep(100 * 1000);
    }
    log_error("created topics did not show in metadata", "timeout_ms=%d", timeout_ms);
    return 1;
}

static int cmd_create(rd_kafka_t *rk, const char *path, int replication, int timeout_ms)
{
    static topic_spec specs[TOPICS_MAX];
    rd_kafka_NewTopic_t *nts[TOPICS_MAX];
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_CreateTopics_result_t *res;
    const rd_kafka_topic_result_t **results;
    char errstr[512];
    size_t nres, i;
    int count, made = 0, failed = 0, rc = 1;

    count = read_specs(path, specs, TOPICS_MAX);
    if (count < 0)
        return 1;
    if (count == 0) {
        log_warn("no topics in file", "path=%s", path);
        return 0;
    }
    for (made = 0; made < count; made++) {
        nts[made] = rd_kafka_NewTopic_new(specs[made].name, specs[made].partitions, replication,
                                          errstr, sizeof errstr);
        if (!nts[made]) {
            log_error("unable to describe topic", "topic=%s err=\"%s\"", specs[made].name,
                      errstr);
            goto out;
        }
        if (set_topic_config(nts[made], specs[made].config, errstr, sizeof errstr) != 0) {
            log_error("bad topic config", "topic=%s err=\"%s\"", specs[made].name, errstr);
            made++;
            goto out;
        }
    }

    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof errstr) ||
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof errstr)) {
        log_error("unable to set admin timeout", "err=\"%s\"", errstr);
        goto out;
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nts, (size_t)made, opts, q);
    ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (!ev) {
        log_error("create topics timed out", "timeout_ms=%d", timeout_ms);
        goto out;
    }
    if (rd_kafka_event_error(ev)) {
        log_error("create topics failed", "err=\"%s\"", rd_kafka_event_error_string(ev));
        goto out;
    }
    res = rd_kafka_event_CreateTopics_result(ev);
    results = rd_kafka_CreateTopics_result_topics(res, &nres);
    for (i = 0; i < nres; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
        const char *name = rd_kafka_topic_result_name(results[i]);

        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            log_info("topic created", "topic=%s", name);
        } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            log_info("topic exists", "topic=%s", name);
        } else {
            const char *msg = rd_kafka_topic_result_error_string(results[i]);

            log_error("unable to create topic", "topic=%s err=%s detail=\"%s\"", name,
                      rd_kafka_err2name(err), msg ? msg : rd_kafka_err2str(err));
            failed++;
        }
    }
    rc = failed ? 1 : wait_visible(rk, specs, count, timeout_ms);
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (q)
        rd_kafka_queue_destroy(q);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    if (made > 0)
        rd_kafka_NewTopic_destroy_array(nts, (size_t)made);
    return rc;
}

static int cmd_list(rd_kafka_t *rk, int timeout_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err;

    err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err) {
        log_error("unable to fetch metadata", "err=\"%s\"", rd_kafka_err2str(err));
        return 1;
    }
    for (int i = 0; i < md->topic_cnt; i++) {
        const struct rd_kafka_metadata_topic *t = &md->topics[i];

        if (t->err)
            log_warn("topic metadata error", "topic=%s err=\"%s\"", t->topic,
                     rd_kafka_err2str(t->err));
        printf("%s\t%d\n", t->topic, t->partition_cnt);
    }
    rd_kafka_metadata_destroy(md);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_wait(rd_kafka_t *rk, int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;

    while (now_ms() < deadline) {
        const struct rd_kafka_metadata *md = NULL;
        long left = deadline - now_ms();

        err = rd_kafka_metadata(rk, 0, NULL, &md, (int)(left < 2000 ? left : 2000));
        if (!err && md->broker_cnt > 0) {
            rd_kafka_metadata_destroy(md);
            return 0;
        }
        if (md)
            rd_kafka_metadata_destroy(md);
        usleep(200 * 1000);
    }
    log_error("broker did not answer", "timeout_ms=%d err=\"%s\"", timeout_ms,
              rd_kafka_err2str(err));
    return 1;
}

/* The admin result event of an operation started on q, or NULL after logging why. */
static rd_kafka_event_t *admin_result(rd_kafka_queue_t *q, const char *what, int timeout_ms)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);

    if (!ev) {
        log_error("admin request timed out", "request=%s timeout_ms=%d", what, timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        log_error("admin request failed", "request=%s err=%s detail=\"%s\"", what,
                  rd_kafka_err2name(rd_kafka_event_error(ev)), rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static int wait_acls(rd_kafka_t *rk, rd_kafka_AclBinding_t *const *acls, int count,
                     int timeout_ms);

/* Read the ACL file into acls (max entries); the count, or -1 after logging the error. */
static int read_acls(const char *path, rd_kafka_AclBinding_t **acls, int max)
{
    char line[LINE_MAX_LEN], errstr[512];
    FILE *f = fopen(path, "r");
    int count = 0, lineno = 0;
    acl_spec a;

    if (!f) {
        log_error("unable to open ACL file", "path=%s err=\"%s\"", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        int r = acl_parse(line, &a, errstr, sizeof errstr);

        lineno++;
        if (r == 1)
            continue;
        if (r == 0 && count == max)
            snprintf(errstr, sizeof errstr, "more than %d bindings", max);
        if (r < 0 || count == max || !(acls[count] = acl_binding_new(&a, errstr, sizeof errstr))) {
            log_error("bad ACL line", "path=%s line=%d err=\"%s\"", path, lineno, errstr);
            goto fail;
        }
        count++;
    }
    if (!ferror(f)) {
        fclose(f);
        return count;
    }
    log_error("unable to read ACL file", "path=%s err=\"%s\"", path, strerror(errno));
fail:
    fclose(f);
    rd_kafka_AclBinding_destroy_array(acls, (size_t)count);
    return -1;
}

/* Create the bindings of the file; existing ones are kept as they are (creating is
 * idempotent). */
static int cmd_acls(rd_kafka_t *rk, const char *path, int timeout_ms)
{
    static rd_kafka_AclBinding_t *acls[ACLS_MAX];
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    const rd_kafka_acl_result_t **results;
    char errstr[512], line[1024];
    size_t nres;
    int count, failed = 0, rc = 1;

    if ((count = read_acls(path, acls, ACLS_MAX)) < 0)
        return 1;
    if (count == 0) {
        log_warn("no ACL bindings in file", "path=%s", path);
        return 0;
    }
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATEACLS);
    if (rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof errstr)) {
        log_error("unable to set admin timeout", "err=\"%s\"", errstr);
        goto out;
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateAcls(rk, acls, (size_t)count, opts, q);
    if (!(ev = admin_result(q, "CreateAcls", timeout_ms)))
        goto out;
    results = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &nres);
    for (size_t i = 0; i < nres; i++) {
        const rd_kafka_error_t *err = rd_kafka_acl_result_error(results[i]);

        if (!err)
            continue;
        log_error("unable to create ACL", "acl=\"%s\" err=%s detail=\"%s\"",
                  i < (size_t)count && acl_format(acls[i], line, sizeof line) ? line : "?",
                  rd_kafka_error_name(err), rd_kafka_error_string(err));
        failed++;
    }
    rc = failed ? 1 : wait_acls(rk, acls, count, timeout_ms);
    if (!rc)
        log_info("ACLs created", "path=%s bindings=%d", path, count);
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (q)
        rd_kafka_queue_destroy(q);
    if (opts)
        rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_AclBinding_destroy_array(acls, (size_t)count);
    return rc;
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

/* Every ACL binding of the cluster as the file's lines, sorted, into *out (the caller
 * frees them with free_lines) and their count into *count. 0, or -1 after logging why. */
static int describe_acls(rd_kafka_t *rk, int timeout_ms, char ***out, size_t *count)
{
    rd_kafka_AclBindingFilter_t *filter;
    rd_kafka_AdminOptions_t *opts;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev;
    const rd_kafka_AclBinding_t **bindings;
    char errstr[512], **lines = NULL;
    size_t n = 0, nlines = 0;
    int rc = -1;

    filter = rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_ANY, NULL,
                                           RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL,
                                           RD_KAFKA_ACL_OPERATION_ANY,
                                           RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof errstr);
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBEACLS);
    q = rd_kafka_queue_new(rk);
    if (!filter ||
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof errstr)) {
        log_error("unable to describe ACLs", "err=\"%s\"", errstr);
        goto out;
    }
    rd_kafka_DescribeAcls(rk, filter, opts, q);
    if (!(ev = admin_result(q, "DescribeAcls", timeout_ms)))
        goto out;
    bindings = rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
    if (n && !(lines = calloc(n, sizeof *lines))) {
        log_error("out of memory", "bindings=%zu", n);
        rd_kafka_event_destroy(ev);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        char line[1024];
        if (!acl_format(bindings[i], line, sizeof line)) {
            log_warn("ACL binding the file cannot name", "index=%zu", i);
            continue;
        }
        if (!(lines[nlines] = strdup(line))) {
            log_error("out of memory", "bindings=%zu", n);
            rd_kafka_event_destroy(ev);
            goto out;
        }
        nlines++;
    }
    rd_kafka_event_destroy(ev);
    qsort(lines, nlines, sizeof *lines, compare_lines);
    *out = lines;
    *count = nlines;
    lines = NULL;
    rc = 0;
out:
    if (lines)
        free_lines(lines, nlines);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opts);
    if (filter)
        rd_kafka_AclBinding_destroy(filter);
    return rc;
}

/* Created ACLs reach the broker's authorizer a moment after CreateAcls answers; wait until
 * the broker lists every one of acls (and so enforces it), so a caller may rely on them as
 * soon as `acls` returns. */
static int wait_acls(rd_kafka_t *rk, rd_kafka_AclBinding_t *const *acls, int count,
                     int timeout_ms)
{
    long deadline = now_ms() + timeout_ms;
    char line[1024];
    int missing = count;

    while (now_ms() < deadline) {
        char **lines = NULL;
        size_t n = 0;

        if (describe_acls(rk, timeout_ms, &lines, &n) < 0)
            return 1;
        missing = 0;
        for (int i = 0; i < count; i++) {
            const char *key = acl_format(acls[i], line, sizeof line);
            if (key && !bsearch(&key, lines, n, sizeof *lines, compare_lines))
                missing++;
        }
        free_lines(lines, n);
        if (!missing)
            return 0;
        usleep(100 * 1000);
    }
    log_error("created ACLs are not all in force", "missing=%d timeout_ms=%d", missing, timeout_ms);
    return 1;
}

static int cmd_list_acls(rd_kafka_t *rk, int timeout_ms)
{
    char **lines = NULL;
    size_t n = 0;
    int rc;

    if (describe_acls(rk, timeout_ms, &lines, &n) < 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        printf("%s\n", lines[i]);
    rc = fflush(stdout) == 0 ? 0 : 1;
    free_lines(lines, n);
    return rc;
}

int main(int argc, char **argv)
{
    /* While `wait` polls a broker that is still starting, connection-refused errors are
     * expected; only the final verdict is worth a line (-X log_level=... still wins). */
    static const char *const quiet[] = {"log_level", "2", NULL};
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    char errstr[512], **args = argv + 1;
    int nargs, rc, timeout_ms, replication;
    config *cfg = program_start(&program, argc, argv, &nargs, &rc);

    if (!cfg)
        return rc;
    rc = 2;
    timeout_ms = (int)config_int(cfg, "timeout.ms");
    replication = (int)config_int(cfg, "replication");
    if (timeout_ms <= 0 || (replication < 1 && replication != -1)) {
        fprintf(stderr, "topics: --timeout.ms must be positive, --replication -1 or >= 1\n");
        goto out;
    }
    if (!((strcmp(args[0], "create") == 0 && nargs == 2) ||
          (strcmp(args[0], "acls") == 0 && nargs == 2) ||
          (strcmp(args[0], "list") == 0 && nargs == 1) ||
          (strcmp(args[0], "list-acls") == 0 && nargs == 1) ||
          (strcmp(args[0], "wait") == 0 && nargs == 1))) {
        program_usage(&program, stderr);
        goto out;
    }
    rc = 1;
    if (!(conf = kafka_conf_new(cfg, strcmp(args[0], "wait") == 0 ? quiet : NULL, NULL, errstr,
                                sizeof errstr)) ||
        !(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr))) {
        log_error("unable to create kafka handle", "err=\"%s\"", errstr);
        goto out;
    }
    conf = NULL; /* owned by rk now */
    if (strcmp(args[0], "create") == 0)
        rc = cmd_create(rk, args[1], replication, timeout_ms);
    else if (strcmp(args[0], "acls") == 0)
        rc = cmd_acls(rk, args[1], timeout_ms);
    else if (strcmp(args[0], "list-acls") == 0)
        rc = cmd_list_acls(rk, timeout_ms);
    else if (strcmp(args[0], "list") == 0)
        rc = cmd_list(rk, timeout_ms);
    else
        rc = cmd_wait(rk, timeout_ms);
out:
    if (rk)
        rd_kafka_destroy(rk);
    if (conf)
        rd_kafka_conf_destroy(conf);
    config_destroy(cfg);
    return rc;
}
