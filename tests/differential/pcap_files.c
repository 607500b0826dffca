/* SPDX-License-Identifier: MIT */
/*
 * pcap_files.c - dnsfirst's mapped pcap reader (pcap_map) against libpcap's
 * file reader.
 *
 * Usage: pcap_files DATA_DIR [CORPUS_DIR]   (DNSFIRST_CORPUS overrides CORPUS_DIR)
 *
 * Every .pcap file under DATA_DIR and, when it exists, under CORPUS_DIR
 * (both searched recursively) is read by both: libpcap opened at
 * nanosecond precision, as pcap_input.c opens files, and pcap_map. pcapng
 * files are skipped, and every classic pcap file must map. Both readers
 * must agree on whether the file opens, and then on the link type and the
 * snapshot length. They must agree on every record (time stamp, captured
 * and wire length, bytes), and both must end cleanly or both with an error
 * at the same record.
 *
 * Then hand-made files are read the same way, and each has an expected
 * result of its own as well. They cover:
 * - both byte orders and both time stamp resolutions;
 * - a file header, a record header and a record cut short;
 * - captured lengths over the snapshot length and over the maximum;
 * - old versions whose length fields are swapped;
 * - every link type from 0 to 300, with and without the FCS bits;
 * - odd snapshot lengths and time stamps;
 * - files that pcap_map leaves to libpcap;
 * - a 20 MiB file that crosses several map windows.
 * Finally, DATA_DIR/sample.pcap is cut at every byte and compared again.
 *
 * Exits 0 when every comparison and check passes, 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/pcap_map.h"
#include "util/error.h"

/* How a reading ended. */
enum ending {
    END_CLEAN,       /* both read every record and reached the end */
    END_ERROR,       /* both failed at the same record */
    END_NOT_OPENED,  /* both rejected the file header */
    END_UNSUPPORTED, /* pcap_map left the file to libpcap (-ENOTSUP) */
    END_DIFFERENT,   /* the readers disagreed, and the reason was printed */
};

static const char *const ending_names[] = {
    "a clean end", "an error", "no open", "left to libpcap", "a difference",
};

/* What both readers agreed on, for the checks of the hand-made files. */
struct outcome {
    enum ending ending;
    uint64_t records;
    uint64_t error_offset; /* pcap_map_offset() after an error */
    int link_type;
    uint32_t snaplen;
    int64_t first_sec;     /* time stamp and lengths of the first record */
    uint32_t first_nsec;
    uint32_t first_caplen;
    uint32_t first_wire_len;
};

static int failures;
static uint64_t files_compared;
static uint64_t records_compared;

