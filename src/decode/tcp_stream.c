/* SPDX-License-Identifier: MIT */
/*
 * tcp_stream.c - DNS over TCP stream reassembly with fixed memory.
 *
 * Each connection has two halves, one per direction. A half is either in
 * sync, when it knows the sequence number where the next length prefix
 * starts, or out of sync. Data in sync is cut into messages: whole messages
 * are parsed straight from the segment, and only the unfinished tail of a
 * segment is copied into a buffer, where the next segments complete it.
 *
 * Policies:
 * - SYN puts a half in sync at the sequence number after it.
 * - Without a SYN (a connection seen from the middle, or after a gap), a
 *   segment puts its half in sync when it starts with a plausible length
 *   prefix and DNS header (see plausible_start()), or when it holds only a
 *   length prefix, as senders that write the length and the message
 *   separately produce. Other segments are dropped and counted. When the
 *   first message after such a guess fails to parse, the half is out of
 *   sync again, so a wrong guess costs one message.
 * - Data already seen (retransmissions, overlaps) is ignored: the part of a
 *   segment before the expected sequence number is cut off.
 * - Out-of-order data is not buffered. A segment after a gap drops the
 *   unfinished message and tries to resync at its own start, and the late
 *   segment that fills the gap is then old data. The message that spanned
 *   the gap is lost, but no memory waits for data that may never come.
 *   A frame cut by the snaplen is a gap after its captured bytes.
 * - FIN ends a half, RST or FIN in both directions ends the connection, and
 *   a connection idle for TCP_IDLE_TIMEOUT_SEC of capture time is dropped.
 *
 * Memory: flows_max connections of about 100 bytes and buffers_max message
 * buffers of 65537 bytes, all allocated at creation. A buffer holds at most
 * one message (2-byte length plus up to 65535 bytes), so an endless stream
 * of garbage or of messages never grows anything. When the table is full
 * the least recently used connection is evicted. When every buffer is taken,
 * the least recently used connection that holds one loses its unfinished
 * message.
 */
#include "decode/tcp_stream.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define MESSAGE_BUFFER_LEN (2 + 65535)
#define NONE (-1)

/* Smallest question (root name, type, class) and resource record (root
 * owner, type, class, TTL, RDLENGTH) on the wire. */
#define QUESTION_MIN_LEN 5
#define RR_MIN_LEN 11

struct tcp_half {
    uint32_t next_seq; /* where the next unread byte belongs, when in sync */
    bool in_sync;
    bool guessed; /* in sync by plausible_start(), no message parsed yet */
    bool fin;
    int32_t buffer;    /* index into the buffer pool, or NONE */
    uint32_t buffered; /* bytes of the unfinished message in the buffer */
};

/* Endpoints are stored in a fixed order, so both directions find the flow. */
struct tcp_flow_key {
    struct addr addr[2];
    uint16_t port[2];
};

struct tcp_flow {
    struct tcp_flow_key key;
    struct tcp_half half[2];
    int64_t last_seen;
    uint32_t bucket;
    int32_t hash_next; /* next in bucket, or next free flow */
    int32_t lru_prev;
    int32_t lru_next;
};

struct tcp_table {
    struct tcp_flow *flows;
    int32_t *buckets;
    uint32_t bucket_mask;
    int32_t free_flows;
    int32_t lru_head; /* least recently used */
    int32_t lru_tail;
    uint64_t seed;

    uint8_t *buffers;
    int32_t *free_buffers; /* stack of free buffer indices */
    unsigned free_buffer_count;

    struct decoder_counters *counters;
};

static unsigned round_up_pow2(unsigned n)
{
    unsigned p = 1;
    while (p < n) {
        p <<= 1;
    }
    return p;
}

