/* SPDX-License-Identifier: MIT */
/*
 * sqlite_checkpoint.h - WAL checkpoints on a thread of their own.
 *
 * A checkpoint copies the WAL's pages into the database file and syncs
 * both. By default SQLite runs it on the connection that commits, so it
 * stops the writer thread for its whole length. A 64 MiB WAL took about
 * 0.1 s on the benchmark machine, long enough for the write queue to fill
 * and the packet thread to wait. The checkpointer has its own connection
 * and runs passive checkpoints, which do not block the writer, when a
 * commit leaves more than a set number of pages in the WAL.
 *
 * A passive checkpoint copies only the frames committed when it started,
 * and SQLite starts the WAL over only when a transaction begins with every
 * frame copied. Under a steady stream of commits that moment may not come,
 * so once the checkpointer has finished a pass that left few frames, the
 * writer's next commit over the limit copies them itself.
 *
 * A writer that commits faster than the thread copies never leaves few
 * frames. So from four times the limit on, the writer waits for the pass
 * under way and then copies the rest, whatever its size. The WAL stays
 * under about four times the limit, and the packet thread feels the wait
 * through the write queue.
 */
#pragma once

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite_checkpointer;

/*
 * Open a second connection to @p path, start the thread, and hook the
 * commits of @p writer_db, which replaces its automatic checkpoints. A
 * checkpoint starts when a commit leaves @p pages pages or more in the WAL.
 * @p done counts the passes finished. Returns 0, or a negative error code
 * with a message in @p err.
 */
int sqlite_checkpointer_start(const char *path, sqlite3 *writer_db, int pages,
                              uint64_t *done, struct sqlite_checkpointer **out,
                              char *err, size_t err_size);

/*
 * Stop the thread, remove the hook and close the second connection. A pass
 * under way is abandoned, and the frames it did not copy stay in the WAL.
 * Call it before closing the writer connection. NULL is a no-op.
 */
void sqlite_checkpointer_stop(struct sqlite_checkpointer *cp);

/* Steps of the writer after a commit: the policy above, without the locking. */
enum checkpoint_step {
    CHECKPOINT_STEP_NONE,      /* nothing: under the limit, or a pass is due anyway */
    CHECKPOINT_STEP_REQUEST,   /* wake the thread for a pass */
    CHECKPOINT_STEP_COPY_REST, /* copy the rest of the WAL on the writer's connection */
    CHECKPOINT_STEP_WAIT,      /* wait for the pass under way, then decide again */
};

/* The checkpointer's state at a commit, as the writer reads it. */
struct checkpoint_state {
    int limit;          /* WAL pages from which a checkpoint is due */
    bool running;       /* a pass is under way */
    bool requested;     /* a pass is requested but not started */
    bool pass_finished; /* a pass finished since the writer last copied the rest */
    int copied;         /* frames the last pass left copied */
};

/* Return the step for a commit that left @p pages frames in the WAL. */
enum checkpoint_step checkpoint_step_after_commit(const struct checkpoint_state *st, int pages);
