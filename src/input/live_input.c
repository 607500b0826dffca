/* SPDX-License-Identifier: MIT */
#include "input/live_input.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/error.h"

struct live_input {
    pcap_t *pcap;
    uint32_t input_index;
    uint64_t packets;          /* packets delivered so far */
    int link_type;
    live_packet_fn fn;         /* set during a dispatch */
    void *ctx;
    struct pcap_stat last;     /* last 32-bit counters, for widening */
    struct live_stats totals;
};

static int fail(const struct live_options *o, pcap_t *p, char *err, size_t err_size,
                const char *what, const char *reason)
{
    snprintf(err, err_size, "%s: %s (%s)", o->interface, what, reason);
    if (p != NULL) {
        pcap_close(p);
    }
    return DF_EPCAP;
}

/* pcap_set_* calls that can only fail on an already active handle are not checked. */
static pcap_t *create_handle(const struct live_options *o, char *err, size_t err_size)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(o->interface, pcap_err);
    if (p == NULL) {
        fail(o, NULL, err, err_size, "cannot open interface", pcap_err);
        return NULL;
    }
    pcap_set_snaplen(p, (int)o->snaplen);
    pcap_set_promisc(p, o->promiscuous ? 1 : 0);
    pcap_set_timeout(p, LIVE_BLOCK_TIMEOUT_MS);
    pcap_set_buffer_size(p, (int)(o->buffer_mib * 1024u * 1024u));
    if (pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) != 0) {
        fail(o, p, err, err_size, "cannot set nanosecond time stamps", pcap_geterr(p));
        return NULL;
    }
    return p;
}

static int activate(const struct live_options *o, pcap_t *p, char *err, size_t err_size)
{
    int ret = pcap_activate(p);
    if (ret < 0) {
        const char *detail = pcap_geterr(p);
        if (detail[0] == '\0') {
            detail = pcap_statustostr(ret);
        }
        return fail(o, p, err, err_size, "cannot start capture", detail);
    }
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    if (pcap_setnonblock(p, 1, pcap_err) != 0) {
        return fail(o, p, err, err_size, "cannot set non-blocking mode", pcap_err);
    }
    return 0;
}

static int set_filter(const struct live_options *o, pcap_t *p, char *err, size_t err_size)
{
    if (o->filter == NULL || o->filter[0] == '\0') {
        return 0;
    }
    struct bpf_program prog;
    if (pcap_compile(p, &prog, o->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        return fail(o, p, err, err_size, "invalid bpf-filter", pcap_geterr(p));
    }
    int ret = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (ret != 0) {
        return fail(o, p, err, err_size, "cannot set bpf-filter", pcap_geterr(p));
    }
    return 0;
}

/* Join the fanout group: flow hash, fragments reassembled first. */
static int join_fanout(const struct live_options *o, pcap_t *p, char *err, size_t err_size)
{
    if (o->fanout_group == 0) {
        return 0;
    }
    /* The kernel reads the group id from the low 16 bits and type and flags above. */
    uint32_t mode = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG;
    int arg = (int)((uint32_t)o->fanout_group | mode << 16);
    if (setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
        return fail(o, p, err, err_size, "cannot join PACKET_FANOUT group", strerror(errno));
    }
    return 0;
}

int live_input_open(const struct live_options *o, struct live_input **out, char *err,
                    size_t err_size)
{
    struct live_input *in = calloc(1, sizeof(*in));
    if (in == NULL) {
        snprintf(err, err_size, "%s: out of memory", o->interface);
        return -ENOMEM;
    }

    pcap_t *p = create_handle(o, err, err_size);
    int ret = p != NULL ? activate(o, p, err, err_size) : DF_EPCAP;
    if (ret == 0) {
        ret = set_filter(o, p, err, err_size);
    }
    if (ret == 0) {
        ret = join_fanout(o, p, err, err_size);
    }
    if (ret != 0) {
        free(in);
        return ret;
    }

    in->pcap = p;
    in->input_index = o->input_index;
    in->link_type = pcap_datalink(p);
    *out = in;
    return 0;
}

void live_input_close(struct live_input *in)
{
    if (in == NULL) {
        return;
    }
    pcap_close(in->pcap);
    free(in);
}

int live_input_fd(const struct live_input *in)
{
    return pcap_get_selectable_fd(in->pcap);
}

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
    struct live_input *in = (struct live_input *)user;
    in->packets++;

    struct packet pkt;
    memset(&pkt, 0, sizeof(pkt));
    pkt.link_type = in->link_type;
    pkt.data = data;
    pkt.caplen = hdr->caplen;
    pkt.wire_len = hdr->len;
    pkt.ts_sec = hdr->ts.tv_sec;
    pkt.ts_nsec = (uint32_t)hdr->ts.tv_usec; /* nanoseconds: precision set to NANO */
    pkt.origin.input_index = in->input_index;
    pkt.origin.packet_number = in->packets;
    in->fn(in->ctx, &pkt);
}

int live_input_dispatch(struct live_input *in, live_packet_fn fn, void *ctx, char *err,
                        size_t err_size)
{
    in->fn = fn;
    in->ctx = ctx;
    int n = pcap_dispatch(in->pcap, -1, on_packet, (u_char *)in);
    if (n == PCAP_ERROR_BREAK) {
        return 0;
    }
    if (n < 0) {
        snprintf(err, err_size, "capture failed (%s)", pcap_geterr(in->pcap));
        return DF_EPCAP;
    }
    return n;
}

int live_input_stats(struct live_input *in, struct live_stats *out)
{
    struct pcap_stat now;
    if (pcap_stats(in->pcap, &now) != 0) {
        return DF_EPCAP;
    }

    /* Unsigned 32-bit differences stay right across one wrap between calls. */
    in->totals.received += (uint32_t)(now.ps_recv - in->last.ps_recv);
    in->totals.dropped += (uint32_t)(now.ps_drop - in->last.ps_drop);
    in->totals.if_dropped += (uint32_t)(now.ps_ifdrop - in->last.ps_ifdrop);
    in->last = now;
    *out = in->totals;
    return 0;
}

void live_filter_default(const uint16_t *ports, size_t count, char *buf, size_t size)
{
    char port_expr[512]; /* 32 ports of "port 65535 or " fit */
    size_t len = 0;
    port_expr[0] = '\0';
    for (size_t i = 0; i < count && len < sizeof(port_expr); i++) {
        int n = snprintf(port_expr + len, sizeof(port_expr) - len, "%sport %u",
                         i > 0 ? " or " : "", (unsigned)ports[i]);
        len += n > 0 ? (size_t)n : 0;
    }

    /* "vlan" shifts the offsets of everything after it, so it comes last. */
    snprintf(buf, size,
             "(%s) or (ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44) "
             "or (vlan and (%s))",
             port_expr, port_expr);
}
