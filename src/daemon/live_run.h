/* SPDX-License-Identifier: MIT */
/*
 * live_run.h - "dnsfirst run -i IFACE": a sensor on live interfaces.
 *
 * Threads:
 *   - capture threads, one per (interface, worker), each with its own
 *     libpcap handle in one PACKET_FANOUT group per interface, decode
 *     packets into DNS messages;
 *   - detector shards, one per worker, each owning one detector. A message
 *     goes to the shard chosen by a hash of its client key (the source of a
 *     query, the destination of a response), through a bounded
 *     single-producer single-consumer queue per (capture thread, shard).
 *   - the main thread handles signals, reloads and the stats line; the
 *     store's writer thread commits rows and writes alerts; an optional
 *     metrics thread serves Prometheus text.
 *
 * Why shards and not a client-address BPF fanout: the detector keys on the
 * client prefix (client-prefix-v4/-v6), on the site under scope "site",
 * and on addresses inside tunnels, none of which a classic BPF program over
 * the outer header sees. Hashing the decoded client key gives every
 * (scope, client) pair exactly one deciding thread in every mode, so an
 * alert stays exactly-once without locks on the hot path. Kernel fanout
 * then only needs to keep TCP streams and fragments together, which its
 * symmetric flow hash and PACKET_FANOUT_FLAG_DEFRAG do. With one interface
 * and one worker the capture thread runs the detector itself, with no
 * queue.
 */
#pragma once

#include "daemon/config.h"
#include "daemon/options.h"

/*
 * Run the sensor until SIGINT or SIGTERM. @p cmd, @p argc and @p argv are
 * kept for SIGHUP, which parses them again (config file, then flags).
 * Returns an exit code.
 */
int live_run(const struct command_options *cmd, struct config *cfg, int argc, char **argv);
