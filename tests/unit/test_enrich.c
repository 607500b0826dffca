/* SPDX-License-Identifier: MIT */
/* test_enrich.c - GeoIP lookups, business hours across DST, allow rules, settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "enrich/allowlist.h"
#include "enrich/geoip.h"
#include "enrich/hours.h"
#include "util/error.h"

/* Directory of the MaxMind test databases, or NULL (with a message) when absent. */
static const char *mmdb_dir(void)
{
    static char dir[1024];
    const char *corpus = getenv("DNSFIRST_CORPUS");
    snprintf(dir, sizeof(dir), "%s/mmdb", corpus != NULL ? corpus : "../shared/corpus");
    char probe[1100];
    snprintf(probe, sizeof(probe), "%s/GeoIP2-City-Test.mmdb", dir);
    if (access(probe, R_OK) != 0) {
        print_message("SKIP: MaxMind test databases not found in %s "
                      "(set DNSFIRST_CORPUS)\n", dir);
        return NULL;
    }
    return dir;
}

static void set_path(char *field, size_t size, const char *dir, const char *file)
{
    snprintf(field, size, "%s/%s", dir, file);
}

static void test_geoip_city_and_asn(void **state)
{
    (void)state;
    const char *dir = mmdb_dir();
    if (dir == NULL) {
        skip();
    }
    struct config cfg;
    config_init(&cfg);
    set_path(cfg.geoip_city, sizeof(cfg.geoip_city), dir, "GeoIP2-City-Test.mmdb");
    set_path(cfg.geoip_asn, sizeof(cfg.geoip_asn), dir, "GeoLite2-ASN-Test.mmdb");
    char err[1024] = "";
    struct geoip *g = NULL;
    assert_int_equal(geoip_open(&cfg, &g, err, sizeof(err)), 0);

    struct addr a;
    struct geoip_result r;
    addr_parse("81.2.69.142", &a);
    geoip_lookup(g, &a, &r);
    assert_string_equal(r.country_iso_code, "GB");
    assert_string_equal(r.city_name, "London");
    assert_int_equal(r.as_number, 0);

    addr_parse("1.128.0.1", &a);
    geoip_lookup(g, &a, &r);
    assert_int_equal(r.as_number, 1221);
    assert_string_equal(r.as_org, "Telstra Pty Ltd");

    addr_parse("198.51.100.7", &a);
    geoip_lookup(g, &a, &r);
    assert_string_equal(r.country_iso_code, "");
    geoip_close(g);
}

static void test_geoip_country_database(void **state)
{
    (void)state;
    const char *dir = mmdb_dir();
    if (dir == NULL) {
        skip();
    }
    struct config cfg;
    config_init(&cfg);
    set_path(cfg.geoip_country, sizeof(cfg.geoip_country), dir, "GeoIP2-Country-Test.mmdb");
    char err[1024] = "";
    struct geoip *g = NULL;
    assert_int_equal(geoip_open(&cfg, &g, err, sizeof(err)), 0);

    struct addr a;
    struct geoip_result r;
    addr_parse("2.125.160.216", &a);
    geoip_lookup(g, &a, &r);
    assert_string_equal(r.country_iso_code, "GB");
    geoip_close(g);
}

static void expect_open_error(const char *dir, const char *file, bool as_asn)
{
    struct config cfg;
    config_init(&cfg);
    char *field = as_asn ? cfg.geoip_asn : cfg.geoip_city;
    set_path(field, sizeof(cfg.geoip_city), dir, file);
    char err[1024] = "";
    struct geoip *g = NULL;

    assert_int_equal(geoip_open(&cfg, &g, err, sizeof(err)), DF_ECONFIG);
    assert_null(g);
    assert_non_null(strstr(err, file));
}

static void test_geoip_rejects_bad_databases(void **state)
{
    (void)state;
    const char *dir = mmdb_dir();
    if (dir == NULL) {
        skip();
    }
    expect_open_error(dir, "MaxMind-DB-test-broken-pointers-24.mmdb", false);
    expect_open_error(dir, "MaxMind-DB-test-broken-search-tree-24.mmdb", false);
    expect_open_error(dir, "no-such-file.mmdb", false);
    expect_open_error(dir, "GeoIP2-City-Test.mmdb", true); /* wrong type for geoip-asn */
}

