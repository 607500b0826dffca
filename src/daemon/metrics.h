/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - a Prometheus text endpoint on a small HTTP server thread.
 *
 * The server answers "GET /metrics" (HTTP/1.0 or 1.1) with the text that a
 * render callback writes, one request per connection, then closes. Anything
 * else gets 404, 405 or 400. A request must arrive whole within
 * METRICS_REQUEST_MAX bytes and one second, so a slow or large client
 * cannot hold the thread.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

#define METRICS_REQUEST_MAX 2048
#define METRICS_DEFAULT_HOST "127.0.0.1"

/* Write the metrics text to @p out. Called on the server thread. */
typedef void (*metrics_render_fn)(void *ctx, FILE *out);

struct metrics_server;

/*
 * Listen on @p address ("PORT", "HOST:PORT" or "[IPV6]:PORT") and start the
 * server thread. Returns 0, or a negative code with the reason in @p err.
 */
int metrics_start(const char *address, metrics_render_fn render, void *ctx,
                  struct metrics_server **out, char *err, size_t err_size);

/* Stop the thread and close the socket. NULL is allowed. */
void metrics_stop(struct metrics_server *ms);

/* What a request head asks for, as metrics_request_check() reads it. */
enum metrics_request {
    METRICS_REQUEST_INCOMPLETE,  /* no blank line that ends the head yet */
    METRICS_REQUEST_METRICS,     /* GET /metrics HTTP/1.x: 200 */
    METRICS_REQUEST_BAD,         /* a NUL byte in the head: 400 */
    METRICS_REQUEST_NOT_GET,     /* 405 */
    METRICS_REQUEST_NOT_FOUND,   /* another path or protocol: 404 */
};

/* Classify the first @p len bytes received, @p buf, of a request. No I/O. */
enum metrics_request metrics_request_check(const char *buf, size_t len);
