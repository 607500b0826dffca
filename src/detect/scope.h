/* SPDX-License-Identifier: MIT */
/*
 * scope.h - what a client is new to, and how clients are keyed.
 *
 * Under scope "server" a client is new to one server address, so each
 * server address is a scope of its own; under scope "site" every server the
 * sensor watches shares one scope named after the site. Scopes get small
 * integer ids so that the client table stores 4 bytes instead of an
 * address. A scope also remembers when its traffic started, which is when
 * its learning period started.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "daemon/config.h"
#include "store/store.h"
#include "util/addr.h"
#include "util/hash.h"

/* At most this many scopes; past it, queries to further servers are counted and skipped. */
#define SCOPE_MAX 65536

struct scope {
    struct addr server;          /* unset under scope "site" */
    char key[STORE_KEY_MAX];     /* server address text, or the site name */
    int64_t start;               /* capture time of the scope's first query */
    bool start_known;
};

struct scope_registry {
    enum scope_mode mode;
    uint32_t count;
    struct scope *scopes;      /* scopes[0] is unused so that id 0 means "none" */
    uint32_t *index;           /* open addressing: scope id, 0 when empty */
    uint32_t index_mask;
    char site_name[STORE_KEY_MAX];
};

int scope_registry_init(struct scope_registry *reg, enum scope_mode mode, const char *site_name);
void scope_registry_free(struct scope_registry *reg);

/* Index slot of a server address: both 8-byte halves and the family, mixed. */
static inline uint32_t scope_server_slot(const struct scope_registry *reg,
                                         const struct addr *server)
{
    uint64_t low;
    uint64_t high;
    memcpy(&low, server->bytes, 8);
    memcpy(&high, server->bytes + 8, 8);
    uint64_t h = (low ^ server->family) * 0x9e3779b97f4a7c15ULL ^ high * 0xc2b2ae3d27d4eb4fULL;
    return (uint32_t)hash_mix64(h) & reg->index_mask;
}

/*
 * Find or add the scope of @p server as scope_registry_lookup() does, in
 * every case: site mode, probing past the home slot, a new scope.
 */
uint32_t scope_registry_find(struct scope_registry *reg, const struct addr *server,
                             bool *created);

/*
 * Return the id of the scope of @p server when it is known and sits at its
 * home slot, else 0. Never adds a scope, and 0 does not mean that the
 * server is new: scope_registry_find() decides that.
 */
static inline uint32_t scope_registry_peek(const struct scope_registry *reg,
                                           const struct addr *server)
{
    if (reg->mode == SCOPE_SITE) {
        return reg->count > 0 ? 1 : 0;
    }
    uint32_t id = reg->index[scope_server_slot(reg, server)];
    return id != 0 && addr_equal(&reg->scopes[id].server, server) ? id : 0;
}

/*
 * Return the id of the scope that a query to @p server belongs to, creating
 * it when new (*created is then true). Returns 0 when the registry is full.
 * A known server at its home slot, the case of nearly every query, is found
 * here without a call.
 */
static inline uint32_t scope_registry_lookup(struct scope_registry *reg,
                                             const struct addr *server, bool *created)
{
    uint32_t id = scope_registry_peek(reg, server);
    if (id != 0) {
        *created = false;
        return id;
    }
    return scope_registry_find(reg, server, created);
}

/* Return the id of the scope with text key @p key, creating it when new, or 0. */
uint32_t scope_registry_lookup_key(struct scope_registry *reg, const char *key);

static inline struct scope *scope_registry_get(struct scope_registry *reg, uint32_t id)
{
    return &reg->scopes[id];
}

/* Reduce @p client to its key prefix: /client_prefix_v4 or /client_prefix_v6 bits. */
static inline void scope_client_prefix(const struct config *cfg, const struct addr *client,
                                       struct prefix *out)
{
    out->addr = *client;
    out->len = client->family == ADDR_FAMILY_IPV4 ? cfg->client_prefix_v4
                                                  : cfg->client_prefix_v6;
    addr_mask(&out->addr, out->len);
}
