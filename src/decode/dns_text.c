/* SPDX-License-Identifier: MIT */
/*
 * dns_text.c - presentation form of names and of the numbered registries.
 *
 * Mnemonics come from the IANA "Domain Name System (DNS) Parameters"
 * registry. Numbers without a mnemonic use the generic RFC 3597 forms.
 */
#include "decode/dns_text.h"

#include <stdio.h>

#include "util/cursor.h"

/* Output buffer that drops what does not fit and keeps room for the NUL. */
struct text_out {
    char *buf;
    size_t size;
    size_t len;
};

static void text_put(struct text_out *out, char ch)
{
    if (out->len + 1 < out->size) {
        out->buf[out->len++] = ch;
    }
}

/* Write the text of one label byte into @p text (4 bytes). Returns its length. */
static size_t label_char(uint8_t ch, char *text)
{
    if (ch == '.' || ch == '\\') {
        text[0] = '\\';
        text[1] = (char)ch;
        return 2;
    }
    if (ch < 0x21 || ch > 0x7e) {
        text[0] = '\\';
        text[1] = (char)('0' + ch / 100);
        text[2] = (char)('0' + ch / 10 % 10);
        text[3] = (char)('0' + ch % 10);
        return 4;
    }
    text[0] = (char)ch;
    return 1;
}

static void label_format(struct text_out *out, const uint8_t *label, size_t len)
{
    /* With room for every byte escaped, write straight into the buffer. */
    if (out->len + len * 4 < out->size) {
        for (size_t i = 0; i < len; i++) {
            out->len += label_char(label[i], out->buf + out->len);
        }
        return;
    }

    for (size_t i = 0; i < len; i++) {
        char text[4];
        size_t n = label_char(label[i], text);
        for (size_t j = 0; j < n; j++) {
            text_put(out, text[j]);
        }
    }
}

size_t dns_name_format(const uint8_t *name, size_t name_len, char *buf, size_t size)
{
    struct text_out out = { buf, size, 0 };
    struct cursor c = cursor_init(name, name_len);
    unsigned labels = 0;

    /* Stop at the root label, or at anything that is not a plain label,
     * which a name from dns_wire_parse() never contains. */
    for (;;) {
        uint8_t len = cursor_u8(&c, 1);
        if (c.err != 0 || len == 0 || len > DNS_LABEL_MAX) {
            break;
        }
        const uint8_t *label = cursor_bytes(&c, len, 1);
        if (label == NULL) {
            break;
        }
        if (labels++ > 0) {
            text_put(&out, '.');
        }
        label_format(&out, label, len);
    }

    if (labels == 0) {
        text_put(&out, '.');
    }
    if (size > 0) {
        buf[out.len] = '\0';
    }
    return out.len;
}

static const char *const type_names[] = {
    [1] = "A",           [2] = "NS",          [3] = "MD",          [4] = "MF",
    [5] = "CNAME",       [6] = "SOA",         [7] = "MB",          [8] = "MG",
    [9] = "MR",          [10] = "NULL",       [11] = "WKS",        [12] = "PTR",
    [13] = "HINFO",      [14] = "MINFO",      [15] = "MX",         [16] = "TXT",
    [17] = "RP",         [18] = "AFSDB",      [19] = "X25",        [20] = "ISDN",
    [21] = "RT",         [22] = "NSAP",       [23] = "NSAP-PTR",   [24] = "SIG",
    [25] = "KEY",        [26] = "PX",         [27] = "GPOS",       [28] = "AAAA",
    [29] = "LOC",        [30] = "NXT",        [31] = "EID",        [32] = "NIMLOC",
    [33] = "SRV",        [34] = "ATMA",       [35] = "NAPTR",      [36] = "KX",
    [37] = "CERT",       [38] = "A6",         [39] = "DNAME",      [40] = "SINK",
    [41] = "OPT",        [42] = "APL",        [43] = "DS",         [44] = "SSHFP",
    [45] = "IPSECKEY",   [46] = "RRSIG",      [47] = "NSEC",       [48] = "DNSKEY",
    [49] = "DHCID",      [50] = "NSEC3",      [51] = "NSEC3PARAM", [52] = "TLSA",
    [53] = "SMIMEA",     [55] = "HIP",        [56] = "NINFO",      [57] = "RKEY",
    [58] = "TALINK",     [59] = "CDS",        [60] = "CDNSKEY",    [61] = "OPENPGPKEY",
    [62] = "CSYNC",      [63] = "ZONEMD",     [64] = "SVCB",       [65] = "HTTPS",
    [99] = "SPF",        [104] = "NID",       [105] = "L32",       [106] = "L64",
    [107] = "LP",        [108] = "EUI48",     [109] = "EUI64",     [249] = "TKEY",
    [250] = "TSIG",      [251] = "IXFR",      [252] = "AXFR",      [253] = "MAILB",
    [254] = "MAILA",     [255] = "ANY",       [256] = "URI",       [257] = "CAA",
    [258] = "AVC",       [259] = "DOA",       [260] = "AMTRELAY",
};

#define TYPE_TA 32768
#define TYPE_DLV 32769

static const char *const class_names[] = {
    [1] = "IN", [2] = "CS", [3] = "CH", [4] = "HS", [254] = "NONE", [255] = "ANY",
};

/* Codes 16 to 23 come from EDNS, TSIG and TKEY. Code 16 is BADVERS in an
 * OPT record and BADSIG in a TSIG record. Only the header and OPT record are
 * decoded here, so 16 reads BADVERS. */
static const char *const rcode_names[] = {
    [0] = "NOERROR",   [1] = "FORMERR",   [2] = "SERVFAIL", [3] = "NXDOMAIN",
    [4] = "NOTIMP",    [5] = "REFUSED",   [6] = "YXDOMAIN", [7] = "YXRRSET",
    [8] = "NXRRSET",   [9] = "NOTAUTH",   [10] = "NOTZONE", [11] = "DSOTYPENI",
    [16] = "BADVERS",  [17] = "BADKEY",   [18] = "BADTIME", [19] = "BADMODE",
    [20] = "BADNAME",  [21] = "BADALG",   [22] = "BADTRUNC", [23] = "BADCOOKIE",
};

static const char *const opcode_names[] = {
    [0] = "QUERY", [1] = "IQUERY", [2] = "STATUS", [4] = "NOTIFY", [5] = "UPDATE", [6] = "DSO",
};

#define TABLE_LEN(table) (sizeof(table) / sizeof((table)[0]))

/* Entry @p value of @p table, or @p prefix and the number written to @p buf. */
static const char *table_lookup(const char *const *table, size_t table_len, unsigned value,
                                const char *prefix, char buf[16])
{
    if (value < table_len && table[value] != NULL) {
        return table[value];
    }
    snprintf(buf, 16, "%s%u", prefix, value);
    return buf;
}

const char *dns_type_name(uint16_t type, char buf[16])
{
    if (type == TYPE_TA) {
        return "TA";
    }
    if (type == TYPE_DLV) {
        return "DLV";
    }
    return table_lookup(type_names, TABLE_LEN(type_names), type, "TYPE", buf);
}

const char *dns_class_name(uint16_t qclass, char buf[16])
{
    return table_lookup(class_names, TABLE_LEN(class_names), qclass, "CLASS", buf);
}

const char *dns_rcode_name(unsigned rcode, char buf[16])
{
    return table_lookup(rcode_names, TABLE_LEN(rcode_names), rcode, "RCODE", buf);
}

const char *dns_opcode_name(unsigned opcode, char buf[16])
{
    return table_lookup(opcode_names, TABLE_LEN(opcode_names), opcode, "OPCODE", buf);
}
