/* SPDX-License-Identifier: MIT */
/*
 * hash.h - a fast 64-bit hash for short keys (addresses, table keys).
 *
 * Not cryptographic. Each 8-byte word is mixed in with a multiply and the
 * result goes through a 64-bit finalizer (the mixing constants are the ones
 * of the splitmix64 generator), which spreads every input bit over the low
 * bits that index the tables. The seed lets a sensor randomise its tables
 * against inputs crafted to collide.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hash_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static inline uint64_t hash_bytes_seeded(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    uint64_t h = seed ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = hash_mix64(h ^ w);
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        uint64_t w = 0;
        memcpy(&w, p, len);
        h = hash_mix64(h ^ w ^ 0xff);
    }
    return h;
}

static inline uint64_t hash_bytes(const void *data, size_t len)
{
    return hash_bytes_seeded(data, len, 0);
}
