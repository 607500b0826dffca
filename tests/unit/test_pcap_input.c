/* SPDX-License-Identifier: MIT */
/*
 * pcap_input_run() on one classic pcap file, which goes through pcap_map,
 * against the libpcap paths it falls back to. The tests check the packets,
 * the error message for a damaged file and the stop flag. A FIFO and a
 * big-endian LINUX_SLL file must stay with libpcap and still be read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "input/pcap_input.h"
#include "input/pcap_map.h"

#define RECORDS_MAX 6000

/* What pcap_input_run() delivered. */
struct delivery {
    size_t count;
    int link_type[RECORDS_MAX];
    int64_t ts_sec[RECORDS_MAX];
    uint32_t ts_nsec[RECORDS_MAX];
    uint32_t caplen[RECORDS_MAX];
    uint32_t wire_len[RECORDS_MAX];
    uint64_t packet_number[RECORDS_MAX];
    uint8_t first_byte[RECORDS_MAX];
    size_t errors;
    char error[1024];
    size_t stop_after; /* set *stop after this many packets; 0 never */
    size_t ahead_count; /* packets seen by on_ahead */
    size_t ahead_stop_at; /* on_ahead returns false at this count; 0 never */
    uint8_t ahead_first_byte[RECORDS_MAX];
    volatile sig_atomic_t *stop;
};

static char tmp_dir[] = "/tmp/dnsfirst-test-pcap-input.XXXXXX";

static void on_packet(void *ctx, const struct packet *pkt)
{
    struct delivery *d = ctx;
    assert_true(d->count < RECORDS_MAX);
    size_t i = d->count++;
    d->link_type[i] = pkt->link_type;
    d->ts_sec[i] = pkt->ts_sec;
    d->ts_nsec[i] = pkt->ts_nsec;
    d->caplen[i] = pkt->caplen;
    d->wire_len[i] = pkt->wire_len;
    d->packet_number[i] = pkt->origin.packet_number;
    d->first_byte[i] = pkt->caplen > 0 ? pkt->data[0] : 0;
    /* A mapped file is read ahead: this packet went to on_ahead first, with the same bytes. */
    if (d->ahead_count > i) {
        assert_true(d->ahead_count > i);
        assert_true(d->ahead_count - i <= PCAP_INPUT_AHEAD);
        assert_int_equal(d->ahead_first_byte[i], d->first_byte[i]);
    }
    if (d->stop_after != 0 && d->count == d->stop_after) {
        *d->stop = 1;
    }
}

static bool on_ahead(void *ctx, const struct packet *pkt)
{
    struct delivery *d = ctx;
    assert_true(d->ahead_count < RECORDS_MAX);
    assert_int_equal(pkt->origin.packet_number, d->ahead_count + 1);
    d->ahead_first_byte[d->ahead_count++] = pkt->caplen > 0 ? pkt->data[0] : 0;
    return d->ahead_count != d->ahead_stop_at;
}

static void on_error(void *ctx, const char *message)
{
    struct delivery *d = ctx;
    d->errors++;
    snprintf(d->error, sizeof(d->error), "%s", message);
}

/* Read @p paths with pcap_input_run() into @p d. */
static void run_files(const char *const *paths, size_t count, struct delivery *d)
{
    char err[1024];
    struct pcap_input *in = NULL;
    assert_int_equal(pcap_input_open(paths, count, &in, err, sizeof(err)), 0);
    volatile sig_atomic_t stop = 0;
    d->stop = &stop;
    struct pcap_input_handlers handlers = {
        .on_packet = on_packet,
        .on_ahead = on_ahead,
        .on_error = on_error,
        .ctx = d,
    };
    pcap_input_run(in, &handlers, &stop);
    pcap_input_close(in);
}

/*
 * Read the one file at @p path into a new delivery, whose on_ahead returns
 * false at @p ahead_stop_at packets (0: never). Free it with free().
 */
static struct delivery *deliver_file(const char *path, size_t ahead_stop_at)
{
    struct delivery *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    d->ahead_stop_at = ahead_stop_at;
    const char *paths[] = { path };
    run_files(paths, 1, d);
    return d;
}

static void put_u32(FILE *f, uint32_t v, int big_endian)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    if (big_endian) {
        uint8_t be[4] = { b[3], b[2], b[1], b[0] };
        memcpy(b, be, 4);
    }
    fwrite(b, 1, 4, f);
}

/*
 * Write a microsecond pcap file of @p records records of 60 bytes (the
 * first byte of record i is i % 256), link type @p linktype, snapshot
 * length @p snaplen, then @p tail_len bytes of one more record.
 */
