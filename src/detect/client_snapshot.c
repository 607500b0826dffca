/* SPDX-License-Identifier: MIT */
#include "detect/client_snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

#define BUFFER_SIZE ((size_t)1 << 20) /* bytes per write() or read() */
#define KEEP_FLAGS (CLIENT_LEARNED | CLIENT_STORM)
#define GROUP_SLOTS 64
#define RECORD_FIXED 11 /* scope, last_seen, flags, family, prefix_len */

_Static_assert(sizeof(struct client_snapshot_header) == 136, "snapshot header size");

/*
 * Checksum of the bytes after the header: four lanes of multiply and
 * rotate, one per 8-byte word of a 32-byte block, so that the lanes run in
 * parallel. Bytes short of a whole block wait in carry, and the end pads
 * them with zeros and mixes in the length. It catches damage, not forgery:
 * the file is ours and beside the database.
 */
struct checksum {
    uint64_t lane[4];
    uint8_t carry[32];
    size_t carried;
    uint64_t length;
};

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static void checksum_init(struct checksum *c)
{
    memset(c, 0, sizeof(*c));
    c->lane[0] = 0x9e3779b97f4a7c15ULL;
    c->lane[1] = 0xc2b2ae3d27d4eb4fULL;
    c->lane[2] = 0x165667b19e3779f9ULL;
    c->lane[3] = 0x27d4eb2f165667c5ULL;
}

static void checksum_blocks(struct checksum *c, const uint8_t *p, size_t blocks)
{
    for (size_t b = 0; b < blocks; b++, p += 32) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + 8 * k, 8);
            c->lane[k] = rotl(c->lane[k] + w * 0xff51afd7ed558ccdULL, 31) * 0x9e3779b97f4a7c15ULL;
        }
    }
}

static void checksum_add(struct checksum *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->length += len;
    if (c->carried > 0) {
        size_t n = 32 - c->carried < len ? 32 - c->carried : len;
        memcpy(c->carry + c->carried, p, n);
        c->carried += n;
        p += n;
        len -= n;
        if (c->carried < 32) {
            return;
        }
        checksum_blocks(c, c->carry, 1);
        c->carried = 0;
    }
    checksum_blocks(c, p, len / 32);
    c->carried = len % 32;
    memcpy(c->carry, p + len - c->carried, c->carried);
}

static uint64_t checksum_end(struct checksum *c)
{
    if (c->carried > 0) {
        memset(c->carry + c->carried, 0, 32 - c->carried);
        checksum_blocks(c, c->carry, 1);
    }
    uint64_t h = c->lane[0] ^ rotl(c->lane[1], 16) ^ rotl(c->lane[2], 32) ^ rotl(c->lane[3], 48);
    h ^= c->length * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ULL;
}

static size_t address_size(uint8_t family)
{
    return family == ADDR_FAMILY_IPV4 ? 4 : 16;
}

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

/* The body on its way to the file: a buffer, the checksum, and the first error. */
struct body_out {
    int fd;
    uint8_t *buf;
    size_t used;
    struct checksum sum;
    int ret;
};

static void out_flush(struct body_out *o)
{
    if (o->ret == 0 && o->used > 0) {
        checksum_add(&o->sum, o->buf, o->used);
        o->ret = write_all(o->fd, o->buf, o->used);
    }
    o->used = 0;
}

/* Reserve @p len bytes (at most BUFFER_SIZE) in the buffer, flushing it first when full. */
static uint8_t *out_reserve(struct body_out *o, size_t len)
{
    if (BUFFER_SIZE - o->used < len) {
        out_flush(o);
    }
    uint8_t *p = o->buf + o->used;
    o->used += len;
    return p;
}

/* Append the record of the occupied slot @p e. Only the LEARNED and STORM flags are kept. */
static void record_put(struct body_out *o, const struct client_entry *e)
{
    size_t addr_len = address_size(e->family);
    uint8_t *p = out_reserve(o, RECORD_FIXED + addr_len);
    uint8_t flags = e->flags & KEEP_FLAGS;
    memcpy(p, &e->scope, 4);
    memcpy(p + 4, &e->last_seen, 4);
    p[8] = flags;
    p[9] = e->family;
    p[10] = e->prefix_len;
    memcpy(p + RECORD_FIXED, e->addr, addr_len);
}

