/* source_topic: a data center's topics. */
#include "source_topic.h"

#include <stdio.h>
#include <string.h>

#define SOURCE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define ID "[A-Za-z0-9_-]"

char *source_topic_pattern(const char *base, char *out, size_t size)
{
    size_t used = 0;

    if (!size)
        return out;
    out[used++] = '^';
    for (const char *p = base; *p && used + 3 < size; p++) {
        if (strchr(".\\^$|?*+()[]{}", *p))
            out[used++] = '\\';
        out[used++] = *p;
    }
    out[used] = '\0';
    /* Any source id but "dlq" (the base's own DLQ): ERE has no negation, so spell out
     * the ids that differ from it by their first, second or third character, or by a
     * fourth. */
    snprintf(out + used, size - used,
             "(\\.([A-Za-ce-z0-9_-]" ID "*|d([A-Za-km-z0-9_-]" ID "*)?"
             "|dl([A-Za-pr-z0-9_-]" ID "*)?|dlq" ID "+))?$");
    return out;
}

int source_topic_of(const char *topic, const char *base, char *out, size_t size)
{
    size_t blen = strlen(base);
    const char *source;

    if (strcmp(topic, base) == 0)
        return 0;
    if (strncmp(topic, base, blen) != 0 || topic[blen] != '.')
        return -1;
    source = topic + blen + 1;
    if (!*source || strcmp(source, "dlq") == 0 || strspn(source, SOURCE_CHARS) != strlen(source) ||
        strlen(source) >= size)
        return -1;
    snprintf(out, size, "%s", source);
    return 1;
}

const char *source_topic_base(const char *configured, const char *fallback)
{
    return configured && configured[0] && configured[0] != '^' ? configured : fallback;
}

int source_topic_name(const char *base, const char *source, char *out, size_t size)
{
    if (!*source || strcmp(source, "dlq") == 0 || strspn(source, SOURCE_CHARS) != strlen(source))
        return -1;
    if ((size_t)snprintf(out, size, "%s.%s", base, source) >= size)
        return -1;
    return 0;
}

int source_topic_check(const char *topic, const char *base, const char *source, char *msg,
                       size_t size)
{
    char topic_source[64];

    switch (source_topic_of(topic, base, topic_source, sizeof topic_source)) {
    case 0:
        return 0;
    case 1:
        if (strcmp(source, topic_source) == 0)
            return 0;
        snprintf(msg, size, "source_mismatch: the record says source '%s', but data center '%s'"
                            " wrote it (topic %s)", source, topic_source, topic);
        return -1;
    default:
        snprintf(msg, size, "unknown_topic: %s is neither %s nor a data center's %s.<source>",
                 topic, base, base);
        return -1;
    }
}