static void fail(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(const char *label, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s: ", label);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

/* Step both readers through the records. Returns END_CLEAN, END_ERROR or END_DIFFERENT. */
static enum ending compare_records(const char *label, pcap_t *p, struct pcap_map *map,
                                   struct outcome *out)
{
    for (uint64_t record = 0;; record++) {
        struct pcap_pkthdr *hdr = NULL;
        const u_char *bytes = NULL;
        int theirs = pcap_next_ex(p, &hdr, &bytes);
        struct pcap_map_record rec;
        int ours = pcap_map_next(map, &rec);

        if (theirs == PCAP_ERROR_BREAK && ours == 0) {
            return END_CLEAN;
        }
        if (theirs == PCAP_ERROR && ours == DF_EPCAP) {
            out->error_offset = pcap_map_offset(map);
            return END_ERROR;
        }
        if (theirs != 1 || ours != 1) {
            fail(label, "record %llu: libpcap returned %d (%s), pcap_map %d (%s)",
                 (unsigned long long)record, theirs, theirs == PCAP_ERROR ? pcap_geterr(p) : "",
                 ours, ours < 0 ? pcap_map_error(map) : "");
            return END_DIFFERENT;
        }

        if (hdr->ts.tv_sec != rec.ts_sec || (uint32_t)hdr->ts.tv_usec != rec.ts_nsec ||
            hdr->caplen != rec.caplen || hdr->len != rec.wire_len) {
            fail(label, "record %llu: libpcap %lld.%09u caplen %u len %u, "
                 "pcap_map %lld.%09u caplen %u len %u", (unsigned long long)record,
                 (long long)hdr->ts.tv_sec, (uint32_t)hdr->ts.tv_usec, hdr->caplen, hdr->len,
                 (long long)rec.ts_sec, rec.ts_nsec, rec.caplen, rec.wire_len);
            return END_DIFFERENT;
        }
        if (memcmp(bytes, rec.data, rec.caplen) != 0) {
            fail(label, "record %llu: captured bytes differ", (unsigned long long)record);
            return END_DIFFERENT;
        }

        if (record == 0) {
            out->first_sec = rec.ts_sec;
            out->first_nsec = rec.ts_nsec;
            out->first_caplen = rec.caplen;
            out->first_wire_len = rec.wire_len;
        }
        out->records++;
        records_compared++;
    }
}

/* Read @p path with both readers and compare. *out receives what they agreed on. */
static enum ending compare_file(const char *path, const char *label, struct outcome *out)
{
    memset(out, 0, sizeof(*out));
    files_compared++;

    char pcap_err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO,
                                                        pcap_err);
    char err[512];
    struct pcap_map *map = NULL;
    int ret = pcap_map_open(path, &map, err, sizeof(err));

    if (ret == -ENOTSUP) {
        out->ending = END_UNSUPPORTED;
    } else if (p == NULL && ret != 0) {
        out->ending = END_NOT_OPENED;
    } else if (p == NULL || ret != 0) {
        fail(label, "libpcap %s, pcap_map %s", p != NULL ? "opened it" : pcap_err,
             ret == 0 ? "opened it" : err);
        out->ending = END_DIFFERENT;
    } else if (pcap_datalink(p) != pcap_map_link_type(map) ||
               (uint32_t)pcap_snapshot(p) != pcap_map_snaplen(map)) {
        fail(label, "libpcap link type %d snapshot %d, pcap_map link type %d snapshot %u",
             pcap_datalink(p), pcap_snapshot(p), pcap_map_link_type(map),
             pcap_map_snaplen(map));
        out->ending = END_DIFFERENT;
    } else {
        out->link_type = pcap_map_link_type(map);
        out->snaplen = pcap_map_snaplen(map);
        out->ending = compare_records(label, p, map, out);
    }

    pcap_map_close(map);
    if (p != NULL) {
        pcap_close(p);
    }
    return out->ending;
}

/* Compare and require @p expected as the ending. */
static void expect_ending(const char *path, const char *label, enum ending expected,
                          struct outcome *out)
{
    enum ending got = compare_file(path, label, out);
    if (got != expected && got != END_DIFFERENT) {
        fail(label, "expected %s, both readers gave %s", ending_names[expected],
             ending_names[got]);
    }
}

static void expect_u64(const char *label, const char *field, uint64_t got, uint64_t expected)
{
    if (got != expected) {
        fail(label, "%s is %llu, expected %llu", field, (unsigned long long)got,
             (unsigned long long)expected);
    }
}

static void expect_int(const char *label, const char *field, int got, int expected)
{
    if (got != expected) {
        fail(label, "%s is %d, expected %d", field, got, expected);
    }
}

/* ---- Files on disk -------------------------------------------------------- */

static bool has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name);
    size_t m = strlen(suffix);
    return n >= m && strcmp(name + n - m, suffix) == 0;
}

static bool is_pcapng(const char *path)
{
    uint8_t magic[4] = { 0 };
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    size_t n = fread(magic, 1, sizeof(magic), f);
    fclose(f);
    return n == 4 && magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d &&
           magic[3] == 0x0a;
}

/* Compare every classic .pcap under @p dir, each of which must map. Returns the files compared. */
static int compare_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fail(dir, "cannot open the directory (%s)", strerror(errno));
        return 0;
    }
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            count += compare_tree(path);
            continue;
        }
        if (!S_ISREG(st.st_mode) || !has_suffix(e->d_name, ".pcap") || is_pcapng(path)) {
            continue;
        }
        struct outcome out;
        enum ending ending = compare_file(path, path, &out);
        if (ending == END_UNSUPPORTED || ending == END_NOT_OPENED) {
            fail(path, "a classic pcap file that pcap_map did not read (%s)",
                 ending_names[ending]);
        }
        count++;
    }
    closedir(d);
    return count;
}

