/* SPDX-License-Identifier: MIT */
/*
 * dnstap_listen.c - the dnstap listening sockets and their connections.
 *
 * Connection states, in order:
 *
 *   WAIT_FIRST --READY--> (send ACCEPT) WAIT_START --START--> DATA
 *   WAIT_FIRST --START--> DATA                      (unidirectional sender)
 *   DATA --data frame--> DATA                       (frame callback)
 *   DATA --STOP--> (send FINISH if bidirectional) closed
 *
 * Any other frame in WAIT_FIRST or WAIT_START, and READY, ACCEPT, START or
 * FINISH in DATA, is a protocol error. Unknown control types in DATA are
 * ignored, as the Frame Streams protocol asks.
 */
#include "input/dnstap_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/dnstap_frame.h"

#define READ_BUFFER_INITIAL (64 * 1024)
#define LISTEN_BACKLOG 64
#define EVENTS_PER_WAIT 32
#define READS_PER_EVENT 8
#define PEER_TEXT_MAX 160

/* epoll data: listeners are tagged by index, connections by slot + CONN_TAG. */
#define CONN_TAG (UINT64_C(1) << 32)

enum conn_state {
    CONN_FREE = 0,
    CONN_WAIT_FIRST,
    CONN_WAIT_START,
    CONN_DATA,
};

struct conn {
    enum conn_state state;
    int fd;
    size_t endpoint;
    bool bidirectional;
    uint8_t *buf;
    size_t cap;
    size_t len;
    char peer[PEER_TEXT_MAX];
};

struct listener {
    int fd;
    struct dnstap_endpoint endpoint;
    dev_t dev; /* identity of the unix socket file we created */
    ino_t ino;
};

struct dnstap_server {
    int epoll_fd;
    struct dnstap_server_callbacks cb;
    size_t listener_count;
    struct listener *listeners;
    struct conn conns[DNSTAP_CONNECTIONS_MAX];
};

/* Outcome of handling frames, beyond 0 (keep reading). */
#define CONN_END 1

/* ---- listening sockets ------------------------------------------------- */

static void endpoint_text(const struct dnstap_endpoint *e, char *buf, size_t size)
{
    if (e->kind == DNSTAP_ENDPOINT_UNIX) {
        snprintf(buf, size, "unix:%s", e->path);
        return;
    }
    char host[ADDR_TEXT_MAX];
    addr_format(&e->addr, host, sizeof(host));
    snprintf(buf, size, e->addr.family == ADDR_FAMILY_IPV6 ? "tcp:[%s]:%u" : "tcp:%s:%u", host,
             (unsigned)e->port);
}

/* Remove a socket file left by a listener that is gone; refuse to touch anything else. */
static int remove_stale_socket(const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, err_size, "unix:%s: file exists and is not a socket", path);
        return -EEXIST;
    }

    /* A socket that still accepts connections belongs to a live listener. */
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        return -errno;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int live = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(probe);
    if (live) {
        snprintf(err, err_size, "unix:%s: another process listens on this socket", path);
        return -EADDRINUSE;
    }
    return unlink(path) == 0 ? 0 : -errno;
}

static int open_unix(struct listener *l, char *err, size_t err_size)
{
    const char *path = l->endpoint.path;
    int ret = remove_stale_socket(path, err, err_size);
    if (ret != 0) {
        return ret;
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || stat(path, &st) != 0 ||
        chmod(path, 0666) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        ret = -errno;
        close(fd);
        return ret;
    }
    l->fd = fd;
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    return 0;
}

static int open_tcp(struct listener *l)
{
    const struct dnstap_endpoint *e = &l->endpoint;
    struct sockaddr_storage ss;
    socklen_t ss_len;
    memset(&ss, 0, sizeof(ss));
    if (e->addr.family == ADDR_FAMILY_IPV4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(e->port);
        memcpy(&sin->sin_addr, e->addr.bytes, 4);
        ss_len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(e->port);
        memcpy(&sin6->sin6_addr, e->addr.bytes, 16);
        ss_len = sizeof(*sin6);
    }

    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, ss_len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        int ret = -errno;
        close(fd);
        return ret;
    }
    l->fd = fd;
    return 0;
}

