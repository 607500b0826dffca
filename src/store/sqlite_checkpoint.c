/* SPDX-License-Identifier: MIT */
/*
 * sqlite_checkpoint.c - the checkpointer thread and the writer's commit hook.
 *
 * State, all under cp->lock:
 *   requested  the hook requested a pass the thread has not started;
 *   running    a pass is under way;
 *   passes     passes finished. When it differs from passes_seen (its value
 *              when the writer last copied the rest of the WAL), a pass
 *              has finished since.
 *   copied     frames the last pass left copied. The writer copies the
 *              rest itself only when it is at most a REST_SHARE_MAX-th of
 *              the page limit. Otherwise it would stop for as long as the
 *              thread's pass, and the thread runs another pass instead.
 *
 * When the writer commits faster than the thread copies, the rest never
 * gets that small, and the WAL would grow without end: 1.7 GB on the
 * benchmark's 1M-client alerting run. So from WAL_BOUND_FACTOR times the
 * page limit on, the writer waits for a pass under way and then copies the
 * rest itself, and the packet thread feels it through the write queue.
 */
#include "store/sqlite_checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"

/* The writer copies a rest of at most pages / REST_SHARE_MAX frames itself. */
#define REST_SHARE_MAX 16
/* From this many times the page limit on, the writer copies the rest whatever its size. */
#define WAL_BOUND_FACTOR 4

struct sqlite_checkpointer {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_cond_t pass_done;
    sqlite3 *db;        /* the thread's own connection */
    sqlite3 *writer_db; /* hooked */
    int pages;
    bool requested;
    bool running;
    bool stopping;
    uint64_t passes;
    int copied;
    uint64_t passes_seen; /* used by the hook only, on the writer's thread */
    uint64_t *done;
    int last_error;       /* result of the last failed pass, logged once */
    pthread_t thread;
};

/* One passive pass on the thread's connection, with cp->lock released. */
static void pass_run(struct sqlite_checkpointer *cp)
{
    int copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(cp->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, &copied);
    pthread_mutex_lock(&cp->lock);
    cp->running = false;
    pthread_cond_broadcast(&cp->pass_done);
    if (rc == SQLITE_OK) {
        cp->passes++;
        cp->copied = copied;
        __atomic_fetch_add(cp->done, 1, __ATOMIC_RELAXED);
        cp->last_error = SQLITE_OK;
    } else if (rc != SQLITE_INTERRUPT && rc != cp->last_error) {
        /* The frames stay in the WAL, and the next commit over the limit retries. */
        log_warning("baseline, checkpoint of '%s' failed: %s (the WAL keeps the changes)",
                    sqlite3_db_filename(cp->db, "main"), sqlite3_errmsg(cp->db));
        cp->last_error = rc;
    }
}

static void *checkpointer_main(void *arg)
{
    struct sqlite_checkpointer *cp = arg;
    pthread_mutex_lock(&cp->lock);
    for (;;) {
        while (!cp->requested && !cp->stopping) {
            pthread_cond_wait(&cp->wake, &cp->lock);
        }
        if (cp->stopping) {
            break;
        }
        cp->requested = false;
        cp->running = true;
        pthread_mutex_unlock(&cp->lock);
        pass_run(cp);
    }
    pthread_mutex_unlock(&cp->lock);
    return NULL;
}

enum checkpoint_step checkpoint_step_after_commit(const struct checkpoint_state *st, int pages)
{
    if (pages < st->limit) {
        return CHECKPOINT_STEP_NONE;
    }
    if (pages / WAL_BOUND_FACTOR >= st->limit) {
        return st->running ? CHECKPOINT_STEP_WAIT : CHECKPOINT_STEP_COPY_REST;
    }
    bool pass_finished = !st->running && st->pass_finished;
    if (pass_finished && pages - st->copied <= st->limit / REST_SHARE_MAX) {
        return CHECKPOINT_STEP_COPY_REST;
    }
    return st->running || st->requested ? CHECKPOINT_STEP_NONE : CHECKPOINT_STEP_REQUEST;
}

