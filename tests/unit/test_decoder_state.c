/* SPDX-License-Identifier: MIT */
/*
 * test_decoder_state.c - the decoder across frames: IP fragment reassembly,
 * DNS over TCP streams, tunnels, encrypted DNS handshakes and hostile input.
 *
 * One decoder lives through each test, so state carries from frame to frame
 * as in a capture. Frames are built field by field. Addresses come from the
 * documentation ranges (RFC 5737, RFC 3849).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "decode/decoder.h"
#include "frame_build.h"

#define CLIENT_PORT 40000
#define QUERY_LEN 33 /* header and www.example.com A IN */

static const uint8_t CLIENT4[4] = { 192, 0, 2, 1 };
static const uint8_t SERVER4[4] = { 198, 51, 100, 53 };
static const uint8_t OUTER_A[4] = { 203, 0, 113, 1 };
static const uint8_t OUTER_B[4] = { 203, 0, 113, 2 };


static void put_ipv4(struct frame *f, uint8_t protocol, size_t payload_len, uint16_t id,
                     uint16_t frag, const uint8_t *src, const uint8_t *dst)
{
    put_u8(f, 0x45);
    put_u8(f, 0);
    put_u16(f, (uint16_t)(20 + payload_len));
    put_u16(f, id);
    put_u16(f, frag);
    put_u8(f, 64);
    put_u8(f, protocol);
    put_u16(f, 0);
    put(f, src, 4);
    put(f, dst, 4);
}

static void put_ipv6(struct frame *f, uint8_t next, size_t payload_len, uint8_t src_last,
                     uint8_t dst_last)
{
    uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    src[15] = src_last;
    dst[15] = dst_last;
    put_u32(f, 0x60000000);
    put_u16(f, (uint16_t)payload_len);
    put_u8(f, next);
    put_u8(f, 64);
    put(f, src, 16);
    put(f, dst, 16);
}

static void put_udp(struct frame *f, uint16_t sport, uint16_t dport, size_t payload_len)
{
    put_u16(f, sport);
    put_u16(f, dport);
    put_u16(f, (uint16_t)(8 + payload_len));
    put_u16(f, 0);
}

static void put_tcp(struct frame *f, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags)
{
    put_u16(f, sport);
    put_u16(f, dport);
    put_u32(f, seq);
    put_u32(f, 0);
    put_u8(f, 5 << 4);
    put_u8(f, flags);
    put_u16(f, 65535);
    put_u32(f, 0);
}

/* Ethernet, IPv4 and UDP from the client to port 53 around one query. */
static void put_udp_query_frame(struct frame *f, uint16_t id)
{
    put_ethernet(f, 0x0800);
    put_ipv4(f, 17, 8 + QUERY_LEN, 1, 0, CLIENT4, SERVER4);
    put_udp(f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(f, id);
}

/* Ethernet, IPv4 and TCP with @p payload_len bytes of payload to follow. */
static void put_tcp_frame(struct frame *f, uint32_t seq, uint8_t flags, size_t payload_len)
{
    put_ethernet(f, 0x0800);
    put_ipv4(f, 6, 20 + payload_len, 1, 0, CLIENT4, SERVER4);
    put_tcp(f, CLIENT_PORT, 53, seq, flags);
}

/* ---- Decoding ---------------------------------------------------------- */

#define MAX_MESSAGES 16

struct harness {
    struct decoder *dec;
    unsigned count;
    struct dns_message msgs[MAX_MESSAGES];
    uint64_t packet_number;
    int64_t now;
};

static void capture(void *ctx, const struct dns_message *msg)
{
    struct harness *h = ctx;
    if (h->count < MAX_MESSAGES) {
        h->msgs[h->count] = *msg;
    }
    h->count++;
}

static struct harness *harness_new(const struct decoder_config *custom)
{
    struct harness *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    struct decoder_config cfg;
    if (custom != NULL) {
        cfg = *custom;
    } else {
        memset(&cfg, 0, sizeof(cfg));
    }
    decoder_config_add_port(&cfg, 53);
    h->dec = decoder_create(&cfg);
    assert_non_null(h->dec);
    h->now = 1700000000;
    return h;
}

static void harness_free(struct harness *h)
{
    decoder_destroy(h->dec);
    free(h);
}

static enum decode_skip feed_cut(struct harness *h, int link_type, const struct frame *f,
                                 uint32_t caplen)
{
    struct packet pkt = {
        .link_type = link_type,
        .data = f->bytes,
        .caplen = caplen,
        .wire_len = (uint32_t)f->len,
        .ts_sec = h->now,
        .origin = { .input_index = 0, .packet_number = ++h->packet_number },
    };
    return decoder_packet(h->dec, &pkt, capture, h);
}

static enum decode_skip feed(struct harness *h, const struct frame *f)
{
    return feed_cut(h, DLT_EN10MB, f, (uint32_t)f->len);
}

static const struct decoder_counters *counters(const struct harness *h)
{
    return decoder_counters(h->dec);
}

static void assert_addr4(const struct addr *a, const uint8_t *bytes)
{
    assert_int_equal(a->family, ADDR_FAMILY_IPV4);
    assert_memory_equal(a->bytes, bytes, 4);
}

/* ---- IPv4 and IPv6 fragments ------------------------------------------ */

/* The UDP datagram of one query, as the payload that fragments cut up. */
static size_t udp_query_payload(uint8_t *out, uint16_t id)
{
    struct frame f = { .len = 0 };
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, id);
    memcpy(out, f.bytes, f.len);
    return f.len;
}

