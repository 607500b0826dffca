/* SPDX-License-Identifier: MIT */
#include "util/client_key.h"

#include <stdbool.h>
#include <string.h>

#include "util/decimal.h"

#define IPV6_WORDS 8

/* Write @p value (at most 255) in decimal at @p out. Returns the digits written. */
static size_t decimal_write(char *out, unsigned value)
{
    if (value < 10) {
        out[0] = (char)('0' + value);
        return 1;
    }
    if (value < 100) {
        memcpy(out, &decimal_pairs[value * 2], 2);
        return 2;
    }
    out[0] = (char)('0' + value / 100);
    memcpy(out + 1, &decimal_pairs[value % 100 * 2], 2);
    return 3;
}

static size_t ipv4_write(const uint8_t *bytes, char *out)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            out[n++] = '.';
        }
        n += decimal_write(out + n, bytes[i]);
    }
    return n;
}

/* Write @p word in lowercase hex without leading zeros, as "%x" does. */
static size_t hex_write(char *out, unsigned word)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;
    if (word >= 0x1000) {
        out[n++] = digits[word >> 12];
    }
    if (word >= 0x100) {
        out[n++] = digits[(word >> 8) & 0xf];
    }
    if (word >= 0x10) {
        out[n++] = digits[(word >> 4) & 0xf];
    }
    out[n++] = digits[word & 0xf];
    return n;
}

/*
 * Find the longest run of zero words, the first one among runs of equal
 * length. A run shorter than two words is not shortened to "::", so *len
 * is 0 when there is no longer run.
 */
static void zero_run_find(const unsigned *words, unsigned *start, unsigned *len)
{
    *start = 0;
    *len = 0;
    unsigned run = 0;
    for (unsigned i = 0; i < IPV6_WORDS; i++) {
        run = words[i] == 0 ? run + 1 : 0;
        if (run > *len) {
            *len = run;
            *start = i + 1 - run;
        }
    }
    if (*len < 2) {
        *len = 0;
    }
}

/*
 * Write an IPv6 address as glibc's inet_ntop() does: hex words, the
 * longest run of zero words as "::", and a dotted IPv4 tail for an
 * IPv4-compatible (::a.b.c.d) or IPv4-mapped (::ffff:a.b.c.d) address.
 */
static size_t ipv6_write(const uint8_t *bytes, char *out)
{
    unsigned words[IPV6_WORDS];
    for (unsigned i = 0; i < IPV6_WORDS; i++) {
        words[i] = (unsigned)bytes[2 * i] << 8 | bytes[2 * i + 1];
    }
    unsigned run_start;
    unsigned run_len;
    zero_run_find(words, &run_start, &run_len);
    bool ipv4_tail = run_len > 0 && run_start == 0 &&
                     (run_len == 6 || (run_len == 5 && words[5] == 0xffff));

    size_t n = 0;
    for (unsigned i = 0; i < IPV6_WORDS; i++) {
        if (i >= run_start && i < run_start + run_len) {
            if (i == run_start) {
                out[n++] = ':';
            }
            continue;
        }
        if (i != 0) {
            out[n++] = ':';
        }
        if (i == 6 && ipv4_tail) {
            return n + ipv4_write(bytes + 12, out + n);
        }
        n += hex_write(out + n, words[i]);
    }
    if (run_len > 0 && run_start + run_len == IPV6_WORDS) {
        out[n++] = ':';
    }
    return n;
}

size_t client_key_format(const struct prefix *p, char *buf, size_t size)
{
    /* The longest key is ADDR_TEXT_MAX - 1 characters, "/128" included. */
    if (size < ADDR_TEXT_MAX) {
        return prefix_format(p, buf, size);
    }

    size_t n;
    if (p->addr.family == ADDR_FAMILY_IPV4) {
        n = ipv4_write(p->addr.bytes, buf);
    } else if (p->addr.family == ADDR_FAMILY_IPV6) {
        n = ipv6_write(p->addr.bytes, buf);
    } else {
        return prefix_format(p, buf, size);
    }

    buf[n++] = '/';
    n += decimal_write(buf + n, p->len);
    buf[n] = '\0';
    return n;
}