static struct checkpoint_state state_of(const struct sqlite_checkpointer *cp)
{
    struct checkpoint_state st = {
        .limit = cp->pages,
        .running = cp->running,
        .requested = cp->requested,
        .pass_finished = cp->passes != cp->passes_seen,
        .copied = cp->copied,
    };
    return st;
}

/* Wake the thread, or copy the rest of the WAL, after a commit left @p pages frames. */
static int on_commit(void *ctx, sqlite3 *db, const char *name, int pages)
{
    struct sqlite_checkpointer *cp = ctx;
    if (pages < cp->pages) {
        return SQLITE_OK;
    }

    pthread_mutex_lock(&cp->lock);
    struct checkpoint_state st = state_of(cp);
    enum checkpoint_step step = checkpoint_step_after_commit(&st, pages);
    while (step == CHECKPOINT_STEP_WAIT) {
        pthread_cond_wait(&cp->pass_done, &cp->lock);
        st = state_of(cp);
        step = checkpoint_step_after_commit(&st, pages);
    }
    if (step == CHECKPOINT_STEP_COPY_REST) {
        cp->passes_seen = cp->passes;
    } else if (step == CHECKPOINT_STEP_REQUEST) {
        cp->requested = true;
        pthread_cond_signal(&cp->wake);
    }
    pthread_mutex_unlock(&cp->lock);

    if (step == CHECKPOINT_STEP_COPY_REST) {
        /* Passive: returns at once if the thread has started another pass meanwhile. */
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
    return SQLITE_OK;
}

static void checkpointer_free(struct sqlite_checkpointer *cp)
{
    if (cp->db != NULL) {
        sqlite3_close_v2(cp->db);
    }
    pthread_cond_destroy(&cp->pass_done);
    pthread_cond_destroy(&cp->wake);
    pthread_mutex_destroy(&cp->lock);
    free(cp);
}

static int connection_open(struct sqlite_checkpointer *cp, const char *path,
                           char *err, size_t err_size)
{
    int rc = sqlite3_open_v2(path, &cp->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open a checkpoint connection: %s",
                 cp->db != NULL ? sqlite3_errmsg(cp->db) : sqlite3_errstr(rc));
        return rc == SQLITE_NOMEM ? -ENOMEM : -EIO;
    }
    /* Closing must not checkpoint either: see connection_open() in sqlite_store.c. */
    sqlite3_db_config(cp->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /*
     * A connection opens the WAL at its first read. Until then a checkpoint
     * finds no WAL and returns at once, having copied nothing.
     */
    rc = sqlite3_exec(cp->db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot read through the checkpoint connection: %s",
                 sqlite3_errmsg(cp->db));
        return -EIO;
    }
    return 0;
}

int sqlite_checkpointer_start(const char *path, sqlite3 *writer_db, int pages,
                              uint64_t *done, struct sqlite_checkpointer **out,
                              char *err, size_t err_size)
{
    *out = NULL;
    struct sqlite_checkpointer *cp = calloc(1, sizeof(*cp));
    if (cp == NULL) {
        return -ENOMEM;
    }
    pthread_mutex_init(&cp->lock, NULL);
    pthread_cond_init(&cp->wake, NULL);
    pthread_cond_init(&cp->pass_done, NULL);
    cp->writer_db = writer_db;
    cp->pages = pages;
    cp->done = done;

    int ret = connection_open(cp, path, err, err_size);
    if (ret == 0) {
        ret = -pthread_create(&cp->thread, NULL, checkpointer_main, cp);
        if (ret != 0) {
            snprintf(err, err_size, "cannot start the checkpoint thread");
        }
    }
    if (ret != 0) {
        checkpointer_free(cp);
        return ret;
    }
    sqlite3_wal_hook(writer_db, on_commit, cp);
    *out = cp;
    return 0;
}

void sqlite_checkpointer_stop(struct sqlite_checkpointer *cp)
{
    if (cp == NULL) {
        return;
    }
    sqlite3_wal_hook(cp->writer_db, NULL, NULL);

    pthread_mutex_lock(&cp->lock);
    cp->stopping = true;
    if (cp->running) {
        sqlite3_interrupt(cp->db);
    }
    pthread_cond_signal(&cp->wake);
    pthread_mutex_unlock(&cp->lock);
    pthread_join(cp->thread, NULL);
    checkpointer_free(cp);
}
