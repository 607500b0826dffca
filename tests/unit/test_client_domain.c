/* SPDX-License-Identifier: MIT */
/* Unit tests of domain client keys: folding, the registry, and the fallback to addresses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/dns_wire.h"
#include "detect/client_domain.h"
#include "util/client_key.h"
#include "util/error.h"

static void assert_key_text(const struct client_domains *d, const struct prefix *key,
                            const char *expected)
{
    char text[STORE_KEY_MAX];
    size_t len = client_domains_format(d, key, text, sizeof(text));
    assert_string_equal(text, expected);
    assert_int_equal(len, strlen(expected));
}

static void test_domain_key_folds_case_and_dot(void **state)
{
    (void)state;
    struct client_domains d;
    client_domains_init(&d, 16);
    struct prefix plain, folded;
    assert_int_equal(client_domains_key(&d, "example.net", &plain), 0);
    assert_int_equal(client_domains_key(&d, "Example.NET.", &folded), 0);

    assert_int_equal(plain.addr.family, ADDR_FAMILY_NAME);
    assert_int_equal(plain.len, 0);
    assert_memory_equal(&plain, &folded, sizeof(plain));
    assert_int_equal(d.count, 1);
    assert_key_text(&d, &folded, "example.net");
    client_domains_free(&d);
}

static void test_domain_keys_differ(void **state)
{
    (void)state;
    struct client_domains d;
    client_domains_init(&d, 16);
    struct prefix a, b;
    assert_int_equal(client_domains_key(&d, "example.net", &a), 0);
    assert_int_equal(client_domains_key(&d, "example.org", &b), 0);
    assert_memory_not_equal(a.addr.bytes, b.addr.bytes, sizeof(a.addr.bytes));
    assert_key_text(&d, &a, "example.net");
    assert_key_text(&d, &b, "example.org");
    client_domains_free(&d);
}

/* Texts that the store could mistake for address keys, and texts too long for a key. */
static void test_domain_key_rejects_unusable_text(void **state)
{
    (void)state;
    struct client_domains d;
    client_domains_init(&d, 16);
    struct prefix key;
    char too_long[STORE_KEY_MAX + 1];
    memset(too_long, 'a', sizeof(too_long) - 1);
    too_long[sizeof(too_long) - 1] = '\0';

    assert_int_equal(client_domains_key(&d, "", &key), DF_EPARSE);
    assert_int_equal(client_domains_key(&d, ".", &key), DF_EPARSE);
    assert_int_equal(client_domains_key(&d, "192.0.2.1", &key), DF_EPARSE);
    assert_int_equal(client_domains_key(&d, "192.0.2.0/24", &key), DF_EPARSE);
    assert_int_equal(client_domains_key(&d, "2001:db8::", &key), DF_EPARSE);
    assert_int_equal(client_domains_key(&d, "a/b.example", &key), DF_EPARSE);
    assert_int_equal(client_domains_key(&d, too_long, &key), DF_EPARSE);
    too_long[STORE_KEY_MAX - 1] = '\0'; /* 63 characters fit */
    assert_int_equal(client_domains_key(&d, too_long, &key), 0);
    assert_int_equal(d.count, 1);
    client_domains_free(&d);
}

static void test_domain_registry_full(void **state)
{
    (void)state;
    struct client_domains d;
    client_domains_init(&d, 2);
    struct prefix key;
    assert_int_equal(client_domains_key(&d, "one.example", &key), 0);
    assert_int_equal(client_domains_key(&d, "two.example", &key), 0);
    assert_int_equal(client_domains_key(&d, "three.example", &key), -ENOSPC);
    assert_int_equal(client_domains_key(&d, "one.example", &key), 0);
    assert_key_text(&d, &key, "one.example");
    client_domains_free(&d);
}

/* Growth keeps every domain's text reachable from its key. */
static void test_domain_registry_grows(void **state)
{
    (void)state;
    struct client_domains d;
    client_domains_init(&d, 100000);
    enum { COUNT = 1000 };
    static struct prefix keys[COUNT];
    for (int i = 0; i < COUNT; i++) {
        char name[32];
        snprintf(name, sizeof(name), "host%d.example", i);
        assert_int_equal(client_domains_key(&d, name, &keys[i]), 0);
    }
    assert_int_equal(d.count, COUNT);
    for (int i = 0; i < COUNT; i++) {
        char name[32];
        snprintf(name, sizeof(name), "host%d.example", i);
        assert_key_text(&d, &keys[i], name);
    }
    client_domains_free(&d);
}

static void test_address_key_text_unchanged(void **state)
{
    (void)state;
    struct client_domains d;
    client_domains_init(&d, 16);
    struct prefix key;
    assert_int_equal(prefix_parse("192.0.2.7/32", &key), 0);
    assert_key_text(&d, &key, "192.0.2.7/32");
    client_domains_free(&d);
}