/* One IPv4 fragment: @p len bytes at @p offset of @p payload. */
static void put_ipv4_fragment(struct frame *f, uint16_t id, const uint8_t *payload,
                              size_t offset, size_t len, int more)
{
    put_ethernet(f, 0x0800);
    put_ipv4(f, 17, len, id, (uint16_t)((more ? 0x2000 : 0) | offset / 8), CLIENT4, SERVER4);
    put(f, payload + offset, len);
}

static void test_fragments_ipv4_in_order(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    uint8_t payload[64];
    size_t len = udp_query_payload(payload, 0x4242);

    struct frame first = { .len = 0 };
    put_ipv4_fragment(&first, 7, payload, 0, 16, 1);
    assert_int_equal(feed(h, &first), DECODE_SKIP_FRAGMENT);
    assert_int_equal(counters(h)->fragments_held_now, 1);

    struct frame last = { .len = 0 };
    put_ipv4_fragment(&last, 7, payload, 16, len - 16, 0);
    assert_int_equal(feed(h, &last), DECODE_OK);

    assert_int_equal(h->count, 1);
    assert_int_equal(h->msgs[0].id, 0x4242);
    assert_int_equal(h->msgs[0].origin.packet_number, 2);
    assert_addr4(&h->msgs[0].src, CLIENT4);
    assert_int_equal(counters(h)->fragments_reassembled, 1);
    assert_int_equal(counters(h)->fragments_held_now, 0);
    assert_int_equal(counters(h)->fragment_datagrams_now, 0);
    assert_int_equal(counters(h)->fragment_bytes_now, 0);
    harness_free(h);
}

static void test_fragments_ipv4_last_first_with_duplicate(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    uint8_t payload[64];
    size_t len = udp_query_payload(payload, 0x1111);

    struct frame last = { .len = 0 };
    put_ipv4_fragment(&last, 9, payload, 24, len - 24, 0);
    struct frame middle = { .len = 0 };
    put_ipv4_fragment(&middle, 9, payload, 8, 16, 1);
    struct frame first = { .len = 0 };
    put_ipv4_fragment(&first, 9, payload, 0, 8, 1);

    assert_int_equal(feed(h, &last), DECODE_SKIP_FRAGMENT);
    assert_int_equal(feed(h, &middle), DECODE_SKIP_FRAGMENT);
    assert_int_equal(feed(h, &middle), DECODE_SKIP_FRAGMENT); /* same bytes again */
    assert_int_equal(feed(h, &first), DECODE_OK);
    assert_int_equal(h->count, 1);
    assert_int_equal(h->msgs[0].id, 0x1111);
    assert_int_equal(counters(h)->fragments_overlapping, 0);
    harness_free(h);
}

