/* SPDX-License-Identifier: MIT */
/*
 * sqlite_store.c - the baseline store in one SQLite file.
 *
 * Invariants:
 *   1. A file is changed only after it proved to be ours (application_id and
 *      a supported user_version) or to be an empty database. Anything else
 *      is rejected with a code and the file is left as it was.
 *   2. One process writes: READ_WRITE holds flock(LOCK_EX) on the database
 *      file from open to close. flock() locks are separate from the POSIX
 *      record locks SQLite takes, and the kernel drops them when the process
 *      dies, even by SIGKILL, so a crashed run never leaves a stale lock.
 *      NOTE: on NFS, Linux emulates flock() with POSIX locks, which would
 *      then mix with SQLite's own; SQLite advises against NFS anyway.
 *   3. Alerts leave only after commit. A batch writes its rows and its
 *      alerts (into outbox) in one transaction, calls alert_fn for each
 *      alert after COMMIT returned, and then deletes those outbox rows in a
 *      second statement. A crash between the two repeats alerts on the next
 *      start (replay_outbox), so delivery is at least once.
 *   4. One thread at a time uses the connection and its prepared
 *      statements: s->db_lock is held around every use, by the writer thread
 *      for a batch and by the caller's thread for the other operations.
 *
 * Durability: WAL with synchronous=NORMAL. A commit has written its frames
 * to the WAL file (into the kernel's page cache) before COMMIT returns, so
 * it survives the death of the process, including SIGKILL. Only an OS crash
 * or power loss can roll back the last transactions. Then the client's row
 * is gone with its outbox entry, so the client is detected as new again and
 * its alert repeats: a duplicate, never a lost alert. FULL would add an
 * fsync per batch without changing that outcome.
 */
#include "store/sqlite_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/sqlite_checkpoint.h"
#include "store/write_queue.h"
#include "util/addr.h"
#include "util/error.h"
#include "util/log.h"

#define BUSY_TIMEOUT_DEFAULT_MS 1000
#define MMAP_SIZE_TEXT "1073741824" /* 1 GiB of address space, not memory */

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE clients("
    " scope TEXT NOT NULL,"
    " client TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL,"
    " last_seen INTEGER NOT NULL,"
    " query_count INTEGER NOT NULL DEFAULT 0,"
    " flags INTEGER NOT NULL DEFAULT 0,"
    " first_query TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY(scope, client)) WITHOUT ROWID;"
    "CREATE TABLE scopes(scope TEXT PRIMARY KEY, start INTEGER NOT NULL);"
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, alert TEXT NOT NULL);"
    CLIENT_CHANGES_SQL;

/* A NEW row replaces an existing (expired) row of the same client whole. */
static const char client_new_sql[] =
    "INSERT INTO clients(scope, client, first_seen, last_seen, query_count,"
    " flags, first_query) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT(scope, client) DO UPDATE SET"
    " first_seen = excluded.first_seen, last_seen = excluded.last_seen,"
    " query_count = excluded.query_count, flags = excluded.flags,"
    " first_query = excluded.first_query";

static const char client_seen_sql[] =
    "UPDATE clients SET last_seen = max(last_seen, ?3),"
    " query_count = query_count + ?4 WHERE scope = ?1 AND client = ?2";

/* In DO UPDATE SET, bare column names are the old row's values. */
static const char client_merge_sql[] =
    "INSERT INTO clients(scope, client, first_seen, last_seen, query_count,"
    " flags, first_query) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    " ON CONFLICT(scope, client) DO UPDATE SET"
    " first_seen = min(first_seen, excluded.first_seen),"
    " last_seen = max(last_seen, excluded.last_seen),"
    " query_count = max(query_count, excluded.query_count),"
    " flags = CASE WHEN excluded.first_seen < first_seen"
    " THEN excluded.flags ELSE flags END,"
    " first_query = CASE WHEN excluded.first_seen < first_seen"
    " THEN excluded.first_query ELSE first_query END";


/*
 * The generation counts the transactions that changed clients or scopes, so
 * that a snapshot of the client table can tell whether it still matches.
 * It starts at a random value: a database made anew at the same path does
 * not repeat the generations of the one it replaced.
 */
static const char generation_bump_sql[] =
    "UPDATE meta SET value = value + 1 WHERE key = 'generation'";
static const char generation_init_sql[] =
    "INSERT OR IGNORE INTO meta(key, value)"
    " VALUES('generation', random() & 0x3fffffffffffffff)";


static int code_from_errno(int err)
{
    switch (err) {
    case EACCES:
    case EPERM:
    case EROFS:
        return DF_ESTORE_READONLY;
    case ENOENT:
        return DF_ENOTFOUND;
    default:
        return -err;
    }
}

static int generation_bump(struct sqlite_store *s)
{
    return stmt_run(s, s->stmt.generation_bump, "counting a change");
}

/* Open a transaction that changes clients or scopes. */
static int change_begin(struct sqlite_store *s)
{
    return stmt_run(s, s->stmt.begin, "BEGIN");
}

/* Bump the generation and commit when @p ret is 0, else roll back. */
static int change_end(struct sqlite_store *s, int ret)
{
    if (ret == 0) {
        ret = generation_bump(s);
    }
    if (ret == 0) {
        ret = stmt_run(s, s->stmt.commit, "COMMIT");
    }
    if (ret != 0) {
        rollback_if_open(s);
    }
    return ret;
}

/*
 * Opening: lock, open, check that the file is ours, then set it up.
 */

/*
 * Take the writer lock, creating the file when it is missing. Sets
 * *created so that a failed open can remove the file it created.
 */
