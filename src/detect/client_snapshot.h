/* SPDX-License-Identifier: MIT */
/*
 * client_snapshot.h - the client table and its scopes in one file, to
 * start without reading every row of the baseline.
 *
 * A snapshot is a cache of the baseline, never its truth. It records the
 * store's generation at the moment it was written, and is used only while
 * the store still has that generation: any later change of clients or
 * scopes (a batch of the writer, forget, prune, import) makes it stale.
 *
 * File layout, in the byte order of the machine that wrote it (a file from
 * a machine of the other order fails the version check):
 *
 *   header      struct client_snapshot_header, 136 bytes
 *   scopes      scope_count keys of STORE_KEY_MAX bytes, ids 1, 2, ...
 *   groups      one per 64 table slots, in slot order: a 64-bit word with
 *               bit i set when slot 64 * group + i is occupied, then one
 *               record per set bit, in bit order
 *
 * A record is the scope id and last-seen time (32 bits each), the flags,
 * family and prefix length (a byte each), then the address: 4 bytes for
 * IPv4, 16 for IPv6. Each record goes back into the slot it came from, so
 * a read hashes no key. The file carries only occupied slots, because it
 * goes through the page cache at the end of every run: on the 10M-packet
 * benchmark capture it is about a third of the table's size.
 *
 * A checksum covers everything after the header, and every record is
 * checked (scope id, flags, family, length) before use, so a damaged file
 * is rejected, never trusted.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "detect/client_table.h"
#include "detect/scope.h"

#define CLIENT_SNAPSHOT_MAGIC "DNSFCLNT"
#define CLIENT_SNAPSHOT_VERSION 2
#define CLIENT_SNAPSHOT_SUFFIX ".clients"

struct client_snapshot_header {
    char magic[8];
    uint32_t version;
    uint32_t slot_size;     /* sizeof(struct client_entry) of the writer */
    uint64_t generation;    /* the store's generation when written */
    uint64_t capacity;      /* slots in the file */
    uint64_t count;         /* occupied slots */
    uint64_t seed;          /* the table's hash seed */
    uint32_t scope_mode;    /* enum scope_mode */
    uint32_t scope_count;
    uint64_t checksum;      /* of everything after the header */
    char site_name[STORE_KEY_MAX];
    uint64_t body_size;     /* bytes after the header */
};

/*
 * Write @p t and the scope keys of @p reg to @p path with @p generation:
 * into "PATH.tmp", then renamed over @p path, without fsync(). Only
 * the LEARNED and STORM flags are kept, as a load from the rows would set
 * them. Returns 0 or -errno. On failure @p path is left as it was.
 */
int client_snapshot_write(const char *path, const struct client_table *t,
                          const struct scope_registry *reg, uint64_t generation);

/*
 * The same write in steps, so that the caller can do other work between
 * them: client_snapshot_begin() opens "PATH.tmp" and writes the scopes,
 * client_snapshot_add() writes the slots before @p end that are not
 * written yet (whole groups of 64), and client_snapshot_commit() writes
 * the rest with @p generation and renames the file over @p path. Between
 * the steps only what the file does not keep may change (query counts,
 * flags other than LEARNED and STORM). A changed count or capacity makes
 * the commit fail with -EINVAL. client_snapshot_abort() removes the file
 * instead. Commit and abort free @p w; the others return 0 or -errno.
 */
struct client_snapshot_writer;

int client_snapshot_begin(const char *path, const struct client_table *t,
                          const struct scope_registry *reg, struct client_snapshot_writer **w);
int client_snapshot_add(struct client_snapshot_writer *w, uint64_t end);

/*
 * Start a thread that writes the slots before each end given to
 * client_snapshot_ready(), slots that must not change after. Commit and
 * abort wait for it. Returns 0, or -errno when no thread starts, and then
 * client_snapshot_ready() writes the slots itself.
 */
int client_snapshot_follow(struct client_snapshot_writer *w);
void client_snapshot_ready(struct client_snapshot_writer *w, uint64_t end);
int client_snapshot_commit(struct client_snapshot_writer *w, uint64_t generation);
void client_snapshot_abort(struct client_snapshot_writer *w);

/*
 * Read @p path into @p t, which must be empty, and register its scopes in
 * @p reg, which must be empty, when the file is whole and was written at
 * @p generation for the mode and site of @p reg. On failure returns a
 * negative code and points *reason at a short text ("stale: ...",
 * "bad checksum", ...). @p t is then empty again, and @p reg may contain some
 * scopes: free and initialize it again before using it.
 */
int client_snapshot_read(const char *path, uint64_t generation, struct client_table *t,
                         struct scope_registry *reg, const char **reason);
