/* topics: create, list and wait for Kafka topics through librdkafka's Admin API.
 *
 *   topics [options] create <topics.tsv>
 *   topics [options] list
 *   topics [options] wait
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

#include "kafka.h"
#include "log.h"
#include "program.h"

#define TOPICS_MAX 256
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
    "usage: topics [options] create TOPICS.tsv | list | wait\n"
    "Creates the topics of a TSV file (name, partitions, key=value,... per line), lists the\n"
    "cluster's topics, or waits until the cluster answers. Exit status: 0 done, 1 failed,\n"
    "2 usage.\n\noptions:\n",
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
          (strcmp(args[0], "list") == 0 && nargs == 1) ||
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
