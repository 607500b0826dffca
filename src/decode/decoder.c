/* SPDX-License-Identifier: MIT */
/*
 * decoder.c - from a captured frame to DNS messages: the entry point.
 *
 * decoder_packet() hands the frame to link.c, then ip.c (which reassembles
 * fragments and passes tunnels to tunnel.c), then (for UDP) to
 * decode_dns_message() below or (for TCP) to tcp.c. The usual frame
 * (untagged Ethernet, IPv4 or IPv6, UDP to or from a DNS port) is read in
 * one pass here instead, which reaches the same message with fewer calls.
 * The message under construction lives on the stack of decoder_packet().
 * The fragment and TCP tables live in the decoder, so a decoder belongs to
 * one thread.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode/decode_internal.h"
#include "decode/decoder.h"
#include "decode/dns_wire.h"
#include "decode/ip_reassembly.h"
#include "decode/tcp_stream.h"

#define FRAGMENT_DATAGRAMS_DEFAULT 64
#define TCP_FLOWS_DEFAULT 4096
#define TCP_BUFFERS_DEFAULT 64

struct decoder {
    struct decoder_config cfg;
    struct decoder_counters counters;
    struct frag_table *frags;
    struct tcp_table *tcp;
};

static const char *const skip_names[DECODE_SKIP_COUNT] = {
    [DECODE_OK] = "ok",
    [DECODE_SKIP_NOT_DNS] = "not_dns",
    [DECODE_SKIP_MALFORMED] = "malformed",
    [DECODE_SKIP_TRUNCATED] = "truncated",
    [DECODE_SKIP_LINK_TYPE] = "unsupported_link_type",
    [DECODE_SKIP_FRAGMENT] = "fragment",
    [DECODE_SKIP_TCP_REASSEMBLY] = "tcp_reassembly",
    [DECODE_SKIP_TUNNEL] = "tunnel_too_deep",
};

const char *decode_skip_name(enum decode_skip reason)
{
    if ((unsigned)reason >= DECODE_SKIP_COUNT) {
        return "unknown";
    }
    return skip_names[reason];
}

static unsigned cap_or_default(unsigned cap, unsigned fallback)
{
    return cap != 0 ? cap : fallback;
}

struct decoder *decoder_create(const struct decoder_config *cfg)
{
    struct decoder *dec = calloc(1, sizeof(*dec));
    if (dec == NULL) {
        return NULL;
    }
    dec->cfg = *cfg;
    dec->cfg.fragment_datagrams_max =
        cap_or_default(cfg->fragment_datagrams_max, FRAGMENT_DATAGRAMS_DEFAULT);
    dec->cfg.tcp_flows_max = cap_or_default(cfg->tcp_flows_max, TCP_FLOWS_DEFAULT);
    dec->cfg.tcp_buffers_max = cap_or_default(cfg->tcp_buffers_max, TCP_BUFFERS_DEFAULT);

    dec->frags = frag_table_create(dec->cfg.fragment_datagrams_max, &dec->counters);
    dec->tcp = tcp_table_create(dec->cfg.tcp_flows_max, dec->cfg.tcp_buffers_max,
                                &dec->counters);
    if (dec->frags == NULL || dec->tcp == NULL) {
        decoder_destroy(dec);
        return NULL;
    }
    return dec;
}

void decoder_destroy(struct decoder *dec)
{
    if (dec == NULL) {
        return;
    }
    frag_table_destroy(dec->frags);
    tcp_table_destroy(dec->tcp);
    free(dec);
}

const struct decoder_counters *decoder_counters(const struct decoder *dec)
{
    return &dec->counters;
}

/*
 * Policy for messages that parse only in part: once the header and the
 * first question are read, the message is emitted even if a later part is
 * broken or cut off, because the question is what detection needs. That
 * later part may be another question, a resource record or the OPT record.
 * The EDNS fields then contain whatever was read before the error. A message
 * that fails before its first question is complete is skipped: as truncated when the DNS parser ran
 * out of bytes in a frame cut by the snaplen, otherwise as malformed. A
 * message with QDCOUNT 0 is emitted only when it parses completely.
 */
