/* lagmon: the lag monitor's state. It is fed one round of observations at a time (what
 * common/lagprobe.c reads from Kafka and PostgreSQL), keeps one lagwin per group and
 * partition and an hour of each group's lag for the status page, and publishes after each
 * round a snapshot that the views (common/lagview.h) render. Pure: no I/O and no clock (a
 * round carries its time).
 *
 * Rules of lagmon_update, in order:
 *  M1. The offset a partition is judged by is PostgreSQL's (consumer_offsets, the truth of
 *      this project's groups, with its updated_at as the commit time) when the round read
 *      one for it, else Kafka's committed offset (commit time unknown: lagwin rule W3).
 *  M2. Kafka's and PostgreSQL's offsets disagree when both are known and differ by more
 *      than batch_max events (lagwin_offsets_disagree).
 *  M3. A partition whose watermark was not read this round, or whose offset is
 *      PostgreSQL's in a round that could not read PostgreSQL, gets no sample (a mix of the
 *      two sources would read as a rewind); it keeps its window and is evaluated at the
 *      round's time, marked not fresh.
 *  M4. A partition a group no longer lists (its offsets were deleted) is dropped, unless
 *      that group's offsets could not be listed this round, or the partition's offset is
 *      PostgreSQL's and PostgreSQL was not read.
 *  M5. A group neither Kafka nor PostgreSQL lists is dropped with its history, unless it
 *      was asked for by name: then it stays, without partitions, as NOTFOUND; or unless it
 *      is known from PostgreSQL only and PostgreSQL was not read (kept as it was).
 *  M6. A group's status is lagwin_group_eval's over its partitions (OK, WARN, or ERR for
 *      STOP, STALL or REWIND), NOTFOUND as in M5.
 *  M7. Each round appends to every found group's history the time, the sum of its lags and
 *      its largest lag in seconds; points older than history_ms before the round go.
 *
 * Threads: lagmon_update and lagmon_record_poll from one thread (the sampling loop);
 * lagmon_snapshot_get and lagmon_snapshot_release from any thread. */
#ifndef LAGMON_H
#define LAGMON_H

#include <stddef.h>
#include <stdint.h>

#include "lagwin.h"
#include "svgchart.h"

/* One group as one round saw it. Strings are owned by the round. */
typedef struct lagmon_group_obs {
    char *group;
    char *state;              /* Kafka's state (Stable, Empty, ...), "" when Kafka has none */
    int members;              /* -1 when not known */
    int in_kafka;             /* listed by Kafka */
    int offsets_read;         /* Kafka's committed offsets of the group were read */
} lagmon_group_obs;

/* One partition of one group as one round saw it. */
typedef struct lagmon_part_obs {
    char *group, *topic;
    int32_t partition;
    int64_t kafka_offset;     /* Kafka's committed offset, or LAGWIN_OFFSET_NONE */
    int64_t pg_offset;        /* consumer_offsets.next_offset, or LAGWIN_OFFSET_NONE */
    int64_t pg_commit_ms;     /* its updated_at, or LAGWIN_TIME_NONE */
    int64_t high_watermark;   /* -1 when it could not be read */
    int64_t oldest_ts_ms;     /* timestamp of the message at the offset, or LAGWIN_TIME_NONE */
} lagmon_part_obs;

/* One round of observations: groups and partitions in any order, each once. */
typedef struct lagmon_round {
    int64_t time_ms;          /* when the round started, ms since the epoch */
    int pg_read;              /* PostgreSQL's offsets were read */
    lagmon_group_obs *groups;
    size_t ngroups, gcap;
    lagmon_part_obs *parts;
    size_t nparts, pcap;
} lagmon_round;

/* An empty round at time_ms (pg_read 0). */
void lagmon_round_init(lagmon_round *r, int64_t time_ms);
/* Free what the round holds and leave it empty. Accepts NULL. */
void lagmon_round_release(lagmon_round *r);
/* The round's entry of group, added (state "", members -1, nothing read) when missing;
 * NULL when out of memory. Valid until the next add. */
lagmon_group_obs *lagmon_round_group(lagmon_round *r, const char *group);
/* The round's entry of the group's partition, added (with its group, offsets and times
 * NONE, watermark -1) when missing; NULL when out of memory. Valid until the next add. */
