/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the detector: external vs internal clients, scopes, client
 * prefixes, the learning period, expiry, response matching and the capture
 * time at which last-seen updates are flushed. The detector
 * records into a real SQLite baseline in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "daemon/config.h"
#include "detect/detector.h"
#include "store/sqlite_store.h"

#define MAX_ALERTS 64

struct fixture {
    char dir[64];
    char path[128];
    struct config cfg;
    struct store *store;
    struct detector *det;
    size_t alert_count;
    json_object *alerts[MAX_ALERTS];
};

static int collect_alert(void *ctx, const char *json, size_t len)
{
    struct fixture *f = ctx;
    (void)len;
    assert_true(f->alert_count < MAX_ALERTS);
    f->alerts[f->alert_count] = json_tokener_parse(json);
    assert_non_null(f->alerts[f->alert_count]);
    f->alert_count++;
    return 0;
}

static void open_detector(struct fixture *f)
{
    assert_int_equal(sqlite_store_open(f->path, SQLITE_STORE_READ_WRITE, &f->store), 0);
    f->store->alert_fn = collect_alert;
    f->store->alert_ctx = f;
    assert_int_equal(detector_create(&f->cfg, f->store, &f->det), 0);
    assert_int_equal(detector_load(f->det), 0);
}

static void close_detector(struct fixture *f)
{
    assert_int_equal(detector_finish(f->det), 0);
    f->store->ops->close(f->store);
    detector_destroy(f->det);
    f->store = NULL;
    f->det = NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/dnsfirst-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/baseline.db", f->dir);
    config_init(&f->cfg);
    f->cfg.learning_period_s = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (size_t i = 0; i < f->alert_count; i++) {
        json_object_put(f->alerts[i]);
    }
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static struct dns_message message(const char *src, uint16_t sport, const char *dst,
                                  uint16_t dport, int64_t t, uint16_t id, bool response)
{
    struct dns_message m;
    memset(&m, 0, sizeof(m));
    assert_int_equal(addr_parse(src, &m.src), 0);
    assert_int_equal(addr_parse(dst, &m.dst), 0);
    m.sport = sport;
    m.dport = dport;
    m.ts_sec = t;
    m.id = id;
    m.flags = response ? DNS_FLAG_QR | 3 /* NXDOMAIN */ : DNS_FLAG_RD;
    m.ancount = 0;
    m.qdcount = 1;
    m.has_question = true;
    static const uint8_t name[] = { 3, 'w', 'w', 'w', 4, 't', 'e', 's', 't', 0 };
    memcpy(m.qname, name, sizeof(name));
    m.qname_len = sizeof(name);
    m.qtype = 1;
    m.qclass = 1;
    return m;
}

static void query(struct fixture *f, const char *src, const char *dst, int64_t t)
{
    struct dns_message m = message(src, 40000, dst, 53, t, 7, false);
    detector_message(f->det, &m);
}

static const char *field(json_object *o, const char *a, const char *b)
{
    json_object *x = NULL;
    json_object *y = NULL;
    if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &y)) {
        return NULL;
    }
    return json_object_get_string(y);
}

static void test_detector_external_only(void **state)
{
    struct fixture *f = *state;
    open_detector(f);
    query(f, "10.1.2.3", "192.0.2.1", 1000);
    query(f, "203.0.113.5", "192.0.2.1", 1001);
    query(f, "203.0.113.5", "192.0.2.1", 1002); /* known by now */
    query(f, "fd00::5", "192.0.2.1", 1003);
    close_detector(f);

    assert_int_equal(f->alert_count, 1);
    assert_string_equal(field(f->alerts[0], "source", "ip"), "203.0.113.5");
    assert_string_equal(field(f->alerts[0], "dnsfirst", "client_key"), "203.0.113.5/32");
    assert_string_equal(field(f->alerts[0], "dnsfirst", "scope_key"), "192.0.2.1");
}

static void test_detector_server_scope_vs_site(void **state)
{
    struct fixture *f = *state;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000);
    query(f, "203.0.113.5", "192.0.2.2", 1001);
    close_detector(f);
    assert_int_equal(f->alert_count, 2);

    /* Under scope "site", the second server is no news. */
    struct fixture *g = f;
    snprintf(g->path, sizeof(g->path), "%s/site.db", g->dir);
    g->cfg.scope = SCOPE_SITE;
    open_detector(g);
    query(g, "198.51.100.9", "192.0.2.1", 1000);
    query(g, "198.51.100.9", "192.0.2.2", 1001);
    close_detector(g);
    assert_int_equal(g->alert_count, 3);
    assert_string_equal(field(g->alerts[2], "dnsfirst", "scope_key"), "site");
}

