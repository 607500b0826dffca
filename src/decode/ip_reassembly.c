/* SPDX-License-Identifier: MIT */
/*
 * ip_reassembly.c - IPv4 and IPv6 fragment reassembly with fixed memory.
 *
 * Each slot of the table holds one datagram in flight: its key, a 64 KiB
 * payload buffer and a bitmap of the 8-byte blocks received (fragment
 * offsets count 8-byte units, so every fragment but the last covers whole
 * blocks). The datagram is complete when the last fragment has fixed its
 * length and every block up to it is present.
 *
 * Memory: datagrams_max slots of about 65 KiB each, allocated at creation.
 * That also caps the bytes held. A fragment for a new datagram when every
 * slot is taken evicts the datagram that started first. A datagram not
 * complete FRAG_TIMEOUT_SEC seconds of capture time after its first
 * fragment is dropped.
 *
 * Overlaps: fragments that overlap with the same bytes (a duplicate frame,
 * a retransmission) are merged. Fragments that overlap with different bytes,
 * or that disagree on where the datagram ends, reject the whole datagram.
 * Operating systems resolve such conflicts differently (first or last
 * arrival wins), so an attacker could show this sensor one query and the
 * server another. RFC 5722 requires IPv6 receivers to drop such datagrams,
 * and Linux has dropped overlapping IPv4 datagrams too since version 4.19.
 * Rejecting matches what a modern server does.
 *
 * The table scans its slots linearly. Fragments are rare in DNS traffic and
 * the table is small, so a hash index would not pay for itself.
 */
#include "decode/ip_reassembly.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_LEN 8
#define BLOCKS_MAX ((FRAG_PAYLOAD_MAX + BLOCK_LEN - 1) / BLOCK_LEN)
#define BITMAP_WORDS ((BLOCKS_MAX + 63) / 64)

struct frag_slot {
    bool used;
    bool busy; /* completed and being decoded: never evicted */
    bool total_known;
    bool have_first;
    uint8_t next_header;
    struct frag_key key;
    int64_t first_seen;
    uint32_t total_len;  /* payload length, once the last fragment came */
    uint32_t max_end;    /* highest payload byte received, plus one */
    uint32_t blocks_have;
    uint32_t fragments;
    uint32_t bytes;
    uint64_t bitmap[BITMAP_WORDS];
    uint8_t *buf;
};

struct frag_table {
    unsigned slot_count;
    struct frag_slot *slots;
    uint8_t *buffers;
    struct decoder_counters *counters;
};

struct frag_table *frag_table_create(unsigned datagrams_max, struct decoder_counters *counters)
{
    struct frag_table *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->slots = calloc(datagrams_max, sizeof(*t->slots));
    t->buffers = malloc((size_t)datagrams_max * FRAG_PAYLOAD_MAX);
    if (t->slots == NULL || t->buffers == NULL) {
        frag_table_destroy(t);
        return NULL;
    }

    t->slot_count = datagrams_max;
    t->counters = counters;
    for (unsigned i = 0; i < datagrams_max; i++) {
        t->slots[i].buf = t->buffers + (size_t)i * FRAG_PAYLOAD_MAX;
    }
    return t;
}

void frag_table_destroy(struct frag_table *t)
{
    if (t == NULL) {
        return;
    }
    free(t->slots);
    free(t->buffers);
    free(t);
}

static bool key_equal(const struct frag_key *a, const struct frag_key *b)
{
    return a->id == b->id && a->protocol == b->protocol &&
           memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
           memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
}

static bool block_test(const struct frag_slot *s, uint32_t block)
{
    return (s->bitmap[block / 64] >> (block % 64)) & 1;
}

/* Forget the datagram in @p s and take its fragments off the levels. */
static void slot_free(struct frag_table *t, struct frag_slot *s)
{
    struct decoder_counters *n = t->counters;
    if (!s->busy) {
        n->fragments_held_now -= s->fragments;
        n->fragment_datagrams_now--;
        n->fragment_bytes_now -= s->bytes;
    }
    s->used = false;
    s->busy = false;
}

static void slot_start(struct frag_table *t, struct frag_slot *s, const struct frag_key *key,
                       int64_t now_sec)
{
    memset(s->bitmap, 0, sizeof(s->bitmap));
    s->used = true;
    s->busy = false;
    s->total_known = false;
    s->have_first = false;
    s->key = *key;
    s->first_seen = now_sec;
    s->total_len = 0;
    s->max_end = 0;
    s->blocks_have = 0;
    s->fragments = 0;
    s->bytes = 0;
    t->counters->fragment_datagrams_now++;
}

/* Drop datagrams whose first fragment is older than the timeout. */
static void expire(struct frag_table *t, int64_t now_sec)
{
    for (unsigned i = 0; i < t->slot_count; i++) {
        struct frag_slot *s = &t->slots[i];
        if (s->used && !s->busy && now_sec - s->first_seen > FRAG_TIMEOUT_SEC) {
            slot_free(t, s);
            t->counters->fragments_timed_out++;
        }
    }
}

/*
 * Find the slot of @p key, or start one: in a free slot, else in the slot
 * of the datagram that started first. Returns NULL when every slot is busy.
 */
static struct frag_slot *slot_find(struct frag_table *t, const struct frag_key *key,
                                   int64_t now_sec)
{
    struct frag_slot *free_slot = NULL;
    struct frag_slot *oldest = NULL;
    for (unsigned i = 0; i < t->slot_count; i++) {
        struct frag_slot *s = &t->slots[i];
        if (!s->used) {
            free_slot = free_slot != NULL ? free_slot : s;
        } else if (key_equal(&s->key, key)) {
            return s->busy ? NULL : s;
        } else if (!s->busy && (oldest == NULL || s->first_seen < oldest->first_seen)) {
            oldest = s;
        }
    }

    if (free_slot == NULL && oldest != NULL) {
        slot_free(t, oldest);
        t->counters->fragments_evicted++;
        free_slot = oldest;
    }
    if (free_slot != NULL) {
        slot_start(t, free_slot, key, now_sec);
    }
    return free_slot;
}

