/* SPDX-License-Identifier: MIT */
/*
 * test_dns_wire.c - DNS message parser: a table of wire messages with the
 * expected result, then EDNS and name-reading cases checked field by field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "decode/dns_text.h"
#include "decode/dns_wire.h"

/* Header with ID 0x1234, RD set, and the four section counts. */
#define HEADER(qd, an, ns, ar) 0x12, 0x34, 0x01, 0x00, 0, qd, 0, an, 0, ns, 0, ar
#define QTYPE_A_IN 0x00, 0x01, 0x00, 0x01
#define EXAMPLE_COM 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0
#define LABEL_63                                                                      \
    63, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', \
        'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', \
        'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', \
        'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'

static const uint8_t plain_query[] = {
    HEADER(1, 0, 0, 0), 3, 'w', 'w', 'w', EXAMPLE_COM, QTYPE_A_IN,
};

/* Answer owner name is a pointer to the question name at offset 12. */
static const uint8_t compressed_response[] = {
    0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
    EXAMPLE_COM, QTYPE_A_IN,
    0xc0, 0x0c, QTYPE_A_IN, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1,
};

/* The question name is a pointer to itself. */
static const uint8_t self_loop[] = {
    HEADER(1, 0, 0, 0), 0xc0, 0x0c, QTYPE_A_IN,
};

/* Label "a" then a pointer back to that label: a loop through a label,
 * which stops when the repeated labels pass 255 bytes. */
static const uint8_t label_loop[] = {
    HEADER(1, 0, 0, 0), 1, 'a', 0xc0, 0x0c, QTYPE_A_IN,
};

/* The question points forward to a name stored after it, which resolvers
 * such as Unbound accept. */
static const uint8_t forward_pointer[] = {
    HEADER(1, 0, 0, 0), 0xc0, 0x12, QTYPE_A_IN, EXAMPLE_COM,
};

static const uint8_t pointer_past_end[] = {
    HEADER(1, 0, 0, 0), 0xff, 0xff, QTYPE_A_IN,
};

static const uint8_t label_64[] = {
    HEADER(1, 0, 0, 0), 64, 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
    'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a',
    'a', 0, QTYPE_A_IN,
};

/* Label type 0x40 (the obsolete extended label type of RFC 2671). */
static const uint8_t label_type_0x40[] = {
    HEADER(1, 0, 0, 0), 0x41, 'a', 0, QTYPE_A_IN,
};

/* Four labels of 63 bytes: 256 wire bytes with the root label. */
static const uint8_t name_256[] = {
    HEADER(1, 0, 0, 0), LABEL_63, LABEL_63, LABEL_63, LABEL_63, 0, QTYPE_A_IN,
};

/* Three labels of 63 and one of 61: exactly 255 wire bytes. */
static const uint8_t name_255[] = {
    HEADER(1, 0, 0, 0), LABEL_63, LABEL_63, LABEL_63,
    61, 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b',
    'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b',
    'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b',
    'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 'b', 0, QTYPE_A_IN,
};

static const uint8_t zero_qdcount[] = {
    HEADER(0, 0, 0, 0),
};

static const uint8_t two_questions[] = {
    HEADER(2, 0, 0, 0), EXAMPLE_COM, QTYPE_A_IN, 3, 'w', 'w', 'w', 0xc0, 0x0c, 0, 28, 0, 1,
};

/* The second question points past the end: an error after the first question. */
static const uint8_t bad_second_question[] = {
    HEADER(2, 0, 0, 0), EXAMPLE_COM, QTYPE_A_IN, 0xc0, 0x30, QTYPE_A_IN,
};

static const uint8_t truncated_header[] = {
    0x12, 0x34, 0x01, 0x00, 0x00,
};

static const uint8_t truncated_question[] = {
    HEADER(1, 0, 0, 0), 3, 'w', 'w', 'w', 7, 'e', 'x',
};

static const uint8_t missing_qclass[] = {
    HEADER(1, 0, 0, 0), EXAMPLE_COM, 0x00, 0x01,
};

static const uint8_t mixed_case[] = {
    HEADER(1, 0, 0, 0), 3, 'w', 'W', 'w', 7, 'E', 'x', 'A', 'm', 'P', 'l', 'E', 3, 'c', 'O', 'M',
    0, QTYPE_A_IN,
};

