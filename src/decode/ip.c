/* SPDX-License-Identifier: MIT */
/*
 * ip.c - IPv4, IPv6 and UDP headers, down to the DNS payload.
 *
 * Length fields trim what follows them, which drops Ethernet padding. When
 * a length field claims more bytes than were captured, a frame cut by the
 * snaplen goes on with the bytes it has, because the DNS question usually
 * fits in a short snaplen and the DNS parser reports whether it did. A frame
 * captured whole with such a length field is malformed. Checksums are not
 * verified: a capture on the sending host sees them before the NIC fills
 * them in.
 */
#include <string.h>

#include "decode/decode_internal.h"
#include "util/cursor.h"

#define IPV4_HEADER_MIN 20
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

#define IPV6_NEXT_HOP_BY_HOP 0
#define IPV6_NEXT_ROUTING 43
#define IPV6_NEXT_FRAGMENT 44
#define IPV6_NEXT_AUTH 51
#define IPV6_NEXT_DEST_OPTS 60

/* Extension headers walked before giving up. Real packets carry few. */
#define IPV6_EXTENSIONS_MAX 8

#define UDP_HEADER_LEN 8

/*
 * Limit @p c to the @p len bytes a length field declares.
 * Returns DECODE_OK, or the reason when fewer bytes were captured and the
 * snaplen does not explain it.
 */
static enum decode_skip trim_to_length(const struct decode_ctx *ctx, struct cursor *c, size_t len)
{
    if (len <= cursor_left(c)) {
        c->end = c->pos + len;
        return DECODE_OK;
    }
    return decode_snapped(ctx) ? DECODE_OK : DECODE_SKIP_MALFORMED;
}

static void addr_set(struct addr *a, uint8_t family, const uint8_t *bytes, size_t len)
{
    memset(a, 0, sizeof(*a));
    a->family = family;
    memcpy(a->bytes, bytes, len);
}

static enum decode_skip udp_decode(struct decode_ctx *ctx, struct cursor *c)
{
    uint16_t sport = cursor_u16(c, 1);
    uint16_t dport = cursor_u16(c, 1);
    uint16_t length = cursor_u16(c, 1);
    cursor_skip(c, 2, 1); /* checksum */
    if (c->err != 0) {
        return decode_short(ctx);
    }

    if (!decoder_config_has_port(ctx->cfg, sport) && !decoder_config_has_port(ctx->cfg, dport)) {
        return DECODE_SKIP_NOT_DNS;
    }
    if (length < UDP_HEADER_LEN) {
        return DECODE_SKIP_MALFORMED;
    }
    enum decode_skip ret = trim_to_length(ctx, c, length - UDP_HEADER_LEN);
    if (ret != DECODE_OK) {
        return ret;
    }

    /* No DNS message is empty: with the header it is at least 12 bytes. */
    if (cursor_left(c) == 0) {
        return length > UDP_HEADER_LEN ? decode_short(ctx) : DECODE_SKIP_MALFORMED;
    }

    ctx->msg.sport = sport;
    ctx->msg.dport = dport;
    return decode_dns_message(ctx, DNS_TRANSPORT_UDP, c->pos, cursor_left(c));
}

static enum decode_skip transport_decode(struct decode_ctx *ctx, uint8_t protocol,
                                         struct cursor *c)
{
    switch (protocol) {
    case IP_PROTO_UDP:
        return udp_decode(ctx, c);
    case IP_PROTO_TCP:
        return tcp_decode(ctx, c->pos, cursor_left(c));
    default:
        return DECODE_SKIP_NOT_DNS;
    }
}

static enum decode_skip ipv4_decode(struct decode_ctx *ctx, struct cursor *c)
{
    uint8_t version_ihl = cursor_u8(c, 1);
    cursor_skip(c, 1, 1); /* DSCP and ECN */
    uint16_t total_len = cursor_u16(c, 1);
    cursor_skip(c, 2, 1); /* identification */
    uint16_t frag = cursor_u16(c, 1);
    cursor_skip(c, 1, 1); /* TTL */
    uint8_t protocol = cursor_u8(c, 1);
    cursor_skip(c, 2, 1); /* header checksum */
    const uint8_t *src = cursor_bytes(c, 4, 1);
    const uint8_t *dst = cursor_bytes(c, 4, 1);
    if (c->err != 0) {
        return decode_short(ctx);
    }