/* True when @p piece contradicts where the datagram in @p s ends. */
static bool end_conflicts(const struct frag_slot *s, const struct frag_piece *piece, uint32_t end)
{
    if (!piece->more) {
        return (s->total_known && s->total_len != end) || s->max_end > end;
    }
    return s->total_known && end > s->total_len;
}

/* True when @p piece overlaps stored bytes that differ from its own. */
static bool overlap_conflicts(const struct frag_slot *s, const struct frag_piece *piece,
                              uint32_t end)
{
    for (uint32_t block = piece->offset / BLOCK_LEN; block * BLOCK_LEN < end; block++) {
        if (s->bitmap[block / 64] == 0) {
            block |= 63; /* no block of this word is present */
            continue;
        }
        if (!block_test(s, block)) {
            continue;
        }
        uint32_t from = block * BLOCK_LEN;
        uint32_t to = from + BLOCK_LEN < end ? from + BLOCK_LEN : end;
        if (memcmp(s->buf + from, piece->data + (from - piece->offset), to - from) != 0) {
            return true;
        }
    }
    return false;
}

/* Copy @p piece into @p s and mark its blocks. */
static void piece_store(struct frag_table *t, struct frag_slot *s, const struct frag_piece *piece,
                        uint32_t end)
{
    memcpy(s->buf + piece->offset, piece->data, piece->len);

    /* Mark the blocks a word at a time and count the ones that are new. */
    uint32_t first = piece->offset / BLOCK_LEN;
    uint32_t last = (end + BLOCK_LEN - 1) / BLOCK_LEN; /* one past the final block */
    uint32_t new_blocks = 0;
    bool last_new = false;
    for (uint32_t block = first; block < last; block = (block | 63) + 1) {
        uint32_t word_end = (block | 63) + 1 < last ? (block | 63) + 1 : last;
        uint64_t mask = (word_end - block == 64 ? ~UINT64_C(0)
                                                : (UINT64_C(1) << (word_end - block)) - 1)
                        << (block % 64);
        uint64_t fresh = mask & ~s->bitmap[block / 64];
        new_blocks += (uint32_t)__builtin_popcountll(fresh);
        if (word_end == last && last > first) {
            last_new = (fresh >> ((last - 1) % 64)) & 1;
        }
        s->bitmap[block / 64] |= mask;
    }
    s->blocks_have += new_blocks;

    /* Every new block holds 8 bytes but a final one that the end cuts short. */
    uint32_t added = new_blocks * BLOCK_LEN;
    if (last_new && end % BLOCK_LEN != 0) {
        added -= BLOCK_LEN - end % BLOCK_LEN;
    }
    s->bytes += added;
    t->counters->fragment_bytes_now += added;

    s->fragments++;
    t->counters->fragments_held_now++;
    if (end > s->max_end) {
        s->max_end = end;
    }
    if (!piece->more) {
        s->total_known = true;
        s->total_len = end;
    }
    if (piece->offset == 0) {
        s->have_first = true;
        s->next_header = piece->next_header;
    }
}

/* RFC 791 and RFC 8200: only the last fragment may end off an 8-byte boundary. */
static bool piece_valid(const struct frag_piece *piece)
{
    size_t end = (size_t)piece->offset + piece->len;
    if (end > FRAG_PAYLOAD_MAX || piece->offset % BLOCK_LEN != 0) {
        return false;
    }
    return !piece->more || (piece->len > 0 && piece->len % BLOCK_LEN == 0);
}

enum frag_result frag_table_add(struct frag_table *t, const struct frag_key *key,
                                const struct frag_piece *piece, int64_t now_sec,
                                struct frag_datagram *out)
{
    struct decoder_counters *n = t->counters;
    n->fragments++;
    expire(t, now_sec);
    if (!piece_valid(piece)) {
        n->fragments_invalid++;
        return FRAG_DROPPED;
    }

    struct frag_slot *s = slot_find(t, key, now_sec);
    if (s == NULL) {
        n->fragments_evicted++;
        return FRAG_DROPPED;
    }

    /* A conflict rejects the datagram: see the overlap policy above. */
    uint32_t end = piece->offset + (uint32_t)piece->len;
    if (end_conflicts(s, piece, end) || overlap_conflicts(s, piece, end)) {
        slot_free(t, s);
        n->fragments_overlapping++;
        return FRAG_DROPPED;
    }
    piece_store(t, s, piece, end);

    uint32_t blocks_needed = (s->total_len + BLOCK_LEN - 1) / BLOCK_LEN;
    if (!s->total_known || s->blocks_have < blocks_needed || !s->have_first) {
        return FRAG_HELD;
    }

    /* Complete: the slot leaves the levels now and stays busy until released. */
    n->fragments_held_now -= s->fragments;
    n->fragment_datagrams_now--;
    n->fragment_bytes_now -= s->bytes;
    n->fragments_reassembled++;
    s->busy = true;
    out->data = s->buf;
    out->len = s->total_len;
    out->next_header = s->next_header;
    out->slot = (unsigned)(s - t->slots);
    return FRAG_COMPLETE;
}

void frag_table_release(struct frag_table *t, const struct frag_datagram *d)
{
    if (d->slot < t->slot_count) {
        slot_free(t, &t->slots[d->slot]);
    }
}