/* ---- Hand-made files ------------------------------------------------------ */

/* A file under construction, written in either byte order. */
struct builder {
    uint8_t *buf;
    size_t len;
    size_t cap;
    bool big_endian;
};

static void put_bytes(struct builder *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2;
        b->buf = realloc(b->buf, b->cap);
        if (b->buf == NULL) {
            abort();
        }
    }
    memcpy(b->buf + b->len, data, len);
    b->len += len;
}

static void put_u32(struct builder *b, uint32_t v)
{
    uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    uint8_t be[4] = { le[3], le[2], le[1], le[0] };
    put_bytes(b, b->big_endian ? be : le, 4);
}

static void put_u16(struct builder *b, uint16_t v)
{
    uint8_t le[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    uint8_t be[2] = { le[1], le[0] };
    put_bytes(b, b->big_endian ? be : le, 2);
}

struct file_header {
    uint32_t magic;
    uint16_t major;
    uint16_t minor;
    uint32_t snaplen;
    uint32_t linktype;
};

#define MICRO 0xa1b2c3d4u
#define NANO 0xa1b23c4du
#define HEADER(magic_, snaplen_, linktype_) \
    ((struct file_header){ (magic_), 2, 4, (snaplen_), (linktype_) })

static void put_file_header(struct builder *b, struct file_header h)
{
    put_u32(b, h.magic);
    put_u16(b, h.major);
    put_u16(b, h.minor);
    put_u32(b, 0); /* time zone */
    put_u32(b, 0); /* time stamp accuracy */
    put_u32(b, h.snaplen);
    put_u32(b, h.linktype);
}

/* Append a record of @p data_len pattern bytes, with the length fields in the order given. */
static void put_record(struct builder *b, uint32_t sec, uint32_t frac, uint32_t first_len,
                       uint32_t second_len, size_t data_len)
{
    put_u32(b, sec);
    put_u32(b, frac);
    put_u32(b, first_len);
    put_u32(b, second_len);
    for (size_t i = 0; i < data_len; i++) {
        uint8_t byte = (uint8_t)(i * 7 + sec);
        put_bytes(b, &byte, 1);
    }
}

static char tmp_dir[] = "/tmp/dnsfirst-pcap-files.XXXXXX";

/* Write @p len bytes of @p data to a file named @p name in the temporary directory. */
static const char *write_file(const char *name, const void *data, size_t len)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s (%s)\n", path, strerror(errno));
        exit(1);
    }
    return path;
}

static const char *write_builder(const char *name, struct builder *b)
{
    const char *path = write_file(name, b->buf, b->len);
    free(b->buf);
    memset(b, 0, sizeof(*b));
    return path;
}

static void remove_tmp_dir(void)
{
    DIR *d = opendir(tmp_dir);
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
        if (e->d_name[0] != '.') {
            unlink(path);
        }
    }
    closedir(d);
    rmdir(tmp_dir);
}

/* Three 60-byte records in each byte order and resolution. */
static void check_orders_and_resolutions(void)
{
    static const struct {
        const char *name;
        bool big_endian;
        uint32_t magic;
        uint32_t nsec; /* first record's nanoseconds */
    } cases[] = {
        { "micro-little-endian", false, MICRO, 250000u * 1000u },
        { "micro-big-endian", true, MICRO, 250000u * 1000u },
        { "nano-little-endian", false, NANO, 250000u },
        { "nano-big-endian", true, NANO, 250000u },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct builder b = { .big_endian = cases[i].big_endian };
        put_file_header(&b, HEADER(cases[i].magic, 65535, 1));
        for (uint32_t r = 0; r < 3; r++) {
            put_record(&b, 1700000000 + r, 250000, 60, 60, 60);
        }
        const char *path = write_builder(cases[i].name, &b);
        struct outcome out;
        expect_ending(path, cases[i].name, END_CLEAN, &out);
        expect_u64(cases[i].name, "records", out.records, 3);
        expect_u64(cases[i].name, "first seconds", (uint64_t)out.first_sec, 1700000000);
        expect_u64(cases[i].name, "first nanoseconds", out.first_nsec, cases[i].nsec);
            expect_int(cases[i].name, "link type", out.link_type, DLT_EN10MB);
    }
}

