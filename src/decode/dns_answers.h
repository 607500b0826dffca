/* SPDX-License-Identifier: MIT */
/*
 * dns_answers.h - reverse names (PTR records) read from DNS responses.
 *
 * A sensor captures the responses to PTR queries that other resolvers send.
 * These functions read the address that a reverse name encodes
 * ("5.113.0.203.in-addr.arpa" is 203.0.113.5) and the first PTR target of
 * an answer section, so that the names can feed the same cache as
 * dnsfirst's own PTR queries. Like the rest of src/decode/ they do no I/O
 * and no allocation.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "decode/dns_message.h"
#include "util/addr.h"

#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR 12

/* The first PTR record of an answer section. */
struct dns_ptr_answer {
    uint8_t target[DNS_NAME_MAX]; /* uncompressed wire form */
    uint8_t target_len;
    uint32_t ttl; /* seconds, as in the record */
};

/*
 * Read the address that the reverse name @p name (wire form) encodes:
 * four decimal labels under in-addr.arpa, or 32 hexadecimal nibble labels
 * under ip6.arpa, case-insensitive. Returns 0, or DF_EPARSE for any other
 * name (a shorter name under in-addr.arpa names a network, not a host).
 */
int dns_answers_reverse_addr(const uint8_t *name, size_t name_len, struct addr *out);

/*
 * Find the PTR record for @p qname in the @p ancount answers that start at
 * offset @p offset of the message @p wire. The chain of CNAME records from
 * @p qname is followed in the order the records appear, as for a classless
 * delegation (RFC 2317), and records for other owner names are skipped.
 * Returns 0 with @p out filled, DF_ENOTFOUND when no PTR record matches,
 * or DF_EPARSE when the section is truncated or malformed before one does.
 */
int dns_answers_find_ptr(const uint8_t *wire, size_t len, size_t offset, uint16_t ancount,
                         const uint8_t *qname, uint8_t qname_len,
                         struct dns_ptr_answer *out);
