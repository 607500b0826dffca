/* SPDX-License-Identifier: MIT */
/*
 * pcap_map.h - a classic pcap file mapped into memory, its records read in
 * place.
 *
 * Records come out as libpcap 1.10 returns them from a file opened at
 * nanosecond precision: the same link type, snapshot length, time stamps,
 * lengths and bytes, and an error at the same record. Files that libpcap
 * reads but this reader does not handle are rejected at open time with
 * -ENOTSUP, so that the caller reads them with libpcap instead.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pcap_map;

/*
 * Records that stay mapped: a record's data stays valid until
 * PCAP_MAP_KEEP_RECORDS more records have been read, so that a reader may
 * look a few records ahead.
 */
#define PCAP_MAP_KEEP_RECORDS 16

/* One record. data points into the map; see PCAP_MAP_KEEP_RECORDS for how long it stays valid. */
struct pcap_map_record {
    const uint8_t *data;
    int64_t ts_sec;
    /* Sub-second part in nanoseconds: a microsecond file's field times 1000,
     * modulo 2^32, as libpcap scales it. Neither is checked against 10^9. */
    uint32_t ts_nsec;
    uint32_t caplen;   /* bytes at data: the record's length, cut to the snapshot length */
    uint32_t wire_len; /* length on the wire, as the record header gives it */
};

/*
 * Map @p path and check its file header. Returns 0 with *out set (release
 * it with pcap_map_close()), or a negative code with the reason in @p err:
 * - -ENOTSUP: a capture that libpcap reads but this reader does not. That
 *   is a file that is not a regular file, pcapng, the modified format of
 *   magic 0xa1b2cd34, or a link type whose pseudo-header libpcap rewrites.
 * - DF_EPCAP: not a classic pcap file, or a file header that libpcap
 *   rejects. An empty file is one of these.
 * - -errno: open, fstat or mmap failed.
 */
int pcap_map_open(const char *path, struct pcap_map **out, char *err, size_t err_size);
void pcap_map_close(struct pcap_map *map);

/* DLT_* value of the file's link type, as pcap_datalink() returns it. */
int pcap_map_link_type(const struct pcap_map *map);

/* Snapshot length, as pcap_snapshot() returns it: a header value of 0 or over INT_MAX
 * is replaced by the maximum for the link type. */
uint32_t pcap_map_snaplen(const struct pcap_map *map);

/*
 * Fetch the next record. Returns 1 with *rec filled, 0 at the end of the
 * file, or DF_EPCAP for a damaged record: pcap_map_error() gives the
 * reason, pcap_map_offset() the byte offset where that record starts, and
 * every later call returns DF_EPCAP again.
 */
int pcap_map_next(struct pcap_map *map, struct pcap_map_record *rec);

/* Records returned so far. */
uint64_t pcap_map_packets(const struct pcap_map *map);

/* Byte offset of the next record, or of the damaged one after an error. */
uint64_t pcap_map_offset(const struct pcap_map *map);

/* Reason for the last DF_EPCAP from pcap_map_next(), or "" before any. */
const char *pcap_map_error(const struct pcap_map *map);
