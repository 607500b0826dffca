/* SPDX-License-Identifier: MIT */
/*
 * test_decoder.c - whole frames through decoder_packet(): link layers, IP
 * versions and options, fragments, snaplen cuts, UDP and TCP, and its
 * shortcut for the usual frame against the layer walk.
 *
 * Frames are built field by field below, so each test states the layers it
 * stacks. Addresses come from the documentation ranges (RFC 5737, RFC 3849).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/dlt.h>

#include "decode/decode_internal.h"
#include "decode/decoder.h"
#include "decode/dns_text.h"
#include "frame_build.h"

#define LINKTYPE_RAW 101

#define CLIENT_PORT 40000
#define QUERY_LEN 33 /* header and www.example.com A IN */


static void put_vlan_tag(struct frame *f, uint16_t vlan_id, uint16_t next_ethertype)
{
    put_u16(f, vlan_id);
    put_u16(f, next_ethertype);
}

/* IPv4 192.0.2.1 -> 198.51.100.53 with @p options_len bytes of NOP options. */
static void put_ipv4(struct frame *f, uint8_t protocol, size_t payload_len, size_t options_len,
                     uint16_t fragment)
{
    size_t header_len = 20 + options_len;
    put_u8(f, (uint8_t)(0x40 | header_len / 4));
    put_u8(f, 0);
    put_u16(f, (uint16_t)(header_len + payload_len));
    put_u16(f, 0x1111);
    put_u16(f, fragment);
    put_u8(f, 64);
    put_u8(f, protocol);
    put_u16(f, 0);
    put_u32(f, 0xc0000201);
    put_u32(f, 0xc6336435);
    for (size_t i = 0; i < options_len; i++) {
        put_u8(f, 1);
    }
}

/* IPv6 2001:db8::1 -> 2001:db8::53. */
static void put_ipv6(struct frame *f, uint8_t next_header, size_t payload_len)
{
    static const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
    static const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };
    put_u32(f, 0x60000000);
    put_u16(f, (uint16_t)payload_len);
    put_u8(f, next_header);
    put_u8(f, 64);
    put(f, src, sizeof(src));
    put(f, dst, sizeof(dst));
}

/* Hop-by-hop or destination options header of 8 bytes: one PadN option. */
static void put_ipv6_options(struct frame *f, uint8_t next_header)
{
    static const uint8_t padn[6] = { 1, 4, 0, 0, 0, 0 };
    put_u8(f, next_header);
    put_u8(f, 0);
    put(f, padn, sizeof(padn));
}

static void put_udp(struct frame *f, uint16_t sport, uint16_t dport, size_t payload_len)
{
    put_u16(f, sport);
    put_u16(f, dport);
    put_u16(f, (uint16_t)(8 + payload_len));
    put_u16(f, 0);
}

/* TCP header of 20 bytes with PSH and ACK set. */
static void put_tcp(struct frame *f, uint16_t sport, uint16_t dport)
{
    put_u16(f, sport);
    put_u16(f, dport);
    put_u32(f, 1000);
    put_u32(f, 2000);
    put_u8(f, 5 << 4);
    put_u8(f, 0x18);
    put_u16(f, 65535);
    put_u32(f, 0);
}

