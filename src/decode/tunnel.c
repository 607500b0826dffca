/* SPDX-License-Identifier: MIT */
/*
 * tunnel.c - encapsulations, down to the IP header they carry.
 *
 * IP in IP (protocols 4 and 41), GRE (protocol 47, or UDP port 4754) with
 * IP, Ethernet or ERSPAN inside, VXLAN (UDP 4789), GENEVE (UDP 6081) and
 * Teredo (UDP 3544). Each reader strips its header and hands the rest to
 * ip_decode() or, for Ethernet, to link_ethernet_decode() first, so tunnels
 * nest. ip_decode() bounds the nesting at DECODE_TUNNEL_DEPTH_MAX.
 *
 * The message records the type of the outermost tunnel and the addresses of
 * the IP header that carried it: the addresses a sensor on that network
 * sees. The inner addresses stay in the message's src and dst.
 *
 * NOTE: the inner TCP streams and fragments of different tunnels share one
 * table, keyed by inner addresses only, so two tunnels that reuse the same
 * private inner addresses and ports at the same time mix their streams.
 */
#include "decode/decode_internal.h"
#include "util/cursor.h"

#define UDP_PORT_TEREDO 3544
#define UDP_PORT_GRE 4754 /* RFC 8086 */
#define UDP_PORT_VXLAN 4789
#define UDP_PORT_GENEVE 6081

/* GRE flags and version in the first 16 bits (RFC 2784, RFC 2890, RFC 1701). */
#define GRE_FLAG_CHECKSUM 0x8000
#define GRE_FLAG_ROUTING 0x4000
#define GRE_FLAG_KEY 0x2000
#define GRE_FLAG_SEQUENCE 0x1000
#define GRE_VERSION_MASK 0x0007

#define GRE_PROTO_ERSPAN_2 0x88be /* ERSPAN type I (no sequence) or II */
#define GRE_PROTO_ERSPAN_3 0x22eb

#define ERSPAN_2_HEADER_LEN 8
#define ERSPAN_3_HEADER_LEN 12
#define ERSPAN_3_SUBHEADER_LEN 8 /* platform-specific, present when O is set */

#define VXLAN_HEADER_LEN 8
#define VXLAN_FLAG_VNI 0x08
#define GENEVE_HEADER_LEN 8

#define TEREDO_AUTH 0x0001
#define TEREDO_ORIGIN 0x0000
#define TEREDO_ORIGIN_LEN 8
#define TEREDO_AUTH_FIXED_LEN 13 /* indicator, two lengths, nonce, confirmation */

/* Record the tunnel about to be removed, if it is the outermost one. */
static void tunnel_enter(struct decode_ctx *ctx, enum dns_tunnel type)
{
    struct dns_tunnel_info *info = &ctx->msg.tunnel;
    if (info->type == DNS_TUNNEL_NONE) {
        info->type = (uint8_t)type;
        info->outer_src = ctx->msg.src;
        info->outer_dst = ctx->msg.dst;
    }
    info->depth++;
    ctx->counters->tunnels++;
}

static enum decode_skip ip_payload_decode(struct decode_ctx *ctx, uint16_t ethertype,
                                          const uint8_t *data, size_t len)
{
    struct link_payload net = { ethertype, data, len };
    return ip_decode(ctx, &net);
}

/* Decode what an encapsulation carries, named by its ethertype. */
static enum decode_skip payload_decode(struct decode_ctx *ctx, uint16_t ethertype,
                                       const uint8_t *data, size_t len)
{
    switch (ethertype) {
    case ETHERTYPE_IPV4:
    case ETHERTYPE_IPV6:
        return ip_payload_decode(ctx, ethertype, data, len);
    case ETHERTYPE_TEB: {
        struct link_payload net;
        enum decode_skip ret = link_ethernet_decode(ctx, data, len, &net);
        return ret != DECODE_OK ? ret : ip_decode(ctx, &net);
    }
    default:
        return DECODE_SKIP_NOT_DNS;
    }
}

/*
 * ERSPAN type III: version, VLAN, session, timestamp, then a word whose
 * frame type (bits 10-14) must be 0 for Ethernet and whose lowest bit
 * announces an 8-byte platform-specific subheader.
 */
static enum decode_skip erspan3_decode(struct decode_ctx *ctx, struct cursor *c)
{
    cursor_skip(c, ERSPAN_3_HEADER_LEN - 2, 1);
    uint16_t last = cursor_u16(c, 1);
    if ((last & 1) != 0) {
        cursor_skip(c, ERSPAN_3_SUBHEADER_LEN, 1);
    }
    if (c->err != 0) {
        return decode_short(ctx);
    }
    if (((last >> 10) & 0x1f) != 0) {
        return DECODE_SKIP_NOT_DNS;
    }
    return payload_decode(ctx, ETHERTYPE_TEB, c->pos, cursor_left(c));
}

/*
 * GRE header: flags and version, protocol, then the optional checksum,
 * key and sequence number words in that order. Version 1 (PPTP) and the
 * source routing of RFC 1701 carry no DNS worth following here.
 */
static enum decode_skip gre_decode(struct decode_ctx *ctx, const uint8_t *data, size_t len)
{
    struct cursor c = cursor_init(data, len);
    uint16_t flags = cursor_u16(&c, 1);
    uint16_t protocol = cursor_u16(&c, 1);
    if ((flags & GRE_FLAG_CHECKSUM) != 0) {
        cursor_skip(&c, 4, 1);
    }
    if ((flags & GRE_FLAG_KEY) != 0) {
        cursor_skip(&c, 4, 1);
    }
    if ((flags & GRE_FLAG_SEQUENCE) != 0) {
        cursor_skip(&c, 4, 1);
    }
    if (c.err != 0) {
        return decode_short(ctx);
    }
    if ((flags & (GRE_VERSION_MASK | GRE_FLAG_ROUTING)) != 0) {
        return DECODE_SKIP_NOT_DNS;
    }

