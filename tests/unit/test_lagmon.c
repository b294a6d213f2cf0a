/* Unit tests of common/lagmon: rounds of observations in, snapshots out, one test per rule
 * of lagmon.h (M1-M7), plus the poll counts and snapshots outliving their monitor. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lagmon.h"

#define T0 INT64_C(1707890400000) /* 2024-02-14T06:00:00Z */
#define SEC INT64_C(1000)

static lagmon *monitor(int intervals, const char *const *groups, size_t ngroups)
{
    lagmon_params p = {.window = lagwin_params_default(), .batch_max = 100,
                       .groups = groups, .ngroups = ngroups};
    char err[256] = "";
    lagmon *m;

    p.window.intervals = intervals;
    m = lagmon_new(&p, err, sizeof err);
    cr_assert_not_null(m, "lagmon_new: %s", err);
    return m;
}

/* Add one partition's observation to r (its group listed by Kafka). */
static void see(lagmon_round *r, const char *group, const char *topic, int part, int64_t kafka,
                int64_t pg, int64_t pg_ms, int64_t hwm)
{
    lagmon_group_obs *g = lagmon_round_group(r, group);
    lagmon_part_obs *o;

    cr_assert_not_null(g, "out of memory");
    g->in_kafka = 1;
    g->offsets_read = 1;
    g->members = 1;
    free(g->state);
    g->state = strdup("Stable");
    o = lagmon_round_part(r, group, topic, part);
    cr_assert_not_null(o, "out of memory");
    o->kafka_offset = kafka;
    o->pg_offset = pg;
    o->pg_commit_ms = pg_ms;
    o->high_watermark = hwm;
}

static void update(lagmon *m, lagmon_round *r)
{
    char err[256] = "";

    cr_assert_eq(lagmon_update(m, r, err, sizeof err), 0, "lagmon_update: %s", err);
    lagmon_round_release(r);
}

/* The snapshot's group, asserting it is there. */
static const lagmon_group *group(const lagmon_snapshot *s, const char *name)
{
    const lagmon_group *g = lagmon_snapshot_group(s, name);

    cr_assert_not_null(g, "group %s not in the snapshot", name);
    return g;
}

Test(lagmon, round_entries_are_found_again_and_offsets_prefer_postgresql)
{
    lagmon_round r;
    lagmon_part_obs *a, *b;

    lagmon_round_init(&r, T0);
    a = lagmon_round_part(&r, "g", "t", 0);
    a->kafka_offset = 10;
    b = lagmon_round_part(&r, "g", "t", 0);
    cr_assert_eq(r.nparts, 1, "one entry, got %zu", r.nparts);
    cr_assert_eq(b->kafka_offset, 10, "the same entry");
    cr_assert_eq(lagmon_obs_offset(b), 10, "Kafka's offset without PostgreSQL's");
    b->pg_offset = 7;
    cr_assert_eq(lagmon_obs_offset(b), 7, "M1: PostgreSQL's offset wins");
    cr_assert_eq(lagmon_round_group(&r, "g"), lagmon_round_group(&r, "g"), "group found again");
    cr_assert_eq(r.ngroups, 1, "one group");
    lagmon_round_release(&r);
    cr_assert(r.nparts == 0 && r.ngroups == 0, "released round is empty");
}