static void test_fragments_conflicting_overlap_rejected(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    uint8_t payload[64];
    size_t len = udp_query_payload(payload, 0x2222);

    struct frame first = { .len = 0 };
    put_ipv4_fragment(&first, 3, payload, 0, 16, 1);
    uint8_t changed[64];
    memcpy(changed, payload, sizeof(changed));
    changed[10] ^= 0xff;
    struct frame overlap = { .len = 0 };
    put_ipv4_fragment(&overlap, 3, changed, 8, 16, 1);
    struct frame last = { .len = 0 };
    put_ipv4_fragment(&last, 3, payload, 16, len - 16, 0);

    assert_int_equal(feed(h, &first), DECODE_SKIP_FRAGMENT);
    assert_int_equal(feed(h, &overlap), DECODE_SKIP_FRAGMENT);
    assert_int_equal(counters(h)->fragments_overlapping, 1);
    assert_int_equal(feed(h, &last), DECODE_SKIP_FRAGMENT);
    assert_int_equal(h->count, 0);
    harness_free(h);
}

static void test_fragments_time_out(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    uint8_t payload[64];
    size_t len = udp_query_payload(payload, 0x3333);

    struct frame first = { .len = 0 };
    put_ipv4_fragment(&first, 4, payload, 0, 16, 1);
    struct frame last = { .len = 0 };
    put_ipv4_fragment(&last, 4, payload, 16, len - 16, 0);

    assert_int_equal(feed(h, &first), DECODE_SKIP_FRAGMENT);
    h->now += 31;
    assert_int_equal(feed(h, &last), DECODE_SKIP_FRAGMENT);
    assert_int_equal(h->count, 0);
    assert_int_equal(counters(h)->fragments_timed_out, 1);
    harness_free(h);
}

static void test_fragments_evicted_at_cap(void **state)
{
    (void)state;
    struct decoder_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.fragment_datagrams_max = 2;
    struct harness *h = harness_new(&cfg);
    uint8_t payload[64];
    udp_query_payload(payload, 0x4444);

    for (uint16_t id = 1; id <= 3; id++) {
        struct frame first = { .len = 0 };
        put_ipv4_fragment(&first, id, payload, 0, 16, 1);
        assert_int_equal(feed(h, &first), DECODE_SKIP_FRAGMENT);
        h->now++;
    }
    assert_int_equal(counters(h)->fragments_evicted, 1);
    assert_int_equal(counters(h)->fragment_datagrams_now, 2);
    harness_free(h);
}

static void test_fragments_past_64k_invalid(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    uint8_t payload[64] = { 0 };

    struct frame f = { .len = 0 };
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 64, 5, 8190, CLIENT4, SERVER4); /* ends at 65584 */
    put(&f, payload, 64);
    assert_int_equal(feed(h, &f), DECODE_SKIP_FRAGMENT);
    assert_int_equal(counters(h)->fragments_invalid, 1);
    assert_int_equal(counters(h)->fragment_datagrams_now, 0);
    harness_free(h);
}

/* One IPv6 fragment of @p payload, behind a fragment header. */
static void put_ipv6_fragment(struct frame *f, uint32_t id, const uint8_t *payload, size_t offset,
                              size_t len, int more)
{
    put_ethernet(f, 0x86dd);
    put_ipv6(f, 44, 8 + len, 1, 0x53);
    put_u8(f, 17);
    put_u8(f, 0);
    put_u16(f, (uint16_t)(offset | (more ? 1 : 0)));
    put_u32(f, id);
    put(f, payload + offset, len);
}

static void test_fragments_ipv6(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    uint8_t payload[64];
    size_t len = udp_query_payload(payload, 0x6666);

    struct frame first = { .len = 0 };
    put_ipv6_fragment(&first, 0xdeadbeef, payload, 0, 24, 1);
    struct frame last = { .len = 0 };
    put_ipv6_fragment(&last, 0xdeadbeef, payload, 24, len - 24, 0);

    assert_int_equal(feed(h, &first), DECODE_SKIP_FRAGMENT);
    assert_int_equal(feed(h, &last), DECODE_OK);
    assert_int_equal(h->count, 1);
    assert_int_equal(h->msgs[0].id, 0x6666);
    assert_int_equal(h->msgs[0].src.family, ADDR_FAMILY_IPV6);
    assert_int_equal(h->msgs[0].src.bytes[15], 1);
    harness_free(h);
}

/* ---- DNS over TCP ------------------------------------------------------ */

static void put_length_prefixed_query(struct frame *f, uint16_t id)
{
    put_u16(f, QUERY_LEN);
    put_query(f, id);
}

