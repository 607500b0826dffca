/* SPDX-License-Identifier: MIT */
/*
 * dns_wire.c - DNS message parser: header, questions, EDNS (RFC 1035, 6891).
 *
 * This runs once per packet, so it copies only the first question name and
 * reads the other names just far enough to step over them. The resource
 * record sections are walked only while an OPT record may still follow:
 * not at all when ARCOUNT is 0, and no further than the first OPT record.
 *
 * Compression pointers may point anywhere inside the message, forward
 * included. RFC 1035 4.1.4 speaks of a "prior occurrence", but resolvers
 * such as Unbound and the ldns library accept forward pointers, so a
 * stricter parser would lose queries that a server answers. Loops end at
 * NAME_JUMPS_MAX jumps or when the name passes 255 bytes, whichever comes
 * first, which bounds the work per name.
 */
#include "decode/dns_wire.h"

#include <stdbool.h>
#include <string.h>

#include "util/addr.h"
#include "util/cursor.h"

/* Jumps allowed while reading one name. A name has at most 127 labels, so a
 * real one never needs more, while a loop of pointers reaches it quickly. */
#define NAME_JUMPS_MAX 128

#define LABEL_TYPE_MASK 0xc0
#define LABEL_TYPE_POINTER 0xc0

#define EDNS_OPTION_CLIENT_SUBNET 8
#define ECS_FAMILY_IPV4 1
#define ECS_FAMILY_IPV6 2

/* Fixed fields of a resource record after its owner name. */
struct rr_header {
    uint16_t type;
    uint16_t rclass;
    uint32_t ttl;
    uint16_t rdlength;
};

/*
 * Copy the @p len bytes of a name at @p name into @p out (DNS_NAME_MAX
 * bytes). A short name in a message with @p left bytes from @p name on is
 * copied as a fixed 32 or 64 bytes, a few vector moves where memcpy() of a
 * variable length is a call. The extra bytes come from the message and
 * land past the name's end in @p out, where no reader looks, because every
 * reader of a name stops at its length.
 */
static inline void name_copy(uint8_t *out, const uint8_t *name, size_t len, size_t left)
{
    if (len <= 32 && left >= 32) {
        memcpy(out, name, 32);
    } else if (len <= 64 && left >= 64) {
        memcpy(out, name, 64);
    } else {
        memcpy(out, name, len);
    }
}

/*
 * Fast path of name_read() for a name without compression pointers, the
 * usual form of a question: check the label lengths in place, then copy the
 * whole name with one memcpy(). Returns false, having changed nothing, when
 * the name contains a pointer or fails a check, so that name_read() reads it
 * label by label and reports the exact error. A name accepted here is one
 * that the label-by-label loop accepts too, with the same bytes.
 */
static inline bool name_read_flat(struct cursor *c, uint8_t *out, uint8_t *out_len)
{
    const uint8_t *name = c->pos;
    size_t left = cursor_left(c);
    size_t limit = left < DNS_NAME_MAX ? left : DNS_NAME_MAX;

    /* used is the offset of the next length byte; the root label must
     * end the name within DNS_NAME_MAX bytes and within the message. */
    for (size_t used = 0; used < limit;) {
        uint8_t len = name[used];
        if (len == 0) {
            name_copy(out, name, used + 1, left);
            *out_len = (uint8_t)(used + 1);
            c->pos += used + 1;
            return true;
        }
        if ((len & LABEL_TYPE_MASK) != 0) {
            return false;
        }
        used += 1 + (size_t)len;
    }
    return false;
}

/* Read a name that name_read_flat() did not take, label by label, as name_read() does. */
static enum dns_wire_error name_read_labels(struct cursor *c, uint8_t *out, uint8_t *out_len);

/*
 * Read the name at the position of @p c into @p out and move @p c past it
 * (past the first pointer when the name is compressed).
 */
static inline enum dns_wire_error name_read(struct cursor *c, uint8_t *out, uint8_t *out_len)
{
    if (c->err == 0 && name_read_flat(c, out, out_len)) {
        return DNS_WIRE_OK;
    }
    return name_read_labels(c, out, out_len);
}

