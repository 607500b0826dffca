/* SPDX-License-Identifier: MIT */
/* test_intel.c - intel domain and address lists, their formats and reload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "enrich/intel.h"
#include "util/error.h"

static char tmpdir[] = "/tmp/test_intel.XXXXXX";

/* Write @p text to FILE in the test directory; returns the path (static buffer per slot). */
static const char *write_file(const char *name, const char *text)
{
    static char paths[8][512];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Wire form of a dotted name, for lookups. */
static size_t to_wire(const char *text, uint8_t *wire)
{
    size_t n = 0;
    while (*text != '\0') {
        size_t len = strcspn(text, ".");
        wire[n++] = (uint8_t)len;
        memcpy(wire + n, text, len);
        n += len;
        text += len;
        if (*text == '.') {
            text++;
        }
    }
    wire[n++] = 0;
    return n;
}

static bool listed(const struct intel_domain_set *set, const char *name, size_t *offset)
{
    uint8_t wire[DNS_NAME_MAX];
    size_t len = to_wire(name, wire);
    size_t dummy = 0;
    return intel_domain_set_lookup(set, wire, len, offset != NULL ? offset : &dummy);
}

static struct intel_domain_set *load_domains(const char *text)
{
    char err[INTEL_ERR_MAX] = "";
    struct intel_domain_set *set = NULL;
    int ret = intel_domains_load(write_file("list.txt", text), &set, err, sizeof(err));
    if (ret != 0) {
        fail_msg("load failed: %s", err);
    }
    return set;
}

static void test_plain_list_matches_subdomains(void **state)
{
    (void)state;
    struct intel_domain_set *set = load_domains("# comment\nbad.example\n\nEvil.Test.\n");
    size_t offset = 99;

    assert_int_equal(intel_domain_set_count(set), 2);
    assert_true(listed(set, "bad.example", &offset));
    assert_int_equal(offset, 0);
    assert_true(listed(set, "www.a.bad.example", &offset));
    assert_int_equal(offset, 6);
    assert_true(listed(set, "WWW.EVIL.test", NULL));
    assert_false(listed(set, "notbad.example", NULL));
    assert_false(listed(set, "example", NULL));
    intel_domain_set_free(set);
}

static void test_hosts_file_lines(void **state)
{
    (void)state;
    struct intel_domain_set *set = load_domains(
        "127.0.0.1 localhost\n::1 ip6-localhost\n0.0.0.0 ads.test tracker.test # two\n"
        "127.0.0.1\tmalware.test\n");

    assert_int_equal(intel_domain_set_count(set), 3);
    assert_true(listed(set, "ads.test", NULL));
    assert_true(listed(set, "x.tracker.test", NULL));
    assert_true(listed(set, "malware.test", NULL));
    assert_false(listed(set, "localhost", NULL));
    intel_domain_set_free(set);
}

static void test_adblock_rules(void **state)
{
    (void)state;
    struct intel_domain_set *set = load_domains(
        "[Adblock Plus 2.0]\n! comment\n||ads.example^\n||track.example^$third-party\n"
        "@@||good.example^\n||paths.example/banner^\nexample.org##.ad\n");

    assert_int_equal(intel_domain_set_count(set), 2);
    assert_true(listed(set, "cdn.ads.example", NULL));
    assert_true(listed(set, "track.example", NULL));
    assert_false(listed(set, "good.example", NULL));
    assert_false(listed(set, "paths.example", NULL));
    assert_false(listed(set, "example.org", NULL));
    intel_domain_set_free(set);
}

static void test_rpz_zone(void **state)
{
    (void)state;
    struct intel_domain_set *set = load_domains(
        "$TTL 300\n$ORIGIN rpz.local.\n"
        "@ IN SOA ns.rpz.local. admin.rpz.local. (\n  1 3600 600 86400 300 )\n"
        "  IN NS ns.rpz.local.\n"
        "bad.example CNAME .\n*.bad.example CNAME .\n"
        "wild.example.rpz.local. 60 IN CNAME *.\n"
        "*.sub.example CNAME rpz-drop.\n"
        "ok.example CNAME rpz-passthru.\n"
        "32.1.2.0.192.rpz-ip CNAME .\n");

    assert_true(listed(set, "bad.example", NULL));
    assert_true(listed(set, "x.bad.example", NULL));
    assert_true(listed(set, "wild.example", NULL));
    assert_false(listed(set, "x.wild.example", NULL)); /* no "*." record for it */
    assert_true(listed(set, "a.sub.example", NULL));
    assert_false(listed(set, "sub.example", NULL));    /* "*." matches only below */
    assert_false(listed(set, "ok.example", NULL));
    assert_false(listed(set, "rpz.local", NULL));
    assert_int_equal(intel_domain_set_count(set), 3);
    intel_domain_set_free(set);
}

static void test_bad_domain_line_names_file_and_line(void **state)
{
    (void)state;
    char err[INTEL_ERR_MAX] = "";
    struct intel_domain_set *set = NULL;
    const char *path = write_file("bad.txt", "good.example\n\nbad..example\n");
    int ret = intel_domains_load(path, &set, err, sizeof(err));
    char expected[600];
    snprintf(expected, sizeof(expected), "%s:3: invalid domain name 'bad..example'", path);

    assert_int_equal(ret, DF_EPARSE);
    assert_null(set);
    assert_string_equal(err, expected);
}

static struct intel_addr_set *load_addresses(const char *text)
{
    char err[INTEL_ERR_MAX] = "";
    struct intel_addr_set *set = NULL;
    if (intel_addresses_load(write_file("addr.txt", text), &set, err, sizeof(err)) != 0) {
        fail_msg("load failed: %s", err);
    }
    return set;
}

static bool lpm(const struct intel_addr_set *set, const char *address, const char *expected)
{
    struct addr a;
    struct prefix p;
    char text[ADDR_TEXT_MAX];
    assert_int_equal(addr_parse(address, &a), 0);
    if (!intel_addr_set_lookup(set, &a, &p)) {
        return expected == NULL;
    }
    prefix_format(&p, text, sizeof(text));
    return expected != NULL && strcmp(text, expected) == 0;
}

static void test_address_list_longest_prefix(void **state)
{
    (void)state;
    struct intel_addr_set *set = load_addresses(
        "; Spamhaus DROP\n10.0.0.0/8 ; SBL1\n10.1.0.0/16 ; SBL2\n10.1.2.3\n"
        "# FireHOL netset\n2001:db8::/32\n2001:db8:1::/48\n10.1.0.0/16\n");

    assert_int_equal(intel_addr_set_count(set), 5);
    assert_true(lpm(set, "10.9.9.9", "10.0.0.0/8"));
    assert_true(lpm(set, "10.1.9.9", "10.1.0.0/16"));
    assert_true(lpm(set, "10.1.2.3", "10.1.2.3/32"));
    assert_true(lpm(set, "11.0.0.1", NULL));
    assert_true(lpm(set, "2001:db8:1::5", "2001:db8:1::/48"));
    assert_true(lpm(set, "2001:db8:2::5", "2001:db8::/32"));
    assert_true(lpm(set, "2001:db9::1", NULL));
    intel_addr_set_free(set);
}

static void test_bad_address_line_names_file_and_line(void **state)
{
    (void)state;
    char err[INTEL_ERR_MAX] = "";
    struct intel_addr_set *set = NULL;
    const char *path = write_file("badaddr.txt", "192.0.2.0/24\n192.0.2.1/24 ; host bits\n");

    assert_int_equal(intel_addresses_load(path, &set, err, sizeof(err)), DF_EPARSE);
    assert_non_null(strstr(err, ":2: invalid address or prefix '192.0.2.1/24'"));
}

static struct dns_message query_for(const char *src, const char *name)
{
    struct dns_message m;
    memset(&m, 0, sizeof(m));
    assert_int_equal(addr_parse(src, &m.src), 0);
    m.has_question = true;
    m.qname_len = (uint8_t)to_wire(name, m.qname);
    return m;
}

static void report_count(void *ctx, const char *message)
{
    (void)message;
    (*(int *)ctx)++;
}

static void test_reload_keeps_old_list_on_error(void **state)
{
    (void)state;
    struct config cfg;
    config_init(&cfg);
    char err[INTEL_ERR_MAX] = "";
    const char *path = write_file("reload.txt", "old.example\n");
    snprintf(cfg.intel_domains[0], sizeof(cfg.intel_domains[0]), "feed=%s", path);
    cfg.intel_domains_count = 1;
    struct intel *in = NULL;
    assert_int_equal(intel_create(&cfg, &in, err, sizeof(err)), 0);

    struct intel_match match[2];
    struct dns_message old_q = query_for("192.0.2.1", "www.old.example");
    struct dns_message new_q = query_for("192.0.2.1", "new.example");
    assert_int_equal(intel_match(in, &old_q, match, 2), 1);
    assert_string_equal(match[0].indicator, "old.example");
    assert_string_equal(match[0].list->name, "feed");

    /* A broken file keeps the old contents and is reported. */
    int failures = 0;
    write_file("reload.txt", "new.example\nbroken..example\n");
    assert_int_equal(intel_reload(in, false, report_count, &failures), 1);
    assert_int_equal(failures, 1);
    assert_int_equal(intel_match(in, &old_q, match, 2), 1);

    /* A good file replaces it. */
    write_file("reload.txt", "new.example\n");
    assert_int_equal(intel_reload(in, false, report_count, &failures), 0);
    assert_int_equal(intel_match(in, &old_q, match, 2), 0);
    assert_int_equal(intel_match(in, &new_q, match, 2), 1);
    intel_destroy(in);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL) {
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_list_matches_subdomains),
        cmocka_unit_test(test_hosts_file_lines),
        cmocka_unit_test(test_adblock_rules),
        cmocka_unit_test(test_rpz_zone),
        cmocka_unit_test(test_bad_domain_line_names_file_and_line),
        cmocka_unit_test(test_address_list_longest_prefix),
        cmocka_unit_test(test_bad_address_line_names_file_and_line),
        cmocka_unit_test(test_reload_keeps_old_list_on_error),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0) {
        return 1;
    }
    return failed;
}
