/* SPDX-License-Identifier: MIT */
/*
 * decode_internal.h - state shared by the layers of one decoder_packet() call.
 *
 * Each layer (link.c, ip.c, tunnel.c, tcp.c) reads its header through a
 * bounded cursor, fills its part of the message under construction and
 * hands the rest of the frame to the next layer. The decode context lives
 * for one call. The fragment and TCP tables it points to live as long as
 * the decoder.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode/decoder.h"
#include "decode/dns_message.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd

#define ETHERTYPE_TEB 0x6558 /* transparent Ethernet bridging (RFC 1701) */

/* Two MAC addresses and the ethertype, without VLAN tags. */
#define ETHERNET_HEADER_LEN 14

#define IPV4_HEADER_MIN 20
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff
#define IPV6_HEADER_LEN 40
#define UDP_HEADER_LEN 8

#define IP_PROTO_IPIP 4
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_IPV6 41
#define IP_PROTO_GRE 47

/* Encapsulations removed from one frame before it counts as DECODE_SKIP_TUNNEL. */
#define DECODE_TUNNEL_DEPTH_MAX 4

struct frag_table;
struct tcp_table;

/* One call of decoder_packet(): the frame, the callback and the message. */
struct decode_ctx {
    const struct decoder_config *cfg;
    const struct packet *pkt;
    struct frag_table *frags;
    struct tcp_table *tcp;
    struct decoder_counters *counters;
    decoder_emit_fn emit;
    void *emit_arg;
    unsigned emitted;       /* messages passed to emit so far */
    unsigned depth;         /* IP headers entered so far, tunnels and reassembly included */
    struct dns_message msg; /* addresses and ports filled layer by layer */
};

/* Network layer found by the link layer: its ethertype and its bytes. */
struct link_payload {
    uint16_t ethertype; /* ETHERTYPE_IPV4 or ETHERTYPE_IPV6 */
    const uint8_t *data;
    size_t len;
};

static inline uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Set @p a to the @p len address bytes at @p bytes, the rest zero. */
static inline void addr_set(struct addr *a, uint8_t family, const uint8_t *bytes, size_t len)
{
    memset(a, 0, sizeof(*a));
    a->family = family;
    memcpy(a->bytes, bytes, len);
}

/* True when the capture cut the frame short (snaplen smaller than the frame). */
static inline bool decode_snapped(const struct decode_ctx *ctx)
{
    return ctx->pkt->caplen < ctx->pkt->wire_len;
}

/*
 * Reason for a header that claims more bytes than were captured: the
 * snaplen explains it when the frame was cut, otherwise the header lies.
 */
static inline enum decode_skip decode_short(const struct decode_ctx *ctx)
{
    return decode_snapped(ctx) ? DECODE_SKIP_TRUNCATED : DECODE_SKIP_MALFORMED;
}

/*
 * The usual Ethernet frame: no VLAN tag, IPv4 or IPv6 right after the
 * header. Fills @p out as link_decode() would and returns true, or returns
 * false for any other frame.
 */
static inline bool link_ethernet_untagged(const uint8_t *data, size_t len,
                                          struct link_payload *out)
{
    if (len < ETHERNET_HEADER_LEN) {
        return false;
    }
    uint16_t type = (uint16_t)(data[12] << 8 | data[13]);
    if (type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6) {
        return false;
    }
    out->ethertype = type;
    out->data = data + ETHERNET_HEADER_LEN;
    out->len = len - ETHERNET_HEADER_LEN;
    return true;
}

/* link.c: strip the link layer of @p pkt and find the IP header. */
enum decode_skip link_decode(const struct packet *pkt, struct link_payload *out);

/* link.c: strip an Ethernet header (with VLAN tags) found inside a tunnel. */
enum decode_skip link_ethernet_decode(const struct decode_ctx *ctx, const uint8_t *data,
                                      size_t len, struct link_payload *out);

/* ip.c: read the IPv4 or IPv6 header and the UDP or TCP header after it. */
enum decode_skip ip_decode(struct decode_ctx *ctx, const struct link_payload *net);

/*
 * tunnel.c: decapsulate the payload of an IP protocol (GRE, IP in IP) or of
 * a UDP port (VXLAN, GENEVE, GRE over UDP, Teredo) and decode what it
 * carries. *handled is false, and nothing was read, when @p protocol or
 * the ports belong to no tunnel.
 */
enum decode_skip tunnel_ip_decode(struct decode_ctx *ctx, uint8_t protocol, const uint8_t *data,
                                  size_t len, bool *handled);
enum decode_skip tunnel_udp_decode(struct decode_ctx *ctx, uint16_t sport, uint16_t dport,
                                   const uint8_t *data, size_t len, bool *handled);

/*
 * tcp.c: read the TCP header at @p data and the DNS messages in its payload.
 * @p declared_len is the segment length the IP header gives, which exceeds
 * @p len when the snaplen cut the frame.
 */
enum decode_skip tcp_decode(struct decode_ctx *ctx, const uint8_t *data, size_t len,
                            size_t declared_len);

/*
 * decoder.c: decoder_packet() without its shortcut for the usual frame, so
 * that tests can check that both reach the same messages.
 */
enum decode_skip decoder_packet_layered(struct decoder *dec, const struct packet *pkt,
                                        decoder_emit_fn emit, void *ctx);

/*
 * decoder.c: parse one DNS message of @p len bytes and emit it. Returns
 * DECODE_OK when it was emitted, else the skip reason.
 */
enum decode_skip decode_dns_message(struct decode_ctx *ctx, uint8_t transport,
                                    const uint8_t *wire, size_t len);
