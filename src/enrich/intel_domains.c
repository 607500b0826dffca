/* SPDX-License-Identifier: MIT */
/*
 * intel_domains.c - domain lists: a hash set of names and the list reader.
 *
 * Names are stored lower-cased in wire form in one byte arena, each entry as
 * [flags][wire name]; the table holds (hash, arena offset) pairs with linear
 * probing and stays at most half full. The hash runs over the wire bytes
 * from the last byte backwards, so a lookup computes the hash of every
 * label suffix of the query name in one pass from the right.
 *
 * The list reader is written here, not taken from a zone file library,
 * because one list mixes formats line by line (plain names, hosts lines,
 * adblock rules and RPZ records), and only RPZ is a zone file. For RPZ it
 * reads the part of the zone syntax that policy zones use: $ORIGIN and
 * $TTL, relative and absolute owners, blank owners, "*." wildcards, TTL and
 * class, quoted strings, comments, records split by parentheses, and \DDD
 * or \X escapes of name characters. tests/differential/rpz_zones.c checks
 * it against ldns's zone parser on generated zones, and
 * tests/fuzz/fuzz_intel_lists.c fuzzes every format.
 */
#include "enrich/intel.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decode/dns_text.h"
#include "util/error.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define LABELS_MAX 128

struct slot {
    uint32_t hash;   /* low 32 bits of the name's hash */
    uint32_t offset; /* entry offset in the arena; 0 = empty slot */
};

struct intel_domain_set {
    struct slot *slots;
    size_t mask;  /* slot count - 1, a power of two */
    size_t count; /* entries */
    uint8_t *arena;
    size_t arena_len;
    size_t arena_cap;
};

int intel_domain_set_create(struct intel_domain_set **out)
{
    struct intel_domain_set *set = calloc(1, sizeof(*set));
    if (set == NULL) {
        return -ENOMEM;
    }
    set->mask = 1023;
    set->slots = calloc(set->mask + 1, sizeof(*set->slots));
    set->arena_cap = 4096;
    set->arena = malloc(set->arena_cap);
    if (set->slots == NULL || set->arena == NULL) {
        intel_domain_set_free(set);
        return -ENOMEM;
    }
    set->arena_len = 1; /* offset 0 marks an empty slot */
    *out = set;
    return 0;
}

void intel_domain_set_free(struct intel_domain_set *set)
{
    if (set == NULL) {
        return;
    }
    free(set->slots);
    free(set->arena);
    free(set);
}

size_t intel_domain_set_count(const struct intel_domain_set *set)
{
    return set->count;
}

/* Hash of wire bytes [start, end), taken from the end backwards. */
static uint64_t hash_step(uint64_t h, uint8_t byte)
{
    return (h ^ byte) * FNV_PRIME;
}

static uint64_t hash_wire(const uint8_t *wire, size_t len)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = len; i > 0; i--) {
        h = hash_step(h, wire[i - 1]);
    }
    return h;
}

/* Wire length of the name that starts at @p name (root label included). */
static size_t wire_length(const uint8_t *name)
{
    size_t len = 0;
    while (name[len] != 0) {
        len += (size_t)name[len] + 1;
    }
    return len + 1;
}

/* Return the slot holding @p wire, or the empty slot where it would go. */
static struct slot *find_slot(const struct intel_domain_set *set, const uint8_t *wire,
                              size_t len, uint64_t hash)
{
    size_t i = (size_t)hash & set->mask;
    for (;;) {
        struct slot *s = &set->slots[i];
        if (s->offset == 0) {
            return s;
        }
        const uint8_t *entry = set->arena + s->offset + 1;
        if (s->hash == (uint32_t)hash && wire_length(entry) == len &&
            memcmp(entry, wire, len) == 0) {
            return s;
        }
        i = (i + 1) & set->mask;
    }
}

static int grow_table(struct intel_domain_set *set)
{
    size_t new_mask = set->mask * 2 + 1;
    struct slot *slots = calloc(new_mask + 1, sizeof(*slots));
    if (slots == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i <= set->mask; i++) {
        struct slot s = set->slots[i];
        if (s.offset == 0) {
            continue;
        }
        const uint8_t *wire = set->arena + s.offset + 1;
        size_t j = (size_t)hash_wire(wire, wire_length(wire)) & new_mask;
        while (slots[j].offset != 0) {
            j = (j + 1) & new_mask;
        }
        slots[j] = s;
    }
    free(set->slots);
    set->slots = slots;
    set->mask = new_mask;
    return 0;
}