struct tcp_table *tcp_table_create(unsigned flows_max, unsigned buffers_max,
                                   struct decoder_counters *counters)
{
    struct tcp_table *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    unsigned bucket_count = round_up_pow2(flows_max * 2);
    t->flows = calloc(flows_max, sizeof(*t->flows));
    t->buckets = malloc(bucket_count * sizeof(*t->buckets));
    t->buffers = malloc((size_t)buffers_max * MESSAGE_BUFFER_LEN);
    t->free_buffers = malloc(buffers_max * sizeof(*t->free_buffers));
    if (t->flows == NULL || t->buckets == NULL || t->buffers == NULL || t->free_buffers == NULL) {
        tcp_table_destroy(t);
        return NULL;
    }

    /* The table's address varies between runs, which keys the hash
     * against flows crafted to share a bucket. */
    t->seed = hash_mix64((uint64_t)(uintptr_t)t);
    t->bucket_mask = bucket_count - 1;
    for (unsigned i = 0; i < bucket_count; i++) {
        t->buckets[i] = NONE;
    }
    for (unsigned i = 0; i < flows_max; i++) {
        t->flows[i].hash_next = i + 1 < flows_max ? (int32_t)i + 1 : NONE;
    }
    for (unsigned i = 0; i < buffers_max; i++) {
        t->free_buffers[i] = (int32_t)i;
    }
    t->free_buffer_count = buffers_max;
    t->free_flows = flows_max > 0 ? 0 : NONE;
    t->lru_head = NONE;
    t->lru_tail = NONE;
    t->counters = counters;
    return t;
}

void tcp_table_destroy(struct tcp_table *t)
{
    if (t == NULL) {
        return;
    }
    free(t->flows);
    free(t->buckets);
    free(t->buffers);
    free(t->free_buffers);
    free(t);
}

/* ---- Buffers ---------------------------------------------------------- */

static uint8_t *half_buffer(const struct tcp_table *t, const struct tcp_half *h)
{
    return t->buffers + (size_t)h->buffer * MESSAGE_BUFFER_LEN;
}

/* Drop the unfinished message of @p h, counting its bytes, and free its buffer. */
static void half_drop_partial(struct tcp_table *t, struct tcp_half *h)
{
    t->counters->tcp_bytes_dropped += h->buffered;
    h->buffered = 0;
    if (h->buffer != NONE) {
        t->free_buffers[t->free_buffer_count++] = h->buffer;
        h->buffer = NONE;
    }
}

/* Take a buffer from the least recently used half other than @p keep. */
static bool buffer_take_back(struct tcp_table *t, const struct tcp_half *keep)
{
    for (int32_t i = t->lru_head; i != NONE; i = t->flows[i].lru_next) {
        for (int d = 0; d < 2; d++) {
            struct tcp_half *h = &t->flows[i].half[d];
            if (h != keep && h->buffer != NONE) {
                half_drop_partial(t, h);
                h->in_sync = false;
                t->counters->tcp_buffers_taken++;
                return true;
            }
        }
    }
    return false;
}

static bool half_get_buffer(struct tcp_table *t, struct tcp_half *h)
{
    if (h->buffer != NONE) {
        return true;
    }
    if (t->free_buffer_count == 0 && !buffer_take_back(t, h)) {
        return false;
    }
    h->buffer = t->free_buffers[--t->free_buffer_count];
    return true;
}

/* ---- Flow table ------------------------------------------------------- */

static void lru_unlink(struct tcp_table *t, int32_t i)
{
    struct tcp_flow *f = &t->flows[i];
    if (f->lru_prev != NONE) {
        t->flows[f->lru_prev].lru_next = f->lru_next;
    } else {
        t->lru_head = f->lru_next;
    }
    if (f->lru_next != NONE) {
        t->flows[f->lru_next].lru_prev = f->lru_prev;
    } else {
        t->lru_tail = f->lru_prev;
    }
}

static void lru_append(struct tcp_table *t, int32_t i)
{
    struct tcp_flow *f = &t->flows[i];
    f->lru_prev = t->lru_tail;
    f->lru_next = NONE;
    if (t->lru_tail != NONE) {
        t->flows[t->lru_tail].lru_next = i;
    } else {
        t->lru_head = i;
    }
    t->lru_tail = i;
}

