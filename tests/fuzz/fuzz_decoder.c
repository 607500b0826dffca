/* SPDX-License-Identifier: MIT */
/*
 * fuzz_decoder.c - libFuzzer target for decoder_packet() over frame sequences.
 *
 * Input layout: one byte that selects the link type, then frames, each as a
 * 2-byte big-endian length, one control byte and the frame bytes. The low 7
 * bits of the control byte advance the capture clock by that many seconds,
 * so fragment and TCP timeouts fire. The high bit marks the frame as cut by
 * the snaplen (wire length larger than captured). The decoder lives for one
 * input, so fragments and TCP streams span the frames of that input. Small
 * table caps make eviction reachable.
 *
 * A second decoder reads the same frames through the layer walk alone
 * (decoder_packet_layered()), without decoder_packet()'s shortcut for the
 * usual frame: both must return the same skip reasons, emit the same
 * messages and keep the same counters.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode/decode_internal.h"
#include "decode/decoder.h"
#include "decode/dns_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Link types the decoder reads, plus one it does not. LINKTYPE_RAW is 101
 * and LINKTYPE_PKTAP 258 as stored in files. */
static const int link_types[] = {
    DLT_EN10MB, DLT_RAW, 101, DLT_NULL, DLT_LOOP, DLT_LINUX_SLL, DLT_LINUX_SLL2,
    DLT_IPV4, DLT_IPV6, 258, DLT_IEEE802_11,
};

/* Messages compared per frame. A TCP segment may carry more, and those are only counted. */
#define FRAME_MESSAGES_MAX 8

/* Messages one decoder emitted for one frame, to compare the two decoders. */
struct frame_messages {
    unsigned count;
    struct dns_message msgs[FRAME_MESSAGES_MAX];
    /* The bytes behind wire live only during the callback, so they are hashed there. */
    uint64_t wire_hashes[FRAME_MESSAGES_MAX];
};

/* FNV-1a of the message bytes. */
static uint64_t wire_hash(const uint8_t *wire, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; wire != NULL && i < len; i++) {
        h = (h ^ wire[i]) * 0x100000001b3ULL;
    }
    return h;
}

static void check_message(void *ctx, const struct dns_message *msg)
{
    struct frame_messages *seen = ctx;
    if (msg->transport > DNS_TRANSPORT_DOH || (msg->has_question && msg->qname_len == 0)) {
        abort();
    }
    if (msg->has_question) {
        char text[DNS_NAME_TEXT_MAX];
        size_t len = dns_name_format(msg->qname, msg->qname_len, text, sizeof(text));
        if (len >= sizeof(text)) {
            abort();
        }
    }
    if (seen->count < FRAME_MESSAGES_MAX) {
        seen->msgs[seen->count] = *msg;
        seen->wire_hashes[seen->count] = wire_hash(msg->wire, msg->wire_len);
    }
    seen->count++;
}

static bool same_message(const struct dns_message *a, const struct dns_message *b)
{
    return a->ts_sec == b->ts_sec && a->ts_nsec == b->ts_nsec && a->transport == b->transport &&
           memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
           memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0 && a->sport == b->sport &&
           a->dport == b->dport && a->id == b->id && a->flags == b->flags &&
           a->qdcount == b->qdcount && a->ancount == b->ancount && a->nscount == b->nscount &&
           a->arcount == b->arcount && a->has_question == b->has_question &&
           a->qname_len == b->qname_len && memcmp(a->qname, b->qname, a->qname_len) == 0 &&
           a->qtype == b->qtype && a->qclass == b->qclass &&
           a->edns.present == b->edns.present && a->edns.do_bit == b->edns.do_bit &&
           a->edns.version == b->edns.version &&
           a->edns.extended_rcode == b->edns.extended_rcode &&
           a->edns.udp_size == b->edns.udp_size &&
           a->edns.has_client_subnet == b->edns.has_client_subnet &&
           memcmp(&a->edns.client_subnet, &b->edns.client_subnet,
                  sizeof(a->edns.client_subnet)) == 0 &&
           a->records_parsed == b->records_parsed &&
           a->records_offset == b->records_offset && a->wire_len == b->wire_len &&
           (a->wire == NULL) == (b->wire == NULL) && a->tunnel.type == b->tunnel.type &&
           a->tunnel.depth == b->tunnel.depth &&
           memcmp(&a->tunnel.outer_src, &b->tunnel.outer_src, sizeof(struct addr)) == 0 &&
           memcmp(&a->tunnel.outer_dst, &b->tunnel.outer_dst, sizeof(struct addr)) == 0 &&
           a->origin.input_index == b->origin.input_index &&
           a->origin.packet_number == b->origin.packet_number &&
           a->observer.server_reported == b->observer.server_reported &&
           a->observer.name == b->observer.name && a->observer.version == b->observer.version;
}

