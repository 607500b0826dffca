/* SPDX-License-Identifier: MIT */
/*
 * client_table.h - the known clients, in memory.
 *
 * An open-addressing hash table with linear probing, keyed by (scope id,
 * client prefix). Each slot is 32 bytes, two to a cache line, and the table
 * grows by half when it is 4/5 full, so a known client costs between 40
 * and 60 bytes. A table sized for a loaded baseline starts at a load of
 * 3/4, 43 bytes a client. The capacity need not be a power of two: a key's home
 * slot is the high half of hash * capacity. A table grows into a new array,
 * and from 256 MiB on in place (mremap() and a rehash in the same array),
 * so that a huge table never needs a second copy. Deletion shifts later entries back, so no tombstones slow lookups
 * down.
 *
 * The array of the next growth is mapped when the table is 3/5 full, and
 * a thread faults it in (util/prefault.h) while the table fills to 4/5.
 * The growth does not wait for that thread: pages it has not reached yet
 * fault in where the growth writes them.
 *
 * Bound: at most max_count entries. Insertion into a full table fails; the
 * caller then removes the entry client_table_pick_victim() names and tries
 * again. Single-threaded: one detector owns one table.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/prefault.h"

#define CLIENT_DIRTY 0x01    /* last_seen or queries changed since the last flush */
#define CLIENT_SEEN_RUN 0x02 /* queried during this run */
#define CLIENT_LEARNED 0x04  /* recorded during a learning period */
#define CLIENT_STORM 0x08    /* first seen during an alert storm, not confirmed */

/* Occupied slots client_table_pick_victim() compares. */
#define CLIENT_TABLE_VICTIM_WINDOW 32

struct client_entry {
    uint8_t addr[16];          /* client prefix, host bits zero */
    uint32_t scope;            /* scope id; 0 marks an empty slot */
    uint32_t last_seen;        /* capture time, seconds (unsigned: good to 2106) */
    uint32_t unflushed;        /* queries since the last flush to the store */
    uint8_t family;            /* ADDR_FAMILY_* */
    uint8_t prefix_len;
    uint8_t flags;             /* CLIENT_* */
    uint8_t reserved;          /* 0; used only inside client_table.c while growing */
};

struct client_table {
    struct client_entry *slots;
    uint64_t capacity;  /* slots */
    uint64_t count;
    uint64_t max_count;
    uint64_t seed;
    /* The array of the next growth, faulted in ahead by spare_fault, or NULL. */
    struct client_entry *spare;
    uint64_t spare_capacity;
    struct prefault spare_fault;
};

/* Create an empty table for up to @p max_count clients. Returns 0 or -ENOMEM. */
int client_table_init(struct client_table *t, uint64_t expected, uint64_t max_count);
void client_table_free(struct client_table *t);

/*
 * Grow the table now so that @p expected entries fit without growing again,
 * as before loading a baseline of known size. Returns 0 or -ENOMEM.
 */
int client_table_reserve(struct client_table *t, uint64_t expected);

/*
 * Replace the slots with @p capacity empty ones (at least the minimum of
 * 1024): the table is then empty. Returns 0, or -ENOMEM with the table as
 * it was.
 */
int client_table_reset(struct client_table *t, uint64_t capacity);

/* Return the entry of (@p scope, @p key), or NULL. */
struct client_entry *client_table_find(const struct client_table *t, uint32_t scope,
                                       const struct prefix *key);

/* Start loading the home slot of (@p scope, @p key) into the cache. */
void client_table_prefetch(const struct client_table *t, uint32_t scope,
                           const struct prefix *key);

/*
 * Add (@p scope, @p key), which must not be present. Returns the new entry,
 * zeroed but for its key, or NULL when the table is full or cannot grow.
 */
struct client_entry *client_table_insert(struct client_table *t, uint32_t scope,
                                         const struct prefix *key);

/* Remove @p e, which points into the table. Entries may move. */
void client_table_remove(struct client_table *t, struct client_entry *e);

/* Fill @p out with the key prefix of @p e. */
void client_entry_prefix(const struct client_entry *e, struct prefix *out);

/*
 * Name the entry to evict so that (@p scope, @p key) fits: among the first
 * CLIENT_TABLE_VICTIM_WINDOW occupied slots from the key's home slot, a
 * storm client if any, else the least recently seen. The key's hash makes
 * the window start at a random place. Returns NULL only for an empty table.
 */
struct client_entry *client_table_pick_victim(const struct client_table *t, uint32_t scope,
                                              const struct prefix *key);
