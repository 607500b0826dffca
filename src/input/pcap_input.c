/* SPDX-License-Identifier: MIT */
#include "input/pcap_input.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input/pcap_map.h"
#include "util/error.h"

struct capture_file {
    pcap_t *pcap;
    const char *path;
    uint32_t index;          /* position on the command line */
    uint64_t packets;        /* records read so far */
    struct pcap_pkthdr *hdr; /* current record, owned by libpcap */
    const uint8_t *data;
    bool has_packet;         /* hdr and data hold a record not yet returned */
    bool is_pcapng;
    uint64_t offset;         /* classic pcap: byte offset of the next record */
    uint32_t snaplen;        /* pcap_snapshot() */
    bool seekable;           /* ftell() works: a file, not a pipe */
};

#define PCAP_FILE_HEADER_LEN 24
#define PCAP_RECORD_HEADER_LEN 16

struct pcap_input {
    size_t count;
    size_t open_count;
    struct capture_file files[];
};

static void file_close(struct capture_file *f)
{
    if (f->pcap != NULL) {
        pcap_close(f->pcap);
        f->pcap = NULL;
    }
    f->has_packet = false;
}

/* libpcap reads both formats behind one API; pcapng files start with a 0x0a0d0d0a block. */
static bool is_pcapng_file(pcap_t *p)
{
    FILE *fp = pcap_file(p);
    if (fp == NULL) {
        return false;
    }
    long pos = ftell(fp);
    uint8_t magic[4];
    bool pcapng = pos >= 0 && fseek(fp, 0, SEEK_SET) == 0 && fread(magic, 1, 4, fp) == 4 &&
                  magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a;
    if (pos >= 0) {
        fseek(fp, pos, SEEK_SET);
    }
    return pcapng;
}

int pcap_input_open(const char *const *paths, size_t count, struct pcap_input **out,
                    char *err, size_t err_size)
{
    struct pcap_input *in = calloc(1, sizeof(*in) + count * sizeof(in->files[0]));
    if (in == NULL) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    in->count = count;

    for (size_t i = 0; i < count; i++) {
        char pcap_err[PCAP_ERRBUF_SIZE] = "";
        struct capture_file *f = &in->files[i];
        f->path = paths[i];
        f->index = (uint32_t)i;
        f->pcap = pcap_open_offline_with_tstamp_precision(paths[i], PCAP_TSTAMP_PRECISION_NANO,
                                                          pcap_err);
        if (f->pcap == NULL) {
            snprintf(err, err_size, "%s: cannot read capture (%s)", paths[i], pcap_err);
            pcap_input_close(in);
            return DF_EPCAP;
        }
        in->open_count++;
        f->offset = PCAP_FILE_HEADER_LEN;
        f->snaplen = (uint32_t)pcap_snapshot(f->pcap);
        f->seekable = pcap_file(f->pcap) != NULL && ftell(pcap_file(f->pcap)) >= 0;
        f->is_pcapng = is_pcapng_file(f->pcap);
    }
    *out = in;
    return 0;
}

void pcap_input_close(struct pcap_input *in)
{
    if (in == NULL) {
        return;
    }
    for (size_t i = 0; i < in->count; i++) {
        file_close(&in->files[i]);
    }
    free(in);
}

/*
 * Move f->offset past a record of @p caplen bytes as libpcap returned it.
 * A record longer than the snapshot length comes out cut to it, and libpcap
 * skips the rest, so only the stream position gives the next one's start.
 * On a pipe that position is unknown, and the offsets after such a record
 * come out short.
 */
static void advance_offset(struct capture_file *f, uint32_t caplen)
{
    if (caplen >= f->snaplen && f->seekable) {
        long pos = ftell(pcap_file(f->pcap));
        if (pos >= 0) {
            f->offset = (uint64_t)pos;
            return;
        }
    }
    f->offset += PCAP_RECORD_HEADER_LEN + caplen;
}

/* Read the next record of @p f into f->hdr. Returns 1, 0 at the end, or DF_EPCAP. */
static int file_fill(struct capture_file *f, char *err, size_t err_size)
{
    if (f->pcap == NULL || f->has_packet) {
        return f->has_packet ? 1 : 0;
    }

    int ret = pcap_next_ex(f->pcap, &f->hdr, &f->data);
    if (ret == 1) {
        f->packets++;
        f->has_packet = true;
        advance_offset(f, f->hdr->caplen);
        return 1;
    }
    if (ret == PCAP_ERROR_BREAK) {
        file_close(f);
        return 0;
    }

    /* Classic pcap: records are counted from the file header, so the offset is
     * where the damaged record starts. pcapng blocks vary in size: there the
     * stream position after the failed read is the best there is. */
    long offset = (long)f->offset;
    FILE *fp = pcap_file(f->pcap);
    if (f->is_pcapng) {
        offset = fp != NULL ? ftell(fp) : -1;
    }
    snprintf(err, err_size, "%s: capture damaged after packet %llu, at byte offset %ld (%s)",
             f->path, (unsigned long long)f->packets, offset, pcap_geterr(f->pcap));
    file_close(f);
    return DF_EPCAP;
}

