/* incident_stage: the first step of applying a batch of Incident events. Each message is
 * decoded (wire format, writer schema), re-validated with the producers' record rules (a
 * producer is not trusted), given its local date (region_local_date) and a round
 * (common/rounds.h: a worker's events keep their order), and copied into the session's
 * staging table stg_incident. Rejects: "decode" and "validation". One per batch slot. */
#ifndef INCIDENT_STAGE_H
#define INCIDENT_STAGE_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "consumer.h"
#include "route.h"

/* What the later steps need of a staged event, by batch index. */
typedef struct incident_pending {
    char event_id[37];
    char nik[17];
    char source[33];         /* the publishing data center, and */
    int64_t event_time_us;   /* when it published (consumer_applied) */
    route_incident in;       /* routing input (route_incident_from_record) */
    int round;               /* 0: rejected before staging */
    int32_t local_date;      /* the de-duplication day: NIK, type and local date */
} incident_pending;

typedef struct incident_stage incident_stage;

/* base_topic: the configured topic; sources write "<base>.<source>". The staging tables
 * keep their rows past COMMIT: each batch deletes the last one's, and once truncate_rows
 * (>= 1) rows have been staged since the last truncation, the batch truncates them
 * instead. NULL + errstr on failure. */
incident_stage *incident_stage_new(const char *base_topic, long long truncate_rows, char *errstr,
                                   size_t errstr_size);
void incident_stage_destroy(incident_stage *st);

/* Decode, validate and format the batch's COPY rows, without the database. Returns the
 * highest round (0: nothing to stage), or -1 + errstr. */
int incident_stage_prepare(incident_stage *st, const consumer_batch *batch,
                           consumer_rejects *rej, char *errstr, size_t errstr_size);

/* COPY the prepared rows into the session's staging table in the open transaction
 * (creating stg_incident and stg_incident_decision on first use). Returns the highest
 * round, or -1 + errstr (also when nothing was prepared since the last copy). */
int incident_stage_copy(incident_stage *st, PGconn *pg, char *errstr, size_t errstr_size);

/* The pending events of the last batch, by batch index; owned by st, valid until the next
 * incident_stage_batch. */
const incident_pending *incident_stage_pending(const incident_stage *st);

#endif
