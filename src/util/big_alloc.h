/* SPDX-License-Identifier: MIT */
/*
 * big_alloc.h - zeroed arrays of megabytes: the client table's slots and
 * the write queue's ring.
 *
 * An array of BIG_ALLOC_MAP_MIN bytes or more is mapped on its own with a
 * request for transparent huge pages. Random lookups into a large table
 * would otherwise miss the TLB on nearly every access, and the first write
 * to each 4 KiB page would cost a page fault: 19,000 of them for the write
 * queue's ring alone. Smaller arrays come from calloc().
 */
#pragma once

#include <stddef.h>

#define BIG_ALLOC_MAP_MIN ((size_t)2 << 20)

/* Return @p bytes of zeroed memory, or NULL. Free with big_free() and the same size. */
void *big_alloc(size_t bytes);

void big_free(void *p, size_t bytes);