static void test_tcp_message_across_segments(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    struct frame whole = { .len = 0 };
    put_length_prefixed_query(&whole, 0xabcd);

    struct frame syn = { .len = 0 };
    put_tcp_frame(&syn, 999, 0x02, 0);
    assert_int_equal(feed(h, &syn), DECODE_SKIP_NOT_DNS);

    struct frame a = { .len = 0 };
    put_tcp_frame(&a, 1000, 0x18, 10);
    put(&a, whole.bytes, 10);
    struct frame b = { .len = 0 };
    put_tcp_frame(&b, 1010, 0x18, whole.len - 10);
    put(&b, whole.bytes + 10, whole.len - 10);

    assert_int_equal(feed(h, &a), DECODE_SKIP_TCP_REASSEMBLY);
    assert_int_equal(feed(h, &b), DECODE_OK);
    assert_int_equal(h->count, 1);
    assert_int_equal(h->msgs[0].id, 0xabcd);
    assert_int_equal(h->msgs[0].transport, DNS_TRANSPORT_TCP);
    assert_int_equal(h->msgs[0].origin.packet_number, 3);

    /* The same segment again is a retransmission and emits nothing. */
    assert_int_equal(feed(h, &b), DECODE_SKIP_TCP_REASSEMBLY);
    assert_int_equal(h->count, 1);
    assert_int_equal(counters(h)->tcp_retransmitted, 1);
    assert_int_equal(counters(h)->tcp_messages, 1);
    harness_free(h);
}

static void test_tcp_split_length_prefix(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    struct frame whole = { .len = 0 };
    put_length_prefixed_query(&whole, 0x0102);

    struct frame syn = { .len = 0 };
    put_tcp_frame(&syn, 0, 0x02, 0);
    feed(h, &syn);
    for (size_t i = 0; i < whole.len; i++) {
        struct frame one = { .len = 0 };
        put_tcp_frame(&one, 1 + (uint32_t)i, 0x18, 1);
        put_u8(&one, whole.bytes[i]);
        enum decode_skip expected = i + 1 < whole.len ? DECODE_SKIP_TCP_REASSEMBLY : DECODE_OK;
        assert_int_equal(feed(h, &one), expected);
    }
    assert_int_equal(h->count, 1);
    assert_int_equal(h->msgs[0].id, 0x0102);
    harness_free(h);
}

static void test_tcp_mid_stream_and_gap_resync(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);

    /* No SYN: a segment that starts in the middle of a message is dropped. */
    struct frame middle = { .len = 0 };
    put_tcp_frame(&middle, 5000, 0x18, 20);
    for (int i = 0; i < 20; i++) {
        put_u8(&middle, 0xee);
    }
    assert_int_equal(feed(h, &middle), DECODE_SKIP_TCP_REASSEMBLY);
    assert_int_equal(counters(h)->tcp_bytes_dropped, 20);

    /* The next one starts at a message: the half gets in sync. */
    struct frame good = { .len = 0 };
    put_tcp_frame(&good, 5020, 0x18, 2 + QUERY_LEN);
    put_length_prefixed_query(&good, 0x0a0a);
    assert_int_equal(feed(h, &good), DECODE_OK);

    /* A gap: the segment after it starts a message and decodes. */
    struct frame after_gap = { .len = 0 };
    put_tcp_frame(&after_gap, 9000, 0x18, 2 + QUERY_LEN);
    put_length_prefixed_query(&after_gap, 0x0b0b);
    assert_int_equal(feed(h, &after_gap), DECODE_OK);
    assert_int_equal(counters(h)->tcp_gaps, 1);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->msgs[1].id, 0x0b0b);
    harness_free(h);
}

static void test_tcp_fin_and_rst_close(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    struct frame data = { .len = 0 };
    put_tcp_frame(&data, 100, 0x18, 2 + QUERY_LEN);
    put_length_prefixed_query(&data, 1);
    assert_int_equal(feed(h, &data), DECODE_OK);
    assert_int_equal(counters(h)->tcp_flows_now, 1);

    struct frame rst = { .len = 0 };
    put_tcp_frame(&rst, 100 + 2 + QUERY_LEN, 0x04, 0);
    assert_int_equal(feed(h, &rst), DECODE_SKIP_NOT_DNS);
    assert_int_equal(counters(h)->tcp_flows_now, 0);
    assert_int_equal(counters(h)->tcp_flows_closed, 1);
    harness_free(h);
}

