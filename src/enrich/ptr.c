/* SPDX-License-Identifier: MIT */
/*
 * ptr.c - PTR queries to one resolver, their answers, and the name cache.
 *
 * Cache slot states: empty -> pending (query sent) -> done (name, or none)
 * -> expired (treated as empty). An answer is accepted only from the
 * resolver's address, for a pending slot whose query id and question name
 * match. The cache is an open-addressing table probed over a short window;
 * a new address takes the first free or expired slot in its window, or
 * else the one that expires first.
 *
 * Names also arrive from traffic: the detector passes on the PTR answers
 * it sees in other resolvers' responses (ptr_cache_store()). Without a
 * ptr-resolver setting the cache holds only those, and no socket is open.
 * Expiry runs on the wall clock, also for names from a replayed capture.
 */
#include "enrich/ptr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "decode/dns_text.h"
#include "decode/dns_wire.h"
#include "util/cursor.h"
#include "util/error.h"

#define DNS_TYPE_PTR 12
#define DNS_CLASS_IN 1
#define DNS_RCODE_NXDOMAIN 3
#define TTL_MAX_MS (86400 * 1000LL)
#define NEGATIVE_TTL_MS (300 * 1000LL)
#define PROBE_WINDOW 8

enum slot_state {
    SLOT_EMPTY = 0,
    SLOT_PENDING,
    SLOT_DONE,
};

struct cache_slot {
    struct addr addr;
    uint8_t state;
    bool has_name;
    uint16_t query_id;
    int64_t deadline_ms; /* PENDING: answer wait ends; DONE: entry expires */
    char name[PTR_NAME_MAX];
    bool registered_known;                 /* registered is final */
    char registered[PTR_REGISTERED_MAX]; /* "" when libpsl finds none, or too long */
};

struct ptr_resolver {
    int fd; /* -1 for a cache of names from traffic only */
    struct ptr_server server;
    int64_t timeout_ms;
    double tokens;      /* rate limit bucket */
    double rate;        /* tokens per second, also the bucket size */
    int64_t refill_ms;  /* wall clock of the last refill */
    struct ptr_stats stats;
    struct cache_slot slots[PTR_CACHE_SIZE];
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ptr_server_parse(const char *text, struct ptr_server *out)
{
    char host[64];
    unsigned long port = 53;
    const char *port_text = NULL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close - text - 1 >= (long)sizeof(host)) {
            return DF_EPARSE;
        }
        snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
        /* "[addr]:port", "[addr]", or junk after the bracket (an empty port, rejected below). */
        if (close[1] == ':') {
            port_text = close + 2;
        } else if (close[1] != '\0') {
            port_text = "";
        }
    } else if (strchr(text, ':') == strrchr(text, ':') && strchr(text, ':') != NULL) {
        const char *colon = strchr(text, ':'); /* one colon: IPv4 with a port */
        snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
        port_text = colon + 1;
    } else {
        snprintf(host, sizeof(host), "%s", text);
    }
    if (port_text != NULL) {
        char *end = NULL;
        port = strtoul(port_text, &end, 10);
        if (port_text[0] == '\0' || *end != '\0' || port == 0 || port > 65535) {
            return DF_EPARSE;
        }
    }

    memset(out, 0, sizeof(*out));
    struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        out->len = sizeof(*sin);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        out->len = sizeof(*sin6);
        return 0;
    }
    return DF_EPARSE;
}

int ptr_resolver_create(const struct config *cfg, struct ptr_resolver **out, char *err,
                        size_t err_size)
{
    *out = NULL;
    if (cfg->ptr_resolver[0] == '\0') {
        return 0;
    }
    struct ptr_resolver *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return -ENOMEM;
    }
    if (ptr_server_parse(cfg->ptr_resolver, &r->server) != 0) {
        snprintf(err, err_size, "invalid ptr-resolver '%s'", cfg->ptr_resolver);
        free(r);
        return DF_ECONFIG;
    }

    /* connect() makes the kernel drop datagrams from any other address. */
    r->fd = socket(r->server.ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->fd < 0 || connect(r->fd, (struct sockaddr *)&r->server.ss, r->server.len) != 0) {
        int ret = -errno;
        snprintf(err, err_size, "cannot open a socket to ptr-resolver '%s' (%s)",
                 cfg->ptr_resolver, strerror(-ret));
        if (r->fd >= 0) {
            close(r->fd);
        }
        free(r);
        return ret;
    }

    /* Never wait longer than an alert waits for its response. */
    r->timeout_ms = cfg->ptr_timeout_ms;
    if (r->timeout_ms > cfg->response_wait_ms) {
        r->timeout_ms = cfg->response_wait_ms;
    }
    r->rate = cfg->ptr_rate;
    r->tokens = r->rate;
    r->refill_ms = wall_ms();
    *out = r;
    return 0;
}

