/* SPDX-License-Identifier: MIT */
#include "util/prefault.h"

#include <sys/mman.h>

/*
 * Kernels before Linux 5.14 reject the advice, and then the pages fault in
 * where they are first written. Writing into the pages from this thread
 * instead could overwrite what the owner has stored there meanwhile.
 */
/*
 * Bytes per madvise() call. The call holds the process's memory map lock
 * for reading, and an mmap() or munmap() on another thread waits for it.
 * Populating a 30 MiB ring in one call held up the detector's start by up
 * to 60 ms on the benchmark VM.
 */
#define PREFAULT_STEP ((size_t)2 << 20)

static void *prefault_main(void *arg)
{
    struct prefault *pf = arg;
#ifdef MADV_POPULATE_WRITE
    for (size_t off = 0; off < pf->len; off += PREFAULT_STEP) {
        size_t len = pf->len - off < PREFAULT_STEP ? pf->len - off : PREFAULT_STEP;
        if (madvise((char *)pf->addr + off, len, MADV_POPULATE_WRITE) != 0) {
            break;
        }
    }
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
