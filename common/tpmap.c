/* tpmap: per topic partition state, found by hashing (topic, partition). */
#include "tpmap.h"

#include <stdlib.h>
#include <string.h>

struct tpmap {
    tpmap_entry **entries;  /* in the order added */
    size_t count, cap;
    size_t *index;          /* open addressing: entry number + 1, 0 empty */
    size_t slots;           /* a power of two, more than twice count */
    char **topics;          /* interned names */
    size_t ntopics, topics_cap;
};

static size_t hash(const char *topic, int32_t partition)
{
    size_t h = 14695981039346656037u;

    for (const unsigned char *p = (const unsigned char *)topic; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return (h ^ (size_t)(uint32_t)partition) * 1099511628211u;
}

tpmap *tpmap_new(void)
{
    tpmap *m = calloc(1, sizeof *m);

    if (m && !(m->index = calloc(m->slots = 64, sizeof *m->index))) {
        free(m);
        return NULL;
    }
    return m;
}

void tpmap_destroy(tpmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++)
        free(m->entries[i]);
    for (size_t i = 0; i < m->ntopics; i++)
        free(m->topics[i]);
    free(m->entries);
    free(m->index);
    free(m->topics);
    free(m);
}

const char *tpmap_topic(tpmap *m, const char *topic)
{
    char *copy;

    for (size_t i = 0; i < m->ntopics; i++)
        if (strcmp(m->topics[i], topic) == 0)
            return m->topics[i];
    if (m->ntopics == m->topics_cap) {
        size_t cap = m->topics_cap ? m->topics_cap * 2 : 8;
        char **grown = realloc(m->topics, cap * sizeof *grown);
        if (!grown)
            return NULL;
        m->topics = grown;
        m->topics_cap = cap;
    }
    if (!(copy = strdup(topic)))
        return NULL;
    return m->topics[m->ntopics++] = copy;
}

/* The slot of (topic, partition) in m->index: where it is, or the empty one it would take. */
static size_t slot_of(const tpmap *m, const char *topic, int32_t partition)
{
    size_t i = hash(topic, partition) & (m->slots - 1);

    while (m->index[i]) {
        const tpmap_entry *e = m->entries[m->index[i] - 1];
        if (e->partition == partition && strcmp(e->topic, topic) == 0)
            break;
        i = (i + 1) & (m->slots - 1);
    }
    return i;
}

static int grow_index(tpmap *m)
{
    size_t slots = m->slots * 2, *index = calloc(slots, sizeof *index), *old = m->index;

    if (!index)
        return -1;
    m->index = index;
    m->slots = slots;
    for (size_t k = 0; k < m->count; k++)
        m->index[slot_of(m, m->entries[k]->topic, m->entries[k]->partition)] = k + 1;
    free(old);
    return 0;
}

tpmap_entry *tpmap_find(const tpmap *m, const char *topic, int32_t partition)
{
    size_t i = slot_of(m, topic, partition);

    return m->index[i] ? m->entries[m->index[i] - 1] : NULL;
}

tpmap_entry *tpmap_get(tpmap *m, const char *topic, int32_t partition)
{
    tpmap_entry *e = tpmap_find(m, topic, partition);
    const char *name;

    if (e)
        return e;
    if ((m->count + 1) * 2 >= m->slots && grow_index(m) < 0)
        return NULL;
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        tpmap_entry **grown = realloc(m->entries, cap * sizeof *grown);
        if (!grown)
            return NULL;
        m->entries = grown;
        m->cap = cap;
    }
    if (!(name = tpmap_topic(m, topic)) || !(e = calloc(1, sizeof *e)))
        return NULL;
    *e = (tpmap_entry){name, partition, -1, -1, 0, 0};
    m->entries[m->count++] = e;
    m->index[slot_of(m, name, partition)] = m->count;
    return e;
}

size_t tpmap_count(const tpmap *m)
{
    return m->count;
}

tpmap_entry *tpmap_at(const tpmap *m, size_t i)
{
    return i < m->count ? m->entries[i] : NULL;
}
