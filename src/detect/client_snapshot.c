/* SPDX-License-Identifier: MIT */
#include "detect/client_snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

#define CHUNK_SLOTS 32768 /* slots per write() when writing: 1 MiB */
#define KEEP_FLAGS (CLIENT_LEARNED | CLIENT_STORM)

_Static_assert(sizeof(struct client_snapshot_header) == 128, "snapshot header size");

/*
 * Checksum of the scopes and slots: four lanes of multiply and rotate, one
 * per 8-byte word of a 32-byte block, so that the lanes run in parallel.
 * It catches damage, not forgery: the file is ours and beside the database.
 */
struct checksum {
    uint64_t lane[4];
};

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static void checksum_init(struct checksum *c)
{
    c->lane[0] = 0x9e3779b97f4a7c15ULL;
    c->lane[1] = 0xc2b2ae3d27d4eb4fULL;
    c->lane[2] = 0x165667b19e3779f9ULL;
    c->lane[3] = 0x27d4eb2f165667c5ULL;
}

/* Add @p blocks blocks of 32 bytes. */
static void checksum_add(struct checksum *c, const void *data, size_t blocks)
{
    const uint8_t *p = data;
    for (size_t b = 0; b < blocks; b++, p += 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + 8 * k, 8);
            c->lane[k] = rotl(c->lane[k] + w * 0xff51afd7ed558ccdULL, 31) * 0x9e3779b97f4a7c15ULL;
        }
    }
}

static uint64_t checksum_end(const struct checksum *c)
{
    uint64_t h = c->lane[0] ^ rotl(c->lane[1], 16) ^ rotl(c->lane[2], 32) ^ rotl(c->lane[3], 48);
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ULL;
}

/* STORE_KEY_MAX is a multiple of the 32-byte checksum block. */
_Static_assert(STORE_KEY_MAX % 32 == 0, "scope keys fill whole checksum blocks");

/* ---- writing ----------------------------------------------------------- */

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Clear the run state of a slot, as a load from the rows would leave it. */
static void slot_clean(struct client_entry *e)
{
    if (e->scope == 0) {
        memset(e, 0, sizeof(*e));
        return;
    }
    e->unflushed = 0;
    e->flags &= KEEP_FLAGS;
    e->reserved = 0;
}

static void header_fill(struct client_snapshot_header *h, const struct client_table *t,
                        const struct scope_registry *reg, uint64_t generation)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, CLIENT_SNAPSHOT_MAGIC, sizeof(h->magic));
    h->version = CLIENT_SNAPSHOT_VERSION;
    h->slot_size = sizeof(struct client_entry);
    h->generation = generation;
    h->capacity = t->capacity;
    h->count = t->count;
    h->seed = t->seed;
    h->scope_mode = (uint32_t)reg->mode;
    h->scope_count = reg->count;
    memcpy(h->site_name, reg->site_name, sizeof(h->site_name));
}

/*
 * Write the body (scopes, then slots) at the current offset of @p fd and
 * fill in the checksum. The slots go through @p chunk, where they are
 * cleaned, so that the table itself is not changed.
 */
static int body_write(int fd, const struct client_table *t, const struct scope_registry *reg,
                      struct client_entry *chunk, struct checksum *sum)
{
    char key[STORE_KEY_MAX];
    int ret = 0;
    for (uint32_t id = 1; ret == 0 && id <= reg->count; id++) {
        memset(key, 0, sizeof(key));
        snprintf(key, sizeof(key), "%s", reg->scopes[id].key);
        checksum_add(sum, key, sizeof(key) / 32);
        ret = write_all(fd, key, sizeof(key));
    }

    uint64_t capacity = t->capacity;
    for (uint64_t first = 0; ret == 0 && first < capacity; first += CHUNK_SLOTS) {
        uint64_t n = capacity - first < CHUNK_SLOTS ? capacity - first : CHUNK_SLOTS;
        memcpy(chunk, &t->slots[first], n * sizeof(*chunk));
        for (uint64_t i = 0; i < n; i++) {
            slot_clean(&chunk[i]);
        }
        checksum_add(sum, chunk, n * sizeof(*chunk) / 32);
        ret = write_all(fd, chunk, n * sizeof(*chunk));
    }
    return ret;
}

/* Write the header with a zero checksum, the body, then the header again with the checksum. */
static int file_write(int fd, const struct client_table *t, const struct scope_registry *reg,
                      uint64_t generation)
{
    struct client_entry *chunk = malloc(CHUNK_SLOTS * sizeof(*chunk));
    if (chunk == NULL) {
        return -ENOMEM;
    }
    struct client_snapshot_header h;
    header_fill(&h, t, reg, generation);
    struct checksum sum;
    checksum_init(&sum);

    int ret = write_all(fd, &h, sizeof(h));
    if (ret == 0) {
        ret = body_write(fd, t, reg, chunk, &sum);
    }
    free(chunk);
    if (ret == 0) {
        h.checksum = checksum_end(&sum);
        ret = pwrite(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) ? 0 : -EIO;
    }
    return ret;
}

/*
 * No fsync(): after an OS crash the renamed file may hold old or zeroed
 * blocks, and then its checksum or generation fails to match and the next
 * start walks the baseline rows instead. The snapshot is a cache.
 */
int client_snapshot_write(const char *path, const struct client_table *t,
                          const struct scope_registry *reg, uint64_t generation)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        return -ENAMETOOLONG;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        return -errno;
    }
    int ret = file_write(fd, t, reg, generation);
    if (close(fd) != 0 && ret == 0) {
        ret = -errno;
    }
    if (ret == 0 && rename(tmp, path) != 0) {
        ret = -errno;
    }
    if (ret != 0) {
        unlink(tmp);
    }
    return ret;
}

