/* SPDX-License-Identifier: MIT */
/*
 * write_queue.h - a bounded queue of baseline writes and the thread that
 * commits them.
 *
 * The packet path pushes items into a ring of fixed-size slots and returns
 * at once. Only an alert's JSON text is copied to the heap, because alerts
 * are rare. When the ring is full a push blocks until the writer frees slots,
 * and the wait is counted. The writer thread hands the batch function up to
 * batch_max consecutive items, which stay in their slots until the function
 * returns, so nothing is copied a second time. Unless a sync or the queue's
 * destruction waits, the writer waits up to 20 ms for a batch to fill, so
 * that a busy queue commits fewer, larger transactions.
 *
 * A SEEN push for a client whose newest item is still queued (not yet
 * handed to the batch function) is folded into that item: its last_seen
 * becomes the later of the two and its query_count grows by the update's.
 *
 * Errors stick: the first non-zero return of the batch function becomes the
 * queue's error. From then on the writer discards items without calling the
 * batch function, and every push and sync returns that error.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum write_item_type {
    WRITE_ITEM_NEW = 1,  /* insert or replace a client row */
    WRITE_ITEM_SEEN = 2, /* raise last_seen and add to query_count */
};

struct write_item {
    enum write_item_type type;
    /* NEW: the whole row. SEEN: scope, client, last_seen, query_count. */
    struct store_client row;
    char *alert;        /* NEW only: heap copy owned by the queue, or NULL */
    size_t alert_len;
    int64_t outbox_id;  /* outbox row of the alert, set by the batch function */
};

/*
 * Commit @p count items as one unit. Returns 0, or a negative code that
 * stops the queue.
 */
typedef int (*write_queue_batch_fn)(void *ctx, struct write_item *items,
                                    size_t count);

/*
 * Do one bounded step of background work while the queue is empty. Returns
 * 1 when more work is left, 0 when there is none until the next batch, or
 * a negative code that stops the queue like a failed batch.
 */
typedef int (*write_queue_idle_fn)(void *ctx);

struct write_queue_handlers {
    write_queue_batch_fn batch_fn;
    write_queue_idle_fn idle_fn; /* may be NULL */
    void *ctx;                   /* passed to both */
};

struct write_queue;

/*
 * Create a queue of @p capacity slots and start its writer thread, which
 * passes at most @p batch_max items to handlers->batch_fn at a time, and
 * calls handlers->idle_fn whenever the queue is empty, after the first start
 * and after each batch, until it reports no more work. Each wait of a full
 * push adds one to *full_waits. Returns 0, -EINVAL or -ENOMEM / -errno.
 */
int write_queue_create(size_t capacity, size_t batch_max,
                       const struct write_queue_handlers *handlers,
                       uint64_t *full_waits, struct write_queue **out);

/*
 * Drain every item still queued, stop the writer thread and free the queue.
 * Returns the queue's error (0 when every batch succeeded).
 */
int write_queue_destroy(struct write_queue *q);

/* Copy a NEW row and its alert (NULL for none). Returns 0 or the queue's error. */
int write_queue_push_new(struct write_queue *q, const struct store_client *row,
                         const char *alert, size_t alert_len);

/*
 * Queue a SEEN update, or fold it into the client's queued item. Returns 0
 * or the queue's error.
 */
int write_queue_push_seen(struct write_queue *q, const char *scope,
                          const char *client, int64_t last_seen,
                          uint64_t queries);

/*
 * Wait until every item pushed before this call was handled by the batch
 * function. Returns 0 or the queue's error.
 */
int write_queue_sync(struct write_queue *q);

/* Return the queue's sticky error, 0 when none. */
int write_queue_error(struct write_queue *q);
