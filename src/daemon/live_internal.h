/* SPDX-License-Identifier: MIT */
/*
 * live_internal.h - state shared by live_run.c (threads) and live_ops.c
 * (reload, metrics, memory budget, summary). See live_run.h for the design.
 *
 * Ownership: each capture thread alone touches its live_input, decoder and
 * counters; each shard thread alone touches its detector and cfg. Other
 * threads read only the snapshots, under snap_lock, which the owners
 * refresh every LIVE_TICK_NS.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/config.h"
#include "daemon/live_run.h"
#include "daemon/summary.h"
#include "decode/decoder.h"
#include "detect/detector.h"
#include "enrich/enrichment.h"
#include "input/live_input.h"
#include "output/sink.h"
#include "store/store.h"

#define LIVE_TICK_NS (200 * 1000000LL)   /* idle clock, snapshots, signal wait */
#define LIVE_QUEUE_CAPACITY 4096u        /* messages per shard queue, a power of two */
#define LIVE_BATCH 256u                  /* messages a shard takes per queue per pass */
#define LIVE_IDLE_SLEEP_NS 1000000L      /* a shard with empty queues sleeps 1 ms */
#define LIVE_FULL_SLEEP_NS 50000L        /* a producer facing a full queue sleeps 50 us */
#define LIVE_BASE_MEMORY_MIB 32u         /* estimate: code, SQLite cache, stacks, storms */

struct live;

/* Bounded single-producer single-consumer ring of decoded messages. */
struct msg_queue {
    _Atomic uint64_t head; /* next slot to read, written by the consumer */
    _Atomic uint64_t tail; /* next slot to write, written by the producer */
    struct dns_message *slots;
};

struct shard {
    struct live *live;
    uint32_t index;
    struct detector *det;
    struct enrichment *enrichment;      /* this shard's own, or NULL when none is configured */
    atomic_bool intel_reload;           /* SIGHUP asked for the intel lists again */
    struct config *cfg;                 /* this shard's copy */
    _Atomic(struct config *) next_cfg;  /* a reload waiting to be taken */
    struct msg_queue *queues;           /* one per capture thread */
    int64_t last_tick_ns;
    pthread_t thread;

    pthread_mutex_t snap_lock;
    struct detector_stats snap;
    uint64_t snap_clients;
};

struct capture {
    struct live *live;
    uint32_t index;
    const char *interface;
    struct live_input *in;
    struct decoder *dec;
    struct shard *inline_shard;         /* set when this thread runs the detector */
    struct capture_counters counters;
    uint64_t queue_waits;               /* pushes that found the shard queue full */
    uint64_t queue_dropped;             /* messages dropped at shutdown, queue full */
    int64_t last_tick_ns;
    pthread_t thread;

    pthread_mutex_t snap_lock;
    struct capture_counters snap;
    struct live_stats kernel;
    uint64_t snap_queue_waits;
};

struct live {
    struct config *cfg;       /* the main thread's config */
    const struct command_options *cmd;
    int argc;
    char **argv;
    struct sink *sink;
    pthread_mutex_t sink_lock; /* the store's writer and a reopen on SIGHUP */
    struct store *store;
    struct capture *captures;
    uint32_t capture_count;
    uint32_t captures_started;
    struct shard *shards;
    uint32_t shard_count;
    uint32_t shards_started;
    bool inline_mode;         /* one capture thread that also detects */
    char **input_names;
    struct metrics_server *metrics;

    atomic_bool stopping;
    atomic_bool captures_done;
    atomic_bool failed;
    atomic_uint storms_active;
    int64_t started_ns;
};

/* Wall clock, ns since the epoch. */
int64_t live_wall_ns(void);

/*
 * Derive the table caps from memory-limit (when set) and log them.
 * Returns 0, or DF_ECONFIG (logged) when the limit is too small.
 */
int live_apply_memory_limit(struct live *lv);

/* A heap copy of @p cfg for one shard: storm-threshold divided among shards. */
struct config *live_shard_config(const struct live *lv, const struct config *cfg);

/* Reload the config on SIGHUP and reopen the alert file; every outcome is logged. */
void live_reload(struct live *lv);

/* Write the periodic stats line. */
void live_log_stats(const struct live *lv);

/* Write the Prometheus text (metrics thread). */
void live_metrics_render(void *ctx, FILE *out);

/* Print the end-of-run summary with the kernel's drop counters. */
void live_print_summary(struct live *lv, FILE *out);
