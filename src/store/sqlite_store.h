/* SPDX-License-Identifier: MIT */
/*
 * sqlite_store.h - the baseline store in one SQLite file.
 *
 * A baseline file is an SQLite database in WAL mode whose header carries
 * application_id SQLITE_STORE_APPLICATION_ID and user_version
 * SQLITE_STORE_SCHEMA_VERSION. Opening never creates tables in, rewrites or
 * repairs a file that already contains data of another kind or version, with
 * one exception: a READ_WRITE open upgrades a file of an older schema
 * version. It adds the client_changes table to version 1, dnsfirst's first
 * format, and the base and scopes columns of client_changes to version 2.
 *
 * Writes go to client_changes first and are merged into clients when the
 * writer is idle and before every operation that reads or deletes clients
 * (load, list, stats, forget, prune_flagged, import). A READ_ONLY open
 * cannot merge: its list and stats read clients with the change log laid
 * over it in a temporary table, so they show the same rows.
 *
 * One process at a time may open a file READ_WRITE: it holds an exclusive
 * flock() on the database file until close. READ_ONLY opens take no such
 * lock, so `list` and `stats` work while `run` is writing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define SQLITE_STORE_APPLICATION_ID 0x646e7366 /* "dnsf" */
#define SQLITE_STORE_SCHEMA_VERSION 3

#define SQLITE_STORE_BATCH_DEFAULT 1000
#define SQLITE_STORE_QUEUE_DEFAULT 10000

enum sqlite_store_mode {
    /* run, import, forget, prune: creates a missing file, starts a writer. */
    SQLITE_STORE_READ_WRITE = 0,
    /* list, stats, export: a missing file is DF_ENOTFOUND, submits fail. */
    SQLITE_STORE_READ_ONLY = 1,
};

struct sqlite_store_options {
    uint32_t batch_max;      /* rows per transaction, 0 for the default */
    uint32_t queue_max;      /* queued writes, 0 for the default */
    int busy_timeout_ms;     /* wait for SQLite locks, 0 for 1000 ms */
    bool skip_quick_check;   /* skip PRAGMA quick_check at open */
    /* Changes not merged yet past which every batch merges as many; 0 for 4194304. */
    uint64_t changes_pending_max;
    /* WAL pages after a commit that start a checkpoint, 0 for those of 64 MiB. */
    int checkpoint_pages;
};

/*
 * Open the baseline at @p path with default options. Same as
 * sqlite_store_open_with(path, mode, NULL, out, NULL, 0).
 */
int sqlite_store_open(const char *path, enum sqlite_store_mode mode,
                      struct store **out);

/*
 * Open the baseline at @p path. @p opts may be NULL. On failure writes the
 * reason, with SQLite's own message where there is one, into @p err (may be
 * NULL) and returns:
 *   DF_ENOTFOUND        READ_ONLY and the file, or the directory, is missing
 *   DF_ESTORE_CORRUPT   not an SQLite database, or PRAGMA quick_check failed
 *   DF_ESTORE_LOCKED    another process has it open READ_WRITE, or SQLite
 *                       stayed busy past the timeout
 *   DF_ESTORE_READONLY  READ_WRITE, but the file or its directory is not
 *                       writable
 *   DF_ESTORE_VERSION   the database belongs to another program or has a
 *                       newer schema
 *   -ENOMEM, -errno, DF_ESTORE for other failures.
 * On success the caller owns *out, sets (*out)->alert_fn and alert_ctx
 * before the first submit, and frees it with (*out)->ops->close().
 */
int sqlite_store_open_with(const char *path, enum sqlite_store_mode mode,
                           const struct sqlite_store_options *opts,
                           struct store **out, char *err, size_t err_size);

/*
 * Return the reason for the last failure of @p st, such as SQLite's message
 * for a failed commit, or "" when there was none. Call it after an operation
 * or sync() returned an error: the writer thread may overwrite the text.
 */
const char *sqlite_store_last_error(struct store *st);

/* Count the recorded writes not yet merged into the clients table. */
int sqlite_store_changes_pending(struct store *st, uint64_t *count);
