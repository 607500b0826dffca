/* SPDX-License-Identifier: MIT */
/*
 * Alerts and decoded messages as JSON: every line is parsed back with
 * json-c, and the tests check fields, nesting, escaping and overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "output/alert.h"

/* Set @p m to a query for www.example.com A from 203.0.113.7 to 192.0.2.53. */
static void make_query(struct dns_message *m)
{
    static const uint8_t qname[] = "\3www\7example\3com";

    memset(m, 0, sizeof(*m));
    m->ts_sec = 1714566896;
    m->ts_nsec = 789012345;
    m->transport = DNS_TRANSPORT_UDP;
    assert_int_equal(addr_parse("203.0.113.7", &m->src), 0);
    assert_int_equal(addr_parse("192.0.2.53", &m->dst), 0);
    m->sport = 40000;
    m->dport = 53;
    m->id = 0x1234;
    m->flags = DNS_FLAG_RD | DNS_FLAG_AD;
    m->qdcount = 1;
    m->arcount = 1;
    m->has_question = true;
    m->qname_len = sizeof(qname); /* the string's NUL is the root label */
    memcpy(m->qname, qname, sizeof(qname));
    m->qtype = 1;
    m->qclass = 1;
    m->origin.packet_number = 17;
}

static void make_alert(struct alert *a, const struct dns_message *query)
{
    memset(a, 0, sizeof(*a));
    a->query = query;
    a->scope_mode = "server";
    a->scope_key = "192.0.2.53";
    a->client_key = "203.0.113.7/32";
    a->input_name = "capture.pcap";
    a->baseline_size = 42;
}

/* Parse @p text, failing the test unless it is one JSON object. */
static json_object *parse_json(const char *text, size_t len)
{
    assert_int_equal(strlen(text), len);
    enum json_tokener_error jerr;
    json_object *root = json_tokener_parse_verbose(text, &jerr);
    if (root == NULL) {
        fail_msg("invalid JSON (%s): %s", json_tokener_error_desc(jerr), text);
    }
    assert_true(json_object_is_type(root, json_type_object));
    return root;
}

/* Follow a dotted path of object keys; NULL when a key is missing. */
static json_object *get_path(json_object *root, const char *path)
{
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", path);
    json_object *node = root;
    char *save = NULL;
    for (char *key = strtok_r(copy, ".", &save); key != NULL; key = strtok_r(NULL, ".", &save)) {
        if (!json_object_is_type(node, json_type_object) ||
            !json_object_object_get_ex(node, key, &node)) {
            return NULL;
        }
    }
    return node;
}

static void assert_path_string(json_object *root, const char *path, const char *expected)
{
    json_object *node = get_path(root, path);
    if (node == NULL || !json_object_is_type(node, json_type_string)) {
        fail_msg("%s: missing or not a string", path);
    }
    assert_string_equal(json_object_get_string(node), expected);
}

static void assert_path_int(json_object *root, const char *path, int64_t expected)
{
    json_object *node = get_path(root, path);
    if (node == NULL || !json_object_is_type(node, json_type_int)) {
        fail_msg("%s: missing or not an integer", path);
    }
    assert_int_equal(json_object_get_int64(node), expected);
}

static void assert_path_bool(json_object *root, const char *path, bool expected)
{
    json_object *node = get_path(root, path);
    if (node == NULL || !json_object_is_type(node, json_type_boolean)) {
        fail_msg("%s: missing or not a boolean", path);
    }
    assert_int_equal(json_object_get_boolean(node), expected);
}

static void assert_path_missing(json_object *root, const char *path)
{
    if (get_path(root, path) != NULL) {
        fail_msg("%s: present but should be left out", path);
    }
}

/* Check that the array at @p path contains exactly the strings in @p expected. */
static void assert_path_strings(json_object *root, const char *path, const char *const *expected,
                                size_t count)
{
    json_object *node = get_path(root, path);
    if (node == NULL || !json_object_is_type(node, json_type_array)) {
        fail_msg("%s: missing or not an array", path);
    }
    assert_int_equal(json_object_array_length(node), count);
    for (size_t i = 0; i < count; i++) {
        json_object *item = json_object_array_get_idx(node, i);
        assert_string_equal(json_object_get_string(item), expected[i]);
    }
}

