/* poison: publish one crafted record to a topic, as a Kafka client other than our producers
 * would, for the fault tests (tests/faults).
 *
 *   poison [options] roster|incident [FIELD=VALUE...]
 *   poison [options] raw
 *
 * roster, incident: the row --line of --rows (a roster or incidents file, CSV or JSON
 * Lines) becomes the base record, as the producers map it (source --source, event_time
 * now); each FIELD=VALUE then overwrites one field with exactly what it says, unchecked,
 * and the record is encoded with common/codec.h. The event id is derived from the content
 * after the overrides (so two poisons of different rows never share one) unless event_id
 * is overridden. A string VALUE may carry any byte as \xHH (\\ is a backslash); a time
 * (event_time, occurred_at, reported_at) is microseconds since the epoch, a date
 * (birth_date, term_start, term_end, effective_date) days since 1970-01-01, both as
 * signed decimal integers.
 *
 * raw: the value is --size bytes (pseudo-random from --seed, or the first --size bytes of
 * --value-file, or the whole file when --size is 0).
 *
 * The key is --nik, else the record's NIK. The record goes out with acks=all (idempotent);
 * -X passes librdkafka properties (e.g. message.max.bytes for a large record). On delivery
 * one line on stdout:
 *   partition=P offset=O key=NIK event_id=ID size=BYTES
 * Exit status: 0 delivered, 1 not (the reason on stderr), 2 usage. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

#include "codec.h"
#include "dates.h"
#include "incident.h"
#include "incident_row.h"
#include "kafka.h"
#include "program.h"
#include "roster.h"
#include "roster_row.h"
#include "rowsrc.h"
#include "schemareg.h"

static schemareg_subjects writes = {CODEC_ROSTER_SUBJECT, CODEC_INCIDENT_SUBJECT, NULL};

static const config_option options[] = {
    {"topic", CONFIG_STR, "roster.changes", NULL, "topic to publish to"},
    {"rows", CONFIG_STR, NULL, NULL, "roster, incident: the file of base rows (CSV or JSON Lines)"},
    {"line", CONFIG_INT, "2", NULL, "roster, incident: the line of --rows the base row starts on"},
    {"source", CONFIG_STR, "dc-sulsel", NULL, "roster, incident: the base record's source"},
    {"nik", CONFIG_STR, NULL, NULL, "the message key (default: the record's NIK; raw: none)"},
    {"size", CONFIG_INT, "0", NULL, "raw: value size in bytes"},
    {"seed", CONFIG_INT, "1", NULL, "raw: seed of the pseudo-random value"},
    {"value-file", CONFIG_STR, NULL, NULL, "raw: take the value from this file"},
    {"timeout.ms", CONFIG_INT, "30000", NULL, "fail when not acknowledged by then"},
    /* A data center's config file (--config var/secrets/<source>.conf) sets it for the
     * producers; poison always publishes to --topic. */
    {"topic.per-source", CONFIG_BOOL, "false", NULL, "accepted and ignored: --topic decides"},
    {NULL, 0, NULL, NULL, NULL},
};

static const program_def program = {
    "poison",
    "usage: poison [options] roster|incident [FIELD=VALUE...] | raw\n"
    "Publishes one crafted record (a base row with fields overwritten unchecked, or raw\n"
    "bytes) with acks=all and prints partition=P offset=O key=K event_id=E size=N.\n"
    "Roster fields: event_id source full_name agreement_id nik event_time birth_date\n"
    "term_start term_end effective_date. Incident fields: event_id source report_id nik\n"
    "description reporter_name event_time occurred_at reported_at. Strings take \\xHH;\n"
    "times are microseconds, dates days since 1970-01-01.\n"
    "\noptions:\n",
    PROGRAM_OPT_KAFKA | PROGRAM_OPT_REGISTRY,
    options,
    1,
    -1,
    writes,
};

/* ---- fields a test may overwrite ---- */

typedef enum { KIND_ROSTER, KIND_INCIDENT, KIND_RAW } record_kind;
typedef enum { FIELD_STR, FIELD_TIME, FIELD_DATE } field_type;

typedef struct field_def {
    record_kind kind;
    const char *name;
    field_type type;
    size_t offset, size; /* in the record struct; size of a string buffer */
    unsigned bit;        /* RF_* / IF_* presence bit, 0 when required */
} field_def;

#define RF(name, type, member, bit)                                                           \
    {KIND_ROSTER, name, type, offsetof(roster_change, member),                             \
     sizeof(((roster_change *)0)->member), bit}