static void test_detector_ipv6_prefix_is_one_client(void **state)
{
    struct fixture *f = *state;
    open_detector(f);
    query(f, "2001:db8:1:2::a", "192.0.2.1", 1000);
    query(f, "2001:db8:1:2:ffff::b", "192.0.2.1", 1001);
    query(f, "2001:db8:1:3::a", "192.0.2.1", 1002);
    close_detector(f);
    assert_int_equal(f->alert_count, 2);
    assert_string_equal(field(f->alerts[0], "dnsfirst", "client_key"), "2001:db8:1:2::/64");
    assert_string_equal(field(f->alerts[1], "dnsfirst", "client_key"), "2001:db8:1:3::/64");
}

static void test_detector_learning_period(void **state)
{
    struct fixture *f = *state;
    f->cfg.learning_period_s = 3600;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000);        /* starts the scope's period */
    query(f, "203.0.113.6", "192.0.2.1", 1000 + 3599); /* learned */
    query(f, "203.0.113.7", "192.0.2.1", 1000 + 3600); /* period over: alert */
    query(f, "203.0.113.5", "192.0.2.1", 1000 + 7200); /* learned earlier: known */
    close_detector(f);
    assert_int_equal(f->alert_count, 1);
    assert_string_equal(field(f->alerts[0], "source", "ip"), "203.0.113.7");
}

static void test_detector_learning_persists(void **state)
{
    struct fixture *f = *state;
    f->cfg.learning_period_s = 3600;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000);
    close_detector(f);

    /* A second run later in capture time: the period began in the first run. */
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 5000);
    query(f, "203.0.113.8", "192.0.2.1", 5001);
    close_detector(f);
    assert_int_equal(f->alert_count, 1);
    assert_string_equal(field(f->alerts[0], "source", "ip"), "203.0.113.8");
}

static void test_detector_expiry_alerts_again(void **state)
{
    struct fixture *f = *state;
    f->cfg.expiry_s = 86400;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000);
    query(f, "203.0.113.5", "192.0.2.1", 1000 + 86400);     /* seen at the limit */
    query(f, "203.0.113.5", "192.0.2.1", 1000 + 3 * 86400); /* gone 2 days: new again */
    close_detector(f);
    assert_int_equal(f->alert_count, 2);
}

static void test_detector_expiry_across_runs(void **state)
{
    struct fixture *f = *state;
    f->cfg.expiry_s = 86400;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000);
    close_detector(f);
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000 + 10 * 86400);
    close_detector(f);
    assert_int_equal(f->alert_count, 2);
}

static void test_detector_response_fills_alert(void **state)
{
    struct fixture *f = *state;
    open_detector(f);
    struct dns_message q = message("203.0.113.5", 40000, "192.0.2.1", 53, 1000, 99, false);
    struct dns_message r = message("192.0.2.1", 53, "203.0.113.5", 40000, 1000, 99, true);
    r.ts_nsec = 5000000;
    detector_message(f->det, &q);
    detector_message(f->det, &r);

    /* A query whose response never comes leaves after the wait, without one. */
    struct dns_message q2 = message("203.0.113.6", 40001, "192.0.2.1", 53, 1001, 100, false);
    detector_message(f->det, &q2);
    struct dns_message later = message("10.0.0.1", 40002, "192.0.2.1", 53, 1010, 1, false);
    detector_message(f->det, &later);
    close_detector(f);

    assert_int_equal(f->alert_count, 2);
    assert_string_equal(field(f->alerts[0], "dns", "response_code"), "NXDOMAIN");
    assert_string_equal(field(f->alerts[0], "dnsfirst", "response_seen"), "true");
    assert_null(field(f->alerts[1], "dns", "response_code"));
    assert_string_equal(field(f->alerts[1], "dnsfirst", "response_seen"), "false");
}

static void test_detector_baseline_survives_restart(void **state)
{
    struct fixture *f = *state;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000);
    close_detector(f);
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 2000);
    query(f, "203.0.113.5", "192.0.2.3", 2001);
    close_detector(f);
    assert_int_equal(f->alert_count, 2);
    assert_string_equal(field(f->alerts[1], "dnsfirst", "scope_key"), "192.0.2.3");
}

static void test_detector_learn_only_never_alerts(void **state)
{
    struct fixture *f = *state;
    f->cfg.learn_only = true;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000);
    query(f, "198.51.100.1", "192.0.2.1", 100000);
    close_detector(f);
    assert_int_equal(f->alert_count, 0);

    f->cfg.learn_only = false;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 200000);
    query(f, "198.51.100.2", "192.0.2.1", 200001);
    close_detector(f);
    assert_int_equal(f->alert_count, 1);
    assert_string_equal(field(f->alerts[0], "source", "ip"), "198.51.100.2");
}

