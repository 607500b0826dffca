/* SPDX-License-Identifier: MIT */
/*
 * storm.c - per-scope rate of new clients, and the aggregated alerts of a
 * storm. The states and the rule that ties each aggregated alert to a
 * committed row are described in storm.h.
 */
#include "detect/storm.h"

#include <stdlib.h>
#include <string.h>

#include "output/ecs_fields.h"
#include "output/json_writer.h"
#include "util/timefmt.h"

#define SECONDS_PER_MINUTE 60
#define STORM_PREFIX_V4 24
#define STORM_PREFIX_V6 48

/* Aggregation state of one scope during a storm. */
struct storm_scope {
    uint32_t scope;
    int64_t started;
    int64_t interval_start;
    uint64_t total;
    uint64_t count;           /* new clients in the current interval */
    size_t track_used;
    struct storm_count track[STORM_TRACK_MAX];
    size_t asn_used;
    struct storm_count asn_track[STORM_TRACK_MAX];
    size_t sample_count;
    struct prefix samples[STORM_SAMPLES_MAX];
    bool has_held;
    struct store_client held; /* last storm row, not submitted yet */
};

void storm_init(struct storm *st, uint32_t threshold, int64_t interval_s,
                storm_submit_fn submit, void *ctx)
{
    memset(st, 0, sizeof(*st));
    st->submit = submit;
    st->ctx = ctx;
    storm_configure(st, threshold, interval_s);
}

void storm_configure(struct storm *st, uint32_t threshold, int64_t interval_s)
{
    st->threshold = threshold;
    st->interval_s = interval_s > 0 ? interval_s : 1;
}

void storm_free(struct storm *st)
{
    for (uint32_t i = 0; i < st->active_count; i++) {
        free(st->active[i]);
    }
    free(st->rates);
    memset(st, 0, sizeof(*st));
}

/* ---- rate ------------------------------------------------------------- */

/* Return the rate entry of @p scope, growing the array; NULL when out of memory. */
static struct storm_rate *rate_of(struct storm *st, uint32_t scope)
{
    if (scope >= st->rate_count) {
        uint32_t count = st->rate_count > 0 ? st->rate_count : 16;
        while (count <= scope) {
            count *= 2;
        }
        struct storm_rate *rates = realloc(st->rates, count * sizeof(*rates));
        if (rates == NULL) {
            return NULL;
        }
        memset(rates + st->rate_count, 0, (count - st->rate_count) * sizeof(*rates));
        st->rates = rates;
        st->rate_count = count;
    }
    return &st->rates[scope];
}

/* Move the minute buckets of @p r forward to @p now. */
static void rate_roll(struct storm_rate *r, int64_t now)
{
    int64_t minute = now / SECONDS_PER_MINUTE;
    if (minute == r->minute) {
        return;
    }
    r->previous = minute == r->minute + 1 ? r->current : 0;
    r->current = 0;
    r->minute = minute;
}

/* New clients in the 60 seconds before @p now, estimated from two buckets. */
static uint64_t rate_estimate(const struct storm_rate *r, int64_t now)
{
    int64_t into_minute = now % SECONDS_PER_MINUTE;
    uint64_t weight = (uint64_t)(SECONDS_PER_MINUTE - into_minute);
    return (uint64_t)r->previous * weight / SECONDS_PER_MINUTE + r->current;
}

/* ---- aggregation ------------------------------------------------------ */

/* Count @p key in a space-saving table: a full table replaces its smallest counter. */
static void track_add(struct storm_count *track, size_t *used, const struct storm_count *key,
                      bool by_asn)
{
    size_t smallest = 0;
    for (size_t i = 0; i < *used; i++) {
        bool same = by_asn ? track[i].asn == key->asn
                           : memcmp(&track[i].prefix, &key->prefix, sizeof(key->prefix)) == 0;
        if (same) {
            track[i].count++;
            return;
        }
        if (track[i].count < track[smallest].count) {
            smallest = i;
        }
    }
    if (*used < STORM_TRACK_MAX) {
        track[*used] = *key;
        track[*used].count = 1;
        (*used)++;
        return;
    }
    uint64_t floor = track[smallest].count;
    track[smallest] = *key;
    track[smallest].count = floor + 1;
}

/* Copy the largest counters of @p track into @p top, largest first. */
static size_t track_top(const struct storm_count *track, size_t used, struct storm_count *top)
{
    bool taken[STORM_TRACK_MAX] = { false };
    size_t n = 0;
    while (n < STORM_TOP_MAX && n < used) {
        size_t best = used;
        for (size_t i = 0; i < used; i++) {
            if (!taken[i] && (best == used || track[i].count > track[best].count)) {
                best = i;
            }
        }
        taken[best] = true;
        top[n++] = track[best];
    }
    return n;
}

