/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/config.h"
#include "util/error.h"

/* Write @p text to a new temporary file and return its path (static buffer). */
static const char *write_temp_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/dnsfirst-test-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Load @p text as a config file into @p cfg; the error text goes to @p err. */
static int load_text(struct config *cfg, const char *text, char *err, size_t err_size)
{
    const char *path = write_temp_file(text);
    int ret = config_load_file(cfg, path, err, err_size);
    unlink(path);
    return ret;
}

/* Check that loading @p text fails with an error that ends with @p suffix. */
static void assert_load_error(const char *text, const char *suffix)
{
    struct config cfg;
    char err[512] = "";
    config_init(&cfg);
    const char *path = write_temp_file(text);
    assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), DF_ECONFIG);
    unlink(path);

    /* The message is "PATH:LINE: ..."; the path is the temporary file's. */
    size_t path_len = strlen(path);
    assert_memory_equal(err, path, path_len);
    assert_string_equal(err + path_len, suffix);
}

static bool has_internal(const struct config *cfg, const char *text)
{
    struct prefix p;
    assert_int_equal(prefix_parse(text, &p), 0);
    for (size_t i = 0; i < cfg->internal_count; i++) {
        if (memcmp(&cfg->internal[i], &p, sizeof(p)) == 0) {
            return true;
        }
    }
    return false;
}

static void test_config_defaults(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(cfg.scope, SCOPE_SERVER);
    assert_int_equal(cfg.learning_period_s, 24 * 3600);
    assert_int_equal(cfg.expiry_s, 90 * 86400);
    assert_int_equal(cfg.response_wait_ms, 2000);
    assert_int_equal(cfg.internal_count, 9);
    const char *const internal[] = {
        "10.0.0.0/8",     "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
        "100.64.0.0/10",  "::1/128",       "fc00::/7",       "fe80::/10",
    };
    for (size_t i = 0; i < 9; i++) {
        char text[ADDR_TEXT_MAX];
        prefix_format(&cfg.internal[i], text, sizeof(text));
        assert_string_equal(text, internal[i]);
    }
    assert_false(cfg.internal_none);
    assert_int_equal(cfg.dns_port_count, 1);
    assert_int_equal(cfg.dns_ports[0], 53);
    assert_int_equal(cfg.client_prefix_v4, 32);
    assert_int_equal(cfg.client_prefix_v6, 64);
    assert_string_equal(cfg.site_name, "site");
    assert_false(cfg.learn_only);
    assert_string_equal(cfg.state_path, "dnsfirst-baseline.db");
    assert_int_equal(cfg.flush_interval_s, 300);
    assert_int_equal(cfg.store_batch_max, 32768);
    assert_int_equal(cfg.store_queue_max, 65536);
    assert_int_equal(cfg.max_clients, 16777216);
    assert_string_equal(cfg.output_path, "-");
    assert_int_equal(cfg.log_level, 5);
    assert_int_equal(cfg.input_count, 0);
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);
}

static void test_config_table_is_complete(void **state)
{
    (void)state;
    size_t count = config_setting_count();
    assert_true(count >= 18);
    assert_null(config_setting_at(count));
    for (size_t i = 0; i < count; i++) {
        const struct config_setting *s = config_setting_at(i);
        assert_non_null(s->set);
        assert_non_null(s->value_name);
        assert_non_null(s->default_text);
        assert_true(strlen(s->help) > 10);
        assert_ptr_equal(config_setting_find(s->name), s);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(config_setting_at(j)->name, s->name);
        }
    }
    assert_null(config_setting_find("no-such-setting"));
}

static void test_config_sets_enums(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "scope", "site", err, sizeof(err)), 0);
    assert_int_equal(cfg.scope, SCOPE_SITE);
    assert_int_equal(config_set(&cfg, "log-level", "debug", err, sizeof(err)), 0);
    assert_int_equal(cfg.log_level, 7);
    assert_int_equal(config_set(&cfg, "log-level", "err", err, sizeof(err)), 0);
    assert_int_equal(cfg.log_level, 3);

    assert_int_equal(config_set(&cfg, "scope", "Site", err, sizeof(err)), DF_ECONFIG);
    assert_string_equal(err, "key 'scope': invalid value 'Site' (expected server|site)");
    assert_int_equal(cfg.scope, SCOPE_SITE);
    assert_int_equal(config_set(&cfg, "log-level", "5", err, sizeof(err)), DF_ECONFIG);
}

