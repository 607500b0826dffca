/* SPDX-License-Identifier: MIT */
/*
 * client_domain.h - clients keyed by the registrable domain of their
 * reverse name (client-key ptr-domain).
 *
 * A provider's resolvers query from many addresses whose reverse names
 * share one registrable domain ("a.resolvers.example.net" and
 * "b.resolvers.example.net" are both "example.net"). Under ptr-domain such
 * a client counts once: its key in the client table has family
 * ADDR_FAMILY_NAME, prefix length 0, and a 128-bit hash of the folded
 * domain in its 16 address bytes. Which key a query gets depends on the
 * PTR cache at that moment: a client whose name is not cached yet is
 * keyed by its address prefix, as under client-key address.
 *
 * The hash cannot be turned back into text, so this registry keeps the
 * text of every domain key for the store rows and alerts. It is an
 * open-addressing table that grows by doubling at 3/4 full, 80 bytes per
 * domain, up to max_count domains; it never shrinks. A domain that would
 * pass max_count, or whose hash collides with another domain's, is not
 * registered and its clients keep their address keys. Single-threaded,
 * like the detector that owns it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "detect/scope.h"
#include "enrich/enrichment.h"
#include "store/store.h"
#include "util/addr.h"

#define CLIENT_DOMAIN_HASH_LEN 16

struct client_domain_entry {
    uint8_t hash[CLIENT_DOMAIN_HASH_LEN]; /* as in the key; all zero marks an empty slot */
    char text[STORE_KEY_MAX];             /* folded domain, "example.net" */
};

struct client_domains {
    struct client_domain_entry *slots; /* NULL until the first domain */
    uint64_t mask;                     /* capacity - 1 */
    uint64_t count;
    uint64_t max_count;
};

/* Start an empty registry of at most @p max_count domains; allocates nothing yet. */
void client_domains_init(struct client_domains *d, uint64_t max_count);
void client_domains_free(struct client_domains *d);

/*
 * Fold @p domain (ASCII lowercase, no trailing dot), register it, and fill
 * @p out with its key. Returns 0; DF_EPARSE when the folded text is empty,
 * 64 bytes or longer, parses as an address prefix or contains '/' or ':'
 * (the store could not distinguish it from an address key), or
 * collides with a registered domain; -ENOSPC at max_count; -ENOMEM.
 */
int client_domains_key(struct client_domains *d, const char *domain, struct prefix *out);

/*
 * Fill @p out with the domain key of @p client when @p en caches a reverse
 * name for it with a registrable domain. Returns 0, or a negative code when
 * the client keeps its address key.
 */
int client_domains_key_of(struct client_domains *d, struct enrichment *en,
                          const struct addr *client, struct prefix *out);

/*
 * Write the text of @p key into @p buf, NUL-terminated: the domain of a
 * domain key, else "address/len" as client_key_format() writes it.
 * Returns the length written.
 */
size_t client_domains_format(const struct client_domains *d, const struct prefix *key,
                             char *buf, size_t size);

/*
 * Fill @p out with the key of a query from @p client: its domain key under
 * client-key ptr-domain when one is known now, else its address prefix.
 */
static inline void client_domains_derive(struct client_domains *d, const struct config *cfg,
                                         struct enrichment *en, const struct addr *client,
                                         struct prefix *out)
{
    if (cfg->client_key == CLIENT_KEY_PTR_DOMAIN &&
        client_domains_key_of(d, en, client, out) == 0) {
        return;
    }
    scope_client_prefix(cfg, client, out);
}
