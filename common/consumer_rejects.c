/* consumer_rejects: a batch's rejects (dead letters) and applied events. */
#include "consumer_rejects.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utf8.h"
#include "validate.h"

void consumer_reject(consumer_rejects *rej, int idx, const char *error_class, const char *event_id,
                     const char *nik, const char *fmt, ...)
{
    dead_letter *it;
    va_list ap;

    if (rej->count == rej->cap) {
        int cap = rej->cap ? rej->cap * 2 : 64;
        dead_letter *grown = realloc(rej->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            rej->oom = 1;
            return;
        }
        rej->items = grown;
        rej->cap = cap;
    }
    it = &rej->items[rej->count++];
    memset(it, 0, sizeof *it);
    it->idx = idx;
    snprintf(it->error_class, sizeof it->error_class, "%s", error_class);
    /* An id that is not a UUID cannot go into dead_letters.event_id: the row would be
     * refused and the record dead-lettered as "db" instead of for what it is. */
    snprintf(it->event_id, sizeof it->event_id, "%s", event_id && validate_is_uuid(event_id) ? event_id : "");
    if (nik && *nik)
        log_mask_nik(nik, it->nik_masked, sizeof it->nik_masked);
    va_start(ap, fmt);
    vsnprintf(it->message, sizeof it->message, fmt, ap);
    va_end(ap);
    /* A message may quote what the record carried: keep the row insertable. */
    utf8_scrub(it->message);
}

/* The index of source in rej's table, added when new; the last one when it is full. */
static int intern_source(consumer_rejects *rej, const char *source)
{
    for (int i = rej->nsources - 1; i >= 0; i--)
        if (strcmp(rej->sources[i], source) == 0)
            return i;
    if (rej->nsources == CONSUMER_SOURCES_MAX - 1)
        snprintf(rej->sources[rej->nsources++], CONSUMER_SOURCE_LEN, "other");
    if (rej->nsources == CONSUMER_SOURCES_MAX)
        return CONSUMER_SOURCES_MAX - 1;
    snprintf(rej->sources[rej->nsources], CONSUMER_SOURCE_LEN, "%s", source);
    return rej->nsources++;
}

void consumer_applied(consumer_rejects *rej, int idx, const char *source, int64_t event_time_us)
{
    (void)idx;
    if (rej->napplied == rej->applied_cap) {
        int cap = rej->applied_cap ? rej->applied_cap * 2 : 256;
        consumer_applied_event *grown = realloc(rej->applied, (size_t)cap * sizeof *grown);
        if (!grown)
            return; /* only metrics lose it */
        rej->applied = grown;
        rej->applied_cap = cap;
    }
    rej->applied[rej->napplied++] = (consumer_applied_event){
        rej->sources[intern_source(rej, source && *source ? source : "unknown")], event_time_us};
}

void consumer_rejects_reset(consumer_rejects *r)
{
    r->count = 0;
    r->oom = 0;
    r->napplied = 0;
    r->nsources = 0;
}

void consumer_rejects_release(consumer_rejects *r)
{
    free(r->items);
    free(r->applied);
    r->items = NULL;
    r->applied = NULL;
    r->cap = r->applied_cap = 0;
    consumer_rejects_reset(r);
}
