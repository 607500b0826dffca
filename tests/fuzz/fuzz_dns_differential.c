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
 *
 * For a response to a PTR question, dns_answers_find_ptr() must find the
 * PTR record that a walk over ldns's answer records finds: records in
 * order, owners compared case-insensitively, a CNAME moving the owner to
 * its target. The target must match byte for byte and the TTL too. When
 * ldns has no such record, ours must return DF_ENOTFOUND; a PTR or CNAME
 * on the chain whose name ldns_wire2dname() cannot read with the message
 * cut at the end of the RDATA must give DF_EPARSE. Messages where
 * ldns's own record walk (ldns_wire2rr) ends an answer record elsewhere
 * than its RDLENGTH says are not compared: ldns 1.8.3 goes on after the
 * last RDATA field it parsed, so it reads other records than
 * dns_answers_find_ptr(), which follows RDLENGTH as RFC 1035 asks.
 *
 * Messages with two TSIG records or more in the additional section are not
 * given to ldns at all: ldns_wire2pkt() of ldns 1.8.3 keeps only the last
 * one and never frees the others, and LeakSanitizer then stops the run.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "decode/dns_answers.h"
#include "decode/dns_wire.h"
#include "util/error.h"

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

/* One answer record as ldns reads it, with where its RDATA lies. */
struct ldns_answer {
    ldns_rr *rr;
    size_t rdata;
    size_t rdata_end;
};

static void ldns_answers_free(struct ldns_answer *answers, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        ldns_rr_free(answers[i].rr);
    }
    free(answers);
}

/*
 * Read the answer records with ldns_wire2rr(), one at a time. Returns the
 * records, or NULL when a record does not end where its RDLENGTH says.
 */
static struct ldns_answer *ldns_answers_read(const uint8_t *data, size_t size,
                                             const ldns_pkt *p)
{
    size_t pos = 12;
    for (size_t i = 0; i < ldns_pkt_qdcount(p); i++) {
        ldns_rr *rr = NULL;
        if (ldns_wire2rr(&rr, data, size, &pos, LDNS_SECTION_QUESTION) != LDNS_STATUS_OK) {
            return NULL;
        }
        ldns_rr_free(rr);
    }

    size_t count = ldns_pkt_ancount(p);
    struct ldns_answer *answers = calloc(count + 1, sizeof(*answers));
    if (answers == NULL) {
        abort();
    }
    for (size_t i = 0; i < count; i++) {
        size_t start = pos;
        ldns_rdf *owner = NULL;
        if (ldns_wire2dname(&owner, data, size, &pos) != LDNS_STATUS_OK || pos + 10 > size) {
            ldns_rdf_deep_free(owner);
            ldns_answers_free(answers, i);
            return NULL;
        }
        ldns_rdf_deep_free(owner);
        answers[i].rdata = pos + 10;
        answers[i].rdata_end = pos + 10 + ((size_t)data[pos + 8] << 8 | data[pos + 9]);

        pos = start;
        if (ldns_wire2rr(&answers[i].rr, data, size, &pos, LDNS_SECTION_ANSWER) !=
                LDNS_STATUS_OK ||
            pos != answers[i].rdata_end) {
            ldns_answers_free(answers, i + 1);
            return NULL;
        }
    }
    return answers;
}

/*
 * Walk the answer records from the question name as dns_answers.h
 * describes. Returns 0 with *ptr set, DF_ENOTFOUND, or DF_EPARSE for a PTR
 * or CNAME on the chain whose RDATA holds no name that ldns_wire2dname()
 * reads within the RDATA.
 */