Test(lagmon, partitions_are_judged_by_postgresql_and_disagreement_is_flagged)
{
    lagmon *m = monitor(10, NULL, 0);
    const lagmon_snapshot *s;
    const lagmon_group *g;
    lagmon_round r;

    lagmon_round_init(&r, T0);
    see(&r, "roster-consumer", "roster.changes", 0, 900, 1000, T0 - SEC, 1500);
    see(&r, "roster-consumer", "roster.changes", 1, 700, 1000, T0 - SEC, 1000);
    see(&r, "other", "incidents", 0, 40, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, 50);
    r.pg_read = 1;
    update(m, &r);
    s = lagmon_snapshot_get(m);
    cr_assert_eq(s->ngroups, 2, "two groups");
    cr_assert_str_eq(s->groups[0].group, "other", "groups by name");
    g = group(s, "roster-consumer");
    cr_assert(g->in_pg && g->in_kafka, "in both");
    cr_assert_eq(g->parts[0].r.offset, 1000, "M1: judged by PostgreSQL's offset");
    cr_assert_eq(g->parts[0].r.lag, 500, "lag from PostgreSQL's offset");
    cr_assert_eq(g->parts[0].kafka_offset, 900, "Kafka's offset kept for display");
    cr_assert_eq(g->parts[0].offsets_disagree, 0, "M2: 100 apart is within a batch");
    cr_assert_eq(g->parts[1].offsets_disagree, 1, "M2: 300 apart is more than a batch");
    cr_assert_eq(g->disagree, 1, "one partition disagrees");
    cr_assert_eq(g->parts[1].r.lag, 0, "caught up by PostgreSQL");
    cr_assert_eq(g->g.total_lag, 500, "total lag");
    cr_assert_eq(group(s, "other")->in_pg, 0, "Kafka only");
    cr_assert_eq(group(s, "other")->parts[0].r.lag, 10, "judged by Kafka's offset");
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

/* Rounds a second apart: the consumer commits offsets[i] while the watermark is hwm[i]. */
static void rounds(lagmon *m, int64_t t0, const int64_t *offsets, const int64_t *hwm, int n)
{
    for (int i = 0; i < n; i++) {
        lagmon_round r;
        lagmon_round_init(&r, t0 + i * SEC);
        see(&r, "g", "t", 0, offsets[i], LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, hwm[i]);
        update(m, &r);
    }
}

static int status_of(lagmon *m, int *part_status)
{
    const lagmon_snapshot *s = lagmon_snapshot_get(m);
    const lagmon_group *g = group(s, "g");
    int st = g->status;

    *part_status = g->parts[0].r.status;
    lagmon_snapshot_release(s);
    return st;
}

Test(lagmon, falling_behind_warns_and_stopping_is_an_error)
{
    static const int64_t off[] = {100, 200, 300, 400, 400, 400, 400, 400, 400, 400};
    static const int64_t hwm[] = {150, 300, 450, 600, 700, 800, 900, 1000, 1100, 1200};
    lagmon *m = monitor(4, NULL, 0);
    int part;

    rounds(m, T0, off, hwm, 4);
    cr_assert_eq(status_of(m, &part), LAGWIN_WARN, "M6: lag growing while committing");
    cr_assert_eq(part, LAGWIN_WARN, "partition WARN");
    rounds(m, T0 + 4 * SEC, off + 4, hwm + 4, 6);
    cr_assert_eq(status_of(m, &part), LAGWIN_ERR, "M6: the group's worst is an error");
    cr_assert_eq(part, LAGWIN_STOP, "no commit for longer than the window: STOP");
    lagmon_destroy(m);
}

Test(lagmon, requested_groups_only_and_missing_ones_are_notfound)
{
    static const char *const want[] = {"roster-consumer", "ghost"};
    lagmon *m = monitor(10, want, 2);
    const lagmon_snapshot *s = lagmon_snapshot_get(m);
    lagmon_round r;

    cr_assert_eq(s->ngroups, 2, "requested groups before any round");
    cr_assert_eq(group(s, "ghost")->status, LAGWIN_NOTFOUND, "NOTFOUND before any round");
    lagmon_snapshot_release(s);
    lagmon_round_init(&r, T0);
    see(&r, "roster-consumer", "roster.changes", 0, 10, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, 10);
    see(&r, "someone-else", "roster.changes", 0, 1, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, 10);
    update(m, &r);
    s = lagmon_snapshot_get(m);
    cr_assert_eq(s->ngroups, 2, "unrequested group left out, got %zu", s->ngroups);
    cr_assert_null(lagmon_snapshot_group(s, "someone-else"), "not asked for");
    cr_assert_eq(group(s, "roster-consumer")->status, LAGWIN_OK, "found: OK");
    cr_assert_eq(group(s, "ghost")->status, LAGWIN_NOTFOUND, "M5: still NOTFOUND");
    cr_assert_eq(group(s, "ghost")->nparts, 0, "no partitions");
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagmon, groups_and_partitions_no_longer_listed_go)
{
    lagmon *m = monitor(10, NULL, 0);
    const lagmon_snapshot *s;
    lagmon_round r;

    lagmon_round_init(&r, T0);
    see(&r, "a", "t", 0, 1, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, 5);
    see(&r, "a", "t", 1, 1, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, 5);
    see(&r, "b", "t", 0, 1, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, 5);
    update(m, &r);
    lagmon_round_init(&r, T0 + SEC);
    see(&r, "a", "t", 0, 2, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, 5);
    update(m, &r);
    s = lagmon_snapshot_get(m);
    cr_assert_eq(s->ngroups, 1, "M5: group b went");
    cr_assert_eq(group(s, "a")->nparts, 1, "M4: partition 1 went");
    lagmon_snapshot_release(s);

    /* Group a's offsets could not be read: its partitions stay, not fresh. */
    lagmon_round_init(&r, T0 + 2 * SEC);
    lagmon_round_group(&r, "a")->in_kafka = 1;
    update(m, &r);
    s = lagmon_snapshot_get(m);
    cr_assert_eq(group(s, "a")->nparts, 1, "M4: kept while unread");
    cr_assert_eq(group(s, "a")->parts[0].fresh, 0, "not fresh");
    cr_assert_eq(group(s, "a")->parts[0].r.offset, 2, "last offset kept");
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagmon, postgresql_unread_keeps_its_windows_without_a_rewind)
{
    lagmon *m = monitor(10, NULL, 0);
    const lagmon_snapshot *s;
    const lagmon_group *g;
    lagmon_round r;

    for (int i = 0; i < 3; i++) {
        lagmon_round_init(&r, T0 + i * SEC);
        see(&r, "roster-consumer", "roster.changes", 0, 900 + 100 * i, 1000 + 100 * i,
            T0 + i * SEC, 1200 + 100 * i);
        r.pg_read = 1;
        update(m, &r);
    }
    /* PostgreSQL down: Kafka's offset (behind PostgreSQL's) must not be taken. */
    lagmon_round_init(&r, T0 + 3 * SEC);
    see(&r, "roster-consumer", "roster.changes", 0, 1100, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE,
        1600);
    update(m, &r);
    s = lagmon_snapshot_get(m);
    g = group(s, "roster-consumer");
    cr_assert_eq(s->pg_read, 0, "round without PostgreSQL");
    cr_assert_eq(g->parts[0].fresh, 0, "M3: no sample");
    cr_assert_eq(g->parts[0].r.offset, 1200, "M3: PostgreSQL's last offset kept");
    cr_assert_eq(g->parts[0].pg_offset, 1200, "pg offset kept");
    cr_assert_neq(g->parts[0].r.status, LAGWIN_REWIND, "no false rewind");
    cr_assert_eq(g->parts[0].r.ncommits, 3, "three commits");
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagmon, group_known_only_from_postgresql)
{
    lagmon *m = monitor(10, NULL, 0);
    const lagmon_snapshot *s;
    lagmon_round r;
    lagmon_part_obs *o;

    lagmon_round_init(&r, T0);
    r.pg_read = 1;
    o = lagmon_round_part(&r, "incident-consumer", "incidents", 2);
    o->pg_offset = 5;
    o->pg_commit_ms = T0 - 10 * SEC;
    o->high_watermark = 5;
    update(m, &r);
    lagmon_round_init(&r, T0 + SEC); /* PostgreSQL unreachable: kept as it was */
    update(m, &r);
    s = lagmon_snapshot_get(m);
    cr_assert_eq(group(s, "incident-consumer")->in_kafka, 0, "not in Kafka");
    cr_assert_str_eq(group(s, "incident-consumer")->state, "", "no Kafka state");
    cr_assert_eq(group(s, "incident-consumer")->status, LAGWIN_OK, "caught up");
    lagmon_snapshot_release(s);
    lagmon_round_init(&r, T0 + 2 * SEC); /* read, and gone */
    r.pg_read = 1;
    update(m, &r);
    s = lagmon_snapshot_get(m);
    cr_assert_eq(s->ngroups, 0, "M5: gone once PostgreSQL no longer lists it");
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagmon, history_reaches_back_one_hour)
{
    lagmon *m = monitor(10, NULL, 0);
    const lagmon_snapshot *s;
    const lagmon_group *g;

    for (int i = 0; i <= 70; i++) {
        lagmon_round r;
        lagmon_round_init(&r, T0 + i * 60 * SEC);
        see(&r, "g", "t", 0, 10 * i, LAGWIN_OFFSET_NONE, LAGWIN_TIME_NONE, 10 * i + i);
        update(m, &r);
    }
    s = lagmon_snapshot_get(m);
    g = group(s, "g");
    cr_assert_eq(g->nhistory, 61, "M7: 61 points a minute apart in an hour, got %zu",
                 g->nhistory);
    cr_assert_eq(g->lag_history[0].time_ms, T0 + 10 * 60 * SEC, "oldest point kept");
    cr_assert_eq(g->lag_history[60].value, 70, "newest sum of lags");
    cr_assert_eq(g->seconds_history[60].time_ms, T0 + 70 * 60 * SEC, "seconds history too");
    cr_assert_eq(s->rounds, 71, "rounds counted");
    lagmon_snapshot_release(s);
    lagmon_destroy(m);
}

Test(lagmon, rounds_must_move_forward)
{
    lagmon *m = monitor(10, NULL, 0);
    lagmon_round r;
    char err[256] = "";

    lagmon_round_init(&r, T0);
    update(m, &r);
    lagmon_round_init(&r, T0);
    cr_assert_eq(lagmon_update(m, &r, err, sizeof err), -1, "same time refused");
    cr_assert_not_null(strstr(err, "not after"), "reason: %s", err);
    lagmon_destroy(m);
}

Test(lagmon, bad_parameters_are_refused)
{
    lagmon_params p = {.window = lagwin_params_default(), .batch_max = -1};
    char err[256] = "";

    cr_assert_null(lagmon_new(&p, err, sizeof err), "negative batch_max");
    p.batch_max = 1;
    p.window.intervals = 0;
    cr_assert_null(lagmon_new(&p, err, sizeof err), "no intervals");
    cr_assert_not_null(strstr(err, "intervals"), "reason: %s", err);
}

Test(lagmon, polls_are_counted_and_snapshots_outlive_the_monitor)
{
    lagmon *m = monitor(10, NULL, 0);
    const lagmon_snapshot *s;

    lagmon_record_poll(m, 1, 0.02, NULL);
    lagmon_record_poll(m, 0, 20, "broker down");
    s = lagmon_snapshot_get(m);
    lagmon_record_poll(m, 1, 0.001, NULL);
    cr_assert_eq(s->polls, 2, "two polls");
    cr_assert_eq(s->poll_failures, 1, "one failure");
    cr_assert_eq(s->poll_counts[1], 1, "0.02 s in the 0.05 bucket");
    cr_assert_eq(s->poll_counts[LAGMON_POLL_BUCKETS], 1, "20 s above every bound");
    cr_assert_str_eq(s->last_error, "broker down", "last error");
    cr_assert_float_eq(s->poll_seconds, 20.02, 1e-9, "sum");
    lagmon_destroy(m);
    cr_assert_eq(s->polls, 2, "snapshot still readable after destroy");
    lagmon_snapshot_release(s);
}
