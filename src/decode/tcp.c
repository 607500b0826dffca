/* SPDX-License-Identifier: MIT */
/*
 * tcp.c - DNS over TCP, one segment at a time.
 *
 * DNS over TCP frames every message with a 2-byte length (RFC 1035 4.2.2).
 * This reader handles segments that start at a length prefix and hold whole
 * messages, several of them if the sender packed them together. It does not
 * reassemble streams: a message split over segments, or a segment that
 * starts in the middle of one, is lost.
 *
 * TODO: follow streams by sequence number so that split messages and
 * segments after a lost one decode; tcp_decode() is the place to hook it.
 */
#include "decode/decode_internal.h"
#include "util/cursor.h"

#define TCP_HEADER_MIN 20

/*
 * Emit each length-prefixed message in @p c. Returns DECODE_OK when at
 * least one was emitted, DECODE_SKIP_TRUNCATED when the segment ends inside
 * a message, else the reason the last message was skipped.
 */
static enum decode_skip tcp_messages_decode(struct decode_ctx *ctx, struct cursor *c)
{
    enum decode_skip last = DECODE_SKIP_NOT_DNS;
    unsigned emitted_before = ctx->emitted;

    while (cursor_left(c) > 0) {
        uint16_t len = cursor_u16(c, 1);
        const uint8_t *wire = cursor_bytes(c, len, 1);
        if (c->err != 0) {
            last = DECODE_SKIP_TRUNCATED;
            break;
        }
        last = decode_dns_message(ctx, DNS_TRANSPORT_TCP, wire, len);
    }

    return ctx->emitted > emitted_before ? DECODE_OK : last;
}

enum decode_skip tcp_decode(struct decode_ctx *ctx, const uint8_t *data, size_t len)
{
    struct cursor c = cursor_init(data, len);
    uint16_t sport = cursor_u16(&c, 1);
    uint16_t dport = cursor_u16(&c, 1);
    cursor_skip(&c, 8, 1); /* sequence and acknowledgment numbers */
    uint8_t data_offset = cursor_u8(&c, 1) >> 4;
    if (c.err != 0) {
        return decode_short(ctx);
    }

    if (!decoder_config_has_port(ctx->cfg, sport) && !decoder_config_has_port(ctx->cfg, dport)) {
        return DECODE_SKIP_NOT_DNS;
    }

    /* The data offset counts 32-bit words and covers the options. */
    size_t header_len = (size_t)data_offset * 4;
    if (header_len < TCP_HEADER_MIN) {
        return DECODE_SKIP_MALFORMED;
    }
    c = cursor_init(data, len);
    cursor_skip(&c, header_len, 1);
    if (c.err != 0) {
        return decode_short(ctx);
    }

    /* Handshakes, acknowledgments and FINs carry no data. */
    if (cursor_left(&c) == 0) {
        return DECODE_SKIP_NOT_DNS;
    }

    ctx->msg.sport = sport;
    ctx->msg.dport = dport;
    return tcp_messages_decode(ctx, &c);
}