#define IF(name, type, member, bit)                                                           \
    {KIND_INCIDENT, name, type, offsetof(incident, member), sizeof(((incident *)0)->member), bit}

static const field_def fields[] = {
    RF("event_id", FIELD_STR, event_id, 0),
    RF("source", FIELD_STR, source, 0),
    RF("nik", FIELD_STR, nik, 0),
    RF("full_name", FIELD_STR, full_name, RF_FULL_NAME),
    RF("agreement_id", FIELD_STR, agreement_id, RF_AGREEMENT),
    RF("event_time", FIELD_TIME, event_time_us, 0),
    RF("birth_date", FIELD_DATE, birth_date, RF_BIRTH_DATE),
    RF("term_start", FIELD_DATE, term_start, RF_TERM_START),
    RF("term_end", FIELD_DATE, term_end, RF_TERM_END),
    RF("effective_date", FIELD_DATE, effective_date, RF_EFFECTIVE),
    IF("event_id", FIELD_STR, event_id, 0),
    IF("source", FIELD_STR, source, 0),
    IF("nik", FIELD_STR, nik, 0),
    IF("report_id", FIELD_STR, report_id, IF_REPORT_ID),
    IF("description", FIELD_STR, description, IF_DESCRIPTION),
    IF("reporter_name", FIELD_STR, reporter_name, IF_REPORTER_NAME),
    IF("event_time", FIELD_TIME, event_time_us, 0),
    IF("occurred_at", FIELD_TIME, occurred_at_us, 0),
    IF("reported_at", FIELD_TIME, reported_at_us, IF_REPORTED_AT),
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescape \xHH and \\ of s into out (size bytes, NUL-terminated). 0, or -1 + errstr. */
static int unescape(const char *s, char *out, size_t size, char *errstr, size_t n)
{
    size_t k = 0;

    for (; *s; s++) {
        int c = (unsigned char)*s;
        if (*s == '\\' && s[1] == '\\') {
            s++;
        } else if (*s == '\\' && s[1] == 'x') {
            int hi = hexval(s[2]), lo = hi < 0 ? -1 : hexval(s[3]);
            if (lo < 0 || (hi == 0 && lo == 0)) {
                snprintf(errstr, n, "bad escape in '%s': \\x needs two hex digits, not 00", s);
                return -1;
            }
            c = hi * 16 + lo;
            s += 3;
        }
        if (k + 1 >= size) {
            snprintf(errstr, n, "value longer than the field (%zu bytes)", size - 1);
            return -1;
        }
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return 0;
}

/* Apply one FIELD=VALUE to rec (of kind). 0, or -1 + errstr. */
static int override(record_kind kind, void *rec, unsigned *present, const char *arg,
                    char *errstr, size_t n)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : 0;

    if (!eq) {
        snprintf(errstr, n, "'%s' is not FIELD=VALUE", arg);
        return -1;
    }
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        const field_def *f = &fields[i];
        char *p = (char *)rec + f->offset;
        char *end;
        long long v;

        if (f->kind != kind || strlen(f->name) != len || strncmp(f->name, arg, len) != 0)
            continue;
        if (f->type == FIELD_STR) {
            if (unescape(eq + 1, p, f->size, errstr, n) < 0)
                return -1;
        } else {
            errno = 0;
            v = strtoll(eq + 1, &end, 10);
            if (errno || end == eq + 1 || *end ||
                (f->type == FIELD_DATE && (v < INT32_MIN || v > INT32_MAX))) {
                snprintf(errstr, n, "%.*s: '%s' is not a %s", (int)len, arg, eq + 1,
                         f->type == FIELD_DATE ? "32-bit day number" : "64-bit integer");
                return -1;
            }
            if (f->type == FIELD_DATE) {
                int32_t d = (int32_t)v;
                memcpy(p, &d, sizeof d);
            } else {
                int64_t t = v;
                memcpy(p, &t, sizeof t);
            }
        }
        *present |= f->bit;
        return 0;
    }
    snprintf(errstr, n, "no field '%.*s' in a%s record", (int)len, arg,
             kind == KIND_ROSTER ? " roster" : "n incident");
    return -1;
}

/* ---- the base record ---- */

