/* SPDX-License-Identifier: MIT */
#include "daemon/dnstap_loop.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/capture_loop.h"
#include "input/dnstap_file.h"
#include "input/dnstap_listen.h"
#include "input/dnstap_message.h"
#include "util/error.h"
#include "util/log.h"

#define NS_PER_SEC 1000000000LL

struct dnstap_run {
    decoder_emit_fn emit;
    void *ctx;
    struct capture_counters *counters;
    uint64_t frame_numbers[CONFIG_INPUTS_MAX]; /* data frames per input, for packet numbers */
};

/* Decode one data frame and pass queries and responses on. Returns 0 or -EBADMSG. */
static int process_frame(struct dnstap_run *run, size_t input, const uint8_t *data, size_t len)
{
    struct capture_counters *c = run->counters;
    struct dns_message msg;
    unsigned type = 0;
    enum dnstap_result result = dnstap_message_decode(data, len, &msg, &type);
    c->packets++;
    c->dnstap.types[type]++;
    c->dnstap.results[result]++;
    uint64_t number = ++run->frame_numbers[input];
    if (result == DNSTAP_RESULT_BAD_PROTOBUF) {
        return -EBADMSG;
    }
    if (result != DNSTAP_RESULT_QUERY && result != DNSTAP_RESULT_RESPONSE) {
        return 0;
    }

    msg.origin.input_index = (uint32_t)input;
    msg.origin.packet_number = number;
    c->messages++;
    if (result == DNSTAP_RESULT_RESPONSE) {
        c->responses++;
    } else {
        c->queries++;
    }
    run->emit(run->ctx, &msg);
    return 0;
}

/* ---- files ------------------------------------------------------------- */

static void read_file(struct dnstap_run *run, size_t index, const char *path)
{
    char err[1024];
    struct dnstap_file *f = NULL;
    struct capture_counters *c = run->counters;
    int ret = dnstap_file_open(path, &f, err, sizeof(err));
    while (ret == 0 && !capture_stop_requested) {
        const uint8_t *data = NULL;
        size_t len = 0;
        ret = dnstap_file_next(f, &data, &len, err, sizeof(err));
        if (ret != 1) {
            break;
        }
        c->dnstap.data_frames++;
        /* A bad message in a file spoils only itself: count it and go on. */
        ret = 0;
        process_frame(run, index, data, len);
    }
    if (ret < 0) {
        log_err("input, %s; continuing with the other files", err);
        c->read_errors++;
        c->dnstap.file_errors++;
    }
    dnstap_file_close(f);
}

int dnstap_loop_read_files(const struct config *cfg, decoder_emit_fn emit, void *ctx,
                           struct capture_counters *counters)
{
    struct dnstap_run run = { .emit = emit, .ctx = ctx, .counters = counters };
    counters->dnstap.used = cfg->input_count;
    for (size_t i = 0; i < cfg->input_count && !capture_stop_requested; i++) {
        read_file(&run, i, cfg->inputs[i]);
    }
    if (capture_stop_requested) {
        log_notice("input, stopped by signal after %llu dnstap frames",
                   (unsigned long long)counters->packets);
    }
    return 0;
}

/* ---- sockets ----------------------------------------------------------- */

static int on_frame(void *ctx, size_t endpoint, const uint8_t *data, size_t len, char *err,
                    size_t err_size)
{
    struct dnstap_run *run = ctx;
    if (process_frame(run, endpoint, data, len) != 0) {
        snprintf(err, err_size, "malformed dnstap protobuf in a frame of %zu bytes", len);
        return -EBADMSG;
    }
    return 0;
}

