/* tpmap: a consumer's state per Kafka topic partition, keyed by (topic, partition): the
 * offset stored in PostgreSQL that the fence expects, and the poll thread's marks. A
 * consumer may read several topics (a subscription by pattern, one topic per data center),
 * so partitions are not enough to tell its state apart.
 *
 * Entries and topic names are never freed before tpmap_destroy: a pointer to an entry or
 * to an entry's topic stays valid, so batches carry the topic by pointer. Not thread-safe:
 * the consumer guards the map and its entries' shared fields with its lock. */
#ifndef TPMAP_H
#define TPMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tpmap_entry {
    const char *topic;      /* interned: one pointer per topic name */
    int32_t partition;
    int64_t expected;       /* next offset stored in PostgreSQL; -1 none, or unknown (-2) */
    int64_t taken;          /* poll thread: the offset after the last message taken; -1 */
    unsigned char assigned; /* poll thread */
    unsigned char eof;      /* poll thread: at the end of its log */
} tpmap_entry;

typedef struct tpmap tpmap;

/* NULL when out of memory. */
tpmap *tpmap_new(void);
/* Accepts NULL. */
void tpmap_destroy(tpmap *m);

/* The entry of (topic, partition), added (expected and taken -1, not assigned) when new.
 * NULL when out of memory. */
tpmap_entry *tpmap_get(tpmap *m, const char *topic, int32_t partition);
/* The entry of (topic, partition), or NULL when there is none. */
tpmap_entry *tpmap_find(const tpmap *m, const char *topic, int32_t partition);

/* The interned name of topic, added when new; NULL when out of memory. */
const char *tpmap_topic(tpmap *m, const char *topic);

/* Entries in the order they were added: i from 0 to tpmap_count - 1. */
size_t tpmap_count(const tpmap *m);
tpmap_entry *tpmap_at(const tpmap *m, size_t i);

#endif