static void test_tcp_flow_cap_and_timeout(void **state)
{
    (void)state;
    struct decoder_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.tcp_flows_max = 2;
    struct harness *h = harness_new(&cfg);

    for (uint16_t port = 1; port <= 3; port++) {
        struct frame f = { .len = 0 };
        put_ethernet(&f, 0x0800);
        put_ipv4(&f, 6, 20, 1, 0, CLIENT4, SERVER4);
        put_tcp(&f, port, 53, 0, 0x02);
        feed(h, &f);
    }
    assert_int_equal(counters(h)->tcp_flows, 3);
    assert_int_equal(counters(h)->tcp_flows_evicted, 1);
    assert_int_equal(counters(h)->tcp_flows_now, 2);

    h->now += 61;
    struct frame unrelated = { .len = 0 };
    put_udp_query_frame(&unrelated, 1);
    feed(h, &unrelated);
    struct frame late = { .len = 0 };
    put_ethernet(&late, 0x0800);
    put_ipv4(&late, 6, 20, 1, 0, CLIENT4, SERVER4);
    put_tcp(&late, 9, 53, 0, 0x02);
    feed(h, &late);
    assert_int_equal(counters(h)->tcp_flows_timed_out, 2);
    assert_int_equal(counters(h)->tcp_flows_now, 1);
    harness_free(h);
}

/* Endless data on one connection: garbage, then length-prefixed junk. */
static void test_tcp_endless_stream_bounded(void **state)
{
    (void)state;
    struct decoder_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.tcp_buffers_max = 1;
    struct harness *h = harness_new(&cfg);

    uint32_t seq = 1;
    for (int i = 0; i < 2000; i++) {
        struct frame f = { .len = 0 };
        put_tcp_frame(&f, seq, 0x18, 1400);
        for (int j = 0; j < 1400; j++) {
            put_u8(&f, (uint8_t)(i < 1000 ? 0xff : (j % 2 == 0 ? 0xff : 0xf0)));
        }
        enum decode_skip ret = feed(h, &f);
        assert_int_not_equal(ret, DECODE_OK);
        seq += 1400;
    }
    assert_int_equal(h->count, 0);
    assert_int_equal(counters(h)->tcp_flows_now, 1);
    assert_true(counters(h)->tcp_bytes_dropped > 0);
    harness_free(h);
}

/* ---- Encrypted DNS handshakes ----------------------------------------- */

static void test_dot_and_doh_handshakes(void **state)
{
    (void)state;
    struct decoder_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.doh_servers[0].family = ADDR_FAMILY_IPV4;
    memcpy(cfg.doh_servers[0].bytes, SERVER4, 4);
    cfg.doh_server_count = 1;
    struct harness *h = harness_new(&cfg);

    struct frame dot = { .len = 0 };
    put_ethernet(&dot, 0x0800);
    put_ipv4(&dot, 6, 20, 1, 0, CLIENT4, SERVER4);
    put_tcp(&dot, CLIENT_PORT, 853, 1, 0x02);
    assert_int_equal(feed(h, &dot), DECODE_OK);
    assert_int_equal(h->msgs[0].transport, DNS_TRANSPORT_DOT);
    assert_false(h->msgs[0].has_question);
    assert_int_equal(h->msgs[0].flags & DNS_FLAG_QR, 0);
    assert_int_equal(h->msgs[0].dport, 853);

    struct frame doh = { .len = 0 };
    put_ethernet(&doh, 0x0800);
    put_ipv4(&doh, 6, 20, 1, 0, CLIENT4, SERVER4);
    put_tcp(&doh, CLIENT_PORT, 443, 1, 0x02);
    assert_int_equal(feed(h, &doh), DECODE_OK);
    assert_int_equal(h->msgs[1].transport, DNS_TRANSPORT_DOH);

    /* 443 of a server not configured, and a SYN-ACK from 853, are not DNS. */
    struct frame web = { .len = 0 };
    put_ethernet(&web, 0x0800);
    put_ipv4(&web, 6, 20, 1, 0, CLIENT4, OUTER_A);
    put_tcp(&web, CLIENT_PORT, 443, 1, 0x02);
    assert_int_equal(feed(h, &web), DECODE_SKIP_NOT_DNS);
    struct frame synack = { .len = 0 };
    put_ethernet(&synack, 0x0800);
    put_ipv4(&synack, 6, 20, 1, 0, SERVER4, CLIENT4);
    put_tcp(&synack, 853, CLIENT_PORT, 1, 0x12);
    assert_int_equal(feed(h, &synack), DECODE_SKIP_NOT_DNS);

    assert_int_equal(h->count, 2);
    assert_int_equal(counters(h)->dot_handshakes, 1);
    assert_int_equal(counters(h)->doh_handshakes, 1);
    harness_free(h);
}

