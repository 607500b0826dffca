/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns_wire.c - libFuzzer target for dns_wire_parse() and the text forms.
 *
 * The input is one DNS message. Whatever the parser returns, the fields it
 * fills must hold together: a question name that fits its buffer and ends
 * with the root label, and a text form that fits DNS_NAME_TEXT_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/dns_text.h"
#include "decode/dns_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_question(const struct dns_message *msg)
{
    if (!msg->has_question) {
        return;
    }
    if (msg->qname_len == 0 || msg->qname[msg->qname_len - 1] != 0) {
        abort();
    }

    char text[DNS_NAME_TEXT_MAX];
    size_t len = dns_name_format(msg->qname, msg->qname_len, text, sizeof(text));
    if (len >= sizeof(text) || strlen(text) != len) {
        abort();
    }
    char buf[16];
    (void)dns_type_name(msg->qtype, buf);
    (void)dns_class_name(msg->qclass, buf);
    (void)dns_rcode_name(dns_message_rcode(msg), buf);
    (void)dns_opcode_name(DNS_OPCODE(msg->flags), buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_message msg;
    memset(&msg, 0, sizeof(msg));
    (void)dns_wire_parse(data, size, &msg);
    check_question(&msg);

    /* Names at every offset of a short message, as a response walker would. */
    for (size_t pos = 0; pos < size && pos < 64; pos++) {
        uint8_t name[DNS_NAME_MAX];
        uint8_t name_len = 0;
        size_t next = 0;
        if (dns_wire_read_name(data, size, pos, name, &name_len, &next) == DNS_WIRE_OK &&
            (name_len == 0 || next > size)) {
            abort();
        }
    }
    return 0;
}