static void flow_remove(struct tcp_table *t, int32_t i)
{
    struct tcp_flow *f = &t->flows[i];
    int32_t *link = &t->buckets[f->bucket];
    while (*link != i) {
        link = &t->flows[*link].hash_next;
    }
    *link = f->hash_next;
    lru_unlink(t, i);

    half_drop_partial(t, &f->half[0]);
    half_drop_partial(t, &f->half[1]);
    f->hash_next = t->free_flows;
    t->free_flows = i;
    t->counters->tcp_flows_now--;
}

/* Drop connections idle for longer than the timeout, oldest first. */
static void flows_expire(struct tcp_table *t, int64_t now_sec)
{
    while (t->lru_head != NONE && now_sec - t->flows[t->lru_head].last_seen > TCP_IDLE_TIMEOUT_SEC) {
        flow_remove(t, t->lru_head);
        t->counters->tcp_flows_timed_out++;
    }
}

/* Key of the segment in ctx->msg; *dir is 0 when the source is endpoint 0. */
static void flow_key_make(const struct dns_message *msg, struct tcp_flow_key *key, int *dir)
{
    int order = memcmp(&msg->src, &msg->dst, sizeof(msg->src));
    *dir = order > 0 || (order == 0 && msg->sport > msg->dport);
    memset(key, 0, sizeof(*key));
    key->addr[*dir] = msg->src;
    key->port[*dir] = msg->sport;
    key->addr[!*dir] = msg->dst;
    key->port[!*dir] = msg->dport;
}

static int32_t flow_find(const struct tcp_table *t, const struct tcp_flow_key *key, uint32_t bucket)
{
    for (int32_t i = t->buckets[bucket]; i != NONE; i = t->flows[i].hash_next) {
        if (memcmp(&t->flows[i].key, key, sizeof(*key)) == 0) {
            return i;
        }
    }
    return NONE;
}

/* Start a flow for @p key, evicting the least recently used one when full. */
static int32_t flow_add(struct tcp_table *t, const struct tcp_flow_key *key, uint32_t bucket)
{
    if (t->free_flows == NONE) {
        if (t->lru_head == NONE) {
            return NONE;
        }
        flow_remove(t, t->lru_head);
        t->counters->tcp_flows_evicted++;
    }

    int32_t i = t->free_flows;
    struct tcp_flow *f = &t->flows[i];
    t->free_flows = f->hash_next;
    memset(f, 0, sizeof(*f));
    f->key = *key;
    f->bucket = bucket;
    f->half[0].buffer = NONE;
    f->half[1].buffer = NONE;
    f->hash_next = t->buckets[bucket];
    t->buckets[bucket] = i;
    lru_append(t, i);
    t->counters->tcp_flows++;
    t->counters->tcp_flows_now++;
    return i;
}

/* ---- Messages --------------------------------------------------------- */

/*
 * True when @p data starts like a length-prefixed DNS message: a length
 * that fits a header, a defined opcode, and counts whose smallest encoding
 * fits the length. Used only to find a message boundary without a SYN.
 */
static bool plausible_start(const uint8_t *data, size_t len)
{
    if (len < 2) {
        return false;
    }
    size_t msg_len = (size_t)data[0] << 8 | data[1];
    if (len == 2) {
        return msg_len >= DNS_HEADER_LEN;
    }
    if (len < 2 + DNS_HEADER_LEN) {
        return false;
    }
    const uint8_t *h = data + 2;
    unsigned opcode = (h[2] >> 3) & 0xf;
    if (msg_len < DNS_HEADER_LEN || opcode == 3 || opcode > 6) {
        return false;
    }

    size_t qdcount = (size_t)h[4] << 8 | h[5];
    size_t rrcount = ((size_t)h[6] << 8 | h[7]) + ((size_t)h[8] << 8 | h[9]) +
                     ((size_t)h[10] << 8 | h[11]);
    return qdcount * QUESTION_MIN_LEN + rrcount * RR_MIN_LEN <= msg_len - DNS_HEADER_LEN;
}