/* ---- reading ----------------------------------------------------------- */

static int read_all(int fd, void *data, size_t len)
{
    uint8_t *p = data;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return n < 0 ? -errno : DF_EPARSE;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Check what the header says before anything is allocated. */
static const char *header_check(const struct client_snapshot_header *h, off_t file_size,
                                uint64_t generation, const struct client_table *t,
                                const struct scope_registry *reg)
{
    if (memcmp(h->magic, CLIENT_SNAPSHOT_MAGIC, sizeof(h->magic)) != 0) {
        return "not a client snapshot";
    }
    if (h->version != CLIENT_SNAPSHOT_VERSION || h->slot_size != sizeof(struct client_entry) ||
        h->seed != t->seed) {
        return "written by another version";
    }
    if (h->generation != generation) {
        return "stale: the baseline changed since it was written";
    }
    if (h->scope_mode != (uint32_t)reg->mode || h->scope_count > SCOPE_MAX ||
        (reg->mode == SCOPE_SITE &&
         strncmp(h->site_name, reg->site_name, sizeof(h->site_name)) != 0)) {
        return "written for another scope or site";
    }
    if (h->capacity < 1024 || h->capacity > (UINT64_C(1) << 40) || h->count >= h->capacity) {
        return "bad table size";
    }
    if (h->count > t->max_count) {
        return "holds more clients than max-clients";
    }
    uint64_t size = sizeof(*h) + (uint64_t)h->scope_count * STORE_KEY_MAX +
                    h->capacity * sizeof(struct client_entry);
    if ((uint64_t)file_size != size) {
        return "truncated or of the wrong size";
    }
    return NULL;
}

static bool slot_valid(const struct client_entry *e, uint32_t scope_count)
{
    if (e->scope > scope_count || e->reserved != 0 || (e->flags & ~KEEP_FLAGS) != 0 ||
        e->unflushed != 0) {
        return false;
    }
    if (e->family == ADDR_FAMILY_IPV4) {
        return e->prefix_len <= 32;
    }
    return e->family == ADDR_FAMILY_IPV6 && e->prefix_len <= 128;
}

/* Check every slot and count the occupied ones. Returns false at the first invalid slot. */
static bool slots_check(const struct client_table *t, uint32_t scope_count, uint64_t *count)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < t->capacity; i++) {
        const struct client_entry *e = &t->slots[i];
        if (e->scope == 0) {
            continue;
        }
        if (!slot_valid(e, scope_count)) {
            return false;
        }
        n++;
    }
    *count = n;
    return true;
}

/* Register the scope keys in file order: each must get the id it had. */
static const char *scopes_register(struct scope_registry *reg, char (*keys)[STORE_KEY_MAX],
                                   uint32_t count)
{
    for (uint32_t id = 1; id <= count; id++) {
        keys[id - 1][STORE_KEY_MAX - 1] = '\0';
        if (scope_registry_lookup_key(reg, keys[id - 1]) != id) {
            return "a scope key does not match";
        }
    }
    return NULL;
}

/* Read the body after a checked header into @p t and @p reg. */
static const char *body_read(int fd, const struct client_snapshot_header *h,
                             struct client_table *t, struct scope_registry *reg)
{
    char (*keys)[STORE_KEY_MAX] = NULL;
    if (h->scope_count > 0) {
        keys = malloc((size_t)h->scope_count * STORE_KEY_MAX);
        if (keys == NULL) {
            return "out of memory";
        }
    }
    const char *reason = NULL;
    if (keys != NULL && read_all(fd, keys, (size_t)h->scope_count * STORE_KEY_MAX) != 0) {
        reason = "cannot read the scopes";
    } else if (client_table_reset(t, h->capacity) != 0) {
        reason = "out of memory";
    } else if (read_all(fd, t->slots, h->capacity * sizeof(struct client_entry)) != 0) {
        reason = "cannot read the slots";
    }

    uint64_t count = 0;
    if (reason == NULL) {
        struct checksum sum;
        checksum_init(&sum);
        checksum_add(&sum, keys, (size_t)h->scope_count * STORE_KEY_MAX / 32);
        checksum_add(&sum, t->slots, h->capacity * sizeof(struct client_entry) / 32);
        if (checksum_end(&sum) != h->checksum) {
            reason = "bad checksum";
        } else if (!slots_check(t, h->scope_count, &count) || count != h->count) {
            reason = "bad slot";
        }
    }
    if (reason == NULL) {
        reason = scopes_register(reg, keys, h->scope_count);
    }
    free(keys);
    if (reason == NULL) {
        t->count = count;
    }
    return reason;
}

int client_snapshot_read(const char *path, uint64_t generation, struct client_table *t,
                         struct scope_registry *reg, const char **reason)
{
    *reason = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int ret = -errno;
        *reason = ret == -ENOENT ? "no snapshot" : "cannot open it";
        return ret;
    }

    struct stat sb;
    struct client_snapshot_header h;
    if (fstat(fd, &sb) != 0 || sb.st_size < (off_t)sizeof(h) ||
        read_all(fd, &h, sizeof(h)) != 0) {
        *reason = "truncated or of the wrong size";
    } else {
        *reason = header_check(&h, sb.st_size, generation, t, reg);
    }
    if (*reason == NULL) {
        *reason = body_read(fd, &h, t, reg);
    }
    close(fd);

    if (*reason != NULL) {
        /* Leave no slot of a rejected file behind, even without memory for a new array. */
        if (client_table_reset(t, 0) != 0) {
            memset(t->slots, 0, t->capacity * sizeof(*t->slots));
            t->count = 0;
        }
        return DF_EPARSE;
    }
    return 0;
}
