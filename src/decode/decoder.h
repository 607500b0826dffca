/* SPDX-License-Identifier: MIT */
/*
 * decoder.h - from a captured frame to DNS messages.
 *
 * The decoder walks the link layer, IP and UDP (and, later, tunnels, IP
 * fragments and TCP streams) and hands each DNS message it finds to a
 * callback. It does no I/O, no logging and no allocation per packet. Every
 * frame that yields no message gets a skip reason; counting is the caller's.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "decode/dns_message.h"

/* Why a frame produced no DNS message. */
enum decode_skip {
    DECODE_OK = 0,           /* at least one message was emitted */
    DECODE_SKIP_NOT_DNS,     /* not IP, not UDP or TCP, no DNS port, or empty TCP segment */
    DECODE_SKIP_MALFORMED,   /* headers or DNS message violate the format */
    DECODE_SKIP_TRUNCATED,   /* the capture stops before the data ends */
    DECODE_SKIP_LINK_TYPE,   /* link type this decoder does not read */
    DECODE_SKIP_FRAGMENT,    /* IP fragment (reassembly not done here) */
    DECODE_SKIP_COUNT,
};

/* Short name of a skip reason, as used in the summary and metrics. */
const char *decode_skip_name(enum decode_skip reason);

/* One frame as the capture library delivers it. */
struct packet {
    int link_type;       /* DLT_* value from libpcap */
    const uint8_t *data;
    uint32_t caplen;     /* bytes captured */
    uint32_t wire_len;   /* bytes on the wire */
    int64_t ts_sec;
    uint32_t ts_nsec;
    struct dns_origin origin;
};

struct decoder_config {
    /* Bit set of the UDP and TCP ports that carry DNS (default: 53). */
    uint8_t dns_ports[65536 / 8];
};

static inline void decoder_config_add_port(struct decoder_config *cfg, uint16_t port)
{
    cfg->dns_ports[port / 8] |= (uint8_t)(1u << (port % 8));
}

static inline int decoder_config_has_port(const struct decoder_config *cfg, uint16_t port)
{
    return (cfg->dns_ports[port / 8] >> (port % 8)) & 1;
}

typedef void (*decoder_emit_fn)(void *ctx, const struct dns_message *msg);

struct decoder;

/* Create a decoder. Returns NULL when out of memory. */
struct decoder *decoder_create(const struct decoder_config *cfg);
void decoder_destroy(struct decoder *dec);

/*
 * Decode one frame and call @p emit for every DNS message in it.
 * Returns DECODE_OK when at least one message was emitted, else the reason
 * the frame was skipped.
 */
enum decode_skip decoder_packet(struct decoder *dec, const struct packet *pkt,
                                decoder_emit_fn emit, void *ctx);
