/* SPDX-License-Identifier: MIT */
/*
 * decoder.c - from a captured frame to DNS messages: the entry point.
 *
 * decoder_packet() hands the frame to link.c, then ip.c (which reassembles
 * fragments and passes tunnels to tunnel.c), then (for UDP) to
 * decode_dns_message() below or (for TCP) to tcp.c. The message under
 * construction lives on the stack of decoder_packet(). The fragment and TCP
 * tables live in the decoder, so a decoder belongs to one thread.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
enum decode_skip decode_dns_message(struct decode_ctx *ctx, uint8_t transport,
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

/*
 * Zero every field of @p msg except the bytes of qname, then set the time
 * and origin of @p pkt. Every reader of qname stops at qname_len, so the
 * 255 bytes of the name buffer are not cleared per frame. The fields after
 * qname are cleared one by one, which gcc -O2 compiles to a few vector
 * stores where one memset of them compiled to a slower rep stos.
 */
static inline void message_start(struct dns_message *msg, const struct packet *pkt)
{
    memset(msg, 0, offsetof(struct dns_message, qname));
    msg->qname[0] = 0;
    msg->qtype = 0;
    msg->qclass = 0;
    memset(&msg->edns, 0, sizeof(msg->edns));
    msg->records_parsed = false;
    msg->records_offset = 0;
    msg->wire_len = 0;
    msg->wire = NULL;
    memset(&msg->tunnel, 0, sizeof(msg->tunnel));
    memset(&msg->observer, 0, sizeof(msg->observer));
    msg->ts_sec = pkt->ts_sec;
    msg->ts_nsec = pkt->ts_nsec;
    msg->origin = pkt->origin;
}

enum decode_skip decoder_packet(struct decoder *dec, const struct packet *pkt,
                                decoder_emit_fn emit, void *ctx)
{
    struct decode_ctx dctx;
    dctx.cfg = &dec->cfg;
    dctx.pkt = pkt;
    dctx.frags = dec->frags;
    dctx.tcp = dec->tcp;
    dctx.counters = &dec->counters;
    dctx.depth = 0;
    dctx.emit = emit;
    dctx.emit_arg = ctx;
    dctx.emitted = 0;

    message_start(&dctx.msg, pkt);

    struct link_payload net;
    enum decode_skip ret = link_decode(pkt, &net);
    if (ret != DECODE_OK) {
        return ret;
    }
    return ip_decode(&dctx, &net);
}