static int writer_lock_take(struct sqlite_store *s, const char *path,
                            bool *created)
{
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    *created = s->lock_fd >= 0;
    if (s->lock_fd < 0 && errno == EEXIST) {
        s->lock_fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (s->lock_fd < 0) {
        int err = errno;
        error_set(s, "cannot open for writing: %s", strerror(err));
        return code_from_errno(err);
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        if (err == EWOULDBLOCK) {
            error_set(s, "another dnsfirst process has it open for writing");
            return DF_ESTORE_LOCKED;
        }
        error_set(s, "cannot lock: %s", strerror(err));
        return -err;
    }
    return 0;
}

/* SQLite creates PATH-wal and PATH-shm next to the file in WAL mode. */
static int directory_check_writable(struct sqlite_store *s, const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", path);
    const char *dir = dirname(copy);
    if (access(dir, W_OK) != 0) {
        int err = errno;
        error_set(s, "directory '%s' is not writable (%s), and SQLite must "
                  "create its -wal and -shm files there", dir, strerror(err));
        return code_from_errno(err);
    }
    return 0;
}

static int connection_open(struct sqlite_store *s, const char *path,
                           int busy_timeout_ms)
{
    int flags = SQLITE_OPEN_NOMUTEX;
    if (s->mode == SQLITE_STORE_READ_WRITE) {
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    } else {
        flags |= SQLITE_OPEN_READONLY;
    }

    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        if (s->db == NULL) {
            error_set(s, "cannot open: %s", sqlite3_errstr(rc));
            return -ENOMEM;
        }
        return sqlite_fail(s, rc, "open");
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, busy_timeout_ms);

    /*
     * Closing the last connection would copy the WAL into the database and
     * sync both: 120 ms of a 270 ms run on the 1M-packet benchmark capture
     * (strace, 2-core VM). The WAL is as durable as the database, so it
     * stays for the next writer, whose checkpoint thread copies it once a
     * commit leaves WAL_CHECKPOINT_BYTES or more.
     */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    return 0;
}

struct file_identity {
    int64_t application_id;
    int64_t user_version;
    int64_t objects; /* tables, indexes, views and triggers */
};

/* Read the header fields and schema size; the first read of the file. */
static int identity_read(struct sqlite_store *s, struct file_identity *id)
{
    int ret = query_int64(s, "PRAGMA application_id", &id->application_id);
    if (ret == DF_ESTORE_CORRUPT) {
        error_set(s, "not an SQLite database: %s", sqlite3_errmsg(s->db));
    }
    if (ret == 0) {
        ret = query_int64(s, "PRAGMA user_version", &id->user_version);
    }
    if (ret == 0) {
        ret = query_int64(s, "SELECT count(*) FROM sqlite_master", &id->objects);
    }
    return ret;
}

/*
 * Decide whether the file is a baseline this program reads (returns 0 with
 * *is_empty false), an empty database (0 with *is_empty true) or something
 * else (DF_ESTORE_VERSION).
 */
static int identity_check(struct sqlite_store *s, const struct file_identity *id,
                          bool *is_empty)
{
    *is_empty = id->application_id == 0 && id->user_version == 0 &&
                id->objects == 0;
    if (*is_empty) {
        return 0;
    }

    if (id->application_id != SQLITE_STORE_APPLICATION_ID) {
        error_set(s, "the database belongs to another program "
                  "(application_id 0x%08" PRIx64 ", dnsfirst uses 0x%08x); "
                  "choose another state file", (uint64_t)id->application_id,
                  SQLITE_STORE_APPLICATION_ID);
        return DF_ESTORE_VERSION;
    }
    if (id->user_version > SQLITE_STORE_SCHEMA_VERSION) {
        error_set(s, "schema version %" PRId64 " is newer than version %d, "
                  "the newest this dnsfirst reads; use a newer dnsfirst",
                  id->user_version, SQLITE_STORE_SCHEMA_VERSION);
        return DF_ESTORE_VERSION;
    }
    if (id->user_version < 1) {
        error_set(s, "schema version %" PRId64 " is not supported",
                  id->user_version);
        return DF_ESTORE_VERSION;
    }
    return 0;
}

/*
 * NOTE: quick_check reads the whole file: about 1.5 s for 10 million rows
 * (680 MB) on a 2-core VM, one measurement. skip_quick_check avoids it.
 */
static int integrity_check(struct sqlite_store *s)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return sqlite_fail(s, rc, "PRAGMA quick_check");
    }

    int ret = 0;
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        ret = sqlite_fail(s, rc, "PRAGMA quick_check");
    } else {
        const char *result = (const char *)sqlite3_column_text(stmt, 0);
        if (result == NULL || strcmp(result, "ok") != 0) {
            error_set(s, "PRAGMA quick_check found damage: %s",
                      result != NULL ? result : "(no result)");
            ret = DF_ESTORE_CORRUPT;
        }
    }
    sqlite3_finalize(stmt);
    return ret;
}

/*
 * Page size of a new baseline. The writer appends batches of changes, and
 * a WAL of 16 KiB pages has a quarter of the frames, each with its header
 * and checksum, of one of 4 KiB pages. On the 10M-packet benchmark capture
 * `run --learn` took 1.08 to 1.13 s instead of 1.12 to 1.25 s (medians of
 * 10 hyperfine runs in two batches, 2-core VM), and `baseline stats`,
 * `list` and a load of all rows took the same time. A file keeps the page
 * size it was created with.
 */
#define NEW_FILE_PAGE_SIZE "16384"

