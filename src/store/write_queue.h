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
 * Items keep the client key in binary form and the first query name in
 * wire form. The batch function makes their text on the writer thread. Each item is 456 bytes on x86-64. The
 * ring is mapped with a request for transparent huge pages, so filling it
 * the first time costs a few page faults instead of one per 4 KiB.
 *
 * Errors stick: the first non-zero return of the batch function becomes the
 * queue's error. From then on the writer discards items without calling the
 * batch function, and every push and sync returns that error.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define WRITE_ITEM_QNAME_MAX 255 /* a wire-form name, root label included */

/*
 * The fields in the order a push writes them, the name last: a push writes
 * only the first_qname_len bytes of it, so a short name leaves most of the
 * item's 456 bytes, and their cache lines, untouched.
 */
struct write_item {
    enum store_change_kind kind;
    uint32_t flags;
    int64_t first_seen;
    int64_t last_seen;
    uint64_t query_count;
    char *first_query;  /* NEW submitted as text: heap copy owned by the queue */
    char *alert;        /* NEW only: heap copy owned by the queue, or NULL */
    size_t alert_len;
    int64_t outbox_id;  /* outbox row of the alert, set by the batch function */
    bool client_is_text;     /* client.text contains the key, else client.prefix */
    uint8_t first_qname_len; /* 0 when the name is first_query or absent */
    char scope[STORE_KEY_MAX];
    union {
        struct prefix prefix;
        char text[STORE_KEY_MAX];
    } client;
    uint8_t first_qname[WRITE_ITEM_QNAME_MAX];
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

/*
 * Copy @p change and, unless @p alert is NULL, its alert into the next
 * slot. Returns 0, -ENOMEM or the queue's error.
 */
int write_queue_push(struct write_queue *q, const struct store_change *change,
                     const char *alert, size_t alert_len);

/*
 * Wait until every item pushed before this call was handled by the batch
 * function. Returns 0 or the queue's error.
 */
int write_queue_sync(struct write_queue *q);

/* Return the queue's sticky error, 0 when none. */
int write_queue_error(struct write_queue *q);