/* Ethernet, IPv4 and UDP from the client to port 53, carrying a query. */
static void put_udp_query_frame(struct frame *f)
{
    put_ethernet(f, 0x0800);
    put_ipv4(f, 17, 8 + QUERY_LEN, 0, 0);
    put_udp(f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(f, 0x1234);
}

#define CAPTURED_MAX 4

/* Messages passed to the emit callback. */
struct captured {
    unsigned count;
    struct dns_message msgs[CAPTURED_MAX];
};

static void capture_message(void *ctx, const struct dns_message *msg)
{
    struct captured *cap = ctx;
    if (cap->count < CAPTURED_MAX) {
        cap->msgs[cap->count] = *msg;
    }
    cap->count++;
}

static enum decode_skip decode_cut(int link_type, const struct frame *f, uint32_t caplen,
                                   struct captured *cap)
{
    struct decoder_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    decoder_config_add_port(&cfg, 53);
    struct decoder *dec = decoder_create(&cfg);
    assert_non_null(dec);

    struct packet pkt = {
        .link_type = link_type,
        .data = f->bytes,
        .caplen = caplen,
        .wire_len = (uint32_t)f->len,
        .ts_sec = 1700000000,
        .ts_nsec = 123456789,
        .origin = { .input_index = 2, .packet_number = 7 },
    };
    memset(cap, 0, sizeof(*cap));
    enum decode_skip ret = decoder_packet(dec, &pkt, capture_message, cap);
    decoder_destroy(dec);
    return ret;
}

static enum decode_skip decode(int link_type, const struct frame *f, struct captured *cap)
{
    return decode_cut(link_type, f, (uint32_t)f->len, cap);
}

static void assert_addr(const struct addr *a, const char *expected)
{
    char text[ADDR_TEXT_MAX];
    addr_format(a, text, sizeof(text));
    assert_string_equal(text, expected);
}

/* Check the one message of a frame built by put_query() over IPv4. */
static void assert_ipv4_query(const struct captured *cap)
{
    assert_int_equal(cap->count, 1);
    const struct dns_message *msg = &cap->msgs[0];
    assert_addr(&msg->src, "192.0.2.1");
    assert_addr(&msg->dst, "198.51.100.53");
    assert_int_equal(msg->sport, CLIENT_PORT);
    assert_int_equal(msg->dport, 53);
    assert_int_equal(msg->transport, DNS_TRANSPORT_UDP);
    assert_int_equal(msg->id, 0x1234);
    assert_true(msg->has_question);
    assert_int_equal(msg->qtype, 1);

    char name[DNS_NAME_TEXT_MAX];
    dns_name_format(msg->qname, msg->qname_len, name, sizeof(name));
    assert_string_equal(name, "www.example.com");
}

static void assert_ipv6_addresses(const struct captured *cap)
{
    assert_int_equal(cap->count, 1);
    assert_addr(&cap->msgs[0].src, "2001:db8::1");
    assert_addr(&cap->msgs[0].dst, "2001:db8::53");
    assert_int_equal(cap->msgs[0].sport, CLIENT_PORT);
    assert_true(cap->msgs[0].has_question);
}

static void test_decoder_ethernet_vlan_ipv4_udp(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x8100);
    put_vlan_tag(&f, 100, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN, 0, 0);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
    assert_int_equal(cap.msgs[0].ts_sec, 1700000000);
    assert_int_equal(cap.msgs[0].ts_nsec, 123456789);
    assert_int_equal(cap.msgs[0].origin.input_index, 2);
    assert_int_equal(cap.msgs[0].origin.packet_number, 7);
}

static void test_decoder_qinq(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x88a8);
    put_vlan_tag(&f, 10, 0x8100);
    put_vlan_tag(&f, 20, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN, 0, 0);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
}

/* Ethernet padding after a short datagram must not reach the DNS parser. */
static void test_decoder_ethernet_padding_trimmed(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_udp_query_frame(&f);
    for (int i = 0; i < 12; i++) {
        put_u8(&f, 0xee);
    }

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
}

static void test_decoder_ipv6_hop_by_hop_and_dest_opts(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x86dd);
    put_ipv6(&f, 0, 8 + 8 + 8 + QUERY_LEN);
    put_ipv6_options(&f, 60);
    put_ipv6_options(&f, 17);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_ipv6_addresses(&cap);
}

static void test_decoder_linux_sll(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    static const uint8_t sll[14] = { 0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0 };
    put(&f, sll, sizeof(sll));
    put_u16(&f, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN, 0, 0);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_LINUX_SLL, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
}

static void test_decoder_linux_sll2(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    static const uint8_t sll2_rest[18] = { 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1 };
    put_u16(&f, 0x86dd);
    put(&f, sll2_rest, sizeof(sll2_rest));
    put_ipv6(&f, 17, 8 + QUERY_LEN);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_LINUX_SLL2, &f, &cap), DECODE_OK);
    assert_ipv6_addresses(&cap);
}

