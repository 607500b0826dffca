/* SPDX-License-Identifier: MIT */
/* input_detect.h - tell a capture file from a dnstap file by its first bytes. */
#pragma once

enum input_kind {
    INPUT_KIND_PCAP = 0, /* pcap or pcapng, or anything libpcap should judge */
    INPUT_KIND_DNSTAP,   /* Frame Streams: escape, control length, START */
};

/*
 * Look at the first bytes of @p path. A file that cannot be read, or is too
 * short to tell, counts as INPUT_KIND_PCAP so that libpcap reports the error.
 */
enum input_kind input_detect_file(const char *path);
