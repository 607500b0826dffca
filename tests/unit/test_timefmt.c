/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/timefmt.h"

static void test_timefmt_formats_microseconds(void **state)
{
    (void)state;
    char buf[TIMEFMT_RFC3339_MAX];

    /* 2024-05-01T12:34:56Z is 1714566896 seconds after the epoch. */
    size_t n = timefmt_rfc3339(1714566896, 789012345, buf, sizeof(buf));
    assert_int_equal(n, 27);
    assert_string_equal(buf, "2024-05-01T12:34:56.789012Z");
}

static void test_timefmt_formats_epoch_and_zero_fraction(void **state)
{
    (void)state;
    char buf[TIMEFMT_RFC3339_MAX];

    assert_int_equal(timefmt_rfc3339(0, 0, buf, sizeof(buf)), 27);
    assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");

    assert_int_equal(timefmt_rfc3339(0, 999, buf, sizeof(buf)), 27);
    assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");

    assert_int_equal(timefmt_rfc3339(0, 999999999, buf, sizeof(buf)), 27);
    assert_string_equal(buf, "1970-01-01T00:00:00.999999Z");
}

static void test_timefmt_formats_leap_day_and_before_epoch(void **state)
{
    (void)state;
    char buf[TIMEFMT_RFC3339_MAX];

    assert_int_equal(timefmt_rfc3339(951782400, 1000, buf, sizeof(buf)), 27);
    assert_string_equal(buf, "2000-02-29T00:00:00.000001Z");

    assert_int_equal(timefmt_rfc3339(-1, 500000000, buf, sizeof(buf)), 27);
    assert_string_equal(buf, "1969-12-31T23:59:59.500000Z");

    /* pcapng timestamps can pass 2106, where seconds no longer fit in 32 bits. */
    assert_int_equal(timefmt_rfc3339(4294967296, 0, buf, sizeof(buf)), 27);
    assert_string_equal(buf, "2106-02-07T06:28:16.000000Z");
}

static void test_timefmt_rejects_bad_input(void **state)
{
    (void)state;
    char buf[TIMEFMT_RFC3339_MAX];

    assert_int_equal(timefmt_rfc3339(0, 1000000000, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");

    assert_int_equal(timefmt_rfc3339(0, 0, buf, TIMEFMT_RFC3339_MAX - 1), 0);
    assert_string_equal(buf, "");

    /* Year 10000 has five digits, which RFC 3339 does not allow. */
    assert_int_equal(timefmt_rfc3339(253402300800, 0, buf, sizeof(buf)), 0);
    assert_int_equal(timefmt_rfc3339(253402300799, 0, buf, sizeof(buf)), 27);
    assert_string_equal(buf, "9999-12-31T23:59:59.000000Z");

    assert_int_equal(timefmt_rfc3339(INT64_MAX, 0, buf, sizeof(buf)), 0);
    assert_int_equal(timefmt_rfc3339(INT64_MIN, 0, buf, sizeof(buf)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timefmt_formats_microseconds),
        cmocka_unit_test(test_timefmt_formats_epoch_and_zero_fraction),
        cmocka_unit_test(test_timefmt_formats_leap_day_and_before_epoch),
        cmocka_unit_test(test_timefmt_rejects_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