static int open_listener(struct dnstap_server *srv, struct listener *l, size_t index,
                         char *err, size_t err_size)
{
    err[0] = '\0';
    int ret = l->endpoint.kind == DNSTAP_ENDPOINT_UNIX ? open_unix(l, err, err_size)
                                                      : open_tcp(l);
    if (ret != 0) {
        if (err[0] == '\0') {
            char text[PEER_TEXT_MAX + 8];
            endpoint_text(&l->endpoint, text, sizeof(text));
            snprintf(err, err_size, "%s: %s", text, strerror(-ret));
        }
        return ret;
    }

    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = index };
    if (epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, l->fd, &ev) != 0) {
        snprintf(err, err_size, "epoll: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

/* ---- connections ------------------------------------------------------- */

static void report(struct dnstap_server *srv, const struct conn *c, enum dnstap_event event,
                   const char *reason)
{
    if (srv->cb.event != NULL) {
        srv->cb.event(srv->cb.ctx, c->endpoint, event, c->peer, reason);
    }
}

static void conn_close(struct dnstap_server *srv, struct conn *c)
{
    epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->buf);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

static void conn_fail(struct dnstap_server *srv, struct conn *c, const char *reason)
{
    srv->cb.counters->connection_errors++;
    report(srv, c, DNSTAP_EVENT_ERROR, reason);
    conn_close(srv, c);
}

/* Name the peer: "ADDRESS:PORT" over TCP, the sender's process id over a unix socket. */
static void peer_text(int fd, const struct sockaddr_storage *ss, const struct listener *l,
                      char *buf, size_t size)
{
    char where[PEER_TEXT_MAX];
    endpoint_text(&l->endpoint, where, sizeof(where));
    if (ss->ss_family == AF_UNIX) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
            snprintf(buf, size, "pid %d on %.130s", (int)cred.pid, where);
        } else {
            snprintf(buf, size, "%s", where);
        }
        return;
    }

    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        port = ntohs(sin6->sin6_port);
    }
    snprintf(buf, size, ss->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

static struct conn *free_slot(struct dnstap_server *srv, size_t *slot)
{
    for (size_t i = 0; i < DNSTAP_CONNECTIONS_MAX; i++) {
        if (srv->conns[i].state == CONN_FREE) {
            *slot = i;
            return &srv->conns[i];
        }
    }
    return NULL;
}

static void accept_one(struct dnstap_server *srv, size_t index, int fd,
                       const struct sockaddr_storage *ss)
{
    struct conn probe = { .fd = fd, .endpoint = index };
    peer_text(fd, ss, &srv->listeners[index], probe.peer, sizeof(probe.peer));

    size_t slot = 0;
    struct conn *c = free_slot(srv, &slot);
    uint8_t *buf = c != NULL ? malloc(READ_BUFFER_INITIAL) : NULL;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = CONN_TAG + slot };
    if (c == NULL || buf == NULL || epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        srv->cb.counters->connections_rejected++;
        report(srv, &probe, DNSTAP_EVENT_REJECTED,
               c == NULL ? "too many connections" : "out of memory");
        free(buf);
        close(fd);
        return;
    }

    *c = probe;
    c->state = CONN_WAIT_FIRST;
    c->buf = buf;
    c->cap = READ_BUFFER_INITIAL;
    srv->cb.counters->connections++;
    report(srv, c, DNSTAP_EVENT_CONNECTED, NULL);
}

static void accept_all(struct dnstap_server *srv, size_t index)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        memset(&ss, 0, sizeof(ss));
        int fd = accept4(srv->listeners[index].fd, (struct sockaddr *)&ss, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return; /* EAGAIN, or an error the next readiness will show again */
        }
        accept_one(srv, index, fd, &ss);
    }
}

/* ---- frames ------------------------------------------------------------ */

/*
 * Send a control frame in one call. The socket is fresh or idle when we
 * send (ACCEPT right after READY, FINISH after STOP), so a short write means
 * the peer is gone rather than that its buffer is full.
 */
static int send_control(struct conn *c, fstrm_control_type type, bool content_type)
{
    uint8_t frame[FSTRM_CONTROL_FRAME_LENGTH_MAX + DNSTAP_CONTROL_HEADER_LEN];
    size_t len = dnstap_control_encode(type, content_type, frame, sizeof(frame));
    if (len == 0) {
        return -EPROTO;
    }
    ssize_t n = send(c->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
        return -errno;
    }
    return (size_t)n == len ? 0 : -EAGAIN;
}

