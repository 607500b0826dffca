/* SPDX-License-Identifier: MIT */
/*
 * gen-capture.c - write a synthetic DNS capture for benchmarks and tests.
 *
 * The capture models the link in front of a few DNS servers. Internal and
 * external clients (IPv4 and IPv6) send queries over UDP, or over TCP for a
 * share of them, and the servers answer: some answers are NXDOMAIN, some
 * queries get none, and a few packets to port 53 are malformed. The output is
 * classic pcap (Ethernet, microsecond timestamps). Everything derives from
 * --seed, so the same arguments always write a byte-identical file.
 *
 * Clients: each query either brings in a new client or repeats a known one.
 * The new-client probability is steered so that about --clients distinct
 * clients appear, spread over the whole capture. A repeat picks known client
 * floor(k * u^3) for u uniform in [0,1), so early clients are heavy hitters
 * and the popularity has a long tail (Zipf-like). A client's address, family,
 * internal flag and home server are hashes of its index, so no per-client
 * address is stored. Addresses come from keyed permutations, so two clients
 * never share an address (IPv4) or a /64 (IPv6).
 *
 * --truth writes the counts that a correct detector must reproduce: with
 * --learning-period 0, default internal ranges and client prefixes /32 and
 * /64, server scope alerts once per distinct external (server, client) pair.
 * Malformed packets reuse the flow of an earlier query, so however a parser
 * treats them they add no pair.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVERS_MAX 16
#define START_TIME_S 1714521600u /* 2024-05-01T00:00:00Z */
#define OUT_BUFFER_SIZE (4u << 20)
#define FRAME_MAX 2048
#define DNS_MAX 1400
#define DOMAIN_COUNT 200000u
#define DNS_PORT 53

#define DNS_TYPE_A 1
#define DNS_TYPE_NS 2
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA 6
#define DNS_TYPE_PTR 12
#define DNS_TYPE_HINFO 13
#define DNS_TYPE_MX 15
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_SRV 33
#define DNS_TYPE_OPT 41
#define DNS_TYPE_HTTPS 65
#define DNS_TYPE_ANY 255

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_NXDOMAIN 3

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* Command-line settings. */
struct options {
    uint64_t packets;
    uint64_t clients;
    uint64_t seed;
    const char *out_path;
    const char *truth_path;
    double internal_share;
    double ipv6_share;
    double tcp_share;
    double nxdomain_share;
    double loss;
    double malformed_share;
    double rate;
    unsigned servers;
};

struct ip {
    uint8_t family; /* 4 or 6 */
    uint8_t bytes[16];
};

/* One direction-independent conversation: client and server endpoints. */
struct flow {
    struct ip client;
    struct ip server;
    uint16_t client_port;
    uint8_t client_ttl;
};

/* A question section: name, type and class in wire form. */
struct question {
    uint8_t wire[300];
    uint16_t len;
    uint16_t qtype;
    uint16_t zone_offset; /* offset of the registered domain in wire */
};

/* What it takes to write every packet of one query and its answer. */
struct txn {
    struct flow flow;
    struct question question;
    uint32_t client;
    uint32_t next_free;
    uint32_t client_seq;
    uint32_t server_seq;
    uint32_t rtt_us;
    uint32_t answer_seed;
    uint16_t id;
    uint16_t flags;
    uint8_t server;
    uint8_t rcode;
    bool edns;
    bool tcp;
};

/* A packet due at time t_us: step of the transaction's packet sequence. */
struct event {
    uint64_t t_us;
    uint64_t seq;
    uint32_t txn;
    uint8_t step;
};

enum step {
    STEP_UDP_QUERY,
    STEP_UDP_RESPONSE,
    STEP_TCP_SYN,
    STEP_TCP_SYN_ACK,
    STEP_TCP_ACK,
    STEP_TCP_QUERY,
    STEP_TCP_RESPONSE,
    STEP_TCP_CLIENT_FIN,
    STEP_TCP_SERVER_FIN,
    STEP_TCP_LAST_ACK,
};

struct counts {
    uint64_t packets;
    uint64_t queries;
    uint64_t queries_tcp;
    uint64_t responses;
    uint64_t nxdomain;
    uint64_t malformed;
    uint64_t tcp_connections;
    uint64_t clients;
    uint64_t external_clients;
    uint64_t internal_clients;
    uint64_t external_pairs;
    uint64_t internal_pairs;
    uint64_t first_us;
    uint64_t last_us;
};

struct generator {
    struct options opt;
    uint64_t rng;
    uint64_t key;

    struct ip servers[SERVERS_MAX];
    bool server_internal[SERVERS_MAX];
    uint8_t family_servers[2][SERVERS_MAX]; /* [0] IPv4, [1] IPv6 */
    unsigned family_count[2];

    /* Per client index: bit s set once a query to server s was written. */
    uint16_t *pair_mask;
    uint64_t clients_introduced;
    uint64_t clients_cap;

    struct txn *txns;
    uint32_t txn_cap;
    uint32_t txn_free;

    struct event *heap;
    size_t heap_len;
    size_t heap_cap;
    uint64_t event_seq;

    bool have_last_flow;
    struct flow last_flow;

    FILE *out;
    uint8_t *buf;
    size_t buf_len;
    uint16_t ip_id;

    struct counts n;
};

/* ---- random numbers and keyed permutations ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t rng_next(struct generator *g)
{
    g->rng += 0x9e3779b97f4a7c15ull;
    return mix64(g->rng);
}

/* Uniform in [0, 1). */
static double rng_unit(struct generator *g)
{
    return (double)(rng_next(g) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n). */
static uint32_t rng_below(struct generator *g, uint32_t n)
{
    return (uint32_t)(((rng_next(g) >> 32) * (uint64_t)n) >> 32);
}

static uint64_t hash64(const struct generator *g, uint64_t x, uint64_t salt)
{
    return mix64(x ^ mix64(g->key + salt));
}

static double hash_unit(uint64_t h)
{
    return (double)(h >> 11) * 0x1.0p-53;
}

/*
 * Keyed bijection on bits-wide integers: every step (xor with a constant,
 * multiplication by an odd number, xor with a right shift) is invertible
 * modulo 2^bits.
 */
static uint64_t permute_bits(const struct generator *g, uint64_t x, unsigned bits)
{
    uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    unsigned shift = bits / 2 > 0 ? bits / 2 : 1;

    for (unsigned round = 0; round < 3; round++) {
        x = (x ^ mix64(g->key + round)) & mask;
        x = (x * (mix64(g->key + 10 + round) | 1)) & mask;
        x ^= x >> shift;
    }
    return x;
}

/*
 * Bijection on [0, size): walk the cycle of a power-of-two permutation until
 * the value falls back inside the range. x must be below size.
 */
static uint64_t permute_range(const struct generator *g, uint64_t x, uint64_t size)
{
    unsigned bits = 1;
    while ((1ull << bits) < size) {
        bits++;
    }

    do {
        x = permute_bits(g, x, bits);
    } while (x >= size);
    return x;
}

/* ---- client addresses ---- */

/* Public-looking IPv4 space: 1.0.0.0-223.255.255.255 minus private ranges. */
static const uint32_t external_v4_ranges[][2] = {
    { 0x01000000, 0x0a000000 }, /* 1.0.0.0 up to 10/8 */
    { 0x0b000000, 0x64400000 }, /* up to 100.64/10 */
    { 0x64800000, 0x7f000000 }, /* up to 127/8 */
    { 0x80000000, 0xa9fe0000 }, /* up to 169.254/16 */
    { 0xa9ff0000, 0xac100000 }, /* up to 172.16/12 */
    { 0xac200000, 0xc0000200 }, /* up to 192.0.2.0/24 (server addresses) */
    { 0xc0000300, 0xc0a80000 }, /* up to 192.168/16 */
    { 0xc0a90000, 0xe0000000 }, /* up to 224/4 */
};

static const uint32_t internal_v4_ranges[][2] = {
    { 0x0a000000, 0x0b000000 }, /* 10/8 */
    { 0xc0a80000, 0xc0a90000 }, /* 192.168/16 */
};

/* Map rank (below the ranges' total size) to an address in the ranges. */
static uint32_t ranges_pick(const uint32_t (*ranges)[2], size_t count, uint64_t rank)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t size = (uint64_t)ranges[i][1] - ranges[i][0];
        if (rank < size) {
            return ranges[i][0] + (uint32_t)rank;
        }
        rank -= size;
    }
    return ranges[0][0];
}