static void aggregate_client(struct storm *st, struct storm_scope *ss,
                             const struct prefix *client)
{
    ss->count++;
    ss->total++;
    if (ss->sample_count < STORM_SAMPLES_MAX) {
        ss->samples[ss->sample_count++] = *client;
    }

    struct storm_count key;
    memset(&key, 0, sizeof(key));
    key.prefix.addr = client->addr;
    key.prefix.len = client->addr.family == ADDR_FAMILY_IPV4 ? STORM_PREFIX_V4 : STORM_PREFIX_V6;
    if (key.prefix.len > client->len) {
        key.prefix.len = client->len;
    }
    addr_mask(&key.prefix.addr, key.prefix.len);
    track_add(ss->track, &ss->track_used, &key, false);

    uint32_t asn = 0;
    if (st->asn_lookup != NULL && st->asn_lookup(st->ctx, client, &asn)) {
        key.asn = asn;
        track_add(ss->asn_track, &ss->asn_used, &key, true);
    }
}

static void report_fill(const struct storm *st, const struct storm_scope *ss, int64_t now,
                        bool ended, struct storm_report *r)
{
    memset(r, 0, sizeof(*r));
    r->scope = ss->scope;
    r->started = ss->started;
    r->now = now;
    r->interval_s = st->interval_s;
    r->count = ss->count;
    r->total = ss->total;
    r->ended = ended;
    r->top_count = track_top(ss->track, ss->track_used, r->top);
    r->asn_count = track_top(ss->asn_track, ss->asn_used, r->asns);
    r->sample_count = ss->sample_count;
    memcpy(r->samples, ss->samples, sizeof(r->samples));
}

/* Submit the held row with this interval's report, and start the next interval. */
static int interval_close(struct storm *st, struct storm_scope *ss, int64_t now, bool ended)
{
    int ret = 0;
    if (ss->has_held) {
        struct storm_report r;
        report_fill(st, ss, now, ended, &r);
        ret = st->submit(st->ctx, ss->scope, &ss->held, &r);
        ss->has_held = false;
        st->reports++;
    }
    ss->interval_start = now;
    ss->count = 0;
    ss->track_used = 0;
    ss->asn_used = 0;
    ss->sample_count = 0;
    return ret;
}

/* ---- storms ----------------------------------------------------------- */

static struct storm_scope *active_of(const struct storm *st, uint32_t scope)
{
    if (scope >= st->rate_count || st->rates[scope].active == 0) {
        return NULL;
    }
    return st->active[st->rates[scope].active - 1];
}

static bool storm_begin(struct storm *st, struct storm_rate *r, uint32_t scope, int64_t now)
{
    if (st->active_count == STORM_ACTIVE_MAX) {
        st->overflow++;
        return false;
    }
    struct storm_scope *ss = calloc(1, sizeof(*ss));
    if (ss == NULL) {
        st->overflow++;
        return false;
    }
    ss->scope = scope;
    ss->started = now;
    ss->interval_start = now;
    st->active[st->active_count++] = ss;
    r->active = st->active_count;
    if (st->event != NULL) {
        st->event(st->event_ctx, scope, true, NULL);
    }
    return true;
}

/* End the storm at active[index]: last report, then the slot takes the last storm. */
static int storm_end(struct storm *st, uint32_t index, int64_t now)
{
    struct storm_scope *ss = st->active[index];
    struct storm_report r;
    report_fill(st, ss, now, true, &r);
    r.count = ss->total; /* the log line reports the whole storm */
    int ret = interval_close(st, ss, now, true);
    if (st->event != NULL) {
        st->event(st->event_ctx, ss->scope, false, &r);
    }

    st->rates[ss->scope].active = 0;
    st->active_count--;
    if (index != st->active_count) {
        st->active[index] = st->active[st->active_count];
        st->rates[st->active[index]->scope].active = index + 1;
    }
    free(ss);
    return ret;
}

bool storm_note_new(struct storm *st, uint32_t scope, int64_t now)
{
    struct storm_rate *r = rate_of(st, scope);
    if (r == NULL) {
        return false;
    }
    rate_roll(r, now);
    r->current++;
    if (r->active != 0) {
        return true;
    }
    if (st->threshold == 0 || rate_estimate(r, now) <= st->threshold) {
        return false;
    }
    return storm_begin(st, r, scope, now);
}

bool storm_active(const struct storm *st, uint32_t scope)
{
    return active_of(st, scope) != NULL;
}

