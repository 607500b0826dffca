/* SPDX-License-Identifier: MIT */
/*
 * ip_reassembly.h - IPv4 and IPv6 fragment reassembly with fixed memory.
 *
 * A table of datagrams in flight, each with a 64 KiB buffer, allocated once
 * by frag_table_create(). Fragments are matched by source, destination,
 * identification and (IPv4) protocol, timed out on capture time, and the
 * oldest datagram is evicted when the table is full.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decoder.h"
#include "util/addr.h"

/* A datagram not completed within this many seconds of capture time is dropped. */
#define FRAG_TIMEOUT_SEC 30

/* Largest reassembled payload: the 16-bit length fields bound every datagram. */
#define FRAG_PAYLOAD_MAX 65535

struct frag_table;

/* Fields that tie the fragments of one datagram together (RFC 791, RFC 8200). */
struct frag_key {
    struct addr src;
    struct addr dst;
    uint32_t id;      /* 16 bits for IPv4, 32 for IPv6 */
    uint8_t protocol; /* IPv4 protocol. 0 for IPv6, whose next header may differ */
};

/* One fragment: where its data goes in the datagram payload. */
struct frag_piece {
    uint32_t offset;     /* in bytes */
    const uint8_t *data;
    size_t len;
    bool more;           /* more fragments follow (MF / M flag) */
    uint8_t next_header; /* protocol after the fragment header (IPv6) */
};

/* A completed datagram, valid until frag_table_release(). */
struct frag_datagram {
    const uint8_t *data;
    size_t len;
    uint8_t next_header; /* IPv6: next header of the fragment at offset 0 */
    unsigned slot;
};

enum frag_result {
    FRAG_HELD,     /* stored, the datagram is not complete yet */
    FRAG_COMPLETE, /* *out holds the whole payload */
    FRAG_DROPPED,  /* invalid, or its datagram was rejected */
};

/* Allocate a table for @p datagrams_max datagrams. Returns NULL when out of memory. */
struct frag_table *frag_table_create(unsigned datagrams_max, struct decoder_counters *counters);
void frag_table_destroy(struct frag_table *t);

/*
 * Add @p piece of the datagram @p key, seen at capture time @p now_sec.
 * On FRAG_COMPLETE the caller decodes out->data and then calls
 * frag_table_release(), and until then the slot is never evicted.
 */
enum frag_result frag_table_add(struct frag_table *t, const struct frag_key *key,
                                const struct frag_piece *piece, int64_t now_sec,
                                struct frag_datagram *out);

/* Free the slot of a datagram that frag_table_add() completed. */
void frag_table_release(struct frag_table *t, const struct frag_datagram *d);
