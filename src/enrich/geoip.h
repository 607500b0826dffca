/* SPDX-License-Identifier: MIT */
/*
 * geoip.h - country, city and network owner of an address, from MaxMind DB
 * files (GeoIP2/GeoLite2 City, Country and ASN) read with libmaxminddb.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "util/addr.h"

#define GEOIP_NAME_MAX 128

struct geoip_result {
    char country_iso_code[3];         /* "" = unknown */
    char city_name[GEOIP_NAME_MAX];   /* English name, "" = unknown */
    uint32_t as_number;               /* 0 = unknown */
    char as_org[GEOIP_NAME_MAX];      /* "" = unknown */
};

struct geoip;

/*
 * Open the databases named by cfg->geoip_city, geoip_country and
 * geoip_asn; an empty setting leaves that database out. Each file must open,
 * be of the matching database type, and answer a test lookup without a
 * data error. Returns 0 (with *out NULL when no database is set), or
 * DF_ECONFIG with "FILE: reason" in @p err.
 */
int geoip_open(const struct config *cfg, struct geoip **out, char *err, size_t err_size);
void geoip_close(struct geoip *g);

/* Whether a database that gives the AS number, or the country, is open. */
bool geoip_has_asn(const struct geoip *g);
bool geoip_has_country(const struct geoip *g);

/* Look up @p a in every open database; unknown fields are left empty. */
void geoip_lookup(const struct geoip *g, const struct addr *a, struct geoip_result *out);
