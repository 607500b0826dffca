/* SPDX-License-Identifier: MIT */
/* Unit tests of reverse names and of the PTR search in answer sections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode/dns_answers.h"
#include "decode/dns_text.h"
#include "util/error.h"

/* 7.2.0.192.in-addr.arpa in wire form. */
static const uint8_t qname_v4[] = "\0017\0012\0010\003192\7in-addr\4arpa";

/* Header with QDCOUNT 1, then the question for qname_v4 at offset 12. */
#define MESSAGE_HEAD                                                                      \
    0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,                                       \
    1, '7', 1, '2', 1, '0', 3, '1', '9', '2', 7, 'i', 'n', '-', 'a', 'd', 'd', 'r', 4, 'a', \
    'r', 'p', 'a', 0, 0, 12, 0, 1
#define QUESTION_END 40 /* offset of the answer section */
#define QNAME_POINTER 0xc0, 12

/* Search @p msg for the PTR record of qname_v4 with @p ancount answers. */
static int find(const uint8_t *msg, size_t len, uint16_t ancount, struct dns_ptr_answer *out)
{
    return dns_answers_find_ptr(msg, len, QUESTION_END, ancount, qname_v4,
                                sizeof(qname_v4), out);
}

static void assert_target(const struct dns_ptr_answer *a, const char *expected)
{
    char text[DNS_NAME_MAX * 4 + 1];
    dns_name_format(a->target, a->target_len, text, sizeof(text));
    assert_string_equal(text, expected);
}

static void test_reverse_addr_ipv4(void **state)
{
    (void)state;
    struct addr a;
    assert_int_equal(dns_answers_reverse_addr(qname_v4, sizeof(qname_v4), &a), 0);
    assert_int_equal(a.family, ADDR_FAMILY_IPV4);
    const uint8_t expected[16] = { 192, 0, 2, 7 };
    assert_memory_equal(a.bytes, expected, sizeof(expected));

    static const uint8_t upper[] = "\0017\0012\0010\003192\7IN-ADDR\4ARPA";
    assert_int_equal(dns_answers_reverse_addr(upper, sizeof(upper), &a), 0);
}

static void test_reverse_addr_ipv6(void **state)
{
    (void)state;
    /* 2001:db8::1, nibbles from the last byte's low nibble up. */
    uint8_t name[80];
    const char *nibbles = "1000000000000000000000008bd01002";
    size_t n = 0;
    for (size_t i = 0; i < 32; i++) {
        name[n++] = 1;
        name[n++] = (uint8_t)nibbles[i];
    }
    memcpy(name + n, "\3ip6\4arpa", 10);
    n += 10;

    struct addr a;
    assert_int_equal(dns_answers_reverse_addr(name, n, &a), 0);
    assert_int_equal(a.family, ADDR_FAMILY_IPV6);
    const uint8_t expected[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
    assert_memory_equal(a.bytes, expected, sizeof(expected));
}

static void test_reverse_addr_rejects_other_names(void **state)
{
    (void)state;
    static const uint8_t network[] = "\0012\0010\003192\7in-addr\4arpa";
    static const uint8_t too_big[] = "\0017\0012\0010\003256\7in-addr\4arpa";
    static const uint8_t not_digit[] = "\1x\0012\0010\003192\7in-addr\4arpa";
    static const uint8_t other_zone[] = "\0017\0012\0010\003192\7example\4arpa";
    static const uint8_t forward[] = "\3www\7example\3com";
    static const uint8_t short_v6[] = "\0011\0012\3ip6\4arpa";
    struct addr a;
    assert_int_equal(dns_answers_reverse_addr(network, sizeof(network), &a), DF_EPARSE);
    assert_int_equal(dns_answers_reverse_addr(too_big, sizeof(too_big), &a), DF_EPARSE);
    assert_int_equal(dns_answers_reverse_addr(not_digit, sizeof(not_digit), &a), DF_EPARSE);
    assert_int_equal(dns_answers_reverse_addr(other_zone, sizeof(other_zone), &a), DF_EPARSE);
    assert_int_equal(dns_answers_reverse_addr(forward, sizeof(forward), &a), DF_EPARSE);
    assert_int_equal(dns_answers_reverse_addr(short_v6, sizeof(short_v6), &a), DF_EPARSE);
}

/* Owner compressed to the question, target compressed to its own suffix. */
static void test_find_ptr_compressed(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        MESSAGE_HEAD,
        QNAME_POINTER, 0, 12, 0, 1, 0, 0, 0x0e, 0x10, 0, 17,
        3, 'n', 's', '1', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'n', 'e', 't', 0,
    };
    struct dns_ptr_answer a;
    assert_int_equal(find(msg, sizeof(msg), 1, &a), 0);
    assert_int_equal(a.ttl, 3600);
    assert_target(&a, "ns1.example.net");
}

