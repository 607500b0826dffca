/* SPDX-License-Identifier: MIT */
/*
 * fuzz_intel_lists.c - libFuzzer target for the intel list readers.
 *
 * The input is the text of a list. It goes through intel_domains_load() as
 * it is, and in four rewritten forms. Each form steers every line into one
 * of the formats the reader detects: a plain name, a hosts line
 * ("0.0.0.0 LINE"), an adblock rule ("||LINE^") and an RPZ record under
 * "$ORIGIN rpz.test." ("LINE CNAME ."). The text as it is also goes through
 * intel_addresses_load(). The loaders read a file, so each text is written
 * to a memfd and opened through /proc/self/fd.
 *
 * After a load that succeeds, the first tokens of the input are looked up
 * as names and as addresses: a domain match must point at a label start
 * inside the name, an address match must be a prefix that contains the
 * address. A failed load must leave an error text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decode/dns_message.h"
#include "enrich/intel.h"
#include "util/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LOOKUPS_MAX 8
#define TOKEN_MAX 300

enum form {
    FORM_AS_IS,
    FORM_PLAIN,
    FORM_HOSTS,
    FORM_ADBLOCK,
    FORM_RPZ,
    FORM_COUNT,
};

/* Text written before and after each line of the input, per form. */
static const char *const line_before[FORM_COUNT] = { "", "", "0.0.0.0 ", "||", "" };
static const char *const line_after[FORM_COUNT] = { "", "", "", "^", " CNAME ." };

/* Write @p data in the given form into a fresh memfd. Returns the fd. */
static int write_form(const uint8_t *data, size_t size, enum form form)
{
    int fd = memfd_create("intel-list", MFD_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(dup(fd), "w") : NULL;
    if (f == NULL) {
        abort();
    }
    if (form == FORM_RPZ) {
        fputs("$ORIGIN rpz.test.\n", f);
    }
    size_t start = 0;
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t len = nl != NULL ? (size_t)(nl - (data + start)) : size - start;
        fputs(line_before[form], f);
        fwrite(data + start, 1, len, f);
        fputs(line_after[form], f);
        if (nl != NULL || form != FORM_AS_IS) {
            fputc('\n', f);
        }
        start += len + 1;
    }
    fclose(f);
    return fd;
}

/* Convert a dotted token to wire form, checking only sizes. Returns 0 when it does not fit. */
static size_t token_to_wire(const char *token, uint8_t *wire)
{
    size_t n = 0;
    const char *p = token;
    while (*p != '\0') {
        size_t len = strcspn(p, ".");
        if (len == 0 || len > DNS_LABEL_MAX || n + len + 2 > DNS_NAME_MAX) {
            return 0;
        }
        wire[n++] = (uint8_t)len;
        memcpy(wire + n, p, len);
        n += len;
        p += len + (p[len] == '.');
    }
    wire[n++] = 0;
    return n;
}

/* Split the first tokens of the input, without its list syntax. */
static size_t input_tokens(const uint8_t *data, size_t size, char tokens[][TOKEN_MAX])
{
    size_t count = 0;
    size_t i = 0;
    while (i < size && count < LOOKUPS_MAX) {
        size_t len = 0;
        while (i < size && strchr(" \t\r\n|^$#;!", data[i]) == NULL && data[i] != 0) {
            if (len + 1 < TOKEN_MAX) {
                tokens[count][len++] = (char)data[i];
            }
            i++;
        }
        tokens[count][len] = '\0';
        if (len > 0) {
            count++;
        }
        i++;
    }
    return count;
}

static void check_domains(const struct intel_domain_set *set, char tokens[][TOKEN_MAX],
                          size_t count)
{
    for (size_t i = 0; i < count; i++) {
        uint8_t wire[DNS_NAME_MAX + 1];
        size_t len = token_to_wire(tokens[i], wire);
        size_t offset = 0;
        if (len == 0 || !intel_domain_set_lookup(set, wire, len, &offset)) {
            continue;
        }
        size_t pos = 0;
        while (pos < offset && wire[pos] != 0) {
            pos += (size_t)wire[pos] + 1;
        }
        if (pos != offset || offset >= len) {
            abort();
        }
    }
}

static void check_addresses(const struct intel_addr_set *set, char tokens[][TOKEN_MAX],
                            size_t count)
{
    for (size_t i = 0; i < count; i++) {
        struct addr a;
        struct prefix matched;
        tokens[i][strcspn(tokens[i], "/")] = '\0';
        if (addr_parse(tokens[i], &a) != 0 || !intel_addr_set_lookup(set, &a, &matched)) {
            continue;
        }
        if (!prefix_contains(&matched, &a)) {
            abort();
        }
    }
}

static void check_error(int ret, const char *err)
{
    if (ret != 0 && err[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char tokens[LOOKUPS_MAX][TOKEN_MAX];
    size_t count = input_tokens(data, size, tokens);
    char path[64];
    char err[INTEL_ERR_MAX];

    for (int form = FORM_AS_IS; form < FORM_COUNT; form++) {
        int fd = write_form(data, size, (enum form)form);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        struct intel_domain_set *domains = NULL;
        err[0] = '\0';
        int ret = intel_domains_load(path, &domains, err, sizeof(err));
        check_error(ret, err);
        if (ret == 0) {
            check_domains(domains, tokens, count);
            intel_domain_set_free(domains);
        }

        if (form == FORM_AS_IS) {
            struct intel_addr_set *addresses = NULL;
            err[0] = '\0';
            ret = intel_addresses_load(path, &addresses, err, sizeof(err));
            check_error(ret, err);
            if (ret == 0) {
                check_addresses(addresses, tokens, count);
                intel_addr_set_free(addresses);
            }
        }
        close(fd);
    }
    return 0;
}
