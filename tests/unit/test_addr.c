/* SPDX-License-Identifier: MIT */
/* Unit tests of address and prefix parsing, masking and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detect/networks.h"
#include "util/addr.h"
#include "util/error.h"

static void test_prefix_parse_valid(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint8_t family;
        uint8_t len;
        const char *formatted;
    } cases[] = {
        { "10.0.0.0/8", ADDR_FAMILY_IPV4, 8, "10.0.0.0/8" },
        { "192.0.2.7", ADDR_FAMILY_IPV4, 32, "192.0.2.7/32" },
        { "0.0.0.0/0", ADDR_FAMILY_IPV4, 0, "0.0.0.0/0" },
        { "fc00::/7", ADDR_FAMILY_IPV6, 7, "fc00::/7" },
        { "::1", ADDR_FAMILY_IPV6, 128, "::1/128" },
        { "2001:db8:1:2::/64", ADDR_FAMILY_IPV6, 64, "2001:db8:1:2::/64" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct prefix p;
        char buf[ADDR_TEXT_MAX];
        assert_int_equal(prefix_parse(cases[i].text, &p), 0);
        assert_int_equal(p.addr.family, cases[i].family);
        assert_int_equal(p.len, cases[i].len);
        prefix_format(&p, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].formatted);
    }
}

static void test_prefix_parse_rejects_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "/8", "10.0.0.0/33", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.0/-1",
        "300.0.0.0/8", "fc00::/129", "fe80::1/10", "example.com", "10.0.0.0 /8",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct prefix p;
        assert_int_equal(prefix_parse(bad[i], &p), DF_EPARSE);
    }
}

static void test_prefix_contains_edges(void **state)
{
    (void)state;
    struct prefix p;
    struct addr a;
    assert_int_equal(prefix_parse("172.16.0.0/12", &p), 0);

    assert_int_equal(addr_parse("172.31.255.255", &a), 0);
    assert_true(prefix_contains(&p, &a));
    assert_int_equal(addr_parse("172.32.0.0", &a), 0);
    assert_false(prefix_contains(&p, &a));
    assert_int_equal(addr_parse("172.15.255.255", &a), 0);
    assert_false(prefix_contains(&p, &a));

    /* An IPv4 prefix never contains an IPv6 address, even ::ffff:172.16.0.1. */
    assert_int_equal(addr_parse("::ffff:172.16.0.1", &a), 0);
    assert_false(prefix_contains(&p, &a));
}

static void test_addr_mask_ipv6_64(void **state)
{
    (void)state;
    struct addr a;
    struct addr expected;
    assert_int_equal(addr_parse("2001:db8:1:2:aaaa:bbbb:cccc:dddd", &a), 0);
    assert_int_equal(addr_parse("2001:db8:1:2::", &expected), 0);
    addr_mask(&a, 64);
    assert_memory_equal(&a, &expected, sizeof(a));

    assert_int_equal(addr_parse("203.0.113.77", &a), 0);
    assert_int_equal(addr_parse("203.0.113.64", &expected), 0);
    addr_mask(&a, 26);
    assert_memory_equal(&a, &expected, sizeof(a));
}

/* Clear the bits of @p a past @p len one byte at a time, as a reference for addr_mask(). */
static void reference_mask(struct addr *a, unsigned len)
{
    unsigned bits = addr_bits(a->family);
    for (unsigned i = 0; i < 16; i++) {
        unsigned first_bit = i * 8;
        if (first_bit >= bits || first_bit >= len) {
            a->bytes[i] = 0;
        } else if (first_bit + 8 > len) {
            a->bytes[i] &= (uint8_t)(0xff << (8 - (len - first_bit)));
        }
    }
}

/* Every length from 0 to 136, for IPv4, IPv6 and domain-key addresses. */
static void test_addr_mask_every_length(void **state)
{
    (void)state;
    static const uint8_t families[] = { ADDR_FAMILY_IPV4, ADDR_FAMILY_IPV6, ADDR_FAMILY_NAME };
    srand(3);
    for (size_t f = 0; f < sizeof(families); f++) {
        for (unsigned len = 0; len <= 136; len++) {
            struct addr a;
            a.family = families[f];
            for (size_t i = 0; i < 16; i++) {
                a.bytes[i] = (uint8_t)rand();
            }
            struct addr expected = a;
            reference_mask(&expected, len);
            addr_mask(&a, len);
            if (memcmp(&a, &expected, sizeof(a)) != 0) {
                fail_msg("family %u, length %u: masked differently", families[f], len);
            }
        }
    }
}

