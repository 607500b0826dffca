/* SPDX-License-Identifier: MIT */
/*
 * test_sqlite_store.c - the SQLite baseline store, its writer queue and the
 * JSON lines export and import, on real files in a temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/baseline_io.h"
#include "store/sqlite_checkpoint.h"
#include "store/sqlite_store.h"
#include "util/error.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_sqlite_store.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/baseline.db", f->dir);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct store_client make_row(const char *scope, const char *client,
                                    int64_t first_seen, int64_t last_seen,
                                    uint64_t query_count, uint32_t flags,
                                    const char *first_query)
{
    struct store_client row;
    memset(&row, 0, sizeof(row));
    snprintf(row.scope, sizeof(row.scope), "%s", scope);
    snprintf(row.client, sizeof(row.client), "%s", client);
    row.first_seen = first_seen;
    row.last_seen = last_seen;
    row.query_count = query_count;
    row.flags = flags;
    snprintf(row.first_query, sizeof(row.first_query), "%s", first_query);
    return row;
}

/* Open @p path for writing with @p opts (NULL for the defaults), or fail the test. */
static struct store *open_rw_with(const char *path, const struct sqlite_store_options *opts)
{
    struct store *st = NULL;
    char err[256] = "";
    int ret = sqlite_store_open_with(path, SQLITE_STORE_READ_WRITE, opts, &st,
                                     err, sizeof(err));
    if (ret != 0) {
        fail_msg("open '%s' failed: %s (%s)", path, df_strerror(ret), err);
    }
    return st;
}

static struct store *open_rw(const char *path)
{
    return open_rw_with(path, NULL);
}

/* Read a whole small file into @p buf. Returns its length. */
static size_t file_read(const char *path, char *buf, size_t size)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, size, fp);
    fclose(fp);
    return n;
}

static void file_write(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Run SQL on the file through a separate connection, as another reader would. */
static int64_t raw_query_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        fail_msg("SQL failed: %s", msg);
    }
    sqlite3_close(db);
}

/* Collects what load, list and alert_fn hand out. */
struct collector {
    size_t count;
    struct store_client rows[16];
    char alerts[16][128];
    size_t alert_count;
    const char *check_path; /* when set, alert_fn checks the row committed */
    int64_t rows_at_alert[16];
    int fail_with;          /* alert_fn returns this when non-zero */
};

/* Clients on disk: merged into clients, or recorded as a new-client change. */
#define COMMITTED_CLIENTS_SQL                                                  \
    "SELECT (SELECT count(*) FROM clients) +"                                \
    " (SELECT count(*) FROM client_changes c, json_each(c.changes) j"         \
    " WHERE j.value ->> 0 = 1)"

static int collect_row(void *ctx, const struct store_client *row)
{
    struct collector *c = ctx;
    if (c->count < 16) {
        c->rows[c->count] = *row;
    }
    c->count++;
    return 0;
}

static int collect_alert(void *ctx, const char *alert, size_t len)
{
    struct collector *c = ctx;
    if (c->fail_with != 0) {
        return c->fail_with;
    }
    if (c->alert_count < 16) {
        snprintf(c->alerts[c->alert_count], sizeof(c->alerts[0]), "%.*s",
                 (int)len, alert);
        if (c->check_path != NULL) {
            c->rows_at_alert[c->alert_count] =
                raw_query_int(c->check_path, COMMITTED_CLIENTS_SQL);
        }
    }
    c->alert_count++;
    return 0;
}

static void test_open_creates_versioned_schema(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    assert_string_equal(st->ops->name, "sqlite");
    st->ops->close(st);

    assert_int_equal(raw_query_int(f->path, "PRAGMA application_id"),
                     SQLITE_STORE_APPLICATION_ID);
    assert_int_equal(raw_query_int(f->path, "PRAGMA user_version"),
                     SQLITE_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_query_int(f->path, "SELECT value FROM meta"
                                   " WHERE key = 'schema_version'"),
                     SQLITE_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM sqlite_master"
                                   " WHERE name IN ('clients', 'scopes',"
                                   " 'outbox', 'meta', 'client_changes')"), 5);

    /* A second open finds its own file and accepts it, in both modes. */
    st = open_rw(f->path);
    st->ops->close(st);
    assert_int_equal(sqlite_store_open(f->path, SQLITE_STORE_READ_ONLY, &st), 0);
    st->ops->close(st);
}

static void test_open_read_only_missing_file(void **state)
{
    struct fixture *f = *state;
    struct store *st = NULL;
    char err[256] = "";
    int ret = sqlite_store_open_with(f->path, SQLITE_STORE_READ_ONLY, NULL, &st,
                                     err, sizeof(err));
    assert_int_equal(ret, DF_ENOTFOUND);
    assert_null(st);
    assert_false(file_exists(f->path));
    assert_true(strlen(err) > 0);
}

static void test_open_rejects_garbage_unchanged(void **state)
{
    struct fixture *f = *state;
    char garbage[8192];
    for (size_t i = 0; i < sizeof(garbage); i++) {
        garbage[i] = (char)(i * 7 + 3);
    }
    file_write(f->path, garbage, sizeof(garbage));

    struct store *st = NULL;
    char err[256] = "";
    int ret = sqlite_store_open_with(f->path, SQLITE_STORE_READ_WRITE, NULL, &st,
                                     err, sizeof(err));
    assert_int_equal(ret, DF_ESTORE_CORRUPT);
    assert_non_null(strstr(err, "not a database"));

    char after[sizeof(garbage) + 16];
    assert_int_equal(file_read(f->path, after, sizeof(after)), sizeof(garbage));
    assert_memory_equal(after, garbage, sizeof(garbage));
    char wal[160];
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_false(file_exists(wal));

    ret = sqlite_store_open(f->path, SQLITE_STORE_READ_ONLY, &st);
    assert_int_equal(ret, DF_ESTORE_CORRUPT);
}

static void test_open_rejects_damaged_database(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    for (int i = 0; i < 2000; i++) {
        char client[32];
        snprintf(client, sizeof(client), "198.51.%d.%d/32", i / 256, i % 256);
        struct store_client row = make_row("192.0.2.53", client, 1, 2, 1, 0,
                                           "a-fairly-long-name.example.");
        assert_int_equal(store_submit_row(st, &row, NULL, 0), 0);
    }
    assert_int_equal(st->ops->sync(st), 0);
    st->ops->close(st);
    /* Move every page into the database file, where the damage goes. */
    raw_exec(f->path, "PRAGMA wal_checkpoint(TRUNCATE)");

    /* Overwrite the b-tree headers of pages 2 to 8, leaving page 1 intact. */
    assert_true(raw_query_int(f->path, "PRAGMA page_count") > 8);
    int64_t page_size = raw_query_int(f->path, "PRAGMA page_size");
    int fd = open(f->path, O_WRONLY);
    assert_true(fd >= 0);
    char junk[16];
    memset(junk, 0xa5, sizeof(junk));
    for (int64_t page = 2; page <= 8; page++) {
        assert_int_equal(pwrite(fd, junk, sizeof(junk), (page - 1) * page_size),
                         (ssize_t)sizeof(junk));
    }
    close(fd);

    char err[256] = "";
    int ret = sqlite_store_open_with(f->path, SQLITE_STORE_READ_WRITE, NULL, &st,
                                     err, sizeof(err));
    assert_int_equal(ret, DF_ESTORE_CORRUPT);
    assert_true(strlen(err) > 0);
}

