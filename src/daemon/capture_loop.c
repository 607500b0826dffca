/* SPDX-License-Identifier: MIT */
#include "daemon/capture_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/dnstap_loop.h"
#include "input/input_detect.h"
#include "input/pcap_input.h"
#include "util/error.h"
#include "util/log.h"

volatile sig_atomic_t capture_stop_requested = 0;

static capture_between_fn between_packets;
static void *between_packets_ctx;

void capture_set_between_packets(capture_between_fn fn, void *ctx)
{
    between_packets = fn;
    between_packets_ctx = ctx;
}

static volatile sig_atomic_t hangup_requested = 0;
static capture_between_fn on_hangup;
static void *on_hangup_ctx;

void capture_set_hangup(capture_between_fn fn, void *ctx)
{
    on_hangup = fn;
    on_hangup_ctx = ctx;
}

static void on_stop_signal(int sig)
{
    (void)sig;
    capture_stop_requested = 1;
}

static void on_hangup_signal(int sig)
{
    (void)sig;
    hangup_requested = 1;
}

void capture_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sa.sa_handler = on_hangup_signal;
    sigaction(SIGHUP, &sa, NULL);
}

void capture_service(void)
{
    if (hangup_requested) {
        hangup_requested = 0;
        if (on_hangup != NULL) {
            on_hangup(on_hangup_ctx);
        }
    }
    if (between_packets != NULL) {
        between_packets(between_packets_ctx);
    }
}

/* Wraps the caller's callback to count queries and responses on the way. */
struct counting_emit {
    decoder_emit_fn emit;
    capture_prefetch_fn prefetch;
    void *ctx;
    struct capture_counters *counters;
    struct decoder *decoder;
};

static void count_and_emit(void *ctx, const struct dns_message *msg)
{
    struct counting_emit *ce = ctx;
    ce->counters->messages++;
    if (dns_message_is_response(msg)) {
        ce->counters->responses++;
    } else {
        ce->counters->queries++;
    }
    ce->emit(ce->ctx, msg);
}

static void on_packet(void *arg, const struct packet *pkt)
{
    struct counting_emit *ce = arg;
    ce->counters->packets++;
    capture_service();
    enum decode_skip skip = decoder_packet(ce->decoder, pkt, count_and_emit, ce);
    ce->counters->skipped[skip]++;
}

/* Prefetch for a query read ahead. Returns false to pause the read-ahead. */
static bool on_ahead(void *arg, const struct packet *pkt)
{
    struct counting_emit *ce = arg;
    struct addr client;
    struct addr server;
    if (!decoder_peek_query(ce->decoder, pkt, &client, &server)) {
        return true;
    }
    return ce->prefetch(ce->ctx, &client, &server);
}

static void on_read_error(void *arg, const char *message)
{
    struct counting_emit *ce = arg;
    log_err("input, %s; continuing with the other files", message);
    ce->counters->read_errors++;
}

struct decoder *capture_create_decoder(const struct config *cfg)
{
    struct decoder_config dc;
    memset(&dc, 0, sizeof(dc));
    for (size_t i = 0; i < cfg->dns_port_count; i++) {
        decoder_config_add_port(&dc, cfg->dns_ports[i]);
    }
    for (size_t i = 0; i < cfg->doh_server_count; i++) {
        dc.doh_servers[dc.doh_server_count++] = cfg->doh_servers[i];
    }
    return decoder_create(&dc);
}

/*
 * Tell whether the -r files are all captures or all dnstap. Returns the
 * kind, or DF_EUSAGE (logged) when they mix.
 */
static int inputs_kind(const struct config *cfg)
{
    size_t dnstap = 0;
    for (size_t i = 0; i < cfg->input_count; i++) {
        if (input_detect_file(cfg->inputs[i]) == INPUT_KIND_DNSTAP) {
            dnstap++;
        }
    }
    if (dnstap > 0 && dnstap < cfg->input_count) {
        log_err("input, %zu of the %zu files are dnstap and the others captures; "
                "read them in separate runs", dnstap, cfg->input_count);
        return DF_EUSAGE;
    }
    return dnstap > 0 ? INPUT_KIND_DNSTAP : INPUT_KIND_PCAP;
}

int capture_loop_run(const struct config *cfg, decoder_emit_fn emit,
                     capture_prefetch_fn prefetch, void *ctx,
                     struct capture_counters *counters)
{
    int kind = inputs_kind(cfg);
    if (kind < 0) {
        return kind;
    }
    if (kind == INPUT_KIND_DNSTAP) {
        return dnstap_loop_read_files(cfg, emit, ctx, counters);
    }

    char err[1024];
    struct pcap_input *in = NULL;
    int ret = pcap_input_open(cfg->inputs, cfg->input_count, &in, err, sizeof(err));
    if (ret != 0) {
        log_err("input, %s", err);
        return ret;
    }
    struct decoder *dec = capture_create_decoder(cfg);
    if (dec == NULL) {
        log_err("decoder, out of memory");
        pcap_input_close(in);
        return -ENOMEM;
    }

    struct counting_emit ce = { emit, prefetch, ctx, counters, dec };
    struct pcap_input_handlers handlers = {
        .on_packet = on_packet,
        .on_ahead = prefetch != NULL ? on_ahead : NULL,
        .on_error = on_read_error,
        .ctx = &ce,
    };
    pcap_input_run(in, &handlers, &capture_stop_requested);
    if (capture_stop_requested) {
        log_notice("input, stopped by signal after %llu packets",
                   (unsigned long long)counters->packets);
    }

    counters->decoder = *decoder_counters(dec);
    decoder_destroy(dec);
    pcap_input_close(in);
    return 0;
}
