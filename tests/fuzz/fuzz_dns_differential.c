/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns_differential.c - dns_wire_parse() against ldns_wire2pkt().
 *
 * ldns (NLnet Labs, Debian package libldns-dev) is an independent DNS
 * parser. For every input that both parsers accept in full, the header ID,
 * flags, the four section counts and the first question (name compared
 * case-insensitively in wire form, type, class) must agree. A disagreement
 * prints both readings and aborts, so libFuzzer saves the input.
 *
 * Legitimate differences, left out of the comparison:
 * - ldns is stricter: it parses the RDATA of every record by type and the
 *   whole message, while dns_wire_parse() steps over RDATA and stops after
 *   the first OPT record. Inputs that only ldns rejects are not compared.
 * - ldns takes OPT records and a TSIG record out of the additional section
 *   and lowers its ARCOUNT by their number. Its record walk can also end up
 *   at other record boundaries than an RDLENGTH walk: on a fuzzed response
 *   ldns 1.8.3 read owner names that the RDLENGTH walk puts inside RDATA,
 *   and so found no OPT record where dns_wire_parse() found one. ARCOUNT is
 *   therefore only checked to be no larger than ours.
 * - ldns keeps no Z bit (0x0040), so that bit is masked out.
 * - ldns stores the 4-bit header RCODE and the EDNS extension apart, so
 *   only the header RCODE is compared.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "decode/dns_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t ldns_flags(const ldns_pkt *p)
{
    return (uint16_t)((ldns_pkt_qr(p) ? DNS_FLAG_QR : 0) |
                      ((unsigned)ldns_pkt_get_opcode(p) & 0xf) << 11 |
                      (ldns_pkt_aa(p) ? DNS_FLAG_AA : 0) | (ldns_pkt_tc(p) ? DNS_FLAG_TC : 0) |
                      (ldns_pkt_rd(p) ? DNS_FLAG_RD : 0) | (ldns_pkt_ra(p) ? DNS_FLAG_RA : 0) |
                      (ldns_pkt_ad(p) ? DNS_FLAG_AD : 0) | (ldns_pkt_cd(p) ? DNS_FLAG_CD : 0) |
                      ((unsigned)ldns_pkt_get_rcode(p) & 0xf));
}

static bool names_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    if (a_len != b_len) {
        return false;
    }
    for (size_t i = 0; i < a_len; i++) {
        if (tolower(a[i]) != tolower(b[i])) {
            return false;
        }
    }
    return true;
}

static void mismatch(const char *field, unsigned ours, unsigned theirs)
{
    fprintf(stderr, "differential: %s differs: dns_wire %u, ldns %u\n", field, ours, theirs);
    abort();
}

static void compare_question(const struct dns_message *msg, const ldns_pkt *p)
{
    ldns_rr_list *questions = ldns_pkt_question(p);
    size_t count = questions != NULL ? ldns_rr_list_rr_count(questions) : 0;
    if (msg->has_question != (count > 0)) {
        mismatch("question presence", msg->has_question, (unsigned)count);
    }
    if (count == 0) {
        return;
    }

    const ldns_rr *q = ldns_rr_list_rr(questions, 0);
    const ldns_rdf *owner = ldns_rr_owner(q);
    if (!names_equal(msg->qname, msg->qname_len, ldns_rdf_data(owner), ldns_rdf_size(owner))) {
        mismatch("question name length", msg->qname_len, (unsigned)ldns_rdf_size(owner));
    }
    if (msg->qtype != (uint16_t)ldns_rr_get_type(q)) {
        mismatch("qtype", msg->qtype, (unsigned)ldns_rr_get_type(q));
    }
    if (msg->qclass != (uint16_t)ldns_rr_get_class(q)) {
        mismatch("qclass", msg->qclass, (unsigned)ldns_rr_get_class(q));
    }
}

static void compare(const struct dns_message *msg, const ldns_pkt *p)
{
    if (msg->id != ldns_pkt_id(p)) {
        mismatch("id", msg->id, ldns_pkt_id(p));
    }
    if ((msg->flags & ~DNS_FLAG_Z) != ldns_flags(p)) {
        mismatch("flags", msg->flags & ~DNS_FLAG_Z, ldns_flags(p));
    }
    if (msg->qdcount != ldns_pkt_qdcount(p)) {
        mismatch("qdcount", msg->qdcount, ldns_pkt_qdcount(p));
    }
    if (msg->ancount != ldns_pkt_ancount(p)) {
        mismatch("ancount", msg->ancount, ldns_pkt_ancount(p));
    }
    if (msg->nscount != ldns_pkt_nscount(p)) {
        mismatch("nscount", msg->nscount, ldns_pkt_nscount(p));
    }

    /* See the ARCOUNT note at the top. */
    unsigned theirs = ldns_pkt_arcount(p) + (ldns_pkt_tsig(p) != NULL ? 1 : 0);
    if (msg->arcount < theirs) {
        mismatch("arcount", msg->arcount, theirs);
    }
    compare_question(msg, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_message msg;
    memset(&msg, 0, sizeof(msg));
    if (dns_wire_parse(data, size, &msg) != DNS_WIRE_OK) {
        return 0;
    }

    ldns_pkt *p = NULL;
    if (ldns_wire2pkt(&p, data, size) != LDNS_STATUS_OK) {
        return 0;
    }
    compare(&msg, p);
    ldns_pkt_free(p);
    return 0;
}
