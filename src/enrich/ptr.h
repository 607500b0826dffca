/* SPDX-License-Identifier: MIT */
/*
 * ptr.h - reverse names of clients, asked of a configured resolver.
 *
 * dnsfirst sends its own PTR queries over one non-blocking UDP socket and
 * caches each answer for the record's TTL (at most a day; negative answers
 * and timeouts for 5 minutes) in a fixed-size cache that overwrites its
 * oldest entries. Queries are rate-limited by a token bucket on the wall
 * clock. A lookup starts when a new client is seen; when its alert leaves,
 * ptr_resolver_result() waits for the answer until the lookup's deadline
 * (ptr-timeout, at most response-wait, after the query was sent) and
 * otherwise returns without a name.
 *
 * The cache also takes the PTR answers seen in traffic (ptr_cache_store()),
 * and without a resolver it is created for those alone (ptr_cache_create()).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libpsl.h>

#include "daemon/config.h"
#include "util/addr.h"

#define PTR_NAME_MAX 1024 /* a name in text form with escapes */
#define PTR_CACHE_SIZE 4096
#define PTR_REGISTERED_MAX 64 /* a registrable domain that fits a client key (STORE_KEY_MAX) */

struct ptr_server {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* Parse "192.0.2.1", "192.0.2.1:5353", "::1" or "[::1]:5353" (port 53 by default). */
int ptr_server_parse(const char *text, struct ptr_server *out);

struct ptr_stats {
    uint64_t queries;    /* PTR queries sent */
    uint64_t answers;    /* names received */
    uint64_t timeouts;   /* alerts that left before their answer */
    uint64_t rate_limited;
    uint64_t cache_hits;
    uint64_t traffic_names; /* names taken from PTR responses seen in traffic */
};

struct ptr_resolver;

/*
 * Open the socket towards cfg->ptr_resolver. Returns 0 (with *out NULL when
 * the setting is empty), or DF_ECONFIG / -errno with the reason in @p err.
 */
int ptr_resolver_create(const struct config *cfg, struct ptr_resolver **out, char *err,
                        size_t err_size);
void ptr_resolver_destroy(struct ptr_resolver *r);

/*
 * Create a cache without a resolver, for names seen in traffic only: no
 * socket, no queries. Destroy it with ptr_resolver_destroy(). Returns 0 or
 * -ENOMEM.
 */
int ptr_cache_create(struct ptr_resolver **out);

/*
 * Store @p name (text form) as the reverse name of @p a for @p ttl_s
 * seconds, at most a day, as an answer to dnsfirst's own query would be.
 */
void ptr_cache_store(struct ptr_resolver *r, const struct addr *a, const char *name,
                     uint32_t ttl_s);

/*
 * Return the registrable domain (libpsl, computed once per name) of the
 * last reverse name cached for @p a, or NULL when there is none or it is
 * 64 bytes or longer. Never waits or sends. A name past its TTL still
 * counts until its slot is reused, so a client keyed by its domain keeps
 * its key. The text stays valid until the next call that changes the cache.
 */
const char *ptr_cache_registered_domain(struct ptr_resolver *r, const struct addr *a,
                                        const psl_ctx_t *psl);

/* Send a PTR query for @p a unless it is cached, pending, or over the rate. */
void ptr_resolver_request(struct ptr_resolver *r, const struct addr *a);

/*
 * Copy the reverse name of @p a into @p name, waiting for the answer until
 * the lookup's deadline. Returns false when there is no name.
 */
bool ptr_resolver_result(struct ptr_resolver *r, const struct addr *a, char *name,
                         size_t size);

/* Read the answers that have arrived, without waiting. */
void ptr_resolver_poll(struct ptr_resolver *r);

const struct ptr_stats *ptr_resolver_stats(const struct ptr_resolver *r);

/* Write the reverse lookup name of @p a ("5.113.0.203.in-addr.arpa") in wire form. */
size_t ptr_reverse_name(const struct addr *a, uint8_t *wire);
