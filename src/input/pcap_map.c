/* SPDX-License-Identifier: MIT */
/*
 * pcap_map.c - read a classic pcap file in place, through a memory map.
 *
 * Why not libpcap: its file reader copies every record through stdio, one
 * fread() for the record header and one for the packet, into a buffer of
 * its own. Reading a capture is on dnsfirst's hot path, and a map lets the
 * decoder read each packet where it lies in the file. libpcap still opens
 * every file first, reads pcapng and pipes, and is the reference this
 * reader is tested against (tests/differential/pcap_files.c and
 * tests/fuzz/fuzz_pcap_map.c).
 *
 * The format, as libpcap 1.10 reads it:
 * - A 24-byte file header: magic, version major and minor (16 bits each),
 *   time zone, time stamp accuracy, snapshot length, link type. The magic
 *   0xa1b2c3d4 marks microsecond time stamps and 0xa1b23c4d nanosecond
 *   ones. Read in the wrong byte order it shows which order every other
 *   field of the file is in.
 * - Versions 2.0 to 2.4 and 543.0 are accepted. Before 2.3, and in 543.0
 *   (DG/UX), a record gives the wire length before the captured length.
 *   Version 2.3 files were written both ways: libpcap swaps the two when
 *   the captured length is the larger one.
 * - The link type is a LINKTYPE_* value in the low 26 bits. The top 6 bits
 *   carry the FCS length of the frames and are masked off. A few LINKTYPE_*
 *   values differ from the DLT_* value that pcap_datalink() returns.
 * - A snapshot length of 0 or over INT_MAX is replaced by the maximum
 *   captured length for the link type: 262144 bytes, 1 MiB for
 *   DLT_USBPCAP, 8 MiB for DLT_EBHSCR, 128 MiB for DLT_DBUS.
 * - Each record: a 16-byte header (seconds, fraction of a second, captured
 *   length, wire length) and then the captured bytes. libpcap 1.10 takes
 *   the 32-bit seconds as signed in a file of the host's byte order, and
 *   as unsigned in a file of the other order.
 * - A captured length over the link type's maximum is an error. One over
 *   the snapshot length but within that maximum is not: libpcap returns the
 *   first snapshot-length bytes and skips the rest of the record.
 * - The file may end after any whole record. A record header or a record
 *   cut short by the end of the file is an error.
 */
#include "input/pcap_map.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

#define FILE_HEADER_LEN 24
#define RECORD_HEADER_LEN 16

#define MAGIC_MICROSECONDS 0xa1b2c3d4u
#define MAGIC_NANOSECONDS 0xa1b23c4du
/* A variant with a longer record header, left to libpcap. */
#define MAGIC_MODIFIED 0xa1b2cd34u
/* The first block type of a pcapng file, the same in both byte orders. */
#define MAGIC_PCAPNG 0x0a0d0d0au

#define LINK_TYPE_MASK 0x03ffffffu

/* Largest captured length libpcap accepts for most link types (MAXIMUM_SNAPLEN). */
#define CAPLEN_MAX_DEFAULT 262144u

/* LINKTYPE_* values that pcap_datalink() reports as a different DLT_* value. */
static const struct {
    uint32_t linktype;
    int dlt;
} link_type_dlts[] = {
    { 100, DLT_ATM_RFC1483 },
    { 101, DLT_RAW },
    { 102, DLT_SLIP_BSDOS },
    { 103, DLT_PPP_BSDOS },
    { 106, DLT_ATM_CLIP },
    { 246, DLT_PFSYNC },
    { 258, DLT_PKTAP },
};

/*
 * Bytes read between two calls to update_window(), which keeps about this
 * much of the file mapped in. An empty loop over the 10M-packet capture of
 * bench/ (2 cores, warm page cache, median of 7) took 150 ms of CPU time
 * with windows of 1, 2, 4 or 8 MiB. Peak RSS was 5.3 MB with 2 MiB and
 * 11.4 MB with 8 MiB, so the window is small. Without the page tables
 * filled ahead, the loop took 180 ms.
 */