static void test_open_rejects_newer_schema(void **state)
{
    struct fixture *f = *state;
    char sql[160];
    snprintf(sql, sizeof(sql),
             "PRAGMA application_id = 1684960102;"
             "PRAGMA user_version = %d;"
             "CREATE TABLE clients(x);",
             SQLITE_STORE_SCHEMA_VERSION + 1);
    raw_exec(f->path, sql);
    char before[65536];
    size_t len = file_read(f->path, before, sizeof(before));

    struct store *st = NULL;
    char err[256] = "";
    int ret = sqlite_store_open_with(f->path, SQLITE_STORE_READ_WRITE, NULL, &st,
                                     err, sizeof(err));
    assert_int_equal(ret, DF_ESTORE_VERSION);
    assert_non_null(strstr(err, "newer"));

    char after[65536];
    assert_int_equal(file_read(f->path, after, sizeof(after)), len);
    assert_memory_equal(after, before, len);
}

static void test_open_rejects_other_program(void **state)
{
    struct fixture *f = *state;
    raw_exec(f->path, "CREATE TABLE bookmarks(url TEXT);");

    struct store *st = NULL;
    char err[256] = "";
    int ret = sqlite_store_open_with(f->path, SQLITE_STORE_READ_WRITE, NULL, &st,
                                     err, sizeof(err));
    assert_int_equal(ret, DF_ESTORE_VERSION);
    assert_non_null(strstr(err, "another program"));
    assert_int_equal(raw_query_int(f->path, "PRAGMA user_version"), 0);
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM sqlite_master"),
                     1);
}

/*
 * Open READ_WRITE in a child that cannot write the file, then cannot write
 * the directory. As root, the child drops to uid 65534 so that permissions
 * apply at all. Exit code 0 means both opens failed as expected.
 */
static int read_only_child(const char *dir, const char *path)
{
    if (geteuid() == 0) {
        if (chmod(dir, 0755) != 0 || chmod(path, 0644) != 0 ||
            setgid(65534) != 0 || setuid(65534) != 0) {
            return 10;
        }
    } else if (chmod(path, 0444) != 0) {
        return 11;
    }

    struct store *st = NULL;
    int ret = sqlite_store_open(path, SQLITE_STORE_READ_WRITE, &st);
    if (ret != DF_ESTORE_READONLY) {
        return 12;
    }
    return 0;
}

static void test_open_rejects_read_only_file(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    st->ops->close(st);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(read_only_child(f->dir, f->path));
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_open_rejects_read_only_directory(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    st->ops->close(st);
    if (geteuid() != 0) {
        skip();
    }

    /* The file is the child's own, but the directory stays root's. */
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(chown(f->path, 65534, 65534), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) {
            _exit(10);
        }
        int ret = sqlite_store_open(f->path, SQLITE_STORE_READ_WRITE, &st);
        _exit(ret == DF_ESTORE_READONLY ? 0 : 12);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_open_rejects_second_writer(void **state)
{
    struct fixture *f = *state;
    struct store *first = open_rw(f->path);

    struct store *second = NULL;
    char err[256] = "";
    int ret = sqlite_store_open_with(f->path, SQLITE_STORE_READ_WRITE, NULL,
                                     &second, err, sizeof(err));
    assert_int_equal(ret, DF_ESTORE_LOCKED);
    assert_null(second);
    assert_non_null(strstr(err, "another dnsfirst process"));

    /* Readers are welcome while the writer runs. */
    struct store *reader = NULL;
    assert_int_equal(sqlite_store_open(f->path, SQLITE_STORE_READ_ONLY, &reader),
                     0);
    struct store_client row = make_row("s", "192.0.2.1/32", 1, 1, 1, 0, "q.");
    assert_int_equal(store_submit_row(reader, &row, NULL, 0),
                     DF_ESTORE_READONLY);
    reader->ops->close(reader);

    first->ops->close(first);
    second = open_rw(f->path);
    second->ops->close(second);
}

static void test_submit_alerts_after_commit(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct collector c = { .check_path = f->path };
    st->alert_fn = collect_alert;
    st->alert_ctx = &c;

    struct store_client a = make_row("192.0.2.53", "203.0.113.0/24", 100, 100,
                                     1, 0, "example.com. A");
    struct store_client b = make_row("192.0.2.53", "2001:db8:1:2::/64", 101,
                                     101, 1, 0, "example.org. AAAA");
    const char alert_a[] = "{\"client\":\"203.0.113.0/24\"}";
    const char alert_b[] = "{\"client\":\"2001:db8:1:2::/64\"}";
    assert_int_equal(store_submit_row(st, &a, alert_a, strlen(alert_a)), 0);
    assert_int_equal(store_submit_row(st, &b, alert_b, strlen(alert_b)), 0);
    assert_int_equal(st->ops->sync(st), 0);

    assert_int_equal(c.alert_count, 2);
    assert_string_equal(c.alerts[0], alert_a);
    assert_string_equal(c.alerts[1], alert_b);
    assert_true(c.rows_at_alert[0] >= 1);
    assert_int_equal(c.rows_at_alert[1], 2);

    struct store_stats stats;
    assert_int_equal(st->ops->stats(st, &stats), 0);
    assert_int_equal(stats.clients, 2);
    assert_int_equal(stats.outbox, 0);
    assert_int_equal(st->counters.rows_committed, 2);
    assert_int_equal(st->counters.alerts_written, 2);
    assert_true(st->counters.transactions >= 1);
    st->ops->close(st);
}

static void test_failed_commit_skips_alerts(void **state)
{
    struct fixture *f = *state;
    struct sqlite_store_options opts = { .busy_timeout_ms = 50 };
    struct store *st = open_rw_with(f->path, &opts);
    struct collector c = { 0 };
    st->alert_fn = collect_alert;
    st->alert_ctx = &c;

    /* Another connection holds the write lock, so BEGIN times out. */
    sqlite3 *blocker = NULL;
    assert_int_equal(sqlite3_open(f->path, &blocker), SQLITE_OK);
    assert_int_equal(sqlite3_exec(blocker, "BEGIN IMMEDIATE", NULL, NULL, NULL),
                     SQLITE_OK);

    struct store_client row = make_row("s", "192.0.2.9/32", 1, 1, 1, 0, "q.");
    assert_int_equal(store_submit_row(st, &row, "{}", 2), 0);
    assert_int_equal(st->ops->sync(st), DF_ESTORE_LOCKED);
    assert_int_equal(c.alert_count, 0);
    assert_true(strlen(sqlite_store_last_error(st)) > 0);

    /* The error sticks: later writes are rejected, not silently dropped. */
    assert_int_equal(store_submit_seen(st, "s", "192.0.2.9/32", 2, 1),
                     DF_ESTORE_LOCKED);

    sqlite3_exec(blocker, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(blocker);
    st->ops->close(st);
    assert_int_equal(raw_query_int(f->path, COMMITTED_CLIENTS_SQL), 0);
}

static void test_failed_alert_stays_in_outbox(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct collector c = { .fail_with = -EIO };
    st->alert_fn = collect_alert;
    st->alert_ctx = &c;

    struct store_client row = make_row("s", "192.0.2.10/32", 1, 1, 1, 0, "q.");
    assert_int_equal(store_submit_row(st, &row, "{\"n\":1}", 7), 0);
    assert_int_equal(st->ops->sync(st), -EIO);
    st->ops->close(st);

    assert_int_equal(raw_query_int(f->path, COMMITTED_CLIENTS_SQL), 1);
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM outbox"), 1);
}

static int exit_on_alert(void *ctx, const char *alert, size_t len)
{
    (void)ctx;
    (void)alert;
    (void)len;
    _exit(0);
}

/* Child: commit a client with its alert and die inside alert_fn. */
static void crash_child(const char *path)
{
    struct store *st = NULL;
    if (sqlite_store_open(path, SQLITE_STORE_READ_WRITE, &st) != 0) {
        _exit(20);
    }
    st->alert_fn = exit_on_alert;
    struct store_client row = make_row("192.0.2.53", "198.51.100.0/24", 5, 5, 1,
                                       0, "crash.example. A");
    const char alert[] = "{\"event\":\"crash\"}";
    store_submit_row(st, &row, alert, strlen(alert));
    st->ops->sync(st);
    _exit(21);
}

static void test_outbox_replay_after_crash(void **state)
{
    struct fixture *f = *state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        crash_child(f->path);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* The lock died with the child; the row and its alert survived. */
    struct store *st = open_rw(f->path);
    struct store_stats stats;
    assert_int_equal(st->ops->stats(st, &stats), 0);
    assert_int_equal(stats.clients, 1);
    assert_int_equal(stats.outbox, 1);

    struct collector c = { 0 };
    st->alert_fn = collect_alert;
    st->alert_ctx = &c;
    assert_int_equal(st->ops->replay_outbox(st), 0);
    assert_int_equal(c.alert_count, 1);
    assert_string_equal(c.alerts[0], "{\"event\":\"crash\"}");
    assert_int_equal(st->counters.outbox_replayed, 1);

    assert_int_equal(st->ops->stats(st, &stats), 0);
    assert_int_equal(stats.outbox, 0);
    assert_int_equal(st->ops->replay_outbox(st), 0);
    assert_int_equal(c.alert_count, 1);
    st->ops->close(st);
}

static void test_seen_updates_last_seen_and_count(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_client row = make_row("s", "192.0.2.0/24", 100, 100, 1, 0,
                                       "first.example. A");
    assert_int_equal(store_submit_row(st, &row, NULL, 0), 0);
    assert_int_equal(store_submit_seen(st, "s", "192.0.2.0/24", 150, 4), 0);
    /* An older last_seen (a late flush) must not move it back. */
    assert_int_equal(store_submit_seen(st, "s", "192.0.2.0/24", 120, 2), 0);
    /* An update for an unknown client changes nothing. */
    assert_int_equal(store_submit_seen(st, "s", "192.0.2.99/32", 150, 1), 0);
    assert_int_equal(st->ops->sync(st), 0);

    struct collector c = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.rows[0].first_seen, 100);
    assert_int_equal(c.rows[0].last_seen, 150);
    assert_int_equal(c.rows[0].query_count, 7);
    assert_string_equal(c.rows[0].first_query, "first.example. A");
    st->ops->close(st);
}

static void test_new_replaces_expired_row(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_client old = make_row("s", "192.0.2.0/24", 100, 200, 50,
                                       STORE_CLIENT_LEARNED, "old.example. A");
    struct store_client fresh = make_row("s", "192.0.2.0/24", 9000, 9000, 1, 0,
                                         "new.example. MX");
    assert_int_equal(store_submit_row(st, &old, NULL, 0), 0);
    assert_int_equal(store_submit_row(st, &fresh, NULL, 0), 0);
    assert_int_equal(st->ops->sync(st), 0);

    struct collector c = { 0 };
    assert_int_equal(st->ops->load(st, collect_row, &c), 0);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.rows[0].scope, "s");
    assert_string_equal(c.rows[0].client, "192.0.2.0/24");
    assert_int_equal(c.rows[0].last_seen, 9000);
    assert_int_equal(c.rows[0].flags, 0);
    assert_string_equal(c.rows[0].first_query, "");

    memset(&c, 0, sizeof(c));
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.rows[0].first_seen, 9000);
    assert_int_equal(c.rows[0].query_count, 1);
    assert_string_equal(c.rows[0].first_query, "new.example. MX");
    st->ops->close(st);
}