static const char *write_capture_snaplen(const char *name, size_t records, uint32_t linktype,
                                         int big_endian, size_t tail_len, uint32_t snaplen)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    put_u32(f, 0xa1b2c3d4u, big_endian);
    static const uint8_t version_big_endian[4] = { 0, 2, 0, 4 };
    static const uint8_t version_little_endian[4] = { 2, 0, 4, 0 };
    fwrite(big_endian ? version_big_endian : version_little_endian, 1, 4, f);
    put_u32(f, 0, big_endian);
    put_u32(f, 0, big_endian);
    put_u32(f, snaplen, big_endian);
    put_u32(f, linktype, big_endian);

    uint8_t data[60];
    for (size_t i = 0; i <= records; i++) {
        put_u32(f, 1700000000 + (uint32_t)(i / 1000), big_endian);
        put_u32(f, (uint32_t)(i % 1000) * 1000, big_endian);
        put_u32(f, sizeof(data), big_endian);
        put_u32(f, 100, big_endian);
        memset(data, (int)(i % 256), sizeof(data));
        if (i < records) {
            fwrite(data, 1, sizeof(data), f);
        }
    }
    /* The loop wrote the header of one more record. Keep tail_len bytes of that record. */
    fflush(f);
    long end = ftell(f);
    fclose(f);
    assert_int_equal(truncate(path, end - 16 + (long)tail_len), 0);
    return path;
}

static const char *write_capture(const char *name, size_t records, uint32_t linktype,
                                 int big_endian, size_t tail_len)
{
    return write_capture_snaplen(name, records, linktype, big_endian, tail_len, 65535);
}

static void assert_same_packets(const struct delivery *a, const struct delivery *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        assert_int_equal(a->link_type[i], b->link_type[i]);
        assert_int_equal(a->ts_sec[i], b->ts_sec[i]);
        assert_int_equal(a->ts_nsec[i], b->ts_nsec[i]);
        assert_int_equal(a->caplen[i], b->caplen[i]);
        assert_int_equal(a->wire_len[i], b->wire_len[i]);
        assert_int_equal(a->packet_number[i], b->packet_number[i]);
        assert_int_equal(a->first_byte[i], b->first_byte[i]);
    }
}

static void test_pcap_input_single_file_is_mapped(void **state)
{
    (void)state;
    const char *path = write_capture("mapped.pcap", 3, 1, 0, 0);
    char err[256];
    struct pcap_map *map = NULL;
    assert_int_equal(pcap_map_open(path, &map, err, sizeof(err)), 0);
    pcap_map_close(map);

    struct delivery *d = deliver_file(path, 0);
    assert_int_equal(d->count, 3);
    assert_int_equal(d->ahead_count, 3);
    assert_int_equal(d->errors, 0);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(d->link_type[i], DLT_EN10MB);
        assert_int_equal(d->ts_sec[i], 1700000000);
        assert_int_equal(d->ts_nsec[i], i * 1000 * 1000);
        assert_int_equal(d->caplen[i], 60);
        assert_int_equal(d->wire_len[i], 100);
        assert_int_equal(d->packet_number[i], i + 1);
        assert_int_equal(d->first_byte[i], i);
    }
    free(d);
}

/*
 * When on_ahead returns false, the packets already read ahead are still
 * delivered in order, and the rest of the file (less than a pause) goes to
 * on_packet alone.
 */
static void test_pcap_input_ahead_pause(void **state)
{
    (void)state;
    const char *path = write_capture("pause.pcap", 100, 1, 0, 0);
    struct delivery *d = deliver_file(path, 20);
    assert_int_equal(d->ahead_count, 20);
    assert_int_equal(d->count, 100);
    assert_int_equal(d->errors, 0);
    for (size_t i = 0; i < 100; i++) {
        assert_int_equal(d->packet_number[i], i + 1);
        assert_int_equal(d->first_byte[i], i);
    }
    free(d);
}

/* Two files go through libpcap and the merge. The second file here has no records. */
static void test_pcap_input_mapped_matches_libpcap(void **state)
{
    (void)state;
    char mapped[256];
    snprintf(mapped, sizeof(mapped), "%s", write_capture("many.pcap", 2500, 1, 0, 0));
    const char *empty = write_capture("empty.pcap", 0, 1, 0, 0);

    struct delivery *from_map = calloc(1, sizeof(*from_map));
    struct delivery *from_libpcap = calloc(1, sizeof(*from_libpcap));
    assert_non_null(from_map);
    assert_non_null(from_libpcap);
    const char *single[] = { mapped };
    const char *both[] = { mapped, empty };
    run_files(single, 1, from_map);
    run_files(both, 2, from_libpcap);
    assert_int_equal(from_map->count, 2500);
    assert_same_packets(from_map, from_libpcap);
    free(from_map);
    free(from_libpcap);
}

static void test_pcap_input_reports_cut_record(void **state)
{
    (void)state;
    const char *path = write_capture("cut.pcap", 2, 1, 0, 16 + 10);
    struct delivery *d = deliver_file(path, 0);
    assert_int_equal(d->count, 2);
    assert_int_equal(d->errors, 1);

    /* The damaged record starts after the 24-byte file header and two records of 76 bytes. */
    char expected[512];
    snprintf(expected, sizeof(expected),
             "%s: capture damaged after packet 2, at byte offset 176 (", path);
    assert_memory_equal(d->error, expected, strlen(expected));
    free(d);
}