#define WINDOW_LEN ((size_t)2 << 20)

/* Order of the two length fields of a record header. */
enum length_order {
    LENGTHS_CAPLEN_FIRST, /* version 2.4: captured length, then wire length */
    LENGTHS_WIRE_FIRST,   /* before 2.3, and 543.0 */
    LENGTHS_EITHER,       /* 2.3: swapped when the first is larger */
};

struct pcap_map {
    const uint8_t *base;
    size_t size;          /* file size, all of it mapped */
    size_t offset;        /* start of the next record, or of the damaged one */
    size_t released;      /* pages before this offset were given back */
    size_t recent[PCAP_MAP_KEEP_RECORDS]; /* offsets of the records returned last */
    size_t window_end;    /* update_window() runs once offset reaches this */
    size_t page_size;
    uint64_t packets;
    bool swapped;         /* file byte order differs from the host's */
    bool nanoseconds;
    bool failed;
    enum length_order lengths;
    int link_type;        /* DLT_* */
    uint32_t snaplen;
    uint32_t caplen_max;
    char error[160];
};

static uint32_t load_u32(const uint8_t *p, bool swapped)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return swapped ? __builtin_bswap32(v) : v;
}

static uint16_t load_u16(const uint8_t *p, bool swapped)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return swapped ? __builtin_bswap16(v) : v;
}

/* DLT_* value for a LINKTYPE_* value, as libpcap 1.10's linktype_to_dlt() on this platform. */
static int dlt_from_linktype(uint32_t linktype)
{
    for (size_t i = 0; i < sizeof(link_type_dlts) / sizeof(link_type_dlts[0]); i++) {
        if (link_type_dlts[i].linktype == linktype) {
            return link_type_dlts[i].dlt;
        }
    }
    return (int)linktype;
}

static uint32_t caplen_max_for(int dlt)
{
    switch (dlt) {
    case DLT_DBUS:
        return 128u << 20;
    case DLT_EBHSCR:
        return 8u << 20;
    case DLT_USBPCAP:
        return 1u << 20;
    default:
        return CAPLEN_MAX_DEFAULT;
    }
}

/*
 * libpcap rewrites the pseudo-header of these link types in the packet
 * bytes: of all of them when the file is in the other byte order, and the
 * wire length of some DLT_USB_LINUX_MMAPPED records in any file. A
 * read-only map cannot do that, so such files are left to libpcap.
 */
static bool rewritten_by_libpcap(int dlt, bool swapped)
{
    if (dlt == DLT_USB_LINUX_MMAPPED) {
        return true;
    }
    if (!swapped) {
        return false;
    }
    switch (dlt) {
    case DLT_PFLOG:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_USB_LINUX:
    case DLT_NFLOG:
        return true;
    default:
        return false;
    }
}

/* Read the magic number: sets m->swapped and m->nanoseconds, or returns a negative code. */
static int parse_magic(struct pcap_map *m, const char *path, char *err, size_t err_size)
{
    uint32_t magic = load_u32(m->base, false);
    uint32_t swapped = __builtin_bswap32(magic);

    if (magic == MAGIC_PCAPNG) {
        return df_error_format(-ENOTSUP, err, err_size, "%s: pcapng file", path);
    }
    if (magic == MAGIC_MODIFIED || swapped == MAGIC_MODIFIED) {
        return df_error_format(-ENOTSUP, err, err_size,
                               "%s: modified pcap format (magic 0xa1b2cd34)", path);
    }

    m->swapped = swapped == MAGIC_MICROSECONDS || swapped == MAGIC_NANOSECONDS;
    uint32_t host_magic = m->swapped ? swapped : magic;
    if (host_magic != MAGIC_MICROSECONDS && host_magic != MAGIC_NANOSECONDS) {
        return df_error_format(DF_EPCAP, err, err_size,
                               "%s: not a pcap file (magic 0x%08x)", path, magic);
    }
    m->nanoseconds = host_magic == MAGIC_NANOSECONDS;
    return 0;
}