/* Two PTR records: the first one counts; a record of another owner is skipped. */
static void test_find_ptr_several_answers(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        MESSAGE_HEAD,
        /* 1.2.0.192.in-addr.arpa PTR, another owner */
        1, '1', 0xc0, 14, 0, 12, 0, 1, 0, 0, 0, 60, 0, 3, 1, 'x', 0,
        QNAME_POINTER, 0, 12, 0, 1, 0, 0, 0, 120, 0, 5, 1, 'a', 1, 'b', 0,
        QNAME_POINTER, 0, 12, 0, 1, 0, 0, 0, 120, 0, 3, 1, 'c', 0,
    };
    struct dns_ptr_answer a;
    assert_int_equal(find(msg, sizeof(msg), 3, &a), 0);
    assert_int_equal(a.ttl, 120);
    assert_target(&a, "a.b");
}

/* RFC 2317: the question's name is a CNAME to a name in the delegated zone. */
static void test_find_ptr_after_cname(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        MESSAGE_HEAD,
        /* 7.2.0.192.in-addr.arpa CNAME 7.0-63.2.0.192.in-addr.arpa */
        QNAME_POINTER, 0, 5, 0, 1, 0, 0, 1, 0, 0, 9,
        1, '7', 4, '0', '-', '6', '3', 0xc0, 14,
        /* 7.0-63.2.0.192.in-addr.arpa (offset 52) PTR host.example.org */
        0xc0, 52, 0, 12, 0, 1, 0, 0, 0, 30, 0, 18,
        4, 'h', 'o', 's', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
    };
    struct dns_ptr_answer a;
    assert_int_equal(find(msg, sizeof(msg), 2, &a), 0);
    assert_int_equal(a.ttl, 30);
    assert_target(&a, "host.example.org");
}

static void test_find_ptr_none(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        MESSAGE_HEAD,
        QNAME_POINTER, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 2, 'h', 'i',
    };
    struct dns_ptr_answer a;
    assert_int_equal(find(msg, sizeof(msg), 1, &a), DF_ENOTFOUND);
    assert_int_equal(find(msg, sizeof(msg), 0, &a), DF_ENOTFOUND);
}

/* Every cut of a valid message fails cleanly, never reading past the cut. */
static void test_find_ptr_truncated(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        MESSAGE_HEAD,
        QNAME_POINTER, 0, 12, 0, 1, 0, 0, 0x0e, 0x10, 0, 7,
        3, 'n', 's', '1', 0xc0, 22, 0,
    };
    struct dns_ptr_answer a;
    assert_int_equal(find(msg, sizeof(msg), 1, &a), 0);
    assert_target(&a, "ns1.in-addr.arpa");
    for (size_t len = QUESTION_END; len < sizeof(msg); len++) {
        uint8_t *copy = test_malloc(len);
        memcpy(copy, msg, len);
        assert_int_equal(find(copy, len, 1, &a), DF_EPARSE);
        test_free(copy);
    }
}

/* ANCOUNT larger than the section: the missing record is an error. */
static void test_find_ptr_count_past_end(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        MESSAGE_HEAD,
        QNAME_POINTER, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 2, 'h', 'i',
    };
    struct dns_ptr_answer a;
    assert_int_equal(find(msg, sizeof(msg), 2, &a), DF_EPARSE);
}

/* A PTR target whose name runs past its RDLENGTH is malformed. */
static void test_find_ptr_target_past_rdata(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        MESSAGE_HEAD,
        QNAME_POINTER, 0, 12, 0, 1, 0, 0, 0, 60, 0, 2, 3, 'a', 'b', 'c', 0,
    };
    struct dns_ptr_answer a;
    assert_int_equal(find(msg, sizeof(msg), 1, &a), DF_EPARSE);
}

/* A compression pointer to itself. */
static void test_find_ptr_pointer_loop(void **state)
{
    (void)state;
    static const uint8_t msg[] = {
        MESSAGE_HEAD,
        0xc0, QUESTION_END, 0, 12, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12,
    };
    struct dns_ptr_answer a;
    assert_int_equal(find(msg, sizeof(msg), 1, &a), DF_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reverse_addr_ipv4),
        cmocka_unit_test(test_reverse_addr_ipv6),
        cmocka_unit_test(test_reverse_addr_rejects_other_names),
        cmocka_unit_test(test_find_ptr_compressed),
        cmocka_unit_test(test_find_ptr_several_answers),
        cmocka_unit_test(test_find_ptr_after_cname),
        cmocka_unit_test(test_find_ptr_none),
        cmocka_unit_test(test_find_ptr_truncated),
        cmocka_unit_test(test_find_ptr_count_past_end),
        cmocka_unit_test(test_find_ptr_target_past_rdata),
        cmocka_unit_test(test_find_ptr_pointer_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