static void test_pcap_input_reports_cut_header(void **state)
{
    (void)state;
    const char *path = write_capture("cut-header.pcap", 1, 1, 0, 5);
    struct delivery *d = deliver_file(path, 0);
    assert_int_equal(d->count, 1);
    assert_int_equal(d->errors, 1);
    char expected[512];
    snprintf(expected, sizeof(expected),
             "%s: capture damaged after packet 1, at byte offset 100 (", path);
    assert_memory_equal(d->error, expected, strlen(expected));
    free(d);
}

/*
 * Records over the snapshot length come out cut to it, but the offset in
 * the error message still counts their whole length in the file.
 */
static void test_pcap_input_offset_after_long_records(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s", write_capture_snaplen("long.pcap", 2, 1, 0, 16 + 10, 16));
    const char *empty = write_capture("empty.pcap", 0, 1, 0, 0);
    char expected[512];
    snprintf(expected, sizeof(expected),
             "%s: capture damaged after packet 2, at byte offset 176 (", path);

    /* Alone, the file is mapped. With a second file, libpcap reads it. */
    const char *single[] = { path };
    const char *both[] = { path, empty };
    for (size_t files = 1; files <= 2; files++) {
        struct delivery *d = calloc(1, sizeof(*d));
        assert_non_null(d);
        run_files(files == 1 ? single : both, files, d);
        assert_int_equal(d->count, 2);
        assert_int_equal(d->caplen[0], 16);
        assert_int_equal(d->wire_len[0], 100);
        assert_int_equal(d->errors, 1);
        assert_memory_equal(d->error, expected, strlen(expected));
        free(d);
    }
}

static void test_pcap_input_stops_on_flag(void **state)
{
    (void)state;
    const char *path = write_capture("stop.pcap", RECORDS_MAX - 1, 1, 0, 0);
    struct delivery *d = calloc(1, sizeof(*d));
    assert_non_null(d);
    d->stop_after = 1;
    const char *paths[] = { path };
    run_files(paths, 1, d);

    /* The flag is checked between batches of a few thousand packets. */
    assert_true(d->count >= 1);
    assert_true(d->count < RECORDS_MAX - 1);
    assert_int_equal(d->errors, 0);
    free(d);
}

/* A big-endian LINUX_SLL file: libpcap rewrites its pseudo-header, so it is not mapped. */
static void test_pcap_input_swapped_sll_uses_libpcap(void **state)
{
    (void)state;
    const char *path = write_capture("sll.pcap", 4, DLT_LINUX_SLL, 1, 0);
    char err[256];
    struct pcap_map *map = NULL;
    assert_int_equal(pcap_map_open(path, &map, err, sizeof(err)), -ENOTSUP);

    struct delivery *d = deliver_file(path, 0);
    assert_int_equal(d->count, 4);
    assert_int_equal(d->ahead_count, 0); /* only mapped files are read ahead */
    assert_int_equal(d->errors, 0);
    assert_int_equal(d->link_type[0], DLT_LINUX_SLL);
    free(d);
}

/* A FIFO cannot be mapped: the run falls back to libpcap and reads every packet. */
static void test_pcap_input_fifo_uses_libpcap(void **state)
{
    (void)state;
    const char *file = write_capture("for-fifo.pcap", 300, 1, 0, 0);
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", file);
    char fifo[256];
    snprintf(fifo, sizeof(fifo), "%s/fifo", tmp_dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        FILE *in = fopen(copy, "rb");
        FILE *out = fopen(fifo, "wb");
        char buf[4096];
        size_t n;
        while (in != NULL && out != NULL && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
            fwrite(buf, 1, n, out);
        }
        _exit(in != NULL && out != NULL && fclose(out) == 0 ? 0 : 1);
    }

    struct delivery *d = deliver_file(fifo, 0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(d->count, 300);
    assert_int_equal(d->errors, 0);
    assert_int_equal(d->packet_number[299], 300);
    free(d);
    unlink(fifo);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = { "mapped.pcap", "many.pcap", "empty.pcap",
                                         "cut.pcap", "cut-header.pcap", "long.pcap", "stop.pcap",
                                         "sll.pcap", "for-fifo.pcap", "fifo" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/%s", tmp_dir, names[i]);
        unlink(path);
    }
    return rmdir(tmp_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcap_input_single_file_is_mapped),
        cmocka_unit_test(test_pcap_input_ahead_pause),
        cmocka_unit_test(test_pcap_input_mapped_matches_libpcap),
        cmocka_unit_test(test_pcap_input_reports_cut_record),
        cmocka_unit_test(test_pcap_input_reports_cut_header),
        cmocka_unit_test(test_pcap_input_offset_after_long_records),
        cmocka_unit_test(test_pcap_input_stops_on_flag),
        cmocka_unit_test(test_pcap_input_swapped_sll_uses_libpcap),
        cmocka_unit_test(test_pcap_input_fifo_uses_libpcap),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