static void put_null_ipv4_query(struct frame *f, const uint8_t family[4])
{
    put(f, family, 4);
    put_ipv4(f, 17, 8 + QUERY_LEN, 0, 0);
    put_udp(f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(f, 0x1234);
}

static void test_decoder_null_both_byte_orders(void **state)
{
    (void)state;
    static const uint8_t little_endian[4] = { 2, 0, 0, 0 };
    static const uint8_t big_endian[4] = { 0, 0, 0, 2 };
    struct captured cap;

    struct frame f = { .len = 0 };
    put_null_ipv4_query(&f, little_endian);
    assert_int_equal(decode(DLT_NULL, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);

    f.len = 0;
    put_null_ipv4_query(&f, big_endian);
    assert_int_equal(decode(DLT_NULL, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
    assert_int_equal(decode(DLT_LOOP, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
}

/* AF_INET6 differs between BSDs: 24, 28 and 30 all mean IPv6. */
static void test_decoder_null_ipv6_families(void **state)
{
    (void)state;
    static const uint8_t families[] = { 24, 28, 30 };
    for (size_t i = 0; i < sizeof(families); i++) {
        struct frame f = { .len = 0 };
        struct captured cap;
        put_u32(&f, (uint32_t)families[i] << 24); /* little-endian host order */
        put_ipv6(&f, 17, 8 + QUERY_LEN);
        put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
        put_query(&f, 0x1234);

        assert_int_equal(decode(DLT_NULL, &f, &cap), DECODE_OK);
        assert_ipv6_addresses(&cap);
    }
}

static void test_decoder_null_unknown_family(void **state)
{
    (void)state;
    static const uint8_t family[4] = { 0, 0, 0, 7 };
    struct frame f = { .len = 0 };
    struct captured cap;
    put_null_ipv4_query(&f, family);

    assert_int_equal(decode(DLT_NULL, &f, &cap), DECODE_SKIP_NOT_DNS);
}

static void test_decoder_raw_ip(void **state)
{
    (void)state;
    struct captured cap;

    struct frame f4 = { .len = 0 };
    put_ipv4(&f4, 17, 8 + QUERY_LEN, 0, 0);
    put_udp(&f4, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f4, 0x1234);
    assert_int_equal(decode(DLT_RAW, &f4, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
    assert_int_equal(decode(DLT_IPV4, &f4, &cap), DECODE_OK);
    assert_ipv4_query(&cap);

    struct frame f6 = { .len = 0 };
    put_ipv6(&f6, 17, 8 + QUERY_LEN);
    put_udp(&f6, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f6, 0x1234);
    assert_int_equal(decode(LINKTYPE_RAW, &f6, &cap), DECODE_OK);
    assert_ipv6_addresses(&cap);
    assert_int_equal(decode(DLT_IPV6, &f6, &cap), DECODE_OK);
    assert_ipv6_addresses(&cap);
}

static void test_decoder_ipv4_options(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN, 8, 0);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
}

static void test_decoder_fragments_skipped(void **state)
{
    (void)state;
    static const uint16_t fragment_fields[] = { 0x2000, 0x0010, 0x2010 };
    for (size_t i = 0; i < sizeof(fragment_fields) / sizeof(fragment_fields[0]); i++) {
        struct frame f = { .len = 0 };
        struct captured cap;
        put_ethernet(&f, 0x0800);
        put_ipv4(&f, 17, 8 + QUERY_LEN, 0, fragment_fields[i]);
        put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
        put_query(&f, 0x1234);

        assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_FRAGMENT);
        assert_int_equal(cap.count, 0);
    }
}

/* Don't fragment alone is not a fragment. */
static void test_decoder_ipv4_dont_fragment_decoded(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN, 0, 0x4000);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
}

static void test_decoder_ipv6_fragment_skipped(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x86dd);
    put_ipv6(&f, 44, 8 + 8 + QUERY_LEN);
    put_u8(&f, 17);
    put_u8(&f, 0);
    put_u16(&f, 0x0001); /* offset 0, more fragments */
    put_u32(&f, 0xabcd);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_FRAGMENT);
}

static void test_decoder_snaplen_inside_dns_header(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_udp_query_frame(&f);

    uint32_t caplen = 14 + 20 + 8 + 6;
    assert_int_equal(decode_cut(DLT_EN10MB, &f, caplen, &cap), DECODE_SKIP_TRUNCATED);
    assert_int_equal(cap.count, 0);
}

static void test_decoder_snaplen_inside_ip_header(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_udp_query_frame(&f);

    assert_int_equal(decode_cut(DLT_EN10MB, &f, 14 + 10, &cap), DECODE_SKIP_TRUNCATED);
}

/* A snaplen that keeps the question still yields the message. */
static void test_decoder_snaplen_after_question(void **state)
{
    (void)state;
    static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0 };
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN + sizeof(opt), 0, 0);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN + sizeof(opt));
    put_query(&f, 0x1234);
    f.bytes[f.len - 22] = 1; /* ARCOUNT low byte: the OPT record follows */
    put(&f, opt, sizeof(opt));

    uint32_t caplen = (uint32_t)(f.len - 5);
    assert_int_equal(decode_cut(DLT_EN10MB, &f, caplen, &cap), DECODE_OK);
    assert_ipv4_query(&cap);
}

