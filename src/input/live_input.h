/* SPDX-License-Identifier: MIT */
/*
 * live_input.h - capture from a network interface with libpcap.
 *
 * libpcap on Linux reads through the memory-mapped TPACKET_V3 ring: the
 * kernel fills blocks and hands over a block when it is full or when the
 * block timeout (LIVE_BLOCK_TIMEOUT_MS) expires, so a packet reaches the
 * decoder within about that timeout even on a quiet link. Time stamps are
 * the kernel's receive time at nanosecond precision (CLOCK_REALTIME), so
 * live records carry wall-clock capture time.
 *
 * Several handles on one interface can join a PACKET_FANOUT group: the
 * kernel then spreads packets over them by flow hash, after reassembling
 * IP fragments (PACKET_FANOUT_FLAG_DEFRAG) so that the pieces of a datagram
 * meet on one handle. The flow hash is symmetric (both directions of a flow
 * go to the same handle), but it includes ports, so one client's queries
 * may reach different handles; the caller must not rely on it to keep a
 * client on one thread.
 *
 * A handle belongs to one thread. No logging: errors come back as text.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"

/* Block timeout of the kernel ring, milliseconds. */
#define LIVE_BLOCK_TIMEOUT_MS 100

struct live_options {
    const char *interface;
    const char *filter;      /* pcap filter expression; "" captures everything */
    uint32_t snaplen;
    uint32_t buffer_mib;     /* kernel ring size */
    bool promiscuous;
    uint16_t fanout_group;   /* 0: no fanout; else the PACKET_FANOUT group id */
    uint32_t input_index;    /* dns_origin.input_index of the packets */
};

/* Kernel counters of one handle, from pcap_stats(). */
struct live_stats {
    uint64_t received;       /* packets that passed the filter */
    uint64_t dropped;        /* ps_drop: no room in the ring */
    uint64_t if_dropped;     /* ps_ifdrop: dropped by the interface or driver */
};

typedef void (*live_packet_fn)(void *ctx, const struct packet *pkt);

struct live_input;

/*
 * Open and activate a capture on o->interface, set the filter and join the
 * fanout group. Returns 0, or DF_EPCAP with "IFACE: reason" in @p err.
 */
int live_input_open(const struct live_options *o, struct live_input **out, char *err,
                    size_t err_size);
void live_input_close(struct live_input *in);

/* File descriptor to poll() for readability. */
int live_input_fd(const struct live_input *in);

/*
 * Hand every packet waiting in the ring to @p fn without blocking. Returns
 * the number of packets, or DF_EPCAP with the reason in @p err.
 */
int live_input_dispatch(struct live_input *in, live_packet_fn fn, void *ctx, char *err,
                        size_t err_size);

/*
 * Read the kernel counters. They are cumulative since the open and
 * widened from libpcap's 32-bit counters, which wrap. Returns 0 or DF_EPCAP.
 */
int live_input_stats(struct live_input *in, struct live_stats *out);

/*
 * Write the default filter for @p ports into @p buf: those ports over UDP
 * and TCP, plus IPv4 and IPv6 fragments (which carry no port after the
 * first) and the same ports inside one VLAN tag.
 */
void live_filter_default(const uint16_t *ports, size_t count, char *buf, size_t size);
