/* SPDX-License-Identifier: MIT */
/*
 * capture_loop.h - read the -r files through the decoder, shared by "run"
 * and "decode".
 */
#pragma once

#include <signal.h>

#include "daemon/config.h"
#include "daemon/summary.h"
#include "decode/decoder.h"

/* Set by SIGINT and SIGTERM: the loop stops after the current packet. */
extern volatile sig_atomic_t capture_stop_requested;

/*
 * Install the SIGINT and SIGTERM handlers that set capture_stop_requested,
 * and a SIGHUP handler whose work capture_service() does.
 */
void capture_install_signals(void);

/*
 * Work to run between packets, such as an intel list reload after SIGHUP;
 * NULL runs nothing. The packet thread calls it, so it may swap state that
 * only that thread reads.
 */
typedef void (*capture_between_fn)(void *ctx);
void capture_set_between_packets(capture_between_fn fn, void *ctx);

/* Work to run once after each SIGHUP, such as reopening the alert file. */
void capture_set_hangup(capture_between_fn fn, void *ctx);

/*
 * Run the SIGHUP work if a SIGHUP arrived, then the between-packets work.
 * The file and dnstap loops call it between packets or frames.
 */
void capture_service(void);

/* Create a decoder for the DNS ports and DoH servers of @p cfg, or NULL. */
struct decoder *capture_create_decoder(const struct config *cfg);

/*
 * Called with the client and server of a query a few packets before the
 * query itself is emitted; see detector_prefetch(). Returns false when
 * prefetching does not pay now: the reader then pauses it for
 * PCAP_INPUT_AHEAD_PAUSE packets.
 */
typedef bool (*capture_prefetch_fn)(void *ctx, const struct addr *client,
                                    const struct addr *server);

/*
 * Decode every packet of cfg->inputs in time order, calling @p emit for each
 * DNS message and counting into @p counters. @p prefetch, when not NULL,
 * receives the queries of a capture file ahead of time. Read errors are logged
 * and counted; the other files go on. dnstap files (Frame Streams) go
 * through dnstap_loop_read_files() instead. Returns 0, DF_EPCAP when no
 * file could be opened, or DF_EUSAGE when captures and dnstap files are
 * mixed (logged).
 */
int capture_loop_run(const struct config *cfg, decoder_emit_fn emit,
                     capture_prefetch_fn prefetch, void *ctx,
                     struct capture_counters *counters);
