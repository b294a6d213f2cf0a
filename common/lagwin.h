/* lagwin: the lag monitor's window of one consumer group's partition and its evaluation.
 * The daemon samples (time, committed offset, high watermark, commit time when known) and
 * asks for the partition's status, its lag in events and in seconds; the group's status
 * rolls up the partitions'. Pure: no I/O and no clock (every time is a parameter, in
 * milliseconds since the epoch). A window is not thread-safe: one thread adds and
 * evaluates, or the caller locks; distinct windows may be used in parallel.
 *
 * Sources. Status: Burrow's consumer lag evaluation, as in linkedin/Burrow
 * core/internal/evaluator/caching.go (calculatePartitionStatus, evaluateConsumerStatus;
 * the version whose rule order its caching_test.go pins: STOP before the zero-lag rule,
 * #290, with the recent-watermark exemption, #303) and the storage it reads
 * (core/internal/storage/inmemory.go); the wiki page "Consumer Lag Evaluation Rules"
 * (https://github.com/linkedin/Burrow/wiki/Consumer-Lag-Evaluation-Rules) describes the
 * older order. Lag in seconds: kafka-lag-exporter's lookup table
 * (seglo/kafka-lag-exporter src/main/scala/com/lightbend/kafkalagexporter/LookupTable.scala
 * and ConsumerGroupCollector.scala; issue lightbend/kafka-lag-exporter#5).
 *
 * Window rules, applied by lagwin_add in this order:
 *  W1. The sample's high watermark enters the recent-watermark ring, `intervals` long
 *      (Burrow's broker-offset ring).
 *  W2. The point (time, high watermark) enters the lookup table, `lookup_size` points
 *      (kafka-lag-exporter's Table.addPoint): a point not later than the newest, or with a
 *      watermark below the newest's, is dropped; a point with the same watermark as the
 *      two newest replaces the newest (a flat line stays one segment); when the table is
 *      full the oldest point goes.
 *  W3. The sample carries a new commit when its offset is not LAGWIN_OFFSET_NONE and:
 *      with commit_ms known, commit_ms is later than the newest commit's, or equal with
 *      another offset (an earlier commit_ms is dropped, like Burrow's backfill); without,
 *      the offset differs from the newest commit's, and the commit is timestamped with the
 *      sample's time (it happened since the previous sample). Its lag is the sample's
 *      watermark minus the offset, 0 when negative (Burrow: the watermark is sampled, the
 *      consumer can be ahead of it).
 *  W4. A commit less than min_distance_ms after the newest replaces the newest's offset
 *      and lag and keeps its timestamp (Burrow's min-distance); otherwise it is appended
 *      and, when `intervals` commits are held, the oldest goes.
 *
 * Partition status, lagwin_eval (Burrow's calculatePartitionStatus), first match wins:
 *  S0. A window without commits, or less full than min_complete (complete = commits held
 *      / intervals; Burrow's minimum-complete), is OK. The current lag is the latest
 *      watermark minus the newest commit's offset, 0 when negative.
 *  S1. A current lag of 0 is OK: a partition without lag is never in error.
 *  S2. STOP when now - newest commit > newest commit - oldest commit (Burrow rule 3:
 *      the consumer stopped committing for longer than the window spans; also longer than
 *      stop_floor_ms, this module's addition, 0 = Burrow's rule alone), unless a
 *      watermark in the recent ring is <= the newest commit's offset (the consumer was
 *      caught up within the recent samples, Burrow's checkIfRecentLagZero).
 *  S3. OK when any commit in the window has lag 0 (Burrow rule 1).
 *  S4. REWIND when a commit's offset is lower than the previous commit's (rule 2).
 *  S5. STALL when every commit in the window has the same offset (rule 4; a window of
 *      one commit counts).
 *  S6. WARN when the lag never decreases from one commit to the next (rule 5: the
 *      consumer moves but falls behind).
 *  S7. Otherwise OK.
 *  A rewind behind a zero-lag commit in the window is OK by S3, as in this Burrow version;
 *  Burrow's later master (PR #716, issue #714) checks rewinds first and forgives a rewind
 *  the consumer has recovered from: not implemented here.
 *
 * Lag in seconds, lagwin_eval, first match wins:
 *  T1. No commit: unknown (NaN, UNKNOWN).
 *  T2. A current lag of 0 (S0), or an offset at or past the newest point's watermark:
 *      0 (ZERO; kafka-lag-exporter's LagIsZero, which tests equality only).
 *  T3. Given the timestamp of the message at the committed offset (oldest_ts_ms, the
 *      oldest unconsumed message): now - that timestamp (MESSAGE_AGE).
 *  T4. Fewer than two points in the table: unknown (NaN; the exporter's TooFewPoints).
 *  T5. The newest pair of adjacent points whose watermarks enclose the offset gives, by
 *      linear interpolation, the time the watermark reached the offset (INTERPOLATED);
 *      with no such pair the oldest and newest points extrapolate (EXTRAPOLATED); when
 *      those two have the same watermark, the oldest point's time is taken, a lower bound
 *      (this module's addition: the exporter divides by zero there).
 *  T6. Lag seconds = (now - that time) / 1000, 0 when negative (T3 and T5).
 *
 * Group status, lagwin_group_eval (Burrow's evaluateConsumerStatus): the worst partition
 * status in the order NOTFOUND < OK < WARN < ERR < STOP < STALL < REWIND, reported as ERR
 * when worse than ERR; OK for no partitions. */
#ifndef LAGWIN_H
#define LAGWIN_H

#include <stddef.h>
#include <stdint.h>

#define LAGWIN_TIME_NONE INT64_MIN   /* a time not known */
#define LAGWIN_OFFSET_NONE (-1)      /* the group has no committed offset */