static bool earlier(const struct capture_file *a, const struct capture_file *b)
{
    if (a->hdr->ts.tv_sec != b->hdr->ts.tv_sec) {
        return a->hdr->ts.tv_sec < b->hdr->ts.tv_sec;
    }
    return a->hdr->ts.tv_usec < b->hdr->ts.tv_usec;
}

int pcap_input_next(struct pcap_input *in, struct packet *pkt, char *err, size_t err_size)
{
    /* Every open file has its next record read ahead; pick the earliest (ties by file order). */
    struct capture_file *best = NULL;
    for (size_t i = 0; i < in->count; i++) {
        struct capture_file *f = &in->files[i];
        int ret = file_fill(f, err, err_size);
        if (ret < 0) {
            return ret;
        }
        if (ret == 1 && (best == NULL || earlier(f, best))) {
            best = f;
        }
    }
    if (best == NULL) {
        return 0;
    }

    best->has_packet = false;
    pkt->link_type = pcap_datalink(best->pcap);
    pkt->data = best->data;
    pkt->caplen = best->hdr->caplen;
    pkt->wire_len = best->hdr->len;
    pkt->ts_sec = best->hdr->ts.tv_sec;
    pkt->ts_nsec = (uint32_t)best->hdr->ts.tv_usec; /* nanoseconds: opened at NANO precision */
    pkt->origin.input_index = best->index;
    pkt->origin.packet_number = best->packets;
    return 1;
}

/* Packets between checks of the stop flag when reading one file. */
#define DISPATCH_BATCH 4096

struct dispatch_state {
    struct capture_file *file;
    int link_type;
    pcap_input_packet_fn on_packet;
    void *ctx;
};

static void dispatch_one(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
    struct dispatch_state *ds = (struct dispatch_state *)user;
    struct capture_file *f = ds->file;
    f->packets++;
    advance_offset(f, hdr->caplen);

    struct packet pkt = {
        .link_type = ds->link_type,
        .data = data,
        .caplen = hdr->caplen,
        .wire_len = hdr->len,
        .ts_sec = hdr->ts.tv_sec,
        .ts_nsec = (uint32_t)hdr->ts.tv_usec, /* nanoseconds: opened at NANO precision */
        .origin = { .input_index = f->index, .packet_number = f->packets },
    };
    ds->on_packet(ds->ctx, &pkt);
}

static void run_single(struct capture_file *f, pcap_input_packet_fn on_packet,
                       pcap_input_error_fn on_error, void *ctx, volatile sig_atomic_t *stop)
{
    /* pcapng files may change link type per interface: only classic pcap has one. */
    struct dispatch_state ds = { f, pcap_datalink(f->pcap), on_packet, ctx };
    while (!*stop) {
        int n = pcap_dispatch(f->pcap, DISPATCH_BATCH, dispatch_one, (u_char *)&ds);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            char err[PCAP_ERRBUF_SIZE + 256];
            long offset = (long)f->offset;
            FILE *fp = pcap_file(f->pcap);
            if (f->is_pcapng) {
                offset = fp != NULL ? ftell(fp) : -1;
            }
            snprintf(err, sizeof(err),
                     "%s: capture damaged after packet %llu, at byte offset %ld (%s)", f->path,
                     (unsigned long long)f->packets, offset, pcap_geterr(f->pcap));
            on_error(ctx, err);
            break;
        }
    }
}

_Static_assert(PCAP_INPUT_AHEAD < PCAP_MAP_KEEP_RECORDS, "records read ahead must stay mapped");

/* Report the damage that ended a mapped file. */
static void mapped_error(const struct capture_file *f, const struct pcap_map *map,
                         const struct pcap_input_handlers *h)
{
    char err[PCAP_ERRBUF_SIZE + 256];
    snprintf(err, sizeof(err), "%s: capture damaged after packet %llu, at byte offset %llu (%s)",
             f->path, (unsigned long long)pcap_map_packets(map),
             (unsigned long long)pcap_map_offset(map), pcap_map_error(map));
    h->on_error(h->ctx, err);
}

static void packet_from_record(struct packet *pkt, const struct pcap_map_record *rec,
                               struct capture_file *f)
{
    pkt->data = rec->data;
    pkt->caplen = rec->caplen;
    pkt->wire_len = rec->wire_len;
    pkt->ts_sec = rec->ts_sec;
    pkt->ts_nsec = rec->ts_nsec;
    pkt->origin.packet_number = ++f->packets;
}