/* Append the group of slots from @p first on: its occupancy word, then its records. */
static void group_put(struct body_out *o, const struct client_table *t, uint64_t first)
{
    uint64_t n = t->capacity - first < GROUP_SLOTS ? t->capacity - first : GROUP_SLOTS;
    const struct client_entry *slots = &t->slots[first];
    uint64_t word = 0;
    for (uint64_t i = 0; i < n; i++) {
        word |= (uint64_t)(slots[i].scope != 0) << i;
    }
    memcpy(out_reserve(o, 8), &word, 8);
    for (uint64_t bits = word; bits != 0; bits &= bits - 1) {
        record_put(o, &slots[__builtin_ctzll(bits)]);
    }
}

static void header_fill(struct client_snapshot_header *h, const struct client_table *t,
                        const struct scope_registry *reg)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, CLIENT_SNAPSHOT_MAGIC, sizeof(h->magic));
    h->version = CLIENT_SNAPSHOT_VERSION;
    h->slot_size = sizeof(struct client_entry);
    h->capacity = t->capacity;
    h->count = t->count;
    h->seed = t->seed;
    h->scope_mode = (uint32_t)reg->mode;
    h->scope_count = reg->count;
    memcpy(h->site_name, reg->site_name, sizeof(h->site_name));
}

/* The thread of client_snapshot_follow(), and the end it may write up to. */
struct follower {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t moved;
    uint64_t ready; /* slots before this one may be written */
    bool running;
};

struct client_snapshot_writer {
    char tmp[4096];
    char path[4096];
    const struct client_table *table;
    struct client_snapshot_header header;
    struct body_out out;
    uint64_t next_slot; /* first slot not written yet */
    struct follower follower;
};

static void follower_stop(struct client_snapshot_writer *w);

static void writer_free(struct client_snapshot_writer *w)
{
    if (w->out.fd >= 0) {
        close(w->out.fd);
    }
    free(w->out.buf);
    free(w);
}

/*
 * No fsync(): after an OS crash the renamed file may hold old or zeroed
 * blocks, and then its checksum or generation fails to match and the next
 * start walks the baseline rows instead. The snapshot is a cache.
 */
int client_snapshot_begin(const char *path, const struct client_table *t,
                          const struct scope_registry *reg, struct client_snapshot_writer **out)
{
    *out = NULL;
    struct client_snapshot_writer *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        return -ENOMEM;
    }
    w->out.fd = -1;
    if (snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", path) >= (int)sizeof(w->tmp)) {
        free(w);
        return -ENAMETOOLONG;
    }
    snprintf(w->path, sizeof(w->path), "%s", path);
    w->table = t;
    header_fill(&w->header, t, reg);
    checksum_init(&w->out.sum);
    int ret = 0;
    w->out.buf = malloc(BUFFER_SIZE);
    if (w->out.buf == NULL) {
        ret = -ENOMEM;
    } else {
        w->out.fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (w->out.fd < 0) {
            ret = -errno;
        }
    }
    if (ret == 0) {
        ret = write_all(w->out.fd, &w->header, sizeof(w->header));
    }
    for (uint32_t id = 1; ret == 0 && id <= reg->count; id++) {
        char *key = (char *)out_reserve(&w->out, STORE_KEY_MAX);
        memset(key, 0, STORE_KEY_MAX);
        snprintf(key, STORE_KEY_MAX, "%s", reg->scopes[id].key);
    }
    if (ret != 0) {
        client_snapshot_abort(w);
        return ret;
    }
    *out = w;
    return 0;
}

int client_snapshot_add(struct client_snapshot_writer *w, uint64_t end)
{
    const struct client_table *t = w->table;
    end = end < t->capacity ? end : t->capacity;
    for (; w->next_slot < end && w->out.ret == 0; w->next_slot += GROUP_SLOTS) {
        group_put(&w->out, t, w->next_slot);
    }
    return w->out.ret;
}

/* Write each group of slots once the caller has marked it ready, until all are. */
static void *follower_main(void *arg)
{
    struct client_snapshot_writer *w = arg;
    struct follower *f = &w->follower;
    uint64_t capacity = w->table->capacity;
    uint64_t written = 0;
    while (written < capacity) {
        pthread_mutex_lock(&f->lock);
        while (f->ready == written) {
            pthread_cond_wait(&f->moved, &f->lock);
        }
        written = f->ready;
        pthread_mutex_unlock(&f->lock);
        (void)client_snapshot_add(w, written); /* an error stays in w->out for the commit */
    }
    return NULL;
}

int client_snapshot_follow(struct client_snapshot_writer *w)
{
    struct follower *f = &w->follower;
    f->ready = 0;
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->moved, NULL);
    int ret = pthread_create(&f->thread, NULL, follower_main, w);
    if (ret != 0) {
        pthread_cond_destroy(&f->moved);
        pthread_mutex_destroy(&f->lock);
        return -ret;
    }
    f->running = true;
    return 0;
}