/*
 * Create the tables and stamp the header, in one transaction, after
 * wal_enable() so that it is a WAL commit: in rollback mode it cost four
 * more fdatasync() calls.
 */
static int schema_create(struct sqlite_store *s)
{
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "BEGIN IMMEDIATE;%s"
             "INSERT INTO meta(key, value) VALUES('schema_version', %d);"
             "PRAGMA application_id = %d;"
             "PRAGMA user_version = %d;"
             "COMMIT;",
             schema_sql, SQLITE_STORE_SCHEMA_VERSION,
             SQLITE_STORE_APPLICATION_ID, SQLITE_STORE_SCHEMA_VERSION);

    int ret = exec_sql(s, sql, "creating the schema");
    if (ret != 0 && !sqlite3_get_autocommit(s->db)) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return ret;
}

/*
 * Add what an older schema version lacks: the client_changes table
 * (version 1), or its base and scopes columns (version 2).
 */
static int schema_upgrade(struct sqlite_store *s)
{
    if (s->schema_version >= SQLITE_STORE_SCHEMA_VERSION) {
        return 0;
    }
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "BEGIN IMMEDIATE;%s"
             "UPDATE meta SET value = %d WHERE key = 'schema_version';"
             "PRAGMA user_version = %d;"
             "COMMIT;",
             s->schema_version < 2 ? CLIENT_CHANGES_SQL : CLIENT_CHANGES_V3_COLUMNS_SQL,
             SQLITE_STORE_SCHEMA_VERSION, SQLITE_STORE_SCHEMA_VERSION);
    int ret = exec_sql(s, sql, "upgrading the schema");
    if (ret != 0 && !sqlite3_get_autocommit(s->db)) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (ret == 0) {
        log_notice("baseline, upgraded '%s' from schema version %d to %d; older dnsfirst "
                   "releases cannot open it now", sqlite3_db_filename(s->db, "main"),
                   (int)s->schema_version, SQLITE_STORE_SCHEMA_VERSION);
        s->schema_version = SQLITE_STORE_SCHEMA_VERSION;
    }
    return ret;
}

static int wal_enable(struct sqlite_store *s)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &stmt,
                                NULL);
    if (rc != SQLITE_OK) {
        return sqlite_fail(s, rc, "PRAGMA journal_mode");
    }

    int ret = 0;
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        ret = sqlite_fail(s, rc, "PRAGMA journal_mode");
    } else {
        const char *mode = (const char *)sqlite3_column_text(stmt, 0);
        if (mode == NULL || strcmp(mode, "wal") != 0) {
            error_set(s, "cannot switch to WAL mode (journal mode stays '%s')",
                      mode != NULL ? mode : "");
            ret = DF_ESTORE;
        }
    }
    sqlite3_finalize(stmt);
    if (ret == 0) {
        ret = exec_sql(s, "PRAGMA synchronous = NORMAL", "PRAGMA synchronous");
    }
    return ret;
}

/*
 * Checkpoint the WAL once it contains WAL_CHECKPOINT_BYTES instead of at
 * SQLite's default of 1000 pages (4 MiB with 4 KiB pages). A checkpoint
 * copies each page once however often the WAL rewrote it, and syncs the WAL
 * and the database. A run that records many clients rewrites the same leaf
 * pages batch after batch. On 2.2M packets with 100,000 new clients, the
 * default made 150 fdatasync calls taking 1.2 s in all, and this setting
 * 30 taking 0.5 s, with 20% fewer pwrite calls (strace -c -w, one run
 * each, 2-core VM). The checkpoints run on their own thread (sqlite_checkpoint.h).
 * SQLite cuts the WAL file back to WAL_SIZE_LIMIT bytes when it starts over.
 */
#define WAL_CHECKPOINT_BYTES ((int64_t)64 << 20)
#define WAL_SIZE_LIMIT "67108864"

/* Pages of this file that make WAL_CHECKPOINT_BYTES. */
static int checkpoint_pages_get(struct sqlite_store *s, int *pages)
{
    int64_t page_size = 0;
    int ret = query_int64(s, "PRAGMA page_size", &page_size);
    if (ret == 0) {
        *pages = (int)(WAL_CHECKPOINT_BYTES / (page_size > 0 ? page_size : 4096));
    }
    return ret;
}

static int writer_pragmas_set(struct sqlite_store *s)
{
    return exec_sql(s, "PRAGMA journal_size_limit = " WAL_SIZE_LIMIT,
                    "PRAGMA journal_size_limit");
}

static int database_check(struct sqlite_store *s, bool quick_check,
                          bool *is_empty)
{
    struct file_identity id = { 0 };
    int ret = identity_read(s, &id);
    if (ret != 0) {
        return ret;
    }
    ret = identity_check(s, &id, is_empty);
    if (ret != 0) {
        return ret;
    }
    s->schema_version = *is_empty ? SQLITE_STORE_SCHEMA_VERSION : id.user_version;
    if (*is_empty && s->mode == SQLITE_STORE_READ_ONLY) {
        error_set(s, "the file contains no baseline yet");
        return DF_ESTORE_CORRUPT;
    }
    if (!*is_empty && quick_check) {
        ret = integrity_check(s);
    }
    return ret;
}

