/* SPDX-License-Identifier: MIT */
#include "detect/client_table.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "util/big_alloc.h"
#include "util/hash.h"

#define TABLE_MIN_CAPACITY 1024
/* Bytes from which a table grows in place: a copy would need both arrays at once. */
#define GROW_COPY_MAX ((size_t)256 << 20)

/*
 * Hash of (scope, prefix): the two address words and a word of scope,
 * family and length are each multiplied by an odd constant and combined, and
 * one 64-bit finalizer mixes the result. Keys that differ only in the
 * address, or only in scope, family or length, differ before the finalizer,
 * which is a bijection, so they never collide in the full 64 bits.
 */
static uint64_t key_hash(const struct client_table *t, uint32_t scope, const struct prefix *key)
{
    uint64_t lo;
    uint64_t hi;
    memcpy(&lo, key->addr.bytes, 8);
    memcpy(&hi, key->addr.bytes + 8, 8);
    uint64_t tag = (uint64_t)scope << 16 | (uint64_t)key->addr.family << 8 | key->len;

    uint64_t h = (lo ^ t->seed) * 0x9e3779b97f4a7c15ULL;
    h ^= (hi ^ (tag * 0xc2b2ae3d27d4eb4fULL)) * 0xff51afd7ed558ccdULL;
    return hash_mix64(h);
}

/*
 * Home slot of a hash: the high bits of hash * capacity, which spreads the
 * hash over any capacity, not only a power of two.
 */
static uint64_t slot_of(const struct client_table *t, uint64_t hash)
{
    return (uint64_t)(((unsigned __int128)hash * t->capacity) >> 64);
}

static uint64_t slot_next(const struct client_table *t, uint64_t i)
{
    return i + 1 == t->capacity ? 0 : i + 1;
}

/* Slots from @p from forward to @p to, wrapping at the end. */
static uint64_t slot_distance(const struct client_table *t, uint64_t from, uint64_t to)
{
    return to >= from ? to - from : to + t->capacity - from;
}

/*
 * Slots for @p expected entries at a load of 3/4, leaving room before the
 * next growth at 4/5.
 */
static uint64_t capacity_for(uint64_t expected)
{
    uint64_t c = expected + expected / 3 + 1;
    return c < TABLE_MIN_CAPACITY ? TABLE_MIN_CAPACITY : c;
}