static void test_scope_start_round_trip(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    int64_t start = -1;
    assert_int_equal(st->ops->scope_start_get(st, "192.0.2.53", &start),
                     DF_ENOTFOUND);
    assert_int_equal(st->ops->scope_start_set(st, "192.0.2.53", 1700000000), 0);
    assert_int_equal(st->ops->scope_start_get(st, "192.0.2.53", &start), 0);
    assert_int_equal(start, 1700000000);
    assert_int_equal(st->ops->scope_start_set(st, "192.0.2.53", 1700000100), 0);
    assert_int_equal(st->ops->scope_start_get(st, "192.0.2.53", &start), 0);
    assert_int_equal(start, 1700000100);
    st->ops->close(st);
}

static void submit_clients(struct store *st, const char *const *clients,
                           size_t count)
{
    for (size_t i = 0; i < count; i++) {
        struct store_client row = make_row("192.0.2.53", clients[i],
                                           (int64_t)(100 + i),
                                           (int64_t)(200 + i), 1, 0, "q.");
        assert_int_equal(store_submit_row(st, &row, NULL, 0), 0);
    }
    assert_int_equal(st->ops->sync(st), 0);
}

static void test_forget_matches_address_prefix_and_key(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    const char *const clients[] = {
        "203.0.113.0/24", "198.51.100.7/32", "2001:db8:1:2::/64",
        "2001:db8:9::/64",
    };
    submit_clients(st, clients, 4);

    uint64_t removed = 0;
    assert_int_equal(st->ops->forget(st, "203.0.113.77", &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(st->ops->forget(st, "203.0.113.77", &removed), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(st->ops->forget(st, "2001:db8:1:2::1", &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(st->ops->forget(st, "198.51.100.7/32", &removed), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(st->ops->forget(st, "not-an-address", &removed),
                     DF_EPARSE);

    /* A wider prefix takes every client key inside it. */
    assert_int_equal(st->ops->forget(st, "2001:db8::/32", &removed), 0);
    assert_int_equal(removed, 1);
    struct store_stats stats;
    assert_int_equal(st->ops->stats(st, &stats), 0);
    assert_int_equal(stats.clients, 0);
    st->ops->close(st);
}

static uint64_t changes_pending(const char *path)
{
    struct store *reader = NULL;
    assert_int_equal(sqlite_store_open(path, SQLITE_STORE_READ_ONLY, &reader), 0);
    uint64_t pending = 0;
    assert_int_equal(sqlite_store_changes_pending(reader, &pending), 0);
    reader->ops->close(reader);
    return pending;
}

static void test_prune_removes_old_rows(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    const char *const clients[] = {
        "192.0.2.1/32", "192.0.2.2/32", "192.0.2.3/32",
    };
    submit_clients(st, clients, 3); /* last_seen 200, 201, 202 */

    /* The rows wait in the change log: prune merges it first, as they are old. */
    assert_int_equal(changes_pending(f->path), 3);
    uint64_t removed = 0;
    assert_int_equal(st->ops->prune(st, 202, &removed), 0);
    assert_int_equal(removed, 2);
    assert_int_equal(changes_pending(f->path), 0);

    struct collector c = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.rows[0].client, "192.0.2.3/32");
    st->ops->close(st);
}


static void test_changes_merge_before_reads(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_client a = make_row("s", "192.0.2.1/32", 100, 100, 1, 0, "a. A");
    struct store_client b = make_row("s", "192.0.2.2/32", 110, 110, 1, 0, "b. A");
    assert_int_equal(store_submit_row(st, &a, NULL, 0), 0);
    assert_int_equal(st->ops->sync(st), 0);
    assert_int_equal(store_submit_seen(st, "s", "192.0.2.1/32", 150, 4), 0);
    assert_int_equal(store_submit_row(st, &b, NULL, 0), 0);
    assert_int_equal(st->ops->sync(st), 0);

    /* The writer merges only after a second of idleness, so all wait here. */
    assert_int_equal(changes_pending(f->path), 3);
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM clients"), 0);

    /* A read-only open lists them through its view of the log. */
    struct store *reader = NULL;
    assert_int_equal(sqlite_store_open(f->path, SQLITE_STORE_READ_ONLY, &reader), 0);
    struct collector seen = { 0 };
    assert_int_equal(reader->ops->list(reader, collect_row, &seen), 0);
    assert_int_equal(seen.count, 2);
    assert_int_equal(seen.rows[0].last_seen, 150);
    assert_int_equal(seen.rows[0].query_count, 5);
    assert_string_equal(seen.rows[1].first_query, "b. A");
    struct store_stats stats;
    assert_int_equal(reader->ops->stats(reader, &stats), 0);
    assert_int_equal(stats.clients, 2);
    assert_int_equal(stats.newest_last_seen, 150);
    reader->ops->close(reader);
    assert_int_equal(changes_pending(f->path), 3);

    struct collector c = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.rows[0].client, "192.0.2.1/32");
    assert_int_equal(c.rows[0].last_seen, 150);
    assert_int_equal(c.rows[0].query_count, 5);
    assert_int_equal(c.rows[1].first_seen, 110);
    assert_int_equal(changes_pending(f->path), 0);
    assert_int_equal(st->counters.changes_merged, 3);
    st->ops->close(st);
}

static void test_changes_keep_any_text(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    const char name[] = "q\"uote\\back\x01ctl\xc3\xa9. A";
    struct store_client a = make_row("s", "192.0.2.1/32", 100, 100, 1, 0, name);
    assert_int_equal(store_submit_row(st, &a, NULL, 0), 0);
    assert_int_equal(st->ops->sync(st), 0);

    /* The text goes into the log's JSON and comes back whole, read-only too. */
    struct store *reader = NULL;
    assert_int_equal(sqlite_store_open(f->path, SQLITE_STORE_READ_ONLY, &reader), 0);
    struct collector seen = { 0 };
    assert_int_equal(reader->ops->list(reader, collect_row, &seen), 0);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.rows[0].first_query, name);
    reader->ops->close(reader);

    struct collector merged = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &merged), 0);
    assert_int_equal(merged.count, 1);
    assert_string_equal(merged.rows[0].first_query, name);
    st->ops->close(st);
}

static void test_stats_count_row_kinds(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_client rows[] = {
        make_row("s", "192.0.2.1/32", 1, 1, 1, 0, "a. A"),
        make_row("s", "192.0.2.2/32", 1, 1, 1, STORE_CLIENT_LEARNED, "b. A"),
        make_row("s", "192.0.2.3/32", 1, 1, 1, STORE_CLIENT_STORM, "c. A"),
        make_row("s", "192.0.2.4/32", 1, 1, 1, STORE_CLIENT_STORM | STORE_CLIENT_LEARNED, "d. A"),
    };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(store_submit_row(st, &rows[i], NULL, 0), 0);
    }
    assert_int_equal(st->ops->sync(st), 0);

    /* A storm row counts as storm even when it was also learned, as list shows it. */
    struct store_stats stats;
    assert_int_equal(st->ops->stats(st, &stats), 0);
    assert_int_equal(stats.clients, 4);
    assert_int_equal(stats.learned, 1);
    assert_int_equal(stats.storm, 2);
    st->ops->close(st);
}