/* Files that end in the middle of something. */
static void check_cut_files(void)
{
    struct builder b = { 0 };
    struct outcome out;

    put_file_header(&b, HEADER(MICRO, 65535, 1));
    const char *path = write_file("file-header-cut", b.buf, 10);
    expect_ending(path, "file-header-cut", END_NOT_OPENED, &out);

    /* Two whole records of 16 + 42 bytes, then 9 bytes of a third header. */
    put_record(&b, 1700000000, 0, 42, 42, 42);
    put_record(&b, 1700000001, 0, 42, 42, 42);
    put_record(&b, 1700000002, 0, 42, 42, 42);
    path = write_file("record-header-cut", b.buf, 24 + 2 * 58 + 9);
    expect_ending(path, "record-header-cut", END_ERROR, &out);
    expect_u64("record-header-cut", "records", out.records, 2);
    expect_u64("record-header-cut", "error offset", out.error_offset, 24 + 2 * 58);

    path = write_file("record-cut", b.buf, 24 + 2 * 58 + 16 + 41);
    expect_ending(path, "record-cut", END_ERROR, &out);
    expect_u64("record-cut", "records", out.records, 2);
    expect_u64("record-cut", "error offset", out.error_offset, 24 + 2 * 58);

    path = write_file("header-only", b.buf, 24);
    expect_ending(path, "header-only", END_CLEAN, &out);
    expect_u64("header-only", "records", out.records, 0);

    path = write_file("empty", b.buf, 0);
    expect_ending(path, "empty", END_NOT_OPENED, &out);
    free(b.buf);
}

/* Captured lengths over the snapshot length (kept) and over the maximum (an error). */
static void check_captured_lengths(void)
{
    struct builder b = { 0 };
    struct outcome out;

    /* Over the snapshot length: the first 16 bytes come out and the record is skipped whole. */
    put_file_header(&b, HEADER(MICRO, 16, 1));
    put_record(&b, 1700000000, 0, 42, 60, 42);
    put_record(&b, 1700000001, 0, 8, 60, 8);
    const char *path = write_builder("caplen-over-snaplen", &b);
    expect_ending(path, "caplen-over-snaplen", END_CLEAN, &out);
    expect_u64("caplen-over-snaplen", "records", out.records, 2);
    expect_u64("caplen-over-snaplen", "first caplen", out.first_caplen, 16);
    expect_u64("caplen-over-snaplen", "first wire length", out.first_wire_len, 60);

    /* Over the snapshot length and cut short inside the part that is skipped. */
    put_file_header(&b, HEADER(MICRO, 16, 1));
    put_record(&b, 1700000000, 0, 42, 60, 30);
    path = write_builder("caplen-over-snaplen-cut", &b);
    expect_ending(path, "caplen-over-snaplen-cut", END_ERROR, &out);
    expect_u64("caplen-over-snaplen-cut", "error offset", out.error_offset, 24);

    /* 262144 is the maximum for Ethernet: allowed, then cut to the snapshot length. */
    put_file_header(&b, HEADER(MICRO, 65535, 1));
    put_record(&b, 1700000000, 0, 262144, 262144, 262144);
    path = write_builder("caplen-at-maximum", &b);
    expect_ending(path, "caplen-at-maximum", END_CLEAN, &out);
    expect_u64("caplen-at-maximum", "first caplen", out.first_caplen, 65535);

    put_file_header(&b, HEADER(MICRO, 65535, 1));
    put_record(&b, 1700000000, 0, 60, 60, 60);
    put_record(&b, 1700000001, 0, 262145, 262145, 262145);
    path = write_builder("caplen-over-maximum", &b);
    expect_ending(path, "caplen-over-maximum", END_ERROR, &out);
    expect_u64("caplen-over-maximum", "records", out.records, 1);
    expect_u64("caplen-over-maximum", "error offset", out.error_offset, 24 + 16 + 60);

    /* A snapshot length above the maximum does not raise the maximum. */
    put_file_header(&b, HEADER(MICRO, 1000000, 1));
    put_record(&b, 1700000000, 0, 262145, 262145, 262145);
    path = write_builder("caplen-over-maximum-under-snaplen", &b);
    expect_ending(path, "caplen-over-maximum-under-snaplen", END_ERROR, &out);

    /* D-Bus allows 128 MiB. */
    put_file_header(&b, HEADER(MICRO, 0, DLT_DBUS));
    put_record(&b, 1700000000, 0, 300000, 300000, 300000);
    path = write_builder("caplen-dbus", &b);
    expect_ending(path, "caplen-dbus", END_CLEAN, &out);
    expect_u64("caplen-dbus", "snapshot length", out.snaplen, 128u << 20);
    expect_u64("caplen-dbus", "first caplen", out.first_caplen, 300000);
}