static void on_event(void *ctx, size_t endpoint, enum dnstap_event event, const char *peer,
                     const char *reason)
{
    (void)ctx;
    (void)endpoint;
    switch (event) {
    case DNSTAP_EVENT_LISTENING:
        log_notice("dnstap, listening on %s", peer);
        break;
    case DNSTAP_EVENT_CONNECTED:
        log_info("dnstap, %s connected", peer);
        break;
    case DNSTAP_EVENT_CLOSED:
        log_info("dnstap, %s disconnected (%s)", peer, reason != NULL ? reason : "end");
        break;
    case DNSTAP_EVENT_ERROR:
        log_warning("dnstap, closed the connection of %s (%s)", peer,
                    reason != NULL ? reason : "error");
        break;
    case DNSTAP_EVENT_REJECTED:
        log_warning("dnstap, rejected a connection of %s (%s)", peer,
                    reason != NULL ? reason : "error");
        break;
    }
}

static int64_t wall_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int open_server(const struct config *cfg, struct dnstap_run *run,
                       struct dnstap_server **out)
{
    struct dnstap_endpoint endpoints[CONFIG_DNSTAP_MAX];
    char err[512];
    for (size_t i = 0; i < cfg->dnstap_count; i++) {
        /* The config parser already checked every endpoint. */
        if (dnstap_endpoint_parse(cfg->dnstap[i], &endpoints[i], err, sizeof(err)) != 0) {
            log_err("dnstap, %s", err);
            return DF_EUSAGE;
        }
    }
    struct dnstap_server_callbacks cb = {
        .frame = on_frame,
        .event = on_event,
        .ctx = run,
        .counters = &run->counters->dnstap,
    };
    int ret = dnstap_server_open(endpoints, cfg->dnstap_count, &cb, out, err, sizeof(err));
    if (ret != 0) {
        log_err("dnstap, cannot listen on %s", err);
    }
    return ret;
}

int dnstap_loop_listen(const struct config *cfg, decoder_emit_fn emit,
                       dnstap_advance_fn advance, void *ctx,
                       struct capture_counters *counters)
{
    /* A server that closes before our FINISH must not kill the process. */
    signal(SIGPIPE, SIG_IGN);

    struct dnstap_run run = { .emit = emit, .ctx = ctx, .counters = counters };
    struct dnstap_server *srv = NULL;
    counters->dnstap.used = cfg->dnstap_count;
    int ret = open_server(cfg, &run, &srv);
    if (ret != 0) {
        return ret;
    }

    /*
     * Frames carry their own capture time. The wall clock moves the
     * detector on only across a second without frames, so that pending
     * alerts leave on an idle link but a replay of older traffic is not
     * expired under its own feet.
     */
    int64_t next_tick = wall_clock_ns() + NS_PER_SEC;
    uint64_t packets_at_tick = counters->packets;
    while (!capture_stop_requested) {
        int64_t wait_ms = (next_tick - wall_clock_ns()) / 1000000;
        ret = dnstap_server_poll(srv, wait_ms < 0 ? 0 : wait_ms > 1000 ? 1000 : (int)wait_ms);
        if (ret != 0) {
            log_err("dnstap, cannot wait for data (%s)", df_strerror(ret));
            break;
        }
        capture_service();
        int64_t now = wall_clock_ns();
        if (now >= next_tick) {
            if (counters->packets == packets_at_tick) {
                advance(ctx, now - DNSTAP_DELIVERY_LAG_S * NS_PER_SEC);
            }
            packets_at_tick = counters->packets;
            next_tick = now + NS_PER_SEC;
        }
    }
    if (capture_stop_requested) {
        log_notice("dnstap, stopped by signal after %llu frames",
                   (unsigned long long)counters->packets);
    }
    dnstap_server_close(srv);
    return ret;
}

const char *const *dnstap_loop_input_names(const struct config *cfg)
{
    static char names[CONFIG_DNSTAP_MAX][CONFIG_DNSTAP_TEXT_MAX + 8];
    static const char *pointers[CONFIG_DNSTAP_MAX];
    for (size_t i = 0; i < cfg->dnstap_count; i++) {
        snprintf(names[i], sizeof(names[i]), "dnstap:%s", cfg->dnstap[i]);
        pointers[i] = names[i];
    }
    return pointers;
}
