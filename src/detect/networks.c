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

static void network_mask_set(struct network_mask *m, const struct prefix *p)
{
    uint64_t words[2];
    memcpy(words, p->addr.bytes, 16);
    addr_prefix_mask(p->len, m->mask);
    m->value[0] = words[0] & m->mask[0];
    m->value[1] = words[1] & m->mask[1];
}

void networks_init(struct networks *n, const struct prefix *prefixes, size_t count)
{
    memset(n, 0, sizeof(*n));
    for (size_t i = 0; i < count; i++) {
        const struct prefix *p = &prefixes[i];
        if (p->addr.family == ADDR_FAMILY_IPV4 && n->v4_count < NETWORKS_MAX) {
            network_mask_set(&n->v4[n->v4_count++], p);
            mark_first_bytes(n->first_byte_v4, p);
        } else if (p->addr.family == ADDR_FAMILY_IPV6 && n->v6_count < NETWORKS_MAX) {
            network_mask_set(&n->v6[n->v6_count++], p);
            mark_first_bytes(n->first_byte_v6, p);
        }
    }
}

static bool masks_contain(const struct network_mask *masks, size_t count, const struct addr *a)
{
    uint64_t words[2];
    memcpy(words, a->bytes, 16);
    for (size_t i = 0; i < count; i++) {
        const struct network_mask *m = &masks[i];
        if ((words[0] & m->mask[0]) == m->value[0] && (words[1] & m->mask[1]) == m->value[1]) {
            return true;
        }
    }
    return false;
}

bool networks_contains(const struct networks *n, const struct addr *a)
{
    uint8_t first = a->bytes[0];
    if (a->family == ADDR_FAMILY_IPV4) {
        return ((n->first_byte_v4[first / 8] >> (first % 8)) & 1) &&
               masks_contain(n->v4, n->v4_count, a);
    }
    if (a->family == ADDR_FAMILY_IPV6) {
        return ((n->first_byte_v6[first / 8] >> (first % 8)) & 1) &&
               masks_contain(n->v6, n->v6_count, a);
    }
    return false;
}
