/* SPDX-License-Identifier: MIT */
/*
 * dnstap_endpoint.h - where dnsfirst listens for dnstap: "unix:PATH" or
 * "tcp:ADDRESS:PORT" ("tcp:[::1]:6000" for IPv6).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

#include "util/addr.h"

enum dnstap_endpoint_kind {
    DNSTAP_ENDPOINT_UNIX = 1,
    DNSTAP_ENDPOINT_TCP = 2,
};

struct dnstap_endpoint {
    enum dnstap_endpoint_kind kind;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* DNSTAP_ENDPOINT_UNIX */
    struct addr addr;                                       /* DNSTAP_ENDPOINT_TCP */
    uint16_t port;
};

/*
 * Parse @p text into @p out. Returns 0, or DF_EPARSE with the reason in
 * @p err (the path is too long, the port is invalid, ...).
 */
int dnstap_endpoint_parse(const char *text, struct dnstap_endpoint *out, char *err,
                          size_t err_size);