/* ---- Tunnels ----------------------------------------------------------- */

/* Inner IPv4, UDP and query, as an encapsulation payload. */
static void put_inner_ipv4_query(struct frame *f, uint16_t id)
{
    put_ipv4(f, 17, 8 + QUERY_LEN, 1, 0, CLIENT4, SERVER4);
    put_udp(f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(f, id);
}

static const size_t INNER_IPV4_LEN = 20 + 8 + QUERY_LEN;

static void assert_tunnelled(const struct harness *h, enum dns_tunnel type, uint16_t id)
{
    assert_int_equal(h->count, 1);
    assert_int_equal(h->msgs[0].id, id);
    assert_int_equal(h->msgs[0].tunnel.type, type);
    assert_addr4(&h->msgs[0].tunnel.outer_src, OUTER_A);
    assert_addr4(&h->msgs[0].tunnel.outer_dst, OUTER_B);
    assert_addr4(&h->msgs[0].src, CLIENT4);
    assert_addr4(&h->msgs[0].dst, SERVER4);
}

static void test_tunnel_gre_key_sequence(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    struct frame f = { .len = 0 };
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 47, 12 + INNER_IPV4_LEN, 1, 0, OUTER_A, OUTER_B);
    put_u16(&f, 0x3000); /* key and sequence present */
    put_u16(&f, 0x0800);
    put_u32(&f, 77);
    put_u32(&f, 1);
    put_inner_ipv4_query(&f, 0x0601);
    assert_int_equal(feed(h, &f), DECODE_OK);
    assert_tunnelled(h, DNS_TUNNEL_GRE, 0x0601);
    assert_int_equal(h->msgs[0].tunnel.depth, 1);
    harness_free(h);
}

static void test_tunnel_gre_ethernet_and_erspan(void **state)
{
    (void)state;
    static const uint16_t protocols[] = { 0x6558, 0x88be, 0x22eb };
    static const enum dns_tunnel types[] = { DNS_TUNNEL_GRE, DNS_TUNNEL_ERSPAN, DNS_TUNNEL_ERSPAN };
    static const size_t extra[] = { 0, 8, 12 };

    for (size_t i = 0; i < 3; i++) {
        struct harness *h = harness_new(NULL);
        struct frame f = { .len = 0 };
        size_t gre_len = 4 + (i == 1 ? 4 : 0);
        put_ethernet(&f, 0x0800);
        put_ipv4(&f, 47, gre_len + extra[i] + 14 + INNER_IPV4_LEN, 1, 0, OUTER_A, OUTER_B);
        put_u16(&f, i == 1 ? 0x1000 : 0);
        put_u16(&f, protocols[i]);
        if (i == 1) {
            put_u32(&f, 5); /* sequence: ERSPAN type II */
        }
        for (size_t j = 0; j < extra[i]; j++) {
            put_u8(&f, j == 0 ? (i == 1 ? 0x10 : 0x20) : 0);
        }
        put_ethernet(&f, 0x0800);
        put_inner_ipv4_query(&f, (uint16_t)(0x0700 + i));
        assert_int_equal(feed(h, &f), DECODE_OK);
        assert_tunnelled(h, types[i], (uint16_t)(0x0700 + i));
        harness_free(h);
    }
}