static void test_idle_writer_merges_changes(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    const char *const clients[] = { "192.0.2.1/32", "192.0.2.2/32" };
    submit_clients(st, clients, 2);

    for (int i = 0; i < 100 && __atomic_load_n(&st->counters.changes_merged, __ATOMIC_RELAXED) < 2;
         i++) {
        usleep(50 * 1000);
    }
    assert_int_equal(__atomic_load_n(&st->counters.changes_merged, __ATOMIC_RELAXED), 2);
    assert_int_equal(changes_pending(f->path), 0);
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM clients"), 2);
    st->ops->close(st);
}

static void test_busy_writer_bounds_changes(void **state)
{
    struct fixture *f = *state;
    struct sqlite_store_options opts = { .changes_pending_max = 4 };
    struct store *st = open_rw_with(f->path, &opts);
    for (int i = 0; i < 10; i++) {
        char client[32];
        snprintf(client, sizeof(client), "198.51.100.%d/32", i);
        struct store_client row = make_row("s", client, i, i, 1, 0, "q.");
        assert_int_equal(store_submit_row(st, &row, NULL, 0), 0);
        assert_int_equal(st->ops->sync(st), 0);
    }

    /* Each batch past the cap merges as many changes as it added. */
    assert_true(changes_pending(f->path) <= 5);
    assert_true(st->counters.changes_merged >= 5);
    assert_int_equal(raw_query_int(f->path, COMMITTED_CLIENTS_SQL), 10);
    st->ops->close(st);
}

/* The tables of schema version 1, which version 2 kept. */
#define VERSION_1_TABLES_SQL                                                         \
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"                                \
    "CREATE TABLE clients(scope TEXT NOT NULL, client TEXT NOT NULL,"                \
    " first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"                      \
    " query_count INTEGER NOT NULL DEFAULT 0, flags INTEGER NOT NULL DEFAULT 0,"     \
    " first_query TEXT NOT NULL DEFAULT '',"                                         \
    " PRIMARY KEY(scope, client)) WITHOUT ROWID;"                                    \
    "CREATE TABLE scopes(scope TEXT PRIMARY KEY, start INTEGER NOT NULL);"           \
    "CREATE TABLE outbox(id INTEGER PRIMARY KEY, alert TEXT NOT NULL);"

static void test_schema_version_1_upgrades(void **state)
{
    struct fixture *f = *state;
    raw_exec(f->path,
             VERSION_1_TABLES_SQL
             "INSERT INTO meta VALUES('schema_version', 1);"
             "INSERT INTO clients VALUES('s', '192.0.2.7/32', 1, 2, 3, 0, 'old. A');"
             "PRAGMA application_id = 1684960102;"
             "PRAGMA user_version = 1;");

    /* Read-only leaves the file as it is and finds nothing pending. */
    assert_int_equal(changes_pending(f->path), 0);
    assert_int_equal(raw_query_int(f->path, "PRAGMA user_version"), 1);

    struct store *st = open_rw(f->path);
    struct collector c = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.rows[0].first_query, "old. A");
    st->ops->close(st);
    assert_int_equal(raw_query_int(f->path, "PRAGMA user_version"),
                     SQLITE_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_query_int(f->path, "SELECT value FROM meta"
                                   " WHERE key = 'schema_version'"),
                     SQLITE_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM sqlite_master"
                                   " WHERE name = 'client_changes'"), 1);
}

/* List every row of @p path through a read-only connection, which folds the change log. */
static void list_read_only(const char *path, struct collector *c)
{
    struct store *reader = NULL;
    assert_int_equal(sqlite_store_open(path, SQLITE_STORE_READ_ONLY, &reader), 0);
    assert_int_equal(reader->ops->list(reader, collect_row, c), 0);
    reader->ops->close(reader);
}

