/* SPDX-License-Identifier: MIT */
/*
 * rpz_zones.c - dnsfirst's RPZ reader against ldns's zone file parser.
 *
 * Usage: rpz_zones [COUNT [SEED [ZONE...]]]   (defaults: 300 zones, seed 1)
 *
 * Compares the ZONE files given, then writes COUNT pseudo-random RPZ zone
 * files and reads each with
 * intel_domains_load() and with ldns_zone_new_frm_fp_l() (ldns 1.8.3,
 * Debian package libldns-dev). The zones use what RPZ files in the wild
 * use: $TTL and $ORIGIN (also a second $ORIGIN below the apex), relative
 * and absolute owner names, "*." wildcards, TTL and class,
 * blank owners that repeat the previous one, comments, records split over
 * lines by parentheses (also inside a quoted TXT string), escapes in owner
 * names, upper case, rpz-passthru, and rpz-ip or rpz-nsdname triggers.
 *
 * From ldns's records the expected triggers follow the RPZ rules: the
 * owner name relative to the apex (the SOA owner), SOA and NS records and
 * CNAME rpz-passthru. skipped, triggers under rpz-ip, rpz-nsip, rpz-nsdname
 * and rpz-client-ip skipped, "*.NAME" matching the names below NAME. The
 * set that dnsfirst loads must hold exactly these names with exactly these
 * match flags. Exits 0 when every zone agrees, 1 otherwise, and prints the
 * first zone that differs.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "enrich/intel.h"

#define RECORDS_PER_ZONE 40
#define EXPECTED_MAX (RECORDS_PER_ZONE * 2)

static const char *const apex = "rpz.example.";

/* One expected trigger: lower-case wire name and INTEL_MATCH_* flags. */
struct trigger {
    uint8_t wire[DNS_NAME_MAX];
    size_t len;
    uint8_t flags;
};

struct expected {
    struct trigger triggers[EXPECTED_MAX];
    size_t count;
};

static uint32_t next_random(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

/* ---- zone generator ---------------------------------------------------- */

/* Write one label; sometimes upper case, sometimes with a \DDD or \X escape. */
static void put_label(FILE *f, uint32_t *rng)
{
    static const char alphabet[] = "abcdexy0129-";
    size_t len = 1 + next_random(rng) % 5;
    bool upper = next_random(rng) % 8 == 0;
    for (size_t i = 0; i < len; i++) {
        char c = alphabet[next_random(rng) % (sizeof(alphabet) - 1)];
        if (i == 0 && c == '-') {
            c = 'a';
        }
        if (upper) {
            c = (char)toupper((unsigned char)c);
        }
        switch (next_random(rng) % 20) {
        case 0:
            fprintf(f, "\\%03u", (unsigned)(unsigned char)c);
            break;
        case 1: /* "\\X" escapes a character other than a digit */
            fprintf(f, isdigit((unsigned char)c) ? "%c" : "\\%c", c);
            break;
        default:
            fputc(c, f);
        }
    }
}

static void put_name(FILE *f, uint32_t *rng)
{
    size_t labels = 1 + next_random(rng) % 3;
    for (size_t i = 0; i < labels; i++) {
        if (i > 0) {
            fputc('.', f);
        }
        put_label(f, rng);
    }
}

/* Optional TTL and class. ldns 1.8.3 rejects the class before the TTL, so that order is left out. */
static void put_ttl_class(FILE *f, uint32_t *rng)
{
    switch (next_random(rng) % 5) {
    case 0:
        fputs(" 300", f);
        break;
    case 1:
        fputs(" IN", f);
        break;
    case 2:
        fputs(" 60 IN", f);
        break;
    case 3:
        fputs(" 3600 in", f);
        break;
    default:
        break;
    }
}

static void put_data(FILE *f, uint32_t *rng)
{
    switch (next_random(rng) % 8) {
    case 0:
        fputs(" A 192.0.2.1", f);
        break;
    case 1:
        fputs(" AAAA 2001:db8::1", f);
        break;
    case 2:
        fputs(" TXT \"blocked; see policy\"", f);
        break;
    case 3:
        fputs(" CNAME rpz-passthru.", f);
        break;
    case 4:
        fputs(" CNAME walled.garden.example.", f);
        break;
    default:
        fputs(" CNAME .", f);
        break;
    }
}

/* One record, or a directive, of a pseudo-random kind. */
static void put_record(FILE *f, uint32_t *rng)
{
    switch (next_random(rng) % 14) {
    case 0: /* absolute owner under the apex */
        put_name(f, rng);
        fprintf(f, ".%s", apex);
        break;
    case 1: /* wildcard */
        fputs("*.", f);
        put_name(f, rng);
        break;
    case 2: /* blank owner: the previous owner again */
        fputs("\t", f);
        break;
    case 3: /* IP and name server triggers */
        fputs(next_random(rng) % 2 ? "32.1.2.0.192.rpz-ip" : "ns1.example.rpz-nsdname", f);
        break;
    case 4: /* a record split over lines */
        put_name(f, rng);
        fputs(" CNAME ( ; the target follows\n    . )\n", f);
        return;
    case 5: /* a parenthesis inside a quoted string opens no group */
        put_name(f, rng);
        fputs(" TXT \"see (policy\"\n", f);
        return;
    case 6:
        fputs("; a comment line\n", f);
        return;
    case 7: /* a second origin below the apex, then back */
        fprintf(f, "$ORIGIN sub.%s\n", apex);
        put_name(f, rng);
        fputs(" CNAME .\n", f);
        fprintf(f, "$ORIGIN %s\n", apex);
        return;
    default:
        put_name(f, rng);
        break;
    }
    put_ttl_class(f, rng);
    put_data(f, rng);
    fputs(next_random(rng) % 4 == 0 ? " ; trailing comment\n" : "\n", f);
}

static int write_zone(const char *path, uint32_t *rng)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "$TTL 300\n$ORIGIN %s\n", apex);
    fputs("@ SOA ns.example. hostmaster.example. (\n"
          "    2024010101 ; serial\n"
          "    3600 600 86400 60 )\n"
          "  NS ns.example.\n",
          f);
    for (size_t i = 0; i < RECORDS_PER_ZONE; i++) {
        put_record(f, rng);
    }
    return fclose(f);
}