static int ldns_find_ptr(const uint8_t *data, const struct dns_message *msg,
                         const struct ldns_answer *answers, size_t count, const ldns_rr **ptr)
{
    const uint8_t *owner = msg->qname;
    size_t owner_len = msg->qname_len;
    for (size_t i = 0; i < count; i++) {
        const ldns_rr *rr = answers[i].rr;
        const ldns_rdf *rr_owner = ldns_rr_owner(rr);
        ldns_rr_type type = ldns_rr_get_type(rr);
        if (!names_equal(ldns_rdf_data(rr_owner), ldns_rdf_size(rr_owner), owner, owner_len) ||
            (type != LDNS_RR_TYPE_CNAME && type != LDNS_RR_TYPE_PTR)) {
            continue;
        }

        /* The name must end inside the RDATA, also after compression pointers. */
        ldns_rdf *bounded = NULL;
        size_t pos = answers[i].rdata;
        ldns_status status = ldns_wire2dname(&bounded, data, answers[i].rdata_end, &pos);
        ldns_rdf_deep_free(bounded);
        const ldns_rdf *target = ldns_rr_rd_count(rr) > 0 ? ldns_rr_rdf(rr, 0) : NULL;
        if (status != LDNS_STATUS_OK || target == NULL ||
            ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME) {
            return DF_EPARSE;
        }
        if (type == LDNS_RR_TYPE_PTR) {
            *ptr = rr;
            return 0;
        }
        owner = ldns_rdf_data(target);
        owner_len = ldns_rdf_size(target);
    }
    return DF_ENOTFOUND;
}

static void compare_ptr(const uint8_t *data, size_t size, const struct dns_message *msg,
                        const ldns_pkt *p)
{
    if (!msg->has_question || msg->qtype != DNS_TYPE_PTR || !(msg->flags & DNS_FLAG_QR)) {
        return;
    }
    struct ldns_answer *answers = ldns_answers_read(data, size, p);
    if (answers == NULL) {
        return; /* see the RDLENGTH note at the top */
    }
    const ldns_rr *theirs = NULL;
    int expected = ldns_find_ptr(data, msg, answers, ldns_pkt_ancount(p), &theirs);

    struct dns_ptr_answer ours;
    memset(&ours, 0, sizeof(ours));
    int ret = dns_answers_find_ptr(data, size, msg->records_offset, msg->ancount, msg->qname,
                                   msg->qname_len, &ours);
    if (ret != expected) {
        fprintf(stderr, "differential: PTR lookup returns %d, ldns walk %d\n", ret, expected);
        abort();
    }
    if (ret == 0) {
        const ldns_rdf *target = ldns_rr_rdf(theirs, 0);
        if (ours.target_len != ldns_rdf_size(target) ||
            memcmp(ours.target, ldns_rdf_data(target), ours.target_len) != 0) {
            mismatch("PTR target length", ours.target_len, (unsigned)ldns_rdf_size(target));
        }
        if (ours.ttl != ldns_rr_ttl(theirs)) {
            mismatch("PTR TTL", ours.ttl, ldns_rr_ttl(theirs));
        }
    }
    ldns_answers_free(answers, ldns_pkt_ancount(p));
}

/*
 * Return true when ldns_wire2pkt() would read two TSIG records or more in
 * the additional section before it stops: it walks the records as that
 * function does, with ldns_wire2rr(), and counts them.
 */
static bool several_tsig(const uint8_t *data, size_t size)
{
    if (size < 12) {
        return false;
    }
    size_t counts[4];
    for (int k = 0; k < 4; k++) {
        counts[k] = (size_t)data[4 + 2 * k] << 8 | data[5 + 2 * k];
    }
    static const ldns_pkt_section sections[4] = { LDNS_SECTION_QUESTION, LDNS_SECTION_ANSWER,
                                                  LDNS_SECTION_AUTHORITY,
                                                  LDNS_SECTION_ADDITIONAL };
    size_t pos = 12;
    unsigned tsig = 0;
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < counts[k]; i++) {
            ldns_rr *rr = NULL;
            if (ldns_wire2rr(&rr, data, size, &pos, sections[k]) != LDNS_STATUS_OK) {
                return tsig >= 2;
            }
            if (k == 3 && ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG) {
                tsig++;
            }
            ldns_rr_free(rr);
        }
    }
    return tsig >= 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_message msg;
    memset(&msg, 0, sizeof(msg));
    if (dns_wire_parse(data, size, &msg) != DNS_WIRE_OK) {
        return 0;
    }

    ldns_pkt *p = NULL;
    if (several_tsig(data, size) || ldns_wire2pkt(&p, data, size) != LDNS_STATUS_OK) {
        return 0;
    }
    compare(&msg, p);
    compare_ptr(data, size, &msg, p);
    ldns_pkt_free(p);
    return 0;
}