static void assert_row(const struct store_client *row, const char *client,
                       int64_t first_seen, int64_t last_seen, uint64_t query_count,
                       uint32_t flags, const char *first_query)
{
    assert_string_equal(row->client, client);
    assert_int_equal(row->first_seen, first_seen);
    assert_int_equal(row->last_seen, last_seen);
    assert_int_equal(row->query_count, query_count);
    assert_int_equal(row->flags, flags);
    assert_string_equal(row->first_query, first_query);
}

/* A file of schema version 2 with one merged client, without its header stamp. */
#define VERSION_2_FILE_SQL                                                           \
    VERSION_1_TABLES_SQL                                                             \
    "CREATE TABLE client_changes(id INTEGER PRIMARY KEY, count INTEGER NOT NULL,"    \
    " min_last_seen INTEGER NOT NULL, changes TEXT NOT NULL);"                       \
    "INSERT INTO meta VALUES('schema_version', 2);"                                  \
    "INSERT INTO clients VALUES('s', '192.0.2.8/32', 10, 20, 4, 0, 'kept. A');"

/* A version 2 file with changes waiting in the old row format. */
static void test_schema_version_2_upgrades(void **state)
{
    struct fixture *f = *state;
    raw_exec(f->path,
             VERSION_2_FILE_SQL
             "INSERT INTO client_changes(count, min_last_seen, changes) VALUES(3, 150,"
             " '[[1,\"s\",\"192.0.2.7/32\",100,150,2,1,\"old. A\"],"
             "[2,\"s\",\"192.0.2.7/32\",0,180,3,0,\"\"],"
             "[2,\"s\",\"192.0.2.8/32\",0,190,1,0,\"\"]]');"
             "PRAGMA application_id = 1684960102;"
             "PRAGMA user_version = 2;");

    /* Read-only folds the old rows and leaves the file at version 2. */
    struct collector c = { 0 };
    list_read_only(f->path, &c);
    assert_int_equal(c.count, 2);
    assert_row(&c.rows[0], "192.0.2.7/32", 100, 180, 5, 1, "old. A");
    assert_row(&c.rows[1], "192.0.2.8/32", 10, 190, 5, 0, "kept. A");
    assert_int_equal(raw_query_int(f->path, "PRAGMA user_version"), 2);

    /* Writing upgrades the file and merges the old rows the same way. */
    struct store *st = open_rw(f->path);
    struct collector merged = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &merged), 0);
    assert_int_equal(merged.count, 2);
    assert_row(&merged.rows[0], "192.0.2.7/32", 100, 180, 5, 1, "old. A");
    assert_row(&merged.rows[1], "192.0.2.8/32", 10, 190, 5, 0, "kept. A");
    st->ops->close(st);
    assert_int_equal(raw_query_int(f->path, "PRAGMA user_version"),
                     SQLITE_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM pragma_table_info("
                                   "'client_changes') WHERE name IN ('base', 'scopes')"), 2);
}

/*
 * A reader that opened a version 2 file before a writer upgraded it reads
 * the writer's version 3 rows with the version 3 columns.
 */
static void test_reader_sees_upgrade_after_open(void **state)
{
    struct fixture *f = *state;
    raw_exec(f->path,
             VERSION_2_FILE_SQL
             "PRAGMA application_id = 1684960102;"
             "PRAGMA user_version = 2;");
    struct store *reader = NULL;
    assert_int_equal(sqlite_store_open(f->path, SQLITE_STORE_READ_ONLY, &reader), 0);

    struct store *st = open_rw(f->path);
    struct store_client row = make_row("s2", "192.0.2.9/32", 5000, 5000, 1,
                                       STORE_CLIENT_LEARNED, "new. A");
    assert_int_equal(store_submit_row(st, &row, NULL, 0), 0);
    assert_int_equal(st->ops->sync(st), 0);

    struct collector c = { 0 };
    assert_int_equal(reader->ops->list(reader, collect_row, &c), 0);
    assert_int_equal(c.count, 2);
    assert_row(&c.rows[0], "192.0.2.8/32", 10, 20, 4, 0, "kept. A");
    assert_string_equal(c.rows[1].scope, "s2");
    assert_row(&c.rows[1], "192.0.2.9/32", 5000, 5000, 1, STORE_CLIENT_LEARNED, "new. A");
    reader->ops->close(reader);
    st->ops->close(st);
}

/* Holds the writer thread inside alert_fn until the test opens it. */
struct writer_gate {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    bool entered;
    bool open;
};

static int gate_alert(void *ctx, const char *alert, size_t len)
{
    struct writer_gate *g = ctx;
    (void)alert;
    (void)len;
    pthread_mutex_lock(&g->lock);
    g->entered = true;
    pthread_cond_broadcast(&g->changed);
    while (!g->open) {
        pthread_cond_wait(&g->changed, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return 0;
}

static int64_t compact_first_seen(int i)
{
    return i % 2 == 0 ? 1000 + i : 900 - i; /* odd ones before the row's base */
}

/*
 * A row of the change log names up to 16 scopes by index and writes the
 * others as text. Times count from the row's base, even those before it,
 * and a change without flags or name leaves both out. The writer is held
 * in the alert of a first change, so that the others make one row.
 */
static void test_change_rows_compact(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct writer_gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false,
                                false };
    st->alert_fn = gate_alert;
    st->alert_ctx = &gate;
    struct store_client first = make_row("zz", "192.0.2.9/32", 1, 1, 1, 0, "gate. A");
    assert_int_equal(store_submit_row(st, &first, "{}", 2), 0);
    pthread_mutex_lock(&gate.lock);
    while (!gate.entered) {
        pthread_cond_wait(&gate.changed, &gate.lock);
    }
    pthread_mutex_unlock(&gate.lock);

    char scope[16];
    for (int i = 0; i < 20; i++) {
        snprintf(scope, sizeof(scope), "s%02d", i);
        int64_t t = compact_first_seen(i);
        struct store_client row = make_row(scope, "192.0.2.1/32", t, t, 1,
                                           i == 3 ? 0 : STORE_CLIENT_LEARNED,
                                           i == 3 ? "" : "q.example. A");
        assert_int_equal(store_submit_row(st, &row, NULL, 0), 0);
    }
    assert_int_equal(store_submit_seen(st, "s05", "192.0.2.1/32", 2000, 7), 0);
    assert_int_equal(store_submit_seen(st, "s19", "192.0.2.1/32", 3000, 2), 0);
    pthread_mutex_lock(&gate.lock);
    gate.open = true;
    pthread_cond_broadcast(&gate.changed);
    pthread_mutex_unlock(&gate.lock);
    assert_int_equal(st->ops->sync(st), 0);

    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM client_changes"), 2);
    assert_int_equal(raw_query_int(f->path, "SELECT json_array_length(scopes)"
                                   " FROM client_changes WHERE id = 2"), 16);
    assert_int_equal(raw_query_int(f->path, "SELECT base FROM client_changes WHERE id = 2"),
                     1000);
    /* s16 to s19 as text, and the update of s19. */
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM client_changes c,"
                                   " json_each(c.changes) j"
                                   " WHERE typeof(j.value ->> 1) = 'text'"), 5);
    /* Both updates, and the new client without flags or name. */
    assert_int_equal(raw_query_int(f->path, "SELECT count(*) FROM client_changes c,"
                                   " json_each(c.changes) j WHERE json_array_length(j.value) = 6"),
                     3);

    struct collector folded = { 0 };
    list_read_only(f->path, &folded);
    struct collector merged = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &merged), 0);
    st->ops->close(st);

    const struct collector *views[] = { &folded, &merged };
    for (size_t v = 0; v < 2; v++) {
        assert_int_equal(views[v]->count, 21);
        /* Rows come in scope order, s00 to s15 (the collector keeps 16). */
        for (int i = 0; i < 16; i++) {
            int64_t t = compact_first_seen(i);
            snprintf(scope, sizeof(scope), "s%02d", i);
            assert_string_equal(views[v]->rows[i].scope, scope);
            assert_row(&views[v]->rows[i], "192.0.2.1/32", t, i == 5 ? 2000 : t,
                       i == 5 ? 8 : 1, i == 3 ? 0 : STORE_CLIENT_LEARNED,
                       i == 3 ? "" : "q.example. A");
        }
    }
}

