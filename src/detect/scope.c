/* SPDX-License-Identifier: MIT */
#include "detect/scope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define SCOPE_INDEX_SIZE (SCOPE_MAX * 2)

int scope_registry_init(struct scope_registry *reg, enum scope_mode mode, const char *site_name)
{
    memset(reg, 0, sizeof(*reg));
    reg->mode = mode;
    snprintf(reg->site_name, sizeof(reg->site_name), "%s", site_name);
    reg->scopes = calloc(SCOPE_MAX + 1, sizeof(*reg->scopes));
    reg->index = calloc(SCOPE_INDEX_SIZE, sizeof(*reg->index));
    if (reg->scopes == NULL || reg->index == NULL) {
        scope_registry_free(reg);
        return -ENOMEM;
    }
    reg->index_mask = SCOPE_INDEX_SIZE - 1;
    return 0;
}

void scope_registry_free(struct scope_registry *reg)
{
    free(reg->scopes);
    free(reg->index);
    reg->scopes = NULL;
    reg->index = NULL;
}

static uint32_t scope_add(struct scope_registry *reg, const struct addr *server, const char *key)
{
    if (reg->count >= SCOPE_MAX) {
        return 0;
    }
    uint32_t id = ++reg->count;
    struct scope *s = &reg->scopes[id];
    if (server != NULL) {
        s->server = *server;
    }
    snprintf(s->key, sizeof(s->key), "%s", key);
    return id;
}

/*
 * Add the scope of a new server address at index slot @p slot. Kept out of
 * line so that the lookup, which runs for every query, saves no registers
 * for the text formatting done here.
 */
__attribute__((noinline)) static uint32_t server_add(struct scope_registry *reg,
                                                     const struct addr *server, uint32_t slot,
                                                     bool *created)
{
    char key[ADDR_TEXT_MAX];
    addr_format(server, key, sizeof(key));
    uint32_t id = scope_add(reg, server, key);
    reg->index[slot] = id;
    *created = id != 0;
    return id;
}

/* Find or add the scope of one server address (scope "server"). */
static uint32_t lookup_server(struct scope_registry *reg, const struct addr *server,
                              bool *created)
{
    for (uint32_t i = scope_server_slot(reg, server);; i = (i + 1) & reg->index_mask) {
        uint32_t id = reg->index[i];
        if (id == 0) {
            return server_add(reg, server, i, created);
        }
        if (addr_equal(&reg->scopes[id].server, server)) {
            return id;
        }
    }
}

uint32_t scope_registry_find(struct scope_registry *reg, const struct addr *server,
                             bool *created)
{
    *created = false;
    if (reg->mode == SCOPE_SITE) {
        if (reg->count == 0) {
            *created = true;
            return scope_add(reg, NULL, reg->site_name);
        }
        return 1;
    }
    return lookup_server(reg, server, created);
}

uint32_t scope_registry_lookup_key(struct scope_registry *reg, const char *key)
{
    bool created = false;
    if (reg->mode == SCOPE_SITE) {
        if (strcmp(key, reg->site_name) != 0) {
            return 0;
        }
        return scope_registry_find(reg, NULL, &created);
    }

    struct addr server;
    if (addr_parse(key, &server) != 0) {
        return 0;
    }
    return lookup_server(reg, &server, &created);
}
