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
 *
 * Fragments go to the reassembly table (ip_reassembly.c). The fragment that
 * completes a datagram decodes it, so the message carries that frame's
 * number and time, as tshark reports it.
 */
#include <string.h>

#include "decode/decode_internal.h"
#include "decode/ip_reassembly.h"
#include "util/cursor.h"

#define IPV6_NEXT_HOP_BY_HOP 0
#define IPV6_NEXT_ROUTING 43
#define IPV6_NEXT_FRAGMENT 44
#define IPV6_NEXT_AUTH 51
#define IPV6_NEXT_DEST_OPTS 60

/* Extension headers walked before giving up. Real packets carry few. */
#define IPV6_EXTENSIONS_MAX 8

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

static enum decode_skip udp_decode(struct decode_ctx *ctx, struct cursor *c)
{
    /* Source port, destination port, length and checksum. */
    const uint8_t *h = cursor_bytes(c, UDP_HEADER_LEN, 1);
    if (h == NULL) {
        return decode_short(ctx);
    }
    uint16_t sport = be16(h);
    uint16_t dport = be16(h + 2);
    uint16_t length = be16(h + 4);

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

/* UDP that is not DNS may still carry a tunnel, found by its server port. */
static enum decode_skip udp_tunnel_decode(struct decode_ctx *ctx, struct cursor *c)
{
    struct cursor header = *c;
    uint16_t sport = cursor_u16(&header, 1);
    uint16_t dport = cursor_u16(&header, 1);
    uint16_t length = cursor_u16(&header, 1);
    cursor_skip(&header, 2, 1); /* checksum */
    if (header.err != 0 || length < UDP_HEADER_LEN) {
        return DECODE_SKIP_NOT_DNS;
    }
    if ((size_t)(length - UDP_HEADER_LEN) < cursor_left(&header)) {
        header.end = header.pos + (length - UDP_HEADER_LEN);
    }

    bool handled = false;
    enum decode_skip ret = tunnel_udp_decode(ctx, sport, dport, header.pos, cursor_left(&header),
                                             &handled);
    return handled ? ret : DECODE_SKIP_NOT_DNS;
}

/*
 * Decode the payload of the IP header just read. @p declared_len is the
 * payload length the header gives, which exceeds what @p c holds when the
 * snaplen cut the frame.
 */
static enum decode_skip transport_decode(struct decode_ctx *ctx, uint8_t protocol,
                                         struct cursor *c, size_t declared_len)
{
    switch (protocol) {
    case IP_PROTO_UDP: {
        struct cursor start = *c;
        enum decode_skip ret = udp_decode(ctx, c);
        return ret == DECODE_SKIP_NOT_DNS ? udp_tunnel_decode(ctx, &start) : ret;
    }
    case IP_PROTO_TCP:
        return tcp_decode(ctx, c->pos, cursor_left(c), declared_len);
    default: {
        bool handled = false;
        enum decode_skip ret = tunnel_ip_decode(ctx, protocol, c->pos, cursor_left(c), &handled);
        return handled ? ret : DECODE_SKIP_NOT_DNS;
    }
    }
}

/*
 * Hand one fragment to the reassembly table. When it completes the
 * datagram, decode the datagram's payload as protocol @p protocol (IPv4) or
 * from the next header of its first fragment (IPv6, through @p ipv6_rest).
 */
static enum decode_skip fragment_add(struct decode_ctx *ctx, const struct frag_key *key,
                                     const struct frag_piece *piece, size_t declared_len,
                                     enum decode_skip (*rest)(struct decode_ctx *,
                                                              const struct frag_datagram *,
                                                              const struct frag_key *))
{
    /* A fragment cut by the snaplen would leave a hole that never fills. */
    if (piece->len < declared_len) {
        return DECODE_SKIP_TRUNCATED;
    }

    struct frag_datagram whole;
    enum frag_result res = frag_table_add(ctx->frags, key, piece, ctx->pkt->ts_sec, &whole);
    if (res != FRAG_COMPLETE) {
        return DECODE_SKIP_FRAGMENT;
    }
    enum decode_skip ret = rest(ctx, &whole, key);
    frag_table_release(ctx->frags, &whole);
    return ret;
}

static enum decode_skip ipv4_reassembled(struct decode_ctx *ctx, const struct frag_datagram *d,
                                         const struct frag_key *key)
{
    struct cursor c = cursor_init(d->data, d->len);
    ctx->msg.src = key->src;
    ctx->msg.dst = key->dst;
    return transport_decode(ctx, key->protocol, &c, d->len);
}

static enum decode_skip ipv4_fragment(struct decode_ctx *ctx, struct cursor *c, uint16_t id,
                                      uint16_t frag, uint8_t protocol, const uint8_t *src,
                                      const uint8_t *dst, size_t declared_len)
{
    struct frag_key key;
    memset(&key, 0, sizeof(key));
    addr_set(&key.src, ADDR_FAMILY_IPV4, src, 4);
    addr_set(&key.dst, ADDR_FAMILY_IPV4, dst, 4);
    key.id = id;
    key.protocol = protocol;

    struct frag_piece piece = {
        .offset = (uint32_t)(frag & IPV4_OFFSET_MASK) * 8,
        .data = c->pos,
        .len = cursor_left(c),
        .more = (frag & IPV4_FLAG_MF) != 0,
        .next_header = protocol,
    };
    return fragment_add(ctx, &key, &piece, declared_len, ipv4_reassembled);
}

static enum decode_skip ipv4_decode(struct decode_ctx *ctx, struct cursor *c)
{
    /* The fixed part is read in one bounds check: version and IHL, DSCP and
     * ECN, total length, identification, flags and fragment offset, TTL,
     * protocol, header checksum, then the addresses. */
    const uint8_t *h = cursor_bytes(c, IPV4_HEADER_MIN, 1);
    if (h == NULL) {
        return decode_short(ctx);
    }
    uint8_t version_ihl = h[0];
    uint16_t total_len = be16(h + 2);
    uint16_t id = be16(h + 4);
    uint16_t frag = be16(h + 6);
    uint8_t protocol = h[9];
    const uint8_t *src = h + 12;
    const uint8_t *dst = h + 16;

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

