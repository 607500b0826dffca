/* SPDX-License-Identifier: MIT */
/*
 * store.h - the baseline store interface.
 *
 * The baseline records, per scope and client key, when the client was first
 * and last seen, how many queries it sent and its first query name. The
 * detector keeps the hot part in memory; a store keeps all of it on disk
 * (SQLite) or shared between sensors (Redis).
 *
 * Writes are asynchronous: the packet path submits rows and returns at once,
 * the store commits them in batches on its own thread, and only after a row
 * has committed does the store hand its alert (if any) to the alert sink. A
 * crash can therefore repeat an alert, never lose one: alerts that committed
 * but were not yet written are kept in an outbox and written on the next
 * start.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"

#define STORE_KEY_MAX 64  /* scope and client keys are short text */
#define STORE_NAME_MAX 1024 /* first query name, presentation form */

/* Flags of a baseline row. */
#define STORE_CLIENT_LEARNED 0x1 /* recorded during a learning period, no alert */
#define STORE_CLIENT_STORM 0x2   /* first seen during an alert storm, not yet confirmed */

/* One client of the baseline. */
struct store_client {
    char scope[STORE_KEY_MAX];  /* server address, or the site name */
    char client[STORE_KEY_MAX]; /* client prefix, "192.0.2.7/32" */
    int64_t first_seen;         /* capture time, seconds */
    int64_t last_seen;
    uint64_t query_count;
    uint32_t flags;             /* STORE_CLIENT_* */
    char first_query[STORE_NAME_MAX];
};

/* Effect of a submitted change on its client's row. */
enum store_change_kind {
    STORE_CHANGE_NEW = 1,  /* insert or replace the row */
    STORE_CHANGE_SEEN = 2, /* raise last_seen and add to query_count */
};

/*
 * One change of a client's row, as the packet path submits it. The client
 * key stays a binary prefix and the first query name stays in wire form:
 * the store's writer thread turns them into text, so the packet path
 * formats nothing. Rows that exist only as text (storm rows, tests) set
 * client_text and first_query instead. Pointers need to stay valid only
 * during the submit call.
 */
struct store_change {
    enum store_change_kind kind;
    const char *scope;          /* scope key text */
    struct prefix client;       /* the client key, unless client_text is set */
    const char *client_text;    /* the key as text, or NULL to format client */
    int64_t first_seen;         /* NEW only */
    int64_t last_seen;
    uint64_t query_count;       /* NEW: the row's count; SEEN: queries to add */
    uint32_t flags;             /* STORE_CLIENT_*, NEW only */
    const uint8_t *first_qname; /* NEW: first query name in wire form, or NULL */
    uint8_t first_qname_len;
    const char *first_query;    /* NEW without first_qname: the name as text, or NULL */
};

struct store_stats {
    uint64_t clients;
    uint64_t scopes;
    uint64_t learned;       /* rows learned and not storm rows */
    uint64_t storm;         /* rows first seen during an alert storm */
    uint64_t outbox;        /* alerts committed and not yet written */
    int64_t oldest_first_seen;
    int64_t newest_last_seen;
};

/*
 * Called with each alert after its client row committed: on the store's
 * writer thread, or on the caller's thread during replay_outbox. A non-zero
 * return keeps that alert and the ones after it in the outbox for the next
 * start, and puts the store into its error state.
 */
typedef int (*store_alert_fn)(void *ctx, const char *alert_json, size_t len);
/* Called once per row by load, list and export. A non-zero return stops the walk. */
typedef int (*store_client_fn)(void *ctx, const struct store_client *row);
/*
 * Called by import for the next row to merge: fills @p row and returns 1,
 * returns 0 at the end of the input, or a negative code to cancel the import.
 */
typedef int (*store_row_reader_fn)(void *ctx, struct store_client *row);

struct store;