static enum dns_wire_error name_read_labels(struct cursor *c, uint8_t *out, uint8_t *out_len)
{
    struct cursor walk = *c;
    size_t msg_len = (size_t)(c->end - c->start);
    size_t used = 0;
    unsigned jumps = 0;

    for (;;) {
        uint8_t len = cursor_u8(&walk, DNS_WIRE_TRUNCATED);
        if (walk.err != 0) {
            return DNS_WIRE_TRUNCATED;
        }
        if (len == 0) {
            break;
        }

        if ((len & LABEL_TYPE_MASK) == LABEL_TYPE_POINTER) {
            size_t target = (size_t)(len & 0x3f) << 8 | cursor_u8(&walk, DNS_WIRE_TRUNCATED);
            if (walk.err != 0) {
                return DNS_WIRE_TRUNCATED;
            }
            if (target >= msg_len || ++jumps > NAME_JUMPS_MAX) {
                return DNS_WIRE_BAD_POINTER;
            }

            /* The name ends, in the message, right after its first pointer. */
            if (jumps == 1) {
                c->pos = walk.pos;
            }
            walk.pos = walk.start + target;
            continue;
        }
        if ((len & LABEL_TYPE_MASK) != 0) {
            return DNS_WIRE_BAD_LABEL;
        }

        /* Leave room for this label's length byte and the root label. */
        if (used + 1 + len + 1 > DNS_NAME_MAX) {
            return DNS_WIRE_NAME_TOO_LONG;
        }
        const uint8_t *label = cursor_bytes(&walk, len, DNS_WIRE_TRUNCATED);
        if (label == NULL) {
            return DNS_WIRE_TRUNCATED;
        }
        out[used] = len;
        memcpy(out + used + 1, label, len);
        used += 1 + (size_t)len;
    }

    out[used++] = 0;
    if (jumps == 0) {
        c->pos = walk.pos;
    }
    *out_len = (uint8_t)used;
    return DNS_WIRE_OK;
}

/*
 * Move @p c past the name at its position without copying or following
 * pointers. The labels before a pointer get the same checks as in
 * name_read(), and the pointer must point inside the message.
 */
static enum dns_wire_error name_skip(struct cursor *c)
{
    size_t msg_len = (size_t)(c->end - c->start);
    size_t used = 0;

    for (;;) {
        uint8_t len = cursor_u8(c, DNS_WIRE_TRUNCATED);
        if (c->err != 0) {
            return DNS_WIRE_TRUNCATED;
        }
        if (len == 0) {
            return DNS_WIRE_OK;
        }

        if ((len & LABEL_TYPE_MASK) == LABEL_TYPE_POINTER) {
            size_t target = (size_t)(len & 0x3f) << 8 | cursor_u8(c, DNS_WIRE_TRUNCATED);
            if (c->err != 0) {
                return DNS_WIRE_TRUNCATED;
            }
            return target < msg_len ? DNS_WIRE_OK : DNS_WIRE_BAD_POINTER;
        }
        if ((len & LABEL_TYPE_MASK) != 0) {
            return DNS_WIRE_BAD_LABEL;
        }

        used += 1 + (size_t)len;
        if (used + 1 > DNS_NAME_MAX) {
            return DNS_WIRE_NAME_TOO_LONG;
        }
        cursor_skip(c, len, DNS_WIRE_TRUNCATED);
    }
}

enum dns_wire_error dns_wire_read_name(const uint8_t *wire, size_t len, size_t pos,
                                       uint8_t *out, uint8_t *out_len, size_t *next)
{
    if (pos >= len) {
        return DNS_WIRE_TRUNCATED;
    }
    struct cursor c = cursor_init(wire, len);
    c.pos += pos;

    enum dns_wire_error err = name_read(&c, out, out_len);
    if (err == DNS_WIRE_OK) {
        *next = cursor_offset(&c);
    }
    return err;
}