static void test_config_rejects_unknown_key_and_missing_value(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "learning_period", "1d", err, sizeof(err)), DF_ECONFIG);
    assert_string_equal(err, "key 'learning_period': unknown setting");
    assert_int_equal(config_set(&cfg, "expiry", NULL, err, sizeof(err)), DF_ECONFIG);
    assert_string_equal(err, "key 'expiry': missing value (expected DURATION)");
}

static void test_config_sets_uints_within_bounds(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "client-prefix-v4", "24", err, sizeof(err)), 0);
    assert_int_equal(cfg.client_prefix_v4, 24);
    assert_int_equal(config_set(&cfg, "client-prefix-v4", "0", err, sizeof(err)), 0);
    assert_int_equal(cfg.client_prefix_v4, 0);
    assert_int_equal(config_set(&cfg, "client-prefix-v6", "128", err, sizeof(err)), 0);
    assert_int_equal(cfg.client_prefix_v6, 128);
    assert_int_equal(config_set(&cfg, "max-clients", "4294967295", err, sizeof(err)), 0);
    assert_int_equal(cfg.max_clients, UINT32_MAX);
    assert_int_equal(config_set(&cfg, "store-batch-max", "1", err, sizeof(err)), 0);
    assert_int_equal(cfg.store_batch_max, 1);

    const char *const bad[][2] = {
        { "client-prefix-v4", "33" },  { "client-prefix-v6", "129" },
        { "client-prefix-v4", "-1" },  { "client-prefix-v4", "+8" },
        { "client-prefix-v4", "" },    { "client-prefix-v4", "8 " },
        { "client-prefix-v4", "0x8" }, { "max-clients", "4294967296" },
        { "max-clients", "0" },        { "store-queue-max", "99999999999999999999999" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int ret = config_set(&cfg, bad[i][0], bad[i][1], err, sizeof(err));
        if (ret != DF_ECONFIG) {
            fail_msg("%s = '%s' was accepted", bad[i][0], bad[i][1]);
        }
    }
    assert_int_equal(config_set(&cfg, "client-prefix-v4", "33", err, sizeof(err)), DF_ECONFIG);
    assert_string_equal(err,
                        "key 'client-prefix-v4': invalid value '33' (expected a number from 0 "
                        "to 32)");
    assert_int_equal(cfg.client_prefix_v4, 0);
}

static void test_config_sets_text_and_bool(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "state", "/var/lib/dnsfirst/base.db", err, sizeof(err)),
                     0);
    assert_string_equal(cfg.state_path, "/var/lib/dnsfirst/base.db");
    assert_int_equal(config_set(&cfg, "output", "", err, sizeof(err)), 0);
    assert_string_equal(cfg.output_path, "");
    assert_int_equal(config_set(&cfg, "site-name", "branch office", err, sizeof(err)), 0);
    assert_string_equal(cfg.site_name, "branch office");

    assert_int_equal(config_set(&cfg, "state", "", err, sizeof(err)), DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "site-name", "", err, sizeof(err)), DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "site-name", "tab\there", err, sizeof(err)), DF_ECONFIG);
    char long_name[100];
    memset(long_name, 'x', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(config_set(&cfg, "site-name", long_name, err, sizeof(err)), DF_ECONFIG);
    assert_string_equal(err, "key 'site-name': value is 99 bytes long (at most 63)");
    assert_string_equal(cfg.site_name, "branch office");

    assert_int_equal(config_set(&cfg, "learn", "yes", err, sizeof(err)), 0);
    assert_true(cfg.learn_only);
    assert_int_equal(config_set(&cfg, "learn", "off", err, sizeof(err)), 0);
    assert_false(cfg.learn_only);
    assert_int_equal(config_set(&cfg, "learn", NULL, err, sizeof(err)), 0);
    assert_true(cfg.learn_only);
    assert_int_equal(config_set(&cfg, "learn", "maybe", err, sizeof(err)), DF_ECONFIG);
}

