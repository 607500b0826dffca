/* SPDX-License-Identifier: MIT */
/* Unit tests of the in-memory client table: lookups, growth, removal, the cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detect/client_table.h"
#include "util/big_alloc.h"

static struct prefix v4_key(uint32_t n)
{
    struct prefix p;
    memset(&p, 0, sizeof(p));
    p.addr.family = ADDR_FAMILY_IPV4;
    p.addr.bytes[0] = (uint8_t)(n >> 24);
    p.addr.bytes[1] = (uint8_t)(n >> 16);
    p.addr.bytes[2] = (uint8_t)(n >> 8);
    p.addr.bytes[3] = (uint8_t)n;
    p.len = 32;
    return p;
}

static void test_table_insert_find_grow(void **state)
{
    (void)state;
    struct client_table t;
    assert_int_equal(client_table_init(&t, 0, 1000000), 0);
    for (uint32_t i = 0; i < 100000; i++) {
        struct prefix k = v4_key(i * 7919u);
        struct client_entry *e = client_table_insert(&t, 1 + i % 3, &k);
        assert_non_null(e);
        e->last_seen = i;
    }
    assert_int_equal(t.count, 100000);
    for (uint32_t i = 0; i < 100000; i++) {
        struct prefix k = v4_key(i * 7919u);
        struct client_entry *e = client_table_find(&t, 1 + i % 3, &k);
        assert_non_null(e);
        assert_int_equal(e->last_seen, i);
        /* Same address under another scope is another client. */
        assert_null(client_table_find(&t, 4, &k));
    }
    client_table_free(&t);
}

static void test_table_same_bits_other_family(void **state)
{
    (void)state;
    struct client_table t;
    assert_int_equal(client_table_init(&t, 0, 10), 0);
    struct prefix v4 = v4_key(0x0a000001);
    struct prefix v6 = v4;
    v6.addr.family = ADDR_FAMILY_IPV6;
    v6.len = 64;
    assert_non_null(client_table_insert(&t, 1, &v4));
    assert_null(client_table_find(&t, 1, &v6));
    client_table_free(&t);
}

static void test_table_remove_keeps_others_reachable(void **state)
{
    (void)state;
    struct client_table t;
    enum { N = 20000 };
    assert_int_equal(client_table_init(&t, 0, N), 0);
    for (uint32_t i = 0; i < N; i++) {
        struct prefix k = v4_key(i);
        assert_non_null(client_table_insert(&t, 1, &k));
    }

    /* Remove every third key: backward shifts must not strand the others. */
    for (uint32_t i = 0; i < N; i += 3) {
        struct prefix k = v4_key(i);
        struct client_entry *e = client_table_find(&t, 1, &k);
        assert_non_null(e);
        client_table_remove(&t, e);
    }
    for (uint32_t i = 0; i < N; i++) {
        struct prefix k = v4_key(i);
        struct client_entry *e = client_table_find(&t, 1, &k);
        if ((i % 3 == 0) != (e == NULL)) {
            fail_msg("key %u: expected %s", i, i % 3 == 0 ? "removed" : "present");
        }
    }
    assert_int_equal(t.count, N - (N + 2) / 3);
    client_table_free(&t);
}

static void test_table_rejects_past_max_count(void **state)
{
    (void)state;
    struct client_table t;
    assert_int_equal(client_table_init(&t, 0, 5), 0);
    for (uint32_t i = 0; i < 5; i++) {
        struct prefix k = v4_key(i);
        assert_non_null(client_table_insert(&t, 1, &k));
    }
    struct prefix extra = v4_key(99);
    assert_null(client_table_insert(&t, 1, &extra));
    assert_int_equal(t.count, 5);
    client_table_free(&t);
}

/*
 * Growth past 2 MiB of slots happens in place (mremap and rehash), by a
 * quarter at a time: every
 * key stays reachable through several doublings, with removals between
 * them, and with keys that differ only in scope.
 */
static void test_table_grows_in_place(void **state)
{
    (void)state;
    struct client_table t;
    enum { N = 400000 };
    assert_int_equal(client_table_init(&t, 0, N * 2), 0);
    for (uint32_t i = 0; i < N; i++) {
        struct prefix k = v4_key(i * 7919);
        struct client_entry *e = client_table_insert(&t, 1 + i % 2, &k);
        assert_non_null(e);
        e->last_seen = i;
        if (i % 50000 == 49999) {
            struct prefix gone = v4_key((i - 5) * 7919);
            client_table_remove(&t, client_table_find(&t, 1 + (i - 5) % 2, &gone));
        }
    }
    assert_true(t.capacity >= 500000);
    uint64_t found = 0;
    for (uint32_t i = 0; i < N; i++) {
        struct prefix k = v4_key(i * 7919);
        struct client_entry *e = client_table_find(&t, 1 + i % 2, &k);
        if (i % 50000 == 49994) {
            assert_null(e);
            continue;
        }
        if (e == NULL || e->last_seen != i || e->reserved != 0) {
            fail_msg("key %u lost or changed after growing", i);
        }
        assert_null(client_table_find(&t, 2 - i % 2, &k));
        found++;
    }
    assert_int_equal(found, t.count);
    client_table_free(&t);
}

/*
 * From 3/5 full, a table whose next array is mapped keeps that array as
 * its spare, and the growth at 4/5 moves into it, without waiting for the
 * thread that faults it in.
 */
static void test_table_grows_into_spare(void **state)
{
    (void)state;
    struct client_table t;
    assert_int_equal(client_table_init(&t, 0, 1000000), 0);
    uint32_t n = 0;
    while (t.spare == NULL) {
        assert_true(n < 200000);
        struct prefix k = v4_key(n++ * 2654435761u);
        assert_non_null(client_table_insert(&t, 1, &k));
    }
    assert_true(t.spare_capacity * sizeof(struct client_entry) >= BIG_ALLOC_MAP_MIN);
    assert_int_equal(t.spare_capacity, t.capacity + t.capacity / 2);
    assert_true(t.count * 5 > t.capacity * 3);
    assert_true((t.count - 1) * 5 <= t.capacity * 3);

    struct client_entry *spare = t.spare;
    uint64_t spare_capacity = t.spare_capacity;
    uint64_t capacity = t.capacity;
    while (t.capacity == capacity) {
        struct prefix k = v4_key(n++ * 2654435761u);
        assert_non_null(client_table_insert(&t, 1, &k));
    }
    assert_ptr_equal(t.slots, spare);
    assert_int_equal(t.capacity, spare_capacity);
    for (uint32_t i = 0; i < n; i++) {
        struct prefix k = v4_key(i * 2654435761u);
        assert_non_null(client_table_find(&t, 1, &k));
    }
    client_table_free(&t);
}

static void test_table_entry_is_32_bytes(void **state)
{
    (void)state;
    /* The per-client memory budget depends on this size. */
    assert_int_equal(sizeof(struct client_entry), 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_insert_find_grow),
        cmocka_unit_test(test_table_same_bits_other_family),
        cmocka_unit_test(test_table_remove_keeps_others_reachable),
        cmocka_unit_test(test_table_rejects_past_max_count),
        cmocka_unit_test(test_table_grows_in_place),
        cmocka_unit_test(test_table_grows_into_spare),
        cmocka_unit_test(test_table_entry_is_32_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
