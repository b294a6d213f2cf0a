/* incident_apply: stage, decide and merge a batch of incident events. */
#include "incident_apply.h"

#include <stdio.h>
#include <stdlib.h>

#include "incident_decide.h"
#include "incident_merge.h"
#include "incident_stage.h"

struct incident_apply {
    benefit_table *table;
    incident_stage *stage;
    incident_decide *decide;
};

incident_apply *incident_apply_new(const char *benefits_path, const char *base_topic,
                                   long long truncate_rows, char *errstr, size_t n)
{
    incident_apply *ia = calloc(1, sizeof *ia);

    if (!ia) {
        snprintf(errstr, n, "out of memory");
        return NULL;
    }
    if (!(ia->table = benefits_load(benefits_path, errstr, n)) ||
        !(ia->stage = incident_stage_new(base_topic, truncate_rows, errstr, n)))
        goto fail;
    if (!(ia->decide = incident_decide_new())) {
        snprintf(errstr, n, "out of memory");
        goto fail;
    }
    return ia;
fail:
    incident_apply_destroy(ia);
    return NULL;
}

void incident_apply_destroy(incident_apply *ia)
{
    if (!ia)
        return;
    benefits_destroy(ia->table);
    incident_stage_destroy(ia->stage);
    incident_decide_destroy(ia->decide);
    free(ia);
}

const benefit_table *incident_apply_benefits(const incident_apply *ia)
{
    return ia->table;
}

int incident_apply_prepare(void *ctx, const consumer_batch *batch, consumer_rejects *rej,
                           char *errstr, size_t n)
{
    incident_apply *ia = ctx;

    return incident_stage_prepare(ia->stage, batch, rej, errstr, n) < 0 ? -1 : 0;
}

int incident_apply_batch(void *ctx, PGconn *pg, const consumer_batch *batch,
                         consumer_rejects *rej, char *errstr, size_t n)
{
    incident_apply *ia = ctx;
    int max_round = incident_stage_copy(ia->stage, pg, errstr, n);
    const incident_pending *pend = incident_stage_pending(ia->stage);

    (void)batch; /* prepared already: the staged rows carry what the rounds need */
    if (max_round < 0)
        return -1;
    for (int r = 1; r <= max_round; r++)
        if (incident_decide_round(ia->decide, pg, r, pend, ia->table, rej, errstr, n) < 0 ||
            incident_merge_round(pg, r, errstr, n) < 0)
            return -1;
    return 0;
}