/* The answer's RDLENGTH runs 100 bytes past the end of the message. */
static const uint8_t rdlength_past_end[] = {
    0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 1,
    EXAMPLE_COM, QTYPE_A_IN,
    0xc0, 0x0c, QTYPE_A_IN, 0, 0, 0x0e, 0x10, 0, 104, 192, 0, 2, 1,
};

struct wire_case {
    const char *name;
    const uint8_t *wire;
    size_t len;
    enum dns_wire_error error;
    bool has_question;
    const char *qname; /* presentation form, or NULL when not checked */
    uint16_t qtype;
};

#define WIRE(array) array, sizeof(array)

static const struct wire_case wire_cases[] = {
    { "plain query", WIRE(plain_query), DNS_WIRE_OK, true, "www.example.com", 1 },
    { "compressed response", WIRE(compressed_response), DNS_WIRE_OK, true, "example.com", 1 },
    { "pointer to itself", WIRE(self_loop), DNS_WIRE_BAD_POINTER, false, NULL, 0 },
    { "loop through a label", WIRE(label_loop), DNS_WIRE_NAME_TOO_LONG, false, NULL, 0 },
    { "forward pointer", WIRE(forward_pointer), DNS_WIRE_OK, true, "example.com", 1 },
    { "pointer past end", WIRE(pointer_past_end), DNS_WIRE_BAD_POINTER, false, NULL, 0 },
    { "label of 64 bytes", WIRE(label_64), DNS_WIRE_BAD_LABEL, false, NULL, 0 },
    { "label type 0x40", WIRE(label_type_0x40), DNS_WIRE_BAD_LABEL, false, NULL, 0 },
    { "name of 256 bytes", WIRE(name_256), DNS_WIRE_NAME_TOO_LONG, false, NULL, 0 },
    { "name of 255 bytes", WIRE(name_255), DNS_WIRE_OK, true, NULL, 1 },
    { "zero QDCOUNT", WIRE(zero_qdcount), DNS_WIRE_OK, false, NULL, 0 },
    { "QDCOUNT 2 keeps first", WIRE(two_questions), DNS_WIRE_OK, true, "example.com", 1 },
    { "bad second question", WIRE(bad_second_question), DNS_WIRE_BAD_POINTER, true,
      "example.com", 1 },
    { "truncated header", WIRE(truncated_header), DNS_WIRE_TRUNCATED, false, NULL, 0 },
    { "truncated question name", WIRE(truncated_question), DNS_WIRE_TRUNCATED, false, NULL, 0 },
    { "question without class", WIRE(missing_qclass), DNS_WIRE_TRUNCATED, false, NULL, 0 },
    { "0x20 mixed case kept", WIRE(mixed_case), DNS_WIRE_OK, true, "wWw.ExAmPlE.cOM", 1 },
    { "RDLENGTH past end", WIRE(rdlength_past_end), DNS_WIRE_BAD_RDATA, true, "example.com", 1 },
};

static void test_dns_wire_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(wire_cases) / sizeof(wire_cases[0]); i++) {
        const struct wire_case *tc = &wire_cases[i];
        struct dns_message msg;
        memset(&msg, 0xa5, sizeof(msg));
        print_message("case: %s\n", tc->name);

        assert_int_equal(dns_wire_parse(tc->wire, tc->len, &msg), tc->error);
        assert_int_equal(msg.has_question, tc->has_question);
        if (tc->has_question) {
            assert_int_equal(msg.qtype, tc->qtype);
        }
        if (tc->qname != NULL) {
            char text[DNS_NAME_TEXT_MAX];
            dns_name_format(msg.qname, msg.qname_len, text, sizeof(text));
            assert_string_equal(text, tc->qname);
        }
    }
}

static void test_dns_wire_header_fields(void **state)
{
    (void)state;
    struct dns_message msg;

    assert_int_equal(dns_wire_parse(WIRE(compressed_response), &msg), DNS_WIRE_OK);
    assert_int_equal(msg.id, 0x1234);
    assert_int_equal(msg.flags, 0x8180);
    assert_true(dns_message_is_response(&msg));
    assert_int_equal(msg.qdcount, 1);
    assert_int_equal(msg.ancount, 1);
    assert_int_equal(msg.qclass, 1);
    assert_int_equal(msg.qname_len, 13);
    assert_memory_equal(msg.qname, compressed_response + 12, 13);
    assert_false(msg.edns.present);
}

