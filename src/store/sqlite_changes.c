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

#include "output/json_writer.h"

const char sqlite_change_add_sql[] =
    "INSERT INTO client_changes(count, min_last_seen, changes) VALUES(?1, ?2, ?3)";

const char sqlite_changes_sorted_sql[] =
    "SELECT kind, scope, client, first_seen, last_seen, query_count, flags,"
    " first_query FROM " CHANGE_ROWS_SQL("WHERE c.id <= ?1")
    " ORDER BY scope, client, id, seq";

/* Append @p len bytes to s->json, growing it. */
static int json_append(struct sqlite_store *s, const char *text, size_t len)
{
    if (s->json_len + len > s->json_capacity) {
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
    }
    memcpy(s->json + s->json_len, text, len);
    s->json_len += len;
    return 0;
}

/* Room for one change: every string escaped at 6 bytes a byte, and the numbers. */
#define CHANGE_JSON_MAX (6 * (2 * STORE_KEY_MAX + STORE_NAME_MAX) + 256)

/* Write @p v in decimal at @p out; returns the end. snprintf() cost ten times more here. */
static char *decimal_put(char *out, uint64_t v)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) {
        *out++ = digits[--n];
    }
    return out;
}

static char *integer_put(char *out, int64_t v)
{
    if (v < 0) {
        *out++ = '-';
        return decimal_put(out, (uint64_t)0 - (uint64_t)v);
    }
    return decimal_put(out, (uint64_t)v);
}

/*
 * Write @p text as a JSON string at @p out, which has room for
 * 6 * strlen(text) + 3 bytes; returns the end. Keys and names are printable
 * ASCII almost always, so those are copied as they are. Any other text goes
 * through the JSON writer, which escapes every byte that needs it.
 */
static char *string_put(char *out, const char *text)
{
    size_t len = strlen(text);
    bool plain = true;
    for (size_t i = 0; i < len && plain; i++) {
        unsigned char c = (unsigned char)text[i];
        plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    }
    if (plain) {
        *out++ = '"';
        memcpy(out, text, len);
        out += len;
        *out++ = '"';
        return out;
    }
    struct json_writer w;
    json_writer_init(&w, out, 6 * len + 3);
    json_writer_string_len(&w, text, len);
    return out + json_writer_finish(&w);
}

/* Append the JSON array of @p item's change to s->json. */
static int change_json_append(struct sqlite_store *s, const struct write_item *item)
{
    char text[CHANGE_JSON_MAX];
    char *p = text;
    *p++ = '[';
    p = integer_put(p, item->type);
    *p++ = ',';
    p = string_put(p, item->row.scope);
    *p++ = ',';
    p = string_put(p, item->row.client);
    *p++ = ',';
    p = integer_put(p, item->row.first_seen);
    *p++ = ',';
    p = integer_put(p, item->row.last_seen);
    *p++ = ',';
    p = decimal_put(p, item->row.query_count);
    *p++ = ',';
    p = decimal_put(p, item->row.flags);
    *p++ = ',';
    p = string_put(p, item->row.first_query);
    *p++ = ']';
    return json_append(s, text, (size_t)(p - text));
}

/* Append the changes of @p count items (at most CHANGES_PER_ROW) as one row. */
int sqlite_changes_append(struct sqlite_store *s, const struct write_item *items,
                          size_t count)
{
    int64_t min_last_seen = INT64_MAX;
    s->json_len = 0;
    int ret = json_append(s, "[", 1);
    for (size_t i = 0; ret == 0 && i < count; i++) {
        ret = i > 0 ? json_append(s, ",", 1) : 0;
        ret = ret == 0 ? change_json_append(s, &items[i]) : ret;
        if (items[i].row.last_seen < min_last_seen) {
            min_last_seen = items[i].row.last_seen;
        }
    }
    ret = ret == 0 ? json_append(s, "]", 1) : ret;
    if (ret != 0) {
        return ret;
    }

    sqlite3_stmt *stmt = s->stmt.change_add;
    sqlite3_bind_int64(stmt, 1, (int64_t)count);
    sqlite3_bind_int64(stmt, 2, min_last_seen);
    sqlite3_bind_text(stmt, 3, s->json, (int)s->json_len, SQLITE_STATIC);
    ret = stmt_run(s, stmt, "recording clients");
    if (ret == 0 && min_last_seen < s->changes_min_last_seen) {
        s->changes_min_last_seen = min_last_seen;
    }
    return ret;
}

/*
 * Merging client_changes into clients.
 */

/* Fill @p item from a row of changes_sorted_sql. */
static void change_row_read(sqlite3_stmt *stmt, struct write_item *item)
{
    item->type = (enum write_item_type)sqlite3_column_int(stmt, 0);
    column_copy(stmt, 1, item->row.scope, sizeof(item->row.scope));
    column_copy(stmt, 2, item->row.client, sizeof(item->row.client));
    item->row.first_seen = sqlite3_column_int64(stmt, 3);
    item->row.last_seen = sqlite3_column_int64(stmt, 4);
    item->row.query_count = (uint64_t)sqlite3_column_int64(stmt, 5);
    item->row.flags = (uint32_t)sqlite3_column_int64(stmt, 6);
    column_copy(stmt, 7, item->row.first_query, sizeof(item->row.first_query));
}

/* Apply the changes up to @p last_id to clients in key order; sets *count. */
static int changes_apply(struct sqlite_store *s, int64_t last_id, size_t *count)
{
    sqlite3_stmt *stmt = s->stmt.changes_sorted;
    sqlite3_bind_int64(stmt, 1, last_id);
    struct write_item item = { 0 };
    int ret = 0;
    int rc;
    *count = 0;
    while (ret == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        change_row_read(stmt, &item);
        ret = item_client_write(s, &item);
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
static const char pending_fold_sql[] =
    "CREATE TEMP TABLE pending_clients(scope TEXT, client TEXT, has_new INTEGER,"
    " first_seen INTEGER, last_seen INTEGER, query_count INTEGER, flags INTEGER,"
    " first_query TEXT, PRIMARY KEY(scope, client)) WITHOUT ROWID;"
    "INSERT INTO temp.pending_clients SELECT scope, client, kind = 1, first_seen,"
    " last_seen, query_count, flags, first_query FROM " CHANGE_ROWS_SQL("")
    " WHERE true ORDER BY id, seq"
    " ON CONFLICT(scope, client) DO UPDATE SET"
    " has_new = max(has_new, excluded.has_new),"
    " first_seen = iif(excluded.has_new, excluded.first_seen, first_seen),"
    " last_seen = iif(excluded.has_new, excluded.last_seen,"
    " max(last_seen, excluded.last_seen)),"
    " query_count = iif(excluded.has_new, excluded.query_count,"
    " query_count + excluded.query_count),"
    " flags = iif(excluded.has_new, excluded.flags, flags),"
    " first_query = iif(excluded.has_new, excluded.first_query, first_query)";

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
    if (s->schema_version < 2) {
        return 0;
    }
    if (!s->pending_view_built) {
        int64_t pending = 0;
        int ret = query_int64(s, "SELECT coalesce(sum(count), 0) FROM client_changes", &pending);
        if (ret == 0 && pending > 0) {
            ret = exec_sql(s, pending_fold_sql, "reading client changes");
        }
        if (ret != 0) {
            return ret;
        }
        s->changes_pending = (uint64_t)pending;
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