/* UDP encapsulations: VXLAN, GENEVE with an option, GRE over UDP. */
static void test_tunnel_udp_encapsulations(void **state)
{
    (void)state;
    static const uint16_t ports[] = { 4789, 6081, 4754 };
    static const enum dns_tunnel types[] = { DNS_TUNNEL_VXLAN, DNS_TUNNEL_GENEVE, DNS_TUNNEL_GRE };

    for (size_t i = 0; i < 3; i++) {
        struct harness *h = harness_new(NULL);
        struct frame inner = { .len = 0 };
        if (i == 0) {
            put_u32(&inner, 0x08000000);
            put_u32(&inner, 0x00123400);
            put_ethernet(&inner, 0x0800);
        } else if (i == 1) {
            put_u8(&inner, 1); /* version 0, one 4-byte option word */
            put_u8(&inner, 0);
            put_u16(&inner, 0x6558);
            put_u32(&inner, 0x00123400);
            put_u32(&inner, 0x01020300);
            put_ethernet(&inner, 0x0800);
        } else {
            put_u16(&inner, 0);
            put_u16(&inner, 0x0800);
        }
        put_inner_ipv4_query(&inner, (uint16_t)(0x0800 + i));

        struct frame f = { .len = 0 };
        put_ethernet(&f, 0x0800);
        put_ipv4(&f, 17, 8 + inner.len, 1, 0, OUTER_A, OUTER_B);
        put_udp(&f, 50000, ports[i], inner.len);
        put(&f, inner.bytes, inner.len);
        assert_int_equal(feed(h, &f), DECODE_OK);
        assert_tunnelled(h, types[i], (uint16_t)(0x0800 + i));
        harness_free(h);
    }
}

static void test_tunnel_6in4_and_teredo(void **state)
{
    (void)state;
    struct frame inner = { .len = 0 };
    put_ipv6(&inner, 17, 8 + QUERY_LEN, 1, 0x53);
    put_udp(&inner, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&inner, 0x0900);

    struct harness *h = harness_new(NULL);
    struct frame sixin4 = { .len = 0 };
    put_ethernet(&sixin4, 0x0800);
    put_ipv4(&sixin4, 41, inner.len, 1, 0, OUTER_A, OUTER_B);
    put(&sixin4, inner.bytes, inner.len);
    assert_int_equal(feed(h, &sixin4), DECODE_OK);
    assert_int_equal(h->msgs[0].tunnel.type, DNS_TUNNEL_IPIP);
    assert_int_equal(h->msgs[0].src.family, ADDR_FAMILY_IPV6);
    harness_free(h);

    h = harness_new(NULL);
    struct frame teredo = { .len = 0 };
    put_ethernet(&teredo, 0x0800);
    put_ipv4(&teredo, 17, 8 + 8 + inner.len, 1, 0, OUTER_A, OUTER_B);
    put_udp(&teredo, 3544, 50000, 8 + inner.len);
    put_u16(&teredo, 0); /* origin indication */
    put_u16(&teredo, 0xffff);
    put_u32(&teredo, 0xffffffff);
    put(&teredo, inner.bytes, inner.len);
    assert_int_equal(feed(h, &teredo), DECODE_OK);
    assert_int_equal(h->msgs[0].tunnel.type, DNS_TUNNEL_TEREDO);
    assert_int_equal(h->msgs[0].id, 0x0900);
    harness_free(h);
}

static void test_tunnel_nesting_bounded(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);
    struct frame f = { .len = 0 };
    const int levels = 8;
    put_ethernet(&f, 0x0800);
    for (int i = 0; i < levels; i++) {
        put_ipv4(&f, 4, (size_t)(levels - 1 - i) * 20 + INNER_IPV4_LEN, 1, 0, OUTER_A, OUTER_B);
    }
    put_inner_ipv4_query(&f, 1);
    assert_int_equal(feed(h, &f), DECODE_SKIP_TUNNEL);
    assert_int_equal(counters(h)->tunnels_too_deep, 1);
    assert_int_equal(h->count, 0);
    harness_free(h);
}

/* ---- Hostile input ----------------------------------------------------- */

/* UDP query frame whose DNS payload is @p dns. */
static void put_udp_dns(struct frame *f, const uint8_t *dns, size_t len)
{
    put_ethernet(f, 0x0800);
    put_ipv4(f, 17, 8 + len, 1, 0, CLIENT4, SERVER4);
    put_udp(f, CLIENT_PORT, 53, len);
    put(f, dns, len);
}

