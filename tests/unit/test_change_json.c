/* SPDX-License-Identifier: MIT */
/*
 * The change log's fast paths for names and keys against the general
 * formatting they replace: dns_name_format() or client_key_format(), then
 * change_json_string().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "decode/dns_text.h"
#include "store/change_json.h"
#include "util/client_key.h"

#define OUT_MAX (6 * STORE_NAME_MAX)

/* A small deterministic generator, so that a failure repeats. */
static uint32_t next_random(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return *state >> 8;
}

static void assert_name_same(const uint8_t *name, size_t len)
{
    static char fast[OUT_MAX];
    static char slow[OUT_MAX];
    char text[STORE_NAME_MAX];
    size_t fast_len = (size_t)(change_json_name(fast, name, len) - fast);
    size_t text_len = dns_name_format(name, len, text, sizeof(text));
    size_t slow_len = (size_t)(change_json_string(slow, text, text_len) - slow);
    assert_int_equal(fast_len, slow_len);
    assert_memory_equal(fast, slow, slow_len);
}

static void test_name_cases(void **state)
{
    (void)state;
    static const struct {
        const char *wire;
        size_t len;
    } cases[] = {
        { "\0", 1 },                                   /* root */
        { "\3www\7example\3com\0", 17 },
        { "\3a.b\0", 5 },                              /* a dot inside a label */
        { "\3a\\b\0", 5 },
        { "\3a\"b\0", 5 },
        { "\3a b\0", 5 },
        { "\3a\177b\0", 5 },
        { "\3a\377b\0", 5 },
        { "\3abc", 4 },                                /* no root label */
        { "\5ab", 3 },                                 /* label past the end */
        { "\3abc\0\3xyz", 9 },                         /* bytes after the root */
        { "\100", 1 },                                 /* label length 64 */
        { "\300\14", 2 },                              /* a compression pointer */
        { "", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_name_same((const uint8_t *)cases[i].wire, cases[i].len);
    }
}

static void test_name_longest_label(void **state)
{
    (void)state;
    uint8_t name[1 + 63 + 1];
    name[0] = 63;
    memset(name + 1, 'x', 63);
    name[64] = 0;
    assert_name_same(name, sizeof(name));
    name[30] = '"';
    assert_name_same(name, sizeof(name));
}

/* Random names, mostly plain, some with bytes that need escaping. */
static void test_name_random(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    uint8_t name[255];
    for (int n = 0; n < 20000; n++) {
        size_t len = 0;
        unsigned labels = next_random(&seed) % 6;
        for (unsigned l = 0; l < labels && len < 200; l++) {
            uint8_t label_len = (uint8_t)(1 + next_random(&seed) % 20);
            name[len++] = label_len;
            for (unsigned i = 0; i < label_len; i++) {
                uint32_t r = next_random(&seed);
                name[len++] = r % 50 == 0 ? (uint8_t)(r >> 8) : (uint8_t)('a' + r % 26);
            }
        }
        name[len++] = 0;
        /* Sometimes cut the name short, as damage would. */
        size_t used = next_random(&seed) % 10 == 0 ? next_random(&seed) % len : len;
        assert_name_same(name, used);
    }
}

static void assert_key_same(const struct prefix *key)
{
    char fast[OUT_MAX];
    char slow[OUT_MAX];
    char text[ADDR_TEXT_MAX];
    size_t fast_len = (size_t)(change_json_key(fast, key) - fast);
    size_t text_len = client_key_format(key, text, sizeof(text));
    size_t slow_len = (size_t)(change_json_string(slow, text, text_len) - slow);
    assert_int_equal(fast_len, slow_len);
    assert_memory_equal(fast, slow, slow_len);
}

static void test_key_random(void **state)
{
    (void)state;
    uint32_t seed = 777;
    for (int n = 0; n < 20000; n++) {
        struct prefix key;
        memset(&key, 0, sizeof(key));
        bool v4 = next_random(&seed) % 2 == 0;
        key.addr.family = v4 ? ADDR_FAMILY_IPV4 : ADDR_FAMILY_IPV6;
        size_t bytes = v4 ? 4 : 16;
        for (size_t i = 0; i < bytes; i++) {
            /* Zero words are common in IPv6, and change its text the most. */
            uint32_t r = next_random(&seed);
            key.addr.bytes[i] = r % 3 == 0 ? 0 : (uint8_t)r;
        }
        key.len = (uint8_t)(next_random(&seed) % (v4 ? 33 : 129));
        assert_key_same(&key);
    }
}

static void test_integer_text(void **state)
{
    (void)state;
    static const struct {
        int64_t value;
        const char *text;
    } cases[] = {
        { 0, "0" },
        { 7, "7" },
        { -7, "-7" },
        { 1714522508, "1714522508" },
        { INT64_MIN, "-9223372036854775808" },
        { INT64_MAX, "9223372036854775807" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[32];
        size_t len = (size_t)(change_json_integer(out, cases[i].value) - out);
        assert_int_equal(len, strlen(cases[i].text));
        assert_memory_equal(out, cases[i].text, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_cases),
        cmocka_unit_test(test_name_longest_label),
        cmocka_unit_test(test_name_random),
        cmocka_unit_test(test_key_random),
        cmocka_unit_test(test_integer_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