static void test_alert_json_has_ecs_fields(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    make_alert(&a, &query);

    size_t len = alert_json_format(&a, buf, sizeof(buf));
    assert_true(len > 0);
    json_object *root = parse_json(buf, len);

    assert_path_string(root, "@timestamp", "2024-05-01T12:34:56.789012Z");
    assert_path_string(root, "event.kind", "alert");
    const char *const category[] = { "network" };
    assert_path_strings(root, "event.category", category, 1);
    const char *const type[] = { "connection" };
    assert_path_strings(root, "event.type", type, 1);
    assert_path_string(root, "event.dataset", "dnsfirst.alert");
    assert_path_string(root, "event.module", "dnsfirst");
    assert_path_string(root, "rule.id", ALERT_RULE_ID);
    assert_path_string(root, "rule.name", ALERT_RULE_NAME);

    assert_path_string(root, "source.ip", "203.0.113.7");
    assert_path_int(root, "source.port", 40000);
    assert_path_string(root, "destination.ip", "192.0.2.53");
    assert_path_int(root, "destination.port", 53);
    assert_path_string(root, "network.transport", "udp");
    assert_path_string(root, "network.type", "ipv4");
    assert_path_string(root, "network.protocol", "dns");
    json_object_put(root);
}

static void test_alert_json_has_dns_and_dnsfirst_fields(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    make_alert(&a, &query);

    size_t len = alert_json_format(&a, buf, sizeof(buf));
    json_object *root = parse_json(buf, len);

    assert_path_int(root, "dns.id", 0x1234);
    assert_path_string(root, "dns.type", "query");
    assert_path_string(root, "dns.op_code", "QUERY");
    const char *const flags[] = { "RD", "AD" };
    assert_path_strings(root, "dns.header_flags", flags, 2);
    assert_path_string(root, "dns.question.name", "www.example.com");
    assert_path_string(root, "dns.question.type", "A");
    assert_path_string(root, "dns.question.class", "IN");

    assert_path_string(root, "dnsfirst.scope", "server");
    assert_path_string(root, "dnsfirst.scope_key", "192.0.2.53");
    assert_path_string(root, "dnsfirst.client_key", "203.0.113.7/32");
    assert_path_string(root, "dnsfirst.input.name", "capture.pcap");
    assert_path_int(root, "dnsfirst.input.packet", 17);
    assert_path_int(root, "dnsfirst.baseline_size", 42);
    json_object_put(root);
}

static void test_alert_json_omits_response_when_not_seen(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    make_alert(&a, &query);

    json_object *root = parse_json(buf, alert_json_format(&a, buf, sizeof(buf)));
    assert_path_bool(root, "dnsfirst.response_seen", false);
    assert_path_missing(root, "dns.response_code");
    assert_path_missing(root, "dns.answers_count");
    assert_path_missing(root, "dns.answers");
    assert_path_missing(root, "dnsfirst.client_subnet");
    json_object_put(root);
}

static void test_alert_json_reports_response(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    make_alert(&a, &query);
    a.response_seen = true;
    a.response_rcode = 3;
    a.response_flags = DNS_FLAG_QR | DNS_FLAG_RA | 3;
    a.response_answers = 2;

    json_object *root = parse_json(buf, alert_json_format(&a, buf, sizeof(buf)));
    assert_path_bool(root, "dnsfirst.response_seen", true);
    assert_path_string(root, "dns.response_code", "NXDOMAIN");
    assert_path_int(root, "dns.answers_count", 2);

    /* The flags are the query's: the response's RA must not appear. */
    const char *const flags[] = { "RD", "AD" };
    assert_path_strings(root, "dns.header_flags", flags, 2);
    json_object_put(root);
}

static void test_alert_json_reports_edns_and_ipv6(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    assert_int_equal(addr_parse("2001:db8::7", &query.src), 0);
    assert_int_equal(addr_parse("2001:db8::53", &query.dst), 0);
    query.transport = DNS_TRANSPORT_TCP;
    query.flags = DNS_FLAG_AA | DNS_FLAG_TC | DNS_FLAG_RD | DNS_FLAG_RA | DNS_FLAG_AD |
                  DNS_FLAG_CD | DNS_FLAG_Z | (5u << 11);
    query.edns.present = true;
    query.edns.do_bit = true;
    query.edns.has_client_subnet = true;
    assert_int_equal(prefix_parse("198.51.100.0/24", &query.edns.client_subnet), 0);
    make_alert(&a, &query);

    json_object *root = parse_json(buf, alert_json_format(&a, buf, sizeof(buf)));
    assert_path_string(root, "source.ip", "2001:db8::7");
    assert_path_string(root, "destination.ip", "2001:db8::53");
    assert_path_string(root, "network.type", "ipv6");
    assert_path_string(root, "network.transport", "tcp");
    assert_path_string(root, "dns.op_code", "UPDATE");
    const char *const flags[] = { "AA", "TC", "RD", "RA", "AD", "CD", "DO" };
    assert_path_strings(root, "dns.header_flags", flags, 7);
    assert_path_string(root, "dnsfirst.client_subnet", "198.51.100.0/24");
    json_object_put(root);
}