static void test_prune_keeps_refreshed_rows(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    const char *const clients[] = { "192.0.2.1/32", "192.0.2.2/32" };
    submit_clients(st, clients, 2); /* last_seen 200, 201 */
    struct store_stats stats;
    assert_int_equal(st->ops->stats(st, &stats), 0); /* merges both rows */

    /* A pending update makes one merged row recent again. */
    assert_int_equal(store_submit_seen(st, "192.0.2.53", "192.0.2.2/32", 500, 1), 0);
    assert_int_equal(st->ops->sync(st), 0);
    uint64_t removed = 0;
    assert_int_equal(st->ops->prune(st, 300, &removed), 0);
    assert_int_equal(removed, 1);

    struct collector c = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.rows[0].client, "192.0.2.2/32");
    assert_int_equal(c.rows[0].last_seen, 500);
    st->ops->close(st);
}

static void test_import_row_merges(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_client a = make_row("s", "192.0.2.0/24", 500, 600, 10, 0,
                                     "later.example. A");
    struct store_client b = make_row("s", "192.0.2.0/24", 400, 550, 3,
                                     STORE_CLIENT_LEARNED, "earlier.example. A");
    assert_int_equal(st->ops->import_row(st, &a), 0);
    assert_int_equal(st->ops->import_row(st, &b), 0);

    struct collector c = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.rows[0].first_seen, 400);
    assert_int_equal(c.rows[0].last_seen, 600);
    assert_int_equal(c.rows[0].query_count, 10);
    assert_int_equal(c.rows[0].flags, STORE_CLIENT_LEARNED);
    assert_string_equal(c.rows[0].first_query, "earlier.example. A");
    st->ops->close(st);
}

static void test_export_import_round_trip(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    struct store_client rows[] = {
        make_row("192.0.2.53", "2001:db8:1:2::/64", 10, 20, 3, 0,
                 "quote\"and\\slash/.example. A"),
        make_row("192.0.2.53", "203.0.113.0/24", 11, 21, 4,
                 STORE_CLIENT_LEARNED, "example.com. TXT"),
    };
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(store_submit_row(st, &rows[i], NULL, 0), 0);
    }
    assert_int_equal(st->ops->sync(st), 0);

    char export_path[160];
    snprintf(export_path, sizeof(export_path), "%s/export.jsonl", f->dir);
    FILE *out = fopen(export_path, "w");
    assert_non_null(out);
    uint64_t count = 0;
    assert_int_equal(baseline_io_export(st, out, &count), 0);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(count, 2);
    st->ops->close(st);

    char text[1024];
    size_t len = file_read(export_path, text, sizeof(text) - 1);
    text[len] = '\0';
    assert_non_null(strstr(text, "{\"scope\":\"192.0.2.53\","
                                 "\"client\":\"203.0.113.0/24\","
                                 "\"first_seen\":11,\"last_seen\":21,"
                                 "\"query_count\":4,\"flags\":1,"
                                 "\"first_query\":\"example.com. TXT\"}\n"));

    /* Import into a fresh baseline and compare every field. */
    char copy_path[160];
    snprintf(copy_path, sizeof(copy_path), "%s/copy.db", f->dir);
    st = open_rw(copy_path);
    FILE *in = fopen(export_path, "r");
    assert_non_null(in);
    char err[256] = "";
    assert_int_equal(baseline_io_import(st, in, export_path, &count, err,
                                        sizeof(err)), 0);
    fclose(in);
    assert_int_equal(count, 2);

    struct collector c = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.count, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(c.rows[i].scope, rows[i].scope);
        assert_string_equal(c.rows[i].client, rows[i].client);
        assert_int_equal(c.rows[i].first_seen, rows[i].first_seen);
        assert_int_equal(c.rows[i].last_seen, rows[i].last_seen);
        assert_int_equal(c.rows[i].query_count, rows[i].query_count);
        assert_int_equal(c.rows[i].flags, rows[i].flags);
        assert_string_equal(c.rows[i].first_query, rows[i].first_query);
    }
    st->ops->close(st);
}

static void test_import_bad_line_applies_nothing(void **state)
{
    struct fixture *f = *state;
    char import_path[160];
    snprintf(import_path, sizeof(import_path), "%s/bad.jsonl", f->dir);
    const char text[] =
        "{\"scope\":\"s\",\"client\":\"192.0.2.1/32\",\"first_seen\":1,"
        "\"last_seen\":2,\"query_count\":1,\"flags\":0,\"first_query\":\"a.\"}\n"
        "\n"
        "{\"scope\":\"s\",\"client\":\"192.0.2.2/32\",\"first_seen\":1,"
        "\"last_seen\":2,\"query_count\":-1,\"flags\":0,\"first_query\":\"b.\"}\n";
    file_write(import_path, text, strlen(text));

    struct store *st = open_rw(f->path);
    FILE *in = fopen(import_path, "r");
    assert_non_null(in);
    char err[256] = "";
    uint64_t count = 99;
    assert_int_equal(baseline_io_import(st, in, "bad.jsonl", &count, err,
                                        sizeof(err)), DF_EPARSE);
    fclose(in);
    assert_int_equal(count, 0);
    assert_non_null(strstr(err, "bad.jsonl:3: \"query_count\" is out of range"));

    struct store_stats stats;
    assert_int_equal(st->ops->stats(st, &stats), 0);
    assert_int_equal(stats.clients, 0);
    st->ops->close(st);
}

static void test_row_parse_accepts_domain_key(void **state)
{
    (void)state;
    static const char line[] = "{\"scope\":\"192.0.2.1\",\"client\":\"example.net\","
                               "\"first_seen\":1,\"last_seen\":2,\"query_count\":3,"
                               "\"flags\":0,\"first_query\":\"a.example\"}";
    struct store_client row;
    char reason[BASELINE_IO_REASON_MAX];
    assert_int_equal(baseline_io_row_parse(line, sizeof(line) - 1, &row, reason, sizeof(reason)),
                     0);
    assert_string_equal(row.client, "example.net");
}