static void test_dns_wire_name_of_255_bytes(void **state)
{
    (void)state;
    struct dns_message msg;

    assert_int_equal(dns_wire_parse(WIRE(name_255), &msg), DNS_WIRE_OK);
    assert_int_equal(msg.qname_len, 255);
    assert_int_equal(msg.qname[254], 0);
}

static void test_dns_wire_ten_thousand_labels(void **state)
{
    (void)state;
    static uint8_t wire[DNS_HEADER_LEN + 10000 * 2 + 1 + 4];
    const uint8_t header[] = { HEADER(1, 0, 0, 0) };
    memcpy(wire, header, sizeof(header));
    size_t pos = DNS_HEADER_LEN;
    for (int i = 0; i < 10000; i++) {
        wire[pos++] = 1;
        wire[pos++] = 'a';
    }
    wire[pos++] = 0;
    memcpy(wire + pos, (const uint8_t[]){ QTYPE_A_IN }, 4);

    struct dns_message msg;
    assert_int_equal(dns_wire_parse(wire, sizeof(wire), &msg), DNS_WIRE_NAME_TOO_LONG);
    assert_false(msg.has_question);
}

/* Query with an OPT record: UDP size 4096, DO set, ECS 192.0.2.0/24. */
static const uint8_t opt_ecs_v4[] = {
    HEADER(1, 0, 0, 1), EXAMPLE_COM, QTYPE_A_IN,
    0, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x80, 0x00, 0, 11,
    0x00, 0x08, 0, 7, 0x00, 0x01, 24, 0, 192, 0, 2,
};

/* Response with answer and authority records before the OPT record. The
 * ECS option is 2001:db8:1234:5000::/52, sent with bits set beyond the
 * prefix. Extended RCODE 1 with RCODE 0 is BADVERS, and EDNS version is 1. */
static const uint8_t opt_ecs_v6[] = {
    0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 1, 0, 2,
    EXAMPLE_COM, QTYPE_A_IN,
    0xc0, 0x0c, QTYPE_A_IN, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1,
    0xc0, 0x0c, 0, 2, 0, 1, 0, 0, 0x0e, 0x10, 0, 2, 0xc0, 0x0c,
    0xc0, 0x0c, QTYPE_A_IN, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 53,
    0, 0x00, 0x29, 0x04, 0xd0, 0x01, 0x01, 0x00, 0x00, 0, 19,
    0x00, 0x0a, 0, 0,
    0x00, 0x08, 0, 11, 0x00, 0x02, 52, 0, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x57,
};

/* ECS with family 3, which does not exist: the option is ignored. */
static const uint8_t opt_ecs_bad_family[] = {
    HEADER(1, 0, 0, 1), EXAMPLE_COM, QTYPE_A_IN,
    0, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 8,
    0x00, 0x08, 0, 4, 0x00, 0x03, 0, 0,
};

/* The option length runs past the end of the OPT RDATA. */
static const uint8_t opt_bad_option_len[] = {
    HEADER(1, 0, 0, 1), EXAMPLE_COM, QTYPE_A_IN,
    0, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 4,
    0x00, 0x0a, 0, 8,
};

static void test_dns_wire_opt_do_and_ecs_v4(void **state)
{
    (void)state;
    struct dns_message msg;

    assert_int_equal(dns_wire_parse(WIRE(opt_ecs_v4), &msg), DNS_WIRE_OK);
    assert_true(msg.edns.present);
    assert_true(msg.edns.do_bit);
    assert_int_equal(msg.edns.udp_size, 4096);
    assert_int_equal(msg.edns.version, 0);
    assert_int_equal(msg.edns.extended_rcode, 0);
    assert_true(msg.edns.has_client_subnet);

    char text[ADDR_TEXT_MAX];
    prefix_format(&msg.edns.client_subnet, text, sizeof(text));
    assert_string_equal(text, "192.0.2.0/24");
}

static void test_dns_wire_records_parsed_on_request(void **state)
{
    (void)state;
    struct dns_message msg;

    assert_int_equal(dns_wire_parse_question(WIRE(opt_ecs_v4), &msg), DNS_WIRE_OK);
    assert_true(msg.has_question);
    assert_false(msg.records_parsed);
    assert_false(msg.edns.present);

    dns_message_parse_records(&msg);
    assert_true(msg.records_parsed);
    assert_true(msg.edns.present);
    assert_true(msg.edns.do_bit);
    assert_true(msg.edns.has_client_subnet);

    /* A second request does not walk the records again. */
    msg.wire = NULL;
    dns_message_parse_records(&msg);
    assert_true(msg.edns.do_bit);
}

