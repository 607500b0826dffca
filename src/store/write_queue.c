/* SPDX-License-Identifier: MIT */
/*
 * write_queue.c - bounded ring of baseline writes and its writer thread.
 *
 * State, all under q->lock:
 *   slots[head .. head+count) (modulo capacity) are queued items. A batch
 *   stays counted until the writer finishes it, and pushes write only past
 *   head+count, so the writer reads its batch without holding the lock.
 *   pushed and done count items ever queued and ever handled; a sync waits
 *   for done to reach the value pushed had when it was called. The item
 *   with sequence number n (the value of pushed when it was queued) lives
 *   in slots[n % capacity].
 *
 * Coalescing: index maps (scope, client) to the sequence number of the
 * newest item of that client, so that a SEEN update folds into that item
 * instead of taking a slot and a statement of its own. Only items at or
 * past done + busy (not yet handed to the writer) may change. The index
 * never deletes: an entry older than done + busy is stale and counts as
 * free, and a lookup stops at the first free entry. An insert goes to that
 * first free entry or replaces the key's entry, so along a key's probe
 * sequence the first live entry of the key is always its newest item.
 *
 * Idle work: when the ring has been empty for WRITE_QUEUE_IDLE_DELAY_MS and
 * idle_pending is set, the writer calls idle_fn without the lock, one step
 * at a time, checking for new items between steps. A finished batch sets
 * idle_pending again.
 *
 * Group commit: a transaction costs a WAL write of every page it changed,
 * whether it carries one row or thousands, so the writer waits up to
 * WRITE_QUEUE_LINGER_MS for a batch to fill before it commits one.
 * Stopping, a waiting sync or a full batch ends the wait at once.
 */
#include "store/write_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Maximum wait for a batch to fill, in milliseconds. It is the added delay
 * of an alert when traffic is slow, and the span over which a busy writer
 * gathers rows into one transaction.
 */
#define WRITE_QUEUE_LINGER_MS 20

/*
 * Time the ring must stay empty before idle work starts, in milliseconds. A
 * capture file keeps the ring busy to its end, so its run is not slowed by
 * idle work. A live sensor does the work between bursts.
 */
#define WRITE_QUEUE_IDLE_DELAY_MS 1000

struct write_queue {
    pthread_mutex_t lock;
    pthread_cond_t has_work;  /* writer waits: items queued or stopping */
    pthread_cond_t has_space; /* pushers and syncs wait: a batch finished */
    struct write_item *slots;
    size_t capacity;
    size_t batch_max;
    size_t head;
    size_t count;
    size_t batch_full;  /* a batch this large starts at once */
    size_t busy;        /* items the writer is handling now */
    uint64_t pushed;
    uint64_t done;
    unsigned syncs;     /* syncs waiting: the writer does not linger */
    uint64_t *index;    /* sequence number + 1 per bucket, 0 for empty */
    size_t index_mask;
    bool stopping;
    bool idle_pending;  /* idle_fn may have work */
    bool idle_running;  /* the ring stayed empty past the idle delay */
    int error;
    write_queue_batch_fn batch_fn;
    write_queue_idle_fn idle_fn;
    void *batch_ctx;
    uint64_t *full_waits;
    pthread_t thread;
};