int storm_record(struct storm *st, uint32_t scope, const struct store_client *row,
                 const struct prefix *client)
{
    struct storm_scope *ss = active_of(st, scope);
    if (ss == NULL) {
        return st->submit(st->ctx, scope, row, NULL);
    }

    int ret = 0;
    if (ss->has_held) {
        ret = st->submit(st->ctx, scope, &ss->held, NULL);
    }
    ss->held = *row;
    ss->has_held = true;
    aggregate_client(st, ss, client);
    return ret;
}

int storm_tick(struct storm *st, int64_t now)
{
    int first = 0;
    uint32_t i = 0;
    while (i < st->active_count) {
        struct storm_scope *ss = st->active[i];
        struct storm_rate *r = &st->rates[ss->scope];
        rate_roll(r, now);

        int ret = 0;
        if (rate_estimate(r, now) <= st->threshold / 2) {
            ret = storm_end(st, i, now); /* the last storm moved into slot i */
        } else {
            if (now >= ss->interval_start + st->interval_s) {
                ret = interval_close(st, ss, now, false);
            }
            i++;
        }
        if (first == 0) {
            first = ret;
        }
    }
    return first;
}

int storm_flush(struct storm *st, int64_t now)
{
    int first = 0;
    while (st->active_count > 0) {
        int ret = storm_end(st, st->active_count - 1, now);
        if (first == 0) {
            first = ret;
        }
    }
    return first;
}

/* ---- JSON ------------------------------------------------------------- */

static void write_counts(struct json_writer *w, const char *key, const struct storm_count *c,
                         size_t n, bool by_asn)
{
    json_writer_key(w, key);
    json_writer_array_begin(w);
    for (size_t i = 0; i < n; i++) {
        json_writer_object_begin(w);
        if (by_asn) {
            json_writer_member_uint(w, "asn", c[i].asn);
        } else {
            char text[ADDR_TEXT_MAX];
            prefix_format(&c[i].prefix, text, sizeof(text));
            json_writer_member_string(w, "prefix", text);
        }
        json_writer_member_uint(w, "count", c[i].count);
        json_writer_object_end(w);
    }
    json_writer_array_end(w);
}

static void write_storm(struct json_writer *w, const struct storm_report *r)
{
    json_writer_member_object_begin(w, "storm");
    json_writer_member_uint(w, "count", r->count);
    json_writer_member_uint(w, "total", r->total);
    write_counts(w, "top_prefixes", r->top, r->top_count, false);
    if (r->asn_count > 0) {
        write_counts(w, "top_asns", r->asns, r->asn_count, true);
    }
    json_writer_key(w, "samples");
    json_writer_array_begin(w);
    for (size_t i = 0; i < r->sample_count; i++) {
        char text[ADDR_TEXT_MAX];
        prefix_format(&r->samples[i], text, sizeof(text));
        json_writer_string(w, text);
    }
    json_writer_array_end(w);
    char started[TIMEFMT_RFC3339_MAX];
    timefmt_rfc3339(r->started, 0, started, sizeof(started));
    json_writer_member_string(w, "started", started);
    json_writer_member_int(w, "interval", r->interval_s);
    json_writer_member_bool(w, "ended", r->ended);
    json_writer_object_end(w);
}

size_t storm_report_json(const struct storm_report *r, const char *scope_mode,
                         const char *scope_key, bool scope_is_server, char *buf, size_t size)
{
    struct json_writer w;
    json_writer_init(&w, buf, size);
    json_writer_object_begin(&w);
    ecs_write_timestamp(&w, r->now, 0);

    json_writer_member_object_begin(&w, "event");
    json_writer_member_string(&w, "kind", "alert");
    json_writer_key(&w, "category");
    json_writer_array_begin(&w);
    json_writer_string(&w, "network");
    json_writer_array_end(&w);
    json_writer_member_string(&w, "dataset", "dnsfirst.alert");
    json_writer_member_string(&w, "module", "dnsfirst");
    json_writer_object_end(&w);

    json_writer_member_object_begin(&w, "rule");
    json_writer_member_string(&w, "id", STORM_RULE_ID);
    json_writer_member_string(&w, "name", STORM_RULE_NAME);
    json_writer_object_end(&w);

    if (scope_is_server) {
        json_writer_member_object_begin(&w, "destination");
        json_writer_member_string(&w, "ip", scope_key);
        json_writer_object_end(&w);
    }

    json_writer_member_object_begin(&w, "dnsfirst");
    json_writer_member_string(&w, "scope", scope_mode);
    json_writer_member_string(&w, "scope_key", scope_key);
    write_storm(&w, r);
    json_writer_object_end(&w);

    json_writer_object_end(&w);
    return json_writer_finish(&w);
}