void client_snapshot_ready(struct client_snapshot_writer *w, uint64_t end)
{
    struct follower *f = &w->follower;
    if (!f->running) {
        (void)client_snapshot_add(w, end);
        return;
    }
    uint64_t capacity = w->table->capacity;
    pthread_mutex_lock(&f->lock);
    f->ready = end < capacity ? end : capacity;
    pthread_cond_signal(&f->moved);
    pthread_mutex_unlock(&f->lock);
}

/* Mark every slot ready and wait for the thread, if one runs. */
static void follower_stop(struct client_snapshot_writer *w)
{
    struct follower *f = &w->follower;
    if (!f->running) {
        return;
    }
    client_snapshot_ready(w, w->table->capacity);
    pthread_join(f->thread, NULL);
    pthread_cond_destroy(&f->moved);
    pthread_mutex_destroy(&f->lock);
    f->running = false;
}

int client_snapshot_commit(struct client_snapshot_writer *w, uint64_t generation)
{
    follower_stop(w);
    int ret = client_snapshot_add(w, w->table->capacity);
    if (ret == 0 && (w->table->count != w->header.count || w->table->capacity != w->header.capacity)) {
        ret = -EINVAL; /* the table changed after client_snapshot_begin() */
    }
    out_flush(&w->out);
    ret = ret != 0 ? ret : w->out.ret;
    w->header.generation = generation;
    w->header.body_size = w->out.sum.length;
    w->header.checksum = checksum_end(&w->out.sum);
    if (ret == 0) {
        ssize_t n = pwrite(w->out.fd, &w->header, sizeof(w->header), 0);
        ret = n == (ssize_t)sizeof(w->header) ? 0 : -EIO;
    }
    if (ret == 0) {
        ret = close(w->out.fd) == 0 ? 0 : -errno;
        w->out.fd = -1;
    }
    if (ret == 0 && rename(w->tmp, w->path) != 0) {
        ret = -errno;
    }
    if (ret != 0) {
        unlink(w->tmp);
    }
    writer_free(w);
    return ret;
}

void client_snapshot_abort(struct client_snapshot_writer *w)
{
    if (w == NULL) {
        return;
    }
    follower_stop(w);
    unlink(w->tmp);
    writer_free(w);
}

int client_snapshot_write(const char *path, const struct client_table *t,
                          const struct scope_registry *reg, uint64_t generation)
{
    struct client_snapshot_writer *w = NULL;
    int ret = client_snapshot_begin(path, t, reg, &w);
    return ret != 0 ? ret : client_snapshot_commit(w, generation);
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
    if ((uint64_t)file_size - sizeof(*h) != h->body_size) {
        return "truncated or of the wrong size";
    }
    uint64_t groups = (h->capacity + GROUP_SLOTS - 1) / GROUP_SLOTS;
    uint64_t least = (uint64_t)h->scope_count * STORE_KEY_MAX + groups * 8 +
                     h->count * (RECORD_FIXED + 4);
    if (h->body_size < least) {
        return "truncated or of the wrong size";
    }
    return NULL;
}

/*
 * The body on its way from the file. Every byte read goes into the
 * checksum, whatever the parse makes of it, so that damage is reported as
 * a bad checksum even where it also breaks a record.
 */
struct body_in {
    int fd;
    uint8_t *buf;
    size_t pos;
    size_t len;
    uint64_t unread; /* body bytes still in the file */
    struct checksum sum;
    bool read_failed;
    const char *reason; /* why the parse stopped, NULL while it goes on */
};

/* Make @p need bytes available at in->buf + in->pos. Returns false at the end of the body. */
static bool in_fill(struct body_in *in, size_t need)
{
    if (in->len - in->pos >= need) {
        return true;
    }
    size_t carried_over = in->len - in->pos;
    memmove(in->buf, in->buf + in->pos, carried_over);
    in->pos = 0;
    in->len = carried_over;
    size_t n = BUFFER_SIZE - carried_over < in->unread ? BUFFER_SIZE - carried_over : (size_t)in->unread;
    if (n > 0 && read_all(in->fd, in->buf + carried_over, n) != 0) {
        in->read_failed = true;
        return false;
    }
    checksum_add(&in->sum, in->buf + carried_over, n);
    in->len += n;
    in->unread -= n;
    return in->len >= need;
}

