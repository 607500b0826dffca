/* SPDX-License-Identifier: MIT */
#include "detect/networks.h"

bool networks_contains(const struct networks *n, const struct addr *a)
{
    for (size_t i = 0; i < n->count; i++) {
        if (prefix_contains(&n->prefixes[i], a)) {
            return true;
        }
    }
    return false;
}