/* Map row `line` of path into rec (a roster_change or an incident). 0, or -1 + errstr. */
static int read_base(record_kind kind, const char *path, long line, void *rec, char *errstr,
                     size_t n)
{
    size_t len = strlen(path);
    rowsrc_format fmt = len > 6 && strcmp(path + len - 6, ".jsonl") == 0 ? ROWSRC_JSONL
                                                                         : ROWSRC_CSV;
    FILE *in = fopen(path, "r");
    rowsrc *rs = NULL;
    const rowsrc_row *row;
    int r, rc = -1;

    if (!in) {
        snprintf(errstr, n, "unable to open '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!(rs = rowsrc_new(in, path, fmt, errstr, n)))
        goto out;
    while ((r = rowsrc_next(rs, &row, errstr, n)) != 0) {
        if (r < 0 || row->line != line)
            continue;
        rc = kind == KIND_ROSTER ? roster_row_parse(row, path, 0, rec, errstr, n)
                                 : incident_row_parse(row, path, 0, rec, errstr, n);
        goto out;
    }
    snprintf(errstr, n, "%s: no row starts on line %ld", path, line);
out:
    rowsrc_destroy(rs);
    fclose(in);
    return rc;
}

/* Encode the base row with the overrides into *value (the codec's buffer). */
static int build_record(record_kind kind, const config *cfg, char **args, int nargs, codec *cd,
                        void *rec, const void **value, size_t *len, char *errstr, size_t n)
{
    roster_change *rc = rec;
    incident *inc = rec;
    char *source = kind == KIND_ROSTER ? rc->source : inc->source;
    size_t source_size = kind == KIND_ROSTER ? sizeof rc->source : sizeof inc->source;
    unsigned present = 0;
    int own_id = 0;

    if (kind == KIND_ROSTER)
        roster_change_init(rc);
    else
        incident_init(inc);
    if (!config_get(cfg, "rows")) {
        snprintf(errstr, n, "--rows is required for a %s record",
                 kind == KIND_ROSTER ? "roster" : "incident");
        return -1;
    }
    snprintf(source, source_size, "%s", config_get(cfg, "source"));
    if (kind == KIND_ROSTER)
        rc->event_time_us = dates_now_us();
    else
        inc->event_time_us = dates_now_us();
    if (read_base(kind, config_get(cfg, "rows"), (long)config_int(cfg, "line"), rec, errstr,
                  n) < 0)
        return -1;
    for (int i = 0; i < nargs; i++) {
        if (override(kind, rec, &present, args[i], errstr, n) < 0)
            return -1;
        own_id |= strncmp(args[i], "event_id=", 9) == 0;
    }
    /* The event id covers the content; an explicit one is kept as given. */
    if (kind == KIND_ROSTER) {
        char id[sizeof rc->event_id];
        memcpy(id, rc->event_id, sizeof id);
        rc->fields |= present;
        roster_event_id(rc);
        if (own_id)
            memcpy(rc->event_id, id, sizeof id);
        return codec_encode_roster(cd, rc, 0, value, len, errstr, n);
    }
    {
        char id[sizeof inc->event_id];
        memcpy(id, inc->event_id, sizeof id);
        inc->fields |= present;
        incident_event_id(inc);
        if (own_id)
            memcpy(inc->event_id, id, sizeof id);
        return codec_encode_incident(cd, inc, 0, value, len, errstr, n);
    }
}

/* The raw value: --value-file, or --size pseudo-random bytes. Caller frees. */
static char *raw_value(const config *cfg, size_t *len, char *errstr, size_t n)
{
    long long size = config_int(cfg, "size");
    const char *path = config_get(cfg, "value-file");
    uint64_t x = (uint64_t)config_int(cfg, "seed") * 0x9E3779B97F4A7C15u + 1;
    char *buf = NULL;

    if (size < 0 || (!path && size == 0)) {
        snprintf(errstr, n, "raw: --size must be positive (or give --value-file)");
        return NULL;
    }
    if (path) {
        FILE *in = fopen(path, "rb");
        long flen;
        if (!in || fseek(in, 0, SEEK_END) < 0 || (flen = ftell(in)) < 0 ||
            fseek(in, 0, SEEK_SET) < 0) {
            snprintf(errstr, n, "unable to read '%s': %s", path, strerror(errno));
            if (in)
                fclose(in);
            return NULL;
        }
        if (size == 0 || size > flen)
            size = flen;
        if (!(buf = malloc((size_t)size + 1)))
            snprintf(errstr, n, "out of memory");
        else if (fread(buf, 1, (size_t)size, in) != (size_t)size)
            snprintf(errstr, n, "short read of '%s'", path);
        else
            *len = (size_t)size;
        fclose(in);
        if (*len != (size_t)size) {
            free(buf);
            return NULL;
        }
        return buf;
    }
    if (!(buf = malloc((size_t)size))) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    for (long long i = 0; i < size; i++) { /* xorshift64 */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (char)(x >> 24);
    }
    *len = (size_t)size;
    return buf;
}

/* ---- publishing ---- */

typedef struct delivery {
    int done;
    rd_kafka_resp_err_t err;
    int32_t partition;
    int64_t offset;
} delivery;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    delivery *d = m->_private;

    (void)rk;
    (void)opaque;
    d->done = 1;
    d->err = m->err;
    d->partition = m->partition;
    d->offset = m->offset;
}

/* Produce one message and wait for its acknowledgement. 0, or -1 + errstr. */
static int publish(const config *cfg, const char *key, const void *value, size_t len,
                   delivery *d, char *errstr, size_t n)
{
    static const char *const defaults[] = {"enable.idempotence", "true", "acks", "all",
                                           "linger.ms", "0", NULL};
    char timeout[24];
    rd_kafka_conf_t *conf = kafka_conf_new(cfg, defaults, NULL, errstr, n);
    rd_kafka_t *rk = NULL;
    rd_kafka_resp_err_t err;
    int rc = -1;

    if (!conf)
        return -1;
    snprintf(timeout, sizeof timeout, "%lld", config_int(cfg, "timeout.ms"));
    if (!config_get(cfg, "kafka.message.timeout.ms") &&
        rd_kafka_conf_set(conf, "message.timeout.ms", timeout, errstr, n) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, n))) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(config_get(cfg, "topic")),
                            RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                            RD_KAFKA_V_VALUE((void *)value, len),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(d),
                            RD_KAFKA_V_END);
    if (err) {
        snprintf(errstr, n, "unable to queue the record for '%s': %s", config_get(cfg, "topic"),
                 rd_kafka_err2str(err));
        goto out;
    }
    while (!d->done)
        rd_kafka_poll(rk, 100);
    if (d->err) {
        snprintf(errstr, n, "record to '%s' not delivered: %s", config_get(cfg, "topic"),
                 rd_kafka_err2str(d->err));
        goto out;
    }
    rc = 0;
