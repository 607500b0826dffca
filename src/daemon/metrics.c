/* SPDX-License-Identifier: MIT */
#include "daemon/metrics.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "util/error.h"

struct metrics_server {
    int fd;
    atomic_bool stopping;
    metrics_render_fn render;
    void *ctx;
    pthread_t thread;
};

/* Split "PORT", "HOST:PORT" or "[IPV6]:PORT" into @p host and @p port. */
static int split_address(const char *address, char *host, size_t host_size, char *port,
                         size_t port_size)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL) {
        snprintf(host, host_size, "%s", METRICS_DEFAULT_HOST);
        snprintf(port, port_size, "%s", address);
        return 0;
    }
    const char *start = address;
    size_t len = (size_t)(colon - address);
    if (len >= 2 && address[0] == '[' && address[len - 1] == ']') {
        start++;
        len -= 2;
    }
    if (len == 0 || len >= host_size || strlen(colon + 1) >= port_size) {
        return DF_ECONFIG;
    }
    memcpy(host, start, len);
    host[len] = '\0';
    snprintf(port, port_size, "%s", colon + 1);
    return 0;
}

static int listen_on(const char *address, char *err, size_t err_size)
{
    char host[128];
    char port[16];
    if (split_address(address, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(err, err_size, "invalid address '%s' (expected PORT or HOST:PORT)", address);
        return DF_ECONFIG;
    }
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                              .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, err_size, "invalid address '%s' (%s)", address, gai_strerror(rc));
        return DF_ECONFIG;
    }

    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        int saved = errno;
        snprintf(err, err_size, "cannot listen on '%s' (%s)", address, strerror(saved));
        if (fd >= 0) {
            close(fd);
        }
        freeaddrinfo(ai);
        return -saved;
    }
    freeaddrinfo(ai);
    return fd;
}

/*
 * The request is read by hand rather than with an HTTP library: the server
 * has one path for local scrapers, so only the request line is checked,
 * against one fixed string, and the head is bounded by METRICS_REQUEST_MAX.
 * tests/fuzz/fuzz_metrics_request.c fuzzes this function.
 */
enum metrics_request metrics_request_check(const char *buf, size_t len)
{
    if (memmem(buf, len, "\r\n\r\n", 4) == NULL && memmem(buf, len, "\n\n", 2) == NULL) {
        return METRICS_REQUEST_INCOMPLETE;
    }
    if (memchr(buf, '\0', len) != NULL) {
        return METRICS_REQUEST_BAD;
    }
    if (len < 4 || memcmp(buf, "GET ", 4) != 0) {
        return METRICS_REQUEST_NOT_GET;
    }
    if (len < 20 || memcmp(buf + 4, "/metrics HTTP/1.", 16) != 0) {
        return METRICS_REQUEST_NOT_FOUND;
    }
    return METRICS_REQUEST_METRICS;
}

/* Read until the end of the request head, at most @p size bytes. */
static enum metrics_request read_request(int fd, char *buf, size_t size)
{
    size_t len = 0;
    while (len < size) {
        ssize_t n = recv(fd, buf + len, size - len, 0);
        if (n <= 0) {
            return METRICS_REQUEST_BAD;
        }
        len += (size_t)n;
        enum metrics_request req = metrics_request_check(buf, len);
        if (req != METRICS_REQUEST_INCOMPLETE) {
            return req;
        }
    }
    return METRICS_REQUEST_BAD;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        data += n;
        len -= (size_t)n;
    }
}

static void send_response(int fd, const char *status, const char *type, const char *body,
                          size_t body_len)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.0 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, type, body_len);
    send_all(fd, head, (size_t)n);
    send_all(fd, body, body_len);
}

static void serve_client(struct metrics_server *ms, int fd)
{
    struct timeval timeout = { .tv_sec = 1 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));

    char req[METRICS_REQUEST_MAX];
    switch (read_request(fd, req, sizeof(req))) {
    case METRICS_REQUEST_METRICS:
        break;
    case METRICS_REQUEST_NOT_GET:
        send_response(fd, "405 Method Not Allowed", "text/plain", "only GET\n", 9);
        return;
    case METRICS_REQUEST_NOT_FOUND:
        send_response(fd, "404 Not Found", "text/plain", "try /metrics\n", 13);
        return;
    default:
        send_response(fd, "400 Bad Request", "text/plain", "bad request\n", 12);
        return;
    }

    char *body = NULL;
    size_t body_len = 0;
    FILE *out = open_memstream(&body, &body_len);
    if (out == NULL) {
        send_response(fd, "500 Internal Server Error", "text/plain", "no memory\n", 10);
        return;
    }
    ms->render(ms->ctx, out);
    fclose(out);
    send_response(fd, "200 OK", "text/plain; version=0.0.4", body, body_len);
    free(body);
}

static void *server_main(void *arg)
{
    struct metrics_server *ms = arg;
    while (!atomic_load(&ms->stopping)) {
        struct pollfd pfd = { .fd = ms->fd, .events = POLLIN };
        if (poll(&pfd, 1, 200) <= 0) {
            continue;
        }
        int fd = accept4(ms->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        serve_client(ms, fd);
        close(fd);
    }
    return NULL;
}

int metrics_start(const char *address, metrics_render_fn render, void *ctx,
                  struct metrics_server **out, char *err, size_t err_size)
{
    struct metrics_server *ms = calloc(1, sizeof(*ms));
    if (ms == NULL) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    ms->fd = listen_on(address, err, err_size);
    if (ms->fd < 0) {
        int ret = ms->fd;
        free(ms);
        return ret;
    }
    ms->render = render;
    ms->ctx = ctx;
    atomic_init(&ms->stopping, false);

    int ret = pthread_create(&ms->thread, NULL, server_main, ms);
    if (ret != 0) {
        snprintf(err, err_size, "cannot start thread (%s)", strerror(ret));
        close(ms->fd);
        free(ms);
        return -ret;
    }
    *out = ms;
    return 0;
}

void metrics_stop(struct metrics_server *ms)
{
    if (ms == NULL) {
        return;
    }
    atomic_store(&ms->stopping, true);
    pthread_join(ms->thread, NULL);
    close(ms->fd);
    free(ms);
}
