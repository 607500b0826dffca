/* SPDX-License-Identifier: MIT */
/*
 * link.c - link layers, by libpcap DLT value, down to the IP header.
 *
 * Every reader returns the ethertype of the network layer and the bytes
 * after the link header. Link types that carry no ethertype (BSD loopback,
 * raw IP) map their own family codes or the IP version nibble onto one.
 */
#include <pcap/dlt.h>

#include "decode/decode_internal.h"
#include "util/cursor.h"

/* LINKTYPE_RAW as stored in capture files. libpcap maps it to DLT_RAW, other
 * readers may pass it through. */
#define LINKTYPE_RAW 101

#define ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q customer tag */
#define ETHERTYPE_QINQ 0x88a8 /* IEEE 802.1ad service tag */
#define ETHERTYPE_PPPOE_SESSION 0x8864

/* PPP protocol numbers of IPv4 and IPv6 (RFC 1332, RFC 5072). */
#define PPP_PROTO_IPV4 0x0021
#define PPP_PROTO_IPV6 0x0057

/* Stacked VLAN tags read before giving up. Real networks use one or two. */
#define VLAN_TAGS_MAX 8

/* Address families of the BSD loopback header: AF_INET is 2 everywhere,
 * AF_INET6 is 24 on NetBSD and OpenBSD, 28 on FreeBSD, 30 on macOS. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_NETBSD 24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

/* LINKTYPE_PKTAP as stored in capture files. Live macOS captures use
 * DLT_USER2, which other link types share, so only 258 is read. */
#define LINKTYPE_PKTAP 258
#define PKTAP_HEADER_MIN 8

#define SLL_HEADER_LEN 16
#define SLL2_HEADER_LEN 20

/* Set @p out to the rest of @p c after the link header. */
static enum decode_skip finish(struct cursor *c, uint16_t ethertype, struct link_payload *out)
{
    if (ethertype != ETHERTYPE_IPV4 && ethertype != ETHERTYPE_IPV6) {
        return DECODE_SKIP_NOT_DNS;
    }
    out->ethertype = ethertype;
    out->data = c->pos;
    out->len = cursor_left(c);
    return DECODE_OK;
}

/* The capture ended inside the link header: the snaplen or a broken frame. */
static enum decode_skip link_short(const struct packet *pkt)
{
    return pkt->caplen < pkt->wire_len ? DECODE_SKIP_TRUNCATED : DECODE_SKIP_MALFORMED;
}

/*
 * PPPoE session stage (RFC 2516), common on ISP access links: a 6-byte
 * PPPoE header, then the 2-byte PPP protocol number. Returns the matching
 * ethertype, or 0 for other PPP protocols.
 */
static uint16_t pppoe_skip(struct cursor *c)
{
    cursor_skip(c, 6, 1);
    switch (cursor_u16(c, 1)) {
    case PPP_PROTO_IPV4:
        return ETHERTYPE_IPV4;
    case PPP_PROTO_IPV6:
        return ETHERTYPE_IPV6;
    default:
        return 0;
    }
}

/*
 * Ethernet II: two MAC addresses, then an ethertype after any VLAN tags.
 * @p snapped tells whether the capture cut the frame.
 */
static enum decode_skip ethernet_read(const uint8_t *data, size_t len, bool snapped,
                                      struct link_payload *out)
{
    /* Untagged IPv4 or IPv6, the usual frame, needs no cursor. */
    if (link_ethernet_untagged(data, len, out)) {
        return DECODE_OK;
    }

    struct cursor c = cursor_init(data, len);
    cursor_skip(&c, 12, 1);
    uint16_t ethertype = cursor_u16(&c, 1);

    /* Each tag is a 2-byte tag control field followed by the next ethertype. */
    for (int tags = 0; ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ; tags++) {
        if (tags == VLAN_TAGS_MAX) {
            return DECODE_SKIP_MALFORMED;
        }
        cursor_skip(&c, 2, 1);
        ethertype = cursor_u16(&c, 1);
    }
    if (ethertype == ETHERTYPE_PPPOE_SESSION) {
        ethertype = pppoe_skip(&c);
    }

    if (c.err != 0) {
        return snapped ? DECODE_SKIP_TRUNCATED : DECODE_SKIP_MALFORMED;
    }
    return finish(&c, ethertype, out);
}

static enum decode_skip ethernet_decode(const struct packet *pkt, struct link_payload *out)
{
    return ethernet_read(pkt->data, pkt->caplen, pkt->caplen < pkt->wire_len, out);
}

enum decode_skip link_ethernet_decode(const struct decode_ctx *ctx, const uint8_t *data,
                                      size_t len, struct link_payload *out)
{
    return ethernet_read(data, len, decode_snapped(ctx), out);
}

