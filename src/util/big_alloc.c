/* SPDX-License-Identifier: MIT */
#include "util/big_alloc.h"

#include <stdlib.h>
#include <sys/mman.h>

void *big_alloc(size_t bytes)
{
    if (bytes < BIG_ALLOC_MAP_MIN) {
        return calloc(1, bytes);
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: without it the memory still works */
    return p;
}

void big_free(void *p, size_t bytes)
{
    if (p == NULL) {
        return;
    }
    if (bytes < BIG_ALLOC_MAP_MIN) {
        free(p);
    } else {
        munmap(p, bytes);
    }
}