static void test_alert_json_omits_unknown_values(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    memset(&query.src, 0, sizeof(query.src));
    query.sport = 0;
    query.origin.packet_number = 0;
    make_alert(&a, &query);
    a.input_name = NULL;
    a.scope_key = NULL;

    size_t len = alert_json_format(&a, buf, sizeof(buf));
    assert_null(strstr(buf, "null"));
    json_object *root = parse_json(buf, len);
    assert_path_missing(root, "source");
    assert_path_missing(root, "network.type");
    assert_path_missing(root, "dnsfirst.input");
    assert_path_missing(root, "dnsfirst.scope_key");
    assert_path_string(root, "dnsfirst.scope", "server");
    json_object_put(root);
}

static void test_alert_json_escapes_question_name(void **state)
{
    (void)state;
    /* Labels "a.b", "c\d", "\007x" and "example": dots, backslashes and a BEL. */
    static const uint8_t qname[] = "\3a.b\3c\\d\2\007x\7example";
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    query.qname_len = sizeof(qname);
    memcpy(query.qname, qname, sizeof(qname));
    make_alert(&a, &query);

    size_t len = alert_json_format(&a, buf, sizeof(buf));
    assert_non_null(strstr(buf, "\"name\":\"a\\\\.b.c\\\\\\\\d.\\\\007x.example\""));
    json_object *root = parse_json(buf, len);
    assert_path_string(root, "dns.question.name", "a\\.b.c\\\\d.\\007x.example");
    json_object_put(root);
}

static void test_alert_json_escapes_control_and_invalid_bytes(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    make_alert(&a, &query);

    /* Newline, tab, 0x01, DEL, a quote, a valid "é" and a lone 0xff byte. */
    a.input_name = "in\n\t\x01\x7f\"\xc3\xa9\xff.pcap";

    size_t len = alert_json_format(&a, buf, sizeof(buf));
    const char *expected = "\"name\":\"in\\u000a\\u0009\\u0001\\u007f\\\"\xc3\xa9\\u00ff.pcap\"";
    assert_non_null(strstr(buf, expected));
    for (size_t i = 0; i < len; i++) {
        assert_true((unsigned char)buf[i] >= 0x20);
    }

    /* The stray byte comes back as U+00FF, which is "\xc3\xbf" in UTF-8. */
    json_object *root = parse_json(buf, len);
    assert_path_string(root, "dnsfirst.input.name", "in\n\t\x01\x7f\"\xc3\xa9\xc3\xbf.pcap");
    json_object_put(root);
}

static void test_alert_json_rejects_invalid_utf8_forms(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    make_alert(&a, &query);

    /* Overlong "/", a UTF-16 surrogate, a truncated sequence and U+10FFFF. */
    a.input_name = "\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xf4\x8f\xbf\xbf";
    alert_json_format(&a, buf, sizeof(buf));
    const char *expected =
        "\"name\":\"\\u00c0\\u00af|\\u00ed\\u00a0\\u0080|\\u00e2\\u0082|\xf4\x8f\xbf\xbf\"";
    assert_non_null(strstr(buf, expected));
}

static void test_alert_json_returns_zero_on_overflow(void **state)
{
    (void)state;
    struct dns_message query;
    struct alert a;
    char full[ALERT_JSON_MAX];
    char buf[ALERT_JSON_MAX];
    make_query(&query);
    make_alert(&a, &query);
    size_t len = alert_json_format(&a, full, sizeof(full));
    assert_true(len > 0);

    /* Every buffer without room for the text and its NUL fails cleanly. */
    for (size_t size = 0; size <= len; size++) {
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(alert_json_format(&a, buf, size), 0);
        if (size > 0) {
            assert_int_equal(buf[0], '\0');
        }
        assert_int_equal(buf[size], 'x');
    }
    assert_int_equal(alert_json_format(&a, buf, len + 1), len);
    assert_string_equal(buf, full);
}

