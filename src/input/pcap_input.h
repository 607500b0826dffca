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
typedef void (*pcap_input_error_fn)(void *ctx, const char *message);

/*
 * Deliver every packet, in time order, to @p on_packet until the files end
 * or *stop becomes non-zero. A file that fails is reported once through
 * @p on_error and the others go on. A single classic pcap file is read in
 * place through pcap_map. pcapng, pipes and the files pcap_map leaves to
 * libpcap go through pcap_dispatch(), which costs less per packet than
 * pcap_next_ex(). Several files go through pcap_input_next() to be merged.
 */
void pcap_input_run(struct pcap_input *in, pcap_input_packet_fn on_packet,
                    pcap_input_error_fn on_error, void *ctx, volatile sig_atomic_t *stop);