static int append_entry(struct intel_domain_set *set, const uint8_t *wire, size_t len,
                        uint8_t flags, uint32_t *offset)
{
    if (set->arena_len + len + 1 > set->arena_cap) {
        size_t cap = set->arena_cap * 2;
        if (cap > UINT32_MAX) {
            return -ENOMEM;
        }
        uint8_t *arena = realloc(set->arena, cap);
        if (arena == NULL) {
            return -ENOMEM;
        }
        set->arena = arena;
        set->arena_cap = cap;
    }
    *offset = (uint32_t)set->arena_len;
    set->arena[set->arena_len] = flags;
    memcpy(set->arena + set->arena_len + 1, wire, len);
    set->arena_len += len + 1;
    return 0;
}

/*
 * Read the character at text[*i], decoding a zone file escape ("\DDD" in
 * decimal or "\X"), and move *i past it. Returns the character, or -1 for
 * an escape that is cut short or over 255.
 */
static int name_char_read(const char *text, size_t len, size_t *i)
{
    if (text[*i] != '\\') {
        return (unsigned char)text[(*i)++];
    }
    if (*i + 1 >= len) {
        return -1;
    }
    if (!isdigit((unsigned char)text[*i + 1])) {
        *i += 2;
        return (unsigned char)text[*i - 1];
    }
    int value = 0;
    for (size_t k = 1; k <= 3; k++) {
        if (*i + k >= len || !isdigit((unsigned char)text[*i + k])) {
            return -1;
        }
        value = value * 10 + (text[*i + k] - '0');
    }
    *i += 4;
    return value <= 255 ? value : -1;
}

/*
 * Convert "www.Example.com." into lower-case wire form. Escapes are decoded,
 * but every label character must still be a letter, digit, '-' or '_', so
 * an escaped dot is rejected. Returns the wire length or 0.
 */
static size_t text_to_wire(const char *text, size_t len, uint8_t *wire)
{
    if (len > 0 && text[len - 1] == '.' && (len < 2 || text[len - 2] != '\\')) {
        len--;
    }
    if (len == 0) {
        return 0;
    }
    size_t out = 1;
    size_t label_start = 1;
    wire[0] = 0;
    for (size_t i = 0; i <= len;) {
        if (i == len || text[i] == '.') {
            size_t label_len = out - label_start;
            if (label_len == 0 || label_len > DNS_LABEL_MAX || out + 1 > DNS_NAME_MAX) {
                return 0;
            }
            wire[label_start - 1] = (uint8_t)label_len;
            wire[out++] = 0;
            label_start = out;
            i++;
            continue;
        }
        int c = name_char_read(text, len, &i);
        if (c < 0 || (!isalnum(c) && c != '-' && c != '_') || out + 1 >= DNS_NAME_MAX) {
            return 0;
        }
        wire[out++] = (uint8_t)tolower(c);
    }
    return out;
}

int intel_domain_set_add(struct intel_domain_set *set, const char *text, size_t len,
                         uint8_t flags)
{
    uint8_t wire[DNS_NAME_MAX + 1];
    size_t wire_len = text_to_wire(text, len, wire);
    if (wire_len == 0) {
        return DF_EPARSE;
    }

    uint64_t hash = hash_wire(wire, wire_len);
    struct slot *s = find_slot(set, wire, wire_len, hash);
    if (s->offset != 0) {
        set->arena[s->offset] |= flags;
        return 0;
    }
    uint32_t offset = 0;
    int ret = append_entry(set, wire, wire_len, flags, &offset);
    if (ret != 0) {
        return ret;
    }
    s->hash = (uint32_t)hash;
    s->offset = offset;
    set->count++;

    /* Keep the table at most half full, so probe runs stay short. */
    if (set->count * 2 > set->mask + 1) {
        return grow_table(set);
    }
    return 0;
}

