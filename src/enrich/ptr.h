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
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/config.h"
#include "util/addr.h"

#define PTR_NAME_MAX 1024 /* a name in text form with escapes */
#define PTR_CACHE_SIZE 4096

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
};

struct ptr_resolver;

/*
 * Open the socket towards cfg->ptr_resolver. Returns 0 (with *out NULL when
 * the setting is empty), or DF_ECONFIG / -errno with the reason in @p err.
 */
int ptr_resolver_create(const struct config *cfg, struct ptr_resolver **out, char *err,
                        size_t err_size);
void ptr_resolver_destroy(struct ptr_resolver *r);

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