int ptr_cache_create(struct ptr_resolver **out)
{
    struct ptr_resolver *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return -ENOMEM;
    }
    r->fd = -1;
    *out = r;
    return 0;
}

void ptr_resolver_destroy(struct ptr_resolver *r)
{
    if (r == NULL) {
        return;
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    free(r);
}

const struct ptr_stats *ptr_resolver_stats(const struct ptr_resolver *r)
{
    return &r->stats;
}

size_t ptr_reverse_name(const struct addr *a, uint8_t *wire)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    if (a->family == ADDR_FAMILY_IPV4) {
        for (int i = 3; i >= 0; i--) {
            int len = snprintf((char *)wire + n + 1, 4, "%u", a->bytes[i]);
            wire[n] = (uint8_t)len;
            n += (size_t)len + 1;
        }
        memcpy(wire + n, "\7in-addr\4arpa", 14);
        return n + 14;
    }
    for (int i = 15; i >= 0; i--) {
        wire[n++] = 1;
        wire[n++] = (uint8_t)hex[a->bytes[i] & 0xf];
        wire[n++] = 1;
        wire[n++] = (uint8_t)hex[a->bytes[i] >> 4];
    }
    memcpy(wire + n, "\3ip6\4arpa", 10);
    return n + 10;
}

static size_t slot_home(const struct addr *a)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < sizeof(a->bytes); i++) {
        h = (h ^ a->bytes[i]) * 0x100000001b3ULL;
    }
    return (size_t)h;
}

static bool slot_live(const struct cache_slot *s, int64_t now)
{
    return s->state == SLOT_PENDING || (s->state == SLOT_DONE && s->deadline_ms > now);
}

static struct cache_slot *cache_find(struct ptr_resolver *r, const struct addr *a, int64_t now)
{
    size_t home = slot_home(a);
    for (size_t i = 0; i < PROBE_WINDOW; i++) {
        struct cache_slot *s = &r->slots[(home + i) % PTR_CACHE_SIZE];
        if (slot_live(s, now) && memcmp(&s->addr, a, sizeof(*a)) == 0) {
            return s;
        }
    }
    return NULL;
}

/* A free or expired slot in the window, else the one that expires first. */
static struct cache_slot *cache_claim(struct ptr_resolver *r, const struct addr *a,
                                      int64_t now)
{
    size_t home = slot_home(a);
    struct cache_slot *victim = NULL;
    for (size_t i = 0; i < PROBE_WINDOW; i++) {
        struct cache_slot *s = &r->slots[(home + i) % PTR_CACHE_SIZE];
        if (!slot_live(s, now)) {
            return s;
        }
        if (victim == NULL || s->deadline_ms < victim->deadline_ms) {
            victim = s;
        }
    }
    return victim;
}

static bool take_token(struct ptr_resolver *r, int64_t now)
{
    r->tokens += (double)(now - r->refill_ms) * r->rate / 1000.0;
    r->refill_ms = now;
    if (r->tokens > r->rate) {
        r->tokens = r->rate;
    }
    if (r->tokens < 1.0) {
        return false;
    }
    r->tokens -= 1.0;
    return true;
}

static size_t write_query(const struct addr *a, uint16_t id, uint8_t *buf)
{
    memset(buf, 0, DNS_HEADER_LEN);
    buf[0] = (uint8_t)(id >> 8);
    buf[1] = (uint8_t)id;
    buf[2] = 0x01; /* RD */
    buf[5] = 1;    /* QDCOUNT */
    size_t n = DNS_HEADER_LEN + ptr_reverse_name(a, buf + DNS_HEADER_LEN);
    buf[n++] = 0;
    buf[n++] = DNS_TYPE_PTR;
    buf[n++] = 0;
    buf[n++] = DNS_CLASS_IN;
    return n;
}

