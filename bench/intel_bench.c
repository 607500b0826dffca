/* SPDX-License-Identifier: MIT */
/*
 * intel_bench.c - load time and lookup rate of the intel lists on generated
 * data: 1,000,000 domain names and 500,000 prefixes (IPv4 /8 to /32, and
 * 10% IPv6 /32 to /64).
 *
 * Build and run from the repository root:
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -Isrc -o /tmp/intel_bench bench/intel_bench.c \
 *       src/enrich/intel_domains.c src/enrich/intel_addresses.c src/util/addr.c \
 *       src/util/error.c src/decode/dns_text.c && /tmp/intel_bench [DIR]
 * DIR (default /tmp) receives the generated list files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enrich/intel.h"

#define DOMAINS 1000000
#define PREFIXES 500000
#define LOOKUPS 2000000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A deterministic xorshift generator, so every run uses the same data. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void domain_name(uint64_t i, char *buf, size_t size)
{
    snprintf(buf, size, "d%llx.zone%llu.example", (unsigned long long)i,
             (unsigned long long)(i % 997));
}

static size_t to_wire(const char *text, uint8_t *wire)
{
    size_t n = 0;
    while (*text != '\0') {
        size_t len = strcspn(text, ".");
        wire[n++] = (uint8_t)len;
        memcpy(wire + n, text, len);
        n += len;
        text += len + (text[len] == '.');
    }
    wire[n++] = 0;
    return n;
}

static void write_prefix(FILE *f)
{
    if (rng() % 10 == 0) {
        unsigned len = 32 + (unsigned)(rng() % 33);
        uint64_t hi = (rng() | 0x2000000000000000ULL) & (~0ULL << (64 - len));
        fprintf(f, "%x:%x:%x:%x::/%u\n", (unsigned)(hi >> 48), (unsigned)(hi >> 32 & 0xffff),
                (unsigned)(hi >> 16 & 0xffff), (unsigned)(hi & 0xffff), len);
        return;
    }
    unsigned len = 8 + (unsigned)(rng() % 25);
    uint32_t a = (uint32_t)rng() & (len == 32 ? ~0u : ~(~0u >> len));
    fprintf(f, "%u.%u.%u.%u/%u ; SBL%llu\n", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255,
            len, (unsigned long long)(rng() % 100000));
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char dpath[512], apath[512], err[INTEL_ERR_MAX], name[256];
    snprintf(dpath, sizeof(dpath), "%s/intel_bench_domains.txt", dir);
    snprintf(apath, sizeof(apath), "%s/intel_bench_prefixes.txt", dir);

    FILE *f = fopen(dpath, "w");
    for (uint64_t i = 0; i < DOMAINS && f != NULL; i++) {
        domain_name(i, name, sizeof(name));
        fprintf(f, "%s%s\n", i % 2 ? "0.0.0.0 " : "", name);
    }
    if (f == NULL || fclose(f) != 0) {
        return 1;
    }
    f = fopen(apath, "w");
    for (int i = 0; i < PREFIXES && f != NULL; i++) {
        write_prefix(f);
    }
    if (f == NULL || fclose(f) != 0) {
        return 1;
    }

    struct intel_domain_set *ds = NULL;
    double t0 = now_s();
    if (intel_domains_load(dpath, &ds, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t1 = now_s();
    struct intel_addr_set *as = NULL;
    if (intel_addresses_load(apath, &as, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double t2 = now_s();
    printf("load %zu domains: %.2f s\n", intel_domain_set_count(ds), t1 - t0);
    printf("load %zu prefixes: %.2f s\n", intel_addr_set_count(as), t2 - t1);

    /* Half of the names are below a listed one, half are not listed at all. */
    size_t hits = 0;
    uint8_t wire[DNS_NAME_MAX];
    t0 = now_s();
    for (int i = 0; i < LOOKUPS; i++) {
        uint64_t n = rng() % (2 * DOMAINS);
        char listed[200];
        domain_name(n, listed, sizeof(listed));
        snprintf(name, sizeof(name), "www.cdn.%s", listed);
        size_t offset;
        hits += intel_domain_set_lookup(ds, wire, to_wire(name, wire), &offset);
    }
    t1 = now_s();
    printf("domain lookups (4-6 labels): %.2f M/s, %zu hits of %d\n",
           LOOKUPS / (t1 - t0) / 1e6, hits, LOOKUPS);

    hits = 0;
    t0 = now_s();
    for (int i = 0; i < LOOKUPS; i++) {
        struct addr a = { .family = ADDR_FAMILY_IPV4 };
        uint32_t v = (uint32_t)rng();
        memcpy(a.bytes, &v, 4);
        struct prefix p;
        hits += intel_addr_set_lookup(as, &a, &p);
    }
    t1 = now_s();
    printf("IPv4 lookups: %.2f M/s, %zu hits of %d\n", LOOKUPS / (t1 - t0) / 1e6, hits,
           LOOKUPS);

    intel_domain_set_free(ds);
    intel_addr_set_free(as);
    remove(dpath);
    remove(apath);
    return 0;
}
