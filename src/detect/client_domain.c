/* SPDX-License-Identifier: MIT */
#include "detect/client_domain.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/client_key.h"
#include "util/error.h"
#include "util/hash.h"

#define DOMAINS_MIN_CAPACITY 64
#define HASH_SEED_LOW 0x243f6a8885a308d3ULL
#define HASH_SEED_HIGH 0x13198a2e03707344ULL

void client_domains_init(struct client_domains *d, uint64_t max_count)
{
    memset(d, 0, sizeof(*d));
    d->max_count = max_count;
}

void client_domains_free(struct client_domains *d)
{
    free(d->slots);
    d->slots = NULL;
    d->count = 0;
    d->mask = 0;
}

/* Fold @p domain into @p out (STORE_KEY_MAX bytes). Returns 0 or DF_EPARSE. */
static int domain_fold(const char *domain, char *out)
{
    size_t len = strnlen(domain, STORE_KEY_MAX);
    if (len > 0 && domain[len - 1] == '.') {
        len--;
    }
    if (len == 0 || len >= STORE_KEY_MAX) {
        return DF_EPARSE;
    }
    for (size_t i = 0; i < len; i++) {
        char c = domain[i];
        if (c == '/' || c == ':') {
            return DF_EPARSE;
        }
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    return 0;
}

/* Two seeded 64-bit hashes, never all zero because all zero marks an empty slot. */
static void domain_hash(const char *text, uint8_t *hash)
{
    size_t len = strlen(text);
    uint64_t low = hash_bytes_seeded(text, len, HASH_SEED_LOW);
    uint64_t high = hash_bytes_seeded(text, len, HASH_SEED_HIGH);
    if ((low | high) == 0) {
        low = 1;
    }
    memcpy(hash, &low, 8);
    memcpy(hash + 8, &high, 8);
}

static bool slot_empty(const struct client_domain_entry *e)
{
    static const uint8_t zero[CLIENT_DOMAIN_HASH_LEN];
    return memcmp(e->hash, zero, sizeof(zero)) == 0;
}

/* The slot holding @p hash, or the empty slot where it would go. */
static struct client_domain_entry *slot_find(const struct client_domains *d,
                                             const uint8_t *hash)
{
    uint64_t home;
    memcpy(&home, hash, sizeof(home));
    for (uint64_t i = home & d->mask;; i = (i + 1) & d->mask) {
        struct client_domain_entry *e = &d->slots[i];
        if (slot_empty(e) || memcmp(e->hash, hash, CLIENT_DOMAIN_HASH_LEN) == 0) {
            return e;
        }
    }
}

/* Double the table, or allocate the first one. Returns 0 or -ENOMEM. */
static int domains_grow(struct client_domains *d)
{
    uint64_t capacity = d->slots == NULL ? DOMAINS_MIN_CAPACITY : (d->mask + 1) * 2;
    struct client_domain_entry *slots = calloc(capacity, sizeof(*slots));
    if (slots == NULL) {
        return -ENOMEM;
    }

    struct client_domains grown = { slots, capacity - 1, d->count, d->max_count };
    for (uint64_t i = 0; d->slots != NULL && i <= d->mask; i++) {
        if (!slot_empty(&d->slots[i])) {
            *slot_find(&grown, d->slots[i].hash) = d->slots[i];
        }
    }
    free(d->slots);
    *d = grown;
    return 0;
}

/* Register @p text under @p hash unless present. Returns 0 or a negative code. */
static int domains_add(struct client_domains *d, const char *text, const uint8_t *hash)
{
    if (d->slots != NULL) {
        struct client_domain_entry *e = slot_find(d, hash);
        if (!slot_empty(e)) {
            return strcmp(e->text, text) == 0 ? 0 : DF_EPARSE;
        }
    }
    if (d->count >= d->max_count) {
        return -ENOSPC;
    }

    /* The load path reads a row as a domain key only when its text is not a prefix. */
    struct prefix as_prefix;
    if (prefix_parse(text, &as_prefix) == 0) {
        return DF_EPARSE;
    }
    if (d->slots == NULL || (d->count + 1) * 4 > (d->mask + 1) * 3) {
        int ret = domains_grow(d);
        if (ret != 0) {
            return ret;
        }
    }

    struct client_domain_entry *e = slot_find(d, hash);
    memcpy(e->hash, hash, CLIENT_DOMAIN_HASH_LEN);
    memcpy(e->text, text, strlen(text) + 1);
    d->count++;
    return 0;
}

int client_domains_key(struct client_domains *d, const char *domain, struct prefix *out)
{
    char text[STORE_KEY_MAX];
    int ret = domain_fold(domain, text);
    if (ret != 0) {
        return ret;
    }

    uint8_t hash[CLIENT_DOMAIN_HASH_LEN];
    domain_hash(text, hash);
    ret = domains_add(d, text, hash);
    if (ret != 0) {
        return ret;
    }

    memset(out, 0, sizeof(*out));
    out->addr.family = ADDR_FAMILY_NAME;
    memcpy(out->addr.bytes, hash, CLIENT_DOMAIN_HASH_LEN);
    return 0;
}

int client_domains_key_of(struct client_domains *d, struct enrichment *en,
                          const struct addr *client, struct prefix *out)
{
    const char *domain = enrichment_client_domain(en, client);
    if (domain == NULL) {
        return DF_ENOTFOUND;
    }
    return client_domains_key(d, domain, out);
}

size_t client_domains_format(const struct client_domains *d, const struct prefix *key,
                             char *buf, size_t size)
{
    if (key->addr.family != ADDR_FAMILY_NAME) {
        return client_key_format(key, buf, size);
    }

    /* Every domain key in use was registered, and entries are never removed. */
    const char *text = "";
    if (d->slots != NULL) {
        const struct client_domain_entry *e = slot_find(d, key->addr.bytes);
        text = e->text;
    }
    size_t len = strnlen(text, size - 1);
    memcpy(buf, text, len);
    buf[len] = '\0';
    return len;
}
