/* SPDX-License-Identifier: MIT */
/*
 * pending.h - new-client alerts waiting for the server's response.
 *
 * An alert is held for up to the response wait (capture time) so that it
 * can carry the response code and answer count. Alerts sit in a ring in
 * arrival order and in a chained hash index keyed by the query's 5-tuple
 * and DNS id, so a response finds its query in O(1). A matched alert leaves
 * at once; an unmatched one leaves when its deadline passes.
 *
 * Bound: the ring has a fixed capacity. When it is full the oldest alert
 * leaves early without a response and pending.evicted counts it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "decode/dns_message.h"
#include "util/addr.h"

struct pending_alert {
    struct dns_message query;
    uint32_t scope;
    struct prefix client_key;
    uint64_t baseline_size;
    int64_t deadline_ns;     /* capture time in ns after which it leaves */

    bool response_seen;
    unsigned response_rcode;
    uint16_t response_flags;
    uint16_t response_answers;

    /* Index bookkeeping. */
    bool live;
    uint64_t hash;
    int32_t next; /* next slot in the same hash chain, or -1 */
};

typedef void (*pending_release_fn)(void *ctx, struct pending_alert *alert);

struct pending_queue {
    struct pending_alert *ring;
    uint32_t capacity;
    uint32_t head;  /* oldest slot */
    uint32_t used;  /* slots from head on, live or already released */
    uint32_t live;  /* alerts still waiting */
    int32_t *buckets;
    uint32_t bucket_mask;
    uint64_t evicted;
    pending_release_fn release;
    void *release_ctx;
};

int pending_init(struct pending_queue *q, uint32_t capacity, pending_release_fn release,
                 void *ctx);
void pending_free(struct pending_queue *q);

/* Return a slot to fill for a new alert; the caller then calls pending_commit(). */
struct pending_alert *pending_reserve(struct pending_queue *q);
void pending_commit(struct pending_queue *q, struct pending_alert *a);

/*
 * Match response @p resp to a waiting alert; on a match, fill the alert's
 * response fields and release it. Returns true on a match.
 */
bool pending_match_response(struct pending_queue *q, const struct dns_message *resp);

/* Release every alert whose deadline is at or before @p now_ns. */
void pending_expire(struct pending_queue *q, int64_t now_ns);

/* Release every waiting alert, as when the input ends. */
void pending_flush(struct pending_queue *q);
