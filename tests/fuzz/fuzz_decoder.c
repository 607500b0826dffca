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
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode/decoder.h"
#include "decode/dns_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Link types the decoder reads, plus one it does not. LINKTYPE_RAW is 101
 * and LINKTYPE_PKTAP 258 as stored in files. */
static const int link_types[] = {
    DLT_EN10MB, DLT_RAW, 101, DLT_NULL, DLT_LOOP, DLT_LINUX_SLL, DLT_LINUX_SLL2,
    DLT_IPV4, DLT_IPV6, 258, DLT_IEEE802_11,
};

static void check_message(void *ctx, const struct dns_message *msg)
{
    unsigned *count = ctx;
    (*count)++;
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
    if (dec == NULL) {
        return 0;
    }

    int link_type = link_types[data[0] % (sizeof(link_types) / sizeof(link_types[0]))];
    size_t pos = 1;
    uint64_t number = 0;
    int64_t now = 1700000000;
    unsigned emitted = 0;
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
        enum decode_skip ret = decoder_packet(dec, &pkt, check_message, &emitted);
        if ((unsigned)ret >= DECODE_SKIP_COUNT) {
            abort();
        }
        free(frame);
        check_counters(decoder_counters(dec));
        pos += len;
    }

    decoder_destroy(dec);
    return 0;
}
