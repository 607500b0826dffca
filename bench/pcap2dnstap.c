/* SPDX-License-Identifier: MIT */
/*
 * pcap2dnstap.c - turn the UDP DNS messages of a capture into a dnstap file,
 * for benchmarking dnsfirst's dnstap input.
 *
 * Each UDP/53 message over Ethernet and IPv4 or IPv6 becomes one dnstap
 * frame: CLIENT_QUERY for a query (QR clear), CLIENT_RESPONSE for a
 * response, with the capture time as the query or response time. TCP and
 * anything else is skipped. The file is written with libfstrm's file writer
 * (content type protobuf:dnstap.Dnstap), as a DNS server would write it.
 *
 * Usage: pcap2dnstap IN.pcap OUT.fstrm
 */
#include <fstrm.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnstap.pb-c.h"

#define CONTENT_TYPE "protobuf:dnstap.Dnstap"

struct udp_dns {
    int family; /* 4 or 6 */
    const uint8_t *src, *dst;
    uint16_t sport, dport;
    const uint8_t *dns;
    size_t dns_len;
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Find UDP port-53 DNS in an Ethernet frame. Returns 0 when found. */
static int parse_frame(const uint8_t *p, size_t len, struct udp_dns *out)
{
    if (len < 14) {
        return -1;
    }
    uint16_t ethertype = be16(p + 12);
    p += 14;
    len -= 14;

    const uint8_t *udp = NULL;
    size_t udp_len = 0;
    if (ethertype == 0x0800 && len >= 20 && p[9] == 17) {
        size_t ihl = (size_t)(p[0] & 0x0f) * 4;
        if ((be16(p + 6) & 0x3fff) != 0 || ihl < 20 || len < ihl + 8) {
            return -1; /* fragments are not worth reassembling here */
        }
        out->family = 4;
        out->src = p + 12;
        out->dst = p + 16;
        udp = p + ihl;
        udp_len = len - ihl;
    } else if (ethertype == 0x86dd && len >= 48 && p[6] == 17) {
        out->family = 6;
        out->src = p + 8;
        out->dst = p + 24;
        udp = p + 40;
        udp_len = len - 40;
    } else {
        return -1;
    }

    out->sport = be16(udp);
    out->dport = be16(udp + 2);
    if (out->sport != 53 && out->dport != 53) {
        return -1;
    }
    out->dns = udp + 8;
    out->dns_len = udp_len - 8;
    return out->dns_len >= 12 ? 0 : -1;
}

/* Pack the dnstap message for @p u, timed by capture header @p h; returns its length. */
static size_t pack_message(const struct udp_dns *u, const struct pcap_pkthdr *h, uint8_t *buf)
{
    Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
    Dnstap__Message m = DNSTAP__MESSAGE__INIT;
    static const char identity[] = "pcap2dnstap";
    bool response = (u->dns[2] & 0x80) != 0;
    size_t alen = u->family == 4 ? 4 : 16;

    d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
    d.has_identity = 1;
    d.identity.data = (uint8_t *)identity;
    d.identity.len = sizeof(identity) - 1;
    d.message = &m;
    m.type = response ? DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE
                      : DNSTAP__MESSAGE__TYPE__CLIENT_QUERY;
    m.has_socket_family = 1;
    m.socket_family = u->family == 4 ? DNSTAP__SOCKET_FAMILY__INET : DNSTAP__SOCKET_FAMILY__INET6;
    m.has_socket_protocol = 1;
    m.socket_protocol = DNSTAP__SOCKET_PROTOCOL__UDP;

    /* query_* is the client side whichever way the message goes. */
    const uint8_t *client = response ? u->dst : u->src;
    const uint8_t *server = response ? u->src : u->dst;
    m.has_query_address = m.has_response_address = 1;
    m.query_address.data = (uint8_t *)client;
    m.query_address.len = alen;
    m.response_address.data = (uint8_t *)server;
    m.response_address.len = alen;
    m.has_query_port = m.has_response_port = 1;
    m.query_port = response ? u->dport : u->sport;
    m.response_port = response ? u->sport : u->dport;

    if (response) {
        m.has_response_time_sec = m.has_response_time_nsec = 1;
        m.response_time_sec = (uint64_t)h->ts.tv_sec;
        m.response_time_nsec = (uint32_t)h->ts.tv_usec * 1000;
        m.has_response_message = 1;
        m.response_message.data = (uint8_t *)u->dns;
        m.response_message.len = u->dns_len;
    } else {
        m.has_query_time_sec = m.has_query_time_nsec = 1;
        m.query_time_sec = (uint64_t)h->ts.tv_sec;
        m.query_time_nsec = (uint32_t)h->ts.tv_usec * 1000;
        m.has_query_message = 1;
        m.query_message.data = (uint8_t *)u->dns;
        m.query_message.len = u->dns_len;
    }
    return dnstap__dnstap__pack(&d, buf);
}

static struct fstrm_writer *open_writer(const char *path)
{
    struct fstrm_file_options *fopt = fstrm_file_options_init();
    fstrm_file_options_set_file_path(fopt, path);
    struct fstrm_writer_options *wopt = fstrm_writer_options_init();
    fstrm_writer_options_add_content_type(wopt, CONTENT_TYPE, strlen(CONTENT_TYPE));
    struct fstrm_writer *w = fstrm_file_writer_init(fopt, wopt);
    fstrm_file_options_destroy(&fopt);
    fstrm_writer_options_destroy(&wopt);
    return w;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pcap2dnstap IN.pcap OUT.fstrm\n");
        return 2;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(argv[1], errbuf);
    if (pc == NULL || pcap_datalink(pc) != DLT_EN10MB) {
        fprintf(stderr, "pcap2dnstap: %s: %s\n", argv[1], pc ? "not Ethernet" : errbuf);
        return 1;
    }
    struct fstrm_writer *w = open_writer(argv[2]);
    if (w == NULL) {
        fprintf(stderr, "pcap2dnstap: cannot write %s\n", argv[2]);
        return 1;
    }

    static uint8_t buf[70000 + 512];
    struct pcap_pkthdr *h;
    const uint8_t *data;
    unsigned long frames = 0;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        struct udp_dns u;
        if (parse_frame(data, h->caplen, &u) != 0 || u.dns_len > 65535) {
            continue;
        }
        size_t len = pack_message(&u, h, buf);
        if (fstrm_writer_write(w, buf, len) != fstrm_res_success) {
            fprintf(stderr, "pcap2dnstap: write failed after %lu frames\n", frames);
            return 1;
        }
        frames++;
    }
    fstrm_writer_destroy(&w);
    pcap_close(pc);
    fprintf(stderr, "pcap2dnstap: %lu frames\n", frames);
    return 0;
}