bool intel_domain_set_lookup(const struct intel_domain_set *set, const uint8_t *qname,
                             size_t qname_len, size_t *match_offset)
{
    /* Lower-case copy and the offset of every label. */
    uint8_t name[DNS_NAME_MAX];
    size_t starts[LABELS_MAX];
    size_t labels = 0;
    if (qname_len == 0 || qname_len > DNS_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < qname_len; i++) {
        name[i] = (uint8_t)tolower(qname[i]);
    }
    for (size_t pos = 0; pos < qname_len && name[pos] != 0 && labels < LABELS_MAX;
         pos += (size_t)name[pos] + 1) {
        starts[labels++] = pos;
    }

    /* Hash of each suffix, from the root label leftwards. */
    uint64_t hashes[LABELS_MAX];
    uint64_t h = hash_step(FNV_OFFSET, 0);
    size_t end = qname_len - 1;
    for (size_t l = labels; l > 0; l--) {
        for (size_t i = end; i > starts[l - 1]; i--) {
            h = hash_step(h, name[i - 1]);
        }
        hashes[l - 1] = h;
        end = starts[l - 1];
    }

    /* The most specific listed name wins: test the longest suffix first. */
    for (size_t l = 0; l < labels; l++) {
        size_t len = qname_len - starts[l];
        const struct slot *s = find_slot(set, name + starts[l], len, hashes[l]);
        if (s->offset == 0) {
            continue;
        }
        uint8_t flags = set->arena[s->offset];
        if (flags & (l == 0 ? INTEL_MATCH_SELF : INTEL_MATCH_SUBDOMAINS)) {
            *match_offset = starts[l];
            return true;
        }
    }
    return false;
}

/* ---- list files ------------------------------------------------------- */

#define TOKENS_MAX 16
#define RECORD_TEXT_MAX 65536 /* a record split by parentheses, joined */
#define OWNER_TEXT_MAX (DNS_NAME_MAX * 8 + 2) /* an owner with $ORIGIN appended */

struct domain_reader {
    const char *path;
    unsigned long line_no;
    struct intel_domain_set *set;
    char origin[DNS_NAME_MAX * 4]; /* RPZ $ORIGIN, lower case, no trailing dot */
    char apex[DNS_NAME_MAX * 4];   /* the zone apex: the first $ORIGIN */
    char owner[OWNER_TEXT_MAX];    /* last RPZ owner, made absolute when $ORIGIN is set */
    int paren_depth;               /* open "(" of a record split over lines */
    bool record_continued;         /* that record started with a blank owner */
    char *record;                  /* its lines so far, joined by spaces */
    size_t record_len;
    char *err;
    size_t err_size;
};

static int reader_fail(struct domain_reader *r, const char *reason, const char *token)
{
    snprintf(r->err, r->err_size, "%s:%lu: %s%s%s%s", r->path, r->line_no, reason,
             token != NULL ? " '" : "", token != NULL ? token : "", token != NULL ? "'" : "");
    return DF_EPARSE;
}

static int add_name(struct domain_reader *r, const char *name, uint8_t flags)
{
    int ret = intel_domain_set_add(r->set, name, strlen(name), flags);
    if (ret == DF_EPARSE) {
        return reader_fail(r, "invalid domain name", name);
    }
    return ret;
}

/* Split @p line in place into whitespace-separated tokens. */
static size_t tokenize(char *line, char **tokens)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \t\r\n", &save); t != NULL && n < TOKENS_MAX;
         t = strtok_r(NULL, " \t\r\n", &save)) {
        tokens[n++] = t;
    }
    return n;
}

static bool is_localhost_name(const char *name)
{
    static const char *const names[] = {
        "localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost",
        "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters",
        "ip6-allhosts", "0.0.0.0",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* "||name^" or "||name^$options"; URL rules with a path are not domain rules. */
static int read_adblock(struct domain_reader *r, char *rule)
{
    char *name = rule + 2;
    size_t len = strcspn(name, "^$/*|");
    if (name[len] == '/' || name[len] == '*' || name[len] == '|') {
        return 0;
    }
    name[len] = '\0';
    return add_name(r, name, INTEL_MATCH_SELF | INTEL_MATCH_SUBDOMAINS);
}

static int read_hosts(struct domain_reader *r, char **tokens, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (is_localhost_name(tokens[i])) {
            continue;
        }
        int ret = add_name(r, tokens[i], INTEL_MATCH_SELF | INTEL_MATCH_SUBDOMAINS);
        if (ret != 0) {
            return ret;
        }
    }
    return 0;
}

static bool is_rr_type(const char *t)
{
    static const char *const types[] = {
        "A", "AAAA", "CNAME", "TXT", "NS", "SOA", "MX", "PTR", "DNAME", "SRV", "HTTPS", "SVCB",
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcasecmp(t, types[i]) == 0) {
            return true;
        }
    }
    return false;
}

static void lower_copy(char *out, size_t size, const char *in)
{
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < size; i++) {
        out[i] = (char)tolower((unsigned char)in[i]);
    }
    out[i] = '\0';
}

/*
 * Store the owner of a record in r->owner, lower case and made absolute
 * with the current $ORIGIN, so that lines with a blank owner keep it even
 * after a later $ORIGIN. Returns 0 or DF_EPARSE for an owner too long.
 */
