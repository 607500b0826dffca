/* SPDX-License-Identifier: MIT */
#include "detect/networks.h"

#include <string.h>

static void mark_first_bytes(uint8_t *bits, const struct prefix *p)
{
    /* A prefix shorter than 8 bits covers a range of first bytes. */
    unsigned fixed = p->len < 8 ? p->len : 8;
    unsigned first = p->addr.bytes[0];
    unsigned span = 1u << (8 - fixed);
    for (unsigned b = first; b < first + span && b < 256; b++) {
        bits[b / 8] |= (uint8_t)(1u << (b % 8));
    }
}

void networks_init(struct networks *n, const struct prefix *prefixes, size_t count)
{
    memset(n, 0, sizeof(*n));
    n->prefixes = prefixes;
    n->count = count;
    for (size_t i = 0; i < count; i++) {
        const struct prefix *p = &prefixes[i];
        uint8_t *bits = p->addr.family == ADDR_FAMILY_IPV4 ? n->first_byte_v4 : n->first_byte_v6;
        mark_first_bytes(bits, p);
    }
}

bool networks_contains(const struct networks *n, const struct addr *a)
{
    const uint8_t *bits = a->family == ADDR_FAMILY_IPV4 ? n->first_byte_v4 : n->first_byte_v6;
    uint8_t first = a->bytes[0];
    if (!((bits[first / 8] >> (first % 8)) & 1)) {
        return false;
    }
    for (size_t i = 0; i < n->count; i++) {
        if (prefix_contains(&n->prefixes[i], a)) {
            return true;
        }
    }
    return false;
}
