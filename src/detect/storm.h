/* SPDX-License-Identifier: MIT */
/*
 * storm.h - alert storm control: aggregated alerts when new clients flood in.
 *
 * Each scope counts its new clients per minute of detector time (capture
 * time, or the wall clock while a live input is idle). The count is a
 * sliding estimate over the last 60 seconds: the previous minute's count,
 * weighted by the part of it still inside the window, plus the current
 * minute's count.
 *
 * States of a scope:
 *
 *   calm  --estimate > threshold--> storm  (the client that crossed it is
 *                                            the first storm client)
 *   storm --estimate <= threshold/2--> calm (checked on every tick)
 *
 * During a storm a new client raises no single alert. Its baseline row is
 * written with STORE_CLIENT_STORM, and once per interval one aggregated
 * alert reports the interval's count, top /24 (IPv4) and /48 (IPv6)
 * prefixes, top ASNs when an ASN lookup is set, and the first clients as
 * samples. The aggregated alert rides on the interval's last storm row,
 * which is held back until the interval ends and then submitted with the
 * alert. The store commits in submission order, so the alert is written
 * only after every row of its interval committed. A storm that ends
 * reports its last partial interval with "ended": true.
 *
 * Confirmation (implemented by the detector): a client recorded during a
 * storm stays flagged until it queries again while its scope is calm. That
 * query treats it as a new client: it raises a single alert and rewrites
 * its row without the flag, with first_seen set to the confirming query.
 *
 * Bounds: a few counters per scope in memory; the aggregation state
 * (about 3 KiB) exists only while the scope is in a storm, for at most
 * STORM_ACTIVE_MAX scopes at once. A scope that would start a storm past
 * that cap keeps single alerts and storm.overflow counts it.
 * Single-threaded: one detector owns one storm.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/addr.h"

#define STORM_RULE_NAME "New External Client DNS Storm"
#define STORM_RULE_ID "dnsfirst-new-external-client-storm"

#define STORM_TOP_MAX 5        /* prefixes and ASNs listed in an aggregated alert */
#define STORM_TRACK_MAX 64     /* prefixes counted per interval (space-saving) */
#define STORM_SAMPLES_MAX 5    /* client keys listed per interval */
#define STORM_ACTIVE_MAX 4096  /* scopes in a storm at once */

struct storm_count {
    struct prefix prefix; /* unused for ASN counts */
    uint32_t asn;
    uint64_t count;
};

/* Contents of one aggregated alert. */
struct storm_report {
    uint32_t scope;
    int64_t started;      /* detector time the storm began, seconds */
    int64_t now;          /* end of the reported interval */
    int64_t interval_s;
    uint64_t count;       /* new clients in this interval */
    uint64_t total;       /* new clients since the storm began */
    bool ended;           /* the last report of this storm */
    size_t top_count;
    struct storm_count top[STORM_TOP_MAX];
    size_t asn_count;
    struct storm_count asns[STORM_TOP_MAX];
    size_t sample_count;
    struct prefix samples[STORM_SAMPLES_MAX];
};

/*
 * Submit a storm client's row, and with it the aggregated alert that
 * @p report describes unless @p report is NULL. Returns 0 or a store error.
 */
typedef int (*storm_submit_fn)(void *ctx, uint32_t scope, const struct store_client *row,
                               const struct storm_report *report);
/* Told when a scope's storm begins (@p started true) or ends, for the log. */
typedef void (*storm_event_fn)(void *ctx, uint32_t scope, bool started,
                               const struct storm_report *report);
/* Optional ASN lookup: sets *asn and returns true when @p client's ASN is known. */
typedef bool (*storm_asn_fn)(void *ctx, const struct prefix *client, uint32_t *asn);

struct storm_rate {
    int64_t minute;       /* current minute of detector time */
    uint32_t current;     /* new clients in that minute */
    uint32_t previous;    /* new clients in the minute before */
    uint32_t active;      /* index + 1 into storm.active, 0 when calm */
};

struct storm_scope;

struct storm {
    uint32_t threshold;   /* new clients per minute; 0 disables storms */
    int64_t interval_s;
    struct storm_rate *rates; /* indexed by scope id */
    uint32_t rate_count;
    struct storm_scope *active[STORM_ACTIVE_MAX];
    uint32_t active_count;
    uint64_t overflow;    /* storms not started: STORM_ACTIVE_MAX reached */
    uint64_t reports;     /* aggregated alerts submitted */

    storm_submit_fn submit;
    storm_event_fn event;
    storm_asn_fn asn_lookup;
    void *ctx;            /* passed to submit and asn_lookup */
    void *event_ctx;      /* passed to event */
};

/* Set up @p st with no scope in a storm. */
void storm_init(struct storm *st, uint32_t threshold, int64_t interval_s,
                storm_submit_fn submit, void *ctx);
void storm_free(struct storm *st);

/* Change the threshold and interval, as after a configuration reload. */
void storm_configure(struct storm *st, uint32_t threshold, int64_t interval_s);

/*
 * Count a new client of @p scope at @p now (seconds). Returns true when the
 * scope is in a storm, including the one this client starts: the caller
 * then hands the row to storm_record() instead of alerting.
 */
bool storm_note_new(struct storm *st, uint32_t scope, int64_t now);

/* Whether @p scope is in a storm now. */
bool storm_active(const struct storm *st, uint32_t scope);

/*
 * Aggregate a storm client of @p scope. The row is held back and the row
 * held before it is submitted. Returns 0 or the submit function's error.
 */
int storm_record(struct storm *st, uint32_t scope, const struct store_client *row,
                 const struct prefix *client);

/*
 * Advance to @p now: submit the aggregated alert of every storm whose
 * interval ended, and end the storms whose rate fell. Returns 0 or the
 * first submit error.
 */
int storm_tick(struct storm *st, int64_t now);

/* End every storm at @p now, submitting its last report. */
int storm_flush(struct storm *st, int64_t now);

/*
 * Write @p r as one JSON alert with ECS names. Returns the length, or 0
 * when @p size is too small.
 */
size_t storm_report_json(const struct storm_report *r, const char *scope_mode,
                         const char *scope_key, bool scope_is_server, char *buf,
                         size_t size);