/* Seconds since the epoch of a UTC time. */
static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                     .tm_hour = h, .tm_min = mi };
    return (int64_t)timegm(&tm);
}

static void init_hours(struct hours *h, const char *spec)
{
    struct config cfg;
    config_init(&cfg);
    char err[256] = "";
    assert_int_equal(config_set(&cfg, "business-hours", spec, err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "holiday", "2024-12-25, 2024-12-26", err, sizeof(err)),
                     0);
    assert_int_equal(hours_init(h, &cfg, err, sizeof(err)), 0);
}

static void expect_hours(const struct hours *h, int64_t t, bool inside, const char *local)
{
    bool got = !inside;
    char text[40];
    assert_true(hours_check(h, t, &got, text, sizeof(text)));
    assert_string_equal(text, local);
    assert_int_equal(got, inside);
}

static void test_hours_across_spring_forward(void **state)
{
    (void)state;
    struct hours h;
    init_hours(&h, "Europe/Berlin Mon-Sun 02:00-03:30");

    /* 2024-03-31: clocks jump from 02:00 CET to 03:00 CEST at 01:00 UTC. */
    expect_hours(&h, utc(2024, 3, 31, 0, 30), false, "2024-03-31T01:30:00+01:00");
    expect_hours(&h, utc(2024, 3, 31, 1, 15), true, "2024-03-31T03:15:00+02:00");
    expect_hours(&h, utc(2024, 3, 31, 2, 0), false, "2024-03-31T04:00:00+02:00");
}

static void test_hours_across_fall_back(void **state)
{
    (void)state;
    struct hours h;
    init_hours(&h, "Europe/Berlin Mon-Fri 08:00-18:00");

    /* 2024-10-27 (a Sunday): 03:00 CEST becomes 02:00 CET at 01:00 UTC. */
    expect_hours(&h, utc(2024, 10, 27, 0, 30), false, "2024-10-27T02:30:00+02:00");
    expect_hours(&h, utc(2024, 10, 27, 1, 30), false, "2024-10-27T02:30:00+01:00");

    /* Monday after: 07:30 UTC is 08:30 CET, inside; 17:30 UTC is 18:30, outside. */
    expect_hours(&h, utc(2024, 10, 28, 7, 30), true, "2024-10-28T08:30:00+01:00");
    expect_hours(&h, utc(2024, 10, 28, 17, 30), false, "2024-10-28T18:30:00+01:00");

    /* Friday before, in summer time: 06:30 UTC is 08:30 CEST. */
    expect_hours(&h, utc(2024, 10, 25, 6, 30), true, "2024-10-25T08:30:00+02:00");
}

static void test_hours_holiday_is_closed(void **state)
{
    (void)state;
    struct hours h;
    init_hours(&h, "Europe/Berlin Mon-Fri 08:00-18:00");

    expect_hours(&h, utc(2024, 12, 25, 10, 0), false, "2024-12-25T11:00:00+01:00");
    expect_hours(&h, utc(2024, 12, 27, 10, 0), true, "2024-12-27T11:00:00+01:00");
}

static void test_hours_rejects_bad_values(void **state)
{
    (void)state;
    struct hours_spec spec;
    char err[256];
    assert_int_equal(hours_spec_parse("Nowhere/City Mon-Fri 08:00-18:00", &spec, err,
                                      sizeof(err)), DF_EPARSE);
    assert_int_equal(hours_spec_parse("UTC Mon-Fry 08:00-18:00", &spec, err, sizeof(err)),
                     DF_EPARSE);
    assert_int_equal(hours_spec_parse("UTC Mon-Fri 18:00-08:00", &spec, err, sizeof(err)),
                     DF_EPARSE);
    assert_int_equal(hours_spec_parse("UTC Fri-Mon+Wed 00:00-24:00", &spec, err, sizeof(err)),
                     0);
    assert_int_equal(spec.days, 0x6b); /* Sun, Mon, Wed, Fri, Sat */
}

static struct allow_rule parse_rule(const char *text)
{
    struct allow_rule r;
    char err[256] = "";
    if (allow_rule_parse(text, &r, err, sizeof(err)) != 0) {
        fail_msg("rule '%s' rejected: %s", text, err);
    }
    return r;
}