/* Emit one message. A guessed boundary that yields no DNS was wrong. */
static enum decode_skip message_emit(struct decode_ctx *ctx, struct tcp_half *h,
                                     const uint8_t *wire, size_t len)
{
    enum decode_skip ret = decode_dns_message(ctx, DNS_TRANSPORT_TCP, wire, len);
    if (ret == DECODE_OK) {
        ctx->counters->tcp_messages++;
        h->guessed = false;
    } else if (h->guessed) {
        h->in_sync = false;
    }
    return ret;
}

/*
 * Complete the unfinished message of @p h with bytes from *data, emitting
 * it when whole. Moves *data and *len past the bytes used.
 */
static enum decode_skip partial_continue(struct decode_ctx *ctx, struct tcp_half *h,
                                         const uint8_t **data, size_t *len)
{
    struct tcp_table *t = ctx->tcp;
    uint8_t *buf = half_buffer(t, h);

    /* The length prefix itself may have been split. */
    if (h->buffered < 2) {
        size_t take = *len < 2 - h->buffered ? *len : 2 - h->buffered;
        memcpy(buf + h->buffered, *data, take);
        h->buffered += (uint32_t)take;
        *data += take;
        *len -= take;
        if (h->buffered < 2) {
            return DECODE_SKIP_TCP_REASSEMBLY;
        }
    }

    size_t whole = 2 + ((size_t)buf[0] << 8 | buf[1]);
    size_t take = whole - h->buffered < *len ? whole - h->buffered : *len;
    memcpy(buf + h->buffered, *data, take);
    h->buffered += (uint32_t)take;
    *data += take;
    *len -= take;
    if (h->buffered < whole) {
        return DECODE_SKIP_TCP_REASSEMBLY;
    }

    enum decode_skip ret = message_emit(ctx, h, buf + 2, whole - 2);
    h->buffered = 0;
    t->free_buffers[t->free_buffer_count++] = h->buffer;
    h->buffer = NONE;
    return ret;
}

/* Cut in-sync stream data into messages and keep the unfinished tail. */
static enum decode_skip stream_feed(struct decode_ctx *ctx, struct tcp_half *h,
                                    const uint8_t *data, size_t len)
{
    unsigned emitted_before = ctx->emitted;
    enum decode_skip last = DECODE_SKIP_TCP_REASSEMBLY;
    if (h->buffered > 0) {
        last = partial_continue(ctx, h, &data, &len);
    }

    while (len >= 2 && h->in_sync) {
        size_t msg_len = (size_t)data[0] << 8 | data[1];
        if (len - 2 < msg_len) {
            break;
        }
        last = message_emit(ctx, h, data + 2, msg_len);
        data += 2 + msg_len;
        len -= 2 + msg_len;
    }

    if (!h->in_sync) {
        ctx->counters->tcp_bytes_dropped += len;
    } else if (len > 0) {
        if (half_get_buffer(ctx->tcp, h)) {
            memcpy(half_buffer(ctx->tcp, h), data, len);
            h->buffered = (uint32_t)len;
        } else {
            ctx->counters->tcp_bytes_dropped += len;
            h->in_sync = false;
        }
        last = DECODE_SKIP_TCP_REASSEMBLY;
    }
    return ctx->emitted > emitted_before ? DECODE_OK : last;
}

