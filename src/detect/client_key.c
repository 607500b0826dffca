/* SPDX-License-Identifier: MIT */
#include "detect/client_key.h"

#include <arpa/inet.h>
#include <string.h>

/* Write @p value (at most 255) in decimal at @p out. Returns the digits written. */
static size_t decimal_write(char *out, unsigned value)
{
    size_t n = 0;
    if (value >= 100) {
        out[n++] = (char)('0' + value / 100);
    }
    if (value >= 10) {
        out[n++] = (char)('0' + value / 10 % 10);
    }
    out[n++] = (char)('0' + value % 10);
    return n;
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

size_t client_key_format(const struct prefix *p, char *buf, size_t size)
{
    /* The longest key is ADDR_TEXT_MAX - 1 characters, "/128" included. */
    if (size < ADDR_TEXT_MAX) {
        return prefix_format(p, buf, size);
    }

    size_t n;
    if (p->addr.family == ADDR_FAMILY_IPV4) {
        n = ipv4_write(p->addr.bytes, buf);
    } else if (p->addr.family == ADDR_FAMILY_IPV6 &&
               inet_ntop(AF_INET6, p->addr.bytes, buf, (socklen_t)size) != NULL) {
        n = strlen(buf);
    } else {
        return prefix_format(p, buf, size);
    }

    buf[n++] = '/';
    n += decimal_write(buf + n, p->len);
    buf[n] = '\0';
    return n;
}