static void test_row_parse_rejects_bad_lines(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *reason;
    } cases[] = {
        { "{\"scope\":", "incomplete JSON" },
        { "[1,2]", "not a JSON object" },
        { "{\"scope\":\"s\"} x", "text after the JSON object" },
        { "{\"scope\" \"s\"}", "invalid JSON" },
        { "{\"scope\":\"s\",\"client\":\"192.0.2.1/32\"}", "missing \"first_seen\"" },
        { "{\"scope\":\"s\",\"client\":\"nope\",\"first_seen\":1,\"last_seen\":1,"
          "\"query_count\":1,\"flags\":0,\"first_query\":\"\"}", "neither an IP prefix nor a domain" },
        { "{\"scope\":\"s\",\"client\":\"192.0.2.1\",\"first_seen\":5,"
          "\"last_seen\":1,\"query_count\":1,\"flags\":0,\"first_query\":\"\"}",
          "after \"last_seen\"" },
        { "{\"scope\":1,\"client\":\"192.0.2.1\"}", "\"scope\" is not a string" },
        { "{\"scope\":\"s\",\"client\":\"192.0.2.1\",\"first_seen\":\"1\"}",
          "\"first_seen\" is not an integer" },
        { "{\"scope\":\"s\",\"client\":\"192.0.2.1\",\"first_seen\":1,"
          "\"last_seen\":1,\"query_count\":1,\"flags\":4294967296,"
          "\"first_query\":\"\"}", "\"flags\" is out of range" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store_client row;
        char reason[BASELINE_IO_REASON_MAX] = "";
        int ret = baseline_io_row_parse(cases[i].line, strlen(cases[i].line),
                                        &row, reason, sizeof(reason));
        if (ret != DF_EPARSE || strstr(reason, cases[i].reason) == NULL) {
            fail_msg("line %zu '%s': got %d '%s', expected '%s'", i,
                     cases[i].line, ret, reason, cases[i].reason);
        }
    }
}

/* Holds the writer inside alert_fn until the test opens the gate. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
};

static int alert_wait_for_gate(void *ctx, const char *alert, size_t len)
{
    struct gate *g = ctx;
    (void)alert;
    (void)len;
    pthread_mutex_lock(&g->lock);
    while (!g->open) {
        pthread_cond_wait(&g->cond, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return 0;
}

struct pusher {
    struct store *st;
    int ret;
};

static void *push_three(void *arg)
{
    struct pusher *p = arg;
    for (int i = 0; i < 3 && p->ret == 0; i++) {
        char client[32];
        snprintf(client, sizeof(client), "192.0.2.%d/32", 100 + i);
        p->ret = store_submit_seen(p->st, "s", client, 10, 1);
    }
    return NULL;
}

static void test_queue_full_waits_counted(void **state)
{
    struct fixture *f = *state;
    struct sqlite_store_options opts = { .batch_max = 1, .queue_max = 2 };
    struct store *st = open_rw_with(f->path, &opts);
    struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                      false };
    st->alert_fn = alert_wait_for_gate;
    st->alert_ctx = &g;

    /* The writer stops in alert_fn with this item still in its slot. */
    struct store_client row = make_row("s", "192.0.2.1/32", 1, 1, 1, 0, "q.");
    assert_int_equal(store_submit_row(st, &row, "{}", 2), 0);

    /* One slot is left: the second of three pushes must wait. */
    struct pusher p = { .st = st };
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, push_three, &p), 0);
    while (__atomic_load_n(&st->counters.queue_full_waits, __ATOMIC_RELAXED) == 0) {
        usleep(1000);
    }

    pthread_mutex_lock(&g.lock);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(p.ret, 0);
    assert_int_equal(st->ops->sync(st), 0);
    assert_true(st->counters.queue_full_waits >= 1);
    assert_int_equal(st->counters.rows_committed, 4);
    assert_int_equal(st->counters.transactions, 4);
    st->ops->close(st);
}

/*
 * Updates queued behind a client's row, while the writer is still handling
 * an earlier batch, each take a row of the log and apply in queue order.
 * The latest last_seen wins and the query counts add up.
 */
static void test_updates_apply_in_queue_order(void **state)
{
    struct fixture *f = *state;
    struct sqlite_store_options opts = { .batch_max = 1, .queue_max = 8 };
    struct store *st = open_rw_with(f->path, &opts);
    struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                      false };
    st->alert_fn = alert_wait_for_gate;
    st->alert_ctx = &g;

    /* The writer commits row a, then stops in alert_fn holding it. */
    struct store_client a = make_row("s", "192.0.2.1/32", 100, 100, 1, 0, "a.");
    assert_int_equal(store_submit_row(st, &a, "{}", 2), 0);
    while (__atomic_load_n(&st->counters.transactions, __ATOMIC_RELAXED) == 0) {
        usleep(1000);
    }

    struct store_client b = make_row("s", "192.0.2.2/32", 110, 110, 1, 0, "b.");
    assert_int_equal(store_submit_row(st, &b, NULL, 0), 0);
    assert_int_equal(store_submit_seen(st, "s", "192.0.2.2/32", 150, 4), 0);
    assert_int_equal(store_submit_seen(st, "s", "192.0.2.1/32", 200, 2), 0);
    assert_int_equal(store_submit_seen(st, "s", "192.0.2.2/32", 120, 1), 0);

    pthread_mutex_lock(&g.lock);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.lock);
    assert_int_equal(st->ops->sync(st), 0);

    /* Rows a and b and the three updates. */
    assert_int_equal(st->counters.rows_committed, 5);
    struct collector c = { 0 };
    assert_int_equal(st->ops->list(st, collect_row, &c), 0);
    assert_int_equal(c.count, 2);
    assert_string_equal(c.rows[0].client, "192.0.2.1/32");
    assert_int_equal(c.rows[0].last_seen, 200);
    assert_int_equal(c.rows[0].query_count, 3);
    assert_string_equal(c.rows[1].client, "192.0.2.2/32");
    assert_int_equal(c.rows[1].first_seen, 110);
    assert_int_equal(c.rows[1].last_seen, 150);
    assert_int_equal(c.rows[1].query_count, 6);
    assert_string_equal(c.rows[1].first_query, "b.");
    st->ops->close(st);
}

static void test_close_drains_queue(void **state)
{
    struct fixture *f = *state;
    struct sqlite_store_options opts = { .batch_max = 7, .queue_max = 16 };
    struct store *st = open_rw_with(f->path, &opts);
    for (int i = 0; i < 100; i++) {
        char client[32];
        snprintf(client, sizeof(client), "10.0.%d.0/24", i);
        struct store_client row = make_row("s", client, i, i, 1, 0, "q.");
        assert_int_equal(store_submit_row(st, &row, NULL, 0), 0);
    }
    st->ops->close(st);

    assert_int_equal(raw_query_int(f->path, COMMITTED_CLIENTS_SQL), 100);
}

/*
 * The writer's step after a commit, for a limit of 1000 pages. Under the
 * limit it does nothing, and over it it requests a pass. After a pass that
 * left little it copies the rest. From four times the limit it copies the
 * rest whatever its size, after the pass under way.
 */
static void test_checkpoint_steps(void **state)
{
    (void)state;
    static const struct {
        struct checkpoint_state st;
        int pages;
        enum checkpoint_step expected;
    } cases[] = {
        { { 1000, false, false, false, 0 }, 999, CHECKPOINT_STEP_NONE },
        { { 1000, false, false, false, 0 }, 1000, CHECKPOINT_STEP_REQUEST },
        { { 1000, false, true, false, 0 }, 1500, CHECKPOINT_STEP_NONE },
        { { 1000, true, false, false, 0 }, 1500, CHECKPOINT_STEP_NONE },
        { { 1000, false, false, true, 1400 }, 1450, CHECKPOINT_STEP_COPY_REST },
        { { 1000, false, false, true, 1000 }, 1450, CHECKPOINT_STEP_REQUEST },
        { { 1000, false, false, true, 1000 }, 3999, CHECKPOINT_STEP_REQUEST },
        { { 1000, false, false, false, 0 }, 4000, CHECKPOINT_STEP_COPY_REST },
        { { 1000, true, false, false, 0 }, 4000, CHECKPOINT_STEP_WAIT },
        { { 1000, false, true, true, 100 }, 9000, CHECKPOINT_STEP_COPY_REST },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum checkpoint_step step = checkpoint_step_after_commit(&cases[i].st, cases[i].pages);
        if (step != cases[i].expected) {
            fail_msg("case %zu: step %d, expected %d", i, (int)step, (int)cases[i].expected);
        }
    }
}

