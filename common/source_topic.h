/* source_topic: the data center a topic belongs to. When producers authenticate, each data
 * center writes only its own topics, "<base>.<source>" (roster.changes.dc-sulsel,
 * incidents.dc-sulsel), as the broker's ACLs allow: the source an event really comes from is
 * the topic's, not the field its sender filled in. The consumers subscribe to the base and
 * every source's topic with one pattern, and refuse a record whose source field says
 * otherwise (error class "auth"). Pure; any thread. */
#ifndef SOURCE_TOPIC_H
#define SOURCE_TOPIC_H

#include <stddef.h>

/* The consumers' default subscription for base: the base topic itself (no authenticated
 * source: plaintext stacks) and "<base>.<source>" for every source id of letters, digits,
 * '_' and '-' but "dlq" (not the base's DLQ, nor a source's "<base>.<source>.dlq").
 * Written into out (size bytes, 200 are enough for a base of 40); returns out. */
char *source_topic_pattern(const char *base, char *out, size_t size);

/* The base a service's configured topic stands for: the topic itself, or fallback (the
 * service's own base) when the topic is a pattern (starting with '^'). */
const char *source_topic_base(const char *configured, const char *fallback);

/* 1 with the source in out (size bytes) when topic is "<base>.<source>"; 0 when topic is
 * base itself (the source is the record's own, unauthenticated); -1 when it is neither
 * ("<base>.dlq" included). */
int source_topic_of(const char *topic, const char *base, char *out, size_t size);

/* "<base>.<source>", the topic a data center publishes to, into out (size bytes). 0, or -1
 * when source is empty, not of letters, digits, '_' and '-', is "dlq", or does not fit. */
int source_topic_name(const char *base, const char *source, char *out, size_t size);

/* Whether a record read from topic may say it comes from source: any source on the base
 * topic; only the topic's own on "<base>.<source>". 0, or -1 with why in msg (size bytes),
 * starting with a reason code: "source_mismatch" or "unknown_topic". */
int source_topic_check(const char *topic, const char *base, const char *source, char *msg,
                       size_t size);

#endif