/* Packets read ahead of on_packet, and how many more go without on_ahead. */
struct read_ahead {
    struct packet ring[PCAP_INPUT_AHEAD];
    size_t head;
    size_t queued;
    uint64_t pause;
};

/*
 * Fill the ring from @p map, passing each packet to on_ahead, until it is
 * full, on_ahead returns false, or the file ends. Returns the last
 * return of pcap_map_next(), or 1 when it was not called.
 */
static int ahead_fill(struct read_ahead *ra, struct pcap_map *map, struct capture_file *f,
                      const struct pcap_input_handlers *h)
{
    while (ra->queued < PCAP_INPUT_AHEAD && ra->pause == 0) {
        struct pcap_map_record rec;
        int ret = pcap_map_next(map, &rec);
        if (ret <= 0) {
            return ret;
        }
        struct packet *pkt = &ra->ring[(ra->head + ra->queued) % PCAP_INPUT_AHEAD];
        packet_from_record(pkt, &rec, f);
        ra->queued++;
        if (!h->on_ahead(h->ctx, pkt)) {
            ra->pause = PCAP_INPUT_AHEAD_PAUSE;
        }
    }
    return 1;
}

/*
 * Deliver the next packet of @p map to on_packet: from the ring while it
 * contains packets, else straight from the map. Returns 1, or the 0 or
 * DF_EPCAP of pcap_map_next() at the end of the file.
 */
static int mapped_next(struct read_ahead *ra, struct pcap_map *map, struct capture_file *f,
                       const struct pcap_input_handlers *h, int *ret)
{
    if (*ret > 0 && h->on_ahead != NULL) {
        *ret = ahead_fill(ra, map, f, h);
    }
    if (ra->queued > 0) {
        h->on_packet(h->ctx, &ra->ring[ra->head]);
        ra->head = (ra->head + 1) % PCAP_INPUT_AHEAD;
        ra->queued--;
        return 1;
    }
    if (*ret <= 0) {
        return *ret;
    }

    struct pcap_map_record rec;
    *ret = pcap_map_next(map, &rec);
    if (*ret <= 0) {
        return *ret;
    }
    struct packet *pkt = &ra->ring[ra->head];
    packet_from_record(pkt, &rec, f);
    if (ra->pause > 0) {
        ra->pause--;
    }
    h->on_packet(h->ctx, pkt);
    return 1;
}

/*
 * Read one classic pcap file through pcap_map: the same records, time
 * stamps and errors as run_single(), without libpcap's copy of each record.
 * With on_ahead, a ring of PCAP_INPUT_AHEAD packets lets on_ahead see each
 * packet before on_packet does, and pcap_map keeps their bytes mapped.
 */
static void run_mapped(struct capture_file *f, struct pcap_map *map,
                       const struct pcap_input_handlers *h, volatile sig_atomic_t *stop)
{
    struct read_ahead ra = { .head = 0 };
    for (size_t i = 0; i < PCAP_INPUT_AHEAD; i++) {
        ra.ring[i] = (struct packet){ .link_type = pcap_map_link_type(map),
                                      .origin = { .input_index = f->index } };
    }

    int ret = 1;
    while (!*stop) {
        for (int i = 0; i < DISPATCH_BATCH; i++) {
            int got = mapped_next(&ra, map, f, h, &ret);
            if (got < 0) {
                mapped_error(f, map, h);
            }
            if (got <= 0) {
                return;
            }
        }
    }
}

/*
 * Map @p f when pcap_map reads it. Standard input is never tried, and any
 * other file that pcap_map rejects stays with libpcap, which has opened
 * it already, without a message.
 */
static struct pcap_map *map_open_quietly(const struct capture_file *f)
{
    if (f->is_pcapng || strcmp(f->path, "-") == 0) {
        return NULL;
    }
    struct pcap_map *map = NULL;
    char err[PCAP_ERRBUF_SIZE + 256];
    if (pcap_map_open(f->path, &map, err, sizeof(err)) != 0) {
        return NULL;
    }
    return map;
}

void pcap_input_run(struct pcap_input *in, const struct pcap_input_handlers *handlers,
                    volatile sig_atomic_t *stop)
{
    if (in->count == 1 && !in->files[0].is_pcapng) {
        struct pcap_map *map = map_open_quietly(&in->files[0]);
        if (map != NULL) {
            run_mapped(&in->files[0], map, handlers, stop);
            pcap_map_close(map);
            return;
        }
        run_single(&in->files[0], handlers->on_packet, handlers->on_error, handlers->ctx, stop);
        return;
    }

    char err[1024];
    struct packet pkt;
    while (!*stop) {
        int ret = pcap_input_next(in, &pkt, err, sizeof(err));
        if (ret == 0) {
            break;
        }
        if (ret < 0) {
            handlers->on_error(handlers->ctx, err);
            continue;
        }
        handlers->on_packet(handlers->ctx, &pkt);
    }
}
