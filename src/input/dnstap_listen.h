/* SPDX-License-Identifier: MIT */
/*
 * dnstap_listen.h - accept dnstap from DNS servers over Frame Streams.
 *
 * The server owns the listening sockets (it creates unix sockets, replacing
 * a stale one, with mode 0666 so that servers which drop privileges can
 * connect) and up to DNSTAP_CONNECTIONS_MAX connections at once, all
 * non-blocking on one epoll set. Each connection does the Frame Streams
 * handshake: a bidirectional sender (READY, then START after our ACCEPT,
 * FINISH after its STOP) or a unidirectional one (START only), both with
 * content type "protobuf:dnstap.Dnstap".
 *
 * libfstrm's reader API blocks on one file descriptor, so it cannot serve
 * several servers from one thread; this module reads the bytes itself and
 * uses libfstrm only to decode and encode control frames.
 *
 * Per-connection memory is bounded: the read buffer grows to one frame of
 * at most DNSTAP_FRAME_MAX bytes. A larger frame, a protocol violation or a
 * frame the data callback rejects closes that connection only. A partial
 * frame left at a disconnect is dropped. The module does no logging: it
 * reports connections, closes and errors through the event callback.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "input/dnstap_endpoint.h"
#include "input/dnstap_message.h"

#define DNSTAP_CONNECTIONS_MAX 64

enum dnstap_event {
    DNSTAP_EVENT_LISTENING, /* peer is the endpoint text */
    DNSTAP_EVENT_CONNECTED,
    DNSTAP_EVENT_CLOSED,    /* the sender ended; reason says how */
    DNSTAP_EVENT_ERROR,     /* we closed the connection; reason says why */
    DNSTAP_EVENT_REJECTED,  /* closed at once: DNSTAP_CONNECTIONS_MAX reached */
};

struct dnstap_server_callbacks {
    /*
     * One data frame from a connection to endpoint @p endpoint. Returns 0,
     * or a negative code with the reason in @p err to close the connection.
     */
    int (*frame)(void *ctx, size_t endpoint, const uint8_t *data, size_t len, char *err,
                 size_t err_size);
    /* A connection event; @p reason is NULL when there is nothing to add. */
    void (*event)(void *ctx, size_t endpoint, enum dnstap_event event, const char *peer,
                  const char *reason);
    void *ctx;
    struct dnstap_counters *counters; /* connections and frames are counted here */
};

struct dnstap_server;

/*
 * Listen on every endpoint of @p endpoints. Returns 0, or a negative code
 * with "ENDPOINT: reason" in @p err and nothing left open.
 */
int dnstap_server_open(const struct dnstap_endpoint *endpoints, size_t count,
                       const struct dnstap_server_callbacks *cb, struct dnstap_server **out,
                       char *err, size_t err_size);

/*
 * Wait up to @p timeout_ms for traffic and handle what arrived: accept
 * connections, read frames, call the callbacks. Returns 0 (also when a
 * signal interrupted the wait) or -errno when epoll itself failed.
 */
int dnstap_server_poll(struct dnstap_server *srv, int timeout_ms);

/* Close every connection and listening socket, and remove the unix sockets it created. */
void dnstap_server_close(struct dnstap_server *srv);