static int rpz_owner_set(struct domain_reader *r, const char *owner)
{
    char name[DNS_NAME_MAX * 4];
    if (strlen(owner) >= sizeof(name)) {
        return reader_fail(r, "invalid domain name", owner);
    }
    lower_copy(name, sizeof(name), owner);
    size_t len = strlen(name);
    if (r->origin[0] == '\0' || (len > 0 && name[len - 1] == '.')) {
        snprintf(r->owner, sizeof(r->owner), "%s", name);
    } else if (strcmp(name, "@") == 0) {
        snprintf(r->owner, sizeof(r->owner), "%s.", r->origin);
    } else {
        snprintf(r->owner, sizeof(r->owner), "%s.%s.", name, r->origin);
    }
    return 0;
}

/*
 * Turn an RPZ owner name from rpz_owner_set() into the name it triggers on:
 * the owner relative to the apex (the first $ORIGIN). Returns false for the
 * apex and for triggers that are not query names (rpz-ip, rpz-nsdname,
 * rpz-client-ip, rpz-nsip).
 */
static bool rpz_trigger(const struct domain_reader *r, const char *owner, char *out,
                        size_t size)
{
    char name[OWNER_TEXT_MAX];
    snprintf(name, sizeof(name), "%s", owner);
    size_t len = strlen(name);
    if (strcmp(name, "@") == 0) {
        return false;
    }
    if (len > 0 && name[len - 1] == '.') {
        name[--len] = '\0';
    }
    size_t alen = strlen(r->apex);
    if (alen > 0 && strcmp(name, r->apex) == 0) {
        return false;
    }
    if (alen > 0 && len > alen && name[len - alen - 1] == '.' &&
        strcmp(name + len - alen, r->apex) == 0) {
        name[len - alen - 1] = '\0';
    }
    if (strstr(name, ".rpz-") != NULL || strncmp(name, "rpz-", 4) == 0) {
        return false;
    }
    snprintf(out, size, "%s", name);
    return true;
}

static int read_rpz(struct domain_reader *r, char **tokens, size_t n, bool continued)
{
    /* Owner, then optional TTL and class, then the type and its data. */
    size_t i = continued ? 0 : 1;
    if (!continued) {
        int ret = rpz_owner_set(r, tokens[0]);
        if (ret != 0) {
            return ret;
        }
    }
    while (i < n && !is_rr_type(tokens[i])) {
        i++;
    }
    if (i == n) {
        return reader_fail(r, "unrecognised line (no record type)", NULL);
    }
    const char *type = tokens[i];
    const char *data = i + 1 < n ? tokens[i + 1] : "";
    if (strcasecmp(type, "SOA") == 0 || strcasecmp(type, "NS") == 0 ||
        (strcasecmp(type, "CNAME") == 0 && strcasecmp(data, "rpz-passthru.") == 0)) {
        return 0;
    }

    char trigger[OWNER_TEXT_MAX];
    if (!rpz_trigger(r, r->owner, trigger, sizeof(trigger))) {
        return 0;
    }
    if (strncmp(trigger, "*.", 2) == 0) {
        return add_name(r, trigger + 2, INTEL_MATCH_SUBDOMAINS);
    }
    return add_name(r, trigger, INTEL_MATCH_SELF);
}

static int read_directive(struct domain_reader *r, char **tokens, size_t n)
{
    if (strcasecmp(tokens[0], "$TTL") == 0) {
        return 0;
    }
    if (strcasecmp(tokens[0], "$ORIGIN") == 0 && n == 2) {
        lower_copy(r->origin, sizeof(r->origin), tokens[1]);
        size_t len = strlen(r->origin);
        if (len > 0 && r->origin[len - 1] == '.') {
            r->origin[len - 1] = '\0';
        }
        if (r->apex[0] == '\0') {
            snprintf(r->apex, sizeof(r->apex), "%s", r->origin);
        }
        return 0;
    }
    return reader_fail(r, "unsupported directive", tokens[0]);
}

/*
 * Cut a comment that starts with '#' or ';' outside a quoted string, and
 * blank out the parentheses that group a zone record over lines, counting
 * them in *depth.
 */
static void strip_comment(char *line, int *depth)
{
    bool quoted = false;
    for (char *p = line; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
        } else if (*p == '"') {
            quoted = !quoted;
        } else if (!quoted && (*p == '#' || *p == ';')) {
            *p = '\0';
            return;
        } else if (!quoted && (*p == '(' || *p == ')')) {
            *depth += *p == '(' ? 1 : -1;
            *p = ' ';
        }
    }
}

