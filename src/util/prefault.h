/* SPDX-License-Identifier: MIT */
/*
 * prefault.h - fault in a fresh mapping on a thread of its own.
 *
 * The first write to each page of a new anonymous mapping makes the kernel
 * find and zero a page. On the 2-core benchmark VM, touching 144 MiB of
 * huge pages took from 7 to 320 ms, and the client table's growth into new
 * arrays took up to a tenth of the packet thread's time (perf,
 * clear_page_erms). A prefault thread takes those faults while the packet
 * thread works on. The memory is usable at once: a page the thread has not
 * reached yet faults in where it is first written, as it would have anyway.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct prefault {
    pthread_t thread;
    bool running;
    void *addr;
    size_t len;
};

/*
 * Start faulting in the @p len bytes at @p addr, writable, on a new thread.
 * The owner may write into the mapping meanwhile, and it must stay until
 * prefault_wait() returns. When no thread can start, nothing happens and the
 * pages fault in where they are first written.
 */
void prefault_start(struct prefault *pf, void *addr, size_t len);

/* Wait for the thread started by prefault_start(), if any. */
void prefault_wait(struct prefault *pf);