struct duration_case {
    const char *text;
    int ret;
    int64_t seconds;
};

static void test_config_parses_durations(void **state)
{
    (void)state;
    static const struct duration_case cases[] = {
        { "0", 0, 0 },
        { "0s", 0, 0 },
        { "90", 0, 90 },
        { "90s", 0, 90 },
        { "90m", 0, 5400 },
        { "24h", 0, 86400 },
        { "7d", 0, 604800 },
        { "2000ms", 0, 2 },
        { "36500d", 0, CONFIG_DURATION_MAX_S },
        { "3153600000", 0, CONFIG_DURATION_MAX_S },
        { "36501d", DF_EPARSE, 0 },
        { "3153600001", DF_EPARSE, 0 },
        { "500ms", DF_EPARSE, 0 },
        { "", DF_EPARSE, 0 },
        { "-1", DF_EPARSE, 0 },
        { "-1s", DF_EPARSE, 0 },
        { "+5s", DF_EPARSE, 0 },
        { "s", DF_EPARSE, 0 },
        { "1.5h", DF_EPARSE, 0 },
        { "5 s", DF_EPARSE, 0 },
        { " 5s", DF_EPARSE, 0 },
        { "5S", DF_EPARSE, 0 },
        { "5w", DF_EPARSE, 0 },
        { "5sec", DF_EPARSE, 0 },
        { "1h30m", DF_EPARSE, 0 },
        { "abc", DF_EPARSE, 0 },
        { "9223372036854775807", DF_EPARSE, 0 },
        { "99999999999999999999999d", DF_EPARSE, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t seconds = -1;
        int ret = config_parse_duration(cases[i].text, &seconds);
        if (ret != cases[i].ret) {
            fail_msg("'%s': returned %d, expected %d", cases[i].text, ret, cases[i].ret);
        }
        if (ret == 0 && seconds != cases[i].seconds) {
            fail_msg("'%s': %lld seconds, expected %lld", cases[i].text, (long long)seconds,
                     (long long)cases[i].seconds);
        }
    }
}

static void test_config_response_wait_takes_milliseconds(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "response-wait", "500ms", err, sizeof(err)), 0);
    assert_int_equal(cfg.response_wait_ms, 500);
    assert_int_equal(config_set(&cfg, "response-wait", "750", err, sizeof(err)), 0);
    assert_int_equal(cfg.response_wait_ms, 750);
    assert_int_equal(config_set(&cfg, "response-wait", "3s", err, sizeof(err)), 0);
    assert_int_equal(cfg.response_wait_ms, 3000);
    assert_int_equal(config_set(&cfg, "response-wait", "0", err, sizeof(err)), 0);
    assert_int_equal(cfg.response_wait_ms, 0);

    assert_int_equal(config_set(&cfg, "response-wait", "-5ms", err, sizeof(err)), DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "response-wait", "2 s", err, sizeof(err)), DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "learning-period", "7x", err, sizeof(err)), DF_ECONFIG);
    assert_non_null(strstr(err, "key 'learning-period': invalid duration '7x'"));
    assert_int_equal(cfg.learning_period_s, 86400);
}

static void test_config_dns_port_replaces_default(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "dns-port", "5353", err, sizeof(err)), 0);
    assert_int_equal(cfg.dns_port_count, 1);
    assert_int_equal(cfg.dns_ports[0], 5353);
    assert_int_equal(config_set(&cfg, "dns-port", "53, 853,53", err, sizeof(err)), 0);
    assert_int_equal(cfg.dns_port_count, 3);
    assert_int_equal(cfg.dns_ports[1], 53);
    assert_int_equal(cfg.dns_ports[2], 853);

    const char *const bad[] = { "0", "65536", "-53", "53,", ",53", "53,,54", "dns", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (config_set(&cfg, "dns-port", bad[i], err, sizeof(err)) != DF_ECONFIG) {
            fail_msg("dns-port '%s' was accepted", bad[i]);
        }
    }
}