struct store_ops {
    const char *name;
    /*
     * Call @p fn for every client, for loading the detector's table. Only
     * scope, client, last_seen and flags are filled. first_seen and
     * query_count are 0 and first_query is empty, because detection does not
     * need them and reading fewer columns keeps a load of millions of rows
     * fast. Use list for whole rows.
     */
    int (*load)(struct store *st, store_client_fn fn, void *ctx);
    /* Read and write the start of each scope's traffic (learning period). */
    int (*scope_start_get)(struct store *st, const char *scope, int64_t *start);
    int (*scope_start_set)(struct store *st, const char *scope, int64_t start);
    /*
     * Queue a change and, unless @p alert_json is NULL, its alert (NEW
     * only). Blocks while the queue is full (the wait is counted).
     */
    int (*submit)(struct store *st, const struct store_change *change,
                  const char *alert_json, size_t alert_len);
    /* Wait until everything queued so far committed and its alerts were written. */
    int (*sync)(struct store *st);
    /* Write the alerts left in the outbox by an earlier run, oldest first. */
    int (*replay_outbox)(struct store *st);
    /* Walk all rows in (scope, client) order. */
    int (*list)(struct store *st, store_client_fn fn, void *ctx);
    int (*stats)(struct store *st, struct store_stats *out);
    /*
     * Read the generation, a number that changes with every committed
     * change of clients or scopes. DF_ENOTFOUND when the store keeps none.
     * May be NULL.
     */
    int (*generation)(struct store *st, uint64_t *out);
    /* Remove every row whose client key contains @p address. Sets *removed. */
    int (*forget)(struct store *st, const char *address, uint64_t *removed);
    /* Remove rows last seen before @p before. Sets *removed. */
    int (*prune)(struct store *st, int64_t before, uint64_t *removed);
    /* Remove rows with any of @p flags set (STORE_CLIENT_*). Sets *removed. */
    int (*prune_flagged)(struct store *st, uint32_t flags, uint64_t *removed);
    /*
     * Insert or merge one row: the earliest first_seen (with its first_query
     * and flags), the latest last_seen and the larger query_count win.
     */
    int (*import_row)(struct store *st, const struct store_client *row);
    /*
     * Merge every row @p next returns, as import_row does, in one
     * transaction: when @p next or a write fails, nothing is applied.
     * Sets *imported to the number of rows merged.
     */
    int (*import)(struct store *st, store_row_reader_fn next, void *ctx,
                  uint64_t *imported);
    void (*close)(struct store *st);
};

/*
 * Counters of the store's writer, read by the summary. The writer thread
 * updates them with relaxed atomic adds, so a reader on another thread gets
 * each value whole but not a consistent set.
 */
struct store_counters {
    uint64_t rows_committed;
    uint64_t transactions;
    uint64_t queue_full_waits; /* times the packet path waited for the writer */
    uint64_t alerts_written;
    uint64_t outbox_replayed;
    uint64_t changes_merged;   /* recorded writes folded into the baseline table */
    uint64_t checkpoints;      /* background copies of the store's log into its file */
};

struct store {
    const struct store_ops *ops;
    store_alert_fn alert_fn;
    void *alert_ctx;
    struct store_counters counters;
};

/* Queue a whole row given as text, and its alert unless @p alert_json is NULL. */
static inline int store_submit_row(struct store *st, const struct store_client *row,
                                   const char *alert_json, size_t alert_len)
{
    struct store_change c = {
        .kind = STORE_CHANGE_NEW,
        .scope = row->scope,
        .client_text = row->client,
        .first_seen = row->first_seen,
        .last_seen = row->last_seen,
        .query_count = row->query_count,
        .flags = row->flags,
        .first_query = row->first_query,
    };
    return st->ops->submit(st, &c, alert_json, alert_len);
}

/* Queue a last-seen update of a client given as text. */
static inline int store_submit_seen(struct store *st, const char *scope, const char *client,
                                    int64_t last_seen, uint64_t queries)
{
    struct store_change c = {
        .kind = STORE_CHANGE_SEEN,
        .scope = scope,
        .client_text = client,
        .last_seen = last_seen,
        .query_count = queries,
    };
    return st->ops->submit(st, &c, NULL, 0);
}