/* Versions before 2.3 and 543.0 give the wire length first; 2.3 either way. */
static void check_versions(void)
{
    static const struct {
        const char *name;
        uint16_t major;
        uint16_t minor;
        uint32_t first_field;  /* first length field of the record header */
        uint32_t second_field;
        uint32_t caplen;       /* expected */
        enum ending ending;
    } cases[] = {
        { "version-2.0", 2, 0, 60, 30, 30, END_CLEAN },
        { "version-2.2", 2, 2, 60, 30, 30, END_CLEAN },
        { "version-2.3-caplen-first", 2, 3, 30, 60, 30, END_CLEAN },
        { "version-2.3-wire-first", 2, 3, 60, 30, 30, END_CLEAN },
        { "version-2.4", 2, 4, 30, 60, 30, END_CLEAN },
        { "version-543.0", 543, 0, 60, 30, 30, END_CLEAN },
        { "version-2.5", 2, 5, 30, 60, 0, END_NOT_OPENED },
        { "version-1.0", 1, 0, 30, 60, 0, END_NOT_OPENED },
        { "version-3.0", 3, 0, 30, 60, 0, END_NOT_OPENED },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct builder b = { 0 };
        put_file_header(&b, (struct file_header){ MICRO, cases[i].major, cases[i].minor,
                                                  65535, 1 });
        put_record(&b, 1700000000, 0, cases[i].first_field, cases[i].second_field, 30);
        const char *path = write_builder(cases[i].name, &b);
        struct outcome out;
        expect_ending(path, cases[i].name, cases[i].ending, &out);
        if (cases[i].ending == END_CLEAN) {
            expect_u64(cases[i].name, "first caplen", out.first_caplen, cases[i].caplen);
        }
    }
}

/* Every link type 0-300 and a few large ones, with and without the FCS bits, in both orders. */
static void check_link_types(void)
{
    static const uint32_t ext_bits[] = { 0, 0x04000000u, 0xfc000000u };
    int mapped = 0;
    for (uint32_t lt = 0; lt <= 300 + 4; lt++) {
        uint32_t linktype = lt <= 300 ? lt : 0x03ffffffu - (lt - 301) * 1000;
        for (size_t e = 0; e < sizeof(ext_bits) / sizeof(ext_bits[0]); e++) {
            for (int big = 0; big <= 1; big++) {
                struct builder b = { .big_endian = big };
                put_file_header(&b, HEADER(MICRO, 0, linktype | ext_bits[e]));
                put_record(&b, 1700000000, 0, 60, 60, 60);
                char label[96];
                snprintf(label, sizeof(label), "link-type-%u-ext-%08x-%s", linktype,
                         ext_bits[e], big ? "big-endian" : "little-endian");
                const char *path = write_builder("link-type", &b);
                struct outcome out;
                enum ending ending = compare_file(path, label, &out);
                if (ending == END_CLEAN) {
                    mapped++;
                } else if (ending != END_UNSUPPORTED && ending != END_DIFFERENT) {
                    fail(label, "expected a clean end or a file left to libpcap, got %s",
                         ending_names[ending]);
                }
            }
        }
    }
    /*
     * Only the link types whose pseudo-header libpcap rewrites are left to
     * it: five in the other byte order (big-endian on this little-endian
     * host) and DLT_USB_LINUX_MMAPPED in both, each with three sets of bits.
     */
    expect_int("link types", "files mapped", mapped, 305 * 3 * 2 - 3 * (5 + 2));

    /* The FCS bits are masked off: LINKTYPE_RAW (101) is DLT_RAW. */
    struct builder b = { 0 };
    put_file_header(&b, HEADER(MICRO, 65535, 0x1c000000u | 101));
    put_record(&b, 1700000000, 0, 20, 20, 20);
    const char *path = write_builder("link-type-raw-fcs", &b);
    struct outcome out;
    expect_ending(path, "link-type-raw-fcs", END_CLEAN, &out);
    expect_int("link-type-raw-fcs", "link type", out.link_type, DLT_RAW);
}

