/* SPDX-License-Identifier: MIT */
/*
 * intel_addresses.c - address lists and longest-prefix match.
 *
 * Each family keeps one sorted array of network keys per prefix length. A
 * lookup masks the address to each length present, longest first, and
 * binary-searches that length's array: at most 33 (IPv4) or 129 (IPv6)
 * searches, in practice the 10 to 20 lengths a real list uses.
 */
#include "enrich/intel.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define FAMILIES 2 /* index 0 = IPv4, 1 = IPv6 */

/* An address as a 128-bit number; IPv4 fills the top 32 bits. */
struct key {
    uint64_t hi;
    uint64_t lo;
};

struct length_array {
    struct key *keys;
    size_t count;
    size_t cap;
};

struct intel_addr_set {
    struct length_array by_len[FAMILIES][129];
    uint8_t lengths[FAMILIES][129]; /* lengths present, longest first */
    size_t length_count[FAMILIES];
    size_t count;
};

int intel_addr_set_create(struct intel_addr_set **out)
{
    *out = calloc(1, sizeof(**out));
    return *out != NULL ? 0 : -ENOMEM;
}

void intel_addr_set_free(struct intel_addr_set *set)
{
    if (set == NULL) {
        return;
    }
    for (int f = 0; f < FAMILIES; f++) {
        for (int l = 0; l <= 128; l++) {
            free(set->by_len[f][l].keys);
        }
    }
    free(set);
}

size_t intel_addr_set_count(const struct intel_addr_set *set)
{
    return set->count;
}

static struct key key_of(const struct addr *a)
{
    struct key k = { 0, 0 };
    for (int i = 0; i < 8; i++) {
        k.hi = k.hi << 8 | a->bytes[i];
        k.lo = k.lo << 8 | a->bytes[i + 8];
    }
    return k;
}

static struct key key_mask(struct key k, unsigned len)
{
    if (len == 0) {
        return (struct key){ 0, 0 };
    }
    if (len <= 64) {
        k.hi &= ~UINT64_C(0) << (64 - len);
        k.lo = 0;
    } else if (len < 128) {
        k.lo &= ~UINT64_C(0) << (128 - len);
    }
    return k;
}

static int key_compare(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    if (x->hi != y->hi) {
        return x->hi < y->hi ? -1 : 1;
    }
    if (x->lo != y->lo) {
        return x->lo < y->lo ? -1 : 1;
    }
    return 0;
}

static int family_index(uint8_t family)
{
    return family == ADDR_FAMILY_IPV4 ? 0 : 1;
}

int intel_addr_set_add(struct intel_addr_set *set, const struct prefix *p)
{
    struct length_array *arr = &set->by_len[family_index(p->addr.family)][p->len];
    if (arr->count == arr->cap) {
        size_t cap = arr->cap == 0 ? 64 : arr->cap * 2;
        struct key *keys = realloc(arr->keys, cap * sizeof(*keys));
        if (keys == NULL) {
            return -ENOMEM;
        }
        arr->keys = keys;
        arr->cap = cap;
    }
    arr->keys[arr->count++] = key_of(&p->addr);
    return 0;
}

/* Sort @p arr and remove repeated keys. */
static size_t sort_unique(struct length_array *arr)
{
    if (arr->count == 0) {
        return 0;
    }
    qsort(arr->keys, arr->count, sizeof(arr->keys[0]), key_compare);
    size_t out = 1;
    for (size_t i = 1; i < arr->count; i++) {
        if (key_compare(&arr->keys[i], &arr->keys[out - 1]) != 0) {
            arr->keys[out++] = arr->keys[i];
        }
    }
    arr->count = out;
    return out;
}

void intel_addr_set_finish(struct intel_addr_set *set)
{
    set->count = 0;
    for (int f = 0; f < FAMILIES; f++) {
        set->length_count[f] = 0;
        for (int l = 128; l >= 0; l--) {
            size_t n = sort_unique(&set->by_len[f][l]);
            if (n > 0) {
                set->lengths[f][set->length_count[f]++] = (uint8_t)l;
                set->count += n;
            }
        }
    }
}

/* Binary search written out: a compare callback per step costs more than the step. */
static bool contains_key(const struct length_array *arr, struct key k)
{
    size_t lo = 0, hi = arr->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct key *m = &arr->keys[mid];
        if (m->hi < k.hi || (m->hi == k.hi && m->lo < k.lo)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < arr->count && arr->keys[lo].hi == k.hi && arr->keys[lo].lo == k.lo;
}

bool intel_addr_set_lookup(const struct intel_addr_set *set, const struct addr *a,
                           struct prefix *matched)
{
    if (a->family != ADDR_FAMILY_IPV4 && a->family != ADDR_FAMILY_IPV6) {
        return false;
    }
    int f = family_index(a->family);
    struct key full = key_of(a);
    for (size_t i = 0; i < set->length_count[f]; i++) {
        unsigned len = set->lengths[f][i];
        const struct length_array *arr = &set->by_len[f][len];
        struct key k = key_mask(full, len);
        if (contains_key(arr, k)) {
            matched->addr = *a;
            addr_mask(&matched->addr, len);
            matched->len = (uint8_t)len;
            return true;
        }
    }
    return false;
}

/* ---- list files ------------------------------------------------------- */

static int read_address_line(struct intel_addr_set *set, char *line, const char *path,
                             unsigned long line_no, char *err, size_t err_size)
{
    line[strcspn(line, ";#")] = '\0';
    char *start = line + strspn(line, " \t\r\n");
    size_t len = strcspn(start, " \t\r\n");
    if (len == 0) {
        return 0;
    }
    char *rest = start + len + strspn(start + len, " \t\r\n");
    start[len] = '\0';
    if (*rest != '\0') {
        snprintf(err, err_size, "%s:%lu: unexpected text after the prefix '%s'", path,
                 line_no, start);
        return DF_EPARSE;
    }

    struct prefix p;
    if (prefix_parse(start, &p) != 0) {
        snprintf(err, err_size,
                 "%s:%lu: invalid address or prefix '%s' (expected 192.0.2.0/24 or "
                 "2001:db8::/32, with no bits set past the length)",
                 path, line_no, start);
        return DF_EPARSE;
    }
    int ret = intel_addr_set_add(set, &p);
    if (ret != 0) {
        snprintf(err, err_size, "%s:%lu: out of memory", path, line_no);
    }
    return ret;
}

int intel_addresses_load(const char *path, struct intel_addr_set **out, char *err,
                         size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int ret = -errno;
        snprintf(err, err_size, "%s: cannot open (%s)", path, df_strerror(ret));
        return ret;
    }
    struct intel_addr_set *set = NULL;
    int ret = intel_addr_set_create(&set);

    char *line = NULL;
    size_t cap = 0;
    unsigned long line_no = 0;
    while (ret == 0 && getline(&line, &cap, f) != -1) {
        line_no++;
        ret = read_address_line(set, line, path, line_no, err, err_size);
    }
    if (ret == 0 && ferror(f)) {
        ret = -EIO;
        snprintf(err, err_size, "%s: read failed", path);
    }
    free(line);
    fclose(f);

    if (ret != 0) {
        intel_addr_set_free(set);
        return ret;
    }
    intel_addr_set_finish(set);
    *out = set;
    return 0;
}