/* The IP header claims more than the whole frame that was captured. */
static void test_decoder_ipv4_length_past_capture(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN + 10, 0, 0);
    put_udp(&f, CLIENT_PORT, 53, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_MALFORMED);
}

static void test_decoder_udp_zero_length_payload(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 8, 0, 0);
    put_udp(&f, CLIENT_PORT, 53, 0);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_MALFORMED);
}

static void test_decoder_udp_short_dns_payload(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 8 + 5, 0, 0);
    put_udp(&f, CLIENT_PORT, 53, 5);
    put(&f, "\x12\x34\x01\x00\x00", 5);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_MALFORMED);
}

static void test_decoder_non_dns_port(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN, 0, 0);
    put_udp(&f, CLIENT_PORT, 5353, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_NOT_DNS);
    assert_int_equal(cap.count, 0);
}

/* A response comes from port 53: either port being a DNS port is enough. */
static void test_decoder_response_from_dns_port(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0800);
    put_ipv4(&f, 17, 8 + QUERY_LEN, 0, 0);
    put_udp(&f, 53, CLIENT_PORT, QUERY_LEN);
    put_query(&f, 0x1234);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_int_equal(cap.msgs[0].sport, 53);
    assert_int_equal(cap.msgs[0].dport, CLIENT_PORT);
}

static void test_decoder_non_ip_ethertype(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_ethernet(&f, 0x0806);
    for (int i = 0; i < 28; i++) {
        put_u8(&f, 0);
    }

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_NOT_DNS);
}

static void test_decoder_unknown_link_type(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_udp_query_frame(&f);

    assert_int_equal(decode(DLT_IEEE802_11, &f, &cap), DECODE_SKIP_LINK_TYPE);
}

static void put_tcp_frame(struct frame *f, size_t payload_len)
{
    put_ethernet(f, 0x0800);
    put_ipv4(f, 6, 20 + payload_len, 0, 0);
    put_tcp(f, CLIENT_PORT, 53);
}

static void test_decoder_tcp_two_messages(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_tcp_frame(&f, 2 * (2 + QUERY_LEN));
    put_u16(&f, QUERY_LEN);
    put_query(&f, 0x1111);
    put_u16(&f, QUERY_LEN);
    put_query(&f, 0x2222);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_int_equal(cap.count, 2);
    assert_int_equal(cap.msgs[0].id, 0x1111);
    assert_int_equal(cap.msgs[1].id, 0x2222);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cap.msgs[i].transport, DNS_TRANSPORT_TCP);
        assert_int_equal(cap.msgs[i].sport, CLIENT_PORT);
        assert_int_equal(cap.msgs[i].dport, 53);
        assert_addr(&cap.msgs[i].src, "192.0.2.1");
        assert_true(cap.msgs[i].has_question);
    }
}

