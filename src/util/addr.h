/* SPDX-License-Identifier: MIT */
/*
 * addr.h - IPv4 and IPv6 addresses and prefixes in one fixed-size type.
 *
 * An IPv4 address fills bytes[0..3] and leaves the rest zero, so two
 * addresses compare equal with memcmp() over the whole struct.
 */
#pragma once

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ADDR_FAMILY_NONE 0
#define ADDR_FAMILY_IPV4 4
#define ADDR_FAMILY_IPV6 6
/* Not an address: a client key whose bytes hold a hash of a domain (src/detect/client_domain.h). */
#define ADDR_FAMILY_NAME 78

/* Longest text form: a full IPv6 address with an IPv4 tail, plus "/128". */
#define ADDR_TEXT_MAX 52

struct addr {
    uint8_t family; /* ADDR_FAMILY_* */
    uint8_t bytes[16];
};

struct prefix {
    struct addr addr; /* host bits beyond len are zero */
    uint8_t len;      /* prefix length in bits */
};

static inline unsigned addr_bits(uint8_t family)
{
    return family == ADDR_FAMILY_IPV4 ? 32 : 128;
}

/*
 * Fill @p mask with the first @p len bits set (all when @p len is 128 or
 * more), in the byte order of struct addr: ANDing the address bytes, read as
 * two 64-bit words, with it keeps the first len bits.
 */
static inline void addr_prefix_mask(unsigned len, uint64_t mask[2])
{
    /* A shift by 64 is undefined, so each word's full and empty cases are spelled out. */
    uint64_t high = UINT64_MAX;
    if (len == 0) {
        high = 0;
    } else if (len < 64) {
        high = UINT64_MAX << (64 - len);
    }
    uint64_t low = UINT64_MAX;
    if (len <= 64) {
        low = 0;
    } else if (len < 128) {
        low = UINT64_MAX << (128 - len);
    }
    mask[0] = htobe64(high);
    mask[1] = htobe64(low);
}

/* Return true when @p a and @p b are equal, as memcmp() over the whole struct would find. */
static inline bool addr_equal(const struct addr *a, const struct addr *b)
{
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a->bytes, 8);
    memcpy(&a1, a->bytes + 8, 8);
    memcpy(&b0, b->bytes, 8);
    memcpy(&b1, b->bytes + 8, 8);
    return a->family == b->family && ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* Zero the bits of @p a beyond the first @p len bits. */
static inline void addr_mask(struct addr *a, unsigned len)
{
    /* The bytes past the family's width are zeroed too. */
    unsigned bits = addr_bits(a->family);
    uint64_t mask[2];
    addr_prefix_mask(len < bits ? len : bits, mask);

    uint64_t words[2];
    memcpy(words, a->bytes, 16);
    words[0] &= mask[0];
    words[1] &= mask[1];
    memcpy(a->bytes, words, 16);
}

/* Return true when @p a lies inside @p p (same family, same first len bits). */
bool prefix_contains(const struct prefix *p, const struct addr *a);

/* Parse "192.0.2.1" or "2001:db8::1". Returns 0 or DF_EPARSE. */
int addr_parse(const char *text, struct addr *out);

/*
 * Parse "192.0.2.0/24", "2001:db8::/32" or a bare address (a host prefix).
 * Host bits beyond the length must be zero. Returns 0 or DF_EPARSE.
 */
int prefix_parse(const char *text, struct prefix *out);

/* Write the address in its standard text form. Returns the length written. */
size_t addr_format(const struct addr *a, char *buf, size_t size);

/* Write "address/len". Returns the length written. */
size_t prefix_format(const struct prefix *p, char *buf, size_t size);
