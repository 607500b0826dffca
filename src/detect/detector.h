/* SPDX-License-Identifier: MIT */
/*
 * detector.h - decide, for every DNS query, whether its client is new.
 *
 * States of a (scope, client) pair, all on capture time:
 *
 *   unknown --query--> learned   (inside the scope's learning period, or --learn)
 *   unknown --query--> new       (alert: held in the pending queue for the
 *                                 response, then submitted with its row)
 *   learned/new --query--> known (last seen and query count updated in
 *                                 memory, flushed to the store periodically)
 *   known --unseen for the expiry--> unknown again
 *
 * A client is external when its address lies outside the internal
 * networks; only external clients' queries to a DNS port are checked. The
 * detector never touches a database: it calls the store interface, and the
 * store writes each alert only after the alert's row has committed.
 */
#pragma once

#include <stdint.h>

#include "daemon/config.h"
#include "decode/dns_message.h"
#include "detect/storm.h"
#include "store/store.h"

/* Alerts waiting for responses at once, per detector. */
#define DETECTOR_PENDING_MAX 16384

struct detector_stats {
    uint64_t queries;
    uint64_t responses;
    uint64_t queries_internal;     /* from clients inside the internal networks */
    uint64_t queries_not_to_server; /* QR=0 but the destination port is no DNS port */
    uint64_t responses_matched;    /* responses that completed a pending alert */
    uint64_t clients_seen;         /* external (scope, client) pairs that queried */
    uint64_t clients_learned;      /* new pairs recorded without an alert */
    uint64_t clients_new;          /* new pairs that raised an alert */
    uint64_t clients_suppressed;   /* new pairs recorded without an alert by allow rules */
    uint64_t clients_expired;      /* pairs forgotten after the expiry */
    uint64_t clients_loaded;       /* pairs loaded from the store at start */
    uint64_t table_full;           /* new pairs dropped: client table at max-clients */
    uint64_t scope_full;           /* queries dropped: too many scopes */
    uint64_t pending_evicted;      /* alerts sent early: pending queue full */
    uint64_t store_errors;         /* submissions the store rejected */
    uint64_t clients_evicted;      /* pairs forgotten in memory to make room */
    uint64_t clients_storm;        /* new pairs recorded during a storm, no single alert */
    uint64_t storm_confirmed;      /* storm pairs that returned after their storm */
    uint64_t storm_alerts;         /* aggregated storm alerts submitted */
};

struct detector;

/* Create a detector that records into @p store. Returns 0 or -ENOMEM. */
int detector_create(const struct config *cfg, struct store *st, struct detector **out);
void detector_destroy(struct detector *det);

/*
 * Keep a snapshot of the client table beside the baseline at @p state_path,
 * in "STATE.clients" (client_snapshot.h): detector_load() reads it instead
 * of the rows when it matches the store's generation, and detector_finish()
 * writes it. Call before detector_load(); without this call there is none.
 */
void detector_use_snapshot(struct detector *det, const char *state_path);

/* The snapshot's path, or NULL when there is none. */
const char *detector_snapshot_path(const struct detector *det);

/*
 * After detector_load(): NULL when the table came from the snapshot, else
 * why it did not. After detector_finish(): NULL when the snapshot was
 * written, else why not.
 */
const char *detector_snapshot_note(const struct detector *det);

/* Load the baseline from the store into memory. Returns 0 or a store error. */
int detector_load(struct detector *det);

/* Name the inputs, indexed by dns_origin.input_index, for the alerts. */
void detector_set_inputs(struct detector *det, const char *const *names, size_t count);

/*
 * Consult @p en (owned by the caller, may be NULL) for allow rules when a
 * client is new, and for the enrichment fields of each alert.
 */
struct enrichment;
void detector_set_enrichment(struct detector *det, struct enrichment *en);

/* Process one decoded message. */
void detector_message(struct detector *det, const struct dns_message *msg);

/*
 * Start loading into the cache the client table slot that a query from
 * @p client to @p server will look up. Capture readers call it a few
 * packets ahead, with what decoder_peek_query() found. It changes nothing,
 * so a wrong guess costs only the load. Returns false when the table is
 * small enough to stay in the cache, because prefetching would then only
 * cost time. The caller may then stop calling for a while.
 */
bool detector_prefetch(const struct detector *det, const struct addr *client,
                       const struct addr *server);

/*
 * Move the detector's clock to @p now_ns (ns since the epoch) without a
 * message: pending alerts whose wait ended leave, and last-seen updates are
 * flushed when due. Live inputs call this when idle, from the wall clock;
 * the clock never goes back.
 */
void detector_advance(struct detector *det, int64_t now_ns);

/*
 * Release every pending alert, flush last-seen updates and prune expired
 * rows, as at the end of the input. Returns 0 or the store's first error.
 */
int detector_finish(struct detector *det);

const struct detector_stats *detector_stats(const struct detector *det);

/* Call @p fn (on the detector's thread) when a scope's storm begins or ends. */
void detector_set_storm_events(struct detector *det, storm_event_fn fn, void *ctx);

/* Text key of scope @p scope_id ("192.0.2.1", or the site name). */
const char *detector_scope_key(struct detector *det, uint32_t scope_id);

/*
 * Switch to @p cfg after a reload. Only settings that may change while
 * running are read again (learning period, expiry, response wait, flush
 * interval, storm threshold and interval); @p cfg must stay valid.
 */
void detector_reconfigure(struct detector *det, const struct config *cfg);

/* Clients in the in-memory table now. */
size_t detector_client_count(const struct detector *det);