void ptr_resolver_request(struct ptr_resolver *r, const struct addr *a)
{
    int64_t now = wall_ms();
    ptr_resolver_poll(r);
    if (cache_find(r, a, now) != NULL) {
        r->stats.cache_hits++;
        return;
    }
    if (r->fd < 0) {
        return;
    }
    if (!take_token(r, now)) {
        r->stats.rate_limited++;
        return;
    }

    struct cache_slot *s = cache_claim(r, a, now);
    uint8_t query[DNS_HEADER_LEN + DNS_NAME_MAX + 4];
    uint16_t id = (uint16_t)arc4random_uniform(65536);
    size_t len = write_query(a, id, query);
    if (send(r->fd, query, len, 0) != (ssize_t)len) {
        return;
    }
    memset(s, 0, sizeof(*s));
    s->addr = *a;
    s->state = SLOT_PENDING;
    s->query_id = id;
    s->deadline_ms = now + r->timeout_ms;
    r->stats.queries++;
}

/* Find the pending slot that asked @p qname with @p id. */
static struct cache_slot *pending_slot(struct ptr_resolver *r, uint16_t id,
                                       const uint8_t *qname, size_t qname_len)
{
    for (size_t i = 0; i < PTR_CACHE_SIZE; i++) {
        struct cache_slot *s = &r->slots[i];
        if (s->state != SLOT_PENDING || s->query_id != id) {
            continue;
        }
        uint8_t expected[DNS_NAME_MAX];
        size_t len = ptr_reverse_name(&s->addr, expected);
        if (len == qname_len && strncasecmp((const char *)expected, (const char *)qname,
                                            len) == 0) {
            return s;
        }
    }
    return NULL;
}

/* Mark @p s as holding a name for @p ttl seconds, at most TTL_MAX_MS. */
static void slot_set_name(struct cache_slot *s, uint32_t ttl, int64_t now)
{
    int64_t ttl_ms = (int64_t)ttl * 1000;
    s->state = SLOT_DONE;
    s->has_name = true;
    s->registered_known = false;
    s->deadline_ms = now + (ttl_ms < TTL_MAX_MS ? ttl_ms : TTL_MAX_MS);
}

/* Find the first PTR record in the answer section; fills @p s. */
static void read_answers(const uint8_t *msg, size_t len, size_t pos, unsigned ancount,
                         struct cache_slot *s, int64_t now)
{
    for (unsigned i = 0; i < ancount; i++) {
        uint8_t name[DNS_NAME_MAX];
        uint8_t name_len = 0;
        if (dns_wire_read_name(msg, len, pos, name, &name_len, &pos) != DNS_WIRE_OK) {
            return;
        }
        struct cursor c = cursor_init(msg + pos, len - pos);
        uint16_t type = cursor_u16(&c, DF_EPARSE);
        cursor_u16(&c, DF_EPARSE); /* class */
        uint32_t ttl = cursor_u32(&c, DF_EPARSE);
        uint16_t rdlen = cursor_u16(&c, DF_EPARSE);
        cursor_need(&c, rdlen, DF_EPARSE);
        if (c.err != 0) {
            return;
        }
        size_t rdata = pos + cursor_offset(&c);
        if (type == DNS_TYPE_PTR) {
            size_t next = 0;
            if (dns_wire_read_name(msg, len, rdata, name, &name_len, &next) != DNS_WIRE_OK) {
                return;
            }
            dns_name_format(name, name_len, s->name, sizeof(s->name));
            slot_set_name(s, ttl, now);
            return;
        }
        pos = rdata + rdlen;
    }
}

