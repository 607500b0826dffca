/* SPDX-License-Identifier: MIT */
/* summary.h - the end-of-run summary on standard error. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "decode/decoder.h"
#include "detect/detector.h"
#include "input/dnstap_message.h"
#include "store/store.h"

/* What the packet loop counted. */
struct capture_counters {
    uint64_t packets;
    uint64_t messages;           /* DNS messages decoded */
    uint64_t queries;
    uint64_t responses;
    uint64_t skipped[DECODE_SKIP_COUNT];
    uint64_t read_errors;        /* capture files that ended in an error */
    struct dnstap_counters dnstap; /* dnstap files and sockets; printed when used */
    struct decoder_counters decoder; /* reassembly, tunnels, handshakes */
};

/* Print the capture part: packets, messages, skips by reason. */
void summary_print_capture(FILE *out, const struct capture_counters *c);

/* Print the detection and baseline part. Either pointer may be NULL. */
void summary_print_detection(FILE *out, const struct detector_stats *d,
                             const struct store_counters *s);