static void test_config_internal_replaces_defaults(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "internal", "198.51.100.0/24", err, sizeof(err)), 0);
    assert_int_equal(cfg.internal_count, 1);
    assert_true(has_internal(&cfg, "198.51.100.0/24"));
    assert_int_equal(config_set(&cfg, "internal", "2001:db8::/32,192.0.2.1", err, sizeof(err)),
                     0);
    assert_int_equal(cfg.internal_count, 3);
    assert_true(has_internal(&cfg, "2001:db8::/32"));
    assert_true(has_internal(&cfg, "192.0.2.1/32"));

    assert_int_equal(config_set(&cfg, "internal", "10.0.0.1/8", err, sizeof(err)), DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "internal", "10.0.0.0/33", err, sizeof(err)), DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "internal", "example.com", err, sizeof(err)), DF_ECONFIG);
    assert_int_equal(config_set(&cfg, "internal-add", "", err, sizeof(err)), DF_ECONFIG);
}

static void test_config_internal_add_keeps_defaults(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "internal-add", "198.51.100.0/24", err, sizeof(err)), 0);
    assert_int_equal(cfg.internal_count, 10);
    assert_true(has_internal(&cfg, "10.0.0.0/8"));
    assert_true(has_internal(&cfg, "198.51.100.0/24"));

    /* A duplicate is not added twice. */
    assert_int_equal(config_set(&cfg, "internal-add", "10.0.0.0/8", err, sizeof(err)), 0);
    assert_int_equal(cfg.internal_count, 10);

    /* internal after internal-add in one source keeps what internal-add added. */
    assert_int_equal(config_set(&cfg, "internal", "192.0.2.0/24", err, sizeof(err)), 0);
    assert_int_equal(cfg.internal_count, 2);
    assert_true(has_internal(&cfg, "198.51.100.0/24"));
    assert_true(has_internal(&cfg, "192.0.2.0/24"));
    assert_false(has_internal(&cfg, "10.0.0.0/8"));
}

static void test_config_internal_none(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];
    config_init(&cfg);

    assert_int_equal(config_set(&cfg, "internal", "none", err, sizeof(err)), 0);
    assert_int_equal(cfg.internal_count, 0);
    assert_true(cfg.internal_none);
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), 0);

    /* An empty list that was not requested with "none" is an error. */
    cfg.internal_none = false;
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), DF_ECONFIG);
    assert_non_null(strstr(err, "internal = none"));
}

static void test_config_validate_rejects_inconsistent(void **state)
{
    (void)state;
    struct config cfg;
    char err[256];

    config_init(&cfg);
    cfg.dns_port_count = 0;
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), DF_ECONFIG);
    assert_string_equal(err, "key 'dns-port': no DNS port given");

    config_init(&cfg);
    cfg.client_prefix_v6 = 129;
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), DF_ECONFIG);

    config_init(&cfg);
    cfg.log_level = 8;
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), DF_ECONFIG);

    config_init(&cfg);
    cfg.state_path[0] = '\0';
    assert_int_equal(config_validate(&cfg, err, sizeof(err)), DF_ECONFIG);
}