static void test_dns_wire_opt_ecs_v6_after_records(void **state)
{
    (void)state;
    struct dns_message msg;

    assert_int_equal(dns_wire_parse(WIRE(opt_ecs_v6), &msg), DNS_WIRE_OK);
    assert_true(msg.edns.present);
    assert_false(msg.edns.do_bit);
    assert_int_equal(msg.edns.udp_size, 1232);
    assert_int_equal(msg.edns.version, 1);
    assert_int_equal(msg.edns.extended_rcode, 1);
    assert_int_equal(dns_message_rcode(&msg), 16);
    assert_true(msg.edns.has_client_subnet);

    char text[ADDR_TEXT_MAX];
    prefix_format(&msg.edns.client_subnet, text, sizeof(text));
    assert_string_equal(text, "2001:db8:1234:5000::/52");
}

static void test_dns_wire_opt_bad_ecs_ignored(void **state)
{
    (void)state;
    struct dns_message msg;

    assert_int_equal(dns_wire_parse(WIRE(opt_ecs_bad_family), &msg), DNS_WIRE_OK);
    assert_true(msg.edns.present);
    assert_false(msg.edns.has_client_subnet);
}

static void test_dns_wire_opt_bad_option_length(void **state)
{
    (void)state;
    struct dns_message msg;

    assert_int_equal(dns_wire_parse(WIRE(opt_bad_option_len), &msg), DNS_WIRE_BAD_RDATA);
    assert_true(msg.has_question);
    assert_true(msg.edns.present);
    assert_int_equal(msg.edns.udp_size, 4096);
}

/* A parse must not keep EDNS facts from the message parsed before it. */
static void test_dns_wire_resets_previous_message(void **state)
{
    (void)state;
    struct dns_message msg;

    assert_int_equal(dns_wire_parse(WIRE(opt_ecs_v4), &msg), DNS_WIRE_OK);
    assert_int_equal(dns_wire_parse(WIRE(zero_qdcount), &msg), DNS_WIRE_OK);
    assert_false(msg.edns.present);
    assert_false(msg.edns.has_client_subnet);
    assert_false(msg.has_question);
    assert_int_equal(msg.qname_len, 0);
}

static void test_dns_wire_read_name_compressed(void **state)
{
    (void)state;
    uint8_t name[DNS_NAME_MAX];
    uint8_t name_len = 0;
    size_t next = 0;

    /* "www" then a pointer to example.com in the second question. */
    size_t pos = DNS_HEADER_LEN + 13 + 4;
    assert_int_equal(dns_wire_read_name(WIRE(two_questions), pos, name, &name_len, &next),
                     DNS_WIRE_OK);
    assert_int_equal(name_len, 17);
    assert_int_equal(next, pos + 6);
    assert_memory_equal(name, "\3www\7example\3com", 17);
}

static void test_dns_wire_read_name_position_past_end(void **state)
{
    (void)state;
    uint8_t name[DNS_NAME_MAX];
    uint8_t name_len = 0;
    size_t next = 0;

    assert_int_equal(dns_wire_read_name(WIRE(plain_query), sizeof(plain_query), name,
                                        &name_len, &next),
                     DNS_WIRE_TRUNCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_wire_table),
        cmocka_unit_test(test_dns_wire_header_fields),
        cmocka_unit_test(test_dns_wire_name_of_255_bytes),
        cmocka_unit_test(test_dns_wire_ten_thousand_labels),
        cmocka_unit_test(test_dns_wire_opt_do_and_ecs_v4),
        cmocka_unit_test(test_dns_wire_opt_ecs_v6_after_records),
        cmocka_unit_test(test_dns_wire_opt_bad_ecs_ignored),
        cmocka_unit_test(test_dns_wire_opt_bad_option_length),
        cmocka_unit_test(test_dns_wire_resets_previous_message),
        cmocka_unit_test(test_dns_wire_read_name_compressed),
        cmocka_unit_test(test_dns_wire_records_parsed_on_request),
        cmocka_unit_test(test_dns_wire_read_name_position_past_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
