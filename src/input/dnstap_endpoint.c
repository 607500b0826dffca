/* SPDX-License-Identifier: MIT */
#include "input/dnstap_endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static int parse_unix(const char *path, struct dnstap_endpoint *out, char *err,
                      size_t err_size)
{
    size_t len = strlen(path);
    if (len == 0) {
        snprintf(err, err_size, "missing socket path after 'unix:'");
        return DF_EPARSE;
    }
    if (len >= sizeof(out->path)) {
        snprintf(err, err_size, "socket path is %zu bytes long (at most %zu)", len,
                 sizeof(out->path) - 1);
        return DF_EPARSE;
    }
    out->kind = DNSTAP_ENDPOINT_UNIX;
    memcpy(out->path, path, len + 1);
    return 0;
}

static int parse_port(const char *text, uint16_t *port)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9') {
        return DF_EPARSE;
    }
    unsigned long v = strtoul(text, &end, 10);
    if (*end != '\0' || v < 1 || v > 65535) {
        return DF_EPARSE;
    }
    *port = (uint16_t)v;
    return 0;
}

/* "ADDRESS:PORT" or "[IPV6]:PORT": the port follows the last colon. */
static int parse_tcp(const char *text, struct dnstap_endpoint *out, char *err,
                     size_t err_size)
{
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text) {
        snprintf(err, err_size, "invalid TCP endpoint '%s' (expected ADDRESS:PORT)", text);
        return DF_EPARSE;
    }

    char host[ADDR_TEXT_MAX];
    const char *start = text;
    size_t len = (size_t)(colon - text);
    if (text[0] == '[' && len >= 2 && colon[-1] == ']') {
        start++;
        len -= 2;
    }
    if (len >= sizeof(host)) {
        snprintf(err, err_size, "invalid address in '%s'", text);
        return DF_EPARSE;
    }
    memcpy(host, start, len);
    host[len] = '\0';

    if (addr_parse(host, &out->addr) != 0) {
        snprintf(err, err_size, "invalid address '%s' (expected an IPv4 or IPv6 address)",
                 host);
        return DF_EPARSE;
    }
    if (parse_port(colon + 1, &out->port) != 0) {
        snprintf(err, err_size, "invalid port '%s' (expected a number from 1 to 65535)",
                 colon + 1);
        return DF_EPARSE;
    }
    out->kind = DNSTAP_ENDPOINT_TCP;
    return 0;
}

int dnstap_endpoint_parse(const char *text, struct dnstap_endpoint *out, char *err,
                          size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(text, "unix:", 5) == 0) {
        return parse_unix(text + 5, out, err, err_size);
    }
    if (strncmp(text, "tcp:", 4) == 0) {
        return parse_tcp(text + 4, out, err, err_size);
    }
    snprintf(err, err_size, "invalid dnstap endpoint '%s' (expected unix:PATH or "
             "tcp:ADDRESS:PORT)", text);
    return DF_EPARSE;
}