out:
    rd_kafka_destroy(rk);
    return rc;
}

int main(int argc, char **argv)
{
    int nargs, code = 1;
    config *cfg = program_start(&program, argc, argv, &nargs, &code);
    char errstr[1024];
    codec *cd = NULL;
    roster_change rc;
    incident *inc = NULL;
    record_kind kind;
    const void *value = NULL;
    char *raw = NULL;
    const char *key = NULL, *event_id = "";
    size_t len = 0;
    delivery d = {0};

    if (!cfg)
        return code;
    code = 2;
    if (strcmp(argv[1], "roster") == 0) {
        kind = KIND_ROSTER;
    } else if (strcmp(argv[1], "incident") == 0) {
        kind = KIND_INCIDENT;
    } else if (strcmp(argv[1], "raw") == 0 && nargs == 1) {
        kind = KIND_RAW;
    } else {
        fprintf(stderr, "poison: the record is roster, incident (with FIELD=VALUE...) or raw, "
                        "not '%s'\n", argv[1]);
        goto out;
    }
    code = 1;
    if (kind == KIND_RAW) {
        if (!(raw = raw_value(cfg, &len, errstr, sizeof errstr)))
            goto fail;
        value = raw;
    } else {
        void *rec = &rc;
        if (kind == KIND_INCIDENT && !(rec = inc = malloc(sizeof *inc))) {
            snprintf(errstr, sizeof errstr, "out of memory");
            goto fail;
        }
        if (!(cd = codec_new(errstr, sizeof errstr)) ||
            build_record(kind, cfg, argv + 2, nargs - 1, cd, rec, &value, &len, errstr,
                         sizeof errstr) < 0)
            goto fail;
        key = kind == KIND_ROSTER ? rc.nik : inc->nik;
        event_id = kind == KIND_ROSTER ? rc.event_id : inc->event_id;
    }
    if (config_get(cfg, "nik"))
        key = config_get(cfg, "nik");
    if (publish(cfg, key, value, len, &d, errstr, sizeof errstr) < 0)
        goto fail;
    /* event_id may hold any bytes: print it as \xHH where it is not plain ASCII. */
    printf("partition=%d offset=%" PRId64 " key=%s event_id=", (int)d.partition, d.offset,
           key ? key : "");
    for (const unsigned char *p = (const unsigned char *)event_id; *p; p++) {
        if (*p > 32 && *p < 127 && *p != '\\')
            putchar(*p);
        else
            printf("\\x%02x", *p);
    }
    printf(" size=%zu\n", len);
    code = 0;
    goto out;
fail:
    fprintf(stderr, "poison: %s\n", errstr);
out:
    codec_destroy(cd);
    free(inc);
    free(raw);
    config_destroy(cfg);
    return code;
}