static void test_hostile_compression(void **state)
{
    (void)state;
    static const uint8_t loop[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
    static const uint8_t past_end[] = { 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 1, 0, 1 };
    struct harness *h = harness_new(NULL);

    struct frame a = { .len = 0 };
    put_udp_dns(&a, loop, sizeof(loop));
    assert_int_equal(feed(h, &a), DECODE_SKIP_MALFORMED);
    struct frame b = { .len = 0 };
    put_udp_dns(&b, past_end, sizeof(past_end));
    assert_int_equal(feed(h, &b), DECODE_SKIP_MALFORMED);
    assert_int_equal(h->count, 0);
    harness_free(h);
}

/* A question name of 10,000 one-byte labels in one large UDP datagram. */
static void test_hostile_ten_thousand_labels(void **state)
{
    (void)state;
    static uint8_t dns[12 + 20001 + 4];
    static const uint8_t header[12] = { 0, 1, 1, 0, 0, 1 };
    memcpy(dns, header, sizeof(header));
    for (size_t i = 0; i < 10000; i++) {
        dns[12 + 2 * i] = 1;
        dns[12 + 2 * i + 1] = 'a';
    }
    struct harness *h = harness_new(NULL);
    struct frame *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    put_udp_dns(f, dns, sizeof(dns));
    assert_int_equal(feed(h, f), DECODE_SKIP_MALFORMED);
    assert_int_equal(h->count, 0);
    free(f);
    harness_free(h);
}

static void test_hostile_short_captures(void **state)
{
    (void)state;
    struct harness *h = harness_new(NULL);

    /* A snaplen that ends inside the DNS header. */
    struct frame q = { .len = 0 };
    put_udp_query_frame(&q, 1);
    assert_int_equal(feed_cut(h, DLT_EN10MB, &q, 14 + 20 + 8 + 6), DECODE_SKIP_TRUNCATED);

    /* A UDP datagram with no payload at all. */
    struct frame empty = { .len = 0 };
    put_ethernet(&empty, 0x0800);
    put_ipv4(&empty, 17, 8, 1, 0, CLIENT4, SERVER4);
    put_udp(&empty, CLIENT_PORT, 53, 0);
    assert_int_equal(feed(h, &empty), DECODE_SKIP_MALFORMED);

    /* A frame that ends inside the IP header. */
    assert_int_equal(feed_cut(h, DLT_EN10MB, &q, 20), DECODE_SKIP_TRUNCATED);
    assert_int_equal(h->count, 0);
    harness_free(h);
}

static void test_skip_names_for_new_reasons(void **state)
{
    (void)state;
    assert_string_equal(decode_skip_name(DECODE_SKIP_TCP_REASSEMBLY), "tcp_reassembly");
    assert_string_equal(decode_skip_name(DECODE_SKIP_TUNNEL), "tunnel_too_deep");
    for (int r = 0; r < DECODE_SKIP_COUNT; r++) {
        assert_string_not_equal(decode_skip_name((enum decode_skip)r), "unknown");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragments_ipv4_in_order),
        cmocka_unit_test(test_fragments_ipv4_last_first_with_duplicate),
        cmocka_unit_test(test_fragments_conflicting_overlap_rejected),
        cmocka_unit_test(test_fragments_time_out),
        cmocka_unit_test(test_fragments_evicted_at_cap),
        cmocka_unit_test(test_fragments_past_64k_invalid),
        cmocka_unit_test(test_fragments_ipv6),
        cmocka_unit_test(test_tcp_message_across_segments),
        cmocka_unit_test(test_tcp_split_length_prefix),
        cmocka_unit_test(test_tcp_mid_stream_and_gap_resync),
        cmocka_unit_test(test_tcp_fin_and_rst_close),
        cmocka_unit_test(test_tcp_flow_cap_and_timeout),
        cmocka_unit_test(test_tcp_endless_stream_bounded),
        cmocka_unit_test(test_dot_and_doh_handshakes),
        cmocka_unit_test(test_tunnel_gre_key_sequence),
        cmocka_unit_test(test_tunnel_gre_ethernet_and_erspan),
        cmocka_unit_test(test_tunnel_udp_encapsulations),
        cmocka_unit_test(test_tunnel_6in4_and_teredo),
        cmocka_unit_test(test_tunnel_nesting_bounded),
        cmocka_unit_test(test_hostile_compression),
        cmocka_unit_test(test_hostile_ten_thousand_labels),
        cmocka_unit_test(test_hostile_short_captures),
        cmocka_unit_test(test_skip_names_for_new_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
