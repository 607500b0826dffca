/* SPDX-License-Identifier: MIT */
/*
 * sqlite_internal.h - what sqlite_store.c and sqlite_changes.c share: the
 * store's state, the change log's schema, and small statement helpers.
 * Not part of the store interface; include sqlite_store.h elsewhere.
 */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/sqlite_checkpoint.h"
#include "store/sqlite_store.h"
#include "store/write_queue.h"
#include "util/addr.h"
#include "util/error.h"

struct statements {
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    sqlite3_stmt *client_new;
    sqlite3_stmt *client_seen;
    sqlite3_stmt *client_merge;
    sqlite3_stmt *change_add;
    sqlite3_stmt *changes_sorted;
    sqlite3_stmt *changes_drop;
    sqlite3_stmt *outbox_add;
    sqlite3_stmt *outbox_drop;
    sqlite3_stmt *outbox_clear;
    sqlite3_stmt *scope_get;
    sqlite3_stmt *scope_set;
    sqlite3_stmt *generation_bump;
};

struct sqlite_store {
    struct store base; /* first: a struct store * is a struct sqlite_store * */
    enum sqlite_store_mode mode;
    sqlite3 *db;
    int lock_fd;
    pthread_mutex_t db_lock;
    struct statements stmt;
    struct write_queue *queue;
    struct sqlite_checkpointer *checkpointer; /* READ_WRITE only */
    /* Target of the running forget, read by the dnsfirst_covers() SQL function. */
    struct prefix forget_target;
    bool forget_target_valid;
    int64_t schema_version; /* of the file as opened; 1 has no client_changes */
    uint64_t changes_pending; /* changes in client_changes, under db_lock */
    uint64_t changes_pending_max;
    int64_t changes_min_last_seen; /* of every change in client_changes */
    bool pending_view_built; /* READ_ONLY: temp.pending_clients is filled */
    /* The JSON text of the client_changes row being written, reused. */
    char *json;
    size_t json_len;
    size_t json_capacity;
    /* The scopes array of the row being appended: room for 16 escaped keys and commas. */
    char scopes_json[16 * (6 * STORE_KEY_MAX + 3) + 2];
    char error[512];
};

/*
 * The writer appends every client write to client_changes instead of
 * updating clients in place. Updating clients seeks a random leaf of its
 * B-tree per client, so a batch that records thousands of new clients
 * rewrites thousands of pages. An append touches only the table's last
 * pages. A row of client_changes holds up to CHANGES_PER_ROW changes as one
 * JSON array of [kind, scope, client, first_seen, last_seen, query_count,
 * flags, first_query] arrays (kind is STORE_CHANGE_NEW or STORE_CHANGE_SEEN),
 * which SQLite's json_each() reads back. On a generated 10-million-packet
 * capture with 824,915 new clients, `run --learn` took 8.5 s with updates
 * in place and 3.1 s with one row per change (one run each, 2-core VM). On
 * the 1M-packet capture the writer thread spent 5,867 instructions per
 * change with one row per change and 1,673 with JSON rows (callgrind).
 * sqlite_changes.c writes and merges the log: the changes are merged into
 * clients in key order when the writer has been idle for a second, after
 * every batch once too many wait, and before any operation that reads or
 * deletes clients.
 *
 * Schema version 3 made the rows smaller, because the bytes of the log are
 * what a learning run writes (twice, with the WAL's checkpoint):
 *   - a scope may be an index into the row's scopes array;
 *   - first_seen and last_seen count from the row's base;
 *   - flags and first_query may be left out when 0 and "".
 * Rows of version 2 have a base of 0 and no scopes, so they read as before.
 * On the 10M-packet benchmark capture the log shrank from 115 MB to 73 MB.
 */
#define CLIENT_CHANGES_SQL                                                   \
    "CREATE TABLE client_changes("                                           \
    " id INTEGER PRIMARY KEY,"                                               \
    " count INTEGER NOT NULL,"                                               \
    " min_last_seen INTEGER NOT NULL,"                                       \
    " changes TEXT NOT NULL,"                                                \
    " base INTEGER NOT NULL DEFAULT 0,"                                      \
    " scopes TEXT);"

/* The columns that version 3 adds to the client_changes table of version 2. */
#define CLIENT_CHANGES_V3_COLUMNS_SQL                                        \
    "ALTER TABLE client_changes ADD COLUMN base INTEGER NOT NULL DEFAULT 0;" \
    "ALTER TABLE client_changes ADD COLUMN scopes TEXT;"

/*
 * The changes of each row of @p table, one per row of the result, in order.
 * @p table has the columns of client_changes in version 3.
 */
#define CHANGE_ROWS_FROM(table, where)                                          \
    "(SELECT c.id AS id, j.key AS seq, j.value ->> 0 AS kind,"                   \
    " iif(typeof(j.value ->> 1) = 'integer', c.scopes ->> (j.value ->> 1),"      \
    " j.value ->> 1) AS scope, j.value ->> 2 AS client,"                        \
    " c.base + (j.value ->> 3) AS first_seen,"                                   \
    " c.base + (j.value ->> 4) AS last_seen,"                                    \
    " j.value ->> 5 AS query_count, coalesce(j.value ->> 6, 0) AS flags,"        \
    " coalesce(j.value ->> 7, '') AS first_query"                                \
    " FROM " table " c, json_each(c.changes) j " where ")"

#define CHANGE_ROWS_SQL(where) CHANGE_ROWS_FROM("main.client_changes", where)

/*
 * The same for a file of version 2, which only a read-only connection reads.
 * Its rows read as version 3 rows with a base of 0 and no scopes.
 */
