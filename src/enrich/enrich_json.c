/* SPDX-License-Identifier: MIT */
/*
 * enrich_json.c - the enrichment fields of an alert, with ECS names:
 * source.geo.*, source.as.*, source.domain, source.registered_domain,
 * threat.enrichments[] and the dnsfirst.business_hours extension.
 */
#include "output/ecs_fields.h"
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

/* The ecs_extra_fn that adds the enrichment's members to "source". */
static void write_source_extra(struct json_writer *w, const void *ctx)
{
    write_source_enrichment(w, ctx);
}

void enrich_json_write_endpoints(struct json_writer *w, const struct dns_message *m,
                                 const struct alert_enrichment *e)
{
    if (e == NULL) {
        ecs_write_endpoints(w, m);
        return;
    }
    ecs_write_endpoints_with(w, m, write_source_extra, e);
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