/* Abort unless the shortcut and the layer walk reached the same result for one frame. */
static void check_same(enum decode_skip fast_ret, const struct frame_messages *fast,
                       enum decode_skip layered_ret, const struct frame_messages *layered)
{
    if (fast_ret != layered_ret || fast->count != layered->count) {
        abort();
    }
    for (unsigned i = 0; i < fast->count && i < FRAME_MESSAGES_MAX; i++) {
        if (!same_message(&fast->msgs[i], &layered->msgs[i]) ||
            fast->wire_hashes[i] != layered->wire_hashes[i]) {
            abort();
        }
    }
}

static struct decoder *fuzz_decoder_create(void)
{
    struct decoder_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    decoder_config_add_port(&cfg, 53);
    decoder_config_add_port(&cfg, 5353);
    cfg.doh_servers[0].family = ADDR_FAMILY_IPV4;
    cfg.doh_servers[0].bytes[0] = 192;
    cfg.doh_servers[0].bytes[1] = 0;
    cfg.doh_servers[0].bytes[2] = 2;
    cfg.doh_servers[0].bytes[3] = 1;
    cfg.doh_server_count = 1;
    cfg.fragment_datagrams_max = 4;
    cfg.tcp_flows_max = 8;
    cfg.tcp_buffers_max = 2;
    return decoder_create(&cfg);
}

/* The current levels never exceed the table caps set above. */
static void check_counters(const struct decoder_counters *n)
{
    if (n->fragment_datagrams_now > 4 || n->tcp_flows_now > 8) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    struct decoder *dec = fuzz_decoder_create();
    struct decoder *layered = fuzz_decoder_create();
    if (dec == NULL || layered == NULL) {
        decoder_destroy(dec);
        decoder_destroy(layered);
        return 0;
    }

    int link_type = link_types[data[0] % (sizeof(link_types) / sizeof(link_types[0]))];
    size_t pos = 1;
    uint64_t number = 0;
    int64_t now = 1700000000;
    while (pos + 3 <= size) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        uint8_t control = data[pos + 2];
        pos += 3;
        if (len > size - pos) {
            len = size - pos;
        }

        /* A copy of exactly len bytes lets ASan catch reads past the frame. */
        uint8_t *frame = malloc(len > 0 ? len : 1);
        if (frame == NULL) {
            break;
        }
        memcpy(frame, data + pos, len);
        now += control & 0x7f;
        struct packet pkt = {
            .link_type = link_type,
            .data = frame,
            .caplen = (uint32_t)len,
            .wire_len = (uint32_t)len + ((control & 0x80) != 0 ? 100 : 0),
            .ts_sec = now,
            .origin = { .input_index = 0, .packet_number = ++number },
        };
        struct frame_messages fast_seen = { .count = 0 };
        struct frame_messages layered_seen = { .count = 0 };
        enum decode_skip ret = decoder_packet(dec, &pkt, check_message, &fast_seen);
        enum decode_skip layered_ret =
            decoder_packet_layered(layered, &pkt, check_message, &layered_seen);
        if ((unsigned)ret >= DECODE_SKIP_COUNT) {
            abort();
        }
        check_same(ret, &fast_seen, layered_ret, &layered_seen);
        free(frame);
        check_counters(decoder_counters(dec));
        if (memcmp(decoder_counters(dec), decoder_counters(layered),
                   sizeof(struct decoder_counters)) != 0) {
            abort();
        }
        pos += len;
    }

    decoder_destroy(dec);
    decoder_destroy(layered);
    return 0;
}
