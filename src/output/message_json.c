/* SPDX-License-Identifier: MIT */
/*
 * message_json.c - one decoded DNS message as a JSON line, for
 * "dnsfirst decode", plus the ECS fields that alerts reuse.
 */
#include "output/alert.h"
#include "output/ecs_fields.h"

#include "decode/dns_text.h"
#include "util/timefmt.h"

/* Header flags in the order ECS lists them for dns.header_flags. */
static const struct {
    uint16_t bit;
    const char *name;
} header_flag_names[] = {
    { DNS_FLAG_AA, "AA" }, { DNS_FLAG_TC, "TC" }, { DNS_FLAG_RD, "RD" },
    { DNS_FLAG_RA, "RA" }, { DNS_FLAG_AD, "AD" }, { DNS_FLAG_CD, "CD" },
};

void ecs_write_timestamp(struct json_writer *w, int64_t sec, uint32_t nsec)
{
    char text[TIMEFMT_RFC3339_MAX];
    if (timefmt_rfc3339(sec, nsec, text, sizeof(text)) > 0) {
        json_writer_member_string(w, "@timestamp", text);
    }
}

static void write_endpoint(struct json_writer *w, const char *key, const struct addr *a,
                           uint16_t port, ecs_extra_fn extra, const void *ctx)
{
    char text[ADDR_TEXT_MAX];
    bool has_ip = addr_format(a, text, sizeof(text)) > 0;
    if (!has_ip && port == 0 && extra == NULL) {
        return;
    }

    /* Port 0 is not a valid UDP or TCP port, so it means unknown. */
    json_writer_member_object_begin(w, key);
    if (has_ip) {
        json_writer_member_string(w, "ip", text);
    }
    if (port != 0) {
        json_writer_member_uint(w, "port", port);
    }
    if (extra != NULL) {
        extra(w, ctx);
    }
    json_writer_object_end(w);
}

/*
 * network.transport: the DNS transport, as precise as the input knows it.
 * ECS means the IP protocol here, which "udp" and "tcp" are; the encrypted
 * transports that a dnstap server reports keep their own names ("dot",
 * "doh", "dnscrypt", "doq") because the IP protocol alone would hide them.
 */
static const char *transport_name(uint8_t transport)
{
    switch (transport) {
    case DNS_TRANSPORT_TCP:
        return "tcp";
    case DNS_TRANSPORT_DOT:
        return "dot";
    case DNS_TRANSPORT_DOH:
        return "doh";
    case DNS_TRANSPORT_DNSCRYPT_UDP:
    case DNS_TRANSPORT_DNSCRYPT_TCP:
        return "dnscrypt";
    case DNS_TRANSPORT_DOQ:
        return "doq";
    default:
        return "udp";
    }
}

void ecs_write_endpoints(struct json_writer *w, const struct dns_message *m)
{
    ecs_write_endpoints_with(w, m, NULL, NULL);
}

void ecs_write_endpoints_with(struct json_writer *w, const struct dns_message *m,
                              ecs_extra_fn source_extra, const void *ctx)
{
    write_endpoint(w, "source", &m->src, m->sport, source_extra, ctx);
    write_endpoint(w, "destination", &m->dst, m->dport, NULL, NULL);

    json_writer_member_object_begin(w, "network");
    json_writer_member_string(w, "transport", transport_name(m->transport));
    if (m->src.family == ADDR_FAMILY_IPV4) {
        json_writer_member_string(w, "type", "ipv4");
    } else if (m->src.family == ADDR_FAMILY_IPV6) {
        json_writer_member_string(w, "type", "ipv6");
    }
    json_writer_member_string(w, "protocol", "dns");
    json_writer_object_end(w);
}

void ecs_write_header_flags(struct json_writer *w, const struct dns_message *m)
{
    json_writer_key(w, "header_flags");
    json_writer_array_begin(w);
    size_t count = sizeof(header_flag_names) / sizeof(header_flag_names[0]);
    for (size_t i = 0; i < count; i++) {
        if ((m->flags & header_flag_names[i].bit) != 0) {
            json_writer_string(w, header_flag_names[i].name);
        }
    }
    if (m->edns.present && m->edns.do_bit) {
        json_writer_string(w, "DO");
    }
    json_writer_array_end(w);
}

void ecs_write_question(struct json_writer *w, const struct dns_message *m)
{
    if (!m->has_question) {
        return;
    }
    char name[DNS_NAME_TEXT_MAX];
    char type_buf[16];
    char class_buf[16];
    dns_name_format(m->qname, m->qname_len, name, sizeof(name));

    json_writer_member_object_begin(w, "question");
    json_writer_member_string(w, "name", name);
    json_writer_member_string(w, "type", dns_type_name(m->qtype, type_buf));
    json_writer_member_string(w, "class", dns_class_name(m->qclass, class_buf));
    json_writer_object_end(w);
}

