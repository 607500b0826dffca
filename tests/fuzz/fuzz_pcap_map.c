/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pcap_map.c - libFuzzer target for the mapped pcap reader, checked
 * against libpcap's own file reader on the same bytes.
 *
 * The input is a whole capture file. It is written into a memfd, and both
 * readers open it by its /proc/self/fd path: pcap_map_open() and
 * pcap_open_offline_with_tstamp_precision() at nanosecond precision, as
 * pcap_input.c opens files. They must agree on everything:
 * - whether the file opens at all, and then on the link type and the
 *   snapshot length;
 * - record by record, on the time stamp, the captured and wire lengths and
 *   the captured bytes;
 * - on how the file ends: both cleanly, or both with an error at the same
 *   record.
 * The one justified difference: pcap_map_open() returns -ENOTSUP for files
 * that it leaves to libpcap on purpose (pcapng, magic 0xa1b2cd34, link
 * types whose pseudo-header libpcap rewrites). Those inputs end the run
 * without a comparison. The error texts differ and are not compared.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "input/pcap_map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void mismatch(uint64_t record, const char *field)
{
    fprintf(stderr, "pcap_map and libpcap differ at record %llu: %s\n",
            (unsigned long long)record, field);
    abort();
}

/* Write @p data into the one memfd of this process. Returns its path. */
static const char *write_input(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_pcap_map", MFD_CLOEXEC);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        perror("memfd write");
        abort();
    }
    return path;
}

/* Read both in step until one ends. Every difference aborts. */
static void compare_records(pcap_t *p, struct pcap_map *map)
{
    for (uint64_t record = 0;; record++) {
        struct pcap_pkthdr *hdr = NULL;
        const u_char *bytes = NULL;
        int theirs = pcap_next_ex(p, &hdr, &bytes);
        struct pcap_map_record rec;
        int ours = pcap_map_next(map, &rec);

        if (theirs == PCAP_ERROR_BREAK || ours == 0) {
            if (theirs != PCAP_ERROR_BREAK || ours != 0) {
                mismatch(record, "only one of them reached the end of the file");
            }
            return;
        }
        if (theirs < 0 || ours < 0) {
            if (theirs >= 0 || ours >= 0) {
                mismatch(record, theirs < 0 ? pcap_geterr(p) : pcap_map_error(map));
            }
            return;
        }

        if (hdr->ts.tv_sec != rec.ts_sec) {
            mismatch(record, "seconds");
        }
        if ((uint32_t)hdr->ts.tv_usec != rec.ts_nsec) {
            mismatch(record, "nanoseconds");
        }
        if (hdr->caplen != rec.caplen) {
            mismatch(record, "captured length");
        }
        if (hdr->len != rec.wire_len) {
            mismatch(record, "wire length");
        }
        if (memcmp(bytes, rec.data, rec.caplen) != 0) {
            mismatch(record, "captured bytes");
        }
        if (pcap_map_packets(map) != record + 1) {
            mismatch(record, "pcap_map_packets()");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = write_input(data, size);

    char pcap_err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO,
                                                        pcap_err);
    char err[512];
    struct pcap_map *map = NULL;
    int ret = pcap_map_open(path, &map, err, sizeof(err));

    if (ret == -ENOTSUP) {
        /* pcap_map leaves this file to libpcap on purpose, so nothing is compared. */
    } else if (p == NULL && ret == 0) {
        mismatch(0, "only pcap_map opened the file");
    } else if (p != NULL && ret != 0) {
        mismatch(0, err);
    } else if (p != NULL) {
        if (pcap_datalink(p) != pcap_map_link_type(map)) {
            mismatch(0, "link type");
        }
        if ((uint32_t)pcap_snapshot(p) != pcap_map_snaplen(map)) {
            mismatch(0, "snapshot length");
        }
        compare_records(p, map);
    }

    pcap_map_close(map);
    if (p != NULL) {
        pcap_close(p);
    }
    return 0;
}
