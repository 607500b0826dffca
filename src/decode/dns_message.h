/* SPDX-License-Identifier: MIT */
/*
 * dns_message.h - the one record every input produces.
 *
 * Captures, live interfaces, dnstap and log inputs all end in a struct
 * dns_message: one DNS message with its capture time, transport, addresses,
 * the header, the first question and the EDNS facts, plus where it came from.
 * Names are kept in uncompressed wire form with their original case; text is
 * made only when something is written out.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/addr.h"

#define DNS_HEADER_LEN 12
#define DNS_NAME_MAX 255 /* wire form, including the root label */
#define DNS_LABEL_MAX 63

/* Header flag bits in the second 16-bit word (RFC 1035 4.1.1, RFC 4035). */
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_Z 0x0040
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags)&0xf)

#define DNS_TYPE_OPT 41

enum dns_transport {
    DNS_TRANSPORT_UDP = 0,
    DNS_TRANSPORT_TCP,
    DNS_TRANSPORT_DOT, /* DNS over TLS, seen only as a TCP handshake */
    DNS_TRANSPORT_DOH, /* DNS over HTTPS, seen only as a TCP handshake */
    /* Reported only by a server's dnstap log, which knows the session's protocol. */
    DNS_TRANSPORT_DNSCRYPT_UDP,
    DNS_TRANSPORT_DNSCRYPT_TCP,
    DNS_TRANSPORT_DOQ, /* DNS over QUIC (RFC 9250) */
};

enum dns_tunnel {
    DNS_TUNNEL_NONE = 0,
    DNS_TUNNEL_IPIP,    /* IPv4 or IPv6 in IPv4 or IPv6 (IP protocols 4 and 41, 6in4) */
    DNS_TUNNEL_GRE,     /* GRE (RFC 2784, RFC 2890), also over UDP port 4754 (RFC 8086) */
    DNS_TUNNEL_ERSPAN,  /* ERSPAN type I, II or III inside GRE */
    DNS_TUNNEL_VXLAN,   /* VXLAN, UDP port 4789 (RFC 7348) */
    DNS_TUNNEL_GENEVE,  /* GENEVE, UDP port 6081 (RFC 8926) */
    DNS_TUNNEL_TEREDO,  /* Teredo, UDP port 3544 (RFC 4380) */
};

/*
 * The outermost encapsulation of a tunnelled message: its type and the
 * addresses of the IP header that carried it. The message's own src and dst
 * are those of the innermost IP header.
 */
struct dns_tunnel_info {
    uint8_t type;  /* enum dns_tunnel, DNS_TUNNEL_NONE when not tunnelled */
    uint8_t depth; /* encapsulations removed, 0 when not tunnelled */
    struct addr outer_src;
    struct addr outer_dst;
};

/* Provenance of a message, for the alert's input fields. */
struct dns_origin {
    uint32_t input_index;   /* index of the capture file or interface */
    uint64_t packet_number; /* 1-based packet number within that input */
};

/*
 * The DNS server that reported the message itself, through dnstap; all
 * zero for captured traffic. The strings have static storage duration, so
 * copies of the message may keep them.
 */
struct dns_observer {
    bool server_reported; /* the destination is a DNS server, whatever its port */
    const char *name;     /* the server's identity, NULL when it sent none */
    const char *version;  /* the server's version, NULL when it sent none */
};

struct dns_edns {
    bool present;
    bool do_bit;
    uint8_t version;
    uint8_t extended_rcode; /* upper 8 bits of the 12-bit RCODE */
    uint16_t udp_size;
    bool has_client_subnet;
    struct prefix client_subnet; /* source address and source prefix length */
};

struct dns_message {
    /* Capture time, seconds and nanoseconds since the Unix epoch. */
    int64_t ts_sec;
    uint32_t ts_nsec;

    uint8_t transport; /* enum dns_transport */
    struct addr src;
    struct addr dst;
    uint16_t sport;
    uint16_t dport;

    /* Header (RFC 1035 4.1.1). */
    uint16_t id;
    uint16_t flags; /* the whole second word: QR, OPCODE, AA, TC, RD, RA, Z, AD, CD, RCODE */
    uint16_t qdcount;
    uint16_t ancount;
    uint16_t nscount;
    uint16_t arcount;

    /* First question; has_question is false when QDCOUNT is 0. */
    bool has_question;
    uint8_t qname_len;            /* bytes used in qname, root label included */
    uint8_t qname[DNS_NAME_MAX];  /* uncompressed wire form, case preserved */
    uint16_t qtype;
    uint16_t qclass;

    /*
     * EDNS facts come from the records after the question. Captures parse
     * those lazily: the decoder checks the header and the question of every
     * message, but walks the answer, authority and additional sections only
     * when dns_message_parse_records() asks, because most messages (a known
     * client's query, a response nobody waits for) never need them.
     */
    struct dns_edns edns;
    bool records_parsed;      /* edns is final */
    uint16_t records_offset;  /* where the answer section starts in wire */
    uint16_t wire_len;
    const uint8_t *wire;      /* the message bytes; valid only during the emit callback */
    struct dns_tunnel_info tunnel;
    struct dns_origin origin;
    struct dns_observer observer;
};

static inline bool dns_message_is_response(const struct dns_message *m)
{
    return (m->flags & DNS_FLAG_QR) != 0;
}

/*
 * Parse the records after the question so that edns is final. Call it
 * during the emit callback, before copying a message that outlives it.
 * Errors in those sections leave edns as far as it was read, as
 * dns_wire_parse() does.
 */
void dns_message_parse_records(struct dns_message *m);

/* Full 12-bit RCODE, with the EDNS extension when an OPT record was seen. */
static inline unsigned dns_message_rcode(const struct dns_message *m)
{
    return (unsigned)m->edns.extended_rcode << 4 | DNS_RCODE(m->flags);
}
