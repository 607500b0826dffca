/* SPDX-License-Identifier: MIT */
/*
 * tcp.c - the TCP header: DNS streams and encrypted DNS handshakes.
 *
 * Segments to or from a DNS port go to the stream reassembly in
 * tcp_stream.c, which cuts the length-prefixed messages out of each
 * direction (RFC 1035 4.2.2). A SYN from a client to port 853 (DNS over
 * TLS, RFC 7858) or to port 443 of a configured DNS over HTTPS server is
 * reported as a message without a question, so that a client that only
 * talks encrypted DNS is still seen; the content is never readable.
 */
#include <string.h>

#include "decode/decode_internal.h"
#include "decode/tcp_stream.h"
#include "util/cursor.h"

#define TCP_HEADER_MIN 20
#define TCP_PORT_DOT 853
#define TCP_PORT_HTTPS 443

static bool doh_server(const struct decoder_config *cfg, const struct addr *a)
{
    for (unsigned i = 0; i < cfg->doh_server_count && i < DECODER_DOH_SERVERS_MAX; i++) {
        if (memcmp(&cfg->doh_servers[i], a, sizeof(*a)) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * The transport of an encrypted DNS connection that a client opens with
 * this segment, or DNS_TRANSPORT_UDP when it opens none.
 */
static uint8_t handshake_transport(const struct decode_ctx *ctx, uint8_t flags, uint16_t dport)
{
    if ((flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN) {
        return DNS_TRANSPORT_UDP;
    }
    if (dport == TCP_PORT_DOT) {
        return DNS_TRANSPORT_DOT;
    }
    if (dport == TCP_PORT_HTTPS && doh_server(ctx->cfg, &ctx->msg.dst)) {
        return DNS_TRANSPORT_DOH;
    }
    return DNS_TRANSPORT_UDP;
}

/* Emit the handshake as a message with an empty header and no question. */
static enum decode_skip handshake_emit(struct decode_ctx *ctx, uint8_t transport)
{
    if (transport == DNS_TRANSPORT_DOT) {
        ctx->counters->dot_handshakes++;
    } else {
        ctx->counters->doh_handshakes++;
    }
    ctx->msg.transport = transport;
    ctx->emit(ctx->emit_arg, &ctx->msg);
    ctx->emitted++;
    return DECODE_OK;
}

enum decode_skip tcp_decode(struct decode_ctx *ctx, const uint8_t *data, size_t len,
                            size_t declared_len)
{
    struct cursor c = cursor_init(data, len);
    uint16_t sport = cursor_u16(&c, 1);
    uint16_t dport = cursor_u16(&c, 1);
    uint32_t seq = cursor_u32(&c, 1);
    cursor_skip(&c, 4, 1); /* acknowledgment number */
    uint8_t data_offset = cursor_u8(&c, 1) >> 4;
    uint8_t flags = cursor_u8(&c, 1);
    if (c.err != 0) {
        return decode_short(ctx);
    }

    ctx->msg.sport = sport;
    ctx->msg.dport = dport;
    uint8_t handshake = handshake_transport(ctx, flags, dport);
    if (handshake != DNS_TRANSPORT_UDP) {
        return handshake_emit(ctx, handshake);
    }
    if (!decoder_config_has_port(ctx->cfg, sport) && !decoder_config_has_port(ctx->cfg, dport)) {
        return DECODE_SKIP_NOT_DNS;
    }

    /* The data offset counts 32-bit words and covers the options. */
    size_t header_len = (size_t)data_offset * 4;
    if (header_len < TCP_HEADER_MIN || header_len > declared_len) {
        return DECODE_SKIP_MALFORMED;
    }
    c = cursor_init(data, len);
    cursor_skip(&c, header_len, 1);
    if (c.err != 0) {
        return decode_short(ctx);
    }

    struct tcp_segment seg = {
        .seq = seq,
        .flags = flags,
        .data = c.pos,
        .len = cursor_left(&c),
        .declared_len = declared_len - header_len,
    };
    return tcp_stream_segment(ctx, &seg);
}