/* Take @p len bytes (at most BUFFER_SIZE), or return NULL with in->reason set. */
static const uint8_t *in_take(struct body_in *in, size_t len)
{
    if (in->reason != NULL) {
        return NULL;
    }
    if (!in_fill(in, len)) {
        in->reason = "truncated or of the wrong size";
        return NULL;
    }
    const uint8_t *p = in->buf + in->pos;
    in->pos += len;
    return p;
}

/* Read the rest of the body into the checksum only, after the parse stopped. */
static void in_drain(struct body_in *in)
{
    in->pos = in->len;
    while (in->unread > 0 && in_fill(in, 1)) {
        in->pos = in->len;
    }
}

static bool record_valid(const struct client_entry *e, uint32_t scope_count)
{
    if (e->scope == 0 || e->scope > scope_count || (e->flags & ~KEEP_FLAGS) != 0) {
        return false;
    }
    if (e->family == ADDR_FAMILY_IPV4) {
        return e->prefix_len <= 32;
    }
    return e->family == ADDR_FAMILY_IPV6 && e->prefix_len <= 128;
}

/* Read one record into the empty slot @p e. Returns false when it is cut short or invalid. */
static bool record_get(struct body_in *in, struct client_entry *e, uint32_t scope_count)
{
    const uint8_t *p = in_take(in, RECORD_FIXED);
    if (p == NULL) {
        return false;
    }
    memcpy(&e->scope, p, 4);
    memcpy(&e->last_seen, p + 4, 4);
    e->flags = p[8];
    e->family = p[9];
    e->prefix_len = p[10];
    if (!record_valid(e, scope_count)) {
        in->reason = "bad slot";
        return false;
    }
    size_t addr_len = address_size(e->family);
    p = in_take(in, addr_len);
    if (p == NULL) {
        return false;
    }
    memcpy(e->addr, p, addr_len);
    return true;
}

/* Put the records of each group into their slots of @p t. Returns the clients read. */
static uint64_t groups_read(struct body_in *in, struct client_table *t, uint32_t scope_count)
{
    uint64_t count = 0;
    for (uint64_t first = 0; first < t->capacity && in->reason == NULL; first += GROUP_SLOTS) {
        const uint8_t *p = in_take(in, 8);
        if (p == NULL) {
            break;
        }
        uint64_t word;
        memcpy(&word, p, 8);
        uint64_t n = t->capacity - first;
        if (n < GROUP_SLOTS && (word >> n) != 0) {
            in->reason = "bad slot";
            break;
        }
        for (uint64_t bits = word; bits != 0; bits &= bits - 1) {
            struct client_entry *e = &t->slots[first + (uint64_t)__builtin_ctzll(bits)];
            if (!record_get(in, e, scope_count)) {
                return count;
            }
            count++;
        }
    }
    return count;
}

/* Register the scope keys in file order: each must get the id it had. */
static const char *scopes_register(struct scope_registry *reg, struct body_in *in, uint32_t count)
{
    for (uint32_t id = 1; id <= count; id++) {
        const uint8_t *p = in_take(in, STORE_KEY_MAX);
        if (p == NULL) {
            return in->reason;
        }
        char key[STORE_KEY_MAX];
        memcpy(key, p, STORE_KEY_MAX);
        key[STORE_KEY_MAX - 1] = '\0';
        if (scope_registry_lookup_key(reg, key) != id) {
            return "a scope key does not match";
        }
    }
    return NULL;
}

/*
 * Read the body after a checked header into @p t and @p reg. A file whose
 * bytes are damaged is a bad checksum, whatever its records look like.
 */
static const char *body_read(int fd, const struct client_snapshot_header *h,
                             struct client_table *t, struct scope_registry *reg)
{
    struct body_in in = { .fd = fd, .buf = malloc(BUFFER_SIZE), .unread = h->body_size };
    if (in.buf == NULL) {
        return "out of memory";
    }
    checksum_init(&in.sum);
    const char *reason = NULL;
    uint64_t count = 0;
    if (client_table_reset(t, h->capacity) != 0) {
        reason = "out of memory";
    } else {
        reason = scopes_register(reg, &in, h->scope_count);
    }
    if (reason == NULL) {
        count = groups_read(&in, t, h->scope_count);
        reason = in.reason;
    }
    bool trailing = in.len > in.pos || in.unread > 0;
    in_drain(&in);
    free(in.buf);
    if (in.read_failed) {
        return "cannot read the file";
    }
    if (checksum_end(&in.sum) != h->checksum) {
        return "bad checksum";
    }
    if (reason == NULL && (trailing || count != h->count)) {
        reason = "bad slot";
    }
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