/* PTR response for 7.2.0.192.in-addr.arpa -> NAME, ttl 3600. */
static size_t ptr_response(const char *name, uint8_t *out)
{
    static const uint8_t head[] = {
        0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
        1, '7', 1, '2', 1, '0', 3, '1', '9', '2', 7, 'i', 'n', '-', 'a', 'd', 'd', 'r',
        4, 'a', 'r', 'p', 'a', 0, 0, 12, 0, 1,
        0xc0, 12, 0, 12, 0, 1, 0, 0, 0x0e, 0x10,
    };
    size_t n = sizeof(head);
    memcpy(out, head, n);

    /* RDLENGTH, then NAME as labels. */
    size_t rdlength_at = n;
    n += 2;
    const char *label = name;
    while (*label != '\0') {
        const char *dot = strchr(label, '.');
        size_t len = dot != NULL ? (size_t)(dot - label) : strlen(label);
        out[n++] = (uint8_t)len;
        memcpy(out + n, label, len);
        n += len;
        label += len + (dot != NULL);
    }
    out[n++] = 0;
    out[rdlength_at] = 0;
    out[rdlength_at + 1] = (uint8_t)(n - rdlength_at - 2);
    return n;
}

static void see_ptr_response(struct enrichment *en, const char *name)
{
    uint8_t wire[512];
    size_t len = ptr_response(name, wire);
    struct dns_message m;
    memset(&m, 0, sizeof(m));
    assert_int_equal(dns_wire_parse_question(wire, len, &m), DNS_WIRE_OK);
    enrichment_note_response(en, &m);
}

static void test_derive_uses_cached_name(void **state)
{
    (void)state;
    struct config *cfg = calloc(1, sizeof(*cfg));
    assert_non_null(cfg);
    config_init(cfg);
    cfg->client_key = CLIENT_KEY_PTR_DOMAIN;
    struct enrichment *en = NULL;
    char err[256];
    assert_int_equal(enrichment_create(cfg, &en, err, sizeof(err)), 0);
    assert_non_null(en);

    struct client_domains d;
    client_domains_init(&d, 16);
    struct addr client;
    assert_int_equal(addr_parse("192.0.2.7", &client), 0);
    struct prefix key;

    /* No name yet: the address prefix. */
    client_domains_derive(&d, cfg, en, &client, &key);
    assert_int_equal(key.addr.family, ADDR_FAMILY_IPV4);
    assert_key_text(&d, &key, "192.0.2.7/32");

    /* A PTR answer seen in traffic: the registrable domain. */
    see_ptr_response(en, "a.Resolvers.Example.net");
    client_domains_derive(&d, cfg, en, &client, &key);
    assert_int_equal(key.addr.family, ADDR_FAMILY_NAME);
    assert_key_text(&d, &key, "example.net");

    /* Under client-key address the name is ignored. */
    cfg->client_key = CLIENT_KEY_ADDRESS;
    client_domains_derive(&d, cfg, en, &client, &key);
    assert_key_text(&d, &key, "192.0.2.7/32");

    client_domains_free(&d);
    enrichment_destroy(en);
    free(cfg);
}

/* A name without a registrable domain (a bare public suffix) keeps the address. */
static void test_derive_falls_back_without_registrable_domain(void **state)
{
    (void)state;
    struct config *cfg = calloc(1, sizeof(*cfg));
    assert_non_null(cfg);
    config_init(cfg);
    cfg->client_key = CLIENT_KEY_PTR_DOMAIN;
    struct enrichment *en = NULL;
    char err[256];
    assert_int_equal(enrichment_create(cfg, &en, err, sizeof(err)), 0);

    struct client_domains d;
    client_domains_init(&d, 16);
    struct addr client;
    assert_int_equal(addr_parse("192.0.2.7", &client), 0);
    see_ptr_response(en, "co.uk");
    struct prefix key;
    client_domains_derive(&d, cfg, en, &client, &key);
    assert_key_text(&d, &key, "192.0.2.7/32");

    /* Without any enrichment the address prefix too. */
    client_domains_derive(&d, cfg, NULL, &client, &key);
    assert_key_text(&d, &key, "192.0.2.7/32");

    client_domains_free(&d);
    enrichment_destroy(en);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_key_folds_case_and_dot),
        cmocka_unit_test(test_domain_keys_differ),
        cmocka_unit_test(test_domain_key_rejects_unusable_text),
        cmocka_unit_test(test_domain_registry_full),
        cmocka_unit_test(test_domain_registry_grows),
        cmocka_unit_test(test_address_key_text_unchanged),
        cmocka_unit_test(test_derive_uses_cached_name),
        cmocka_unit_test(test_derive_falls_back_without_registrable_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