static void test_message_json_describes_query(void **state)
{
    (void)state;
    struct dns_message m;
    char buf[ALERT_JSON_MAX];
    make_query(&m);
    m.edns.present = true;
    m.edns.udp_size = 1232;
    m.edns.has_client_subnet = true;
    assert_int_equal(prefix_parse("2001:db8::/56", &m.edns.client_subnet), 0);

    json_object *root = parse_json(buf, message_json_format(&m, "in.pcap", buf, sizeof(buf)));
    assert_path_string(root, "@timestamp", "2024-05-01T12:34:56.789012Z");
    assert_path_string(root, "source.ip", "203.0.113.7");
    assert_path_int(root, "destination.port", 53);
    assert_path_string(root, "network.transport", "udp");
    assert_path_string(root, "dns.type", "query");
    assert_path_string(root, "dns.question.name", "www.example.com");
    assert_path_missing(root, "dns.response_code");
    assert_path_missing(root, "dns.answers_count");
    assert_path_int(root, "dns.questions_count", 1);
    assert_path_int(root, "dns.authorities_count", 0);
    assert_path_int(root, "dns.additionals_count", 1);
    assert_path_int(root, "dns.edns.udp_size", 1232);
    assert_path_int(root, "dns.edns.version", 0);
    assert_path_bool(root, "dns.edns.do", false);
    assert_path_string(root, "dns.edns.client_subnet", "2001:db8::/56");
    assert_path_string(root, "dnsfirst.input.name", "in.pcap");
    assert_path_int(root, "dnsfirst.input.packet", 17);
    assert_path_missing(root, "event");
    json_object_put(root);
}

static void test_message_json_describes_response(void **state)
{
    (void)state;
    struct dns_message m;
    char buf[ALERT_JSON_MAX];
    make_query(&m);
    m.flags = DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA; /* RCODE 0 */
    m.ancount = 3;
    m.edns.present = true;
    m.edns.do_bit = true;
    m.edns.extended_rcode = 1; /* with RCODE 0: 16, BADVERS */

    json_object *root = parse_json(buf, message_json_format(&m, NULL, buf, sizeof(buf)));
    assert_path_string(root, "dns.type", "answer");
    assert_path_string(root, "dns.response_code", "BADVERS");
    assert_path_int(root, "dns.answers_count", 3);
    const char *const flags[] = { "RD", "RA", "DO" };
    assert_path_strings(root, "dns.header_flags", flags, 3);
    assert_path_bool(root, "dns.edns.do", true);
    assert_path_missing(root, "dns.edns.client_subnet");
    assert_path_missing(root, "dnsfirst.input.name");
    assert_path_int(root, "dnsfirst.input.packet", 17);
    json_object_put(root);
}

static void test_message_json_omits_missing_question(void **state)
{
    (void)state;
    struct dns_message m;
    char buf[ALERT_JSON_MAX];
    make_query(&m);
    m.has_question = false;
    m.qdcount = 0;
    m.origin.packet_number = 0;

    json_object *root = parse_json(buf, message_json_format(&m, NULL, buf, sizeof(buf)));
    assert_path_missing(root, "dns.question");
    assert_path_int(root, "dns.questions_count", 0);
    assert_path_missing(root, "dns.edns");
    assert_path_missing(root, "dnsfirst");
    json_object_put(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_json_has_ecs_fields),
        cmocka_unit_test(test_alert_json_has_dns_and_dnsfirst_fields),
        cmocka_unit_test(test_alert_json_omits_response_when_not_seen),
        cmocka_unit_test(test_alert_json_reports_response),
        cmocka_unit_test(test_alert_json_reports_edns_and_ipv6),
        cmocka_unit_test(test_alert_json_omits_unknown_values),
        cmocka_unit_test(test_alert_json_escapes_question_name),
        cmocka_unit_test(test_alert_json_escapes_control_and_invalid_bytes),
        cmocka_unit_test(test_alert_json_rejects_invalid_utf8_forms),
        cmocka_unit_test(test_alert_json_returns_zero_on_overflow),
        cmocka_unit_test(test_message_json_describes_query),
        cmocka_unit_test(test_message_json_describes_response),
        cmocka_unit_test(test_message_json_omits_missing_question),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