static int handle_control(struct dnstap_server *srv, struct conn *c, const uint8_t *payload,
                          size_t len)
{
    char reason[160];
    struct dnstap_control ctl;
    srv->cb.counters->control_frames++;
    if (dnstap_control_decode(payload, len, &ctl) != 0) {
        conn_fail(srv, c, "malformed control frame");
        return CONN_END;
    }
    const char *name = fstrm_control_type_to_str(ctl.type);

    bool handshake = ctl.type == FSTRM_CONTROL_READY || ctl.type == FSTRM_CONTROL_START;
    if (handshake && !ctl.dnstap_content_type) {
        snprintf(reason, sizeof(reason), "%s does not offer content type %s", name,
                 DNSTAP_CONTENT_TYPE);
        conn_fail(srv, c, reason);
        return CONN_END;
    }

    if (c->state == CONN_WAIT_FIRST && ctl.type == FSTRM_CONTROL_READY) {
        int ret = send_control(c, FSTRM_CONTROL_ACCEPT, true);
        if (ret != 0) {
            snprintf(reason, sizeof(reason), "cannot send ACCEPT (%s)", strerror(-ret));
            conn_fail(srv, c, reason);
            return CONN_END;
        }
        c->bidirectional = true;
        c->state = CONN_WAIT_START;
        return 0;
    }
    if (c->state != CONN_DATA && ctl.type == FSTRM_CONTROL_START) {
        c->state = CONN_DATA;
        return 0;
    }
    if (c->state == CONN_DATA && ctl.type == FSTRM_CONTROL_STOP) {
        /* Unbound closes right after STOP, so FINISH may meet EPIPE: no matter. */
        if (c->bidirectional) {
            send_control(c, FSTRM_CONTROL_FINISH, false);
        }
        report(srv, c, DNSTAP_EVENT_CLOSED, "STOP received");
        conn_close(srv, c);
        return CONN_END;
    }
    if (c->state == CONN_DATA && !handshake && ctl.type != FSTRM_CONTROL_ACCEPT &&
        ctl.type != FSTRM_CONTROL_FINISH) {
        return 0; /* a control type from a later protocol version */
    }

    snprintf(reason, sizeof(reason), "unexpected %s control frame", name);
    conn_fail(srv, c, reason);
    return CONN_END;
}

static int handle_frame(struct dnstap_server *srv, struct conn *c,
                        const struct dnstap_frame *f)
{
    if (f->kind == DNSTAP_FRAME_CONTROL) {
        return handle_control(srv, c, f->payload, f->len);
    }
    if (c->state != CONN_DATA) {
        conn_fail(srv, c, "data frame before START");
        return CONN_END;
    }

    srv->cb.counters->data_frames++;
    char reason[160] = "";
    if (srv->cb.frame(srv->cb.ctx, c->endpoint, f->payload, f->len, reason,
                      sizeof(reason)) != 0) {
        conn_fail(srv, c, reason);
        return CONN_END;
    }
    return 0;
}

/* Make room for a frame of @p need bytes, at most DNSTAP_FRAME_MAX plus its length. */
static int reserve(struct conn *c, size_t need)
{
    if (need <= c->cap) {
        return 0;
    }
    uint8_t *grown = realloc(c->buf, need);
    if (grown == NULL) {
        return -ENOMEM;
    }
    c->buf = grown;
    c->cap = need;
    return 0;
}