/* Two 8-byte compares: cheaper than a memcmp() call on the lookup path. */
static bool same_16_bytes(const uint8_t *a, const uint8_t *b)
{
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&a1, a + 8, 8);
    memcpy(&b0, b, 8);
    memcpy(&b1, b + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static bool entry_matches(const struct client_entry *e, uint32_t scope, const struct prefix *key)
{
    return e->scope == scope && e->family == key->addr.family && e->prefix_len == key->len &&
           same_16_bytes(e->addr, key->addr.bytes);
}

static struct client_entry *slots_alloc(uint64_t count)
{
    return big_alloc(count * sizeof(struct client_entry));
}

static void slots_free(struct client_entry *slots, uint64_t count)
{
    big_free(slots, count * sizeof(struct client_entry));
}

int client_table_init(struct client_table *t, uint64_t expected, uint64_t max_count)
{
    memset(t, 0, sizeof(*t));
    uint64_t capacity = capacity_for(expected);
    t->slots = slots_alloc(capacity);
    if (t->slots == NULL) {
        return -ENOMEM;
    }
    t->capacity = capacity;
    t->max_count = max_count;
    t->seed = 0x6a09e667f3bcc909ULL;
    return 0;
}

/* Wait for the spare array's prefault thread and unmap the array. */
static void spare_release(struct client_table *t)
{
    prefault_wait(&t->spare_fault);
    if (t->spare == NULL) {
        return;
    }
    slots_free(t->spare, t->spare_capacity);
    t->spare = NULL;
}

/*
 * Unmap slots no longer in use. The prefault thread is joined before the
 * next spare starts, so it is never on them today. The check keeps an unmap
 * from pulling pages from under it should a new path break that.
 */
static void slots_retire(struct client_table *t, struct client_entry *slots, uint64_t capacity)
{
    if (t->spare_fault.running && t->spare_fault.addr == slots) {
        prefault_wait(&t->spare_fault);
    }
    slots_free(slots, capacity);
}

/* Capacity after the next growth: grow() adds half. */
static uint64_t next_capacity(const struct client_table *t)
{
    return t->capacity + t->capacity / 2;
}

/*
 * Map the array of the next growth and start faulting it in, when that
 * growth copies into a mapped array (from BIG_ALLOC_MAP_MIN bytes to
 * GROW_COPY_MAX). Smaller arrays come from calloc(), larger ones grow in place.
 */
static void spare_prepare(struct client_table *t)
{
    uint64_t capacity = next_capacity(t);
    size_t bytes = capacity * sizeof(struct client_entry);
    prefault_wait(&t->spare_fault); /* the last one may still fault in the slots in use */
    if (bytes < BIG_ALLOC_MAP_MIN || t->capacity * sizeof(struct client_entry) >= GROW_COPY_MAX) {
        return;
    }
    t->spare = slots_alloc(capacity);
    if (t->spare == NULL) {
        return;
    }
    t->spare_capacity = capacity;
    prefault_start(&t->spare_fault, t->spare, bytes);
}

/*
 * Return a zeroed array of @p capacity slots: the spare when it has that size,
 * even while its prefault thread runs on. The pages read as zeros either way,
 * and waiting stalled the packet thread up to 480 ms (10M-packet capture).
 */
static struct client_entry *slots_take(struct client_table *t, uint64_t capacity)
{
    if (t->spare != NULL && t->spare_capacity == capacity) {
        struct client_entry *slots = t->spare;
        t->spare = NULL;
        return slots;
    }
    spare_release(t);
    return slots_alloc(capacity);
}

void client_table_free(struct client_table *t)
{
    spare_release(t);
    slots_free(t->slots, t->capacity);
    t->slots = NULL;
}

struct client_entry *client_table_find(const struct client_table *t, uint32_t scope,
                                       const struct prefix *key)
{
    uint64_t i = slot_of(t, key_hash(t, scope, key));
    for (;; i = slot_next(t, i)) {
        struct client_entry *e = &t->slots[i];
        if (e->scope == 0) {
            return NULL;
        }
        if (entry_matches(e, scope, key)) {
            return e;
        }
    }
}

/*
 * Prefetch the home slot's cache line and the next one: a lookup that
 * finds nothing reads 2.9 lines on average (10M-packet benchmark capture,
 * learning), and one that finds its key 1.2.
 */
void client_table_prefetch(const struct client_table *t, uint32_t scope,
                           const struct prefix *key)
{
    const char *home = (const char *)&t->slots[slot_of(t, key_hash(t, scope, key))];
    __builtin_prefetch(home);
    __builtin_prefetch(home + 64);
}

/* Place an entry known to be absent, without growing. */
static struct client_entry *place(struct client_table *t, uint64_t hash)
{
    uint64_t i = slot_of(t, hash);
    while (t->slots[i].scope != 0) {
        i = slot_next(t, i);
    }
    return &t->slots[i];
}

/*
 * Put every entry marked unplaced (reserved = 1) at its place for the
 * current capacity, in the same array. An entry is taken out of its slot
 * and placed at the first slot of its probe run that is empty or contains
 * another unplaced entry, which it then displaces and carries on. Placed
 * entries never move again, and a slot on a placed entry's probe run is
 * never emptied (such a slot contained a placed entry when the run was
 * laid), so every placed entry stays reachable from its home slot.
 */
static void rehash_in_place(struct client_table *t)
{
    for (uint64_t i = 0; i < t->capacity; i++) {
        if (t->slots[i].scope == 0 || t->slots[i].reserved == 0) {
            continue;
        }
        struct client_entry carry = t->slots[i];
        memset(&t->slots[i], 0, sizeof(t->slots[i]));
        for (;;) {
            carry.reserved = 0;
            struct prefix key;
            client_entry_prefix(&carry, &key);
            uint64_t j = slot_of(t, key_hash(t, carry.scope, &key));
            while (t->slots[j].scope != 0 && t->slots[j].reserved == 0) {
                j = slot_next(t, j);
            }
            struct client_entry next = t->slots[j];
            t->slots[j] = carry;
            if (next.scope == 0) {
                break;
            }
            carry = next;
        }
    }
}

/*
 * Grow a mapped table where it lies: mremap() extends or moves the mapping
 * without copying pages, and the entries are then rehashed in place. The
 * old and the new array never exist side by side, so growing costs no
 * transient memory.
 */
static int grow_mapped(struct client_table *t, uint64_t capacity)
{
    uint64_t old_capacity = t->capacity;
    size_t bytes = capacity * sizeof(struct client_entry);
    void *p = mremap(t->slots, old_capacity * sizeof(struct client_entry), bytes,
                     MREMAP_MAYMOVE);
    if (p == MAP_FAILED) {
        return -ENOMEM;
    }
    (void)madvise(p, bytes, MADV_HUGEPAGE);

    t->slots = p;
    t->capacity = capacity;
    for (uint64_t i = 0; i < old_capacity; i++) {
        t->slots[i].reserved = t->slots[i].scope != 0;
    }
    rehash_in_place(t);
    return 0;
}

/*
 * Move the entries to a new array of @p capacity slots, or grow in place
 * when the table is GROW_COPY_MAX bytes or more. Copying reads the old
 * slots in order, and because a key's home slot grows with its hash in
 * both arrays, it writes the new ones nearly in order too, where the
 * displacements of an in-place rehash jump around the array. On the
 * 10M-packet benchmark capture, which grows the table to 1.5 million
 * slots, copying took about 0.1 s off a 1.45 s run (median of 6, 2-core VM).
 */
static int grow_to(struct client_table *t, uint64_t capacity)
{
    uint64_t old_capacity = t->capacity;
    if (old_capacity * sizeof(struct client_entry) >= GROW_COPY_MAX) {
        spare_release(t);
        return grow_mapped(t, capacity);
    }
    struct client_entry *old = t->slots;
    struct client_entry *slots = slots_take(t, capacity);
    if (slots == NULL) {
        return -ENOMEM;
    }

    t->slots = slots;
    t->capacity = capacity;
    for (uint64_t i = 0; i < old_capacity; i++) {
        if (old[i].scope == 0) {
            continue;
        }
        struct prefix key;
        client_entry_prefix(&old[i], &key);
        *place(t, key_hash(t, old[i].scope, &key)) = old[i];
    }
    slots_retire(t, old, old_capacity);
    return 0;
}

/*
 * Grow by half. The load stays between 0.53 and 0.8, so a client costs 40
 * to 60 bytes of slots instead of the 43 to 85 of doubling at 3/4. Growing
 * by a quarter would keep it under 50 bytes, but rehashes every entry
 * about four times on the way to a size, against twice here. On the
 * 10M-packet benchmark capture, which learns a million clients, growing
 * by quarters took 11% of the packet thread's time.
 */
static int grow(struct client_table *t)
{
    return grow_to(t, next_capacity(t));
}

int client_table_reset(struct client_table *t, uint64_t capacity)
{
    if (capacity < TABLE_MIN_CAPACITY) {
        capacity = TABLE_MIN_CAPACITY;
    }
    struct client_entry *slots = slots_take(t, capacity);
    if (slots == NULL) {
        return -ENOMEM;
    }
    slots_retire(t, t->slots, t->capacity);
    t->slots = slots;
    t->capacity = capacity;
    t->count = 0;
    return 0;
}

int client_table_reserve(struct client_table *t, uint64_t expected)
{
    uint64_t capacity = capacity_for(expected);
    return capacity > t->capacity ? grow_to(t, capacity) : 0;
}

struct client_entry *client_table_insert(struct client_table *t, uint32_t scope,
                                         const struct prefix *key)
{
    if (t->count >= t->max_count) {
        return NULL;
    }
    /* Keep the load at or under 4/5 so that probe sequences stay short. */
    if ((t->count + 1) * 5 > t->capacity * 4 && grow(t) != 0) {
        return NULL;
    }
    /* Only the insertion that passes 3/5 prepares. From 7/10, the growth at 4/5
     * often came before the prefault thread was done (10M-packet capture). */
    bool reaches_three_fifths =
        (t->count + 1) * 5 > t->capacity * 3 && t->count * 5 <= t->capacity * 3;
    if (t->spare == NULL && reaches_three_fifths) {
        spare_prepare(t);
    }

    struct client_entry *e = place(t, key_hash(t, scope, key));
    memset(e, 0, sizeof(*e));
    memcpy(e->addr, key->addr.bytes, 16);
    e->scope = scope;
    e->family = key->addr.family;
    e->prefix_len = key->len;
    t->count++;
    return e;
}

void client_table_remove(struct client_table *t, struct client_entry *e)
{
    uint64_t hole = (uint64_t)(e - t->slots);
    memset(e, 0, sizeof(*e));
    t->count--;

    /* Shift back each later entry of the probe run that may fill the hole:
     * one whose home slot does not lie cyclically between hole and its slot. */
    for (uint64_t i = slot_next(t, hole); t->slots[i].scope != 0; i = slot_next(t, i)) {
        struct prefix key;
        client_entry_prefix(&t->slots[i], &key);
        uint64_t home = slot_of(t, key_hash(t, t->slots[i].scope, &key));
        bool home_in_gap = slot_distance(t, home, i) < slot_distance(t, hole, i);
        if (home_in_gap) {
            continue;
        }
        t->slots[hole] = t->slots[i];
        memset(&t->slots[i], 0, sizeof(t->slots[i]));
        hole = i;
    }
}

void client_entry_prefix(const struct client_entry *e, struct prefix *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->addr.bytes, e->addr, 16);
    out->addr.family = e->family;
    out->len = e->prefix_len;
}

/*
 * Lower is a better victim: storm clients first (most are spoofed and never
 * return), then the least recently seen.
 */
static uint64_t victim_rank(const struct client_entry *e)
{
    uint64_t storm = (e->flags & CLIENT_STORM) ? 0 : 1;
    return storm << 32 | e->last_seen;
}

struct client_entry *client_table_pick_victim(const struct client_table *t, uint32_t scope,
                                              const struct prefix *key)
{
    struct client_entry *best = NULL;
    uint64_t i = slot_of(t, key_hash(t, scope, key));
    unsigned seen = 0;
    for (uint64_t n = 0; n < t->capacity && seen < CLIENT_TABLE_VICTIM_WINDOW;
         n++, i = slot_next(t, i)) {
        struct client_entry *e = &t->slots[i];
        if (e->scope == 0) {
            continue;
        }
        seen++;
        if (best == NULL || victim_rank(e) < victim_rank(best)) {
            best = e;
        }
    }
    return best;
}
