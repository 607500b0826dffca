/* SPDX-License-Identifier: MIT */
/*
 * dns_answers.c - reverse names and PTR records from DNS responses.
 *
 * Every read of the message goes through a bounded cursor or through
 * dns_wire_read_name(), which follows compression pointers with loop
 * protection. The answer section is walked one record at a time and never
 * past ANCOUNT records, so the work per message is bounded by its size.
 */
#include "decode/dns_answers.h"

#include <stdbool.h>
#include <string.h>

#include "decode/dns_wire.h"
#include "util/cursor.h"
#include "util/error.h"

#define IPV4_REVERSE_LABELS 4
#define IPV6_REVERSE_LABELS 32

static const uint8_t in_addr_arpa[] = "\7in-addr\4arpa";
static const uint8_t ip6_arpa[] = "\3ip6\4arpa";

static uint8_t ascii_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/*
 * Compare two names in wire form, ignoring ASCII case. Length bytes are
 * below 64 and so never change under ascii_lower().
 */
static bool name_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    if (a_len != b_len) {
        return false;
    }
    for (size_t i = 0; i < a_len; i++) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

static int hex_value(uint8_t c)
{
    c = ascii_lower(c);
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

/* Read one decimal label of 1 to 3 digits, at most 255. Returns -1 when invalid. */
static int decimal_label(struct cursor *c)
{
    uint8_t len = cursor_u8(c, DF_EPARSE);
    const uint8_t *digits = cursor_bytes(c, len, DF_EPARSE);
    if (digits == NULL || len == 0 || len > 3) {
        return -1;
    }
    int value = 0;
    for (uint8_t i = 0; i < len; i++) {
        if (digits[i] < '0' || digits[i] > '9') {
            return -1;
        }
        value = value * 10 + (digits[i] - '0');
    }
    return value <= 255 ? value : -1;
}

/* Check that the rest of the name at @p c is exactly @p suffix, root label included. */
static bool suffix_matches(const struct cursor *c, const uint8_t *suffix, size_t suffix_len)
{
    return name_equal(c->pos, cursor_left(c), suffix, suffix_len);
}

static int reverse_ipv4(struct cursor *c, struct addr *out)
{
    memset(out, 0, sizeof(*out));
    out->family = ADDR_FAMILY_IPV4;
    for (int i = IPV4_REVERSE_LABELS - 1; i >= 0; i--) {
        int value = decimal_label(c);
        if (value < 0) {
            return DF_EPARSE;
        }
        out->bytes[i] = (uint8_t)value;
    }
    return suffix_matches(c, in_addr_arpa, sizeof(in_addr_arpa)) ? 0 : DF_EPARSE;
}

/* The first label is the low nibble of the last byte. */
static int reverse_ipv6(struct cursor *c, struct addr *out)
{
    memset(out, 0, sizeof(*out));
    out->family = ADDR_FAMILY_IPV6;
    for (int i = IPV6_REVERSE_LABELS - 1; i >= 0; i--) {
        uint8_t len = cursor_u8(c, DF_EPARSE);
        const uint8_t *nibble = cursor_bytes(c, 1, DF_EPARSE);
        int value = nibble != NULL ? hex_value(nibble[0]) : -1;
        if (len != 1 || value < 0) {
            return DF_EPARSE;
        }
        out->bytes[i / 2] |= (uint8_t)(i % 2 == 0 ? value << 4 : value);
    }
    return suffix_matches(c, ip6_arpa, sizeof(ip6_arpa)) ? 0 : DF_EPARSE;
}

int dns_answers_reverse_addr(const uint8_t *name, size_t name_len, struct addr *out)
{
    /* Both forms end in an "arpa" label and the root, so the label before distinguishes them. */
    struct cursor c = cursor_init(name, name_len);
    size_t tail = sizeof(ip6_arpa);
    if (name_len > tail && name_equal(name + name_len - tail, tail, ip6_arpa, tail)) {
        return reverse_ipv6(&c, out);
    }
    return reverse_ipv4(&c, out);
}

/* Fixed fields of a resource record after its owner name. */
struct answer_record {
    uint8_t owner[DNS_NAME_MAX];
    uint8_t owner_len;
    uint16_t type;
    uint32_t ttl;
    size_t rdata;     /* offset of the RDATA in the message */
    uint16_t rdlength;
};

/* Read the record at *pos and move *pos past it. Returns 0 or DF_EPARSE. */
static int record_read(const uint8_t *wire, size_t len, size_t *pos, struct answer_record *rr)
{
    size_t fixed = 0;
    if (dns_wire_read_name(wire, len, *pos, rr->owner, &rr->owner_len, &fixed) !=
        DNS_WIRE_OK) {
        return DF_EPARSE;
    }

    struct cursor c = cursor_init(wire, len);
    cursor_skip(&c, fixed, DF_EPARSE);
    rr->type = cursor_u16(&c, DF_EPARSE);
    cursor_u16(&c, DF_EPARSE); /* class */
    rr->ttl = cursor_u32(&c, DF_EPARSE);
    rr->rdlength = cursor_u16(&c, DF_EPARSE);
    rr->rdata = cursor_offset(&c);
    cursor_skip(&c, rr->rdlength, DF_EPARSE);
    if (c.err != 0) {
        return c.err;
    }
    *pos = cursor_offset(&c);
    return 0;
}

/* Read the name in a record's RDATA, which must end inside the RDATA. */
static int rdata_name_read(const uint8_t *wire, const struct answer_record *rr,
                           uint8_t *out, uint8_t *out_len)
{
    size_t end = 0;
    size_t rdata_end = rr->rdata + rr->rdlength;
    if (dns_wire_read_name(wire, rdata_end, rr->rdata, out, out_len, &end) != DNS_WIRE_OK) {
        return DF_EPARSE;
    }
    return 0;
}

int dns_answers_find_ptr(const uint8_t *wire, size_t len, size_t offset, uint16_t ancount,
                         const uint8_t *qname, uint8_t qname_len,
                         struct dns_ptr_answer *out)
{
    /* The owner that the next CNAME or PTR record must have. */
    uint8_t owner[DNS_NAME_MAX];
    uint8_t owner_len = qname_len;
    memcpy(owner, qname, qname_len);

    size_t pos = offset;
    for (unsigned i = 0; i < ancount; i++) {
        struct answer_record rr;
        int ret = record_read(wire, len, &pos, &rr);
        if (ret != 0) {
            return ret;
        }
        if (!name_equal(rr.owner, rr.owner_len, owner, owner_len)) {
            continue;
        }

        if (rr.type == DNS_TYPE_CNAME) {
            ret = rdata_name_read(wire, &rr, owner, &owner_len);
        } else if (rr.type == DNS_TYPE_PTR) {
            out->ttl = rr.ttl;
            return rdata_name_read(wire, &rr, out->target, &out->target_len);
        }
        if (ret != 0) {
            return ret;
        }
    }
    return DF_ENOTFOUND;
}
