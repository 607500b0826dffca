/* SPDX-License-Identifier: MIT */
/*
 * geoip.c - MaxMind DB lookups.
 *
 * The databases are memory-mapped by libmaxminddb, which verifies the
 * metadata when it opens a file. A file whose search tree or data section is
 * damaged may still open, so geoip_open() also walks the full record of a
 * test lookup; a damaged file fails there, before any traffic is read.
 */
#include "enrich/geoip.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

enum geoip_db {
    GEOIP_CITY = 0,
    GEOIP_COUNTRY,
    GEOIP_ASN,
    GEOIP_DB_COUNT,
};

struct geoip {
    bool open[GEOIP_DB_COUNT];
    MMDB_s db[GEOIP_DB_COUNT];
};

/* Database type words that each setting accepts, from the file's metadata. */
static const char *const type_words[GEOIP_DB_COUNT] = { "City", "Country", "ASN" };
static const char *const setting_names[GEOIP_DB_COUNT] = {
    "geoip-city", "geoip-country", "geoip-asn",
};

/* Addresses that a test lookup tries: one per family, whatever is in the file. */
static const char *const probe_addresses[] = { "1.128.0.0", "81.2.69.142", "2001:db8::1" };

static void to_sockaddr(const struct addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->family == ADDR_FAMILY_IPV4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, a->bytes, 4);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, a->bytes, 16);
    }
}

/* Look up @p a; returns 0 with *found set, or an MMDB error code. */
static int db_lookup(const MMDB_s *db, const struct addr *a, MMDB_lookup_result_s *res)
{
    struct sockaddr_storage ss;
    to_sockaddr(a, &ss);
    int mmdb_err = MMDB_SUCCESS;
    *res = MMDB_lookup_sockaddr(db, (const struct sockaddr *)&ss, &mmdb_err);
    return mmdb_err;
}

/* Walk the test lookups' records in full, so that broken pointers show up now. */
static int db_probe(const MMDB_s *db)
{
    for (size_t i = 0; i < sizeof(probe_addresses) / sizeof(probe_addresses[0]); i++) {
        struct addr a;
        MMDB_lookup_result_s res;
        addr_parse(probe_addresses[i], &a);
        int ret = db_lookup(db, &a, &res);
        if (ret != MMDB_SUCCESS) {
            return ret;
        }
        if (!res.found_entry) {
            continue;
        }
        MMDB_entry_data_list_s *list = NULL;
        ret = MMDB_get_entry_data_list(&res.entry, &list);
        MMDB_free_entry_data_list(list);
        if (ret != MMDB_SUCCESS) {
            return ret;
        }
    }
    return MMDB_SUCCESS;
}

static int db_open(struct geoip *g, enum geoip_db which, const char *path, char *err,
                   size_t err_size)
{
    int ret = MMDB_open(path, MMDB_MODE_MMAP, &g->db[which]);
    if (ret != MMDB_SUCCESS) {
        snprintf(err, err_size, "%s: cannot open %s database (%s)", path,
                 setting_names[which], MMDB_strerror(ret));
        return DF_ECONFIG;
    }
    g->open[which] = true;

    const char *type = g->db[which].metadata.database_type;
    bool type_ok = type != NULL && strstr(type, type_words[which]) != NULL;
    if (which == GEOIP_COUNTRY && type != NULL && strstr(type, "City") != NULL) {
        type_ok = true; /* a City database carries the country too */
    }
    if (!type_ok) {
        snprintf(err, err_size, "%s: database type '%s' is not a %s database for %s", path,
                 type != NULL ? type : "", type_words[which], setting_names[which]);
        return DF_ECONFIG;
    }

    ret = db_probe(&g->db[which]);
    if (ret != MMDB_SUCCESS) {
        snprintf(err, err_size, "%s: damaged database (%s)", path, MMDB_strerror(ret));
        return DF_ECONFIG;
    }
    return 0;
}

int geoip_open(const struct config *cfg, struct geoip **out, char *err, size_t err_size)
{
    const char *paths[GEOIP_DB_COUNT] = { cfg->geoip_city, cfg->geoip_country, cfg->geoip_asn };
    *out = NULL;
    if (paths[0][0] == '\0' && paths[1][0] == '\0' && paths[2][0] == '\0') {
        return 0;
    }
    struct geoip *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        snprintf(err, err_size, "geoip: out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < GEOIP_DB_COUNT; i++) {
        if (paths[i][0] == '\0') {
            continue;
        }
        int ret = db_open(g, (enum geoip_db)i, paths[i], err, err_size);
        if (ret != 0) {
            geoip_close(g);
            return ret;
        }
    }
    *out = g;
    return 0;
}

void geoip_close(struct geoip *g)
{
    if (g == NULL) {
        return;
    }
    for (int i = 0; i < GEOIP_DB_COUNT; i++) {
        if (g->open[i]) {
            MMDB_close(&g->db[i]);
        }
    }
    free(g);
}

bool geoip_has_asn(const struct geoip *g)
{
    return g != NULL && g->open[GEOIP_ASN];
}

bool geoip_has_country(const struct geoip *g)
{
    return g != NULL && (g->open[GEOIP_COUNTRY] || g->open[GEOIP_CITY]);
}

/* Copy a UTF-8 string value found at @p path into @p out; leaves @p out alone otherwise. */
static void get_string(MMDB_entry_s *entry, char *out, size_t size, const char *const *path)
{
    MMDB_entry_data_s data;
    if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
        data.type != MMDB_DATA_TYPE_UTF8_STRING) {
        return;
    }
    size_t len = data.data_size < size - 1 ? data.data_size : size - 1;
    memcpy(out, data.utf8_string, len);
    out[len] = '\0';
}

static void get_uint32(MMDB_entry_s *entry, uint32_t *out, const char *const *path)
{
    MMDB_entry_data_s data;
    if (MMDB_aget_value(entry, &data, path) == MMDB_SUCCESS && data.has_data &&
        data.type == MMDB_DATA_TYPE_UINT32) {
        *out = data.uint32;
    }
}

static bool entry_of(const struct geoip *g, enum geoip_db which, const struct addr *a,
                     MMDB_entry_s *entry)
{
    MMDB_lookup_result_s res;
    if (!g->open[which] || db_lookup(&g->db[which], a, &res) != MMDB_SUCCESS ||
        !res.found_entry) {
        return false;
    }
    *entry = res.entry;
    return true;
}

void geoip_lookup(const struct geoip *g, const struct addr *a, struct geoip_result *out)
{
    static const char *const country_path[] = { "country", "iso_code", NULL };
    static const char *const city_path[] = { "city", "names", "en", NULL };
    static const char *const asn_path[] = { "autonomous_system_number", NULL };
    static const char *const org_path[] = { "autonomous_system_organization", NULL };
    MMDB_entry_s entry;

    memset(out, 0, sizeof(*out));
    if (g == NULL) {
        return;
    }
    if (entry_of(g, GEOIP_CITY, a, &entry)) {
        get_string(&entry, out->country_iso_code, sizeof(out->country_iso_code), country_path);
        get_string(&entry, out->city_name, sizeof(out->city_name), city_path);
    }
    if (entry_of(g, GEOIP_COUNTRY, a, &entry)) {
        get_string(&entry, out->country_iso_code, sizeof(out->country_iso_code), country_path);
    }
    if (entry_of(g, GEOIP_ASN, a, &entry)) {
        get_uint32(&entry, &out->as_number, asn_path);
        get_string(&entry, out->as_org, sizeof(out->as_org), org_path);
    }
}