static off_t file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

/*
 * Commits over the page limit wake the checkpoint thread. The writer
 * connection never checkpoints on close, so only a checkpoint can have
 * grown the database file past its first pages.
 */
static void test_checkpoints_copy_the_wal(void **state)
{
    struct fixture *f = *state;
    struct sqlite_store_options opts = { .batch_max = 20, .checkpoint_pages = 8 };
    struct store *st = open_rw_with(f->path, &opts);
    off_t start_size = file_size(f->path);
    char query[200];
    memset(query, 'a', sizeof(query) - 2);
    query[sizeof(query) - 2] = '.';
    query[sizeof(query) - 1] = '\0';

    for (int i = 0; i < 3000; i++) {
        char client[32];
        snprintf(client, sizeof(client), "198.51.%d.%d/32", i / 256, i % 256);
        struct store_client row = make_row("s", client, i, i, 1, 0, query);
        assert_int_equal(store_submit_row(st, &row, NULL, 0), 0);
    }
    assert_int_equal(st->ops->sync(st), 0);
    for (int i = 0; i < 5000 && __atomic_load_n(&st->counters.checkpoints, __ATOMIC_RELAXED) == 0;
         i++) {
        usleep(1000);
    }
    assert_true(__atomic_load_n(&st->counters.checkpoints, __ATOMIC_RELAXED) >= 1);
    st->ops->close(st);

    /* 3000 first queries of 200 bytes: 600 kB that only a checkpoint moves. */
    assert_true(file_size(f->path) > start_size + 300000);
    assert_int_equal(raw_query_int(f->path, COMMITTED_CLIENTS_SQL), 3000);
}

#define ODD_ROWS 200

struct odd_rows {
    struct store_client rows[ODD_ROWS];
    size_t seen;
};

static int check_odd_row(void *ctx, const struct store_client *row)
{
    struct odd_rows *o = ctx;
    unsigned i = 0;
    if (strcmp(row->client, "not-utf8") == 0) {
        o->seen++;
        return 0;
    }
    assert_int_equal(sscanf(row->client, "c%u", &i), 1);
    assert_true(i < ODD_ROWS);
    assert_string_equal(row->scope, o->rows[i].scope);
    assert_string_equal(row->first_query, o->rows[i].first_query);
    o->seen++;
    return 0;
}

/*
 * Fill @p buf with @p len bytes of random UTF-8, NUL-terminated: mostly
 * letters, with one byte in 16 a character that JSON escapes or that is not
 * ASCII, so that many words of 8 bytes hold exactly one of them.
 */
static void random_text(char *buf, size_t len, unsigned *seed)
{
    static const char special[] = { '"', '\\', 0x01, 0x1f, 0x7f };
    size_t i = 0;
    while (i < len) {
        unsigned r = (unsigned)rand_r(seed);
        if (r % 16 != 0) {
            buf[i++] = (char)('a' + r / 16 % 26);
        } else if (r / 16 % 6 < 5) {
            buf[i++] = special[r / 16 % 6];
        } else if (i + 2 <= len) {
            buf[i++] = (char)0xc3; /* U+00E9 */
            buf[i++] = (char)0xa9;
        }
    }
    buf[len] = '\0';
}

/*
 * Texts with any character (quotes, backslashes, control bytes, DEL and
 * UTF-8 sequences, at every position of an 8-byte word) go through the
 * JSON change log and come back unchanged.
 */
static void test_change_log_keeps_any_text(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_rw(f->path);
    static struct odd_rows o;
    memset(&o, 0, sizeof(o));
    unsigned seed = 12345;
    for (unsigned i = 0; i < ODD_ROWS; i++) {
        struct store_client *row = &o.rows[i];
        random_text(row->scope, 1 + (size_t)rand_r(&seed) % 40, &seed);
        snprintf(row->client, sizeof(row->client), "c%u", i);
        random_text(row->first_query, (size_t)rand_r(&seed) % 60, &seed);
        row->first_seen = i;
        row->last_seen = i;
        row->query_count = 1;
        assert_int_equal(store_submit_row(st, row, NULL, 0), 0);
    }
    /* Bytes that are not UTF-8 may change on the way, but must not break the log. */
    struct store_client bad = make_row("scope\xff\xfe\x80" "xy", "not-utf8", 1, 1, 1, 0,
                                       "abc\xfe\xff" "-ghij");
    assert_int_equal(store_submit_row(st, &bad, NULL, 0), 0);
    assert_int_equal(st->ops->sync(st), 0);
    assert_int_equal(st->ops->list(st, check_odd_row, &o), 0);
    assert_int_equal(o.seen, ODD_ROWS + 1);
    st->ops->close(st);
}

#define STORE_TEST(fn) \
    cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_open_creates_versioned_schema),
        STORE_TEST(test_open_read_only_missing_file),
        STORE_TEST(test_open_rejects_garbage_unchanged),
        STORE_TEST(test_open_rejects_damaged_database),
        STORE_TEST(test_open_rejects_newer_schema),
        STORE_TEST(test_open_rejects_other_program),
        STORE_TEST(test_open_rejects_read_only_file),
        STORE_TEST(test_open_rejects_read_only_directory),
        STORE_TEST(test_open_rejects_second_writer),
        STORE_TEST(test_submit_alerts_after_commit),
        STORE_TEST(test_failed_commit_skips_alerts),
        STORE_TEST(test_failed_alert_stays_in_outbox),
        STORE_TEST(test_outbox_replay_after_crash),
        STORE_TEST(test_seen_updates_last_seen_and_count),
        STORE_TEST(test_new_replaces_expired_row),
        STORE_TEST(test_scope_start_round_trip),
        STORE_TEST(test_forget_matches_address_prefix_and_key),
        STORE_TEST(test_prune_removes_old_rows),
        STORE_TEST(test_prune_keeps_refreshed_rows),
        STORE_TEST(test_changes_merge_before_reads),
        STORE_TEST(test_changes_keep_any_text),
        STORE_TEST(test_stats_count_row_kinds),
        STORE_TEST(test_idle_writer_merges_changes),
        STORE_TEST(test_busy_writer_bounds_changes),
        STORE_TEST(test_schema_version_1_upgrades),
        STORE_TEST(test_schema_version_2_upgrades),
        STORE_TEST(test_reader_sees_upgrade_after_open),
        STORE_TEST(test_change_rows_compact),
        STORE_TEST(test_import_row_merges),
        STORE_TEST(test_export_import_round_trip),
        STORE_TEST(test_import_bad_line_applies_nothing),
        cmocka_unit_test(test_row_parse_accepts_domain_key),
        cmocka_unit_test(test_row_parse_rejects_bad_lines),
        STORE_TEST(test_queue_full_waits_counted),
        STORE_TEST(test_updates_apply_in_queue_order),
        STORE_TEST(test_change_log_keeps_any_text),
        STORE_TEST(test_close_drains_queue),
        STORE_TEST(test_checkpoints_copy_the_wal),
        cmocka_unit_test(test_checkpoint_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
