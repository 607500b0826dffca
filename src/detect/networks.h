/* SPDX-License-Identifier: MIT */
/*
 * networks.h - the internal networks: a client outside them is external.
 *
 * Lists are short (tens of prefixes), so a linear scan over prefixes grouped
 * by family is faster than a trie and needs no allocation.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/addr.h"

struct networks {
    size_t count;
    const struct prefix *prefixes;
};

static inline void networks_init(struct networks *n, const struct prefix *prefixes, size_t count)
{
    n->prefixes = prefixes;
    n->count = count;
}

/* Return true when @p a lies in one of the internal networks. */
bool networks_contains(const struct networks *n, const struct addr *a);