/* Random prefix lists against prefix_contains() over each prefix. */
static void test_networks_match_prefix_contains(void **state)
{
    (void)state;
    srand(4);
    for (int round = 0; round < 200; round++) {
        struct prefix prefixes[12];
        size_t count = (size_t)(rand() % 12);
        for (size_t i = 0; i < count; i++) {
            struct prefix *p = &prefixes[i];
            memset(p, 0, sizeof(*p));
            p->addr.family = rand() % 2 == 0 ? ADDR_FAMILY_IPV4 : ADDR_FAMILY_IPV6;
            for (size_t b = 0; b < (p->addr.family == ADDR_FAMILY_IPV4 ? 4u : 16u); b++) {
                p->addr.bytes[b] = (uint8_t)rand();
            }
            p->len = (uint8_t)(rand() % (addr_bits(p->addr.family) + 1));
            addr_mask(&p->addr, p->len);
        }
        struct networks n;
        networks_init(&n, prefixes, count);

        for (int probe = 0; probe < 200; probe++) {
            struct addr a;
            memset(&a, 0, sizeof(a));
            if (count > 0 && rand() % 2 == 0) {
                /* Start inside a listed prefix, then flip one bit anywhere. */
                a = prefixes[(size_t)rand() % count].addr;
                unsigned bit = (unsigned)rand() % addr_bits(a.family);
                a.bytes[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
            } else {
                a.family = rand() % 2 == 0 ? ADDR_FAMILY_IPV4 : ADDR_FAMILY_IPV6;
                for (size_t b = 0; b < (a.family == ADDR_FAMILY_IPV4 ? 4u : 16u); b++) {
                    a.bytes[b] = (uint8_t)rand();
                }
            }
            bool expected = false;
            for (size_t i = 0; i < count; i++) {
                expected = expected || prefix_contains(&prefixes[i], &a);
            }
            if (networks_contains(&n, &a) != expected) {
                fail_msg("round %d probe %d: expected %s", round, probe,
                         expected ? "inside" : "outside");
            }
        }
    }
}

static void test_networks_default_internal(void **state)
{
    (void)state;
    static const char *const internal_text[] = {
        "10.0.0.0/8",     "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
        "100.64.0.0/10", "::1/128",       "fc00::/7",       "fe80::/10",
    };
    struct prefix prefixes[9];
    for (size_t i = 0; i < 9; i++) {
        assert_int_equal(prefix_parse(internal_text[i], &prefixes[i]), 0);
    }
    struct networks n;
    networks_init(&n, prefixes, 9);

    static const struct {
        const char *address;
        bool internal;
    } cases[] = {
        { "10.1.2.3", true },        { "192.168.255.1", true }, { "100.127.0.1", true },
        { "100.128.0.1", false },    { "203.0.113.5", false },  { "8.8.8.8", false },
        { "fd12:3456::1", true },    { "fe80::1", true },       { "::1", true },
        { "2001:db8::1", false },    { "::2", false },          { "172.32.1.1", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct addr a;
        assert_int_equal(addr_parse(cases[i].address, &a), 0);
        if (networks_contains(&n, &a) != cases[i].internal) {
            fail_msg("%s: expected %s", cases[i].address,
                     cases[i].internal ? "internal" : "external");
        }
    }
}

static void test_networks_short_prefixes(void **state)
{
    (void)state;
    struct prefix prefixes[2];
    assert_int_equal(prefix_parse("128.0.0.0/1", &prefixes[0]), 0);
    assert_int_equal(prefix_parse("::/0", &prefixes[1]), 0);
    struct networks n;
    networks_init(&n, prefixes, 2);

    struct addr a;
    assert_int_equal(addr_parse("200.1.2.3", &a), 0);
    assert_true(networks_contains(&n, &a));
    assert_int_equal(addr_parse("127.255.255.255", &a), 0);
    assert_false(networks_contains(&n, &a));
    assert_int_equal(addr_parse("2001:db8::1", &a), 0);
    assert_true(networks_contains(&n, &a));
    assert_int_equal(addr_parse("ff02::1", &a), 0);
    assert_true(networks_contains(&n, &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_parse_valid),
        cmocka_unit_test(test_prefix_parse_rejects_invalid),
        cmocka_unit_test(test_prefix_contains_edges),
        cmocka_unit_test(test_addr_mask_ipv6_64),
        cmocka_unit_test(test_addr_mask_every_length),
        cmocka_unit_test(test_networks_match_prefix_contains),
        cmocka_unit_test(test_networks_default_internal),
        cmocka_unit_test(test_networks_short_prefixes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