    /* ERSPAN type I has no sequence number and no header of its own. */
    if (protocol == GRE_PROTO_ERSPAN_2) {
        tunnel_enter(ctx, DNS_TUNNEL_ERSPAN);
        if ((flags & GRE_FLAG_SEQUENCE) != 0) {
            cursor_skip(&c, ERSPAN_2_HEADER_LEN, 1);
        }
        if (c.err != 0) {
            return decode_short(ctx);
        }
        return payload_decode(ctx, ETHERTYPE_TEB, c.pos, cursor_left(&c));
    }
    if (protocol == GRE_PROTO_ERSPAN_3) {
        tunnel_enter(ctx, DNS_TUNNEL_ERSPAN);
        return erspan3_decode(ctx, &c);
    }
    tunnel_enter(ctx, DNS_TUNNEL_GRE);
    return payload_decode(ctx, protocol, c.pos, cursor_left(&c));
}

/* VXLAN (RFC 7348): flags with the VNI bit, reserved, VNI, then Ethernet. */
static enum decode_skip vxlan_decode(struct decode_ctx *ctx, const uint8_t *data, size_t len)
{
    struct cursor c = cursor_init(data, len);
    uint8_t flags = cursor_u8(&c, 1);
    cursor_skip(&c, VXLAN_HEADER_LEN - 1, 1);
    if (c.err != 0) {
        return decode_short(ctx);
    }
    if ((flags & VXLAN_FLAG_VNI) == 0) {
        return DECODE_SKIP_NOT_DNS;
    }
    tunnel_enter(ctx, DNS_TUNNEL_VXLAN);
    return payload_decode(ctx, ETHERTYPE_TEB, c.pos, cursor_left(&c));
}

/*
 * GENEVE (RFC 8926): version and option length in 4-byte words, flags,
 * protocol type, VNI. The options are skipped.
 */
static enum decode_skip geneve_decode(struct decode_ctx *ctx, const uint8_t *data, size_t len)
{
    struct cursor c = cursor_init(data, len);
    uint8_t version_optlen = cursor_u8(&c, 1);
    cursor_skip(&c, 1, 1); /* flags */
    uint16_t protocol = cursor_u16(&c, 1);
    cursor_skip(&c, 4, 1); /* VNI and reserved */
    cursor_skip(&c, (size_t)(version_optlen & 0x3f) * 4, 1);
    if (c.err != 0) {
        return decode_short(ctx);
    }
    if (version_optlen >> 6 != 0) {
        return DECODE_SKIP_NOT_DNS;
    }
    tunnel_enter(ctx, DNS_TUNNEL_GENEVE);
    return payload_decode(ctx, protocol, c.pos, cursor_left(&c));
}

/*
 * Teredo (RFC 4380 5.1.1): an IPv6 packet, possibly behind an
 * authentication header and an origin indication, in that order.
 * Anything else on port 3544 is not Teredo.
 */
static enum decode_skip teredo_decode(struct decode_ctx *ctx, const uint8_t *data, size_t len)
{
    struct cursor c = cursor_init(data, len);
    if (cursor_left(&c) >= 4 && (c.pos[0] << 8 | c.pos[1]) == TEREDO_AUTH) {
        size_t id_len = c.pos[2];
        size_t auth_len = c.pos[3];
        cursor_skip(&c, TEREDO_AUTH_FIXED_LEN + id_len + auth_len, 1);
    }
    if (cursor_left(&c) >= 2 && (c.pos[0] << 8 | c.pos[1]) == TEREDO_ORIGIN) {
        cursor_skip(&c, TEREDO_ORIGIN_LEN, 1);
    }
    if (c.err != 0 || cursor_left(&c) == 0 || c.pos[0] >> 4 != 6) {
        return DECODE_SKIP_NOT_DNS;
    }
    tunnel_enter(ctx, DNS_TUNNEL_TEREDO);
    return ip_payload_decode(ctx, ETHERTYPE_IPV6, c.pos, cursor_left(&c));
}

enum decode_skip tunnel_ip_decode(struct decode_ctx *ctx, uint8_t protocol, const uint8_t *data,
                                  size_t len, bool *handled)
{
    *handled = true;
    switch (protocol) {
    case IP_PROTO_IPIP:
        tunnel_enter(ctx, DNS_TUNNEL_IPIP);
        return ip_payload_decode(ctx, ETHERTYPE_IPV4, data, len);
    case IP_PROTO_IPV6:
        tunnel_enter(ctx, DNS_TUNNEL_IPIP);
        return ip_payload_decode(ctx, ETHERTYPE_IPV6, data, len);
    case IP_PROTO_GRE:
        return gre_decode(ctx, data, len);
    default:
        *handled = false;
        return DECODE_SKIP_NOT_DNS;
    }
}

enum decode_skip tunnel_udp_decode(struct decode_ctx *ctx, uint16_t sport, uint16_t dport,
                                   const uint8_t *data, size_t len, bool *handled)
{
    *handled = true;
    switch (dport) {
    case UDP_PORT_VXLAN:
        return vxlan_decode(ctx, data, len);
    case UDP_PORT_GENEVE:
        return geneve_decode(ctx, data, len);
    case UDP_PORT_GRE:
        return gre_decode(ctx, data, len);
    default:
        break;
    }
    if (sport == UDP_PORT_TEREDO || dport == UDP_PORT_TEREDO) {
        return teredo_decode(ctx, data, len);
    }
    *handled = false;
    return DECODE_SKIP_NOT_DNS;
}