/* Snapshot lengths of 0 or over INT_MAX become the link type's maximum. */
static void check_snapshot_lengths(void)
{
    static const struct {
        uint32_t header;
        uint32_t expected;
    } cases[] = {
        { 0, 262144 },         { 1, 1 },
        { 65535, 65535 },      { 262144, 262144 },
        { 0x7fffffffu, 0x7fffffffu }, { 0x80000000u, 262144 },
        { 0xffffffffu, 262144 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct builder b = { 0 };
        put_file_header(&b, HEADER(MICRO, cases[i].header, 1));
        put_record(&b, 1700000000, 0, 60, 60, 60);
        char label[64];
        snprintf(label, sizeof(label), "snaplen-%u", cases[i].header);
        const char *path = write_builder("snaplen", &b);
        struct outcome out;
        expect_ending(path, label, END_CLEAN, &out);
        expect_u64(label, "snapshot length", out.snaplen, cases[i].expected);
    }
}

/* Seconds past 2^31 and fractions past one second, in both byte orders and resolutions. */
static void check_time_stamps(void)
{
    static const uint32_t seconds[] = { 0, 0x7fffffffu, 0x80000000u, 0xffffffffu };
    static const uint32_t fractions[] = { 0, 999999, 1000000, 999999999, 4294967u,
                                          0xffffffffu };
    for (int big = 0; big <= 1; big++) {
        for (int nano = 0; nano <= 1; nano++) {
            struct builder b = { .big_endian = big };
            put_file_header(&b, HEADER(nano ? NANO : MICRO, 65535, 1));
            for (size_t s = 0; s < sizeof(seconds) / sizeof(seconds[0]); s++) {
                for (size_t f = 0; f < sizeof(fractions) / sizeof(fractions[0]); f++) {
                    put_record(&b, seconds[s], fractions[f], 1, 1, 1);
                }
            }
            char label[64];
            snprintf(label, sizeof(label), "time-stamps-%s-%s", big ? "big" : "little",
                     nano ? "nano" : "micro");
            const char *path = write_builder("time-stamps", &b);
            struct outcome out;
            expect_ending(path, label, END_CLEAN, &out);
            expect_u64(label, "records", out.records, 24);
        }
    }
}

/* Files that libpcap reads and pcap_map leaves to it, and files neither reads. */
static void check_left_to_libpcap(void)
{
    struct builder b = { 0 };
    struct outcome out;

    put_file_header(&b, HEADER(0xa1b2cd34u, 65535, 1));
    const char *path = write_builder("modified-format", &b);
    expect_ending(path, "modified-format", END_UNSUPPORTED, &out);

    b.big_endian = true;
    put_file_header(&b, HEADER(MICRO, 65535, DLT_LINUX_SLL));
    put_record(&b, 1700000000, 0, 16, 16, 16);
    path = write_builder("linux-sll-big-endian", &b);
    expect_ending(path, "linux-sll-big-endian", END_UNSUPPORTED, &out);

    put_file_header(&b, HEADER(MICRO, 65535, DLT_USB_LINUX_MMAPPED));
    path = write_builder("usb-linux-mmapped", &b);
    expect_ending(path, "usb-linux-mmapped", END_UNSUPPORTED, &out);

    /* LINUX_SLL in the host's order is read in place. */
    b.big_endian = false;
    put_file_header(&b, HEADER(MICRO, 65535, DLT_LINUX_SLL));
    put_record(&b, 1700000000, 0, 16, 16, 16);
    path = write_builder("linux-sll-little-endian", &b);
    expect_ending(path, "linux-sll-little-endian", END_CLEAN, &out);

    static const uint8_t gzip[] = { 0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    path = write_file("compressed", gzip, sizeof(gzip));
    expect_ending(path, "compressed", END_NOT_OPENED, &out);

    /* A FIFO must be rejected without blocking and without reading it. */
    char fifo[512];
    snprintf(fifo, sizeof(fifo), "%s/fifo", tmp_dir);
    if (mkfifo(fifo, 0600) != 0) {
        fail("fifo", "mkfifo failed (%s)", strerror(errno));
        return;
    }
    char err[512];
    struct pcap_map *map = NULL;
    int ret = pcap_map_open(fifo, &map, err, sizeof(err));
    expect_int("fifo", "pcap_map_open() result", ret, -ENOTSUP);
    pcap_map_close(map);
    unlink(fifo);

    ret = pcap_map_open(tmp_dir, &map, err, sizeof(err));
    expect_int("directory", "pcap_map_open() result", ret, -ENOTSUP);
    pcap_map_close(map);
}

/* 20 MiB of records of pseudo-random sizes: reads across several map windows. */
static void check_large_file(void)
{
    struct builder b = { 0 };
    put_file_header(&b, HEADER(MICRO, 65535, 1));
    uint32_t state = 2463534242u;
    uint64_t records = 0;
    while (b.len < (20u << 20)) {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        uint32_t len = state % 3000;
        put_record(&b, 1700000000 + (uint32_t)records, (uint32_t)records % 1000000, len, len,
                   len);
        records++;
    }
    const char *path = write_builder("large", &b);
    struct outcome out;
    expect_ending(path, "large", END_CLEAN, &out);
    expect_u64("large", "records", out.records, records);
}

/* Compare copies of @p path cut at every byte. */
static void check_every_cut(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail(path, "cannot open (%s)", strerror(errno));
        return;
    }
    uint8_t buf[1 << 16];
    size_t len = fread(buf, 1, sizeof(buf), f);
    fclose(f);

    int clean = 0;
    for (size_t cut = 0; cut <= len; cut++) {
        char label[4200];
        snprintf(label, sizeof(label), "%s cut to %zu bytes", path, cut);
        const char *copy = write_file("cut.pcap", buf, cut);
        struct outcome out;
        if (compare_file(copy, label, &out) == END_CLEAN) {
            clean++;
        }
    }
    /* A cut ends cleanly only at the file header's end or at a record's end. */
    printf("%s: %zu cuts compared, %d of them at a record boundary\n", path, len + 1, clean);
    if (clean < 2) {
        fail(path, "only %d cuts ended cleanly; expected one per record and the header", clean);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: pcap_files DATA_DIR [CORPUS_DIR]\n");
        return 2;
    }
    if (mkdtemp(tmp_dir) == NULL) {
        fprintf(stderr, "cannot create a temporary directory (%s)\n", strerror(errno));
        return 1;
    }

    int data_files = compare_tree(argv[1]);
    printf("%s: %d capture files compared\n", argv[1], data_files);
    if (data_files == 0) {
        fail(argv[1], "no classic pcap file found");
    }
    const char *corpus = getenv("DNSFIRST_CORPUS");
    if (corpus == NULL && argc == 3) {
        corpus = argv[2];
    }
    struct stat st;
    if (corpus != NULL && stat(corpus, &st) == 0 && S_ISDIR(st.st_mode)) {
        printf("%s: %d capture files compared\n", corpus, compare_tree(corpus));
    } else {
        printf("SKIP corpus: %s not found; only %s and the hand-made files are compared\n",
               corpus != NULL ? corpus : "no directory given", argv[1]);
    }

    check_orders_and_resolutions();
    check_cut_files();
    check_captured_lengths();
    check_versions();
    check_link_types();
    check_snapshot_lengths();
    check_time_stamps();
    check_left_to_libpcap();
    check_large_file();

    char sample[4096];
    snprintf(sample, sizeof(sample), "%s/sample.pcap", argv[1]);
    check_every_cut(sample);

    remove_tmp_dir();

    printf("%llu files and %llu records compared, %d failures\n",
           (unsigned long long)files_compared, (unsigned long long)records_compared, failures);
    return failures == 0 ? 0 : 1;
}