/* Copy text into a fixed-size field, cutting it at size - 1 bytes. */
static void copy_text(char *dst, size_t size, const char *src)
{
    size_t len = strnlen(src, size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void batch_release(struct write_item *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(items[i].alert);
        items[i].alert = NULL;
    }
}

/* Return the CLOCK_MONOTONIC time @p ms milliseconds from now. */
static struct timespec deadline_after(long ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

/*
 * Wait, with q->lock held, until a batch is full, a sync or stop arrives,
 * or WRITE_QUEUE_LINGER_MS have passed.
 */
static void batch_linger(struct write_queue *q)
{
    struct timespec deadline = deadline_after(WRITE_QUEUE_LINGER_MS);

    while (q->count < q->batch_full && !q->stopping && q->syncs == 0 &&
           q->error == 0) {
        if (pthread_cond_timedwait(&q->has_work, &q->lock, &deadline) != 0) {
            break;
        }
    }
}

/*
 * Wait, with q->lock held, for WRITE_QUEUE_IDLE_DELAY_MS of an empty ring.
 * Returns false when an item, a stop or an error came first.
 */
static bool idle_wait(struct write_queue *q)
{
    struct timespec deadline = deadline_after(WRITE_QUEUE_IDLE_DELAY_MS);
    while (q->count == 0 && !q->stopping && q->error == 0) {
        if (pthread_cond_timedwait(&q->has_work, &q->lock, &deadline) != 0) {
            return q->count == 0 && !q->stopping && q->error == 0;
        }
    }
    return false;
}

/* Run one step of idle work with q->lock held; the step runs without it. */
static void idle_step(struct write_queue *q)
{
    pthread_mutex_unlock(&q->lock);
    int ret = q->idle_fn(q->batch_ctx);
    pthread_mutex_lock(&q->lock);
    if (ret < 0 && q->error == 0) {
        q->error = ret;
    }
    q->idle_pending = ret > 0;
}

static void *writer_main(void *arg)
{
    struct write_queue *q = arg;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->count == 0 && !q->stopping) {
            if (q->idle_pending && q->error == 0) {
                q->idle_running = q->idle_running || idle_wait(q);
                if (q->idle_running) {
                    idle_step(q);
                }
                continue;
            }
            pthread_cond_wait(&q->has_work, &q->lock);
        }
        if (q->count == 0) {
            break;
        }
        batch_linger(q);

        /* A batch never wraps around the end of the ring. */
        size_t n = min_size(q->count, q->batch_max);
        n = min_size(n, q->capacity - q->head);
        struct write_item *items = &q->slots[q->head];
        int ret = q->error;
        q->busy = n;
        pthread_mutex_unlock(&q->lock);

        /* After an error, items are discarded so that syncs still return. */
        if (ret == 0) {
            ret = q->batch_fn(q->batch_ctx, items, n);
        }
        batch_release(items, n);

        pthread_mutex_lock(&q->lock);
        if (q->error == 0) {
            q->error = ret;
        }
        q->head = (q->head + n) % q->capacity;
        q->count -= n;
        q->done += n;
        q->busy = 0;
        q->idle_pending = q->idle_fn != NULL;
        q->idle_running = false;
        pthread_cond_broadcast(&q->has_space);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

/* Size the index at twice the capacity or more, so probes stay short. */
static int index_create(struct write_queue *q)
{
    size_t buckets = 16;
    while (buckets < 2 * q->capacity) {
        buckets *= 2;
    }
    q->index = calloc(buckets, sizeof(*q->index));
    if (q->index == NULL) {
        return -ENOMEM;
    }
    q->index_mask = buckets - 1;
    return 0;
}

static int queue_sync_init(struct write_queue *q)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->has_work, &attr);
    pthread_cond_init(&q->has_space, NULL);
    pthread_condattr_destroy(&attr);
    return 0;
}

static void queue_free(struct write_queue *q)
{
    pthread_cond_destroy(&q->has_space);
    pthread_cond_destroy(&q->has_work);
    pthread_mutex_destroy(&q->lock);
    free(q->index);
    free(q->slots);
    free(q);
}

