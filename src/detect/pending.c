/* SPDX-License-Identifier: MIT */
#include "detect/pending.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

/* Key of a query as its response mirrors it: client and server swap places. */
static uint64_t flow_hash(const struct addr *client, uint16_t client_port,
                          const struct addr *server, uint16_t server_port, uint16_t id,
                          uint8_t transport)
{
    struct {
        struct addr client;
        struct addr server;
        uint16_t client_port;
        uint16_t server_port;
        uint16_t id;
        uint8_t transport;
        uint8_t pad;
    } k;
    memset(&k, 0, sizeof(k));
    k.client = *client;
    k.server = *server;
    k.client_port = client_port;
    k.server_port = server_port;
    k.id = id;
    k.transport = transport;
    return hash_bytes(&k, sizeof(k));
}

static bool same_flow(const struct dns_message *query, const struct dns_message *resp)
{
    return query->id == resp->id && query->sport == resp->dport &&
           query->dport == resp->sport && query->transport == resp->transport &&
           memcmp(&query->src, &resp->dst, sizeof(query->src)) == 0 &&
           memcmp(&query->dst, &resp->src, sizeof(query->dst)) == 0;
}

int pending_init(struct pending_queue *q, uint32_t capacity, pending_release_fn release,
                 void *ctx)
{
    memset(q, 0, sizeof(*q));
    uint32_t buckets = 1;
    while (buckets < capacity * 2) {
        buckets <<= 1;
    }
    q->ring = calloc(capacity, sizeof(*q->ring));
    q->buckets = malloc(buckets * sizeof(*q->buckets));
    if (q->ring == NULL || q->buckets == NULL) {
        pending_free(q);
        return -ENOMEM;
    }
    memset(q->buckets, 0xff, buckets * sizeof(*q->buckets));
    q->capacity = capacity;
    q->bucket_mask = buckets - 1;
    q->release = release;
    q->release_ctx = ctx;
    return 0;
}

void pending_free(struct pending_queue *q)
{
    free(q->ring);
    free(q->buckets);
    q->ring = NULL;
    q->buckets = NULL;
}

static void unlink_slot(struct pending_queue *q, int32_t slot)
{
    struct pending_alert *a = &q->ring[slot];
    int32_t *link = &q->buckets[a->hash & q->bucket_mask];
    while (*link != -1) {
        if (*link == slot) {
            *link = a->next;
            break;
        }
        link = &q->ring[*link].next;
    }
}

static void release_slot(struct pending_queue *q, int32_t slot)
{
    struct pending_alert *a = &q->ring[slot];
    unlink_slot(q, slot);
    a->live = false;
    q->live--;
    q->release(q->release_ctx, a);
}

/* Drop released slots from the head of the ring. */
static void trim_head(struct pending_queue *q)
{
    while (q->used > 0 && !q->ring[q->head].live) {
        q->head = (q->head + 1) % q->capacity;
        q->used--;
    }
}

struct pending_alert *pending_reserve(struct pending_queue *q)
{
    if (q->used == q->capacity) {
        /* Full: the oldest alert leaves now, without waiting for its response. */
        q->evicted++;
        release_slot(q, (int32_t)q->head);
        trim_head(q);
    }
    uint32_t slot = (q->head + q->used) % q->capacity;
    struct pending_alert *a = &q->ring[slot];
    memset(a, 0, sizeof(*a));
    return a;
}

void pending_commit(struct pending_queue *q, struct pending_alert *a)
{
    int32_t slot = (int32_t)(a - q->ring);
    const struct dns_message *m = &a->query;
    a->hash = flow_hash(&m->src, m->sport, &m->dst, m->dport, m->id, m->transport);
    a->live = true;
    a->next = q->buckets[a->hash & q->bucket_mask];
    q->buckets[a->hash & q->bucket_mask] = slot;
    q->used++;
    q->live++;
}

bool pending_match_response(struct pending_queue *q, const struct dns_message *resp)
{
    if (q->live == 0) {
        return false;
    }
    uint64_t h = flow_hash(&resp->dst, resp->dport, &resp->src, resp->sport, resp->id,
                           resp->transport);
    for (int32_t s = q->buckets[h & q->bucket_mask]; s != -1; s = q->ring[s].next) {
        struct pending_alert *a = &q->ring[s];
        if (a->hash != h || !same_flow(&a->query, resp)) {
            continue;
        }
        a->response_seen = true;
        /* The extended RCODE sits in the OPT record, parsed only now. */
        struct dns_message full = *resp;
        dns_message_parse_records(&full);
        a->response_rcode = dns_message_rcode(&full);
        a->response_flags = resp->flags;
        a->response_answers = resp->ancount;
        release_slot(q, s);
        trim_head(q);
        return true;
    }
    return false;
}

void pending_expire(struct pending_queue *q, int64_t now_ns)
{
    while (q->used > 0) {
        struct pending_alert *a = &q->ring[q->head];
        if (a->live) {
            if (a->deadline_ns > now_ns) {
                return;
            }
            release_slot(q, (int32_t)q->head);
        }
        q->head = (q->head + 1) % q->capacity;
        q->used--;
    }
}

void pending_flush(struct pending_queue *q)
{
    pending_expire(q, INT64_MAX);
}