#define CHANGE_ROWS_V2_SQL(where)                                               \
    CHANGE_ROWS_FROM("(SELECT id, changes, 0 AS base, NULL AS scopes"           \
                     " FROM main.client_changes)", where)

/* Changes per row of client_changes, and so per merge step of an idle writer. */
#define CHANGES_PER_ROW 4096

/*
 * Past this many changes not merged yet, the writer merges as many changes
 * as each batch adds, even when it is busy. So client_changes stays bounded
 * on a sensor that is never idle. A change takes about 45 bytes of disk,
 * measured on the 10M-packet benchmark capture.
 */
#define CHANGES_PENDING_MAX 4194304

static inline struct sqlite_store *store_of(struct store *st)
{
    return (struct sqlite_store *)st;
}

static inline void error_set(struct sqlite_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void error_set(struct sqlite_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
}

/* Map an SQLite result code to the project's error space. */
static inline int code_from_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DF_ESTORE_LOCKED;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return DF_ESTORE_CORRUPT;
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return DF_ESTORE_READONLY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_IOERR:
        return -EIO;
    default:
        return DF_ESTORE;
    }
}

/* Record SQLite's message for a failed @p what and return the mapped code. */
static inline int sqlite_fail(struct sqlite_store *s, int rc, const char *what)
{
    error_set(s, "%s failed: %s", what, sqlite3_errmsg(s->db));
    return code_from_sqlite(rc);
}


/* Step a statement that returns no rows, then reset it. */
static inline int stmt_run(struct sqlite_store *s, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        ret = sqlite_fail(s, rc, what);
    }
    sqlite3_reset(stmt);
    return ret;
}

static inline int exec_sql(struct sqlite_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : sqlite_fail(s, rc, what);
}

/* Run a statement whose first column of the first row is an integer. */
static inline int query_int64(struct sqlite_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        return sqlite_fail(s, rc, sql);
    }

    int ret = 0;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(stmt, 0);
    } else if (rc == SQLITE_DONE) {
        *out = 0;
    } else {
        ret = sqlite_fail(s, rc, sql);
    }
    sqlite3_finalize(stmt);
    return ret;
}

static inline void rollback_if_open(struct sqlite_store *s)
{
    if (!sqlite3_get_autocommit(s->db)) {
        stmt_run(s, s->stmt.rollback, "ROLLBACK");
    }
}




/* Copy a text column into a fixed-size field, cutting it to fit. */
static inline void column_copy(sqlite3_stmt *stmt, int col, char *dst, size_t size)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    size_t len = (size_t)sqlite3_column_bytes(stmt, col);
    if (text == NULL) {
        len = 0;
    }
    if (len >= size) {
        len = size - 1;
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
}

/* Fill a whole row from the first seven columns of @p stmt, in table order. */
static inline void client_row_read(sqlite3_stmt *stmt, struct store_client *row)
{
    column_copy(stmt, 0, row->scope, sizeof(row->scope));
    column_copy(stmt, 1, row->client, sizeof(row->client));
    row->first_seen = sqlite3_column_int64(stmt, 2);
    row->last_seen = sqlite3_column_int64(stmt, 3);
    row->query_count = (uint64_t)sqlite3_column_int64(stmt, 4);
    row->flags = (uint32_t)sqlite3_column_int64(stmt, 5);
    column_copy(stmt, 6, row->first_query, sizeof(row->first_query));
}

static inline void client_bind(sqlite3_stmt *stmt, const struct store_client *row)
{
    sqlite3_bind_text(stmt, 1, row->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, row->client, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, row->first_seen);
    sqlite3_bind_int64(stmt, 4, row->last_seen);
    sqlite3_bind_int64(stmt, 5, (int64_t)row->query_count);
    sqlite3_bind_int64(stmt, 6, row->flags);
    sqlite3_bind_text(stmt, 7, row->first_query, -1, SQLITE_STATIC);
}

/* Apply one change of the change log, @p kind with the fields of @p row, to clients. */
static inline int client_change_write(struct sqlite_store *s, enum store_change_kind kind,
                                      const struct store_client *row)
{
    if (kind == STORE_CHANGE_SEEN) {
        sqlite3_stmt *stmt = s->stmt.client_seen;
        sqlite3_bind_text(stmt, 1, row->scope, -1, SQLITE_STATIC);
        sqlite3_bind_text(stmt, 2, row->client, -1, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 3, row->last_seen);
        sqlite3_bind_int64(stmt, 4, (int64_t)row->query_count);
        return stmt_run(s, stmt, "updating a client");
    }

    client_bind(s->stmt.client_new, row);
    return stmt_run(s, s->stmt.client_new, "inserting a client");
}

/* Statements of the change log, prepared with the store's others. */
extern const char sqlite_change_add_sql[];
extern const char sqlite_changes_sorted_sql[];

/* Append @p count items (at most CHANGES_PER_ROW) as one row of client_changes, in the open transaction. */
int sqlite_changes_append(struct sqlite_store *s, const struct write_item *items, size_t count);

/*
 * Merge the oldest @p rows rows of client_changes (-1 for all) into
 * clients, in a transaction of their own, with s->db_lock held. Sets *merged
 * to the number of changes.
 */
int sqlite_changes_merge(struct sqlite_store *s, int64_t rows, size_t *merged);

/* Merge every change, with s->db_lock held. */
int sqlite_changes_merge_all(struct sqlite_store *s);

/* write_queue idle step: merge one row of changes. Returns 1 when more wait. */
int sqlite_changes_merge_idle(void *ctx);

/*
 * Make the rows of clients current before a read, with s->db_lock held:
 * merge the change log when writable, else overlay it in a temporary table.
 * Sets *source to the table or view to read.
 */
int sqlite_clients_prepare_read(struct sqlite_store *s, const char **source);
