/* SPDX-License-Identifier: MIT */
/*
 * sqlite_changes.c - the change log of the SQLite store: writing batches of
 * client changes as JSON rows of client_changes, merging them into clients,
 * and laying them over clients for a read-only connection. The schema and
 * the reason for the log are in sqlite_internal.h.
 */
#include "store/sqlite_internal.h"

#include <inttypes.h>
#include <stdlib.h>

#include "store/change_json.h"
#include "util/decimal.h"

const char sqlite_change_add_sql[] =
    "INSERT INTO client_changes(count, min_last_seen, changes, base, scopes)"
    " VALUES(?1, ?2, ?3, ?4, ?5)";

/* The columns of a clients row, then the change's kind. */
const char sqlite_changes_sorted_sql[] =
    "SELECT scope, client, first_seen, last_seen, query_count, flags,"
    " first_query, kind FROM " CHANGE_ROWS_SQL("WHERE c.id <= ?1")
    " ORDER BY scope, client, id, seq";

/* Make room for @p len more bytes in s->json. */
static int json_reserve(struct sqlite_store *s, size_t len)
{
    if (s->json_len + len <= s->json_capacity) {
        return 0;
    }
    size_t capacity = s->json_capacity ? s->json_capacity : 65536;
    while (capacity < s->json_len + len) {
        capacity *= 2;
    }
    char *json = realloc(s->json, capacity);
    if (json == NULL) {
        error_set(s, "cannot record client changes: out of memory");
        return -ENOMEM;
    }
    s->json = json;
    s->json_capacity = capacity;
    return 0;
}

/* Room for one change: every string escaped at 6 bytes a byte, and the numbers. */
#define CHANGE_JSON_MAX (6 * (2 * STORE_KEY_MAX + STORE_NAME_MAX) + 256)

/* Scopes a row names by index. Any further scope of the row is written as text. */
#define ROW_SCOPES_MAX 16

/* The scopes of the row being written, and its base time. */
struct row_header {
    int64_t base;
    size_t scope_count;
    size_t last_scope; /* the index found last: changes of one scope often follow each other */
    const char *scopes[ROW_SCOPES_MAX];
};

/* Return the index of @p scope in the row's scopes, adding it, or -1 when they are full. */
static int row_scope_index(struct row_header *h, const char *scope)
{
    if (h->last_scope < h->scope_count && strcmp(h->scopes[h->last_scope], scope) == 0) {
        return (int)h->last_scope;
    }
    for (size_t i = 0; i < h->scope_count; i++) {
        if (strcmp(h->scopes[i], scope) == 0) {
            h->last_scope = i;
            return (int)i;
        }
    }
    if (h->scope_count == ROW_SCOPES_MAX) {
        return -1;
    }
    h->scopes[h->scope_count] = scope;
    h->last_scope = h->scope_count;
    return (int)h->scope_count++;
}

/* Write the client key of @p item as a JSON string. */
static char *item_key_put(char *out, const struct write_item *item)
{
    if (item->client_is_text) {
        return change_json_string(out, item->client.text,
                                  strnlen(item->client.text, sizeof(item->client.text)));
    }
    return change_json_key(out, &item->client.prefix);
}

/* Write the first query name of @p item as a JSON string, "" when it has none. */
static char *item_name_put(char *out, const struct write_item *item)
{
    if (item->first_qname_len > 0) {
        return change_json_name(out, item->first_qname, item->first_qname_len);
    }
    const char *text = item->first_query != NULL ? item->first_query : "";
    return change_json_string(out, text, strnlen(text, STORE_NAME_MAX - 1));
}

static bool item_has_name(const struct write_item *item)
{
    return item->first_qname_len > 0 ||
           (item->first_query != NULL && item->first_query[0] != '\0');
}

/*
 * Append the JSON array of @p item's change to s->json, which has room for
 * CHANGE_JSON_MAX more bytes, in the format of schema version 3
 * (sqlite_internal.h). The client key and the first query name get their
 * text here, on the writer thread.
 */