static void test_decoder_tcp_incomplete_message(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_tcp_frame(&f, 2 + QUERY_LEN);
    put_u16(&f, QUERY_LEN + 20);
    put_query(&f, 0x1111);

    /* The stream keeps the start and waits for the rest of the message. */
    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_TCP_REASSEMBLY);
    assert_int_equal(cap.count, 0);
}

/* The whole first message is emitted even though the second is cut. */
static void test_decoder_tcp_complete_then_incomplete(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_tcp_frame(&f, 2 + QUERY_LEN + 2 + 4);
    put_u16(&f, QUERY_LEN);
    put_query(&f, 0x1111);
    put_u16(&f, QUERY_LEN);
    put_u32(&f, 0x22220100);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_OK);
    assert_int_equal(cap.count, 1);
}

static void test_decoder_tcp_without_payload(void **state)
{
    (void)state;
    struct frame f = { .len = 0 };
    struct captured cap;
    put_tcp_frame(&f, 0);

    assert_int_equal(decode(DLT_EN10MB, &f, &cap), DECODE_SKIP_NOT_DNS);
}

/* ---- the shortcut for the usual frame against the layer walk -------- */

static void assert_same_message(const struct dns_message *a, const struct dns_message *b)
{
    assert_int_equal(a->ts_sec, b->ts_sec);
    assert_int_equal(a->ts_nsec, b->ts_nsec);
    assert_int_equal(a->transport, b->transport);
    assert_memory_equal(&a->src, &b->src, sizeof(a->src));
    assert_memory_equal(&a->dst, &b->dst, sizeof(a->dst));
    assert_int_equal(a->sport, b->sport);
    assert_int_equal(a->dport, b->dport);
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->flags, b->flags);
    assert_int_equal(a->qdcount, b->qdcount);
    assert_int_equal(a->ancount, b->ancount);
    assert_int_equal(a->nscount, b->nscount);
    assert_int_equal(a->arcount, b->arcount);
    assert_int_equal(a->has_question, b->has_question);
    assert_int_equal(a->qname_len, b->qname_len);
    assert_memory_equal(a->qname, b->qname, a->qname_len);
    assert_int_equal(a->qtype, b->qtype);
    assert_int_equal(a->qclass, b->qclass);
    assert_int_equal(a->edns.present, b->edns.present);
    assert_int_equal(a->edns.do_bit, b->edns.do_bit);
    assert_int_equal(a->edns.version, b->edns.version);
    assert_int_equal(a->edns.extended_rcode, b->edns.extended_rcode);
    assert_int_equal(a->edns.udp_size, b->edns.udp_size);
    assert_int_equal(a->edns.has_client_subnet, b->edns.has_client_subnet);
    assert_memory_equal(&a->edns.client_subnet, &b->edns.client_subnet,
                        sizeof(a->edns.client_subnet));
    assert_int_equal(a->records_parsed, b->records_parsed);
    assert_int_equal(a->records_offset, b->records_offset);
    assert_int_equal(a->wire_len, b->wire_len);
    assert_int_equal(a->wire == NULL, b->wire == NULL);
    if (a->wire != NULL) {
        assert_memory_equal(a->wire, b->wire, a->wire_len);
    }
    assert_int_equal(a->tunnel.type, b->tunnel.type);
    assert_int_equal(a->tunnel.depth, b->tunnel.depth);
    assert_memory_equal(&a->tunnel.outer_src, &b->tunnel.outer_src, sizeof(struct addr));
    assert_memory_equal(&a->tunnel.outer_dst, &b->tunnel.outer_dst, sizeof(struct addr));
    assert_int_equal(a->origin.input_index, b->origin.input_index);
    assert_int_equal(a->origin.packet_number, b->origin.packet_number);
    assert_int_equal(a->observer.server_reported, b->observer.server_reported);
    assert_ptr_equal(a->observer.name, b->observer.name);
    assert_ptr_equal(a->observer.version, b->observer.version);
}

