/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "output/json_writer.h"

static void test_json_writer_places_commas(void **state)
{
    (void)state;
    char buf[256];
    struct json_writer w;
    json_writer_init(&w, buf, sizeof(buf));

    json_writer_object_begin(&w);
    json_writer_member_int(&w, "a", -5);
    json_writer_member_object_begin(&w, "b");
    json_writer_object_end(&w);
    json_writer_key(&w, "c");
    json_writer_array_begin(&w);
    json_writer_uint(&w, UINT64_MAX);
    json_writer_bool(&w, false);
    json_writer_array_begin(&w);
    json_writer_array_end(&w);
    json_writer_string(&w, "x");
    json_writer_array_end(&w);
    json_writer_member_bool(&w, "d", true);
    json_writer_object_end(&w);

    const char *expected = "{\"a\":-5,\"b\":{},\"c\":[18446744073709551615,false,[],\"x\"],"
                           "\"d\":true}";
    assert_int_equal(json_writer_finish(&w), strlen(expected));
    assert_string_equal(buf, expected);
}

static void test_json_writer_escapes_strings(void **state)
{
    (void)state;
    char buf[256];
    struct json_writer w;
    json_writer_init(&w, buf, sizeof(buf));

    /* Quote, backslash, NUL inside the length, 0x1f, and a 4-byte UTF-8 emoji. */
    const char text[] = "q\"b\\n\0z\x1f\xf0\x9f\x98\x80";
    json_writer_string_len(&w, text, sizeof(text) - 1);
    assert_true(json_writer_finish(&w) > 0);
    assert_string_equal(buf, "\"q\\\"b\\\\n\\u0000z\\u001f\xf0\x9f\x98\x80\"");
}

static void test_json_writer_overflow_sticks(void **state)
{
    (void)state;
    char buf[8];
    struct json_writer w;
    json_writer_init(&w, buf, sizeof(buf));

    json_writer_object_begin(&w);
    json_writer_member_string(&w, "long", "value that does not fit");
    assert_true(w.overflow);
    size_t len = w.len;

    /* A short write after the overflow must not slip in. */
    json_writer_object_end(&w);
    assert_int_equal(w.len, len);
    assert_int_equal(json_writer_finish(&w), 0);
    assert_string_equal(buf, "");
}

static void test_json_writer_rejects_open_container(void **state)
{
    (void)state;
    char buf[64];
    struct json_writer w;
    json_writer_init(&w, buf, sizeof(buf));

    json_writer_array_begin(&w);
    assert_int_equal(json_writer_finish(&w), 0);
}

static void test_json_writer_fills_buffer_exactly(void **state)
{
    (void)state;
    char buf[5];
    struct json_writer w;

    /* "true" and its NUL take all five bytes. */
    json_writer_init(&w, buf, sizeof(buf));
    json_writer_bool(&w, true);
    assert_int_equal(json_writer_finish(&w), 4);
    assert_string_equal(buf, "true");

    json_writer_init(&w, buf, sizeof(buf));
    json_writer_bool(&w, false);
    assert_int_equal(json_writer_finish(&w), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_writer_places_commas),
        cmocka_unit_test(test_json_writer_escapes_strings),
        cmocka_unit_test(test_json_writer_overflow_sticks),
        cmocka_unit_test(test_json_writer_rejects_open_container),
        cmocka_unit_test(test_json_writer_fills_buffer_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
