/* SPDX-License-Identifier: MIT */
/*
 * test_dns_text.c - presentation form of names, and mnemonics with their
 * RFC 3597 fallbacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/dns_text.h"

struct name_case {
    const char *name;
    const char *wire; /* wire form, root label included */
    size_t len;
    const char *text;
};

#define NAME(literal) literal, sizeof(literal) /* sizeof counts the final NUL: the root */

static const struct name_case name_cases[] = {
    { "root", "", 1, "." },
    { "plain name", NAME("\3www\7example\3com"), "www.example.com" },
    { "case kept", NAME("\3WwW\7ExAmPlE"), "WwW.ExAmPlE" },
    { "dot in label", NAME("\6dot.in\4test"), "dot\\.in.test" },
    { "backslash", NAME("\1\\"), "\\\\" },
    { "space", NAME("\3a b"), "a\\032b" },
    { "control byte", NAME("\2\x01z"), "\\001z" },
    { "DEL and high bytes", NAME("\3\x7f\x80\xff"), "\\127\\128\\255" },
    { "printable punctuation kept", NAME("\5-_*!~"), "-_*!~" },
    { "NUL inside label", "\3a\0b", 5, "a\\000b" },
};

static void test_dns_name_format_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        const struct name_case *tc = &name_cases[i];
        char text[DNS_NAME_TEXT_MAX];
        print_message("case: %s\n", tc->name);

        size_t len = dns_name_format((const uint8_t *)tc->wire, tc->len, text, sizeof(text));
        assert_string_equal(text, tc->text);
        assert_int_equal(len, strlen(tc->text));
    }
}

static void test_dns_name_format_small_buffer(void **state)
{
    (void)state;
    char text[8];
    const uint8_t wire[] = "\3www\7example\3com";

    size_t len = dns_name_format(wire, sizeof(wire), text, sizeof(text));
    assert_int_equal(len, 7);
    assert_string_equal(text, "www.exa");
}

/* The worst case, every byte escaped in 63-byte labels, fits the bound. */
static void test_dns_name_format_longest_fits(void **state)
{
    (void)state;
    uint8_t wire[DNS_NAME_MAX];
    size_t pos = 0;
    for (int label = 0; label < 4; label++) {
        uint8_t len = label < 3 ? 63 : 61;
        wire[pos++] = len;
        memset(wire + pos, 0xff, len);
        pos += len;
    }
    wire[pos++] = 0;
    assert_int_equal(pos, DNS_NAME_MAX);

    char text[DNS_NAME_TEXT_MAX];
    size_t len = dns_name_format(wire, pos, text, sizeof(text));
    assert_int_equal(len, 250 * 4 + 3);
    assert_int_equal(strlen(text), len);
}

/*
 * The text of a name as the zone-file rules give it, one byte at a time,
 * cut to @p size - 1 bytes: the reference the formatter must match.
 */
static size_t reference_name_format(const uint8_t *name, size_t name_len, char *buf,
                                    size_t size)
{
    char full[DNS_NAME_TEXT_MAX + 8];
    size_t n = 0;
    size_t pos = 0;
    unsigned labels = 0;
    while (pos < name_len && name[pos] != 0 && name[pos] <= 63 && pos + 1 + name[pos] <= name_len) {
        if (labels++ > 0) {
            full[n++] = '.';
        }
        for (size_t i = 0; i < name[pos]; i++) {
            uint8_t ch = name[pos + 1 + i];
            if (ch == '.' || ch == '\\') {
                n += (size_t)sprintf(full + n, "\\%c", ch);
            } else if (ch < 0x21 || ch > 0x7e) {
                n += (size_t)sprintf(full + n, "\\%03u", ch);
            } else {
                full[n++] = (char)ch;
            }
        }
        pos += 1 + name[pos];
    }
    if (labels == 0) {
        full[n++] = '.';
    }
    size_t kept = n;
    if (size == 0) {
        kept = 0;
    } else if (kept > size - 1) {
        kept = size - 1;
    }
    memcpy(buf, full, kept);
    if (size > 0) {
        buf[kept] = '\0';
    }
    return kept;
}

