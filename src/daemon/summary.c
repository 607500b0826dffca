/* SPDX-License-Identifier: MIT */
#include "daemon/summary.h"

static void line(FILE *out, const char *label, uint64_t value)
{
    fprintf(out, "  %-32s %llu\n", label, (unsigned long long)value);
}

/* dnstap: connections, frames, messages by type and by what became of them. */
static void print_dnstap(FILE *out, const struct dnstap_counters *d)
{
    line(out, "dnstap connections", d->connections);
    line(out, "dnstap connections rejected", d->connections_rejected);
    line(out, "dnstap connection errors", d->connection_errors);
    line(out, "dnstap file errors", d->file_errors);
    line(out, "dnstap partial frames dropped", d->partial_frames);
    line(out, "dnstap control frames", d->control_frames);
    line(out, "dnstap data frames", d->data_frames);
    for (unsigned t = 0; t < DNSTAP_TYPE_COUNT; t++) {
        if (d->types[t] > 0) {
            char label[64];
            snprintf(label, sizeof(label), "dnstap type %s", dnstap_type_name(t));
            line(out, label, d->types[t]);
        }
    }
    for (int r = 0; r < DNSTAP_RESULT_COUNT; r++) {
        char label[64];
        snprintf(label, sizeof(label), "dnstap %s", dnstap_result_name((enum dnstap_result)r));
        line(out, label, d->results[r]);
    }
}

/* Reassembly and tunnel counters, printed only where something happened. */
static void print_decoder(FILE *out, const struct decoder_counters *d)
{
    if (d->fragments > 0) {
        line(out, "ip fragments", d->fragments);
        line(out, "ip datagrams reassembled", d->fragments_reassembled);
        line(out, "ip datagrams evicted", d->fragments_evicted);
        line(out, "ip datagrams timed out", d->fragments_timed_out);
        line(out, "ip datagrams overlapping", d->fragments_overlapping);
        line(out, "ip fragments invalid", d->fragments_invalid);
    }
    if (d->tcp_flows > 0) {
        line(out, "tcp flows", d->tcp_flows);
        line(out, "tcp messages", d->tcp_messages);
        line(out, "tcp flows evicted", d->tcp_flows_evicted);
        line(out, "tcp flows timed out", d->tcp_flows_timed_out);
        line(out, "tcp flows closed", d->tcp_flows_closed);
        line(out, "tcp bytes dropped", d->tcp_bytes_dropped);
        line(out, "tcp segments retransmitted", d->tcp_retransmitted);
        line(out, "tcp gaps", d->tcp_gaps);
        line(out, "tcp partial messages dropped", d->tcp_buffers_taken);
    }
    if (d->tunnels + d->tunnels_too_deep + d->dot_handshakes + d->doh_handshakes > 0) {
        line(out, "tunnel headers removed", d->tunnels);
        line(out, "tunnels too deep", d->tunnels_too_deep);
        line(out, "dot handshakes", d->dot_handshakes);
        line(out, "doh handshakes", d->doh_handshakes);
    }
}

void summary_print_capture(FILE *out, const struct capture_counters *c)
{
    fprintf(out, "dnsfirst summary\n");
    line(out, "packets", c->packets);
    line(out, "dns messages", c->messages);
    line(out, "dns queries", c->queries);
    line(out, "dns responses", c->responses);
    for (int r = DECODE_SKIP_NOT_DNS; r < DECODE_SKIP_COUNT; r++) {
        char label[64];
        snprintf(label, sizeof(label), "skipped %s", decode_skip_name((enum decode_skip)r));
        line(out, label, c->skipped[r]);
    }
    if (c->read_errors > 0) {
        line(out, "capture read errors", c->read_errors);
    }
    print_decoder(out, &c->decoder);
    if (c->dnstap.used > 0) {
        print_dnstap(out, &c->dnstap);
    }
}

void summary_print_detection(FILE *out, const struct detector_stats *d,
                             const struct store_counters *s)
{
    if (d != NULL) {
        line(out, "queries from internal", d->queries_internal);
        line(out, "queries not to a dns port", d->queries_not_to_server);
        line(out, "clients loaded", d->clients_loaded);
        line(out, "clients seen", d->clients_seen);
        line(out, "clients learned", d->clients_learned);
        if (d->clients_learned > 0 && d->clients_new == 0) {
            /* The stats do not tell a --learn run from a learning period, so name both. */
            fprintf(out, "  (learned: first seen in a run with --learn, or within their scope's "
                         "learning period, see --learning-period)\n");
        }
        line(out, "new clients", d->clients_new);
        if (d->clients_storm > 0) {
            fprintf(out, "  (not counted as new: %llu storm clients, reported in %llu "
                         "aggregated storm alerts, see --storm-threshold)\n",
                    (unsigned long long)d->clients_storm, (unsigned long long)d->storm_alerts);
        }
        line(out, "clients expired", d->clients_expired);
        line(out, "responses matched to alerts", d->responses_matched);
        if (d->table_full + d->scope_full + d->pending_evicted + d->store_errors > 0) {
            line(out, "dropped: client table full", d->table_full);
            line(out, "dropped: too many scopes", d->scope_full);
            line(out, "alerts sent before response", d->pending_evicted);
            line(out, "store errors", d->store_errors);
        }
    }
    if (s != NULL) {
        line(out, "alerts", s->alerts_written);
        line(out, "alerts replayed from outbox", s->outbox_replayed);
        line(out, "baseline rows committed", s->rows_committed);
        line(out, "baseline changes merged", s->changes_merged);
        line(out, "store queue full waits", s->queue_full_waits);
        line(out, "baseline checkpoints", s->checkpoints);
    }
}
