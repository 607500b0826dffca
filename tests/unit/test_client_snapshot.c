/* SPDX-License-Identifier: MIT */
/* Unit tests of the client table snapshot: round trip, stale, damaged and foreign files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "detect/client_snapshot.h"

#define GENERATION 0x1234567890ULL
#define CLIENTS 5000

struct fixture {
    char path[64];
    struct client_table table;
    struct scope_registry scopes;
};

static struct prefix client_key(uint32_t n)
{
    struct prefix p;
    memset(&p, 0, sizeof(p));
    if (n % 4 == 3) {
        p.addr.family = ADDR_FAMILY_IPV6;
        p.addr.bytes[0] = 0x20;
        p.addr.bytes[1] = 0x01;
        p.addr.bytes[2] = 0x0d;
        p.addr.bytes[3] = 0xb8;
        memcpy(p.addr.bytes + 4, &n, sizeof(n));
        p.len = 64;
    } else {
        p.addr.family = ADDR_FAMILY_IPV4;
        p.addr.bytes[0] = 10;
        p.addr.bytes[1] = (uint8_t)(n >> 16);
        p.addr.bytes[2] = (uint8_t)(n >> 8);
        p.addr.bytes[3] = (uint8_t)n;
        p.len = 32;
    }
    return p;
}

static uint32_t scope_of(uint32_t n)
{
    return 1 + n % 3;
}

/* A table of CLIENTS clients over three server scopes, with run state set. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/test_client_snapshot.%d", (int)getpid());
    assert_int_equal(client_table_init(&f->table, 0, 1000000), 0);
    assert_int_equal(scope_registry_init(&f->scopes, SCOPE_SERVER, "site"), 0);
    const char *servers[] = { "192.0.2.1", "2001:db8::53", "198.51.100.7" };
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(scope_registry_lookup_key(&f->scopes, servers[i]), i + 1);
    }
    for (uint32_t n = 0; n < CLIENTS; n++) {
        struct prefix k = client_key(n);
        struct client_entry *e = client_table_insert(&f->table, scope_of(n), &k);
        assert_non_null(e);
        e->last_seen = 1700000000 + n;
        e->unflushed = n;
        e->flags = (uint8_t)(n % 16);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    client_table_free(&f->table);
    scope_registry_free(&f->scopes);
    free(f);
    return 0;
}

/* Read the snapshot into a fresh table and registry; returns the reason or NULL. */
static const char *read_fresh(struct fixture *f, uint64_t generation, uint64_t max_count,
                              struct client_table *t, struct scope_registry *reg)
{
    const char *reason = NULL;
    assert_int_equal(client_table_init(t, 0, max_count), 0);
    assert_int_equal(scope_registry_init(reg, SCOPE_SERVER, "site"), 0);
    int ret = client_snapshot_read(f->path, generation, t, reg, &reason);
    assert_true((ret == 0) == (reason == NULL));
    if (reason != NULL) {
        assert_int_equal(t->count, 0);
        assert_int_equal(t->capacity, 1024);
    }
    return reason;
}

static void expect_rejected(struct fixture *f, uint64_t generation, const char *expected)
{
    struct client_table t;
    struct scope_registry reg;
    const char *reason = read_fresh(f, generation, 1000000, &t, &reg);
    assert_non_null(reason);
    assert_non_null(strstr(reason, expected));
    client_table_free(&t);
    scope_registry_free(&reg);
}

/* Overwrite @p len bytes at @p offset of the snapshot. */
static void patch(const struct fixture *f, long offset, const void *data, size_t len)
{
    FILE *fp = fopen(f->path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, offset, SEEK_SET), 0);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);

    struct client_table t;
    struct scope_registry reg;
    assert_null(read_fresh(f, GENERATION, 1000000, &t, &reg));
    assert_int_equal(t.count, CLIENTS);
    assert_int_equal(t.capacity, f->table.capacity);
    assert_int_equal(reg.count, 3);
    assert_string_equal(scope_registry_get(&reg, 2)->key, "2001:db8::53");
    for (uint32_t n = 0; n < CLIENTS; n++) {
        struct prefix k = client_key(n);
        struct client_entry *e = client_table_find(&t, scope_of(n), &k);
        assert_non_null(e);
        assert_int_equal(e->last_seen, 1700000000 + n);
        assert_int_equal(e->unflushed, 0);
        assert_int_equal(e->flags, n % 16 & (CLIENT_LEARNED | CLIENT_STORM));
        assert_null(client_table_find(&t, scope_of(n + 1), &k));
    }
    /* The table works on: inserts and removals after the load. */
    struct prefix extra = client_key(CLIENTS + 1);
    assert_non_null(client_table_insert(&t, 1, &extra));
    client_table_remove(&t, client_table_find(&t, 1, &extra));
    assert_int_equal(t.count, CLIENTS);
    client_table_free(&t);
    scope_registry_free(&reg);
}

/* Only occupied slots reach the file: 15 bytes an IPv4 client, 27 an IPv6 one, 8 per 64 slots. */
static void test_file_holds_occupied_slots(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    uint64_t ipv6 = CLIENTS / 4;
    uint64_t expected = sizeof(struct client_snapshot_header) + 3 * STORE_KEY_MAX +
                        (f->table.capacity + 63) / 64 * 8 + (CLIENTS - ipv6) * 15 + ipv6 * 27;
    assert_int_equal((uint64_t)sb.st_size, expected);
    assert_true((uint64_t)sb.st_size < f->table.capacity * sizeof(struct client_entry) / 2);
}

/* Read a whole file into a new buffer, and set *len to its size. */
static char *file_slurp(const char *path, size_t *len)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    char *buf = malloc((size_t)sb.st_size);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, (size_t)sb.st_size, fp), (size_t)sb.st_size);
    fclose(fp);
    *len = (size_t)sb.st_size;
    return buf;
}