    /* The header length counts 32-bit words, options included. */
    size_t header_len = (size_t)(version_ihl & 0x0f) * 4;
    if (version_ihl >> 4 != 4 || header_len < IPV4_HEADER_MIN || total_len < header_len) {
        return DECODE_SKIP_MALFORMED;
    }
    cursor_skip(c, header_len - IPV4_HEADER_MIN, 1);
    if (c->err != 0) {
        return decode_short(ctx);
    }
    enum decode_skip ret = trim_to_length(ctx, c, total_len - header_len);
    if (ret != DECODE_OK) {
        return ret;
    }

    /* TODO: reassemble fragments. Until then a fragmented datagram is lost. */
    if ((frag & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) != 0) {
        return DECODE_SKIP_FRAGMENT;
    }

    addr_set(&ctx->msg.src, ADDR_FAMILY_IPV4, src, 4);
    addr_set(&ctx->msg.dst, ADDR_FAMILY_IPV4, dst, 4);
    return transport_decode(ctx, protocol, c);
}

/*
 * Skip the IPv6 extension headers in front of the upper-layer header and
 * store its protocol number in *next. Fragments stop the walk.
 */
static enum decode_skip ipv6_skip_extensions(const struct decode_ctx *ctx, struct cursor *c,
                                             uint8_t *next)
{
    for (int count = 0; count < IPV6_EXTENSIONS_MAX; count++) {
        switch (*next) {
        case IPV6_NEXT_HOP_BY_HOP:
        case IPV6_NEXT_ROUTING:
        case IPV6_NEXT_DEST_OPTS:
        case IPV6_NEXT_AUTH: {
            uint8_t following = cursor_u8(c, 1);
            uint8_t ext_len = cursor_u8(c, 1);

            /* AH counts 4-byte units minus 2 (RFC 4302); the others count
             * 8-byte units after the first 8 bytes (RFC 8200). */
            size_t len = *next == IPV6_NEXT_AUTH ? ((size_t)ext_len + 2) * 4
                                                 : ((size_t)ext_len + 1) * 8;
            cursor_skip(c, len - 2, 1);
            if (c->err != 0) {
                return decode_short(ctx);
            }
            *next = following;
            break;
        }
        case IPV6_NEXT_FRAGMENT:
            /* TODO: reassemble fragments, as for IPv4. */
            return DECODE_SKIP_FRAGMENT;
        default:
            return DECODE_OK;
        }
    }
    return DECODE_SKIP_MALFORMED;
}

static enum decode_skip ipv6_decode(struct decode_ctx *ctx, struct cursor *c)
{
    uint8_t version = cursor_u8(c, 1) >> 4;
    cursor_skip(c, 3, 1); /* traffic class and flow label */
    uint16_t payload_len = cursor_u16(c, 1);
    uint8_t next = cursor_u8(c, 1);
    cursor_skip(c, 1, 1); /* hop limit */
    const uint8_t *src = cursor_bytes(c, 16, 1);
    const uint8_t *dst = cursor_bytes(c, 16, 1);
    if (c->err != 0) {
        return decode_short(ctx);
    }
    if (version != 6) {
        return DECODE_SKIP_MALFORMED;
    }

    /* NOTE: a jumbogram (payload length 0, RFC 2675) reads as empty here,
     * which is harmless because DNS never needs one. */
    enum decode_skip ret = trim_to_length(ctx, c, payload_len);
    if (ret != DECODE_OK) {
        return ret;
    }
    ret = ipv6_skip_extensions(ctx, c, &next);
    if (ret != DECODE_OK) {
        return ret;
    }

    addr_set(&ctx->msg.src, ADDR_FAMILY_IPV6, src, 16);
    addr_set(&ctx->msg.dst, ADDR_FAMILY_IPV6, dst, 16);
    return transport_decode(ctx, next, c);
}

enum decode_skip ip_decode(struct decode_ctx *ctx, const struct link_payload *net)
{
    struct cursor c = cursor_init(net->data, net->len);
    if (net->ethertype == ETHERTYPE_IPV4) {
        return ipv4_decode(ctx, &c);
    }
    return ipv6_decode(ctx, &c);
}