static void change_json_append(struct sqlite_store *s, struct row_header *h,
                               const struct write_item *item)
{
    int scope = row_scope_index(h, item->scope);
    char *start = s->json + s->json_len;
    char *p = start;
    *p++ = '[';
    p = change_json_integer(p, item->kind);
    *p++ = ',';
    if (scope >= 0) {
        p = decimal_put(p, (uint64_t)scope);
    } else {
        p = change_json_string(p, item->scope, strnlen(item->scope, sizeof(item->scope)));
    }
    *p++ = ',';
    p = item_key_put(p, item);
    *p++ = ',';
    /* An update has no first_seen, so 0 keeps it short. The merge ignores it. */
    p = change_json_integer(p, item->kind == STORE_CHANGE_SEEN ? 0 : item->first_seen - h->base);
    *p++ = ',';
    p = change_json_integer(p, item->last_seen - h->base);
    *p++ = ',';
    p = decimal_put(p, item->query_count);
    if (item->flags != 0 || item_has_name(item)) {
        *p++ = ',';
        p = decimal_put(p, item->flags);
        *p++ = ',';
        p = item_name_put(p, item);
    }
    *p++ = ']';
    s->json_len += (size_t)(p - start);
}

/* Write the row's scopes as a JSON array into s->scopes_json. */
static int scopes_json_write(struct sqlite_store *s, const struct row_header *h)
{
    char *p = s->scopes_json;
    *p++ = '[';
    for (size_t i = 0; i < h->scope_count; i++) {
        if (i > 0) {
            *p++ = ',';
        }
        p = change_json_string(p, h->scopes[i], strlen(h->scopes[i]));
    }
    *p++ = ']';
    return (int)(p - s->scopes_json);
}

/* Append the changes of @p count items (at most CHANGES_PER_ROW) as one row. */
int sqlite_changes_append(struct sqlite_store *s, const struct write_item *items,
                          size_t count)
{
    struct row_header h = { .base = count > 0 ? items[0].last_seen : 0 };
    int64_t min_last_seen = INT64_MAX;
    s->json_len = 0;
    for (size_t i = 0; i < count; i++) {
        int ret = json_reserve(s, CHANGE_JSON_MAX + 2);
        if (ret != 0) {
            return ret;
        }
        s->json[s->json_len++] = i == 0 ? '[' : ',';
        change_json_append(s, &h, &items[i]);
        if (items[i].last_seen < min_last_seen) {
            min_last_seen = items[i].last_seen;
        }
    }
    int ret = json_reserve(s, 2);
    if (ret != 0) {
        return ret;
    }
    if (count == 0) {
        s->json[s->json_len++] = '[';
    }
    s->json[s->json_len++] = ']';

    sqlite3_stmt *stmt = s->stmt.change_add;
    sqlite3_bind_int64(stmt, 1, (int64_t)count);
    sqlite3_bind_int64(stmt, 2, min_last_seen);
    sqlite3_bind_text(stmt, 3, s->json, (int)s->json_len, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, h.base);
    sqlite3_bind_text(stmt, 5, s->scopes_json, scopes_json_write(s, &h), SQLITE_STATIC);
    ret = stmt_run(s, stmt, "recording clients");
    if (ret == 0 && min_last_seen < s->changes_min_last_seen) {
        s->changes_min_last_seen = min_last_seen;
    }
    return ret;
}

/*
 * Merging client_changes into clients.
 */

/* Apply the changes up to @p last_id to clients in key order; sets *count. */
static int changes_apply(struct sqlite_store *s, int64_t last_id, size_t *count)
{
    sqlite3_stmt *stmt = s->stmt.changes_sorted;
    sqlite3_bind_int64(stmt, 1, last_id);
    struct store_client row = { 0 };
    int ret = 0;
    int rc;
    *count = 0;
    while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        client_row_read(stmt, &row);
        enum store_change_kind kind = (enum store_change_kind)sqlite3_column_int(stmt, 7);
        ret = client_change_write(s, kind, &row);
        (*count)++;
    }
    if (ret == 0 && rc != SQLITE_DONE) {
        ret = sqlite_fail(s, rc, "reading client changes");
    }
    sqlite3_reset(stmt);
    return ret;
}