/* Handle the payload of a segment whose data starts at sequence number @p seq. */
static enum decode_skip half_data(struct decode_ctx *ctx, struct tcp_half *h, uint32_t seq,
                                  const struct tcp_segment *seg)
{
    struct decoder_counters *n = ctx->counters;
    const uint8_t *data = seg->data;
    size_t len = seg->len;
    size_t declared = seg->declared_len;

    if (h->in_sync) {
        int32_t ahead = (int32_t)(seq - h->next_seq);
        if (ahead > 0) {
            n->tcp_gaps++;
            half_drop_partial(ctx->tcp, h);
            h->in_sync = false;
        } else if (ahead < 0) {
            size_t seen = (size_t)-(int64_t)ahead;
            if (seen >= declared) {
                n->tcp_retransmitted++;
                return DECODE_SKIP_TCP_REASSEMBLY;
            }
            data += seen < len ? seen : len;
            len -= seen < len ? seen : len;
            declared -= seen;
            seq = h->next_seq;
        }
    }

    /* Out of sync: this segment must start a message, or it is dropped. */
    if (!h->in_sync) {
        h->next_seq = seq + (uint32_t)declared;
        if (len < declared || !plausible_start(data, len)) {
            n->tcp_bytes_dropped += declared;
            return DECODE_SKIP_TCP_REASSEMBLY;
        }
        h->in_sync = true;
        h->guessed = true;
    }

    h->next_seq = seq + (uint32_t)declared;
    enum decode_skip ret = stream_feed(ctx, h, data, len);

    /* Bytes the snaplen cut off are a gap after the captured ones. */
    if (len < declared && h->in_sync) {
        n->tcp_gaps++;
        n->tcp_bytes_dropped += declared - len;
        half_drop_partial(ctx->tcp, h);
        h->in_sync = false;
        if (ret != DECODE_OK) {
            ret = DECODE_SKIP_TRUNCATED;
        }
    }
    return ret;
}

enum decode_skip tcp_stream_segment(struct decode_ctx *ctx, const struct tcp_segment *seg)
{
    struct tcp_table *t = ctx->tcp;
    flows_expire(t, ctx->pkt->ts_sec);

    struct tcp_flow_key key;
    int dir;
    flow_key_make(&ctx->msg, &key, &dir);
    uint32_t bucket = (uint32_t)hash_bytes_seeded(&key, sizeof(key), t->seed) & t->bucket_mask;
    int32_t i = flow_find(t, &key, bucket);

    /* Only a SYN or data starts following a connection. */
    bool syn = (seg->flags & TCP_FLAG_SYN) != 0;
    if (i == NONE) {
        if ((seg->flags & TCP_FLAG_RST) != 0 || (!syn && seg->declared_len == 0)) {
            return DECODE_SKIP_NOT_DNS;
        }
        i = flow_add(t, &key, bucket);
        if (i == NONE) {
            return DECODE_SKIP_TCP_REASSEMBLY;
        }
    }
    struct tcp_flow *f = &t->flows[i];
    f->last_seen = ctx->pkt->ts_sec > f->last_seen ? ctx->pkt->ts_sec : f->last_seen;
    lru_unlink(t, i);
    lru_append(t, i);

    if ((seg->flags & TCP_FLAG_RST) != 0) {
        flow_remove(t, i);
        t->counters->tcp_flows_closed++;
        return DECODE_SKIP_NOT_DNS;
    }

    /* A SYN (maybe of a new connection on the same ports) restarts the half. */
    struct tcp_half *h = &f->half[dir];
    uint32_t seq = seg->seq;
    if (syn) {
        half_drop_partial(t, h);
        h->in_sync = true;
        h->guessed = false;
        h->fin = false;
        seq++;
        h->next_seq = seq;
    }

    enum decode_skip ret = DECODE_SKIP_NOT_DNS;
    if (seg->declared_len > 0) {
        ret = half_data(ctx, h, seq, seg);
    }

    if ((seg->flags & TCP_FLAG_FIN) != 0) {
        half_drop_partial(t, h);
        h->fin = true;
        if (f->half[!dir].fin) {
            flow_remove(t, i);
            t->counters->tcp_flows_closed++;
        }
    }
    return ret;
}