/* Read QDCOUNT questions, keeping the first in @p msg. */
static enum dns_wire_error questions_read(struct cursor *c, struct dns_message *msg)
{
    for (unsigned i = 0; i < msg->qdcount; i++) {
        enum dns_wire_error err = i == 0 ? name_read(c, msg->qname, &msg->qname_len)
                                         : name_skip(c);
        if (err != DNS_WIRE_OK) {
            return err;
        }

        uint16_t qtype = cursor_u16(c, DNS_WIRE_TRUNCATED);
        uint16_t qclass = cursor_u16(c, DNS_WIRE_TRUNCATED);
        if (c->err != 0) {
            return DNS_WIRE_TRUNCATED;
        }
        if (i == 0) {
            msg->qtype = qtype;
            msg->qclass = qclass;
            msg->has_question = true;
        }
    }
    return DNS_WIRE_OK;
}

/* Read one resource record up to its RDATA, which @p rdata then covers. */
static enum dns_wire_error rr_read(struct cursor *c, struct rr_header *rr, struct cursor *rdata)
{
    enum dns_wire_error err = name_skip(c);
    if (err != DNS_WIRE_OK) {
        return err;
    }

    rr->type = cursor_u16(c, DNS_WIRE_TRUNCATED);
    rr->rclass = cursor_u16(c, DNS_WIRE_TRUNCATED);
    rr->ttl = cursor_u32(c, DNS_WIRE_TRUNCATED);
    rr->rdlength = cursor_u16(c, DNS_WIRE_TRUNCATED);
    if (c->err != 0) {
        return DNS_WIRE_TRUNCATED;
    }

    const uint8_t *data = cursor_bytes(c, rr->rdlength, DNS_WIRE_BAD_RDATA);
    if (data == NULL) {
        return DNS_WIRE_BAD_RDATA;
    }
    *rdata = cursor_init(data, rr->rdlength);
    return DNS_WIRE_OK;
}

/*
 * Client Subnet option (RFC 7871): family, source and scope prefix lengths,
 * then the address cut to the source prefix. An option with an unknown
 * family or impossible lengths is ignored rather than failing the message,
 * because a broken option does not make the rest of the message wrong.
 */
static void client_subnet_read(const uint8_t *data, size_t len, struct dns_edns *edns)
{
    struct cursor c = cursor_init(data, len);
    uint16_t family = cursor_u16(&c, 1);
    uint8_t source_len = cursor_u8(&c, 1);
    cursor_skip(&c, 1, 1); /* scope prefix length */
    if (c.err != 0) {
        return;
    }

    struct prefix *subnet = &edns->client_subnet;
    memset(subnet, 0, sizeof(*subnet));
    if (family == ECS_FAMILY_IPV4) {
        subnet->addr.family = ADDR_FAMILY_IPV4;
    } else if (family == ECS_FAMILY_IPV6) {
        subnet->addr.family = ADDR_FAMILY_IPV6;
    } else {
        return;
    }

    /* Senders should send exactly the bytes the prefix covers. Fewer are
     * padded with zeros, and more than the address length are invalid. */
    unsigned bits = addr_bits(subnet->addr.family);
    size_t addr_len = cursor_left(&c);
    if (source_len > bits || addr_len > bits / 8) {
        return;
    }
    memcpy(subnet->addr.bytes, c.pos, addr_len);
    addr_mask(&subnet->addr, source_len);
    subnet->len = source_len;
    edns->has_client_subnet = true;
}

/* OPT record (RFC 6891 6.1.3): the fields live in CLASS and TTL. */
static enum dns_wire_error opt_read(const struct rr_header *rr, struct cursor *rdata,
                                    struct dns_edns *edns)
{
    edns->present = true;
    edns->udp_size = rr->rclass;
    edns->extended_rcode = (uint8_t)(rr->ttl >> 24);
    edns->version = (uint8_t)(rr->ttl >> 16);
    edns->do_bit = (rr->ttl & 0x8000) != 0;

    while (cursor_left(rdata) > 0) {
        uint16_t code = cursor_u16(rdata, DNS_WIRE_BAD_RDATA);
        uint16_t len = cursor_u16(rdata, DNS_WIRE_BAD_RDATA);
        const uint8_t *data = cursor_bytes(rdata, len, DNS_WIRE_BAD_RDATA);
        if (rdata->err != 0) {
            return DNS_WIRE_BAD_RDATA;
        }
        if (code == EDNS_OPTION_CLIENT_SUBNET && !edns->has_client_subnet) {
            client_subnet_read(data, len, edns);
        }
    }
    return DNS_WIRE_OK;
}