static void test_detector_learn_run_ends_learning(void **state)
{
    struct fixture *f = *state;
    f->cfg.learning_period_s = 3600;
    f->cfg.learn_only = true;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1000);
    query(f, "203.0.113.6", "192.0.2.1", 1100);
    close_detector(f);
    assert_int_equal(f->alert_count, 0);

    /* Still within an hour of the scope's first query, but the --learn run
     * trained the baseline on purpose: new clients now alert. */
    f->cfg.learn_only = false;
    open_detector(f);
    query(f, "203.0.113.5", "192.0.2.1", 1200);
    query(f, "198.51.100.9", "192.0.2.1", 1201);
    close_detector(f);
    assert_int_equal(f->alert_count, 1);
    assert_string_equal(field(f->alerts[0], "source", "ip"), "198.51.100.9");
}

static int keep_row(void *ctx, const struct store_client *row)
{
    *(struct store_client *)ctx = *row;
    return 0;
}

/* Commit what the detector queued and read back the only row of the baseline. */
static struct store_client only_row(struct fixture *f)
{
    struct store_client row;
    memset(&row, 0, sizeof(row));
    assert_int_equal(f->store->ops->sync(f->store), 0);
    assert_int_equal(f->store->ops->list(f->store, keep_row, &row), 0);
    return row;
}

static void query_at(struct fixture *f, int64_t sec, uint32_t nsec)
{
    struct dns_message m = message("203.0.113.5", 40000, "192.0.2.1", 53, sec, 7, false);
    m.ts_nsec = nsec;
    detector_message(f->det, &m);
}

/*
 * Last-seen updates are flushed a share of the table per second of capture
 * time, so that every slot is visited once per flush interval: an update is
 * written at most one interval (and the second it was made in) later. A
 * message older than the clock does not move it.
 */
static void test_detector_flush_spreads_over_interval(void **state)
{
    struct fixture *f = *state;
    f->cfg.learn_only = true;
    f->cfg.flush_interval_s = 10;
    open_detector(f);
    query_at(f, 1000, 0); /* new */
    query_at(f, 1000, 500); /* same second: no flush step yet */
    struct store_client row = only_row(f);
    assert_int_equal(row.last_seen, 1000);
    assert_int_equal(row.query_count, 1);

    /* Ten seconds at once are a whole interval: every slot is visited. */
    detector_advance(f->det, 1010 * 1000000000LL);
    row = only_row(f);
    assert_int_equal(row.last_seen, 1000);
    assert_int_equal(row.query_count, 2);

    query_at(f, 1012, 0);
    query_at(f, 1015, 0);
    query_at(f, 1013, 0); /* older than the clock: counted, the clock stays */
    for (int64_t sec = 1016; sec <= 1025; sec++) {
        detector_advance(f->det, sec * 1000000000LL);
    }
    row = only_row(f);
    assert_int_equal(row.last_seen, 1015);
    assert_int_equal(row.query_count, 5);
    close_detector(f);
}

/*
 * A learned client's row is handed to the store with its key in binary
 * form and its first query name in wire form, and the writer makes the
 * text. The row must read back as the text of the key and the escaped name.
 */
static void test_detector_learned_row_text(void **state)
{
    struct fixture *f = *state;
    f->cfg.learn_only = true;
    open_detector(f);
    struct dns_message m = message("2001:db8:1:2::a", 40000, "2001:db8::53", 53, 1000, 7, false);
    /* "a\"b" and "c.d" as labels, then a byte outside printable ASCII. */
    static const uint8_t name[] = { 3, 'a', '"', 'b', 3, 'c', '.', 'd', 1, 0xff, 0 };
    memcpy(m.qname, name, sizeof(name));
    m.qname_len = sizeof(name);
    detector_message(f->det, &m);

    struct store_client row = only_row(f);
    assert_string_equal(row.scope, "2001:db8::53");
    assert_string_equal(row.client, "2001:db8:1:2::/64");
    assert_string_equal(row.first_query, "a\"b.c\\.d.\\255");
    assert_int_equal(row.first_seen, 1000);
    assert_int_equal(row.flags, STORE_CLIENT_LEARNED);
    close_detector(f);
    assert_int_equal(f->alert_count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_detector_external_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_server_scope_vs_site, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_ipv6_prefix_is_one_client, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_learning_period, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_learning_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_expiry_alerts_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_expiry_across_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_response_fills_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_baseline_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_learn_only_never_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_learn_run_ends_learning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_flush_spreads_over_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detector_learned_row_text, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