static uint64_t ranges_size(const uint32_t (*ranges)[2], size_t count)
{
    uint64_t total = 0;
    for (size_t i = 0; i < count; i++) {
        total += (uint64_t)ranges[i][1] - ranges[i][0];
    }
    return total;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    put_be32(p, (uint32_t)(v >> 32));
    put_be32(p + 4, (uint32_t)v);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* IPv4 address of client @p index, distinct for every index in its class. */
static void client_v4(const struct generator *g, uint64_t index, bool internal,
                      struct ip *out)
{
    const uint32_t (*ranges)[2] = internal ? internal_v4_ranges : external_v4_ranges;
    size_t count = internal ? 2 : 8;
    uint64_t size = ranges_size(ranges, count);

    /* Past the size of the space, addresses repeat (16.8M internal). */
    uint64_t rank = permute_range(g, index % size, size);

    memset(out, 0, sizeof(*out));
    out->family = 4;
    put_be32(out->bytes, ranges_pick(ranges, count, rank));
}

/*
 * IPv6 address of client @p index: the /64 contains a permutation of the index,
 * so it is distinct per client; the interface identifier is stable unless
 * @p iid_random is nonzero (a privacy address).
 */
static void client_v6(const struct generator *g, uint64_t index, bool internal,
                      uint64_t iid_random, struct ip *out)
{
    uint64_t h = hash64(g, index, 61);
    uint64_t low = permute_bits(g, index & 0xffffffffu, 32);
    uint64_t prefix;

    if (internal) {
        prefix = 0xfdull << 56 | (h & 0xffffff) << 32 | low;
    } else if ((h >> 40) % 4 == 0) {
        prefix = 0x20010db8ull << 32 | low;
    } else {
        prefix = 0x2a0ull << 52 | (h & 0xfffff) << 32 | low;
    }

    out->family = 6;
    put_be64(out->bytes, prefix);
    put_be64(out->bytes + 8, iid_random != 0 ? iid_random : mix64(h) | 1);
}

/* Class of client @p index: internal flag, family and home server. */
struct client_class {
    bool internal;
    bool ipv6;
    uint8_t home;
};

static struct client_class client_classify(const struct generator *g, uint64_t index)
{
    struct client_class c;
    uint64_t h = hash64(g, index, 17);

    c.internal = hash_unit(mix64(h + 1)) < g->opt.internal_share;
    c.ipv6 = hash_unit(mix64(h + 2)) < g->opt.ipv6_share;

    /* Server popularity within the family falls as 1/(rank+1). */
    unsigned fam = c.ipv6 ? 1 : 0;
    unsigned count = g->family_count[fam];
    double total = 0;
    for (unsigned i = 0; i < count; i++) {
        total += 1.0 / (i + 1);
    }
    double pick = hash_unit(mix64(h + 3)) * total;
    unsigned rank = 0;
    while (rank + 1 < count && pick >= 1.0 / (rank + 1)) {
        pick -= 1.0 / (rank + 1);
        rank++;
    }
    c.home = g->family_servers[fam][rank];
    return c;
}

/* ---- servers ---- */

/*
 * Servers alternate public and internal addresses. A third of them (at
 * least one when there are two or more) are IPv6.
 */
static int servers_init(struct generator *g)
{
    unsigned total = g->opt.servers;
    unsigned v6 = total / 3;
    if (v6 == 0 && total >= 2) {
        v6 = 1;
    }
    unsigned v4 = total - v6;

    if (v6 == 0 && g->opt.ipv6_share > 0) {
        fprintf(stderr, "gen-capture: --ipv6-share needs --servers 2 or more, "
                        "or pass --ipv6-share 0\n");
        return -1;
    }

    for (unsigned i = 0; i < total; i++) {
        struct ip *s = &g->servers[i];
        bool ipv6 = i >= v4;
        unsigned j = ipv6 ? i - v4 : i;
        bool internal = j % 2 == 1;

        memset(s, 0, sizeof(*s));
        if (!ipv6) {
            s->family = 4;
            put_be32(s->bytes, internal ? 0x0a350001 + j / 2 : 0xc0000235 + j / 2);
        } else {
            s->family = 6;
            put_be32(s->bytes, internal ? 0xfd000053 : 0x20010db8);
            put_be32(s->bytes + 4, internal ? 0 : 0x00530000);
            put_be16(s->bytes + 14, (uint16_t)((internal ? 1 : 0x53) + j / 2));
        }
        g->server_internal[i] = internal;
        unsigned fam = ipv6 ? 1 : 0;
        g->family_servers[fam][g->family_count[fam]++] = (uint8_t)i;
    }
    return 0;
}

/* ---- query names ---- */

static const char *const syllables[] = {
    "ba", "cor", "da", "del", "fi", "gan", "hol", "ir", "jo", "ka", "lem",
    "mar", "nor", "ob", "pen", "qui", "ras", "sol", "tan", "ul", "vex", "wil",
    "xa", "yor", "zed", "bri", "cla", "dro", "fen", "gri", "kel", "lun",
    "mos", "nix", "pra", "rin", "sta", "tro", "vel", "zo",
};

static const char *const tlds[] = {
    "com", "com", "com", "com", "com", "com", "com", "com", "net", "net",
    "net", "org", "org", "de", "uk", "fr", "io", "nl", "eu", "example",
};

static const char *const hosts[] = {
    "www", "www", "www", "www", "www", "api", "mail", "cdn", "static", "img",
    "login", "m", "app", "auth", "update", "time", "smtp", "ns1", "vpn",
    "assets",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static size_t put_label(uint8_t *p, const char *text, size_t len)
{
    p[0] = (uint8_t)len;
    memcpy(p + 1, text, len);
    return len + 1;
}

static size_t put_label_str(uint8_t *p, const char *text)
{
    return put_label(p, text, strlen(text));
}

/* Second-level label of domain @p d: two to four syllables. */
static size_t put_domain_label(const struct generator *g, uint8_t *p, uint32_t d)
{
    char text[32];
    size_t len = 0;
    uint64_t h = hash64(g, d, 5);
    unsigned parts = 2 + (unsigned)(h % 3);

    h /= 3;
    for (unsigned i = 0; i < parts; i++) {
        const char *s = syllables[h % COUNT_OF(syllables)];
        h /= COUNT_OF(syllables);
        size_t n = strlen(s);
        memcpy(text + len, s, n);
        len += n;
    }
    return put_label(p, text, len);
}

/* A name under a popular domain: host.domain.tld, domain Zipf-like. */
static size_t put_common_name(struct generator *g, struct question *q)
{
    double u = rng_unit(g);
    uint32_t d = (uint32_t)(DOMAIN_COUNT * u * u * u);
    uint64_t h = hash64(g, d, 7);
    size_t off = 0;

    /* Each domain has a handful of host names. */
    uint32_t host = (uint32_t)((h + rng_below(g, 4)) % COUNT_OF(hosts));
    if (rng_below(g, 10) != 0) {
        off += put_label_str(q->wire + off, hosts[host]);
    }
    q->zone_offset = (uint16_t)off;
    off += put_domain_label(g, q->wire + off, d);
    off += put_label_str(q->wire + off, tlds[(h >> 20) % COUNT_OF(tlds)]);
    q->wire[off++] = 0;
    return off;
}

/* A reverse-lookup name: d.c.b.a.in-addr.arpa. */
static size_t put_reverse_name(struct generator *g, struct question *q)
{
    uint32_t a = ranges_pick(external_v4_ranges, 8,
                             rng_next(g) % ranges_size(external_v4_ranges, 8));
    size_t off = 0;

    for (int i = 0; i < 4; i++) {
        char text[4];
        int n = snprintf(text, sizeof(text), "%u", (a >> (8 * i)) & 0xff);
        off += put_label(q->wire + off, text, (size_t)n);
    }
    q->zone_offset = (uint16_t)off;
    off += put_label_str(q->wire + off, "in-addr");
    off += put_label_str(q->wire + off, "arpa");
    q->wire[off++] = 0;
    return off;
}

/* Long random labels under one zone, as DNS tunnels send. */
static size_t put_tunnel_name(struct generator *g, struct question *q)
{
    static const char base32[] = "abcdefghijklmnopqrstuvwxyz234567";
    unsigned labels = 1 + rng_below(g, 3);
    size_t off = 0;

    for (unsigned i = 0; i < labels; i++) {
        size_t len = 20 + rng_below(g, 44);
        q->wire[off] = (uint8_t)len;
        for (size_t k = 1; k <= len; k++) {
            q->wire[off + k] = (uint8_t)base32[rng_next(g) & 31];
        }
        off += len + 1;
    }
    q->zone_offset = (uint16_t)off;
    off += put_label_str(q->wire + off, "tunnel");
    off += put_label_str(q->wire + off, "example");
    q->wire[off++] = 0;
    return off;
}

/* Query types by share in per mille. PTR comes only with reverse names. */
static const uint16_t qtype_table[][2] = {
    { DNS_TYPE_A, 560 },   { DNS_TYPE_AAAA, 250 }, { DNS_TYPE_HTTPS, 60 },
    { DNS_TYPE_TXT, 50 },  { DNS_TYPE_MX, 40 },    { DNS_TYPE_NS, 20 },
    { DNS_TYPE_SRV, 15 },  { DNS_TYPE_ANY, 5 },
};

static uint16_t pick_qtype(struct generator *g)
{
    uint32_t r = rng_below(g, 1000);
    for (size_t i = 0; i < COUNT_OF(qtype_table); i++) {
        if (r < qtype_table[i][1]) {
            return qtype_table[i][0];
        }
        r -= qtype_table[i][1];
    }
    return DNS_TYPE_A;
}

static void question_make(struct generator *g, struct question *q)
{
    uint32_t kind = rng_below(g, 1000);
    size_t len;

    if (kind < 60) {
        len = put_reverse_name(g, q);
        q->qtype = DNS_TYPE_PTR;
    } else if (kind < 65) {
        len = put_tunnel_name(g, q);
        q->qtype = rng_below(g, 2) == 0 ? DNS_TYPE_TXT : DNS_TYPE_A;
    } else {
        len = put_common_name(g, q);
        q->qtype = pick_qtype(g);
    }
    put_be16(q->wire + len, q->qtype);
    put_be16(q->wire + len + 2, 1); /* class IN */
    q->len = (uint16_t)(len + 4);
}

/* ---- DNS messages ---- */

#define DNS_HEADER_LEN 12
#define QNAME_POINTER 0xc00c /* compression pointer to the question name */

static size_t put_header(uint8_t *p, uint16_t id, uint16_t flags, uint16_t qd,
                         uint16_t an, uint16_t ns, uint16_t ar)
{
    put_be16(p, id);
    put_be16(p + 2, flags);
    put_be16(p + 4, qd);
    put_be16(p + 6, an);
    put_be16(p + 8, ns);
    put_be16(p + 10, ar);
    return DNS_HEADER_LEN;
}

static size_t put_opt(uint8_t *p, uint16_t udp_size, bool dnssec_ok)
{
    p[0] = 0; /* root owner */
    put_be16(p + 1, DNS_TYPE_OPT);
    put_be16(p + 3, udp_size);
    put_be32(p + 5, dnssec_ok ? 0x8000 : 0);
    put_be16(p + 9, 0);
    return 11;
}

/* Write a resource record header with a pointer owner. Returns the rdata offset. */
static size_t put_rr_header(uint8_t *p, uint16_t owner, uint16_t type, uint32_t ttl)
{
    put_be16(p, owner);
    put_be16(p + 2, type);
    put_be16(p + 4, 1);
    put_be32(p + 6, ttl);
    return 12; /* rdlength at p + 10 is filled by the caller */
}

static size_t put_rr(uint8_t *p, uint16_t owner, uint16_t type, uint32_t ttl,
                     const uint8_t *rdata, size_t rdlen)
{
    size_t off = put_rr_header(p, owner, type, ttl);
    put_be16(p + 10, (uint16_t)rdlen);
    memcpy(p + off, rdata, rdlen);
    return off + rdlen;
}

static size_t dns_query_build(const struct txn *t, uint8_t *p)
{
    size_t off = put_header(p, t->id, t->flags, 1, 0, 0, t->edns ? 1 : 0);

    memcpy(p + off, t->question.wire, t->question.len);
    off += t->question.len;
    if (t->edns) {
        off += put_opt(p + off, (t->answer_seed & 1) ? 1232 : 4096,
                       (t->answer_seed & 6) == 0);
    }
    return off;
}

/* Answers for an A or AAAA question, behind a CNAME for some names. */
static size_t put_address_answers(uint8_t *p, size_t msg_off, uint16_t qtype,
                                  uint32_t seed, uint16_t *count)
{
    size_t off = 0;
    uint16_t owner = QNAME_POINTER;

    if (seed % 5 == 0) {
        uint8_t target[40];
        size_t tlen = 0;
        char edge[16];
        int n = snprintf(edge, sizeof(edge), "edge%u", (seed >> 8) % 64);
        tlen += put_label(target, edge, (size_t)n);
        tlen += put_label_str(target + tlen, "cdn");
        tlen += put_label_str(target + tlen, "example");
        target[tlen++] = 0;
        owner = (uint16_t)(0xc000 | (msg_off + 12));
        off += put_rr(p, QNAME_POINTER, DNS_TYPE_CNAME, 300, target, tlen);
        (*count)++;
    }

    unsigned records = 1 + (seed >> 3) % (qtype == DNS_TYPE_A ? 3 : 2);
    for (unsigned i = 0; i < records; i++) {
        uint8_t rdata[16];
        uint64_t h = mix64(seed + i);
        put_be64(rdata, h);
        put_be64(rdata + 8, mix64(h));
        if (qtype == DNS_TYPE_AAAA) {
            put_be32(rdata, 0x20010db8u);
        } else {
            rdata[0] = (uint8_t)(1 + rdata[0] % 223); /* unicast first octet */
        }
        off += put_rr(p + off, owner, qtype, 60 + seed % 3600, rdata,
                      qtype == DNS_TYPE_A ? 4 : 16);
        (*count)++;
    }
    return off;
}

/* The answer for the other query types: one typical record. */
static size_t put_other_answers(uint8_t *p, uint16_t qtype, uint32_t seed,
                                uint16_t *count)
{
    uint8_t rdata[64];
    size_t len = 0;

    switch (qtype) {
    case DNS_TYPE_MX:
        put_be16(rdata, 10);
        len = 2 + put_label_str(rdata + 2, "mx1");
        break;
    case DNS_TYPE_NS:
        len = put_label_str(rdata, "ns1");
        break;
    case DNS_TYPE_TXT:
        len = put_label_str(rdata, "v=spf1 -all");
        *count = 1;
        return put_rr(p, QNAME_POINTER, qtype, 3600, rdata, len);
    case DNS_TYPE_SRV:
        put_be16(rdata, 0);
        put_be16(rdata + 2, 5);
        put_be16(rdata + 4, 443);
        len = 6 + put_label_str(rdata + 6, "srv1");
        break;
    case DNS_TYPE_HTTPS:
        /* Priority 1, target ".", alpn=h2,h3. */
        memcpy(rdata, "\x00\x01\x00\x00\x01\x00\x06\x02h2\x02h3", 13);
        *count = 1;
        return put_rr(p, QNAME_POINTER, qtype, 300, rdata, 13);
    case DNS_TYPE_PTR:
        len = put_label_str(rdata, "host");
        len += put_label_str(rdata + len, "isp");
        len += put_label_str(rdata + len, "example");
        rdata[len++] = 0;
        *count = 1;
        return put_rr(p, QNAME_POINTER, qtype, 86400, rdata, len);
    default:
        /* ANY gets the minimal HINFO "RFC8482" answer of RFC 8482. */
        memcpy(rdata, "\x07RFC8482\x00", 9);
        *count = 1;
        return put_rr(p, QNAME_POINTER, DNS_TYPE_HINFO, 3600, rdata, 9);
    }

    /* MX, NS and SRV targets sit under the question name. */
    put_be16(rdata + len, QNAME_POINTER);
    len += 2;
    *count = 1;
    return put_rr(p, QNAME_POINTER, qtype, 3600 + seed % 600, rdata, len);
}

/* The SOA of the question's zone, in the authority section of NXDOMAIN. */
static size_t put_negative_soa(uint8_t *p, uint16_t zone_ptr)
{
    uint8_t rdata[64];
    size_t len = put_label_str(rdata, "ns1");

    put_be16(rdata + len, zone_ptr);
    len += 2;
    len += put_label_str(rdata + len, "hostmaster");
    put_be16(rdata + len, zone_ptr);
    len += 2;
    static const uint32_t timers[] = { 2024050101, 7200, 3600, 1209600, 300 };
    for (size_t i = 0; i < COUNT_OF(timers); i++) {
        put_be32(rdata + len, timers[i]);
        len += 4;
    }
    return put_rr(p, zone_ptr, DNS_TYPE_SOA, 300, rdata, len);
}

static size_t dns_response_build(const struct txn *t, uint8_t *p)
{
    uint16_t flags = (uint16_t)(0x8080 | (t->flags & 0x0100) | t->rcode);
    size_t off = DNS_HEADER_LEN;
    uint16_t an = 0;
    uint16_t ns = 0;

    memcpy(p + off, t->question.wire, t->question.len);
    off += t->question.len;

    if (t->rcode == DNS_RCODE_NXDOMAIN) {
        uint16_t zone = (uint16_t)(0xc000 | (DNS_HEADER_LEN + t->question.zone_offset));
        off += put_negative_soa(p + off, zone);
        ns = 1;
    } else if (t->question.qtype == DNS_TYPE_A || t->question.qtype == DNS_TYPE_AAAA) {
        off += put_address_answers(p + off, off, t->question.qtype, t->answer_seed, &an);
    } else {
        off += put_other_answers(p + off, t->question.qtype, t->answer_seed, &an);
    }

    if (t->edns) {
        off += put_opt(p + off, 1232, (t->answer_seed & 6) == 0);
    }
    put_header(p, t->id, flags, 1, an, ns, t->edns ? 1 : 0);
    return off;
}

/* ---- pcap output ---- */

static int out_flush(struct generator *g)
{
    if (g->buf_len > 0 && fwrite(g->buf, 1, g->buf_len, g->out) != g->buf_len) {
        fprintf(stderr, "gen-capture: cannot write '%s' (%s)\n", g->opt.out_path,
                strerror(errno));
        return -1;
    }
    g->buf_len = 0;
    return 0;
}

static void pcap_header_write(struct generator *g)
{
    uint8_t *p = g->buf;

    put_le32(p, 0xa1b2c3d4); /* microsecond timestamps */
    put_le16(p + 4, 2);
    put_le16(p + 6, 4);
    put_le32(p + 8, 0);      /* thiszone */
    put_le32(p + 12, 0);     /* sigfigs */
    put_le32(p + 16, 65535); /* snaplen */
    put_le32(p + 20, 1);     /* LINKTYPE_ETHERNET */
    g->buf_len = 24;
}

static uint32_t sum_words(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (len & 1) {
        sum += (uint32_t)(p[len - 1] << 8);
    }
    return sum;
}

static uint16_t fold_sum(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Transport header fields of one packet. */
struct segment {
    bool to_server;
    bool tcp;
    uint16_t client_port;
    uint8_t tcp_flags;
    uint32_t seq;
    uint32_t ack;
    int udp_length_extra; /* makes the UDP length lie, for malformed packets */
};

static size_t put_ip_header(struct generator *g, uint8_t *p, const struct flow *f,
                            const struct segment *s, size_t l4_len)
{
    const struct ip *src = s->to_server ? &f->client : &f->server;
    const struct ip *dst = s->to_server ? &f->server : &f->client;
    uint8_t proto = s->tcp ? 6 : 17;
    uint8_t ttl = s->to_server ? f->client_ttl : 64;

    if (src->family == 4) {
        p[0] = 0x45;
        p[1] = 0;
        put_be16(p + 2, (uint16_t)(20 + l4_len));
        put_be16(p + 4, g->ip_id++);
        put_be16(p + 6, 0x4000); /* don't fragment */
        p[8] = ttl;
        p[9] = proto;
        put_be16(p + 10, 0);
        memcpy(p + 12, src->bytes, 4);
        memcpy(p + 16, dst->bytes, 4);
        put_be16(p + 10, fold_sum(sum_words(p, 20)));
        return 20;
    }
    put_be32(p, 0x60000000);
    put_be16(p + 4, (uint16_t)l4_len);
    p[6] = proto;
    p[7] = ttl;
    memcpy(p + 8, src->bytes, 16);
    memcpy(p + 24, dst->bytes, 16);
    return 40;
}

static size_t put_transport_header(uint8_t *p, const struct segment *s, size_t payload_len)
{
    uint16_t sport = s->to_server ? s->client_port : DNS_PORT;
    uint16_t dport = s->to_server ? DNS_PORT : s->client_port;

    put_be16(p, sport);
    put_be16(p + 2, dport);
    if (!s->tcp) {
        put_be16(p + 4, (uint16_t)(8 + payload_len + s->udp_length_extra));
        put_be16(p + 6, 0);
        return 8;
    }
    put_be32(p + 4, s->seq);
    put_be32(p + 8, (s->tcp_flags & TCP_ACK) ? s->ack : 0);
    p[12] = 5 << 4;
    p[13] = s->tcp_flags;
    put_be16(p + 14, 64240);
    put_be16(p + 16, 0);
    put_be16(p + 18, 0);
    return 20;
}

/* Checksum over the pseudo header (addresses, protocol, length) and l4. */
static void fill_transport_checksum(const uint8_t *ip, uint8_t *l4, size_t l4_len,
                                    bool tcp)
{
    size_t addr_off = ip[0] >> 4 == 4 ? 12 : 8;
    size_t addr_len = ip[0] >> 4 == 4 ? 8 : 32;
    uint32_t sum = sum_words(ip + addr_off, addr_len);

    sum += (uint32_t)(tcp ? 6 : 17) + (uint32_t)l4_len;
    sum += sum_words(l4, l4_len);
    uint16_t check = fold_sum(sum);
    if (!tcp && check == 0) {
        check = 0xffff; /* zero means "no checksum" for UDP */
    }
    put_be16(l4 + (tcp ? 16 : 6), check);
}

/* Append one Ethernet frame at capture time @p t_us to the output. */
static int emit_frame(struct generator *g, uint64_t t_us, const struct flow *f,
                      const struct segment *s, const uint8_t *payload, size_t len)
{
    if (g->buf_len + FRAME_MAX + 16 > OUT_BUFFER_SIZE && out_flush(g) != 0) {
        return -1;
    }

    uint8_t *rec = g->buf + g->buf_len;
    uint8_t *eth = rec + 16;
    static const uint8_t mac_router[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    static const uint8_t mac_server[6] = { 0x02, 0, 0, 0, 0, 0x53 };
    memcpy(eth, s->to_server ? mac_server : mac_router, 6);
    memcpy(eth + 6, s->to_server ? mac_router : mac_server, 6);
    put_be16(eth + 12, f->client.family == 4 ? 0x0800 : 0x86dd);

    uint8_t *ip = eth + 14;
    size_t l4_header = s->tcp ? 20 : 8;
    size_t ip_len = put_ip_header(g, ip, f, s, l4_header + len);
    uint8_t *l4 = ip + ip_len;
    put_transport_header(l4, s, len);
    memcpy(l4 + l4_header, payload, len);
    if (s->udp_length_extra == 0) {
        fill_transport_checksum(ip, l4, l4_header + len, s->tcp);
    }

    uint32_t frame_len = (uint32_t)(14 + ip_len + l4_header + len);
    uint64_t t = (uint64_t)START_TIME_S * 1000000u + t_us;
    put_le32(rec, (uint32_t)(t / 1000000u));
    put_le32(rec + 4, (uint32_t)(t % 1000000u));
    put_le32(rec + 8, frame_len);
    put_le32(rec + 12, frame_len);
    g->buf_len += 16 + frame_len;

    if (g->n.packets == 0) {
        g->n.first_us = t_us;
    }
    g->n.last_us = t_us;
    g->n.packets++;
    return 0;
}

/* ---- counting the ground truth ---- */

/* Record that a query from @p client to @p server reached the capture. */
static void truth_count_query(struct generator *g, uint32_t client, uint8_t server)
{
    uint16_t bit = (uint16_t)(1u << server);
    uint16_t *mask = &g->pair_mask[client];
    bool internal = client_classify(g, client).internal;

    if (*mask == 0) {
        g->n.clients++;
        if (internal) {
            g->n.internal_clients++;
        } else {
            g->n.external_clients++;
        }
    }
    if ((*mask & bit) == 0) {
        if (internal) {
            g->n.internal_pairs++;
        } else {
            g->n.external_pairs++;
        }
    }
    *mask |= bit;
    g->n.queries++;
}

/* ---- the event queue (binary min-heap on time, then creation order) ---- */

static bool event_before(const struct event *a, const struct event *b)
{
    return a->t_us < b->t_us || (a->t_us == b->t_us && a->seq < b->seq);
}

static int heap_push(struct generator *g, uint64_t t_us, uint32_t txn, enum step step)
{
    if (g->heap_len == g->heap_cap) {
        size_t cap = g->heap_cap ? g->heap_cap * 2 : 1024;
        struct event *grown = realloc(g->heap, cap * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        g->heap = grown;
        g->heap_cap = cap;
    }

    struct event e = { t_us, g->event_seq++, txn, (uint8_t)step };
    size_t i = g->heap_len++;
    while (i > 0 && event_before(&e, &g->heap[(i - 1) / 2])) {
        g->heap[i] = g->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    g->heap[i] = e;
    return 0;
}

static struct event heap_pop(struct generator *g)
{
    struct event top = g->heap[0];
    struct event last = g->heap[--g->heap_len];
    size_t i = 0;

    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= g->heap_len) {
            break;
        }
        if (child + 1 < g->heap_len && event_before(&g->heap[child + 1], &g->heap[child])) {
            child++;
        }
        if (!event_before(&g->heap[child], &last)) {
            break;
        }
        g->heap[i] = g->heap[child];
        i = child;
    }
    if (g->heap_len > 0) {
        g->heap[i] = last;
    }
    return top;
}

/* ---- transactions ---- */

static int txn_alloc(struct generator *g, uint32_t *out)
{
    if (g->txn_free == UINT32_MAX) {
        uint32_t cap = g->txn_cap ? g->txn_cap * 2 : 256;
        struct txn *grown = realloc(g->txns, (size_t)cap * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        for (uint32_t i = g->txn_cap; i < cap; i++) {
            grown[i].next_free = i + 1 < cap ? i + 1 : g->txn_free;
        }
        g->txn_free = g->txn_cap;
        g->txns = grown;
        g->txn_cap = cap;
    }
    *out = g->txn_free;
    g->txn_free = g->txns[*out].next_free;
    return 0;
}

static void txn_release(struct generator *g, uint32_t id)
{
    g->txns[id].next_free = g->txn_free;
    g->txn_free = id;
}

/* Expected packets per transaction slot, to steer the new-client rate. */
static double packets_per_slot(const struct options *o)
{
    double udp = 2.0 - o->loss;
    double per_query = (1 - o->tcp_share) * udp + o->tcp_share * 8;
    return (1 - o->malformed_share) * per_query + o->malformed_share;
}

static int clients_grow(struct generator *g)
{
    if (g->clients_introduced < g->clients_cap) {
        return 0;
    }
    uint64_t cap = g->clients_cap ? g->clients_cap * 2 : 65536;
    uint16_t *grown = realloc(g->pair_mask, cap * sizeof(*grown));
    if (grown == NULL) {
        return -1;
    }
    memset(grown + g->clients_cap, 0, (cap - g->clients_cap) * sizeof(*grown));
    g->pair_mask = grown;
    g->clients_cap = cap;
    return 0;
}

/* Pick the client of the next query: a new one, or a skewed known one. */
static int client_pick(struct generator *g, uint32_t *out)
{
    double left_queries = (double)(g->opt.packets - g->n.packets) /
                          packets_per_slot(&g->opt) * (1 - g->opt.malformed_share);
    double left_clients = (double)g->opt.clients - (double)g->clients_introduced;
    double p_new = left_queries > 0 ? left_clients / left_queries : 1;

    if (g->clients_introduced == 0 || (left_clients > 0 && rng_unit(g) < p_new)) {
        if (g->clients_introduced >= UINT32_MAX || clients_grow(g) != 0) {
            return -1;
        }
        *out = (uint32_t)g->clients_introduced++;
        return 0;
    }

    double u = rng_unit(g);
    *out = (uint32_t)((double)g->clients_introduced * u * u * u);
    return 0;
}

static void flow_make(struct generator *g, uint32_t client, uint8_t server,
                      struct flow *f)
{
    struct client_class c = client_classify(g, client);
    uint64_t h = hash64(g, client, 29);

    if (c.ipv6) {
        /* One query in ten comes from a temporary (privacy) address. */
        uint64_t iid = rng_below(g, 10) == 0 ? rng_next(g) | 2 : 0;
        client_v6(g, client, c.internal, iid, &f->client);
    } else {
        client_v4(g, client, c.internal, &f->client);
    }
    f->server = g->servers[server];

    /* Initial TTL 64, 128 or 255, minus 1 to 20 hops. */
    static const uint8_t initial_ttl[] = { 64, 128, 255 };
    f->client_ttl = (uint8_t)(initial_ttl[h % 3] - 1 - (h >> 8) % 20);
    f->client_port = (uint16_t)(1024 + rng_below(g, 65536 - 1024));
}

/* Server of the next query: mostly the client's home server. */
static uint8_t server_pick(struct generator *g, uint32_t client)
{
    struct client_class c = client_classify(g, client);
    unsigned fam = c.ipv6 ? 1 : 0;

    if (rng_below(g, 100) < 92) {
        return c.home;
    }
    return g->family_servers[fam][rng_below(g, g->family_count[fam])];
}

/* Create the next query transaction at @p t_us and queue its first packet. */
static int txn_start(struct generator *g, uint64_t t_us)
{
    uint32_t client;
    uint32_t id;
    if (client_pick(g, &client) != 0 || txn_alloc(g, &id) != 0) {
        return -1;
    }

    struct txn *t = &g->txns[id];
    t->client = client;
    t->server = server_pick(g, client);
    flow_make(g, client, t->server, &t->flow);
    question_make(g, &t->question);
    t->id = (uint16_t)rng_next(g);
    t->flags = rng_below(g, 20) == 0 ? 0x0000 : 0x0100; /* mostly RD */
    t->edns = rng_below(g, 10) < 8;
    t->answer_seed = (uint32_t)rng_next(g);
    t->rcode = rng_unit(g) < g->opt.nxdomain_share ? DNS_RCODE_NXDOMAIN
                                                  : DNS_RCODE_NOERROR;
    t->tcp = rng_unit(g) < g->opt.tcp_share;
    t->client_seq = (uint32_t)rng_next(g);
    t->server_seq = (uint32_t)rng_next(g);
    t->rtt_us = 200 + (uint32_t)(hash64(g, client, 31) % 20000);

    return heap_push(g, t_us, id, t->tcp ? STEP_TCP_SYN : STEP_UDP_QUERY);
}

/* Time the server takes to answer: mostly short, sometimes a cache miss. */
static uint64_t answer_delay_us(struct generator *g)
{
    uint64_t d = 100 + (uint64_t)(-log(1 - rng_unit(g)) * 800);
    if (rng_below(g, 100) < 5) {
        d += 10000 + rng_below(g, 150000);
    }
    return d;
}

static int emit_udp(struct generator *g, const struct event *e, struct txn *t)
{
    uint8_t msg[DNS_MAX];
    struct segment s = { .client_port = t->flow.client_port };

    if (e->step == STEP_UDP_QUERY) {
        s.to_server = true;
        size_t len = dns_query_build(t, msg);
        if (emit_frame(g, e->t_us, &t->flow, &s, msg, len) != 0) {
            return -1;
        }
        truth_count_query(g, t->client, t->server);
        g->last_flow = t->flow;
        g->have_last_flow = true;
        if (rng_unit(g) < g->opt.loss) {
            txn_release(g, e->txn);
            return 0;
        }
        return heap_push(g, e->t_us + answer_delay_us(g), e->txn, STEP_UDP_RESPONSE);
    }

    size_t len = dns_response_build(t, msg);
    if (emit_frame(g, e->t_us, &t->flow, &s, msg, len) != 0) {
        return -1;
    }
    g->n.responses++;
    g->n.nxdomain += t->rcode == DNS_RCODE_NXDOMAIN;
    txn_release(g, e->txn);
    return 0;
}

/*
 * Direction, flags and sequence numbers of one TCP step. @p query_len and
 * @p response_len are the two messages with their length prefixes: every
 * seq and ack counts the bytes (and the SYN and FIN) sent before it.
 */
static struct segment tcp_segment(const struct txn *t, enum step step,
                                  uint32_t query_len, uint32_t response_len)
{
    uint32_t client = t->client_seq + 1;
    uint32_t server = t->server_seq + 1;
    struct segment s = { .tcp = true, .client_port = t->flow.client_port };

    switch (step) {
    case STEP_TCP_SYN:
        s = (struct segment){ .tcp = true, .client_port = t->flow.client_port,
                              .to_server = true, .tcp_flags = TCP_SYN,
                              .seq = t->client_seq };
        break;
    case STEP_TCP_SYN_ACK:
        s.tcp_flags = TCP_SYN | TCP_ACK;
        s.seq = t->server_seq;
        s.ack = client;
        break;
    case STEP_TCP_ACK:
    case STEP_TCP_QUERY:
        s.to_server = true;
        s.tcp_flags = step == STEP_TCP_ACK ? TCP_ACK : TCP_PSH | TCP_ACK;
        s.seq = client;
        s.ack = server;
        break;
    case STEP_TCP_RESPONSE:
        s.tcp_flags = TCP_PSH | TCP_ACK;
        s.seq = server;
        s.ack = client + query_len;
        break;
    case STEP_TCP_CLIENT_FIN:
        s.to_server = true;
        s.tcp_flags = TCP_FIN | TCP_ACK;
        s.seq = client + query_len;
        s.ack = server + response_len;
        break;
    case STEP_TCP_SERVER_FIN:
        s.tcp_flags = TCP_FIN | TCP_ACK;
        s.seq = server + response_len;
        s.ack = client + query_len + 1;
        break;
    default:
        s.to_server = true;
        s.tcp_flags = TCP_ACK;
        s.seq = client + query_len + 1;
        s.ack = server + response_len + 1;
        break;
    }
    return s;
}

/* Capture time from one TCP step to the next. */
static uint64_t tcp_step_delay_us(struct generator *g, const struct txn *t,
                                  enum step step)
{
    switch (step) {
    case STEP_TCP_SYN_ACK:
    case STEP_TCP_SERVER_FIN:
        return t->rtt_us;
    case STEP_TCP_QUERY:
        return answer_delay_us(g);
    case STEP_TCP_RESPONSE:
        return 50 + t->rtt_us / 2;
    default:
        return 15;
    }
}

/* Write one packet of a DNS-over-TCP connection, each message in one segment. */
static int emit_tcp(struct generator *g, const struct event *e, struct txn *t)
{
    enum step step = (enum step)e->step;
    uint8_t query[DNS_MAX + 2];
    uint8_t response[DNS_MAX + 2];

    /* RFC 1035 4.2.2: each message is preceded by its two-byte length. */
    size_t query_len = 2 + dns_query_build(t, query + 2);
    put_be16(query, (uint16_t)(query_len - 2));
    size_t response_len = 2 + dns_response_build(t, response + 2);
    put_be16(response, (uint16_t)(response_len - 2));

    struct segment s = tcp_segment(t, step, (uint32_t)query_len,
                                   (uint32_t)response_len);
    const uint8_t *payload = step == STEP_TCP_QUERY ? query : response;
    size_t len = step == STEP_TCP_QUERY      ? query_len
                 : step == STEP_TCP_RESPONSE ? response_len
                                             : 0;
    if (emit_frame(g, e->t_us, &t->flow, &s, payload, len) != 0) {
        return -1;
    }

    if (step == STEP_TCP_SYN) {
        g->n.tcp_connections++;
    } else if (step == STEP_TCP_QUERY) {
        truth_count_query(g, t->client, t->server);
        g->n.queries_tcp++;
    } else if (step == STEP_TCP_RESPONSE) {
        g->n.responses++;
        g->n.nxdomain += t->rcode == DNS_RCODE_NXDOMAIN;
    }

    if (step == STEP_TCP_LAST_ACK) {
        txn_release(g, e->txn);
        return 0;
    }
    return heap_push(g, e->t_us + tcp_step_delay_us(g, t, step), e->txn,
                     (enum step)(step + 1));
}

/* ---- malformed packets ---- */

/*
 * A DNS-port UDP packet that no parser can read as a query: a short header,
 * a question cut inside a label, a compression pointer to itself, a pointer
 * past the end, a reserved label type, or a UDP length beyond the packet.
 * It reuses the flow of the last query, so it cannot add a (server, client)
 * pair.
 */
static int emit_malformed(struct generator *g, uint64_t t_us)
{
    uint8_t msg[64];
    size_t len = put_header(msg, (uint16_t)rng_next(g), 0x0100, 1, 0, 0, 0);
    struct segment s = { .to_server = true,
                         .client_port = (uint16_t)(1024 + rng_below(g, 60000)) };

    switch (rng_below(g, 6)) {
    case 0:
        len = 7;
        break;
    case 1:
        memcpy(msg + len, "\x07" "exa", 4);
        len += 4;
        break;
    case 2:
        memcpy(msg + len, "\xc0\x0c\x00\x01\x00\x01", 6);
        len += 6;
        break;
    case 3:
        memcpy(msg + len, "\xc0\xff\x00\x01\x00\x01", 6);
        len += 6;
        break;
    case 4:
        memcpy(msg + len, "\x41" "abc\x00\x00\x01\x00\x01", 9);
        len += 9;
        break;
    default:
        memcpy(msg + len, "\x03" "www\x07" "example\x00\x00\x01\x00\x01", 17);
        len += 17;
        s.udp_length_extra = 40;
        break;
    }
    if (emit_frame(g, t_us, &g->last_flow, &s, msg, len) != 0) {
        return -1;
    }
    g->n.malformed++;
    return 0;
}

/* ---- main loop ---- */

static int emit_event(struct generator *g, const struct event *e)
{
    struct txn *t = &g->txns[e->txn];
    if (t->tcp) {
        return emit_tcp(g, e, t);
    }
    return emit_udp(g, e, t);
}

static uint64_t next_arrival_us(struct generator *g)
{
    return (uint64_t)(-log(1 - rng_unit(g)) * 1e6 / g->opt.rate);
}

/*
 * Write packets in capture-time order until --packets are written: queued
 * packets due before the next new query go first.
 */
static int generate(struct generator *g)
{
    uint64_t next_us = 0;

    while (g->n.packets < g->opt.packets) {
        if (g->heap_len > 0 && g->heap[0].t_us <= next_us) {
            struct event e = heap_pop(g);
            if (emit_event(g, &e) != 0) {
                return -1;
            }
            continue;
        }

        int ret;
        if (g->have_last_flow && rng_unit(g) < g->opt.malformed_share) {
            ret = emit_malformed(g, next_us);
        } else {
            ret = txn_start(g, next_us);
        }
        if (ret != 0) {
            return -1;
        }
        next_us += next_arrival_us(g);
    }
    return out_flush(g);
}

/* ---- options and output of the truth ---- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gen-capture --out FILE [options]\n"
            "Write a synthetic DNS capture (classic pcap, Ethernet).\n"
            "  --packets N          packets to write (default 1000000)\n"
            "  --clients N          distinct clients to aim for (default packets/10)\n"
            "  --seed S             random seed (default 1)\n"
            "  --out FILE           output capture ('-' for standard output)\n"
            "  --truth FILE         write the expected counts as JSON\n"
            "  --internal-share F   share of clients that are internal (default 0.3)\n"
            "  --ipv6-share F       share of clients that use IPv6 (default 0.2)\n"
            "  --tcp-share F        share of queries sent over TCP (default 0.02)\n"
            "  --nxdomain-share F   share of answers that are NXDOMAIN (default 0.05)\n"
            "  --loss F             share of UDP queries left unanswered (default 0.01)\n"
            "  --malformed-share F  share of malformed packets (default 0.001)\n"
            "  --rate Q             queries per second, sets timestamps (default 5000)\n"
            "  --servers N          DNS server addresses, 1 to %d (default 6)\n",
            SERVERS_MAX);
}

static int parse_count(const char *name, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-') {
        fprintf(stderr, "gen-capture: invalid %s '%s' (expected a whole number)\n",
                name, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_share(const char *name, const char *text, double max, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= 0 && v <= max)) {
        fprintf(stderr, "gen-capture: invalid %s '%s' (expected 0 to %g)\n", name,
                text, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_option(struct options *o, int c, const char *arg)
{
    uint64_t n;

    switch (c) {
    case 'p':
        return parse_count("--packets", arg, &o->packets);
    case 'c':
        return parse_count("--clients", arg, &o->clients);
    case 's':
        return parse_count("--seed", arg, &o->seed);
    case 'o':
        o->out_path = arg;
        return 0;
    case 't':
        o->truth_path = arg;
        return 0;
    case 'i':
        return parse_share("--internal-share", arg, 1, &o->internal_share);
    case '6':
        return parse_share("--ipv6-share", arg, 1, &o->ipv6_share);
    case 'T':
        return parse_share("--tcp-share", arg, 1, &o->tcp_share);
    case 'n':
        return parse_share("--nxdomain-share", arg, 1, &o->nxdomain_share);
    case 'l':
        return parse_share("--loss", arg, 1, &o->loss);
    case 'm':
        return parse_share("--malformed-share", arg, 0.5, &o->malformed_share);
    case 'r':
        if (parse_share("--rate", arg, 1e9, &o->rate) != 0 || o->rate <= 0) {
            fprintf(stderr, "gen-capture: --rate must be above 0\n");
            return -1;
        }
        return 0;
    case 'S':
        if (parse_count("--servers", arg, &n) != 0 || n < 1 || n > SERVERS_MAX) {
            fprintf(stderr, "gen-capture: --servers must be 1 to %d\n", SERVERS_MAX);
            return -1;
        }
        o->servers = (unsigned)n;
        return 0;
    default:
        return -1;
    }
}

static int options_parse(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        { "packets", required_argument, NULL, 'p' },
        { "clients", required_argument, NULL, 'c' },
        { "seed", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "truth", required_argument, NULL, 't' },
        { "internal-share", required_argument, NULL, 'i' },
        { "ipv6-share", required_argument, NULL, '6' },
        { "tcp-share", required_argument, NULL, 'T' },
        { "nxdomain-share", required_argument, NULL, 'n' },
        { "loss", required_argument, NULL, 'l' },
        { "malformed-share", required_argument, NULL, 'm' },
        { "rate", required_argument, NULL, 'r' },
        { "servers", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    *o = (struct options){ .packets = 1000000, .seed = 1, .internal_share = 0.3,
                           .ipv6_share = 0.2, .tcp_share = 0.02,
                           .nxdomain_share = 0.05, .loss = 0.01,
                           .malformed_share = 0.001, .rate = 5000, .servers = 6 };

    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c == '?' || parse_option(o, c, optarg) != 0) {
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc || o->out_path == NULL) {
        fprintf(stderr, "gen-capture: missing --out FILE\n");
        usage(stderr);
        return -1;
    }
    if (o->clients == 0) {
        o->clients = o->packets / 10 > 0 ? o->packets / 10 : 1;
    }
    return 0;
}

static int truth_write(const struct generator *g)
{
    FILE *f = fopen(g->opt.truth_path, "w");
    if (f == NULL) {
        fprintf(stderr, "gen-capture: cannot open '%s' (%s)\n", g->opt.truth_path,
                strerror(errno));
        return -1;
    }

    const struct counts *n = &g->n;
    fprintf(f,
            "{\"packets\":%" PRIu64 ",\"queries\":%" PRIu64 ",\"queries_tcp\":%" PRIu64
            ",\"responses\":%" PRIu64 ",\"nxdomain\":%" PRIu64 ",\"malformed\":%" PRIu64
            ",\"tcp_connections\":%" PRIu64 ",\"clients\":%" PRIu64
            ",\"internal_clients\":%" PRIu64 ",\"external_clients\":%" PRIu64
            ",\"external_pairs\":%" PRIu64 ",\"internal_pairs\":%" PRIu64
            ",\"servers\":%u,\"seed\":%" PRIu64 ",\"duration_s\":%.6f"
            ",\"client_prefix_v4\":32,\"client_prefix_v6\":64}\n",
            n->packets, n->queries, n->queries_tcp, n->responses, n->nxdomain,
            n->malformed, n->tcp_connections, n->clients, n->internal_clients,
            n->external_clients, n->external_pairs, n->internal_pairs, g->opt.servers,
            g->opt.seed, (double)(n->last_us - n->first_us) / 1e6);

    if (fclose(f) != 0) {
        fprintf(stderr, "gen-capture: cannot write '%s' (%s)\n", g->opt.truth_path,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int generator_open(struct generator *g)
{
    g->rng = mix64(g->opt.seed);
    g->key = mix64(g->opt.seed ^ 0x5bd1e995u);
    g->txn_free = UINT32_MAX;

    g->buf = malloc(OUT_BUFFER_SIZE);
    if (g->buf == NULL) {
        fprintf(stderr, "gen-capture: out of memory\n");
        return -1;
    }
    if (strcmp(g->opt.out_path, "-") == 0) {
        g->out = stdout;
    } else {
        g->out = fopen(g->opt.out_path, "wb");
    }
    if (g->out == NULL) {
        fprintf(stderr, "gen-capture: cannot open '%s' (%s)\n", g->opt.out_path,
                strerror(errno));
        return -1;
    }
    pcap_header_write(g);
    return 0;
}

static void generator_close(struct generator *g)
{
    if (g->out != NULL && g->out != stdout) {
        fclose(g->out);
    }
    free(g->buf);
    free(g->heap);
    free(g->txns);
    free(g->pair_mask);
}

int main(int argc, char **argv)
{
    struct generator g = { 0 };

    if (options_parse(argc, argv, &g.opt) != 0) {
        return 2;
    }
    if (servers_init(&g) != 0) {
        return 2;
    }

    int ret = generator_open(&g);
    if (ret == 0) {
        ret = generate(&g);
    }
    if (ret == 0 && g.out != stdout && fflush(g.out) != 0) {
        fprintf(stderr, "gen-capture: cannot write '%s' (%s)\n", g.opt.out_path,
                strerror(errno));
        ret = -1;
    }
    if (ret == 0 && g.opt.truth_path != NULL) {
        ret = truth_write(&g);
    }
    if (ret == 0) {
        fprintf(stderr,
                "gen-capture: %" PRIu64 " packets, %" PRIu64 " queries, %" PRIu64
                " responses, %" PRIu64 " clients (%" PRIu64 " external), %" PRIu64
                " external (server, client) pairs\n",
                g.n.packets, g.n.queries, g.n.responses, g.n.clients,
                g.n.external_clients, g.n.external_pairs);
    }
    generator_close(&g);
    return ret == 0 ? 0 : 1;
}