/* Check the file header after the magic; fills in the fields of @p m that it gives. */
static int parse_header(struct pcap_map *m, const char *path, char *err, size_t err_size)
{
    const uint8_t *h = m->base;
    uint16_t major = load_u16(h + 4, m->swapped);
    uint16_t minor = load_u16(h + 6, m->swapped);
    uint32_t snaplen = load_u32(h + 16, m->swapped);
    uint32_t linktype = load_u32(h + 20, m->swapped);

    if (!((major == 2 && minor <= 4) || (major == 543 && minor == 0))) {
        return df_error_format(DF_EPCAP, err, err_size,
                               "%s: unsupported pcap version %u.%u", path, major, minor);
    }
    if (major == 543 || minor < 3) {
        m->lengths = LENGTHS_WIRE_FIRST;
    } else {
        m->lengths = minor == 3 ? LENGTHS_EITHER : LENGTHS_CAPLEN_FIRST;
    }

    m->link_type = dlt_from_linktype(linktype & LINK_TYPE_MASK);
    m->caplen_max = caplen_max_for(m->link_type);
    m->snaplen = snaplen == 0 || snaplen > INT_MAX ? m->caplen_max : snaplen;
    if (rewritten_by_libpcap(m->link_type, m->swapped)) {
        return df_error_format(-ENOTSUP, err, err_size,
                               "%s: link type %d has a pseudo-header that libpcap rewrites",
                               path, m->link_type);
    }
    return 0;
}

/*
 * Map the regular file open on @p fd into m->base.
 * NOTE: a file that another process cuts shorter while it is mapped raises
 * SIGBUS when the reader touches the pages past the new end. libpcap would
 * report a record cut short there instead.
 */
static int map_file(struct pcap_map *m, int fd, const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return df_error_format(-errno, err, err_size, "%s: fstat failed (%s)", path,
                               strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return df_error_format(-ENOTSUP, err, err_size, "%s: not a regular file", path);
    }
    if (st.st_size < FILE_HEADER_LEN) {
        return df_error_format(DF_EPCAP, err, err_size,
                               "%s: %lld bytes, shorter than a pcap file header", path,
                               (long long)st.st_size);
    }
    if ((uintmax_t)st.st_size > SIZE_MAX) {
        return df_error_format(-EFBIG, err, err_size,
                               "%s: too large to map into the address space", path);
    }

    m->size = (size_t)st.st_size;
    void *base = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) {
        return df_error_format(-errno, err, err_size, "%s: mmap failed (%s)", path,
                               strerror(errno));
    }
    m->base = base;

    /* Advice only: a kernel that ignores it reads the file all the same. */
    (void)madvise(base, m->size, MADV_SEQUENTIAL);
    return 0;
}

int pcap_map_open(const char *path, struct pcap_map **out, char *err, size_t err_size)
{
    struct pcap_map *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return df_error_format(-ENOMEM, err, err_size, "out of memory");
    }
    m->page_size = (size_t)sysconf(_SC_PAGESIZE);

    /* O_NONBLOCK: opening a FIFO must neither wait for a writer nor take its data. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int ret = df_error_format(-errno, err, err_size, "%s: open failed (%s)", path,
                                  strerror(errno));
        free(m);
        return ret;
    }
    int ret = map_file(m, fd, path, err, err_size);
    close(fd);
    if (ret == 0) {
        ret = parse_magic(m, path, err, err_size);
    }
    if (ret == 0) {
        ret = parse_header(m, path, err, err_size);
    }
    if (ret != 0) {
        pcap_map_close(m);
        return ret;
    }

    m->offset = FILE_HEADER_LEN;
    m->window_end = 0; /* the first pcap_map_next() sets up the first window */
    *out = m;
    return 0;
}

void pcap_map_close(struct pcap_map *map)
{
    if (map == NULL) {
        return;
    }
    if (map->base != NULL) {
        munmap((void *)map->base, map->size);
    }
    free(map);
}

int pcap_map_link_type(const struct pcap_map *map)
{
    return map->link_type;
}

uint32_t pcap_map_snaplen(const struct pcap_map *map)
{
    return map->snaplen;
}