/* ---- expected triggers from ldns -------------------------------------- */

static bool is_ip_or_ns_trigger_label(const uint8_t *label)
{
    static const char *const names[] = { "rpz-ip", "rpz-nsip", "rpz-nsdname", "rpz-client-ip" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (label[0] == strlen(names[i]) &&
            strncasecmp((const char *)label + 1, names[i], label[0]) == 0) {
            return true;
        }
    }
    return false;
}

static void expected_add(struct expected *e, const uint8_t *wire, size_t len, uint8_t flags)
{
    for (size_t i = 0; i < e->count; i++) {
        if (e->triggers[i].len == len && memcmp(e->triggers[i].wire, wire, len) == 0) {
            e->triggers[i].flags |= flags;
            return;
        }
    }
    struct trigger *t = &e->triggers[e->count++];
    memcpy(t->wire, wire, len);
    t->len = len;
    t->flags = flags;
}

/* Add the trigger of @p rr, whose owner is below @p apex_rdf. */
static bool expect_record(struct expected *e, const ldns_rr *rr, const ldns_rdf *apex_rdf)
{
    ldns_rr_type type = ldns_rr_get_type(rr);
    if (type == LDNS_RR_TYPE_SOA || type == LDNS_RR_TYPE_NS) {
        return true;
    }
    if (type == LDNS_RR_TYPE_CNAME) {
        char *target = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        bool passthru = target != NULL && strcasecmp(target, "rpz-passthru.") == 0;
        free(target);
        if (passthru) {
            return true;
        }
    }

    const ldns_rdf *owner = ldns_rr_owner(rr);
    if (ldns_dname_compare(owner, apex_rdf) == 0) {
        return true; /* data at the apex is no trigger */
    }
    if (!ldns_dname_is_subdomain(owner, apex_rdf)) {
        char *text = ldns_rdf2str(owner);
        fprintf(stderr, "ldns read the owner %s, outside the apex %s\n", text, apex);
        free(text);
        return false;
    }

    /* The owner without the apex, in lower case, as a name of its own. */
    uint8_t wire[DNS_NAME_MAX];
    size_t rel = ldns_rdf_size(owner) - ldns_rdf_size(apex_rdf);
    const uint8_t *data = ldns_rdf_data(owner);
    for (size_t i = 0; i < rel; i++) {
        wire[i] = (uint8_t)tolower(data[i]);
    }
    wire[rel] = 0;

    uint8_t flags = INTEL_MATCH_SELF;
    size_t start = 0;
    if (wire[0] == 1 && wire[1] == '*') {
        flags = INTEL_MATCH_SUBDOMAINS;
        start = 2;
    }
    for (size_t pos = start; wire[pos] != 0; pos += (size_t)wire[pos] + 1) {
        if (is_ip_or_ns_trigger_label(wire + pos)) {
            return true;
        }
    }
    expected_add(e, wire + start, rel + 1 - start, flags);
    return true;
}

