/* SPDX-License-Identifier: MIT */
/* Unit tests of the prefault thread: pages end up resident, and the owner's writes stay. */
#define _GNU_SOURCE 1 /* RUSAGE_THREAD */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/prefault.h"

#define MAPPING_BYTES ((size_t)16 << 20)

/* ThreadSanitizer builds leave the pages alone (see prefault.c). */
#if defined(__SANITIZE_THREAD__)
#define TOUCHES false
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TOUCHES false
#endif
#endif
#ifndef TOUCHES
#define TOUCHES true
#endif

static unsigned char *map_fresh(void)
{
    void *p = mmap(NULL, MAPPING_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

static size_t resident_pages(const unsigned char *p)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = MAPPING_BYTES / page;
    unsigned char vec[(16 << 20) / 4096];
    assert_true(pages <= sizeof(vec));
    assert_int_equal(mincore((void *)p, MAPPING_BYTES, vec), 0);
    size_t resident = 0;
    for (size_t i = 0; i < pages; i++) {
        resident += vec[i] & 1;
    }
    return resident;
}

static long minor_faults(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_THREAD, &ru), 0);
    return ru.ru_minflt;
}

/*
 * After the thread, writing a byte of each page takes no fault. Had the
 * thread only read the pages, each write would fault to copy the zero page.
 */
static void test_prefault_makes_pages_writable(void **state)
{
    (void)state;
    unsigned char *p = map_fresh();
    assert_int_equal(resident_pages(p), 0);
    struct prefault pf = { 0 };
    prefault_start(&pf, p, MAPPING_BYTES);
    prefault_wait(&pf);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    assert_int_equal(resident_pages(p), TOUCHES ? MAPPING_BYTES / page : 0);

    long before = minor_faults();
    for (size_t i = 0; i < MAPPING_BYTES; i += page) {
        assert_int_equal(p[i], 0);
        p[i] = 1;
    }
    long faults = minor_faults() - before;
    if (TOUCHES) {
        assert_true(faults < 64);
    } else {
        assert_true(faults >= (long)(MAPPING_BYTES / page / 512));
    }
    munmap(p, MAPPING_BYTES);
}

/* Writes made while the thread runs, on the bytes it touches too, all stay. */
static void test_prefault_keeps_owner_writes(void **state)
{
    (void)state;
    unsigned char *p = map_fresh();
    struct prefault pf = { 0 };
    prefault_start(&pf, p, MAPPING_BYTES);
    for (size_t i = 0; i < MAPPING_BYTES; i += 2048) {
        p[i] = (unsigned char)(1 + i / 2048 % 251);
    }
    prefault_wait(&pf);
    for (size_t i = 0; i < MAPPING_BYTES; i += 2048) {
        assert_int_equal(p[i], 1 + i / 2048 % 251);
    }
    munmap(p, MAPPING_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefault_makes_pages_writable),
        cmocka_unit_test(test_prefault_keeps_owner_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
