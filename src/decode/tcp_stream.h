/* SPDX-License-Identifier: MIT */
/*
 * tcp_stream.h - DNS over TCP: per-connection reassembly of the
 * length-prefixed message stream (RFC 1035 4.2.2, RFC 7766 8).
 *
 * A fixed table of connections, each with both directions, and a fixed pool
 * of message buffers, all allocated by tcp_table_create(). See tcp_stream.c
 * for the policies on gaps, retransmissions, mid-stream starts and limits.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "decode/decode_internal.h"

/* A connection with no segment for this many seconds of capture time is dropped. */
#define TCP_IDLE_TIMEOUT_SEC 60

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

/* The part of a TCP segment the stream needs. Addresses and ports are in ctx->msg. */
struct tcp_segment {
    uint32_t seq;
    uint8_t flags;        /* TCP_FLAG_* */
    const uint8_t *data;  /* payload as captured */
    size_t len;
    size_t declared_len;  /* payload length on the wire, >= len */
};

struct tcp_table;

/*
 * Allocate a table for @p flows_max connections and @p buffers_max partial
 * messages. Returns NULL when out of memory.
 */
struct tcp_table *tcp_table_create(unsigned flows_max, unsigned buffers_max,
                                   struct decoder_counters *counters);
void tcp_table_destroy(struct tcp_table *t);

/*
 * Add @p seg to its connection and emit every DNS message it completes.
 * Returns DECODE_OK when one was emitted, else the skip reason.
 */
enum decode_skip tcp_stream_segment(struct decode_ctx *ctx, const struct tcp_segment *seg);