uint64_t pcap_map_packets(const struct pcap_map *map)
{
    return map->packets;
}

uint64_t pcap_map_offset(const struct pcap_map *map)
{
    return map->offset;
}

const char *pcap_map_error(const struct pcap_map *map)
{
    return map->error;
}

/*
 * Move the window to the next record. The pages before it go back to the
 * kernel, except those of the last PCAP_MAP_KEEP_RECORDS records, because
 * the caller is done with the earlier records. They stay in
 * the page cache, but the process's resident size does not grow with the
 * file. One MADV_POPULATE_READ call fills the page tables of the window
 * ahead, which costs less than a page fault every few pages. Kernels older
 * than Linux 5.14 reject that advice and fault the pages in as they are read.
 * Not inlined, because it runs once a window and pcap_map_next() stays short.
 */
static __attribute__((noinline)) void update_window(struct pcap_map *m)
{
    size_t start = m->offset & ~(m->page_size - 1);
    size_t keep_from = start;
    for (size_t i = 0; i < PCAP_MAP_KEEP_RECORDS; i++) {
        keep_from = m->recent[i] < keep_from ? m->recent[i] : keep_from;
    }
    keep_from &= ~(m->page_size - 1);
    if (keep_from > m->released) {
        (void)madvise((void *)(m->base + m->released), keep_from - m->released, MADV_DONTNEED);
        m->released = keep_from;
    }

    size_t len = m->size - start < WINDOW_LEN ? m->size - start : WINDOW_LEN;
#ifdef MADV_POPULATE_READ
    if (len > 0) {
        (void)madvise((void *)(m->base + start), len, MADV_POPULATE_READ);
    }
#endif
    m->window_end = m->offset + WINDOW_LEN;
}

static int fail(struct pcap_map *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pcap_map *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->error, sizeof(m->error), fmt, ap);
    va_end(ap);
    m->failed = true;
    return DF_EPCAP;
}

int pcap_map_next(struct pcap_map *map, struct pcap_map_record *rec)
{
    if (map->failed) {
        return DF_EPCAP;
    }
    if (map->offset >= map->window_end) {
        update_window(map);
    }

    /* No byte left is the normal end; a part of a record header is damage. */
    size_t left = map->size - map->offset;
    if (left < RECORD_HEADER_LEN) {
        if (left == 0) {
            return 0;
        }
        return fail(map, "record header cut short: %zu of %d bytes before the end of the file",
                    left, RECORD_HEADER_LEN);
    }

    const uint8_t *h = map->base + map->offset;
    uint32_t seconds = load_u32(h, map->swapped);
    uint32_t fraction = load_u32(h + 4, map->swapped);
    uint32_t caplen = load_u32(h + 8, map->swapped);
    uint32_t wire_len = load_u32(h + 12, map->swapped);
    if (map->lengths != LENGTHS_CAPLEN_FIRST &&
        (map->lengths == LENGTHS_WIRE_FIRST || caplen > wire_len)) {
        uint32_t first = caplen;
        caplen = wire_len;
        wire_len = first;
    }

    if (caplen > map->caplen_max) {
        return fail(map, "captured length %u is over the maximum of %u for link type %d",
                    caplen, map->caplen_max, map->link_type);
    }
    if (left - RECORD_HEADER_LEN < caplen) {
        return fail(map, "record cut short: %zu of %u captured bytes before the end of the file",
                    left - RECORD_HEADER_LEN, caplen);
    }

    rec->data = h + RECORD_HEADER_LEN;
    /* Signed or not, as libpcap has it: see the format notes at the top. */
    rec->ts_sec = map->swapped ? (int64_t)seconds : (int64_t)(int32_t)seconds;
    rec->ts_nsec = map->nanoseconds ? fraction : fraction * 1000u;
    rec->caplen = caplen > map->snaplen ? map->snaplen : caplen;
    rec->wire_len = wire_len;
    map->recent[map->packets % PCAP_MAP_KEEP_RECORDS] = map->offset;
    map->offset += RECORD_HEADER_LEN + (size_t)caplen;
    map->packets++;
    return 1;
}