/* Two decoders that see the same frames, one through decoder_packet(), one through the layers. */
struct decoder_pair {
    struct decoder *fast;
    struct decoder *layered;
};

/*
 * Decode the first @p caplen bytes of @p f, captured from a frame of
 * @p wire_len bytes, with decoder_packet() and with the layer walk alone:
 * the skip reason and every message must be the same.
 */
static void assert_paths_agree(const struct decoder_pair *pair, const struct frame *f,
                               uint32_t caplen, uint32_t wire_len)
{
    struct packet pkt = {
        .link_type = DLT_EN10MB,
        .data = f->bytes,
        .caplen = caplen,
        .wire_len = wire_len,
        .ts_sec = 1700000000,
        .ts_nsec = 5,
        .origin = { .input_index = 1, .packet_number = 9 },
    };
    struct captured fast_cap = { .count = 0 };
    struct captured layered_cap = { .count = 0 };
    enum decode_skip fast_ret = decoder_packet(pair->fast, &pkt, capture_message, &fast_cap);
    enum decode_skip layered_ret =
        decoder_packet_layered(pair->layered, &pkt, capture_message, &layered_cap);

    /* Compared before the next frame: messages cut from a TCP stream may
     * point into the decoders' buffers. */
    assert_int_equal(fast_ret, layered_ret);
    assert_int_equal(fast_cap.count, layered_cap.count);
    for (unsigned i = 0; i < fast_cap.count && i < CAPTURED_MAX; i++) {
        assert_same_message(&fast_cap.msgs[i], &layered_cap.msgs[i]);
    }
    assert_memory_equal(decoder_counters(pair->fast), decoder_counters(pair->layered),
                        sizeof(struct decoder_counters));
}

/*
 * Build base frame @p kind: a frame that the shortcut takes. The test
 * mutates it into neighbours that the shortcut must leave to the layers.
 */
static void put_base_frame(struct frame *f, int kind)
{
    static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 0, 0, 0x80, 0, 0, 0 };
    f->len = 0;
    switch (kind) {
    case 0: /* IPv4 query */
        put_udp_query_frame(f);
        break;
    case 1: /* IPv4 response from port 53, with Ethernet padding after it */
        put_ethernet(f, 0x0800);
        put_ipv4(f, 17, 8 + QUERY_LEN, 0, 0);
        put_udp(f, 53, CLIENT_PORT, QUERY_LEN);
        put_query(f, 0x4321);
        f->bytes[14 + 20 + 8 + 2] |= 0x80; /* QR */
        put(f, "\0\0\0\0\0\0", 6);
        break;
    case 2: /* IPv6 query */
        put_ethernet(f, 0x86dd);
        put_ipv6(f, 17, 8 + QUERY_LEN);
        put_udp(f, CLIENT_PORT, 53, QUERY_LEN);
        put_query(f, 0x1234);
        break;
    default: /* IPv4 query with an OPT record */
        put_ethernet(f, 0x0800);
        put_ipv4(f, 17, 8 + QUERY_LEN + sizeof(opt), 0, 0);
        put_udp(f, CLIENT_PORT, 53, QUERY_LEN + sizeof(opt));
        put_query(f, 0x1234);
        f->bytes[f->len - 22] = 1; /* ARCOUNT */
        put(f, opt, sizeof(opt));
        break;
    }
}

/*
 * Every byte of the link, IP, UDP and DNS headers set to values that cross
 * the shortcut's checks (versions, header length, protocol, fragment bits,
 * lengths, ports, counts), and every snaplen cut, whole or flagged as cut.
 */
