/* SPDX-License-Identifier: MIT */
/*
 * networks.h - the internal networks: a client outside them is external.
 *
 * Lists are short (tens of prefixes), so a linear scan is fast enough once
 * a first-byte filter has ruled out most addresses: for each value of an
 * address's first byte, a bit says whether any prefix of that family can
 * contain such an address. Most external addresses then cost one load.
 * The scan compares the address, as two 64-bit words, with each prefix of
 * its family under that prefix's mask.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"

/* Prefixes indexed per family. networks_init() ignores any past it. */
#define NETWORKS_MAX 256

/*
 * A prefix as two masks and two values over the 16 address bytes read as
 * two 64-bit words. An address is inside when (word & mask) == value for both.
 */
struct network_mask {
    uint64_t mask[2];
    uint64_t value[2];
};

struct networks {
    size_t v4_count;
    size_t v6_count;
    uint8_t first_byte_v4[256 / 8]; /* bit set: some IPv4 prefix covers that first byte */
    uint8_t first_byte_v6[256 / 8];
    struct network_mask v4[NETWORKS_MAX];
    struct network_mask v6[NETWORKS_MAX];
};

/*
 * Index the first NETWORKS_MAX IPv4 and the first NETWORKS_MAX IPv6 prefixes
 * of @p prefixes. They are copied, so @p prefixes need not outlive @p n.
 */
void networks_init(struct networks *n, const struct prefix *prefixes, size_t count);

/* Return true when @p a lies in one of the internal networks. */
bool networks_contains(const struct networks *n, const struct addr *a);
