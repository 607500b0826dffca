/* SPDX-License-Identifier: MIT */
/*
 * floor.c - the cost of reading a capture with libpcap and doing nothing.
 *
 * Any tool that reads pcap files through libpcap pays at least this much, so
 * the benchmark reports every tool's time as a multiple of this floor.
 * Prints the packet count on standard output.
 */
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

static void packet_ignore(u_char *user, const struct pcap_pkthdr *header,
                          const u_char *bytes)
{
    (void)user;
    (void)header;
    (void)bytes;
}

int main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE];

    if (argc != 2) {
        fprintf(stderr, "usage: floor FILE\n");
        return 2;
    }

    pcap_t *p = pcap_open_offline(argv[1], errbuf);
    if (p == NULL) {
        fprintf(stderr, "floor: cannot open '%s' (%s)\n", argv[1], errbuf);
        return 1;
    }

    /* pcap_dispatch returns the packets it handled, 0 at end of file. */
    uint64_t packets = 0;
    int n;
    while ((n = pcap_dispatch(p, -1, packet_ignore, NULL)) > 0) {
        packets += (uint64_t)n;
    }
    if (n < 0) {
        fprintf(stderr, "floor: cannot read '%s' (%s)\n", argv[1], pcap_geterr(p));
        pcap_close(p);
        return 1;
    }

    pcap_close(p);
    printf("%" PRIu64 "\n", packets);
    return 0;
}
