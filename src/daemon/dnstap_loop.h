/* SPDX-License-Identifier: MIT */
/*
 * dnstap_loop.h - feed dnstap files and sockets to the same callback as
 * captures, with the daemon's logging and counters.
 */
#pragma once

#include <stdint.h>

#include "daemon/config.h"
#include "daemon/summary.h"
#include "decode/decoder.h"

/* Move the detector's clock without a message; @p now_ns is ns since the epoch. */
typedef void (*dnstap_advance_fn)(void *ctx, int64_t now_ns);

/*
 * Read the dnstap files cfg->inputs one after the other, calling @p emit
 * for each query and response. A file that fails is logged with its byte
 * offset and counted; the frames before the failure count. Returns 0.
 */
int dnstap_loop_read_files(const struct config *cfg, decoder_emit_fn emit, void *ctx,
                           struct capture_counters *counters);

/*
 * Listen on every cfg->dnstap endpoint until SIGINT or SIGTERM sets
 * capture_stop_requested. About once a second @p advance moves the clock to
 * the wall clock minus DNSTAP_DELIVERY_LAG_S, so that pending alerts leave
 * while no data arrives. Returns 0, or a negative code when an endpoint
 * cannot be opened or waiting fails (logged).
 */
int dnstap_loop_listen(const struct config *cfg, decoder_emit_fn emit,
                       dnstap_advance_fn advance, void *ctx,
                       struct capture_counters *counters);

/*
 * Servers buffer dnstap before they send it (BIND 9.18 about 2 s, unbound
 * and knot about 1 s), so the idle clock stays this far behind the wall
 * clock to let late responses still match their queries.
 */
#define DNSTAP_DELIVERY_LAG_S 3

/*
 * Alert input names for the endpoints, "dnstap:unix:/run/dnstap.sock",
 * indexed like dns_origin.input_index of the messages dnstap_loop_listen()
 * emits. The array lives until the process exits.
 */
const char *const *dnstap_loop_input_names(const struct config *cfg);
