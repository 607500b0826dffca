/* SPDX-License-Identifier: MIT */
/*
 * dns_wire.h - parse a DNS message from its wire form (RFC 1035 4.1).
 *
 * The parser reads the header, every question (keeping the first), and walks
 * the answer, authority and additional sections far enough to find the EDNS
 * OPT record (RFC 6891) and its Client Subnet option (RFC 7871). Names are
 * decompressed with loop protection: a compression pointer must point inside
 * the message, and the number of jumps and the name length are bounded.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "decode/dns_message.h"

enum dns_wire_error {
    DNS_WIRE_OK = 0,
    DNS_WIRE_TRUNCATED = 1,   /* message ends inside a field */
    DNS_WIRE_BAD_LABEL = 2,   /* label type 0x40/0x80, or over 63 bytes */
    DNS_WIRE_NAME_TOO_LONG = 3, /* name over 255 bytes */
    DNS_WIRE_BAD_POINTER = 4, /* pointer loops or points past the end */
    DNS_WIRE_BAD_RDATA = 5,   /* RDLENGTH runs past the end, bad OPT */
};

/*
 * Parse @p len bytes at @p wire into the header, question and EDNS fields of
 * @p msg. Fields outside those (time, addresses, origin) are left untouched.
 * Returns DNS_WIRE_OK or the first error found. Errors in the sections after
 * the question leave the header and question filled.
 */
enum dns_wire_error dns_wire_parse(const uint8_t *wire, size_t len, struct dns_message *msg);

/*
 * Parse the header and the questions only, as dns_wire_parse() does, and
 * leave the answer, authority and additional sections for
 * dns_message_parse_records(). @p wire must stay valid until then.
 */
enum dns_wire_error dns_wire_parse_question(const uint8_t *wire, size_t len,
                                            struct dns_message *msg);

/*
 * Read the possibly compressed name at offset @p pos of @p wire into
 * uncompressed wire form in @p out (DNS_NAME_MAX bytes). On success sets
 * *out_len and *next (the offset just past the name where it started).
 * Bytes of @p out past *out_len may be overwritten with message bytes.
 */
enum dns_wire_error dns_wire_read_name(const uint8_t *wire, size_t len, size_t pos,
                                       uint8_t *out, uint8_t *out_len, size_t *next);