/*
 * A snapshot written by its thread, chunk by chunk as the slots are marked
 * ready, equals the file of one write. Meanwhile the caller changes query
 * counts in later slots, as the last flush does.
 */
static void test_followed_write_same_file(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    size_t expected_len = 0;
    char *expected = file_slurp(f->path, &expected_len);
    unlink(f->path);

    struct client_snapshot_writer *w = NULL;
    assert_int_equal(client_snapshot_begin(f->path, &f->table, &f->scopes, &w), 0);
    assert_int_equal(client_snapshot_follow(w), 0);
    for (uint64_t first = 0; first < f->table.capacity; first += 1024) {
        for (uint64_t i = first; i < first + 1024 && i < f->table.capacity; i++) {
            f->table.slots[i].unflushed = 0;
        }
        client_snapshot_ready(w, first + 1024);
    }
    assert_int_equal(client_snapshot_commit(w, GENERATION), 0);

    size_t len = 0;
    char *written = file_slurp(f->path, &len);
    assert_int_equal(len, expected_len);
    assert_memory_equal(written, expected, len);
    free(written);
    free(expected);
}

/* An abort while half the slots are ready waits for the thread and leaves no file. */
static void test_followed_write_abort(void **state)
{
    struct fixture *f = *state;
    struct client_snapshot_writer *w = NULL;
    assert_int_equal(client_snapshot_begin(f->path, &f->table, &f->scopes, &w), 0);
    assert_int_equal(client_snapshot_follow(w), 0);
    client_snapshot_ready(w, f->table.capacity / 2);
    client_snapshot_abort(w);
    struct stat sb;
    assert_int_not_equal(stat(f->path, &sb), 0);
    char tmp[80];
    snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
    assert_int_not_equal(stat(tmp, &sb), 0);
}

static void test_stale_generation(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    expect_rejected(f, GENERATION + 1, "stale");
}

static void test_missing_file(void **state)
{
    struct fixture *f = *state;
    expect_rejected(f, GENERATION, "no snapshot");
}

static void test_truncated(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    struct stat sb;
    assert_int_equal(stat(f->path, &sb), 0);
    long full = (long)sb.st_size;
    long cuts[] = { full - 1, full / 2, 130, 100, 0 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        assert_int_equal(truncate(f->path, cuts[i]), 0);
        expect_rejected(f, GENERATION, "size");
    }
}

static void test_corrupt(void **state)
{
    struct fixture *f = *state;
    long slots = (long)sizeof(struct client_snapshot_header) + 3 * STORE_KEY_MAX;
    for (long at = slots; at < slots + 4096; at += 97) {
        assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
        uint8_t junk = 0xa5;
        patch(f, at, &junk, 1);
        expect_rejected(f, GENERATION, "checksum");
    }
    /* A damaged scope key. */
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    patch(f, (long)sizeof(struct client_snapshot_header) + 2, "x", 1);
    expect_rejected(f, GENERATION, "checksum");
    /* A damaged magic. */
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    patch(f, 0, "X", 1);
    expect_rejected(f, GENERATION, "not a client snapshot");
}

/* Files of another slot size, another capacity or too many clients for max-clients. */
static void test_other_table_size(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    uint32_t slot_size = 24;
    patch(f, offsetof(struct client_snapshot_header, slot_size), &slot_size, sizeof(slot_size));
    expect_rejected(f, GENERATION, "another version");

    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    uint64_t capacity = f->table.capacity * 2;
    patch(f, offsetof(struct client_snapshot_header, capacity), &capacity, sizeof(capacity));
    expect_rejected(f, GENERATION, "size");

    capacity = 1000; /* under the minimum */
    patch(f, offsetof(struct client_snapshot_header, capacity), &capacity, sizeof(capacity));
    expect_rejected(f, GENERATION, "bad table size");

    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    struct client_table t;
    struct scope_registry reg;
    const char *reason = read_fresh(f, GENERATION, CLIENTS - 1, &t, &reg);
    assert_non_null(reason);
    assert_non_null(strstr(reason, "max-clients"));
    client_table_free(&t);
    scope_registry_free(&reg);
}

/* A snapshot of another scope mode is not used. */
static void test_other_scope_mode(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(client_snapshot_write(f->path, &f->table, &f->scopes, GENERATION), 0);
    struct client_table t;
    struct scope_registry reg;
    const char *reason = NULL;
    assert_int_equal(client_table_init(&t, 0, 1000000), 0);
    assert_int_equal(scope_registry_init(&reg, SCOPE_SITE, "site"), 0);
    assert_int_not_equal(client_snapshot_read(f->path, GENERATION, &t, &reg, &reason), 0);
    assert_non_null(strstr(reason, "scope"));
    assert_int_equal(t.count, 0);
    client_table_free(&t);
    scope_registry_free(&reg);
}

/* An empty table round-trips too. */
static void test_empty_table(void **state)
{
    struct fixture *f = *state;
    struct client_table empty;
    struct scope_registry none;
    assert_int_equal(client_table_init(&empty, 0, 10), 0);
    assert_int_equal(scope_registry_init(&none, SCOPE_SERVER, "site"), 0);
    assert_int_equal(client_snapshot_write(f->path, &empty, &none, 7), 0);
    struct client_table t;
    struct scope_registry reg;
    assert_null(read_fresh(f, 7, 10, &t, &reg));
    assert_int_equal(t.count, 0);
    assert_int_equal(reg.count, 0);
    client_table_free(&t);
    scope_registry_free(&reg);
    client_table_free(&empty);
    scope_registry_free(&none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_holds_occupied_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_followed_write_same_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_followed_write_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_generation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_table_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_scope_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_table, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