static inline enum decode_skip dns_message_decode(struct decode_ctx *ctx, uint8_t transport,
                                                  const uint8_t *wire, size_t len)
{
    struct dns_message *msg = &ctx->msg;
    enum dns_wire_error err = dns_wire_parse_question(wire, len, msg);
    if (err == DNS_WIRE_OK && !msg->has_question) {
        /* Without a question only a clean parse makes it a DNS message. */
        err = dns_wire_parse(wire, len, msg);
    }
    if (err != DNS_WIRE_OK && !msg->has_question) {
        if (err == DNS_WIRE_TRUNCATED && decode_snapped(ctx)) {
            return DECODE_SKIP_TRUNCATED;
        }
        return DECODE_SKIP_MALFORMED;
    }

    msg->transport = transport;
    ctx->emit(ctx->emit_arg, msg);
    ctx->emitted++;
    return DECODE_OK;
}

enum decode_skip decode_dns_message(struct decode_ctx *ctx, uint8_t transport,
                                    const uint8_t *wire, size_t len)
{
    return dns_message_decode(ctx, transport, wire, len);
}

/* ---- the usual frame ------------------------------------------------- */

/* First byte of an IPv4 header without options: version 4, 5 words long. */
#define IPV4_VERSION_IHL_PLAIN 0x45

/*
 * Check for an IPv4 header of 20 bytes, not a fragment, carrying UDP, whose
 * total length lies within the captured bytes, and set *payload and
 * *payload_len to what the total length covers. False for anything else.
 */
static bool ipv4_plain(const struct link_payload *net, const uint8_t **payload,
                       size_t *payload_len)
{
    const uint8_t *h = net->data;
    if (net->len < IPV4_HEADER_MIN || h[0] != IPV4_VERSION_IHL_PLAIN || h[9] != IP_PROTO_UDP ||
        (be16(h + 6) & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) != 0) {
        return false;
    }
    size_t total_len = be16(h + 2);
    if (total_len < IPV4_HEADER_MIN || total_len > net->len) {
        return false;
    }
    *payload = h + IPV4_HEADER_MIN;
    *payload_len = total_len - IPV4_HEADER_MIN;
    return true;
}

/* Check for an IPv6 header whose next header is UDP, as ipv4_plain() does for IPv4. */
static bool ipv6_plain(const struct link_payload *net, const uint8_t **payload,
                       size_t *payload_len)
{
    const uint8_t *h = net->data;
    if (net->len < IPV6_HEADER_LEN || h[0] >> 4 != 6 || h[6] != IP_PROTO_UDP) {
        return false;
    }
    size_t len = be16(h + 4);
    if (len > net->len - IPV6_HEADER_LEN) {
        return false;
    }
    *payload = h + IPV6_HEADER_LEN;
    *payload_len = len;
    return true;
}

/* Find the UDP header of a plain IPv4 or IPv6 datagram (see ipv4_plain()). */
static inline bool udp_of_plain(const struct link_payload *net, const uint8_t **udp,
                                size_t *udp_len)
{
    return net->ethertype == ETHERTYPE_IPV4 ? ipv4_plain(net, udp, udp_len)
                                            : ipv6_plain(net, udp, udp_len);
}

/* Read the source and destination of a datagram that udp_of_plain() accepted. */
static inline void plain_addresses(const struct link_payload *net, struct addr *src,
                                   struct addr *dst)
{
    const uint8_t *h = net->data;
    if (net->ethertype == ETHERTYPE_IPV4) {
        addr_set(src, ADDR_FAMILY_IPV4, h + 12, 4);
        addr_set(dst, ADDR_FAMILY_IPV4, h + 16, 4);
    } else {
        addr_set(src, ADDR_FAMILY_IPV6, h + 8, 16);
        addr_set(dst, ADDR_FAMILY_IPV6, h + 24, 16);
    }
}

/*
 * Read the usual datagram in one pass, without the layer walk of
 * ip_decode(). That is IPv4 without options or fragmentation, or IPv6 with
 * UDP as its next header, carrying UDP to or from a DNS port. Every length
 * field must lie within the captured bytes and the payload must not be
 * empty. Sets the addresses and ports of ctx->msg and the DNS payload
 * (*dns, *dns_len), as ip_decode() would before it parses the message, and
 * returns true. Returns false, having changed nothing, for any other
 * datagram.
 */
static bool udp_plain(struct decode_ctx *ctx, const struct link_payload *net, const uint8_t **dns,
                      size_t *dns_len)
{
    const uint8_t *udp;
    size_t udp_len;
    if (!udp_of_plain(net, &udp, &udp_len) || udp_len < UDP_HEADER_LEN) {
        return false;
    }

    uint16_t sport = be16(udp);
    uint16_t dport = be16(udp + 2);
    size_t length = be16(udp + 4);
    if ((!decoder_config_has_port(ctx->cfg, sport) && !decoder_config_has_port(ctx->cfg, dport)) ||
        length <= UDP_HEADER_LEN || length > udp_len) {
        return false;
    }

    plain_addresses(net, &ctx->msg.src, &ctx->msg.dst);
    ctx->msg.sport = sport;
    ctx->msg.dport = dport;
    *dns = udp + UDP_HEADER_LEN;
    *dns_len = length - UDP_HEADER_LEN;
    return true;
}

