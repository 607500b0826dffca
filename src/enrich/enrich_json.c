/* SPDX-License-Identifier: MIT */
/*
 * enrich_json.c - the enrichment fields of an alert, with ECS names:
 * source.geo.*, source.as.*, source.domain, source.registered_domain,
 * threat.enrichments[] and the dnsfirst.business_hours extension.
 */
#include "enrich/enrichment.h"

#include "util/addr.h"

static void write_source_enrichment(struct json_writer *w, const struct alert_enrichment *e)
{
    if (e->has_geo && (e->geo.country_iso_code[0] != '\0' || e->geo.city_name[0] != '\0')) {
        json_writer_member_object_begin(w, "geo");
        if (e->geo.country_iso_code[0] != '\0') {
            json_writer_member_string(w, "country_iso_code", e->geo.country_iso_code);
        }
        if (e->geo.city_name[0] != '\0') {
            json_writer_member_string(w, "city_name", e->geo.city_name);
        }
        json_writer_object_end(w);
    }
    if (e->has_geo && e->geo.as_number != 0) {
        json_writer_member_object_begin(w, "as");
        json_writer_member_uint(w, "number", e->geo.as_number);
        if (e->geo.as_org[0] != '\0') {
            json_writer_member_object_begin(w, "organization");
            json_writer_member_string(w, "name", e->geo.as_org);
            json_writer_object_end(w);
        }
        json_writer_object_end(w);
    }
    if (e->has_domain) {
        json_writer_member_string(w, "domain", e->domain);
        if (e->registered_domain[0] != '\0') {
            json_writer_member_string(w, "registered_domain", e->registered_domain);
        }
    }
}

static void write_endpoint(struct json_writer *w, const char *key, const struct addr *a,
                           uint16_t port, const struct alert_enrichment *e)
{
    char text[ADDR_TEXT_MAX];
    bool has_ip = addr_format(a, text, sizeof(text)) > 0;
    if (!has_ip && port == 0 && e == NULL) {
        return;
    }
    json_writer_member_object_begin(w, key);
    if (has_ip) {
        json_writer_member_string(w, "ip", text);
    }
    if (port != 0) {
        json_writer_member_uint(w, "port", port);
    }
    if (e != NULL) {
        write_source_enrichment(w, e);
    }
    json_writer_object_end(w);
}

/* Same names as the transport_name() of output/message_json.c. */
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

/*
 * NOTE: mirrors ecs_write_endpoints() in output/message_json.c, because that
 * function has no way to add members to "source"; keep the two in step.
 */
void enrich_json_write_endpoints(struct json_writer *w, const struct dns_message *m,
                                 const struct alert_enrichment *e)
{
    write_endpoint(w, "source", &m->src, m->sport, e);
    write_endpoint(w, "destination", &m->dst, m->dport, NULL);

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

void enrich_json_write_threat(struct json_writer *w, const struct alert_enrichment *e)
{
    if (e == NULL || e->intel_count == 0) {
        return;
    }
    json_writer_member_object_begin(w, "threat");
    json_writer_key(w, "enrichments");
    json_writer_array_begin(w);
    for (size_t i = 0; i < e->intel_count; i++) {
        const struct alert_intel *ai = &e->intel[i];
        json_writer_object_begin(w);
        json_writer_member_object_begin(w, "indicator");
        json_writer_member_string(w, "type", ai->type);
        json_writer_member_string(w, "provider", ai->provider);
        if (ai->confidence != NULL) {
            json_writer_member_string(w, "confidence", ai->confidence);
        }
        json_writer_object_end(w);
        json_writer_member_object_begin(w, "matched");
        json_writer_member_string(w, "atomic", ai->indicator);
        json_writer_member_string(w, "field", ai->field);
        json_writer_member_string(w, "type", "indicator_match_rule");
        json_writer_object_end(w);
        json_writer_object_end(w);
    }
    json_writer_array_end(w);
    json_writer_object_end(w);
}

void enrich_json_write_dnsfirst(struct json_writer *w, const struct alert_enrichment *e)
{
    if (e == NULL || !e->has_hours) {
        return;
    }
    json_writer_member_bool(w, "business_hours", e->business_hours);
    json_writer_member_string(w, "local_time", e->local_time);
}