/* Handle every whole frame in the buffer, then keep the partial rest at its start. */
static int drain_frames(struct dnstap_server *srv, struct conn *c)
{
    size_t off = 0;
    for (;;) {
        struct dnstap_frame f;
        size_t used = 0;
        int ret = dnstap_frame_next(c->buf + off, c->len - off, DNSTAP_FRAME_MAX, &f, &used);
        if (ret < 0) {
            char reason[160];
            snprintf(reason, sizeof(reason), "frame of %zu bytes is over the maximum of %d",
                     used, DNSTAP_FRAME_MAX);
            conn_fail(srv, c, reason);
            return CONN_END;
        }
        if (ret == 0) {
            if (reserve(c, used) != 0) {
                conn_fail(srv, c, "out of memory for a frame");
                return CONN_END;
            }
            break;
        }
        off += used;
        if (handle_frame(srv, c, &f) == CONN_END) {
            return CONN_END;
        }
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return 0;
}

static void conn_eof(struct dnstap_server *srv, struct conn *c, int read_errno)
{
    char reason[160];
    if (read_errno != 0) {
        snprintf(reason, sizeof(reason), "read failed (%s)", strerror(read_errno));
        conn_fail(srv, c, reason);
        return;
    }
    if (c->len > 0) {
        srv->cb.counters->partial_frames++;
        snprintf(reason, sizeof(reason), "disconnected inside a frame, %zu bytes dropped",
                 c->len);
    } else {
        snprintf(reason, sizeof(reason), "disconnected without STOP");
    }
    report(srv, c, DNSTAP_EVENT_CLOSED, reason);
    conn_close(srv, c);
}

static void conn_readable(struct dnstap_server *srv, struct conn *c)
{
    for (int i = 0; i < READS_PER_EVENT; i++) {
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        if (n <= 0) {
            conn_eof(srv, c, n < 0 ? errno : 0);
            return;
        }
        c->len += (size_t)n;
        if (drain_frames(srv, c) == CONN_END) {
            return;
        }
    }
}

/* ---- the server -------------------------------------------------------- */

int dnstap_server_open(const struct dnstap_endpoint *endpoints, size_t count,
                       const struct dnstap_server_callbacks *cb, struct dnstap_server **out,
                       char *err, size_t err_size)
{
    struct dnstap_server *srv = calloc(1, sizeof(*srv));
    struct listener *listeners = calloc(count, sizeof(*listeners));
    if (srv == NULL || listeners == NULL) {
        free(srv);
        free(listeners);
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    srv->cb = *cb;
    srv->listeners = listeners;
    for (size_t i = 0; i < DNSTAP_CONNECTIONS_MAX; i++) {
        srv->conns[i].fd = -1;
    }

    srv->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (srv->epoll_fd < 0) {
        int ret = -errno;
        snprintf(err, err_size, "epoll: %s", strerror(errno));
        free(listeners);
        free(srv);
        return ret;
    }

    for (size_t i = 0; i < count; i++) {
        listeners[i].fd = -1;
        listeners[i].endpoint = endpoints[i];
    }
    srv->listener_count = count;
    for (size_t i = 0; i < count; i++) {
        int ret = open_listener(srv, &listeners[i], i, err, err_size);
        if (ret != 0) {
            dnstap_server_close(srv);
            return ret;
        }
        char text[PEER_TEXT_MAX];
        endpoint_text(&listeners[i].endpoint, text, sizeof(text));
        if (cb->event != NULL) {
            cb->event(cb->ctx, i, DNSTAP_EVENT_LISTENING, text, NULL);
        }
    }
    *out = srv;
    return 0;
}

int dnstap_server_poll(struct dnstap_server *srv, int timeout_ms)
{
    struct epoll_event events[EVENTS_PER_WAIT];
    int n = epoll_wait(srv->epoll_fd, events, EVENTS_PER_WAIT, timeout_ms);
    if (n < 0) {
        return errno == EINTR ? 0 : -errno;
    }

    for (int i = 0; i < n; i++) {
        uint64_t tag = events[i].data.u64;
        if (tag < CONN_TAG) {
            accept_all(srv, (size_t)tag);
            continue;
        }
        struct conn *c = &srv->conns[tag - CONN_TAG];
        if (c->state != CONN_FREE) {
            conn_readable(srv, c);
        }
    }
    return 0;
}

/* Remove a unix socket file only when it is still the one this server bound. */
static void remove_own_socket(const struct listener *l)
{
    struct stat st;
    if (l->endpoint.kind == DNSTAP_ENDPOINT_UNIX && l->ino != 0 &&
        lstat(l->endpoint.path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino) {
        unlink(l->endpoint.path);
    }
}

void dnstap_server_close(struct dnstap_server *srv)
{
    if (srv == NULL) {
        return;
    }
    for (size_t i = 0; i < DNSTAP_CONNECTIONS_MAX; i++) {
        if (srv->conns[i].state != CONN_FREE) {
            conn_close(srv, &srv->conns[i]);
        }
    }
    for (size_t i = 0; i < srv->listener_count; i++) {
        if (srv->listeners[i].fd >= 0) {
            close(srv->listeners[i].fd);
            remove_own_socket(&srv->listeners[i]);
        }
    }
    close(srv->epoll_fd);
    free(srv->listeners);
    free(srv);
}
