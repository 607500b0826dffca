/* SPDX-License-Identifier: MIT */
/*
 * alert_json.c - a new-client alert as one JSON line with Elastic Common
 * Schema names, nested as Filebeat writes them ("dns": {"question": ...}).
 * Facts outside ECS go under "dnsfirst". A key whose value is unknown is
 * left out rather than written as null.
 */
#include "output/alert.h"

#include "decode/dns_text.h"
#include "enrich/enrichment.h"
#include "output/ecs_fields.h"

static void write_event(struct json_writer *w)
{
    json_writer_member_object_begin(w, "event");
    json_writer_member_string(w, "kind", "alert");
    json_writer_key(w, "category");
    json_writer_array_begin(w);
    json_writer_string(w, "network");
    json_writer_array_end(w);
    json_writer_key(w, "type");
    json_writer_array_begin(w);
    json_writer_string(w, "connection");
    json_writer_array_end(w);
    json_writer_member_string(w, "dataset", "dnsfirst.alert");
    json_writer_member_string(w, "module", "dnsfirst");
    json_writer_object_end(w);

    json_writer_member_object_begin(w, "rule");
    json_writer_member_string(w, "id", ALERT_RULE_ID);
    json_writer_member_string(w, "name", ALERT_RULE_NAME);
    json_writer_object_end(w);
}

static void write_dns(struct json_writer *w, const struct alert *a)
{
    const struct dns_message *q = a->query;

    json_writer_member_object_begin(w, "dns");
    json_writer_member_uint(w, "id", q->id);
    json_writer_member_string(w, "type", "query");
    ecs_write_op_code(w, q);
    ecs_write_header_flags(w, q);
    ecs_write_question(w, q);
    if (a->response_seen) {
        ecs_write_response_code(w, a->response_rcode);
        /* ECS defines dns.answers as an array of answer objects, hence answers_count. */
        json_writer_member_uint(w, "answers_count", a->response_answers);
    }
    json_writer_object_end(w);
}

static void write_dnsfirst(struct json_writer *w, const struct alert *a)
{
    json_writer_member_object_begin(w, "dnsfirst");
    if (a->scope_mode != NULL) {
        json_writer_member_string(w, "scope", a->scope_mode);
    }
    if (a->scope_key != NULL) {
        json_writer_member_string(w, "scope_key", a->scope_key);
    }
    if (a->client_key != NULL) {
        json_writer_member_string(w, "client_key", a->client_key);
    }
    json_writer_member_bool(w, "response_seen", a->response_seen);
    ecs_write_input(w, a->input_name, a->query);
    ecs_write_tunnel(w, a->query);
    json_writer_member_uint(w, "baseline_size", a->baseline_size);
    enrich_json_write_dnsfirst(w, a->enrichment);

    const struct dns_edns *edns = &a->query->edns;
    if (edns->present && edns->has_client_subnet) {
        char subnet[ADDR_TEXT_MAX];
        prefix_format(&edns->client_subnet, subnet, sizeof(subnet));
        json_writer_member_string(w, "client_subnet", subnet);
    }
    json_writer_object_end(w);
}

/* observer: the DNS server that reported the query through dnstap (ECS observer.*). */
static void write_observer(struct json_writer *w, const struct dns_observer *o)
{
    if (o->name == NULL && o->version == NULL) {
        return;
    }
    json_writer_member_object_begin(w, "observer");
    if (o->name != NULL) {
        json_writer_member_string(w, "name", o->name);
    }
    if (o->version != NULL) {
        json_writer_member_string(w, "version", o->version);
    }
    json_writer_object_end(w);
}

size_t alert_json_format(const struct alert *a, char *buf, size_t size)
{
    struct json_writer w;
    json_writer_init(&w, buf, size);

    json_writer_object_begin(&w);
    ecs_write_timestamp(&w, a->query->ts_sec, a->query->ts_nsec);
    write_event(&w);
    if (a->enrichment != NULL) {
        enrich_json_write_endpoints(&w, a->query, a->enrichment);
        enrich_json_write_threat(&w, a->enrichment);
    } else {
        ecs_write_endpoints(&w, a->query);
    }
    write_observer(&w, &a->query->observer);
    write_dns(&w, a);
    write_dnsfirst(&w, a);
    json_writer_object_end(&w);
    return json_writer_finish(&w);
}