static void test_allow_rule_syntax(void **state)
{
    (void)state;
    struct allow_rule r = parse_rule("partner-x: 203.0.113.0/24 @192.0.2.1");
    assert_string_equal(r.name, "partner-x");
    assert_int_equal(r.kind, ALLOW_PREFIX);
    assert_true(r.has_server);

    r = parse_rule("AS64500");
    assert_int_equal(r.kind, ALLOW_ASN);
    assert_int_equal(r.asn, 64500);
    assert_string_equal(r.name, "AS64500");
    assert_int_equal(parse_rule("ASN:64501").asn, 64501);

    r = parse_rule("eu: country:de");
    assert_int_equal(r.kind, ALLOW_COUNTRY);
    assert_string_equal(r.country, "DE");

    assert_int_equal(parse_rule("name:*.partner.test").kind, ALLOW_NAME);
    assert_int_equal(parse_rule("*.example.com").kind, ALLOW_NAME);
    assert_int_equal(parse_rule("2001:db8::/32").kind, ALLOW_PREFIX);

    char err[256];
    assert_int_equal(allow_rule_parse("ASN:x", &r, err, sizeof(err)), DF_EPARSE);
    assert_int_equal(allow_rule_parse("10.0.0.0/8 @nowhere", &r, err, sizeof(err)), DF_EPARSE);
    assert_int_equal(allow_rule_parse("country:DEU", &r, err, sizeof(err)), DF_EPARSE);
}

static void test_allow_rule_matching(void **state)
{
    (void)state;
    struct config cfg;
    config_init(&cfg);
    char err[256] = "";
    assert_int_equal(config_set(&cfg, "allow", "p: 203.0.113.0/24 @192.0.2.1", err,
                                sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "allow", "AS1221, country:GB", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "allow", "name:*.partner.test", err, sizeof(err)), 0);
    struct allowlist al;
    assert_int_equal(allowlist_init(&al, &cfg, err, sizeof(err)), 0);
    assert_int_equal(al.count, 4);

    struct addr client, server, other_server;
    addr_parse("203.0.113.5", &client);
    addr_parse("192.0.2.1", &server);
    addr_parse("192.0.2.2", &other_server);
    struct allow_subject s = { .client = &client, .server = &server };
    assert_int_equal(allowlist_match(&al, &s), 0);
    s.server = &other_server;
    assert_int_equal(allowlist_match(&al, &s), -1);
    s.asn = 1221;
    assert_int_equal(allowlist_match(&al, &s), 1);
    s.asn = 0;
    s.country = "gb";
    assert_int_equal(allowlist_match(&al, &s), 2);
    s.country = NULL;
    s.domain = "Host.Partner.test";
    assert_int_equal(allowlist_match(&al, &s), 3);
    s.domain = "partner.test.evil";
    assert_int_equal(allowlist_match(&al, &s), -1);
}

static void test_settings_reject_bad_values(void **state)
{
    (void)state;
    struct config cfg;
    config_init(&cfg);
    char err[512] = "";
    assert_int_equal(config_set(&cfg, "intel-severity", "feed=urgent", err, sizeof(err)),
                     DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "holiday", "2024-02-30", err, sizeof(err)), DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "ptr-resolver", "127.0.0.1:99999", err, sizeof(err)),
                     DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "ptr-resolver", "[::1]:5353", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "intel-domains", "feed=/tmp/x.txt", err, sizeof(err)),
                     0);
    assert_int_equal(cfg.intel_domains_count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geoip_city_and_asn),
        cmocka_unit_test(test_geoip_country_database),
        cmocka_unit_test(test_geoip_rejects_bad_databases),
        cmocka_unit_test(test_hours_across_spring_forward),
        cmocka_unit_test(test_hours_across_fall_back),
        cmocka_unit_test(test_hours_holiday_is_closed),
        cmocka_unit_test(test_hours_rejects_bad_values),
        cmocka_unit_test(test_allow_rule_syntax),
        cmocka_unit_test(test_allow_rule_matching),
        cmocka_unit_test(test_settings_reject_bad_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
