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

#include "daemon/config.h"
#include "store/store.h"
#include "util/addr.h"

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
    /* Most queries go to a few servers: the last one found skips the hash. */
    struct addr last_server;
    uint32_t last_id;
};

int scope_registry_init(struct scope_registry *reg, enum scope_mode mode, const char *site_name);
void scope_registry_free(struct scope_registry *reg);

/*
 * Return the id of the scope that a query to @p server belongs to, creating
 * it when new (*created is then true). Returns 0 when the registry is full.
 */
uint32_t scope_registry_lookup(struct scope_registry *reg, const struct addr *server,
                               bool *created);

/* Return the id of the scope with text key @p key, creating it when new, or 0. */
uint32_t scope_registry_lookup_key(struct scope_registry *reg, const char *key);

static inline struct scope *scope_registry_get(struct scope_registry *reg, uint32_t id)
{
    return &reg->scopes[id];
}

/* Reduce @p client to its key prefix: /client_prefix_v4 or /client_prefix_v6 bits. */
void scope_client_prefix(const struct config *cfg, const struct addr *client,
                         struct prefix *out);