static void read_response(struct ptr_resolver *r, const uint8_t *msg, size_t len, int64_t now)
{
    struct cursor c = cursor_init(msg, len);
    uint16_t id = cursor_u16(&c, DF_EPARSE);
    uint16_t flags = cursor_u16(&c, DF_EPARSE);
    uint16_t qdcount = cursor_u16(&c, DF_EPARSE);
    uint16_t ancount = cursor_u16(&c, DF_EPARSE);
    if (c.err != 0 || !(flags & DNS_FLAG_QR) || qdcount != 1) {
        return;
    }

    uint8_t qname[DNS_NAME_MAX];
    uint8_t qname_len = 0;
    size_t pos = 0;
    if (dns_wire_read_name(msg, len, DNS_HEADER_LEN, qname, &qname_len, &pos) != DNS_WIRE_OK ||
        pos + 4 > len) {
        return;
    }
    struct cache_slot *s = pending_slot(r, id, qname, qname_len);
    if (s == NULL) {
        return;
    }

    /* No usable name (NXDOMAIN, no PTR record): remember that for a while. */
    s->state = SLOT_DONE;
    s->has_name = false;
    s->deadline_ms = now + NEGATIVE_TTL_MS;
    if (DNS_RCODE(flags) == 0) {
        read_answers(msg, len, pos + 4, ancount, s, now);
    }
    if (s->has_name) {
        r->stats.answers++;
    }
}

void ptr_resolver_poll(struct ptr_resolver *r)
{
    uint8_t buf[4096];
    if (r->fd < 0) {
        return;
    }
    for (;;) {
        ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            return;
        }
        read_response(r, buf, (size_t)n, wall_ms());
    }
}

bool ptr_resolver_result(struct ptr_resolver *r, const struct addr *a, char *name,
                         size_t size)
{
    int64_t now = wall_ms();
    ptr_resolver_poll(r);
    struct cache_slot *s = cache_find(r, a, now);

    /* Wait for the answer, but not past the lookup's deadline. */
    while (s != NULL && s->state == SLOT_PENDING) {
        int64_t left = s->deadline_ms - now;
        if (left <= 0) {
            r->stats.timeouts++;
            s->state = SLOT_DONE;
            s->deadline_ms = now + NEGATIVE_TTL_MS;
            break;
        }
        struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
        poll(&pfd, 1, (int)left);
        ptr_resolver_poll(r);
        now = wall_ms();
    }
    if (s == NULL || !s->has_name) {
        return false;
    }
    snprintf(name, size, "%s", s->name);
    return true;
}

void ptr_cache_store(struct ptr_resolver *r, const struct addr *a, const char *name,
                     uint32_t ttl_s)
{
    /* A pending query of ours for the same address takes this answer too. */
    int64_t now = wall_ms();
    struct cache_slot *s = cache_find(r, a, now);
    if (s == NULL) {
        s = cache_claim(r, a, now);
        memset(s, 0, sizeof(*s));
        s->addr = *a;
    }
    snprintf(s->name, sizeof(s->name), "%s", name);
    slot_set_name(s, ttl_s, now);
    r->stats.traffic_names++;
}

/*
 * Find the slot that last held a name for @p a, expired or not. Only a new
 * address claims a slot, so the name stays until its slot is reused.
 */
static struct cache_slot *find_named(struct ptr_resolver *r, const struct addr *a)
{
    size_t home = slot_home(a);
    for (size_t i = 0; i < PROBE_WINDOW; i++) {
        struct cache_slot *s = &r->slots[(home + i) % PTR_CACHE_SIZE];
        if (s->state == SLOT_DONE && s->has_name && memcmp(&s->addr, a, sizeof(*a)) == 0) {
            return s;
        }
    }
    return NULL;
}

/* Fold the registrable domain of @p s->name into s->registered, once. */
static void slot_registered_fill(struct cache_slot *s, const psl_ctx_t *psl)
{
    char lower[PTR_NAME_MAX];
    size_t len = strnlen(s->name, sizeof(lower) - 1);
    for (size_t i = 0; i < len; i++) {
        char c = s->name[i];
        lower[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    lower[len] = '\0';

    const char *registered = psl_registrable_domain(psl, lower);
    s->registered[0] = '\0';
    if (registered != NULL && strlen(registered) < sizeof(s->registered)) {
        memcpy(s->registered, registered, strlen(registered) + 1);
    }
    s->registered_known = true;
}

const char *ptr_cache_registered_domain(struct ptr_resolver *r, const struct addr *a,
                                        const psl_ctx_t *psl)
{
    struct cache_slot *s = find_named(r, a);
    if (s == NULL) {
        return NULL;
    }
    if (!s->registered_known) {
        slot_registered_fill(s, psl);
    }
    return s->registered[0] != '\0' ? s->registered : NULL;
}
