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
 */
#include "store/write_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct write_queue {
    pthread_mutex_t lock;
    pthread_cond_t has_work;  /* writer waits: items queued or stopping */
    pthread_cond_t has_space; /* pushers and syncs wait: a batch finished */
    struct write_item *slots;
    size_t capacity;
    size_t batch_max;
    size_t head;
    size_t count;
    uint64_t pushed;
    uint64_t done;
    bool stopping;
    int error;
    write_queue_batch_fn batch_fn;
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

static void *writer_main(void *arg)
{
    struct write_queue *q = arg;

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (q->count == 0 && !q->stopping) {
            pthread_cond_wait(&q->has_work, &q->lock);
        }
        if (q->count == 0) {
            break;
        }

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
        pthread_cond_broadcast(&q->has_space);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

int write_queue_create(size_t capacity, size_t batch_max,
                       write_queue_batch_fn fn, void *ctx,
                       uint64_t *full_waits, struct write_queue **out)
{
    if (capacity == 0 || batch_max == 0 || fn == NULL) {
        return -EINVAL;
    }
    struct write_queue *q = calloc(1, sizeof(*q));
    if (q == NULL) {
        return -ENOMEM;
    }
    q->slots = calloc(capacity, sizeof(*q->slots));
    if (q->slots == NULL) {
        free(q);
        return -ENOMEM;
    }
    q->capacity = capacity;
    q->batch_max = batch_max;
    q->batch_fn = fn;
    q->batch_ctx = ctx;
    q->full_waits = full_waits;

    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->has_work, NULL);
    pthread_cond_init(&q->has_space, NULL);
    int ret = pthread_create(&q->thread, NULL, writer_main, q);
    if (ret != 0) {
        pthread_cond_destroy(&q->has_space);
        pthread_cond_destroy(&q->has_work);
        pthread_mutex_destroy(&q->lock);
        free(q->slots);
        free(q);
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
    pthread_cond_destroy(&q->has_space);
    pthread_cond_destroy(&q->has_work);
    pthread_mutex_destroy(&q->lock);
    free(q->slots);
    free(q);
    return ret;
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

static void slot_commit(struct write_queue *q)
{
    q->count++;
    q->pushed++;
    pthread_cond_signal(&q->has_work);
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
    slot_commit(q);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int write_queue_push_seen(struct write_queue *q, const char *scope,
                          const char *client, int64_t last_seen,
                          uint64_t queries)
{
    pthread_mutex_lock(&q->lock);
    struct write_item *item = slot_reserve(q);
    if (item == NULL) {
        int ret = q->error;
        pthread_mutex_unlock(&q->lock);
        return ret;
    }

    item->type = WRITE_ITEM_SEEN;
    copy_text(item->row.scope, sizeof(item->row.scope), scope);
    copy_text(item->row.client, sizeof(item->row.client), client);
    item->row.last_seen = last_seen;
    item->row.query_count = queries;
    item->alert = NULL;
    item->alert_len = 0;
    item->outbox_id = 0;
    slot_commit(q);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

int write_queue_sync(struct write_queue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t target = q->pushed;
    while (q->done < target) {
        pthread_cond_wait(&q->has_space, &q->lock);
    }
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