/* SQL function dnsfirst_covers(client): does the client key overlap the forget target? */
static void covers_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct sqlite_store *s = sqlite3_user_data(ctx);
    const char *text = (const char *)sqlite3_value_text(argv[0]);
    struct prefix client;
    (void)argc;

    if (!s->forget_target_valid || text == NULL ||
        prefix_parse(text, &client) != 0) {
        sqlite3_result_int(ctx, 0);
        return;
    }
    const struct prefix *target = &s->forget_target;
    bool covers = (client.len <= target->len &&
                   prefix_contains(&client, &target->addr)) ||
                  (target->len <= client.len &&
                   prefix_contains(target, &client.addr));
    sqlite3_result_int(ctx, covers);
}

static int statements_prepare(struct sqlite_store *s)
{
    static const struct {
        size_t offset;
        const char *sql;
    } table[] = {
        { offsetof(struct statements, begin), "BEGIN IMMEDIATE" },
        { offsetof(struct statements, commit), "COMMIT" },
        { offsetof(struct statements, rollback), "ROLLBACK" },
        { offsetof(struct statements, client_new), client_new_sql },
        { offsetof(struct statements, client_seen), client_seen_sql },
        { offsetof(struct statements, client_merge), client_merge_sql },
        { offsetof(struct statements, outbox_add),
          "INSERT INTO outbox(alert) VALUES(?1)" },
        { offsetof(struct statements, outbox_clear), "DELETE FROM outbox" },
        { offsetof(struct statements, outbox_drop),
          "DELETE FROM outbox WHERE id <= ?1" },
        { offsetof(struct statements, scope_get),
          "SELECT start FROM scopes WHERE scope = ?1" },
        { offsetof(struct statements, scope_set),
          "INSERT INTO scopes(scope, start) VALUES(?1, ?2)"
          " ON CONFLICT(scope) DO UPDATE SET start = excluded.start" },
        { offsetof(struct statements, generation_bump), generation_bump_sql },
        { offsetof(struct statements, change_add), sqlite_change_add_sql },
        { offsetof(struct statements, changes_sorted), sqlite_changes_sorted_sql },
        { offsetof(struct statements, changes_drop),
          "DELETE FROM client_changes WHERE id <= ?1" },
    };

    /*
     * Only a read-only connection opens a file of an older version, and it
     * never appends to or merges the change log. So the change log's
     * statements, which need the columns of version 3, are left out.
     */
    size_t count = sizeof(table) / sizeof(table[0]);
    if (s->schema_version < SQLITE_STORE_SCHEMA_VERSION) {
        count -= 3;
    }
    for (size_t i = 0; i < count; i++) {
        sqlite3_stmt **slot =
            (sqlite3_stmt **)((char *)&s->stmt + table[i].offset);
        int rc = sqlite3_prepare_v3(s->db, table[i].sql, -1,
                                    SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc != SQLITE_OK) {
            return sqlite_fail(s, rc, table[i].sql);
        }
    }

    /* DIRECTONLY: the function cannot run from a trigger or view in the file. */
    int rc = sqlite3_create_function(s->db, "dnsfirst_covers", 1,
                                     SQLITE_UTF8 | SQLITE_DIRECTONLY, s,
                                     covers_fn, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_fail(s, rc, "registering a function");
}

static void statements_finalize(struct statements *stmt)
{
    sqlite3_stmt **all = (sqlite3_stmt **)stmt;
    for (size_t i = 0; i < sizeof(*stmt) / sizeof(all[0]); i++) {
        sqlite3_finalize(all[i]);
        all[i] = NULL;
    }
}

/*
 * Writer thread: one transaction per batch, then the batch's alerts.
 */


/* Queue the alert of @p item in the outbox and note its row id. */
static int item_alert_write(struct sqlite_store *s, struct write_item *item)
{
    sqlite3_stmt *stmt = s->stmt.outbox_add;
    sqlite3_bind_text(stmt, 1, item->alert, (int)item->alert_len, SQLITE_STATIC);
    int ret = stmt_run(s, stmt, "queueing an alert");
    item->outbox_id = sqlite3_last_insert_rowid(s->db);
    return ret;
}


/*
 * Write a batch in one transaction: the client writes appended to
 * client_changes, then the alerts into the outbox, both in queue order, so
 * that outbox ids grow in the order batch_alerts_write() delivers them.
 * Keeps the first error, like a rc chain.
 */
static int batch_write(struct sqlite_store *s, struct write_item *items,
                       size_t count)
{
    int ret = stmt_run(s, s->stmt.begin, "BEGIN");
    ret = ret == 0 ? generation_bump(s) : ret;
    for (size_t i = 0; ret == 0 && i < count; i += CHANGES_PER_ROW) {
        size_t n = count - i < CHANGES_PER_ROW ? count - i : CHANGES_PER_ROW;
        ret = sqlite_changes_append(s, &items[i], n);
    }
    for (size_t i = 0; ret == 0 && i < count; i++) {
        if (items[i].alert != NULL) {
            ret = item_alert_write(s, &items[i]);
        }
    }
    if (ret == 0) {
        ret = stmt_run(s, s->stmt.commit, "COMMIT");
    }
    if (ret != 0) {
        rollback_if_open(s);
    }
    return ret;
}


/* Delete outbox rows up to @p last_id, whose alerts were written. */
static int outbox_drop(struct sqlite_store *s, int64_t last_id)
{
    pthread_mutex_lock(&s->db_lock);
    sqlite3_bind_int64(s->stmt.outbox_drop, 1, last_id);
    int ret = stmt_run(s, s->stmt.outbox_drop, "deleting written alerts");
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

/* Delete every outbox row; see batch_alerts_write() for when that is right. */
static int outbox_clear(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->db_lock);
    int ret = stmt_run(s, s->stmt.outbox_clear, "deleting written alerts");
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

static int alert_deliver(struct sqlite_store *s, const char *alert, size_t len)
{
    if (s->base.alert_fn == NULL) {
        return 0;
    }
    int ret = s->base.alert_fn(s->base.alert_ctx, alert, len);
    if (ret != 0) {
        error_set(s, "writing an alert failed (%s); it stays in the outbox "
                  "for the next start", df_strerror(ret < 0 ? ret : DF_EOUTPUT));
        return ret < 0 ? ret : DF_EOUTPUT;
    }
    return 0;
}

/* Hand the committed alerts of a batch to alert_fn, in order. */
static int batch_alerts_write(struct sqlite_store *s, struct write_item *items,
                              size_t count)
{
    int ret = 0;
    int64_t written_id = 0;
    for (size_t i = 0; ret == 0 && i < count; i++) {
        if (items[i].alert == NULL) {
            continue;
        }
        ret = alert_deliver(s, items[i].alert, items[i].alert_len);
        if (ret == 0) {
            written_id = items[i].outbox_id;
            __atomic_fetch_add(&s->base.counters.alerts_written, 1,
                               __ATOMIC_RELAXED);
        }
    }

    /*
     * Only this thread adds to the outbox, and a batch's rows got the largest
     * ids, so when every alert was written no row above written_id exists.
     * DELETE without WHERE then frees whole pages instead of deleting row by
     * row (SQLite's truncate optimization). On a capture with 82,171 alerts
     * that took 19% off the writer thread's instructions (callgrind, one run).
     */
    if (written_id > 0) {
        int drop_ret = ret == 0 ? outbox_clear(s) : outbox_drop(s, written_id);
        ret = ret != 0 ? ret : drop_ret;
    }
    return ret;
}

static int batch_commit(void *ctx, struct write_item *items, size_t count)
{
    struct sqlite_store *s = ctx;

    pthread_mutex_lock(&s->db_lock);
    int ret = batch_write(s, items, count);
    if (ret == 0) {
        s->changes_pending += count;
    }
    bool merge_now = s->changes_pending > s->changes_pending_max;
    pthread_mutex_unlock(&s->db_lock);
    if (ret != 0) {
        return ret;
    }

    __atomic_fetch_add(&s->base.counters.rows_committed, count, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->base.counters.transactions, 1, __ATOMIC_RELAXED);
    ret = batch_alerts_write(s, items, count);
    if (ret == 0 && merge_now) {
        size_t merged = 0;
        pthread_mutex_lock(&s->db_lock);
        ret = sqlite_changes_merge(s, (int64_t)((count + CHANGES_PER_ROW - 1) / CHANGES_PER_ROW),
                                  &merged);
        pthread_mutex_unlock(&s->db_lock);
    }
    return ret;
}

/*
 * Operations of struct store_ops.
 */

static int submit(struct store *st, const struct store_change *change,
                  const char *alert_json, size_t alert_len)
{
    struct sqlite_store *s = store_of(st);
    if (s->queue == NULL) {
        return DF_ESTORE_READONLY;
    }
    return write_queue_push(s->queue, change, alert_json, alert_len);
}

static int store_sync(struct store *st)
{
    struct sqlite_store *s = store_of(st);
    if (s->queue == NULL) {
        return 0;
    }
    return write_queue_sync(s->queue);
}

static int scope_start_get(struct store *st, const char *scope, int64_t *start)
{
    struct sqlite_store *s = store_of(st);
    sqlite3_stmt *stmt = s->stmt.scope_get;

    pthread_mutex_lock(&s->db_lock);
    sqlite3_bind_text(stmt, 1, scope, -1, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        *start = sqlite3_column_int64(stmt, 0);
    } else if (rc == SQLITE_DONE) {
        ret = DF_ENOTFOUND;
    } else {
        ret = sqlite_fail(s, rc, "reading a scope start");
    }
    sqlite3_reset(stmt);
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

static int scope_start_set(struct store *st, const char *scope, int64_t start)
{
    struct sqlite_store *s = store_of(st);
    sqlite3_stmt *stmt = s->stmt.scope_set;

    pthread_mutex_lock(&s->db_lock);
    sqlite3_bind_text(stmt, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, start);
    int ret = change_begin(s);
    ret = change_end(s, ret == 0 ? stmt_run(s, stmt, "writing a scope start") : ret);
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

/* Fill what detection needs from "SELECT scope, client, last_seen, flags". */
static void row_fill_load(sqlite3_stmt *stmt, struct store_client *row)
{
    column_copy(stmt, 0, row->scope, sizeof(row->scope));
    column_copy(stmt, 1, row->client, sizeof(row->client));
    row->last_seen = sqlite3_column_int64(stmt, 2);
    row->flags = (uint32_t)sqlite3_column_int64(stmt, 3);
}

typedef void (*row_fill_fn)(sqlite3_stmt *stmt, struct store_client *row);


/* Run @p sql_format with the table or view of current clients in place of its %s. */
static int clients_walk(struct sqlite_store *s, const char *sql_format,
                        row_fill_fn fill, store_client_fn fn, void *ctx)
{
    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&s->db_lock);
    const char *source = NULL;
    int ret = sqlite_clients_prepare_read(s, &source);
    int rc = SQLITE_OK;
    char sql[2048];
    if (ret == 0) {
        snprintf(sql, sizeof(sql), sql_format, source);
        rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    }
    if (rc != SQLITE_OK) {
        ret = sqlite_fail(s, rc, "reading clients");
    }
    if (ret != 0) {
        pthread_mutex_unlock(&s->db_lock);
        return ret;
    }

    /* One row buffer for the whole walk: no allocation per row. */
    struct store_client row;
    memset(&row, 0, sizeof(row));
    while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        fill(stmt, &row);
        ret = fn(ctx, &row);
    }
    if (ret == 0 && rc != SQLITE_DONE) {
        ret = sqlite_fail(s, rc, "reading clients");
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

/*
 * Set how much of the file SQLite reads through mmap(). Reading pages
 * through a map instead of read() copies cut a load of 10 million rows by
 * about a third (measured on a 2-core VM), so a load turns it on. Otherwise
 * pages go through SQLite's own page cache, which is bounded: mapped pages
 * stay resident in the process as the baseline grows (about 60 bytes per
 * client, measured on 1 million new clients). SQLite caps the size at its
 * compile-time SQLITE_MAX_MMAP_SIZE.
 */
static void mmap_size_set(struct sqlite_store *s, const char *pragma)
{
    pthread_mutex_lock(&s->db_lock);
    sqlite3_exec(s->db, pragma, NULL, NULL, NULL);
    pthread_mutex_unlock(&s->db_lock);
}

/*
 * Every column read costs time: with all six numeric and key columns, a
 * load of 10 million rows took 1.8 s of CPU on a 2-core VM, with these four
 * 1.45 s (estimates from one run each).
 */
static int store_load(struct store *st, store_client_fn fn, void *ctx)
{
    mmap_size_set(store_of(st), "PRAGMA mmap_size = " MMAP_SIZE_TEXT);
    int ret = clients_walk(store_of(st),
                           "SELECT scope, client, last_seen, flags FROM %s",
                           row_fill_load, fn, ctx);
    mmap_size_set(store_of(st), "PRAGMA mmap_size = 0");
    return ret;
}

/*
 * The baseline's generation; DF_ENOTFOUND when the file has none (opened
 * read-only, and written by a version that kept none).
 */
static int store_generation(struct store *st, uint64_t *out)
{
    struct sqlite_store *s = store_of(st);
    sqlite3_stmt *stmt = NULL;

    pthread_mutex_lock(&s->db_lock);
    int rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'generation'",
                                -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    int ret = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) == SQLITE_INTEGER) {
        *out = (uint64_t)sqlite3_column_int64(stmt, 0);
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        ret = DF_ENOTFOUND;
    } else {
        ret = sqlite_fail(s, rc, "reading the generation");
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

static int store_list(struct store *st, store_client_fn fn, void *ctx)
{
    return clients_walk(store_of(st),
                        "SELECT scope, client, first_seen, last_seen,"
                        " query_count, flags, first_query FROM %s"
                        " ORDER BY scope, client",
                        client_row_read, fn, ctx);
}

static int store_stats(struct store *st, struct store_stats *out)
{
    struct sqlite_store *s = store_of(st);
    sqlite3_stmt *stmt = NULL;

    pthread_mutex_lock(&s->db_lock);
    const char *source = NULL;
    int prepare_ret = sqlite_clients_prepare_read(s, &source);
    if (prepare_ret != 0) {
        pthread_mutex_unlock(&s->db_lock);
        return prepare_ret;
    }
    char sql[2048];
    snprintf(sql, sizeof(sql),
             "SELECT count(*), count(DISTINCT scope), total((flags & 3) = 1),"
             " min(first_seen), max(last_seen), (SELECT count(*) FROM outbox),"
             " total((flags & 2) != 0) FROM %s", source);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }

    int ret = 0;
    if (rc == SQLITE_ROW) {
        out->clients = (uint64_t)sqlite3_column_int64(stmt, 0);
        out->scopes = (uint64_t)sqlite3_column_int64(stmt, 1);
        out->learned = (uint64_t)sqlite3_column_double(stmt, 2);
        out->oldest_first_seen = sqlite3_column_int64(stmt, 3);
        out->newest_last_seen = sqlite3_column_int64(stmt, 4);
        out->outbox = (uint64_t)sqlite3_column_int64(stmt, 5);
        out->storm = (uint64_t)sqlite3_column_double(stmt, 6);
    } else {
        ret = sqlite_fail(s, rc, "reading statistics");
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

/* Run one DELETE with an optional text or integer parameter; count rows. */
static int delete_run(struct sqlite_store *s, const char *sql, const char *text,
                      int64_t number, uint64_t *removed)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return sqlite_fail(s, rc, "deleting clients");
    }
    if (text != NULL) {
        sqlite3_bind_text(stmt, 1, text, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_int64(stmt, 1, number);
    }

    rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_DONE) {
        *removed = (uint64_t)sqlite3_changes64(s->db);
    } else {
        ret = sqlite_fail(s, rc, "deleting clients");
    }
    sqlite3_finalize(stmt);
    return ret;
}

/* delete_run() in a transaction of its own that bumps the generation. */
static int delete_counted(struct sqlite_store *s, const char *sql, const char *text,
                          int64_t number, uint64_t *removed)
{
    int ret = sqlite_changes_merge_all(s);
    if (ret != 0) {
        return ret;
    }
    ret = change_begin(s);
    if (ret == 0) {
        ret = delete_run(s, sql, text, number, removed);
    }
    return change_end(s, ret);
}

/*
 * Remove the rows whose client key is @p address, contains it, or (for a
 * prefix argument) lies inside it.
 */
static int store_forget(struct store *st, const char *address, uint64_t *removed)
{
    struct sqlite_store *s = store_of(st);
    *removed = 0;

    pthread_mutex_lock(&s->db_lock);
    s->forget_target_valid = prefix_parse(address, &s->forget_target) == 0;
    int ret = delete_counted(s, "DELETE FROM clients"
                             " WHERE client = ?1 OR dnsfirst_covers(client)",
                             address, 0, removed);
    bool target_valid = s->forget_target_valid;
    s->forget_target_valid = false;
    if (ret == 0 && !target_valid && *removed == 0) {
        error_set(s, "'%s' is neither an IP address, a prefix nor a client key "
                  "of the baseline", address);
        ret = DF_EPARSE;
    }
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

/*
 * Every run ends with a prune, so it merges the change log first only when
 * a change in it is older than @p before: merging unconditionally would
 * move the whole cost of a large learning run to its end. Otherwise it
 * deletes the clients rows that no newer change refreshes. SQLite evaluates
 * the NOT IN list once, and only when some row is old enough to need it.
 */
static int store_prune(struct store *st, int64_t before, uint64_t *removed)
{
    struct sqlite_store *s = store_of(st);
    *removed = 0;

    const char *sql = s->schema_version >= 2
                          ? "DELETE FROM clients WHERE last_seen < ?1 AND (scope, client)"
                            " NOT IN (SELECT scope, client FROM " CHANGE_ROWS_SQL("")
                            " WHERE last_seen >= ?1)"
                          : "DELETE FROM clients WHERE last_seen < ?1";
    pthread_mutex_lock(&s->db_lock);
    int ret = 0;
    if (s->changes_min_last_seen < before) {
        ret = sqlite_changes_merge_all(s);
    }
    ret = ret == 0 ? change_begin(s) : ret;
    if (ret == 0) {
        ret = delete_run(s, sql, NULL, before, removed);
    }
    ret = change_end(s, ret);
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

static int store_prune_flagged(struct store *st, uint32_t flags, uint64_t *removed)
{
    struct sqlite_store *s = store_of(st);
    *removed = 0;

    pthread_mutex_lock(&s->db_lock);
    int ret = delete_counted(s, "DELETE FROM clients WHERE (flags & ?1) != 0", NULL,
                             flags, removed);
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

static int store_import_row(struct store *st, const struct store_client *row)
{
    struct sqlite_store *s = store_of(st);

    pthread_mutex_lock(&s->db_lock);
    client_bind(s->stmt.client_merge, row);
    int ret = sqlite_changes_merge_all(s);
    ret = ret == 0 ? change_begin(s) : ret;
    ret = change_end(s, ret == 0 ? stmt_run(s, s->stmt.client_merge, "merging a client") : ret);
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

static int store_import(struct store *st, store_row_reader_fn next, void *ctx,
                        uint64_t *imported)
{
    struct sqlite_store *s = store_of(st);
    struct store_client row;
    *imported = 0;

    pthread_mutex_lock(&s->db_lock);
    int ret = sqlite_changes_merge_all(s);
    ret = ret == 0 ? change_begin(s) : ret;
    while (ret == 0) {
        int more = next(ctx, &row);
        if (more <= 0) {
            ret = more;
            break;
        }
        client_bind(s->stmt.client_merge, &row);
        ret = stmt_run(s, s->stmt.client_merge, "merging a client");
        *imported += ret == 0;
    }
    ret = change_end(s, ret);
    if (ret != 0) {
        *imported = 0;
    }
    pthread_mutex_unlock(&s->db_lock);
    return ret;
}

static int store_replay_outbox(struct store *st)
{
    struct sqlite_store *s = store_of(st);
    if (s->mode != SQLITE_STORE_READ_WRITE) {
        return DF_ESTORE_READONLY;
    }

    sqlite3_stmt *stmt = NULL;
    pthread_mutex_lock(&s->db_lock);
    int rc = sqlite3_prepare_v2(s->db,
        "SELECT id, alert FROM outbox ORDER BY id", -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        int ret = sqlite_fail(s, rc, "reading the outbox");
        pthread_mutex_unlock(&s->db_lock);
        return ret;
    }

    int ret = 0;
    int64_t written_id = 0;
    while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *alert = (const char *)sqlite3_column_text(stmt, 1);
        size_t len = (size_t)sqlite3_column_bytes(stmt, 1);
        ret = alert_deliver(s, alert != NULL ? alert : "", len);
        if (ret == 0) {
            written_id = sqlite3_column_int64(stmt, 0);
            __atomic_fetch_add(&s->base.counters.outbox_replayed, 1,
                               __ATOMIC_RELAXED);
        }
    }
    if (ret == 0 && rc != SQLITE_DONE) {
        ret = sqlite_fail(s, rc, "reading the outbox");
    }
    sqlite3_finalize(stmt);
    pthread_mutex_unlock(&s->db_lock);

    if (written_id > 0) {
        int drop_ret = outbox_drop(s, written_id);
        ret = ret != 0 ? ret : drop_ret;
    }
    return ret;
}

/* Free everything; the writer lock goes last, after SQLite closed the file. */
static void store_free(struct sqlite_store *s)
{
    sqlite_checkpointer_stop(s->checkpointer);
    statements_finalize(&s->stmt);
    if (s->db != NULL) {
        sqlite3_close_v2(s->db);
    }
    if (s->lock_fd >= 0) {
        close(s->lock_fd);
    }
    pthread_mutex_destroy(&s->db_lock);
    free(s->json);
    free(s);
}

/*
 * Drain the queue and close. Errors of the last batches are lost here: call
 * sync() first to see them.
 */
static void store_close(struct store *st)
{
    struct sqlite_store *s = store_of(st);
    if (s == NULL) {
        return;
    }

    write_queue_destroy(s->queue);
    s->queue = NULL;
    store_free(s);
}


const char *sqlite_store_last_error(struct store *st)
{
    return store_of(st)->error;
}

static const struct store_ops sqlite_store_ops = {
    .name = "sqlite",
    .load = store_load,
    .scope_start_get = scope_start_get,
    .scope_start_set = scope_start_set,
    .submit = submit,
    .sync = store_sync,
    .replay_outbox = store_replay_outbox,
    .list = store_list,
    .stats = store_stats,
    .generation = store_generation,
    .forget = store_forget,
    .prune = store_prune,
    .prune_flagged = store_prune_flagged,
    .import_row = store_import_row,
    .import = store_import,
    .close = store_close,
};

/* Open SQLite on a file that exists (READ_ONLY) or is locked for us (READ_WRITE). */
static int store_setup(struct sqlite_store *s, const char *path,
                       const struct sqlite_store_options *opts)
{
    int timeout = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms
                                            : BUSY_TIMEOUT_DEFAULT_MS;
    int ret = connection_open(s, path, timeout);
    if (ret != 0) {
        return ret;
    }

    bool is_empty = false;
    ret = database_check(s, !opts->skip_quick_check, &is_empty);
    if (ret != 0) {
        return ret;
    }

    if (s->mode == SQLITE_STORE_READ_WRITE) {
        if (is_empty) {
            /* The page size takes effect with the first page the WAL switch writes. */
            ret = exec_sql(s, "PRAGMA page_size = " NEW_FILE_PAGE_SIZE, "PRAGMA page_size");
            ret = ret == 0 ? wal_enable(s) : ret;
            ret = ret == 0 ? schema_create(s) : ret;
        } else {
            ret = schema_upgrade(s);
            ret = ret == 0 ? wal_enable(s) : ret;
        }
        if (ret == 0) {
            ret = writer_pragmas_set(s);
        }
        if (ret == 0) {
            ret = exec_sql(s, generation_init_sql, "starting the generation");
        }
    }
    if (ret == 0) {
        ret = statements_prepare(s);
    }
    if (ret == 0 && s->schema_version >= 2) {
        int64_t pending = 0;
        ret = query_int64(s, "SELECT coalesce(sum(count), 0) FROM client_changes", &pending);
        s->changes_pending = (uint64_t)pending;
        if (ret == 0) {
            ret = query_int64(s, "SELECT coalesce(min(min_last_seen), 9223372036854775807)"
                                 " FROM client_changes", &s->changes_min_last_seen);
        }
    }
    return ret;
}

static int path_check_exists(struct sqlite_store *s, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int err = errno;
        error_set(s, "%s", strerror(err));
        return code_from_errno(err);
    }
    return 0;
}

int sqlite_store_open_with(const char *path, enum sqlite_store_mode mode,
                           const struct sqlite_store_options *opts,
                           struct store **out, char *err, size_t err_size)
{
    static const struct sqlite_store_options defaults = { 0 };
    if (opts == NULL) {
        opts = &defaults;
    }
    *out = NULL;

    struct sqlite_store *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return -ENOMEM;
    }
    s->base.ops = &sqlite_store_ops;
    s->mode = mode;
    s->lock_fd = -1;
    s->changes_pending_max = opts->changes_pending_max ? opts->changes_pending_max
                                                       : CHANGES_PENDING_MAX;
    pthread_mutex_init(&s->db_lock, NULL);

    /* The lock comes before SQLite reads the file, so no writer races us. */
    int ret = 0;
    bool created = false;
    if (mode == SQLITE_STORE_READ_WRITE) {
        ret = writer_lock_take(s, path, &created);
        if (ret == 0) {
            ret = directory_check_writable(s, path);
        }
    } else {
        ret = path_check_exists(s, path);
    }
    if (ret == 0) {
        ret = store_setup(s, path, opts);
    }

    int pages = opts->checkpoint_pages;
    if (ret == 0 && mode == SQLITE_STORE_READ_WRITE && pages <= 0) {
        ret = checkpoint_pages_get(s, &pages);
    }
    if (ret == 0 && mode == SQLITE_STORE_READ_WRITE) {
        ret = sqlite_checkpointer_start(path, s->db, pages, &s->base.counters.checkpoints,
                                        &s->checkpointer, s->error, sizeof(s->error));
    }
    if (ret == 0 && mode == SQLITE_STORE_READ_WRITE) {
        size_t queue_max = opts->queue_max ? opts->queue_max
                                           : SQLITE_STORE_QUEUE_DEFAULT;
        size_t batch_max = opts->batch_max ? opts->batch_max
                                           : SQLITE_STORE_BATCH_DEFAULT;
        struct write_queue_handlers handlers = {
            .batch_fn = batch_commit,
            .idle_fn = sqlite_changes_merge_idle,
            .ctx = s,
        };
        ret = write_queue_create(queue_max, batch_max, &handlers,
                                 &s->base.counters.queue_full_waits, &s->queue);
        if (ret != 0) {
            error_set(s, "cannot start the writer thread: %s", df_strerror(ret));
        }
    }

    if (ret != 0) {
        if (err != NULL && err_size > 0) {
            snprintf(err, err_size, "%s", s->error[0] ? s->error
                                                      : df_strerror(ret));
        }
        store_free(s);
        if (created) {
            unlink(path);
        }
        return ret;
    }
    *out = &s->base;
    return 0;
}

int sqlite_store_open(const char *path, enum sqlite_store_mode mode,
                      struct store **out)
{
    return sqlite_store_open_with(path, mode, NULL, out, NULL, 0);
}