/*
 * Step over the answer and authority records, then read additional records
 * until the first OPT record. A second OPT record (a FORMERR for servers)
 * is not looked at.
 */
static enum dns_wire_error records_read(struct cursor *c, struct dns_message *msg)
{
    unsigned before_additional = (unsigned)msg->ancount + msg->nscount;
    unsigned total = before_additional + msg->arcount;

    for (unsigned i = 0; i < total; i++) {
        struct rr_header rr;
        struct cursor rdata;
        enum dns_wire_error err = rr_read(c, &rr, &rdata);
        if (err != DNS_WIRE_OK) {
            return err;
        }
        if (i >= before_additional && rr.type == DNS_TYPE_OPT) {
            return opt_read(&rr, &rdata, &msg->edns);
        }
    }
    return DNS_WIRE_OK;
}

/* Walk the sections after the question of a message whose question parsed. */
static enum dns_wire_error records_parse_now(struct dns_message *msg)
{
    msg->records_parsed = true;
    if (msg->wire == NULL) {
        return DNS_WIRE_OK;
    }
    struct cursor c = cursor_init(msg->wire, msg->wire_len);
    c.pos += msg->records_offset;
    return records_read(&c, msg);
}

enum dns_wire_error dns_wire_parse(const uint8_t *wire, size_t len, struct dns_message *msg)
{
    enum dns_wire_error err = dns_wire_parse_question(wire, len, msg);
    if (err != DNS_WIRE_OK || msg->records_parsed) {
        msg->records_parsed = true;
        return err;
    }
    return records_parse_now(msg);
}

void dns_message_parse_records(struct dns_message *m)
{
    if (!m->records_parsed) {
        (void)records_parse_now(m);
    }
}

static inline uint16_t read_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Read the six header fields from @p wire, which contains at least DNS_HEADER_LEN bytes. */
static inline void header_read(const uint8_t *wire, struct dns_message *msg)
{
    msg->id = read_u16(wire);
    msg->flags = read_u16(wire + 2);
    msg->qdcount = read_u16(wire + 4);
    msg->ancount = read_u16(wire + 6);
    msg->nscount = read_u16(wire + 8);
    msg->arcount = read_u16(wire + 10);
}

/* A header cut short: the fields that fit are read, the others are 0. */
static void header_read_short(struct cursor *c, struct dns_message *msg)
{
    msg->id = cursor_u16(c, DNS_WIRE_TRUNCATED);
    msg->flags = cursor_u16(c, DNS_WIRE_TRUNCATED);
    msg->qdcount = cursor_u16(c, DNS_WIRE_TRUNCATED);
    msg->ancount = cursor_u16(c, DNS_WIRE_TRUNCATED);
    msg->nscount = cursor_u16(c, DNS_WIRE_TRUNCATED);
    msg->arcount = cursor_u16(c, DNS_WIRE_TRUNCATED);
}

enum dns_wire_error dns_wire_parse_question(const uint8_t *wire, size_t len,
                                            struct dns_message *msg)
{
    struct cursor c = cursor_init(wire, len);
    msg->wire = wire;
    msg->wire_len = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
    msg->records_parsed = false;

    /* Forget the previous message: only the header fields are set below. */
    msg->has_question = false;
    msg->qname_len = 0;
    msg->qtype = 0;
    msg->qclass = 0;
    memset(&msg->edns, 0, sizeof(msg->edns));

    if (len < DNS_HEADER_LEN) {
        header_read_short(&c, msg);
        return DNS_WIRE_TRUNCATED;
    }
    header_read(wire, msg);
    c.pos += DNS_HEADER_LEN;

    enum dns_wire_error err = questions_read(&c, msg);
    msg->records_offset = (uint16_t)cursor_offset(&c);
    /* EDNS lives in the additional section: without one there is nothing to find. */
    if (err != DNS_WIRE_OK || msg->arcount == 0) {
        msg->records_parsed = true;
    }
    return err;
}
