/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of storm control: when a storm starts and ends, how rows are
 * held back so that each aggregated alert rides on its interval's last row,
 * and what the aggregated alert reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "detect/storm.h"

#define MAX_SUBMITS 256

struct recorder {
    size_t rows;               /* rows submitted, with or without a report */
    size_t reports;
    struct storm_report last;  /* the latest report */
    char last_client[STORE_KEY_MAX]; /* row that carried it */
    int events_started;
    int events_ended;
};

static int record_submit(void *ctx, uint32_t scope, const struct store_client *row,
                         const struct storm_report *report)
{
    struct recorder *r = ctx;
    (void)scope;
    r->rows++;
    if (report != NULL) {
        r->reports++;
        r->last = *report;
        snprintf(r->last_client, sizeof(r->last_client), "%s", row->client);
    }
    return 0;
}

static void record_event(void *ctx, uint32_t scope, bool started,
                         const struct storm_report *report)
{
    struct recorder *r = ctx;
    (void)scope;
    (void)report;
    if (started) {
        r->events_started++;
    } else {
        r->events_ended++;
    }
}

static void make_client(unsigned n, struct prefix *p, struct store_client *row)
{
    char text[32];
    snprintf(text, sizeof(text), "198.51.%u.%u/32", n / 200, n % 200 + 1);
    assert_int_equal(prefix_parse(text, p), 0);
    memset(row, 0, sizeof(*row));
    snprintf(row->client, sizeof(row->client), "%s", text);
    row->flags = STORE_CLIENT_STORM;
}

/* Feed @p count new clients of scope 1 at time @p now, recording storm rows. */
static unsigned feed(struct storm *st, unsigned first, unsigned count, int64_t now)
{
    unsigned storm_clients = 0;
    for (unsigned i = first; i < first + count; i++) {
        struct prefix p;
        struct store_client row;
        make_client(i, &p, &row);
        if (storm_note_new(st, 1, now)) {
            assert_int_equal(storm_record(st, 1, &row, &p), 0);
            storm_clients++;
        }
    }
    return storm_clients;
}

static void setup(struct storm *st, struct recorder *r)
{
    memset(r, 0, sizeof(*r));
    storm_init(st, 10, 5, record_submit, r);
    st->event = record_event;
    st->event_ctx = r;
}

static void test_storm_stays_calm_at_threshold(void **state)
{
    (void)state;
    struct storm st;
    struct recorder r;
    setup(&st, &r);

    assert_int_equal(feed(&st, 0, 10, 1000), 0);
    assert_false(storm_active(&st, 1));
    assert_int_equal(r.events_started, 0);
    storm_free(&st);
}

static void test_storm_starts_past_threshold(void **state)
{
    (void)state;
    struct storm st;
    struct recorder r;
    setup(&st, &r);

    /* The 11th client in one minute crosses 10 and is the first storm client. */
    assert_int_equal(feed(&st, 0, 15, 1000), 5);
    assert_true(storm_active(&st, 1));
    assert_int_equal(r.events_started, 1);
    /* One row is held back for the interval's alert, the others are submitted. */
    assert_int_equal(r.rows, 4);
    assert_int_equal(r.reports, 0);
    storm_free(&st);
}

static void test_storm_report_rides_on_last_row(void **state)
{
    (void)state;
    struct storm st;
    struct recorder r;
    setup(&st, &r);
    feed(&st, 0, 15, 1000);

    /* Within the interval nothing is reported. */
    assert_int_equal(storm_tick(&st, 1004), 0);
    assert_int_equal(r.reports, 0);

    assert_int_equal(storm_tick(&st, 1005), 0);
    assert_int_equal(r.reports, 1);
    assert_int_equal(r.rows, 5);
    assert_int_equal(r.last.count, 5);
    assert_int_equal(r.last.total, 5);
    assert_false(r.last.ended);
    assert_string_equal(r.last_client, "198.51.0.15/32");
    assert_int_equal(r.last.sample_count, STORM_SAMPLES_MAX);
    assert_int_equal(r.last.top_count, 1);
    char text[ADDR_TEXT_MAX];
    prefix_format(&r.last.top[0].prefix, text, sizeof(text));
    assert_string_equal(text, "198.51.0.0/24");
    assert_int_equal(r.last.top[0].count, 5);

    /* An interval without new storm clients reports nothing. */
    storm_tick(&st, 1010);
    assert_int_equal(r.reports, 1);
    storm_free(&st);
}

static void test_storm_ends_when_rate_falls(void **state)
{
    (void)state;
    struct storm st;
    struct recorder r;
    setup(&st, &r);
    feed(&st, 0, 40, 1000);
    assert_true(storm_active(&st, 1));

    /* Two minutes later the estimate is 0, at most half the threshold. */
    assert_int_equal(storm_tick(&st, 1120), 0);
    assert_false(storm_active(&st, 1));
    assert_int_equal(r.events_ended, 1);
    assert_int_equal(r.reports, 1);
    assert_true(r.last.ended);
    assert_int_equal(r.last.count, 30);

    /* Calm again: a few new clients raise single alerts. */
    assert_int_equal(feed(&st, 100, 3, 1130), 0);
    storm_free(&st);
}

static void test_storm_flush_reports_open_storm(void **state)
{
    (void)state;
    struct storm st;
    struct recorder r;
    setup(&st, &r);
    feed(&st, 0, 12, 1000);

    assert_int_equal(storm_flush(&st, 1001), 0);
    assert_int_equal(r.reports, 1);
    assert_true(r.last.ended);
    assert_int_equal(r.rows, 2);
    assert_false(storm_active(&st, 1));
    storm_free(&st);
}

static void test_storm_report_json_has_fields(void **state)
{
    (void)state;
    struct storm st;
    struct recorder r;
    setup(&st, &r);
    feed(&st, 0, 15, 1000);
    storm_tick(&st, 1005);

    char json[4096];
    size_t len = storm_report_json(&r.last, "server", "192.0.2.1", true, json, sizeof(json));
    assert_true(len > 0);
    assert_non_null(strstr(json, "\"name\":\"New External Client DNS Storm\""));
    assert_non_null(strstr(json, "\"kind\":\"alert\""));
    assert_non_null(strstr(json, "\"top_prefixes\":[{\"prefix\":\"198.51.0.0/24\""));
    assert_non_null(strstr(json, "\"samples\":[\"198.51.0.11/32\""));
    assert_non_null(strstr(json, "\"interval\":5"));
    assert_non_null(strstr(json, "\"destination\":{\"ip\":\"192.0.2.1\"}"));
    storm_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_storm_stays_calm_at_threshold),
        cmocka_unit_test(test_storm_starts_past_threshold),
        cmocka_unit_test(test_storm_report_rides_on_last_row),
        cmocka_unit_test(test_storm_ends_when_rate_falls),
        cmocka_unit_test(test_storm_flush_reports_open_storm),
        cmocka_unit_test(test_storm_report_json_has_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