/* Burrow's status constants, same values (core/protocol/evaluator.go). NOTFOUND is for a
 * group the daemon cannot find; lagwin_eval never returns it. */
enum {
    LAGWIN_NOTFOUND, LAGWIN_OK, LAGWIN_WARN, LAGWIN_ERR, LAGWIN_STOP, LAGWIN_STALL,
    LAGWIN_REWIND, LAGWIN_STATUS__COUNT
};

/* How lag_seconds was found (rules T1-T6). */
enum {
    LAGWIN_SECONDS_UNKNOWN, LAGWIN_SECONDS_ZERO, LAGWIN_SECONDS_INTERPOLATED,
    LAGWIN_SECONDS_EXTRAPOLATED, LAGWIN_SECONDS_MESSAGE_AGE, LAGWIN_SECONDS__COUNT
};

typedef struct lagwin_params {
    int intervals;            /* commits kept, and recent watermarks (Burrow: 10) */
    int lookup_size;          /* points of the lookup table, >= 2 (kafka-lag-exporter: 60) */
    int64_t min_distance_ms;  /* W4; 0 keeps every commit (Burrow's default) */
    int64_t stop_floor_ms;    /* S2; 0 = Burrow's rule alone */
    double min_complete;      /* S0, 0..1; 0 evaluates any non-empty window (Burrow) */
} lagwin_params;

/* One observation of the partition. */
typedef struct lagwin_sample {
    int64_t time_ms;          /* when observed; later than the previous sample's */
    int64_t offset;           /* the group's committed offset (next to consume), or NONE */
    int64_t high_watermark;   /* the partition's high watermark (log end offset), >= 0 */
    int64_t commit_ms;        /* when that offset was committed (PostgreSQL updated_at), or
                                 LAGWIN_TIME_NONE */
} lagwin_sample;

/* One commit in the window. */
typedef struct lagwin_commit {
    int64_t offset;
    int64_t time_ms;          /* commit time (W3, W4) */
    int64_t lag;              /* watermark - offset when it was seen, >= 0 */
} lagwin_commit;

typedef struct lagwin_result {
    int status;               /* LAGWIN_OK .. LAGWIN_REWIND */
    int64_t offset;           /* the newest commit's offset, or LAGWIN_OFFSET_NONE */
    int64_t high_watermark;   /* the latest sample's, -1 before any sample */
    int64_t lag;              /* current lag in events (S0), -1 without commit */
    double lag_seconds;       /* T1-T6; NaN when unknown */
    int seconds_method;       /* LAGWIN_SECONDS_* */
    double complete;          /* commits held / intervals */
    int ncommits;
    lagwin_commit start, end; /* oldest and newest commits; zero without commit */
} lagwin_result;

typedef struct lagwin_group {
    int status;               /* LAGWIN_OK, LAGWIN_WARN or LAGWIN_ERR */
    int worst;                /* the worst partition status itself; OK for no partitions */
    int64_t total_lag;        /* sum of the known partition lags */
    int max_lag_index;        /* first partition with the largest lag; -1 when none known */
    double max_lag_seconds;   /* largest known lag_seconds; NaN when none known */
    double complete;          /* share of partitions whose window is full; 0 for none */
} lagwin_group;

typedef struct lagwin lagwin;

/* Burrow's and kafka-lag-exporter's defaults: intervals 10, lookup_size 60, no
 * min-distance, no stop floor, min_complete 0. */
lagwin_params lagwin_params_default(void);

/* A new, empty window with a copy of *p. NULL with errstr filled when a parameter is out
 * of range (intervals 1..100000, lookup_size 2..100000, negative times, min_complete
 * outside 0..1) or memory runs out. Free with lagwin_destroy. */
lagwin *lagwin_new(const lagwin_params *p, char *errstr, size_t errstr_size);

/* Free the window. Accepts NULL. */
void lagwin_destroy(lagwin *w);

/* Apply rules W1-W4 to one sample. Returns 0, or -1 with errstr filled, the window
 * unchanged, when the sample is not later than the previous one or holds a negative
 * watermark or an offset below -1. */
int lagwin_add(lagwin *w, const lagwin_sample *s, char *errstr, size_t errstr_size);

/* Evaluate the window at now_ms (rules S0-S7, T1-T6) into *out. oldest_ts_ms is the
 * timestamp of the message at the committed offset when the caller read it, else
 * LAGWIN_TIME_NONE. */
void lagwin_eval(const lagwin *w, int64_t now_ms, int64_t oldest_ts_ms, lagwin_result *out);

/* Copy up to max commits, oldest first, into out; returns how many were copied. */
int lagwin_commits(const lagwin *w, lagwin_commit *out, int max);

/* Roll the n partition results of one group up into *out (see the group rule above). */
void lagwin_group_eval(const lagwin_result *parts, int n, lagwin_group *out);

/* 1 when Kafka's and PostgreSQL's committed offsets of a partition are both known
 * (>= 0) and differ by more than batch_max events (a batch in flight explains less),
 * else 0. PostgreSQL holds the truth for this project's groups. */
int lagwin_offsets_disagree(int64_t kafka_offset, int64_t pg_offset, int64_t batch_max);

/* "NOTFOUND", "OK", "WARN", "ERR", "STOP", "STALL", "REWIND" (Burrow's strings); NULL
 * when out of range. */
const char *lagwin_status_name(int status);
/* The status of a name, -1 when unknown. */
int lagwin_status_parse(const char *name);

/* "UNKNOWN", "ZERO", "INTERPOLATED", "EXTRAPOLATED", "MESSAGE_AGE"; NULL when out of
 * range. */
const char *lagwin_seconds_method_name(int method);
int lagwin_seconds_method_parse(const char *name);

#endif