static void test_decoder_shortcut_matches_layers(void **state)
{
    (void)state;
    static const uint8_t values[] = { 0x00, 0x01, 0x06, 0x08, 0x11, 0x20, 0x35, 0x3f,
                                      0x40, 0x45, 0x46, 0x60, 0x86, 0xc0, 0xdd, 0xff };
    struct decoder_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    decoder_config_add_port(&cfg, 53);
    struct decoder_pair pair = { decoder_create(&cfg), decoder_create(&cfg) };
    assert_non_null(pair.fast);
    assert_non_null(pair.layered);

    struct frame f = { .len = 0 };
    for (int kind = 0; kind < 4; kind++) {
        put_base_frame(&f, kind);
        uint32_t len = (uint32_t)f.len;
        for (uint32_t caplen = 0; caplen <= len; caplen++) {
            assert_paths_agree(&pair, &f, caplen, caplen);
            assert_paths_agree(&pair, &f, caplen, len);
        }

        size_t headers = kind == 2 ? 14 + 40 + 8 + 12 : 14 + 20 + 8 + 12;
        for (size_t pos = 0; pos < headers; pos++) {
            uint8_t original = f.bytes[pos];
            for (size_t v = 0; v < sizeof(values); v++) {
                f.bytes[pos] = values[v];
                assert_paths_agree(&pair, &f, len, len);
                assert_paths_agree(&pair, &f, len - 1, len);
            }
            f.bytes[pos] = (uint8_t)(original + 1);
            assert_paths_agree(&pair, &f, len, len);
            f.bytes[pos] = (uint8_t)(original - 1);
            assert_paths_agree(&pair, &f, len, len);
            f.bytes[pos] = original;
        }
    }
    decoder_destroy(pair.fast);
    decoder_destroy(pair.layered);
}

static void test_decoder_skip_names(void **state)
{
    (void)state;
    assert_string_equal(decode_skip_name(DECODE_SKIP_NOT_DNS), "not_dns");
    assert_string_equal(decode_skip_name(DECODE_SKIP_MALFORMED), "malformed");
    assert_string_equal(decode_skip_name(DECODE_SKIP_TRUNCATED), "truncated");
    assert_string_equal(decode_skip_name(DECODE_SKIP_LINK_TYPE), "unsupported_link_type");
    assert_string_equal(decode_skip_name(DECODE_SKIP_FRAGMENT), "fragment");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoder_ethernet_vlan_ipv4_udp),
        cmocka_unit_test(test_decoder_qinq),
        cmocka_unit_test(test_decoder_ethernet_padding_trimmed),
        cmocka_unit_test(test_decoder_ipv6_hop_by_hop_and_dest_opts),
        cmocka_unit_test(test_decoder_linux_sll),
        cmocka_unit_test(test_decoder_linux_sll2),
        cmocka_unit_test(test_decoder_null_both_byte_orders),
        cmocka_unit_test(test_decoder_null_ipv6_families),
        cmocka_unit_test(test_decoder_null_unknown_family),
        cmocka_unit_test(test_decoder_raw_ip),
        cmocka_unit_test(test_decoder_ipv4_options),
        cmocka_unit_test(test_decoder_fragments_skipped),
        cmocka_unit_test(test_decoder_ipv4_dont_fragment_decoded),
        cmocka_unit_test(test_decoder_ipv6_fragment_skipped),
        cmocka_unit_test(test_decoder_snaplen_inside_dns_header),
        cmocka_unit_test(test_decoder_snaplen_inside_ip_header),
        cmocka_unit_test(test_decoder_snaplen_after_question),
        cmocka_unit_test(test_decoder_ipv4_length_past_capture),
        cmocka_unit_test(test_decoder_udp_zero_length_payload),
        cmocka_unit_test(test_decoder_udp_short_dns_payload),
        cmocka_unit_test(test_decoder_non_dns_port),
        cmocka_unit_test(test_decoder_response_from_dns_port),
        cmocka_unit_test(test_decoder_non_ip_ethertype),
        cmocka_unit_test(test_decoder_unknown_link_type),
        cmocka_unit_test(test_decoder_tcp_two_messages),
        cmocka_unit_test(test_decoder_tcp_incomplete_message),
        cmocka_unit_test(test_decoder_tcp_complete_then_incomplete),
        cmocka_unit_test(test_decoder_tcp_without_payload),
        cmocka_unit_test(test_decoder_shortcut_matches_layers),
        cmocka_unit_test(test_decoder_skip_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
