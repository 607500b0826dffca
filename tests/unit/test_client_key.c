/* SPDX-License-Identifier: MIT */
/* Unit tests of the client key formatter against prefix_format(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/client_key.h"

/* Check one prefix: same text and same length as prefix_format(). */
static void check_same(const struct prefix *p)
{
    char expected[ADDR_TEXT_MAX];
    char actual[ADDR_TEXT_MAX];
    size_t expected_len = prefix_format(p, expected, sizeof(expected));
    size_t actual_len = client_key_format(p, actual, sizeof(actual));
    assert_string_equal(actual, expected);
    assert_int_equal(actual_len, expected_len);
}

static void check_text(const char *text)
{
    struct prefix p;
    assert_int_equal(prefix_parse(text, &p), 0);
    check_same(&p);

    char out[ADDR_TEXT_MAX];
    client_key_format(&p, out, sizeof(out));
    assert_string_equal(out, text);
}

static void test_key_ipv4_edges(void **state)
{
    (void)state;
    check_text("0.0.0.0/0");
    check_text("192.0.2.7/32");
    check_text("10.100.9.0/24");
    check_text("255.255.255.255/32");
    check_text("100.64.0.0/10");
    check_text("1.20.255.0/24");
}

static void test_key_ipv6_edges(void **state)
{
    (void)state;
    check_text("::/0");
    check_text("2001:db8::/64");
    check_text("2001:db8:0:1::/64");
    check_text("::ffff:192.0.2.1/128");
    check_text("fe80::1/128");
    check_text("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/128");
}

/* Random addresses and lengths of both families, host bits masked as keys are. */
static void test_key_matches_prefix_format(void **state)
{
    (void)state;
    srand(7);
    for (int i = 0; i < 100000; i++) {
        struct prefix p;
        memset(&p, 0, sizeof(p));
        bool v4 = i % 2 == 0;
        p.addr.family = v4 ? ADDR_FAMILY_IPV4 : ADDR_FAMILY_IPV6;
        size_t bytes = v4 ? 4 : 16;
        for (size_t b = 0; b < bytes; b++) {
            /* Runs of zero bytes exercise the :: compression of IPv6. */
            p.addr.bytes[b] = rand() % 3 == 0 ? 0 : (uint8_t)rand();
        }
        p.len = (uint8_t)(rand() % (addr_bits(p.addr.family) + 1));
        addr_mask(&p.addr, p.len);
        check_same(&p);
    }
}

/*
 * IPv6 addresses built from whole zero words: runs of every length and
 * position, ties between runs, and the IPv4-compatible and IPv4-mapped
 * forms that inet_ntop() writes with a dotted tail.
 */
static void test_key_ipv6_zero_runs(void **state)
{
    (void)state;
    check_text("::1/128");
    check_text("::2/128");
    check_text("::192.0.2.1/128");
    check_text("::ffff:0.0.0.0/128");
    check_text("::ffff:0:0:0/128");
    check_text("1::/128");
    check_text("1:0:1::1/128");
    check_text("1::1:0:0:1/128");
    check_text("1:0:1:0:1:0:1:0/128");

    srand(11);
    for (int i = 0; i < 100000; i++) {
        struct prefix p;
        memset(&p, 0, sizeof(p));
        p.addr.family = ADDR_FAMILY_IPV6;
        for (size_t w = 0; w < 8; w++) {
            unsigned word = rand() % 2 == 0 ? 0 : (unsigned)rand() & 0xffff;
            if (w == 5 && rand() % 4 == 0) {
                word = 0xffff;
            }
            /* Short words check that no leading zero is written. */
            word >>= (unsigned)(rand() % 4) * 4;
            p.addr.bytes[2 * w] = (uint8_t)(word >> 8);
            p.addr.bytes[2 * w + 1] = (uint8_t)word;
        }
        p.len = i % 2 == 0 ? 128 : (uint8_t)(rand() % 129);
        addr_mask(&p.addr, p.len);
        check_same(&p);
    }
}

static void test_key_small_buffer_cuts_like_prefix_format(void **state)
{
    (void)state;
    struct prefix p;
    assert_int_equal(prefix_parse("192.0.2.7/32", &p), 0);
    char expected[8];
    char actual[8];
    prefix_format(&p, expected, sizeof(expected));
    client_key_format(&p, actual, sizeof(actual));
    assert_string_equal(actual, expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_ipv4_edges),
        cmocka_unit_test(test_key_ipv6_edges),
        cmocka_unit_test(test_key_matches_prefix_format),
        cmocka_unit_test(test_key_ipv6_zero_runs),
        cmocka_unit_test(test_key_small_buffer_cuts_like_prefix_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
