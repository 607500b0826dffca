/* SPDX-License-Identifier: MIT */
/*
 * fuzz_metrics_request.c - libFuzzer target for metrics_request_check(),
 * the request check of the metrics HTTP server.
 *
 * The input is the bytes a client sent. The check must read no byte past
 * the length it is given (the input is copied into a buffer of exactly
 * that size, so AddressSanitizer sees any overread), and its answer must
 * agree with a plain C-string reading of the same bytes: the head ends at
 * the first blank line, a NUL byte makes the request bad, and only
 * "GET /metrics HTTP/1." at the start is served.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same decision, written with the C string functions on a NUL-terminated copy. */
static enum metrics_request reference_check(const char *text, size_t len)
{
    bool complete = strstr(text, "\r\n\r\n") != NULL || strstr(text, "\n\n") != NULL;
    if (strlen(text) != len) {
        /* A NUL byte: bad once a blank line follows anywhere in the bytes. */
        for (size_t i = 0; i + 1 < len && !complete; i++) {
            complete = (text[i] == '\n' && text[i + 1] == '\n') ||
                       (i + 3 < len && memcmp(text + i, "\r\n\r\n", 4) == 0);
        }
        return complete ? METRICS_REQUEST_BAD : METRICS_REQUEST_INCOMPLETE;
    }
    if (!complete) {
        return METRICS_REQUEST_INCOMPLETE;
    }
    if (strncmp(text, "GET ", 4) != 0) {
        return METRICS_REQUEST_NOT_GET;
    }
    if (strncmp(text + 4, "/metrics HTTP/1.", 16) != 0) {
        return METRICS_REQUEST_NOT_FOUND;
    }
    return METRICS_REQUEST_METRICS;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > METRICS_REQUEST_MAX) {
        return 0;
    }
    char *exact = malloc(size > 0 ? size : 1);
    char *text = malloc(size + 1);
    if (exact == NULL || text == NULL) {
        abort();
    }
    memcpy(exact, data, size);
    memcpy(text, data, size);
    text[size] = '\0';

    enum metrics_request got = metrics_request_check(exact, size);
    enum metrics_request expected = reference_check(text, size);
    if (got != expected) {
        fprintf(stderr, "metrics request: check returns %d, reference %d\n", (int)got,
                (int)expected);
        abort();
    }
    free(exact);
    free(text);
    return 0;
}
