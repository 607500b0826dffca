/* SPDX-License-Identifier: MIT */
/*
 * write_queue.c - bounded ring of baseline writes and its writer thread.
 *
 * State, all under q->lock:
 *   slots[head .. head+count) (modulo capacity) are queued items. A batch
 *   stays counted until the writer finishes it, and pushes write only past
 *   head+count, so the writer reads its batch without holding the lock.
 *   pushed and done count items ever queued and ever handled; a sync waits
 *   for done to reach the value pushed had when it was called.
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

#include "decode/dns_message.h"
#include "util/big_alloc.h"
#include "util/prefault.h"

_Static_assert(WRITE_ITEM_QNAME_MAX == DNS_NAME_MAX, "a wire-form name must fit an item");

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
    uint64_t pushed;
    uint64_t done;
    unsigned syncs;     /* syncs waiting: the writer does not linger */
    bool stopping;
    bool idle_pending;  /* idle_fn may have work */
    bool idle_running;  /* the ring stayed empty past the idle delay */
    int error;
    write_queue_batch_fn batch_fn;
    write_queue_idle_fn idle_fn;
    void *batch_ctx;
    uint64_t *full_waits;
    pthread_t thread;
    struct prefault ring_fault; /* faults in a mapped ring while the first items arrive */
};

/* Copy text into a fixed-size field, cutting it at size - 1 bytes. Returns its length. */
static size_t copy_text(char *dst, size_t size, const char *src)
{
    size_t len = strnlen(src, size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

/* Return a heap copy of @p len bytes at @p text with a NUL after them, or NULL. */
static char *copy_to_heap(const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, text, len);
        copy[len] = '\0';
    }
    return copy;
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
        free(items[i].first_query);
        items[i].first_query = NULL;
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
        q->idle_pending = q->idle_fn != NULL;
        q->idle_running = false;
        pthread_cond_broadcast(&q->has_space);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
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
    prefault_wait(&q->ring_fault);
    big_free(q->slots, q->capacity * sizeof(*q->slots));
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

    size_t bytes = capacity * sizeof(*q->slots);
    q->slots = big_alloc(bytes);
    if (q->slots == NULL) {
        queue_free(q);
        return -ENOMEM;
    }
    /* NOTE: the whole ring becomes resident at the start, 30 MiB at the default
     * store-queue-max, even in a run that queues few items. */
    if (bytes >= BIG_ALLOC_MAP_MIN) {
        prefault_start(&q->ring_fault, q->slots, bytes);
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

/* Return the slot after the last queued item, with q->lock held. */
static struct write_item *tail_slot(struct write_queue *q)
{
    size_t tail = q->head + q->count; /* both under capacity: no division needed */
    return &q->slots[tail < q->capacity ? tail : tail - q->capacity];
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
    return tail_slot(q);
}

/*
 * Queue the item just written into the reserved slot. The writer needs a
 * wake-up only for the first item and for a full batch.
 */
static void slot_commit(struct write_queue *q)
{
    q->pushed++;
    q->count++;
    if (q->count == 1 || q->count == q->batch_full) {
        pthread_cond_signal(&q->has_work);
    }
}

/*
 * Fetch the cache lines that the next push writes: the fields, the key and
 * the start of the name. The ring is larger than the caches, so those lines
 * are cold, and the unlock after a push waited for their stores (3.2% of
 * the packet thread's samples on the 10M-packet capture, 2.4% with this).
 */
static inline void prefetch_for_push(const char *item)
{
    __builtin_prefetch(item, 1);
    __builtin_prefetch(item + 64, 1);
    __builtin_prefetch(item + 128, 1);
    __builtin_prefetch(item + 192, 1);
}

/* Fill @p item from @p c; the heap copies are made by the caller. */
static void item_fill(struct write_item *item, const struct store_change *c)
{
    item->kind = c->kind;
    item->flags = c->flags;
    item->first_seen = c->first_seen;
    item->last_seen = c->last_seen;
    item->query_count = c->query_count;
    copy_text(item->scope, sizeof(item->scope), c->scope);
    item->client_is_text = c->client_text != NULL;
    if (item->client_is_text) {
        copy_text(item->client.text, sizeof(item->client.text), c->client_text);
    } else {
        item->client.prefix = c->client;
    }
    item->first_qname_len = c->first_qname != NULL ? c->first_qname_len : 0;
    if (item->first_qname_len > 0) {
        memcpy(item->first_qname, c->first_qname, item->first_qname_len);
    }
    item->outbox_id = 0;
}

int write_queue_push(struct write_queue *q, const struct store_change *change,
                     const char *alert, size_t alert_len)
{
    /* Copy the texts before taking the lock: malloc may be slow. */
    char *alert_copy = NULL;
    char *name_copy = NULL;
    if (alert != NULL && (alert_copy = copy_to_heap(alert, alert_len)) == NULL) {
        return -ENOMEM;
    }
    if (change->first_qname == NULL && change->first_query != NULL) {
        size_t len = strnlen(change->first_query, STORE_NAME_MAX - 1);
        if ((name_copy = copy_to_heap(change->first_query, len)) == NULL) {
            free(alert_copy);
            return -ENOMEM;
        }
    }

    pthread_mutex_lock(&q->lock);
    struct write_item *item = slot_reserve(q);
    if (item == NULL) {
        int ret = q->error;
        pthread_mutex_unlock(&q->lock);
        free(alert_copy);
        free(name_copy);
        return ret;
    }
    item_fill(item, change);
    item->first_query = name_copy;
    item->alert = alert_copy;
    item->alert_len = alert_copy != NULL ? alert_len : 0;
    slot_commit(q);
    const char *next_item = (const char *)tail_slot(q);
    pthread_mutex_unlock(&q->lock);
    prefetch_for_push(next_item);
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