/* Append a line of a record split by parentheses. Returns 0, DF_EPARSE or -ENOMEM. */
static int record_append(struct domain_reader *r, const char *text)
{
    size_t len = strlen(text);
    if (r->record_len + len + 2 > RECORD_TEXT_MAX) {
        return reader_fail(r, "record in parentheses too long", NULL);
    }
    if (r->record == NULL && (r->record = malloc(RECORD_TEXT_MAX)) == NULL) {
        return -ENOMEM;
    }
    memcpy(r->record + r->record_len, text, len);
    r->record_len += len;
    r->record[r->record_len++] = ' ';
    r->record[r->record_len] = '\0';
    return 0;
}

static int read_record(struct domain_reader *r, char *p, bool continued);

/*
 * Collect a record split over lines by parentheses. Returns 1 while the
 * record is still open, else the result of reading it (0 or an error).
 */
static int read_split_record(struct domain_reader *r, const char *p, bool continued,
                             int depth_change)
{
    if (r->paren_depth == 0) {
        r->record_continued = continued;
        r->record_len = 0;
    }
    int ret = record_append(r, p);
    r->paren_depth += depth_change;
    if (ret != 0) {
        return ret;
    }
    if (r->paren_depth > 0) {
        return 1;
    }
    r->paren_depth = 0;
    return read_record(r, r->record, r->record_continued);
}

static int read_line(struct domain_reader *r, char *line)
{
    bool continued = line[0] == ' ' || line[0] == '\t';
    char *p = line + strspn(line, " \t");
    if (r->paren_depth == 0) {
        if (*p == '!' || *p == '[' || strncmp(p, "@@", 2) == 0) {
            return 0; /* adblock comment, header or exception */
        }
        if (strstr(p, "##") != NULL || strstr(p, "#@#") != NULL ||
            strstr(p, "#?#") != NULL) {
            return 0; /* adblock element-hiding rule: no domain to block */
        }
        if (strncmp(p, "||", 2) == 0) {
            p[strcspn(p, "#;")] = '\0';
            return read_adblock(r, p);
        }
    }

    int depth_change = 0;
    strip_comment(p, &depth_change);
    if (r->paren_depth > 0 || depth_change > 0) {
        int ret = read_split_record(r, p, continued, depth_change);
        return ret == 1 ? 0 : ret;
    }
    return read_record(r, p, continued);
}

/* Read one whole line or record, comments and parentheses removed. */
static int read_record(struct domain_reader *r, char *p, bool continued)
{
    char *tokens[TOKENS_MAX];
    size_t n = tokenize(p, tokens);
    if (n == 0) {
        return 0;
    }
    if (tokens[0][0] == '$') {
        return read_directive(r, tokens, n);
    }
    struct addr a;
    if (!continued && addr_parse(tokens[0], &a) == 0) {
        return read_hosts(r, tokens, n);
    }
    if (n == 1 && !continued) {
        if (strncmp(tokens[0], "*.", 2) == 0) {
            return add_name(r, tokens[0] + 2, INTEL_MATCH_SUBDOMAINS);
        }
        return add_name(r, tokens[0], INTEL_MATCH_SELF | INTEL_MATCH_SUBDOMAINS);
    }
    return read_rpz(r, tokens, n, continued);
}

int intel_domains_load(const char *path, struct intel_domain_set **out, char *err,
                       size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int ret = -errno;
        snprintf(err, err_size, "%s: cannot open (%s)", path, df_strerror(ret));
        return ret;
    }
    struct domain_reader r = { .path = path, .err = err, .err_size = err_size };
    int ret = intel_domain_set_create(&r.set);

    char *line = NULL;
    size_t cap = 0;
    while (ret == 0 && getline(&line, &cap, f) != -1) {
        r.line_no++;
        ret = read_line(&r, line);
    }
    if (ret == 0 && ferror(f)) {
        ret = -EIO;
        snprintf(err, err_size, "%s: read failed", path);
    }
    if (ret == 0 && r.paren_depth > 0) {
        ret = reader_fail(&r, "file ends inside parentheses", NULL);
    }
    free(r.record);
    free(line);
    fclose(f);

    if (ret != 0) {
        if (ret == -ENOMEM) {
            snprintf(err, err_size, "%s:%lu: out of memory", path, r.line_no);
        }
        intel_domain_set_free(r.set);
        return ret;
    }
    *out = r.set;
    return 0;
}