/* Linux cooked capture v1: the protocol is the last field of 16 bytes. */
static enum decode_skip sll_decode(const struct packet *pkt, struct link_payload *out)
{
    struct cursor c = cursor_init(pkt->data, pkt->caplen);
    cursor_skip(&c, SLL_HEADER_LEN - 2, 1);
    uint16_t protocol = cursor_u16(&c, 1);
    if (c.err != 0) {
        return link_short(pkt);
    }
    return finish(&c, protocol, out);
}

/* Linux cooked capture v2: the protocol is the first field of 20 bytes. */
static enum decode_skip sll2_decode(const struct packet *pkt, struct link_payload *out)
{
    struct cursor c = cursor_init(pkt->data, pkt->caplen);
    uint16_t protocol = cursor_u16(&c, 1);
    cursor_skip(&c, SLL2_HEADER_LEN - 2, 1);
    if (c.err != 0) {
        return link_short(pkt);
    }
    return finish(&c, protocol, out);
}

static uint16_t bsd_family_ethertype(uint32_t family)
{
    switch (family) {
    case BSD_AF_INET:
        return ETHERTYPE_IPV4;
    case BSD_AF_INET6_NETBSD:
    case BSD_AF_INET6_FREEBSD:
    case BSD_AF_INET6_DARWIN:
        return ETHERTYPE_IPV6;
    default:
        return 0;
    }
}

/*
 * BSD loopback (DLT_NULL, DLT_LOOP): a 4-byte address family. DLT_NULL
 * stores it in the byte order of the capturing host and DLT_LOOP in network
 * order, but writers mix them up, so both orders are tried for both types.
 */
static enum decode_skip null_decode(const struct packet *pkt, struct link_payload *out)
{
    struct cursor c = cursor_init(pkt->data, pkt->caplen);
    uint32_t family = cursor_u32(&c, 1);
    if (c.err != 0) {
        return link_short(pkt);
    }

    uint16_t ethertype = bsd_family_ethertype(family);
    if (ethertype == 0) {
        ethertype = bsd_family_ethertype(__builtin_bswap32(family));
    }
    return finish(&c, ethertype, out);
}

/* Raw IP: no link header, so the version nibble selects IPv4 or IPv6. */
static enum decode_skip raw_decode(const struct packet *pkt, struct link_payload *out)
{
    struct cursor c = cursor_init(pkt->data, pkt->caplen);
    if (cursor_left(&c) == 0) {
        return link_short(pkt);
    }

    switch (c.pos[0] >> 4) {
    case 4:
        return finish(&c, ETHERTYPE_IPV4, out);
    case 6:
        return finish(&c, ETHERTYPE_IPV6, out);
    default:
        return DECODE_SKIP_MALFORMED;
    }
}

/*
 * Apple PKTAP: a header that starts with its own length and the link type
 * of the frame after it, both 32-bit in little-endian order (the order of
 * every host that writes PKTAP). The inner frame may not be PKTAP again.
 */
static enum decode_skip pktap_decode(const struct packet *pkt, struct link_payload *out)
{
    struct cursor c = cursor_init(pkt->data, pkt->caplen);
    const uint8_t *h = cursor_bytes(&c, PKTAP_HEADER_MIN, 1);
    if (h == NULL) {
        return link_short(pkt);
    }
    uint32_t header_len = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                          (uint32_t)h[3] << 24;
    uint32_t next = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 |
                    (uint32_t)h[7] << 24;
    if (header_len < PKTAP_HEADER_MIN || next == LINKTYPE_PKTAP) {
        return DECODE_SKIP_MALFORMED;
    }
    if (header_len > pkt->caplen) {
        return link_short(pkt);
    }

    struct packet inner = *pkt;
    inner.link_type = (int)next;
    inner.data = pkt->data + header_len;
    inner.caplen = pkt->caplen - header_len;
    inner.wire_len = pkt->wire_len > header_len ? pkt->wire_len - header_len : 0;
    return link_decode(&inner, out);
}

enum decode_skip link_decode(const struct packet *pkt, struct link_payload *out)
{
    switch (pkt->link_type) {
    case DLT_EN10MB:
        return ethernet_decode(pkt, out);
    case DLT_LINUX_SLL:
        return sll_decode(pkt, out);
    case DLT_LINUX_SLL2:
        return sll2_decode(pkt, out);
    case DLT_NULL:
    case DLT_LOOP:
        return null_decode(pkt, out);
    case DLT_RAW:
    case LINKTYPE_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        return raw_decode(pkt, out);
    case LINKTYPE_PKTAP:
        return pktap_decode(pkt, out);
    default:
        return DECODE_SKIP_LINK_TYPE;
    }
}
