/* SPDX-License-Identifier: MIT */
#include "util/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

bool prefix_contains(const struct prefix *p, const struct addr *a)
{
    if (p->addr.family != a->family) {
        return false;
    }
    unsigned full = p->len / 8;
    if (memcmp(p->addr.bytes, a->bytes, full) != 0) {
        return false;
    }
    unsigned rest = p->len % 8;
    if (rest == 0) {
        return true;
    }
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (p->addr.bytes[full] & mask) == (a->bytes[full] & mask);
}

int addr_parse(const char *text, struct addr *out)
{
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = ADDR_FAMILY_IPV4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out->bytes) == 1) {
        out->family = ADDR_FAMILY_IPV6;
        return 0;
    }
    return DF_EPARSE;
}

int prefix_parse(const char *text, struct prefix *out)
{
    char buf[ADDR_TEXT_MAX];
    const char *slash = strchr(text, '/');
    size_t addr_len = slash != NULL ? (size_t)(slash - text) : strlen(text);
    if (addr_len == 0 || addr_len >= sizeof(buf)) {
        return DF_EPARSE;
    }
    memcpy(buf, text, addr_len);
    buf[addr_len] = '\0';

    if (addr_parse(buf, &out->addr) != 0) {
        return DF_EPARSE;
    }
    unsigned bits = addr_bits(out->addr.family);
    out->len = (uint8_t)bits;
    if (slash != NULL) {
        char *end = NULL;
        unsigned long len = strtoul(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || len > bits) {
            return DF_EPARSE;
        }
        out->len = (uint8_t)len;
    }

    /* Host bits set past the length usually mean a typo in the length. */
    struct addr masked = out->addr;
    addr_mask(&masked, out->len);
    if (memcmp(&masked, &out->addr, sizeof(masked)) != 0) {
        return DF_EPARSE;
    }
    return 0;
}

size_t addr_format(const struct addr *a, char *buf, size_t size)
{
    int af = a->family == ADDR_FAMILY_IPV4 ? AF_INET : AF_INET6;
    if (a->family == ADDR_FAMILY_NONE || inet_ntop(af, a->bytes, buf, (socklen_t)size) == NULL) {
        if (size > 0) {
            buf[0] = '\0';
        }
        return 0;
    }
    return strlen(buf);
}

size_t prefix_format(const struct prefix *p, char *buf, size_t size)
{
    size_t n = addr_format(&p->addr, buf, size);
    int written = snprintf(buf + n, size - n, "/%u", p->len);
    return written > 0 ? n + (size_t)written : n;
}