void ecs_write_op_code(struct json_writer *w, const struct dns_message *m)
{
    char buf[16];
    json_writer_member_string(w, "op_code", dns_opcode_name(DNS_OPCODE(m->flags), buf));
}

void ecs_write_response_code(struct json_writer *w, unsigned rcode)
{
    char buf[16];
    json_writer_member_string(w, "response_code", dns_rcode_name(rcode, buf));
}

void ecs_write_input(struct json_writer *w, const char *input_name,
                     const struct dns_message *m)
{
    /* Packet numbers start at 1, so 0 means the input has none. */
    uint64_t packet = m->origin.packet_number;
    if (input_name == NULL && packet == 0) {
        return;
    }
    json_writer_member_object_begin(w, "input");
    if (input_name != NULL) {
        json_writer_member_string(w, "name", input_name);
    }
    if (packet != 0) {
        json_writer_member_uint(w, "packet", packet);
    }
    json_writer_object_end(w);
}

void ecs_write_tunnel(struct json_writer *w, const struct dns_message *m)
{
    static const char *const names[] = {
        [DNS_TUNNEL_IPIP] = "ipip",     [DNS_TUNNEL_GRE] = "gre",
        [DNS_TUNNEL_ERSPAN] = "erspan", [DNS_TUNNEL_VXLAN] = "vxlan",
        [DNS_TUNNEL_GENEVE] = "geneve", [DNS_TUNNEL_TEREDO] = "teredo",
    };
    const struct dns_tunnel_info *t = &m->tunnel;
    if (t->type == DNS_TUNNEL_NONE || t->type >= sizeof(names) / sizeof(names[0])) {
        return;
    }
    char outer_src[ADDR_TEXT_MAX];
    char outer_dst[ADDR_TEXT_MAX];
    addr_format(&t->outer_src, outer_src, sizeof(outer_src));
    addr_format(&t->outer_dst, outer_dst, sizeof(outer_dst));

    json_writer_member_object_begin(w, "tunnel");
    json_writer_member_string(w, "type", names[t->type]);
    json_writer_member_uint(w, "depth", t->depth);
    json_writer_member_string(w, "outer_source_ip", outer_src);
    json_writer_member_string(w, "outer_destination_ip", outer_dst);
    json_writer_object_end(w);
}

static void write_edns(struct json_writer *w, const struct dns_edns *edns)
{
    if (!edns->present) {
        return;
    }
    json_writer_member_object_begin(w, "edns");
    json_writer_member_uint(w, "udp_size", edns->udp_size);
    json_writer_member_uint(w, "version", edns->version);
    json_writer_member_bool(w, "do", edns->do_bit);
    if (edns->has_client_subnet) {
        char subnet[ADDR_TEXT_MAX];
        prefix_format(&edns->client_subnet, subnet, sizeof(subnet));
        json_writer_member_string(w, "client_subnet", subnet);
    }
    json_writer_object_end(w);
}

static void write_dns(struct json_writer *w, const struct dns_message *m)
{
    bool response = dns_message_is_response(m);

    json_writer_member_object_begin(w, "dns");
    json_writer_member_uint(w, "id", m->id);
    json_writer_member_string(w, "type", response ? "answer" : "query");
    ecs_write_op_code(w, m);
    ecs_write_header_flags(w, m);
    ecs_write_question(w, m);
    if (response) {
        ecs_write_response_code(w, dns_message_rcode(m));
        json_writer_member_uint(w, "answers_count", m->ancount);
    }
    json_writer_member_uint(w, "questions_count", m->qdcount);
    json_writer_member_uint(w, "authorities_count", m->nscount);
    json_writer_member_uint(w, "additionals_count", m->arcount);
    write_edns(w, &m->edns);
    json_writer_object_end(w);
}

size_t message_json_format(const struct dns_message *m, const char *input_name, char *buf,
                           size_t size)
{
    struct json_writer w;
    json_writer_init(&w, buf, size);

    json_writer_object_begin(&w);
    ecs_write_timestamp(&w, m->ts_sec, m->ts_nsec);
    ecs_write_endpoints(&w, m);
    write_dns(&w, m);

    /* Everything under "dnsfirst" is provenance, so it may be absent. */
    if (input_name != NULL || m->origin.packet_number != 0 ||
        m->tunnel.type != DNS_TUNNEL_NONE) {
        json_writer_member_object_begin(&w, "dnsfirst");
        ecs_write_input(&w, input_name, m);
        ecs_write_tunnel(&w, m);
        json_writer_object_end(&w);
    }

    json_writer_object_end(&w);
    return json_writer_finish(&w);
}