int write_queue_create(size_t capacity, size_t batch_max,
                       const struct write_queue_handlers *handlers,
                       uint64_t *full_waits, struct write_queue **out)
{
    if (capacity == 0 || batch_max == 0 || handlers == NULL ||
        handlers->batch_fn == NULL) {
        return -EINVAL;
    }
    struct write_queue *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        return -ENOMEM;
    }
    q->capacity = capacity;
    q->batch_max = batch_max;
    q->batch_full = min_size(batch_max, capacity);
    q->batch_fn = handlers->batch_fn;
    q->idle_fn = handlers->idle_fn;
    q->idle_pending = handlers->idle_fn != NULL;
    q->batch_ctx = handlers->ctx;
    q->full_waits = full_waits;
    queue_sync_init(q);

    q->slots = calloc(capacity, sizeof(*q->slots));
    if (q->slots == NULL || index_create(q) != 0) {
        queue_free(q);
        return -ENOMEM;
    }
    int ret = pthread_create(&q->thread, NULL, writer_main, q);
    if (ret != 0) {
        queue_free(q);
        return -ret;
    }

    *out = q;
    return 0;
}

int write_queue_destroy(struct write_queue *q)
{
    if (q == NULL) {
        return 0;
    }

    /* The writer exits only once the ring is empty, so queued items commit. */
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_signal(&q->has_work);
    pthread_mutex_unlock(&q->lock);
    pthread_join(q->thread, NULL);

    int ret = q->error;
    queue_free(q);
    return ret;
}

/*
 * Index of queued items by client.
 */

