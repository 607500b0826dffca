/* SPDX-License-Identifier: MIT */
/*
 * pcap_input.h - read one or more capture files as one stream in time order.
 *
 * Files are opened with libpcap, so pcap (either byte order, micro- or
 * nanosecond resolution) and pcapng (several interfaces with different link
 * types) all work. Several files are merged by capture time, the only clock
 * the detector uses. Time stamps are read at nanosecond precision.
 *
 * A file that fails mid-way (a record cut short, a record length beyond the
 * snapshot length) ends that file only: pcap_input_next() reports the error
 * once, with the file and byte offset, and the other files go on.
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"

struct pcap_input;

/*
 * Open every file in @p paths. On failure writes "PATH: reason" into @p err
 * and returns DF_EPCAP; nothing stays open.
 */
int pcap_input_open(const char *const *paths, size_t count, struct pcap_input **out,
                     char *err, size_t err_size);
void pcap_input_close(struct pcap_input *in);

/*
 * Fetch the packet with the earliest capture time across all files.
 * Returns 1 with *pkt filled (valid until the next call), 0 when every file
 * is done, or DF_EPCAP when one file failed: the reason is in @p err, that
 * file is closed, and the next call continues with the others.
 */
int pcap_input_next(struct pcap_input *in, struct packet *pkt, char *err, size_t err_size);

typedef void (*pcap_input_packet_fn)(void *ctx, const struct packet *pkt);
typedef bool (*pcap_input_ahead_fn)(void *ctx, const struct packet *pkt);
typedef void (*pcap_input_error_fn)(void *ctx, const char *message);

/* Packets between on_ahead() and on_packet() of the same packet. */
#define PCAP_INPUT_AHEAD 8
/* Packets read without on_ahead() after it returned false. */
#define PCAP_INPUT_AHEAD_PAUSE 65536

struct pcap_input_handlers {
    pcap_input_packet_fn on_packet;
    /*
     * Optional: called with each packet PCAP_INPUT_AHEAD packets before
     * on_packet gets it, so that the caller can prefetch what the packet
     * will need. When it returns false, the next PCAP_INPUT_AHEAD_PAUSE
     * packets go to on_packet alone, at the cost of a read without the
     * look-ahead. Only a file read through pcap_map is read ahead.
     */
    pcap_input_ahead_fn on_ahead;
    pcap_input_error_fn on_error;
    void *ctx;
};

/*
 * Deliver every packet, in time order, to handlers->on_packet until the
 * files end or *stop becomes non-zero. A file that fails is reported once
 * through on_error, after the packets before the damage, and the others go
 * on. A single classic pcap file is read in place through pcap_map.
 * pcapng, pipes and the files pcap_map leaves to libpcap go through
 * pcap_dispatch(), which costs less per packet than pcap_next_ex().
 * Several files go through pcap_input_next() to be merged.
 */
void pcap_input_run(struct pcap_input *in, const struct pcap_input_handlers *handlers,
                    volatile sig_atomic_t *stop);
