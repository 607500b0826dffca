/* SPDX-License-Identifier: MIT */
#include "util/prefault.h"

#include <sys/mman.h>

/*
 * Kernels before Linux 5.14 reject the advice, and then the pages fault in
 * where they are first written. Writing into the pages from this thread
 * instead could overwrite what the owner has stored there meanwhile.
 */
static void *prefault_main(void *arg)
{
    struct prefault *pf = arg;
#ifdef MADV_POPULATE_WRITE
    (void)madvise(pf->addr, pf->len, MADV_POPULATE_WRITE);
#endif
    return NULL;
}

void prefault_start(struct prefault *pf, void *addr, size_t len)
{
    pf->addr = addr;
    pf->len = len;
    pf->running = pthread_create(&pf->thread, NULL, prefault_main, pf) == 0;
}

void prefault_wait(struct prefault *pf)
{
    if (pf->running) {
        pthread_join(pf->thread, NULL);
        pf->running = false;
    }
}