static int expect_zone(const char *path, struct expected *e)
{
    memset(e, 0, sizeof(*e));
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    ldns_zone *zone = NULL;
    int line = 0;
    ldns_status status = ldns_zone_new_frm_fp_l(&zone, f, NULL, 300, LDNS_RR_CLASS_IN, &line);
    fclose(f);
    if (status != LDNS_STATUS_OK) {
        fprintf(stderr, "%s:%d: ldns: %s\n", path, line, ldns_get_errorstr_by_id(status));
        return -1;
    }

    int ret = 0;
    const ldns_rdf *apex_rdf = ldns_rr_owner(ldns_zone_soa(zone));
    const ldns_rr_list *rrs = ldns_zone_rrs(zone);
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs) && ret == 0; i++) {
        if (!expect_record(e, ldns_rr_list_rr(rrs, i), apex_rdf)) {
            ret = -1;
        }
    }
    ldns_zone_deep_free(zone);
    return ret;
}

/* ---- comparison -------------------------------------------------------- */

static void print_trigger(const char *what, const struct trigger *t)
{
    char text[DNS_NAME_MAX * 4] = "";
    size_t n = 0;
    for (size_t pos = 0; t->wire[pos] != 0; pos += (size_t)t->wire[pos] + 1) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%.*s.", t->wire[pos],
                              (const char *)t->wire + pos + 1);
    }
    fprintf(stderr, "  %s %s (flags %u)\n", what, text, t->flags);
}

/* Returns true when @p set contains @p t with exactly its flags. */
static bool holds_trigger(const struct intel_domain_set *set, const struct trigger *t)
{
    size_t offset = 0;
    bool self = intel_domain_set_lookup(set, t->wire, t->len, &offset) && offset == 0;

    /* "zz9" is never generated, so zz9.NAME can only match through NAME. */
    uint8_t below[DNS_NAME_MAX + 4] = { 3, 'z', 'z', '9' };
    memcpy(below + 4, t->wire, t->len);
    bool subdomains = t->len + 4 <= DNS_NAME_MAX &&
                      intel_domain_set_lookup(set, below, t->len + 4, &offset) && offset == 4;

    return self == ((t->flags & INTEL_MATCH_SELF) != 0) &&
           subdomains == ((t->flags & INTEL_MATCH_SUBDOMAINS) != 0);
}

static int compare_zone(const char *path)
{
    struct expected e;
    if (expect_zone(path, &e) != 0) {
        return 1;
    }
    struct intel_domain_set *set = NULL;
    char err[INTEL_ERR_MAX];
    if (intel_domains_load(path, &set, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: dnsfirst rejects a zone that ldns reads: %s\n", path, err);
        return 1;
    }

    int failed = 0;
    if (intel_domain_set_count(set) != e.count) {
        fprintf(stderr, "%s: ldns gives %zu triggers, dnsfirst loaded %zu names\n", path,
                e.count, intel_domain_set_count(set));
        failed = 1;
    }
    for (size_t i = 0; i < e.count; i++) {
        if (!holds_trigger(set, &e.triggers[i])) {
            fprintf(stderr, "%s: dnsfirst differs on a trigger from ldns:\n", path);
            print_trigger("expected", &e.triggers[i]);
            failed = 1;
        }
    }
    intel_domain_set_free(set);
    return failed;
}

int main(int argc, char **argv)
{
    unsigned long count = argc > 1 ? strtoul(argv[1], NULL, 10) : 300;
    uint32_t rng = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1;
    if (rng == 0) {
        rng = 1;
    }
    char path[] = "/tmp/rpz-zones-diff.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("mkstemp");
        return 1;
    }
    close(fd);

    unsigned long failed = 0;
    for (int i = 3; i < argc; i++) {
        if (compare_zone(argv[i]) != 0) {
            failed++;
        }
    }
    for (unsigned long i = 0; i < count && failed == 0; i++) {
        if (write_zone(path, &rng) != 0) {
            fprintf(stderr, "%s: cannot write\n", path);
            failed++;
            break;
        }
        if (compare_zone(path) != 0) {
            failed++;
            fprintf(stderr, "zone %lu differs; it is kept in %s.bad\n", i, path);
            char kept[64];
            snprintf(kept, sizeof(kept), "%s.bad", path);
            rename(path, kept);
            break;
        }
    }
    unlink(path);
    printf("%lu zones compared, %lu differ\n", count, failed);
    return failed != 0;
}