/*
 * Merge the changes of the oldest @p rows rows of client_changes (-1 for
 * all) into clients and delete those rows, in one transaction with
 * s->db_lock held. SQLite sorts them by key (and by id
 * within a key, so a client's changes apply in the order they were made),
 * so the transaction visits the B-tree of clients in one sweep and writes
 * each page it changes once. The clients described do not change, so the
 * generation stays. Sets *merged.
 */
int sqlite_changes_merge(struct sqlite_store *s, int64_t rows, size_t *merged)
{
    *merged = 0;
    if (s->schema_version < 2 || s->mode != SQLITE_STORE_READ_WRITE ||
        s->changes_pending == 0) {
        return 0;
    }

    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(max(id), 0) FROM"
             " (SELECT id FROM client_changes ORDER BY id LIMIT %" PRId64 ")", rows);
    int64_t last_id = 0;
    int ret = query_int64(s, sql, &last_id);
    if (ret != 0) {
        return ret;
    }

    size_t count = 0;
    ret = stmt_run(s, s->stmt.begin, "BEGIN");
    ret = ret == 0 ? changes_apply(s, last_id, &count) : ret;
    if (ret == 0) {
        sqlite3_bind_int64(s->stmt.changes_drop, 1, last_id);
        ret = stmt_run(s, s->stmt.changes_drop, "deleting merged client changes");
    }
    if (ret == 0) {
        ret = stmt_run(s, s->stmt.commit, "COMMIT");
    }
    if (ret != 0) {
        rollback_if_open(s);
        return ret;
    }
    *merged = count;
    s->changes_pending = s->changes_pending > count ? s->changes_pending - count : 0;
    if (s->changes_pending == 0) {
        s->changes_min_last_seen = INT64_MAX;
    }
    __atomic_fetch_add(&s->base.counters.changes_merged, count, __ATOMIC_RELAXED);
    return 0;
}

/* Merge every change in one transaction, with s->db_lock held. */
int sqlite_changes_merge_all(struct sqlite_store *s)
{
    size_t merged = 0;
    return sqlite_changes_merge(s, -1, &merged);
}

/*
 * Writer thread, when its queue is empty: merge one chunk. Returns 1 when
 * more changes may be waiting, 0 when none are, or an error code.
 */
int sqlite_changes_merge_idle(void *ctx)
{
    struct sqlite_store *s = ctx;
    size_t merged = 0;
    pthread_mutex_lock(&s->db_lock);
    int ret = sqlite_changes_merge(s, 1, &merged);
    bool more = s->changes_pending > 0;
    pthread_mutex_unlock(&s->db_lock);
    if (ret != 0) {
        return ret;
    }
    return more ? 1 : 0;
}

/*
 * A read-only connection cannot merge the change log, so it folds the log
 * into temp.pending_clients, in id order with the merge's rules, and reads
 * clients through PENDING_VIEW_SQL, which overlays that table on clients.
 * has_new marks a client whose log contains a new-client row. That row,
 * with the updates after it, replaces the clients row. Otherwise the log's
 * updates raise last_seen and add to query_count of an existing row.
 */
#define PENDING_FOLD_SQL(change_rows)                                               \
    "CREATE TEMP TABLE pending_clients(scope TEXT, client TEXT, has_new INTEGER,"    \
    " first_seen INTEGER, last_seen INTEGER, query_count INTEGER, flags INTEGER,"    \
    " first_query TEXT, PRIMARY KEY(scope, client)) WITHOUT ROWID;"                  \
    "INSERT INTO temp.pending_clients SELECT scope, client, kind = 1, first_seen,"   \
    " last_seen, query_count, flags, first_query FROM " change_rows                  \
    " WHERE true ORDER BY id, seq"                                                   \
    " ON CONFLICT(scope, client) DO UPDATE SET"                                       \
    " has_new = max(has_new, excluded.has_new),"                                      \
    " first_seen = iif(excluded.has_new, excluded.first_seen, first_seen),"           \
    " last_seen = iif(excluded.has_new, excluded.last_seen,"                          \
    " max(last_seen, excluded.last_seen)),"                                           \
    " query_count = iif(excluded.has_new, excluded.query_count,"                      \
    " query_count + excluded.query_count),"                                           \
    " flags = iif(excluded.has_new, excluded.flags, flags),"                         \
    " first_query = iif(excluded.has_new, excluded.first_query, first_query)"