static void test_config_file_sets_values(void **state)
{
    (void)state;
    struct config cfg;
    char err[512] = "";
    config_init(&cfg);

    const char *text = "# dnsfirst settings\n"
                       "; another comment\n"
                       "\n"
                       "scope = site\n"
                       "learning-period = 7d ; a week\n"
                       "  response-wait=500ms\n"
                       "internal-add = 198.51.100.0/24\n"
                       "[dnsfirst]\n"
                       "dns-port = 53\n"
                       "dns-port = 5353\n"
                       "site-name = hq\r\n";
    assert_int_equal(load_text(&cfg, text, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(cfg.scope, SCOPE_SITE);
    assert_int_equal(cfg.learning_period_s, 7 * 86400);
    assert_int_equal(cfg.response_wait_ms, 500);
    assert_int_equal(cfg.internal_count, 10);
    assert_int_equal(cfg.dns_port_count, 2);
    assert_int_equal(cfg.dns_ports[0], 53);
    assert_int_equal(cfg.dns_ports[1], 5353);
    assert_string_equal(cfg.site_name, "hq");
}

static void test_config_file_reports_bad_line(void **state)
{
    (void)state;
    assert_load_error("scope = server\n"
                      "\n"
                      "# comment\n"
                      "expiry = 90 days\n"
                      "scope = site\n",
                      ":4: key 'expiry': invalid duration '90 days' (expected a number of "
                      "seconds, or a number with s, m, h or d such as 90s or 24h, at most "
                      "36500d)");
    assert_load_error("scope = server\nbogus = 1\n", ":2: key 'bogus': unknown setting");
    assert_load_error("scope = server\njust some words\nexpiry = x\n",
                      ":2: syntax error (expected 'key = value')");
    assert_load_error("[other]\nscope = server\n",
                      ":2: key 'scope': unknown section [other] (keys go at the top or in "
                      "[dnsfirst])");
    assert_load_error("scope = server\n[dnsfirst\n", ":2: syntax error (expected 'key = value')");

    /* An indented line is a setting of its own, not a continuation. */
    assert_load_error("scope = server\n  site\n", ":2: syntax error (expected 'key = value')");
}

static void test_config_file_reports_long_line(void **state)
{
    (void)state;
    char text[600];
    char reason[64];
    int n = snprintf(text, sizeof(text), "scope = server\nstate = /");
    memset(text + n, 'x', 400);
    snprintf(text + n + 400, sizeof(text) - (size_t)n - 400, "\n");

    struct config cfg;
    char err[512];
    config_init(&cfg);
    const char *path = write_temp_file(text);
    assert_int_equal(config_load_file(&cfg, path, err, sizeof(err)), DF_ECONFIG);
    unlink(path);
    snprintf(reason, sizeof(reason), ":2: line too long (at most ");
    assert_non_null(strstr(err, reason));
    assert_string_equal(cfg.state_path, "dnsfirst-baseline.db");

    /* A comment of the same length is fine. */
    text[n - 9] = '#';
    assert_int_equal(load_text(&cfg, text, err, sizeof(err)), 0);
}

static void test_config_file_is_directory(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    config_init(&cfg);

    assert_int_equal(config_load_file(&cfg, "/tmp", err, sizeof(err)), DF_ECONFIG);
    assert_string_equal(err, "/tmp: read failed (Is a directory)");
}

static void test_config_file_error_changes_nothing(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    config_init(&cfg);

    assert_int_equal(load_text(&cfg, "scope = site\ninternal = 192.0.2.0/24\nexpiry = -1\n", err,
                               sizeof(err)),
                     DF_ECONFIG);
    assert_int_equal(cfg.scope, SCOPE_SERVER);
    assert_int_equal(cfg.internal_count, 9);
    assert_int_equal(cfg.expiry_s, 90 * 86400);
}

static void test_config_file_missing(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    config_init(&cfg);

    assert_int_equal(config_load_file(&cfg, "/nonexistent/dnsfirst.conf", err, sizeof(err)),
                     DF_ECONFIG);
    assert_string_equal(err, "/nonexistent/dnsfirst.conf: cannot open (No such file or directory)");
}

static void test_config_sources_replace_lists_in_turn(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    config_init(&cfg);

    /* The file replaces the defaults and adds one more. */
    assert_int_equal(load_text(&cfg,
                               "internal = 192.0.2.0/24\n"
                               "internal = 198.51.100.0/24\n"
                               "internal-add = 203.0.113.0/24\n"
                               "dns-port = 5353\n",
                               err, sizeof(err)),
                     0);
    assert_int_equal(cfg.internal_count, 3);
    assert_false(has_internal(&cfg, "10.0.0.0/8"));

    /* The command line's first --internal replaces the file's list. */
    assert_int_equal(config_set(&cfg, "internal-add", "2001:db8::/32", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "internal", "10.1.0.0/16", err, sizeof(err)), 0);
    assert_int_equal(cfg.internal_count, 2);
    assert_true(has_internal(&cfg, "2001:db8::/32"));
    assert_true(has_internal(&cfg, "10.1.0.0/16"));

    assert_int_equal(config_set(&cfg, "dns-port", "53", err, sizeof(err)), 0);
    assert_int_equal(cfg.dns_port_count, 1);
    assert_int_equal(cfg.dns_ports[0], 53);

    /* A second file is a new source again. */
    assert_int_equal(load_text(&cfg, "internal-add = 192.0.2.0/24\n", err, sizeof(err)), 0);
    assert_int_equal(cfg.internal_count, 3);
}

static void test_config_lists_replace_independently(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    config_init(&cfg);
    assert_int_equal(load_text(&cfg, "interface = eth0\ndnstap = unix:/tmp/a.sock\n",
                               err, sizeof(err)), 0);

    /* Replacing the dnstap list must not count as replacing the interfaces. */
    assert_int_equal(config_set(&cfg, "dnstap", "unix:/tmp/b.sock", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "interface", "eth1", err, sizeof(err)), 0);
    assert_int_equal(cfg.dnstap_count, 1);
    assert_int_equal(cfg.interface_count, 1);
    assert_string_equal(cfg.interfaces[0], "eth1");
}

static void test_config_print_round_trips(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    config_init(&cfg);
    assert_int_equal(config_set(&cfg, "response-wait", "1500", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "learning-period", "90m", err, sizeof(err)), 0);
    assert_int_equal(config_set(&cfg, "internal-add", "2001:db8::/32", err, sizeof(err)), 0);

    char text[8192];
    FILE *out = fmemopen(text, sizeof(text), "w");
    assert_non_null(out);
    config_print(&cfg, out);
    fclose(out);

    assert_non_null(strstr(text, "scope = server\n"));
    assert_non_null(strstr(text, "learning-period = 90m\n"));
    assert_non_null(strstr(text, "expiry = 90d\n"));
    assert_non_null(strstr(text, "response-wait = 1500ms\n"));
    assert_non_null(strstr(text, "internal = 10.0.0.0/8, 172.16.0.0/12,"));
    assert_non_null(strstr(text, ", 2001:db8::/32\n"));
    assert_null(strstr(text, "internal-add"));
    assert_non_null(strstr(text, "dns-port = 53\n"));
    assert_non_null(strstr(text, "log-level = notice\n"));

    /* Loading the printed text gives the same settings. */
    struct config again;
    config_init(&again);
    assert_int_equal(load_text(&again, text, err, sizeof(err)), 0);
    assert_int_equal(again.response_wait_ms, 1500);
    assert_int_equal(again.learning_period_s, 5400);
    assert_int_equal(again.internal_count, cfg.internal_count);
    assert_memory_equal(again.internal, cfg.internal, cfg.internal_count * sizeof(cfg.internal[0]));
}

static void test_config_print_wraps_long_lists(void **state)
{
    (void)state;
    struct config cfg;
    char err[512];
    config_init(&cfg);
    for (unsigned i = 0; i < CONFIG_INTERNAL_MAX; i++) {
        char prefix[ADDR_TEXT_MAX];
        snprintf(prefix, sizeof(prefix), "2001:db8:%x::/48", i);
        assert_int_equal(config_set(&cfg, i == 0 ? "internal" : "internal-add", prefix, err,
                                    sizeof(err)),
                         0);
    }
    assert_int_equal(config_set(&cfg, "internal-add", "192.0.2.0/24", err, sizeof(err)),
                     DF_ECONFIG);
    assert_string_equal(err, "key 'internal-add': more than 256 internal networks");

    static char text[65536];
    FILE *out = fmemopen(text, sizeof(text), "w");
    assert_non_null(out);
    config_print(&cfg, out);
    fclose(out);

    /* Every line fits in 100 bytes, so the text loads again. */
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        assert_true(end - line <= 100);
        line = end + 1;
    }
    struct config again;
    config_init(&again);
    assert_int_equal(load_text(&again, text, err, sizeof(err)), 0);
    assert_int_equal(again.internal_count, CONFIG_INTERNAL_MAX);
    assert_memory_equal(again.internal, cfg.internal, sizeof(cfg.internal));
}

static void test_config_print_markdown_lists_every_setting(void **state)
{
    (void)state;
    char text[16384];
    FILE *out = fmemopen(text, sizeof(text), "w");
    assert_non_null(out);
    config_print_markdown(out);
    fclose(out);

    assert_non_null(strstr(text, "| Key | Flag | Default | Meaning |\n"));
    assert_non_null(strstr(text, "| `learning-period` | `--learning-period DURATION` | `1d` |"));
    assert_non_null(strstr(text, "| `scope` | `--scope server\\|site` | `server` |"));
    assert_non_null(strstr(text, "| `learn` | `--learn` | `false` |"));
    for (size_t i = 0; i < config_setting_count(); i++) {
        char cell[64];
        snprintf(cell, sizeof(cell), "| `%s` |", config_setting_at(i)->name);
        assert_non_null(strstr(text, cell));
    }
}

/* check-config prints each default exactly as the settings table writes it. */
static void test_config_print_matches_default_text(void **state)
{
    (void)state;
    struct config cfg;
    config_init(&cfg);
    for (size_t i = 0; i < config_setting_count(); i++) {
        const struct config_setting *s = config_setting_at(i);
        if (s->format == NULL || s->default_text[0] == '\0') {
            continue;
        }
        char value[8192];
        s->format(&cfg, s, value, sizeof(value));
        if (strcmp(value, s->default_text) != 0) {
            fail_msg("%s: check-config prints '%s', the settings table says '%s'", s->name,
                     value, s->default_text);
        }
    }
}

/* The help text, and so the README table, explains what 0 means where it is special. */
static void test_config_help_explains_zero(void **state)
{
    (void)state;
    const struct config_setting *expiry = config_setting_find("expiry");
    const struct config_setting *flush = config_setting_find("flush-interval");
    assert_non_null(expiry);
    assert_non_null(flush);
    assert_non_null(strstr(expiry->help, "0 turns expiry off"));
    assert_non_null(strstr(flush->help, "0 writes them once per second of capture time"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_table_is_complete),
        cmocka_unit_test(test_config_sets_enums),
        cmocka_unit_test(test_config_rejects_unknown_key_and_missing_value),
        cmocka_unit_test(test_config_sets_uints_within_bounds),
        cmocka_unit_test(test_config_sets_text_and_bool),
        cmocka_unit_test(test_config_parses_durations),
        cmocka_unit_test(test_config_response_wait_takes_milliseconds),
        cmocka_unit_test(test_config_dns_port_replaces_default),
        cmocka_unit_test(test_config_internal_replaces_defaults),
        cmocka_unit_test(test_config_lists_replace_independently),
        cmocka_unit_test(test_config_internal_add_keeps_defaults),
        cmocka_unit_test(test_config_internal_none),
        cmocka_unit_test(test_config_validate_rejects_inconsistent),
        cmocka_unit_test(test_config_file_sets_values),
        cmocka_unit_test(test_config_file_reports_bad_line),
        cmocka_unit_test(test_config_file_reports_long_line),
        cmocka_unit_test(test_config_file_error_changes_nothing),
        cmocka_unit_test(test_config_file_missing),
        cmocka_unit_test(test_config_file_is_directory),
        cmocka_unit_test(test_config_sources_replace_lists_in_turn),
        cmocka_unit_test(test_config_print_round_trips),
        cmocka_unit_test(test_config_print_wraps_long_lists),
        cmocka_unit_test(test_config_print_markdown_lists_every_setting),
        cmocka_unit_test(test_config_print_matches_default_text),
        cmocka_unit_test(test_config_help_explains_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