/* FNV-1a over the key text as the slots store it, cut at STORE_KEY_MAX - 1. */
static uint64_t key_hash(const char *scope, const char *client)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t len = strnlen(scope, STORE_KEY_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)scope[i]) * 0x100000001b3ULL;
    }
    h = (h ^ 0xff) * 0x100000001b3ULL; /* separator: no byte of text */
    len = strnlen(client, STORE_KEY_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        h = (h ^ (unsigned char)client[i]) * 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

static bool item_has_key(const struct write_item *item, const char *scope,
                         const char *client)
{
    return strncmp(item->row.client, client, STORE_KEY_MAX - 1) == 0 &&
           strncmp(item->row.scope, scope, STORE_KEY_MAX - 1) == 0;
}

/*
 * Find the bucket of the newest queued item of (scope, client) that the
 * writer has not taken yet, with q->lock held. Returns that item and sets
 * *bucket, or returns NULL and sets *bucket to the first free bucket.
 */
static struct write_item *index_find(struct write_queue *q, const char *scope,
                                     const char *client, size_t *bucket)
{
    uint64_t live_from = q->done + q->busy;
    size_t i = (size_t)key_hash(scope, client) & q->index_mask;
    for (;; i = (i + 1) & q->index_mask) {
        uint64_t entry = q->index[i];
        if (entry == 0 || entry - 1 < live_from) {
            *bucket = i;
            return NULL;
        }
        struct write_item *item = &q->slots[(entry - 1) % q->capacity];
        if (item_has_key(item, scope, client)) {
            *bucket = i;
            return item;
        }
    }
}

/*
 * Wait for a free slot with q->lock held. Returns the free slot, or NULL
 * when the queue failed meanwhile.
 */
static struct write_item *slot_reserve(struct write_queue *q)
{
    if (q->error == 0 && q->count == q->capacity) {
        if (q->full_waits != NULL) {
            __atomic_fetch_add(q->full_waits, 1, __ATOMIC_RELAXED);
        }
        while (q->error == 0 && q->count == q->capacity) {
            pthread_cond_wait(&q->has_space, &q->lock);
        }
    }
    if (q->error != 0) {
        return NULL;
    }
    return &q->slots[(q->head + q->count) % q->capacity];
}

/*
 * Queue the item just written into the reserved slot, and make @p bucket
 * (from index_find after the reservation) point at it. The writer needs a
 * wake-up only for the first item and for a full batch.
 */
static void slot_commit(struct write_queue *q, size_t bucket)
{
    q->pushed++;
    q->index[bucket] = q->pushed;
    q->count++;
    if (q->count == 1 || q->count == q->batch_full) {
        pthread_cond_signal(&q->has_work);
    }
}

int write_queue_push_new(struct write_queue *q, const struct store_client *row,
                         const char *alert, size_t alert_len)
{
    /* Copy the alert before taking the lock: malloc may be slow. */
    char *alert_copy = NULL;
    if (alert != NULL) {
        alert_copy = malloc(alert_len + 1);
        if (alert_copy == NULL) {
            return -ENOMEM;
        }
        memcpy(alert_copy, alert, alert_len);
        alert_copy[alert_len] = '\0';
    }

    pthread_mutex_lock(&q->lock);
    struct write_item *item = slot_reserve(q);
    if (item == NULL) {
        int ret = q->error;
        pthread_mutex_unlock(&q->lock);
        free(alert_copy);
        return ret;
    }

    /* The new row replaces an older queued item of the client in the index. */
    size_t bucket;
    index_find(q, row->scope, row->client, &bucket);
    item->type = WRITE_ITEM_NEW;
    copy_text(item->row.scope, sizeof(item->row.scope), row->scope);
    copy_text(item->row.client, sizeof(item->row.client), row->client);
    item->row.first_seen = row->first_seen;
    item->row.last_seen = row->last_seen;
    item->row.query_count = row->query_count;
    item->row.flags = row->flags;
    copy_text(item->row.first_query, sizeof(item->row.first_query),
              row->first_query);
    item->alert = alert_copy;
    item->alert_len = alert_len;
    item->outbox_id = 0;
    slot_commit(q, bucket);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

/*
 * Fold a SEEN update into the queued @p item of the same client: the result
 * is the row that writing the item and then the update would leave.
 */
static void item_merge_seen(struct write_item *item, int64_t last_seen,
                            uint64_t queries)
{
    if (item->row.last_seen < last_seen) {
        item->row.last_seen = last_seen;
    }
    item->row.query_count += queries;
}

int write_queue_push_seen(struct write_queue *q, const char *scope,
                          const char *client, int64_t last_seen,
                          uint64_t queries)
{
    pthread_mutex_lock(&q->lock);
    size_t bucket;
    struct write_item *queued = NULL;
    struct write_item *item = NULL;
    if (q->error == 0) {
        queued = index_find(q, scope, client, &bucket);
    }
    uint64_t done_before = q->done;
    uint64_t pushed_before = q->pushed;
    if (queued == NULL) {
        item = slot_reserve(q);
    }
    if (queued == NULL && item == NULL) {
        int ret = q->error;
        pthread_mutex_unlock(&q->lock);
        return ret;
    }

    /* While this push waited for space, items left and others came: look again. */
    if (queued == NULL && (q->done != done_before || q->pushed != pushed_before)) {
        queued = index_find(q, scope, client, &bucket);
    }
    if (queued != NULL) {
        item_merge_seen(queued, last_seen, queries);
        pthread_mutex_unlock(&q->lock);
        return 0;
    }

    item->type = WRITE_ITEM_SEEN;
    copy_text(item->row.scope, sizeof(item->row.scope), scope);
    copy_text(item->row.client, sizeof(item->row.client), client);
    item->row.first_seen = 0;
    item->row.last_seen = last_seen;
    item->row.query_count = queries;
    item->row.flags = 0;
    item->row.first_query[0] = '\0'; /* the slot may hold an older row's name */
    item->alert = NULL;
    item->alert_len = 0;
    item->outbox_id = 0;
    slot_commit(q, bucket);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int write_queue_sync(struct write_queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t target = q->pushed;
    q->syncs++;
    pthread_cond_signal(&q->has_work);
    while (q->done < target) {
        pthread_cond_wait(&q->has_space, &q->lock);
    }
    q->syncs--;
    int ret = q->error;
    pthread_mutex_unlock(&q->lock);
    return ret;
}

int write_queue_error(struct write_queue *q)
{
    pthread_mutex_lock(&q->lock);
    int ret = q->error;
    pthread_mutex_unlock(&q->lock);
    return ret;
}