/*
 * Set the fields of @p msg that no layer sets: the time and origin of
 * @p pkt, no tunnel and no observer. Every reader of qname stops at
 * qname_len, so the 255 bytes of the name buffer are not cleared per frame,
 * only its first byte.
 */
static inline void message_start(struct dns_message *msg, const struct packet *pkt)
{
    msg->ts_sec = pkt->ts_sec;
    msg->ts_nsec = pkt->ts_nsec;
    msg->origin = pkt->origin;
    msg->qname[0] = 0;
    memset(&msg->tunnel, 0, sizeof(msg->tunnel));
    memset(&msg->observer, 0, sizeof(msg->observer));
}

/*
 * Zero the fields of @p msg that the layers set, from the transport to
 * wire. The shortcut for the usual frame skips this, because it sets the
 * addresses and ports and dns_wire_parse_question() sets all the others.
 * The fields after qname are cleared one by one, which gcc -O2 compiles to
 * a few vector stores where one memset of them compiled to a slower rep stos.
 */
static inline void message_clear(struct dns_message *msg)
{
    memset(&msg->transport, 0,
           offsetof(struct dns_message, qname) - offsetof(struct dns_message, transport));
    msg->qtype = 0;
    msg->qclass = 0;
    memset(&msg->edns, 0, sizeof(msg->edns));
    msg->records_parsed = false;
    msg->records_offset = 0;
    msg->wire_len = 0;
    msg->wire = NULL;
}

static inline void decode_start(struct decode_ctx *dctx, struct decoder *dec,
                                const struct packet *pkt, decoder_emit_fn emit, void *ctx)
{
    dctx->cfg = &dec->cfg;
    dctx->pkt = pkt;
    dctx->frags = dec->frags;
    dctx->tcp = dec->tcp;
    dctx->counters = &dec->counters;
    dctx->depth = 0;
    dctx->emit = emit;
    dctx->emit_arg = ctx;
    dctx->emitted = 0;
    message_start(&dctx->msg, pkt);
}

/* Walk the layers from the link header down to the DNS messages. */
static enum decode_skip layers_decode(struct decode_ctx *dctx)
{
    message_clear(&dctx->msg);
    struct link_payload net;
    enum decode_skip ret = link_decode(dctx->pkt, &net);
    if (ret != DECODE_OK) {
        return ret;
    }
    return ip_decode(dctx, &net);
}

enum decode_skip decoder_packet_layered(struct decoder *dec, const struct packet *pkt,
                                        decoder_emit_fn emit, void *ctx)
{
    struct decode_ctx dctx;
    decode_start(&dctx, dec, pkt, emit, ctx);
    return layers_decode(&dctx);
}

enum decode_skip decoder_packet(struct decoder *dec, const struct packet *pkt,
                                decoder_emit_fn emit, void *ctx)
{
    struct decode_ctx dctx;
    decode_start(&dctx, dec, pkt, emit, ctx);

    /* Most frames are Ethernet, IP and UDP with nothing unusual, so they
     * skip the layer walk, which would reach the same message. */
    struct link_payload net;
    const uint8_t *dns;
    size_t dns_len;
    if (pkt->link_type == DLT_EN10MB && link_ethernet_untagged(pkt->data, pkt->caplen, &net) &&
        udp_plain(&dctx, &net, &dns, &dns_len)) {
        return dns_message_decode(&dctx, DNS_TRANSPORT_UDP, dns, dns_len);
    }
    return layers_decode(&dctx);
}

bool decoder_peek_query(const struct decoder *dec, const struct packet *pkt,
                        struct addr *client, struct addr *server)
{
    struct link_payload net;
    const uint8_t *udp;
    size_t udp_len;
    if (pkt->link_type != DLT_EN10MB || !link_ethernet_untagged(pkt->data, pkt->caplen, &net)) {
        return false;
    }
    if (!udp_of_plain(&net, &udp, &udp_len) || udp_len < UDP_HEADER_LEN + DNS_HEADER_LEN ||
        !decoder_config_has_port(&dec->cfg, be16(udp + 2)) ||
        (udp[UDP_HEADER_LEN + 2] & 0x80) != 0) {
        return false;
    }
    plain_addresses(&net, client, server);
    return true;
}
