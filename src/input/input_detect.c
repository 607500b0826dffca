/* SPDX-License-Identifier: MIT */
#include "input/input_detect.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * A Frame Streams file starts with a zero 32-bit escape, the control frame
 * length, then the control type START (2), all big-endian. No pcap or
 * pcapng magic number starts with four zero bytes.
 */
enum input_kind input_detect_file(const char *path)
{
    /* Standard input cannot be peeked at without consuming it. */
    if (strcmp(path, "-") == 0) {
        return INPUT_KIND_PCAP;
    }
    uint8_t head[12];
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return INPUT_KIND_PCAP;
    }
    size_t n = fread(head, 1, sizeof(head), fp);
    fclose(fp);
    if (n < sizeof(head)) {
        return INPUT_KIND_PCAP;
    }

    uint32_t escape = (uint32_t)head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3];
    uint32_t type = (uint32_t)head[8] << 24 | head[9] << 16 | head[10] << 8 | head[11];
    if (escape == 0 && type == 2) {
        return INPUT_KIND_DNSTAP;
    }
    return INPUT_KIND_PCAP;
}