    size_t declared_len = total_len - header_len;
    if ((frag & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) != 0) {
        return ipv4_fragment(ctx, c, id, frag, protocol, src, dst, declared_len);
    }

    addr_set(&ctx->msg.src, ADDR_FAMILY_IPV4, src, 4);
    addr_set(&ctx->msg.dst, ADDR_FAMILY_IPV4, dst, 4);
    return transport_decode(ctx, protocol, c, declared_len);
}

/*
 * Skip the IPv6 extension headers in front of the upper-layer header and
 * store its protocol number in *next. A fragment header stops the walk with
 * *next set to IPV6_NEXT_FRAGMENT.
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
        default:
            return DECODE_OK;
        }
    }
    return DECODE_SKIP_MALFORMED;
}

/* Walk the extension headers at @p c, then decode the upper layer. */
static enum decode_skip ipv6_upper_decode(struct decode_ctx *ctx, struct cursor *c, uint8_t next)
{
    enum decode_skip ret = ipv6_skip_extensions(ctx, c, &next);
    if (ret != DECODE_OK) {
        return ret;
    }
    if (next == IPV6_NEXT_FRAGMENT) {
        return DECODE_SKIP_MALFORMED; /* a fragment header inside a reassembled payload */
    }
    return transport_decode(ctx, next, c, cursor_left(c));
}

static enum decode_skip ipv6_reassembled(struct decode_ctx *ctx, const struct frag_datagram *d,
                                         const struct frag_key *key)
{
    struct cursor c = cursor_init(d->data, d->len);
    ctx->msg.src = key->src;
    ctx->msg.dst = key->dst;
    return ipv6_upper_decode(ctx, &c, d->next_header);
}

/*
 * Fragment header (RFC 8200 4.5): next header, reserved, offset and M flag,
 * identification. An atomic fragment (offset 0, M clear, RFC 6946) is a
 * whole datagram and is decoded at once.
 */
static enum decode_skip ipv6_fragment(struct decode_ctx *ctx, struct cursor *c,
                                      const uint8_t *src, const uint8_t *dst, size_t declared_len)
{
    const uint8_t *start = c->pos;
    uint8_t next = cursor_u8(c, 1);
    cursor_skip(c, 1, 1); /* reserved */
    uint16_t offset_flags = cursor_u16(c, 1);
    uint32_t id = cursor_u32(c, 1);
    if (c->err != 0) {
        return decode_short(ctx);
    }

    addr_set(&ctx->msg.src, ADDR_FAMILY_IPV6, src, 16);
    addr_set(&ctx->msg.dst, ADDR_FAMILY_IPV6, dst, 16);
    if ((offset_flags & 0xfff9) == 0) {
        return ipv6_upper_decode(ctx, c, next);
    }

    struct frag_key key;
    memset(&key, 0, sizeof(key));
    key.src = ctx->msg.src;
    key.dst = ctx->msg.dst;
    key.id = id;

    struct frag_piece piece = {
        .offset = offset_flags & 0xfff8,
        .data = c->pos,
        .len = cursor_left(c),
        .more = (offset_flags & 1) != 0,
        .next_header = next,
    };
    size_t header_used = (size_t)(c->pos - start);
    size_t rest_declared = declared_len > header_used ? declared_len - header_used : 0;
    return fragment_add(ctx, &key, &piece, rest_declared, ipv6_reassembled);
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
    const uint8_t *payload = c->pos;
    ret = ipv6_skip_extensions(ctx, c, &next);
    if (ret != DECODE_OK) {
        return ret;
    }

    /* What the payload length promises beyond the extension headers. */
    size_t used = (size_t)(c->pos - payload);
    size_t declared_len = payload_len > used ? payload_len - used : 0;
    if (next == IPV6_NEXT_FRAGMENT) {
        return ipv6_fragment(ctx, c, src, dst, declared_len);
    }

    addr_set(&ctx->msg.src, ADDR_FAMILY_IPV6, src, 16);
    addr_set(&ctx->msg.dst, ADDR_FAMILY_IPV6, dst, 16);
    return transport_decode(ctx, next, c, declared_len);
}

enum decode_skip ip_decode(struct decode_ctx *ctx, const struct link_payload *net)
{
    if (ctx->depth > DECODE_TUNNEL_DEPTH_MAX) {
        ctx->counters->tunnels_too_deep++;
        return DECODE_SKIP_TUNNEL;
    }
    ctx->depth++;

    struct cursor c = cursor_init(net->data, net->len);
    if (net->ethertype == ETHERTYPE_IPV4) {
        return ipv4_decode(ctx, &c);
    }
    return ipv6_decode(ctx, &c);
}