/* Random names of every byte value, written into buffers of every size. */
static void test_dns_name_format_matches_reference(void **state)
{
    (void)state;
    srand(5);
    for (int round = 0; round < 2000; round++) {
        uint8_t wire[DNS_NAME_MAX];
        size_t pos = 0;
        int labels = rand() % 5;
        for (int l = 0; l < labels; l++) {
            uint8_t len = (uint8_t)(1 + rand() % 20);
            wire[pos++] = len;
            for (uint8_t i = 0; i < len; i++) {
                /* Mostly letters, sometimes a byte that needs escaping. */
                wire[pos++] = rand() % 4 == 0 ? (uint8_t)rand() : (uint8_t)('a' + rand() % 26);
            }
        }
        wire[pos++] = 0;

        char expected[DNS_NAME_TEXT_MAX];
        size_t full_len = reference_name_format(wire, pos, expected, sizeof(expected));
        for (size_t size = 0; size <= full_len + 2; size++) {
            char actual[DNS_NAME_TEXT_MAX];
            char want[DNS_NAME_TEXT_MAX];
            memset(actual, 'x', sizeof(actual));
            size_t want_len = reference_name_format(wire, pos, want, size);
            size_t len = dns_name_format(wire, pos, actual, size);
            assert_int_equal(len, want_len);
            if (size > 0) {
                assert_string_equal(actual, want);
            } else {
                assert_int_equal(actual[0], 'x');
            }
        }
    }
}

static void test_dns_type_names(void **state)
{
    (void)state;
    char buf[16];

    assert_string_equal(dns_type_name(1, buf), "A");
    assert_string_equal(dns_type_name(23, buf), "NSAP-PTR");
    assert_string_equal(dns_type_name(28, buf), "AAAA");
    assert_string_equal(dns_type_name(41, buf), "OPT");
    assert_string_equal(dns_type_name(65, buf), "HTTPS");
    assert_string_equal(dns_type_name(99, buf), "SPF");
    assert_string_equal(dns_type_name(109, buf), "EUI64");
    assert_string_equal(dns_type_name(255, buf), "ANY");
    assert_string_equal(dns_type_name(260, buf), "AMTRELAY");
    assert_string_equal(dns_type_name(32768, buf), "TA");
    assert_string_equal(dns_type_name(32769, buf), "DLV");
}

static void test_dns_type_names_rfc3597(void **state)
{
    (void)state;
    char buf[16];

    assert_string_equal(dns_type_name(0, buf), "TYPE0");
    assert_string_equal(dns_type_name(54, buf), "TYPE54");
    assert_string_equal(dns_type_name(261, buf), "TYPE261");
    assert_string_equal(dns_type_name(65280, buf), "TYPE65280");
    assert_string_equal(dns_type_name(65535, buf), "TYPE65535");
}

static void test_dns_class_names(void **state)
{
    (void)state;
    char buf[16];

    assert_string_equal(dns_class_name(1, buf), "IN");
    assert_string_equal(dns_class_name(2, buf), "CS");
    assert_string_equal(dns_class_name(3, buf), "CH");
    assert_string_equal(dns_class_name(4, buf), "HS");
    assert_string_equal(dns_class_name(254, buf), "NONE");
    assert_string_equal(dns_class_name(255, buf), "ANY");
    assert_string_equal(dns_class_name(0, buf), "CLASS0");
    assert_string_equal(dns_class_name(4096, buf), "CLASS4096");
}

static void test_dns_rcode_names(void **state)
{
    (void)state;
    char buf[16];

    assert_string_equal(dns_rcode_name(0, buf), "NOERROR");
    assert_string_equal(dns_rcode_name(3, buf), "NXDOMAIN");
    assert_string_equal(dns_rcode_name(11, buf), "DSOTYPENI");
    assert_string_equal(dns_rcode_name(16, buf), "BADVERS");
    assert_string_equal(dns_rcode_name(23, buf), "BADCOOKIE");
    assert_string_equal(dns_rcode_name(12, buf), "RCODE12");
    assert_string_equal(dns_rcode_name(24, buf), "RCODE24");
    assert_string_equal(dns_rcode_name(4095, buf), "RCODE4095");
}

static void test_dns_opcode_names(void **state)
{
    (void)state;
    char buf[16];

    assert_string_equal(dns_opcode_name(0, buf), "QUERY");
    assert_string_equal(dns_opcode_name(4, buf), "NOTIFY");
    assert_string_equal(dns_opcode_name(5, buf), "UPDATE");
    assert_string_equal(dns_opcode_name(6, buf), "DSO");
    assert_string_equal(dns_opcode_name(3, buf), "OPCODE3");
    assert_string_equal(dns_opcode_name(15, buf), "OPCODE15");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_name_format_table),
        cmocka_unit_test(test_dns_name_format_small_buffer),
        cmocka_unit_test(test_dns_name_format_longest_fits),
        cmocka_unit_test(test_dns_name_format_matches_reference),
        cmocka_unit_test(test_dns_type_names),
        cmocka_unit_test(test_dns_type_names_rfc3597),
        cmocka_unit_test(test_dns_class_names),
        cmocka_unit_test(test_dns_rcode_names),
        cmocka_unit_test(test_dns_opcode_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
