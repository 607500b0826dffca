/* SPDX-License-Identifier: MIT */
/*
 * networks.h - the internal networks: a client outside them is external.
 *
 * Lists are short (tens of prefixes), so a linear scan is fast enough once
 * a first-byte filter has ruled out most addresses: for each value of an
 * address's first byte, a bit says whether any prefix of that family can
 * contain such an address. Most external addresses then cost one load.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"

struct networks {
    size_t count;
    const struct prefix *prefixes;
    uint8_t first_byte_v4[256 / 8]; /* bit set: some IPv4 prefix covers that first byte */
    uint8_t first_byte_v6[256 / 8];
};

/* Index @p count prefixes, which must outlive @p n. */
void networks_init(struct networks *n, const struct prefix *prefixes, size_t count);

/* Return true when @p a lies in one of the internal networks. */
bool networks_contains(const struct networks *n, const struct addr *a);
