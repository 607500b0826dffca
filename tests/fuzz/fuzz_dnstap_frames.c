/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dnstap_frames.c - libFuzzer target for the Frame Streams reader of
 * dnstap connections.
 *
 * The input is a byte stream as a DNS server would send it. It is written
 * into one end of a unix socket pair, and the other end is read by the
 * connection code of src/input/dnstap_listen.c (included here, so that its
 * static conn_readable() and the frame and handshake functions behind it
 * run unchanged). Input layout: 4 bytes that seed the chunk sizes, then
 * the stream.
 *
 * Each input is fed twice: in chunks of pseudo-random sizes (1 byte to
 * 64 KiB, from the seed) and in chunks of 64 KiB. Both runs must deliver
 * the same data frames and end with the same event, and the connection
 * buffer must never exceed one maximum frame with its length field.
 */
#include <sys/ioctl.h>

#include "input/dnstap_listen.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHUNK_MAX (64 * 1024)

/* What one run delivered, reduced to counts and a hash for comparison. */
struct run_result {
    uint64_t frames;
    uint64_t frame_hash;
    int last_event;
    uint64_t reason_hash;
};

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* Data frame callback: touch every byte, and reject frames that start with 0xff. */
static int on_frame(void *ctx, size_t endpoint, const uint8_t *data, size_t len, char *err,
                    size_t err_size)
{
    struct run_result *r = ctx;
    (void)endpoint;
    if (len == 0 || len > DNSTAP_FRAME_MAX) {
        abort();
    }
    r->frames++;
    r->frame_hash = hash_bytes(r->frame_hash, data, len);
    r->frame_hash = hash_bytes(r->frame_hash, (const uint8_t *)&len, sizeof(len));
    if (data[0] == 0xff) {
        snprintf(err, err_size, "frame rejected by the callback");
        return -EINVAL;
    }
    return 0;
}

static void on_event(void *ctx, size_t endpoint, enum dnstap_event event, const char *peer,
                     const char *reason)
{
    struct run_result *r = ctx;
    (void)endpoint;
    (void)peer;
    r->last_event = (int)event;
    if (reason != NULL) {
        r->reason_hash = hash_bytes(r->reason_hash, (const uint8_t *)reason, strlen(reason));
    }
}

static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Chunk sizes of four scales, so that headers are split as often as frames. */
static size_t chunk_size(uint32_t *state)
{
    static const uint32_t scales[] = { 1, 16, 512, CHUNK_MAX };
    if (*state == 0) {
        return CHUNK_MAX;
    }
    uint32_t r = next_random(state);
    return 1 + next_random(state) % scales[r % 4];
}

static void check_bounds(const struct conn *c)
{
    if (c->state == CONN_FREE) {
        return;
    }
    if (c->len > c->cap || c->cap > DNSTAP_FRAME_MAX + DNSTAP_CONTROL_HEADER_LEN) {
        abort();
    }
}

/* Let the connection read everything queued on its socket. */
static void pump(struct dnstap_server *srv, struct conn *c, int peer)
{
    uint8_t sink[4096];
    while (read(peer, sink, sizeof(sink)) > 0) {
        /* ACCEPT and FINISH sent back to the sender are dropped */
    }
    for (;;) {
        int queued = 0;
        if (c->state == CONN_FREE || ioctl(c->fd, FIONREAD, &queued) != 0 || queued == 0) {
            return;
        }
        conn_readable(srv, c);
        check_bounds(c);
    }
}

/* Write @p len bytes, letting the connection read whenever the socket is full. */
static void feed(struct dnstap_server *srv, struct conn *c, int peer, const uint8_t *p,
                 size_t len)
{
    while (len > 0 && c->state != CONN_FREE) {
        ssize_t n = send(peer, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno != EAGAIN) {
            return;
        }
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        }
        pump(srv, c, peer);
    }
}

static void run(const uint8_t *stream, size_t len, uint32_t seed, struct run_result *result)
{
    static struct dnstap_server srv;
    struct dnstap_counters counters;
    memset(&counters, 0, sizeof(counters));
    memset(result, 0, sizeof(*result));
    srv.epoll_fd = -1;
    srv.cb = (struct dnstap_server_callbacks){ on_frame, on_event, result, &counters };

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        abort();
    }
    struct conn *c = &srv.conns[0];
    *c = (struct conn){ .state = CONN_WAIT_FIRST, .fd = sv[0] };
    c->buf = malloc(READ_BUFFER_INITIAL);
    c->cap = READ_BUFFER_INITIAL;
    if (c->buf == NULL) {
        abort();
    }

    uint32_t state = seed;
    for (size_t off = 0; off < len && c->state != CONN_FREE;) {
        size_t n = chunk_size(&state);
        n = n < len - off ? n : len - off;
        feed(&srv, c, sv[1], stream + off, n);
        off += n;
    }

    /* The sender goes away: the connection reads end of file and closes. */
    shutdown(sv[1], SHUT_WR);
    for (int i = 0; i < 4 && c->state != CONN_FREE; i++) {
        conn_readable(&srv, c);
    }
    if (c->state != CONN_FREE) {
        abort();
    }
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) {
        return 0;
    }
    uint32_t seed = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                    (uint32_t)data[2] << 8 | data[3];

    struct run_result chunked;
    struct run_result whole;
    run(data + 4, size - 4, seed, &chunked);
    run(data + 4, size - 4, 0, &whole);
    if (chunked.frames != whole.frames || chunked.frame_hash != whole.frame_hash ||
        chunked.last_event != whole.last_event || chunked.reason_hash != whole.reason_hash) {
        fprintf(stderr, "dnstap frames: chunk sizes changed the result: %llu/%llu frames, "
                "last event %d/%d\n", (unsigned long long)chunked.frames,
                (unsigned long long)whole.frames, chunked.last_event, whole.last_event);
        abort();
    }
    return 0;
}