static const char pending_fold_sql[] = PENDING_FOLD_SQL(CHANGE_ROWS_SQL(""));
static const char pending_fold_v2_sql[] = PENDING_FOLD_SQL(CHANGE_ROWS_V2_SQL(""));

#define PENDING_VIEW_SQL                                                        \
    "(SELECT c.scope AS scope, c.client AS client, c.first_seen AS first_seen,"  \
    " iif(p.last_seen > c.last_seen, p.last_seen, c.last_seen) AS last_seen,"    \
    " c.query_count + coalesce(p.query_count, 0) AS query_count,"               \
    " c.flags AS flags, c.first_query AS first_query FROM main.clients c"       \
    " LEFT JOIN temp.pending_clients p ON p.scope = c.scope AND p.client = c.client" \
    " WHERE p.has_new IS NOT 1"                                                  \
    " UNION ALL SELECT scope, client, first_seen, last_seen, query_count, flags,"\
    " first_query FROM temp.pending_clients WHERE has_new = 1)"

/*
 * Fold the change log into temp.pending_clients. The schema version is read
 * in the same transaction, because a writer may have upgraded the file since
 * this connection opened, and version 3 rows need the version 3 columns.
 */
static int pending_fold(struct sqlite_store *s)
{
    int64_t version = 0;
    int64_t pending = 0;
    int ret = exec_sql(s, "BEGIN", "reading client changes");
    if (ret != 0) {
        return ret;
    }
    ret = query_int64(s, "PRAGMA user_version", &version);
    if (ret == 0 && version >= 2) {
        ret = query_int64(s, "SELECT coalesce(sum(count), 0) FROM client_changes", &pending);
    }
    if (ret == 0 && pending > 0) {
        const char *fold = version < SQLITE_STORE_SCHEMA_VERSION ? pending_fold_v2_sql
                                                                 : pending_fold_sql;
        ret = exec_sql(s, fold, "reading client changes");
    }
    if (ret == 0) {
        ret = exec_sql(s, "COMMIT", "reading client changes");
    }
    if (ret != 0) {
        rollback_if_open(s);
        return ret;
    }
    s->schema_version = version;
    s->changes_pending = (uint64_t)pending;
    return 0;
}

/*
 * Make the rows of clients current before a read, with s->db_lock held:
 * merge the change log when writable, else fold it into the view of a
 * read-only connection. Sets *source to the table or view to read.
 */
int sqlite_clients_prepare_read(struct sqlite_store *s, const char **source)
{
    *source = "clients";
    if (s->mode == SQLITE_STORE_READ_WRITE) {
        return sqlite_changes_merge_all(s);
    }
    if (!s->pending_view_built) {
        int ret = pending_fold(s);
        if (ret != 0) {
            return ret;
        }
        s->pending_view_built = true;
    }
    if (s->changes_pending > 0) {
        *source = PENDING_VIEW_SQL;
    }
    return 0;
}

int sqlite_store_changes_pending(struct store *st, uint64_t *count)
{
    struct sqlite_store *s = store_of(st);
    *count = 0;
    if (s->schema_version < 2) {
        return 0;
    }
    int64_t n = 0;
    pthread_mutex_lock(&s->db_lock);
    int ret = query_int64(s, "SELECT coalesce(sum(count), 0) FROM client_changes", &n);
    pthread_mutex_unlock(&s->db_lock);
    *count = (uint64_t)n;
    return ret;
}
