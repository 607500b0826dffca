/* SPDX-License-Identifier: MIT */
/*
 * alert.h - what a new-client alert says, before it becomes JSON.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/dns_message.h"

struct alert_enrichment;

#define ALERT_RULE_NAME "New External Client DNS"
#define ALERT_RULE_ID "dnsfirst-new-external-client"

struct alert {
    const struct dns_message *query; /* the client's first query */

    /* The server's response, when one arrived within the response wait. */
    bool response_seen;
    unsigned response_rcode;   /* full 12-bit RCODE */
    uint16_t response_flags;   /* header flags word of the response */
    uint16_t response_answers; /* ANCOUNT of the response */

    const char *scope_mode;  /* "server" or "site" */
    const char *scope_key;   /* server address, or the site name */
    const char *client_key;  /* client prefix, "203.0.113.7/32" */
    const char *input_name;  /* capture file or interface, NULL if none */
    uint64_t baseline_size;  /* clients in the baseline after this one */

    /* Intel, GeoIP, PTR and business-hours fields (enrich/enrichment.h); NULL = none. */
    const struct alert_enrichment *enrichment;
};

/* Size that always holds one alert or message line. */
#define ALERT_JSON_MAX 8192

/*
 * Write @p a as one JSON object with ECS field names, without a newline.
 * Returns the length, or 0 when @p size is too small.
 */
size_t alert_json_format(const struct alert *a, char *buf, size_t size);

/*
 * Write one decoded message for "dnsfirst decode": the alert's field names
 * for the same facts, with dns.type "query" or "answer".
 * Returns the length, or 0 when @p size is too small.
 */
size_t message_json_format(const struct dns_message *m, const char *input_name, char *buf,
                           size_t size);
