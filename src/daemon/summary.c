/* SPDX-License-Identifier: MIT */
#include "daemon/summary.h"

static void line(FILE *out, const char *label, uint64_t value)
{
    fprintf(out, "  %-32s %llu\n", label, (unsigned long long)value);
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
        line(out, "new clients", d->clients_new);
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
        line(out, "store queue full waits", s->queue_full_waits);
    }
}
