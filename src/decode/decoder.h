/* SPDX-License-Identifier: MIT */
/*
 * decoder.h - from a captured frame to DNS messages.
 *
 * The decoder walks the link layer, IP (reassembling fragments), tunnels and
 * UDP or TCP (following streams) and hands each DNS message it finds to a
 * callback. It does no I/O, no logging and no allocation per packet: the
 * fragment and TCP tables are allocated, with fixed caps, by
 * decoder_create(). Every frame that yields no message gets a skip reason,
 * which the caller counts. The decoder keeps state between frames, so each
 * thread needs its own decoder.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/dns_message.h"
#include "util/addr.h"

/* Why a frame produced no DNS message. */
enum decode_skip {
    DECODE_OK = 0,           /* at least one message was emitted */
    DECODE_SKIP_NOT_DNS,     /* not IP, not UDP or TCP, no DNS port, or empty TCP segment */
    DECODE_SKIP_MALFORMED,   /* headers or DNS message violate the format */
    DECODE_SKIP_TRUNCATED,   /* the capture stops before the data ends */
    DECODE_SKIP_LINK_TYPE,   /* link type this decoder does not read */
    DECODE_SKIP_FRAGMENT,    /* IP fragment held for reassembly, or dropped */
    DECODE_SKIP_TCP_REASSEMBLY, /* TCP data buffered, retransmitted, or dropped while out of sync */
    DECODE_SKIP_TUNNEL,      /* encapsulation nested deeper than the decoder follows */
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

#define DECODER_DOH_SERVERS_MAX 16

/*
 * Decoder settings. A zero cap selects its default, so a config cleared
 * with memset() and given its ports is complete.
 */
struct decoder_config {
    /* Bit set of the UDP and TCP ports that carry DNS (default: 53). */
    uint8_t dns_ports[65536 / 8];

    /* DNS over HTTPS servers: a TCP SYN to port 443 of one of them is
     * reported as a DNS_TRANSPORT_DOH message. */
    struct addr doh_servers[DECODER_DOH_SERVERS_MAX];
    unsigned doh_server_count;

    /* IP datagrams reassembled at the same time (default 64). Each one
     * takes a 64 KiB buffer allocated by decoder_create(). */
    unsigned fragment_datagrams_max;
    /* TCP connections followed at the same time (default 4096). */
    unsigned tcp_flows_max;
    /* TCP directions that may hold a partial message at the same time
     * (default 64). Each one takes a 64 KiB buffer. */
    unsigned tcp_buffers_max;
};

/*
 * Counters of the stateful layers, read with decoder_counters(). Fields
 * marked "now" are current levels. All others only grow.
 */
struct decoder_counters {
    /* IP fragment reassembly (RFC 791, RFC 8200). */
    uint64_t fragments;             /* fragments received */
    uint64_t fragments_held_now;    /* fragments stored in unfinished datagrams */
    uint64_t fragment_datagrams_now; /* datagrams being reassembled */
    uint64_t fragment_bytes_now;    /* payload bytes stored in them */
    uint64_t fragments_reassembled; /* datagrams completed */
    uint64_t fragments_evicted;     /* datagrams dropped to make room */
    uint64_t fragments_timed_out;   /* datagrams dropped after the timeout */
    uint64_t fragments_overlapping; /* datagrams dropped for conflicting overlaps */
    uint64_t fragments_invalid;     /* fragments past 64 KiB or past the end */

    /* DNS over TCP streams (RFC 1035 4.2.2, RFC 7766). */
    uint64_t tcp_flows;             /* connections followed */
    uint64_t tcp_flows_now;         /* connections followed now */
    uint64_t tcp_flows_evicted;     /* dropped to make room for a new one */
    uint64_t tcp_flows_timed_out;   /* dropped after the idle timeout */
    uint64_t tcp_flows_closed;      /* ended by FIN in both directions or RST */
    uint64_t tcp_messages;          /* DNS messages taken from streams */
    uint64_t tcp_bytes_dropped;     /* stream bytes never parsed as DNS */
    uint64_t tcp_retransmitted;     /* segments whose data was seen before */
    uint64_t tcp_gaps;              /* missing stream data that forced a resync */
    uint64_t tcp_buffers_taken;     /* partial messages dropped to free a buffer */

    /* Tunnels and encrypted DNS handshakes. */
    uint64_t tunnels;               /* encapsulation headers removed */
    uint64_t tunnels_too_deep;      /* frames nested deeper than the limit */
    uint64_t dot_handshakes;        /* SYNs to port 853 */
    uint64_t doh_handshakes;        /* SYNs to port 443 of a DoH server */
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

/*
 * Create a decoder and its fragment and TCP tables.
 * Returns NULL when out of memory.
 */
struct decoder *decoder_create(const struct decoder_config *cfg);
void decoder_destroy(struct decoder *dec);

/* Counters of @p dec, valid until decoder_destroy(). */
const struct decoder_counters *decoder_counters(const struct decoder *dec);

/*
 * Decode one frame and call @p emit for every DNS message in it.
 * Returns DECODE_OK when at least one message was emitted, else the reason
 * the frame was skipped.
 */
enum decode_skip decoder_packet(struct decoder *dec, const struct packet *pkt,
                                decoder_emit_fn emit, void *ctx);

/*
 * Guess, without decoding, whether @p pkt is a DNS query over UDP in the
 * usual frame: untagged Ethernet, IPv4 without options or IPv6, a DNS
 * destination port and the QR bit clear. If so, set *client and *server to
 * its source and destination and return true. Changes no state and counts
 * nothing, because a reader calls it a few packets ahead of
 * decoder_packet() to prefetch what the query will need.
 */
bool decoder_peek_query(const struct decoder *dec, const struct packet *pkt,
                        struct addr *client, struct addr *server);