lagmon_part_obs *lagmon_round_part(lagmon_round *r, const char *group, const char *topic,
                                   int32_t partition);
/* The offset a partition is judged by (M1), or LAGWIN_OFFSET_NONE. */
int64_t lagmon_obs_offset(const lagmon_part_obs *o);

typedef struct lagmon_params {
    lagwin_params window;     /* every partition's window */
    int64_t history_ms;       /* the history's reach (M7); 0 for one hour */
    int64_t batch_max;        /* M2 */
    const char *const *groups;/* only these groups, by name (copied); NULL: every group */
    size_t ngroups;
} lagmon_params;

/* Upper bounds of the poll duration histogram, seconds. */
#define LAGMON_POLL_BUCKETS 7
extern const double lagmon_poll_bounds[LAGMON_POLL_BUCKETS];

/* A partition in a snapshot. */
typedef struct lagmon_part {
    const char *topic;
    int32_t partition;
    int64_t kafka_offset;     /* or LAGWIN_OFFSET_NONE */
    int64_t pg_offset;        /* or LAGWIN_OFFSET_NONE */
    int offsets_disagree;     /* M2 */
    int fresh;                /* sampled in the latest round (M3) */
    lagwin_result r;          /* status, offset judged, watermark, lags, window */
} lagmon_part;

/* A group in a snapshot. */
typedef struct lagmon_group {
    const char *group;
    const char *state;        /* Kafka's group state, "" when Kafka has none */
    int members;              /* -1 when not known */
    int in_kafka, in_pg;      /* listed by Kafka; has offsets in PostgreSQL */
    int status;               /* LAGWIN_NOTFOUND, _OK, _WARN or _ERR (M6) */
    lagwin_group g;           /* worst partition status, total lag, largest lag seconds */
    int disagree;             /* partitions whose offsets disagree (M2) */
    const lagmon_part *parts; /* by topic, then partition */
    size_t nparts;
    const svgchart_point *lag_history;     /* M7: sum of lags, oldest first */
    const svgchart_point *seconds_history; /* M7: largest lag seconds (NaN: unknown) */
    size_t nhistory;
} lagmon_group;

/* What the views render: the state after a round, immutable. */
typedef struct lagmon_snapshot {
    int64_t time_ms;          /* the latest round's time; 0 before any */
    uint64_t rounds;          /* rounds applied */
    int pg_read;              /* the latest round read PostgreSQL */
    lagwin_params window;
    int64_t history_ms, batch_max;
    const lagmon_group *groups; /* by name */
    size_t ngroups;
    uint64_t polls, poll_failures;       /* lagmon_record_poll's counts */
    uint64_t poll_counts[LAGMON_POLL_BUCKETS + 1]; /* per bucket, the last above all */
    double poll_seconds;      /* sum of the poll durations */
    const char *last_error;   /* the latest failed poll's message, "" after a success */
} lagmon_snapshot;

typedef struct lagmon lagmon;

/* A new monitor with no group; its first snapshot has no round. NULL with errstr filled
 * when the window parameters are out of range (lagwin_new's checks), history_ms or
 * batch_max is negative, or memory runs out. Free with lagmon_destroy. */
lagmon *lagmon_new(const lagmon_params *p, char *errstr, size_t errstr_size);

/* Free the monitor. Snapshots still held stay valid until released. Accepts NULL. */
void lagmon_destroy(lagmon *m);

/* Apply rules M1-M7 to one round and publish a new snapshot. Returns 0, or -1 with errstr
 * filled and nothing changed when the round is not later than the previous one or
 * memory runs out. */
int lagmon_update(lagmon *m, const lagmon_round *r, char *errstr, size_t errstr_size);

/* Count one poll lasting seconds: ok 1 (a round was read and applied), or 0 with error,
 * its message; and publish a snapshot with the counts (kept as they were when memory runs
 * out). */
void lagmon_record_poll(lagmon *m, int ok, double seconds, const char *error);

/* The latest snapshot, held until lagmon_snapshot_release. Never NULL. */
const lagmon_snapshot *lagmon_snapshot_get(lagmon *m);
/* Release a snapshot from lagmon_snapshot_get. Accepts NULL. */
void lagmon_snapshot_release(const lagmon_snapshot *s);

/* The group of a snapshot by name, or NULL. */
const lagmon_group *lagmon_snapshot_group(const lagmon_snapshot *s, const char *group);

#endif
