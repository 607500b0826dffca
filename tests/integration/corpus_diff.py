#!/usr/bin/env python3
"""Compare `dnsfirst decode` with tshark oracles over a corpus of captures.

Every capture NAME.pcap (or .pcapng, .cap) that has a NAME.dns.tsv oracle next
to it is decoded with `dnsfirst decode -r NAME.pcap`. Each UDP row of the oracle
is matched to the decoded message on the same frame (dnsfirst.input.packet).
The comparison covers the capture time to the microsecond, the source and
destination address and port, the DNS id and QR bit, and the answer count of
responses. It also covers the first question's name, case folded, with
tshark's "<Root>" read as ".". The first question's type is compared as a
number, so our mnemonic is mapped back through a table.

TCP rows are compared the same way, but their differences are only counted
(and listed with --verbose): they do not fail the run yet. Mismatches listed in the
known-differences file (tab separated: file, frame, reason; file relative to
the corpus root) are reported but do not fail the run.

Exit status: 0 when every UDP mismatch is a known difference, 1 otherwise.
"""

import argparse
import datetime
import ipaddress
import json
import os
import subprocess
import sys

CAPTURE_EXTENSIONS = (".pcap", ".pcapng", ".cap")

# DNS RR TYPE mnemonics and their numbers (IANA "Resource Record (RR) TYPEs").
# Anything not listed is printed as "TYPE<number>" (RFC 3597).
QTYPE_NUMBERS = {
    "A": 1, "NS": 2, "MD": 3, "MF": 4, "CNAME": 5, "SOA": 6, "MB": 7, "MG": 8,
    "MR": 9, "NULL": 10, "WKS": 11, "PTR": 12, "HINFO": 13, "MINFO": 14,
    "MX": 15, "TXT": 16, "RP": 17, "AFSDB": 18, "X25": 19, "ISDN": 20, "RT": 21,
    "NSAP": 22, "NSAP-PTR": 23, "SIG": 24, "KEY": 25, "PX": 26, "GPOS": 27,
    "AAAA": 28, "LOC": 29, "NXT": 30, "EID": 31, "NIMLOC": 32, "SRV": 33,
    "ATMA": 34, "NAPTR": 35, "KX": 36, "CERT": 37, "A6": 38, "DNAME": 39,
    "SINK": 40, "OPT": 41, "APL": 42, "DS": 43, "SSHFP": 44, "IPSECKEY": 45,
    "RRSIG": 46, "NSEC": 47, "DNSKEY": 48, "DHCID": 49, "NSEC3": 50,
    "NSEC3PARAM": 51, "TLSA": 52, "SMIMEA": 53, "HIP": 55, "NINFO": 56,
    "RKEY": 57, "TALINK": 58, "CDS": 59, "CDNSKEY": 60, "OPENPGPKEY": 61,
    "CSYNC": 62, "ZONEMD": 63, "SVCB": 64, "HTTPS": 65, "SPF": 99,
    "UINFO": 100, "UID": 101, "GID": 102, "UNSPEC": 103, "NID": 104, "L32": 105,
    "L64": 106, "LP": 107, "EUI48": 108, "EUI64": 109, "TKEY": 249,
    "TSIG": 250, "IXFR": 251, "AXFR": 252, "MAILB": 253, "MAILA": 254,
    "ANY": 255, "URI": 256, "CAA": 257, "AVC": 258, "DOA": 259,
    "AMTRELAY": 260, "TA": 32768, "DLV": 32769,
}


def qtype_number(mnemonic):
    """Map "AAAA" or "TYPE65280" to its number; None when unknown."""
    if mnemonic is None:
        return None
    text = mnemonic.upper()
    if text in QTYPE_NUMBERS:
        return QTYPE_NUMBERS[text]
    if text.startswith("TYPE") and text[4:].isdigit():
        return int(text[4:])
    return None


def timestamp_us(text):
    """Parse "2024-05-01T12:34:56.789012Z" into microseconds since the epoch."""
    stamp = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    delta = stamp - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds


def epoch_text_us(text):
    """Parse tshark's "1461623306.714596000" into microseconds, truncating."""
    seconds, _, fraction = text.partition(".")
    return int(seconds) * 1000000 + int((fraction + "000000")[:6])


def address(text):
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def tshark_form(name):
    """Rewrite a zone-file escaped name the way tshark 4.0 prints it.

    tshark prints label bytes as they are, a dot inside a label and a
    backslash included. Control bytes become \\DDD. Bytes from 0x80 up are
    decoded as UTF-8, with U+FFFD for invalid sequences.
    """
    # NOTE: the corpus shows \DDD only for bytes below 0x20; DEL (0x7F) is
    # assumed to print the same way.
    out = bytearray()
    i = 0
    while i < len(name):
        c = name[i]
        if c == "\\" and name[i + 1:i + 4].isdigit() and len(name[i + 1:i + 4]) == 3:
            byte = int(name[i + 1:i + 4])
            i += 4
        elif c == "\\" and i + 1 < len(name):
            byte = ord(name[i + 1])
            i += 2
        else:
            out += c.encode("utf-8", errors="surrogateescape")
            i += 1
            continue
        if byte < 0x20 or byte == 0x7F:
            out += b"\\%03d" % byte
        else:
            out.append(byte)
    return out.decode("utf-8", errors="replace")


def first_field(text):
    """First value of a field that tshark joins with "," for several questions."""
    return text.split(",", 1)[0]


def read_oracle(path):
    rows = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            fields = line.rstrip("\n").split("\t")
            fields += [""] * (len(header) - len(fields))
            rows.append(dict(zip(header, fields)))
    return rows


def read_known(path):
    known = {}
    if not path or not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3 or not fields[1].isdigit():
                sys.exit(f"{path}:{number}: expected 'file<TAB>frame<TAB>reason'")
            known[(fields[0], int(fields[1]))] = fields[2]
    return known


def find_capture(oracle_path):
    base = oracle_path[: -len(".dns.tsv")]
    for ext in CAPTURE_EXTENSIONS:
        if os.path.exists(base + ext):
            return base + ext
    return None


def dns_ports(rows):
    """Ports tshark decoded DNS on: 53, plus the lower port of rows without 53."""
    ports = {53}
    for row in rows:
        if row["srcport"] and row["dstport"]:
            sport, dport = int(row["srcport"]), int(row["dstport"])
            if 53 not in (sport, dport):
                ports.add(min(sport, dport))
    return sorted(ports)


def decode(binary, capture, ports):
    """Run dnsfirst decode; return (messages by frame, error text or None)."""
    command = [binary, "decode", "-r", capture]
    for port in ports:
        command += ["--dns-port", str(port)]
    result = subprocess.run(command, capture_output=True, timeout=300)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip().splitlines()
        return {}, f"dnsfirst decode exited {result.returncode}: {' | '.join(stderr[-3:])}"
    by_frame = {}
    for number, line in enumerate(result.stdout.decode(errors="surrogateescape").splitlines(), 1):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError as e:
            return by_frame, f"output line {number} is not JSON: {e}"
        frame = message.get("dnsfirst", {}).get("input", {}).get("packet")
        by_frame.setdefault(frame, []).append(message)
    return by_frame, None


RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
          "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", None, None, None, None,
          "BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME", "BADALG", "BADTRUNC",
          "BADCOOKIE"]


def rcode_number(name):
    """Map dnsfirst's response_code mnemonic ("NXDOMAIN", "RCODE42") to its number."""
    if name is None:
        return None
    if name in RCODES:
        return RCODES.index(name)
    if name == "BADSIG":
        return 16
    if name.startswith("RCODE") and name[5:].isdigit():
        return int(name[5:])
    return None


def compare(row, message):
    """Return a list of "field: oracle X, dnsfirst Y" differences."""
    differences = []
    dns = message.get("dns", {})
    question = dns.get("question") or {}

    def check(field, expected, got):
        if expected != got:
            differences.append(f"{field}: tshark {expected!r}, dnsfirst {got!r}")

    try:
        check("time_us", epoch_text_us(row["frame.time_epoch"]),
              timestamp_us(message.get("@timestamp", "")))
    except ValueError as e:
        differences.append(f"time: unreadable ({e})")
    check("src", address(row["src"]), address(message.get("source", {}).get("ip", "")))
    check("sport", int(row["srcport"] or -1), message.get("source", {}).get("port"))
    check("dst", address(row["dst"]), address(message.get("destination", {}).get("ip", "")))
    check("dport", int(row["dstport"] or -1), message.get("destination", {}).get("port"))
    check("id", int(row["dns.id"], 16) if row["dns.id"] else None, dns.get("id"))
    qr = {"answer": 1, "query": 0}.get(dns.get("type"))
    check("qr", int(row["dns.flags.response"] or -1), qr)

    oracle_name = row["dns.qry.name"]
    our_name = question.get("name", "")
    # A comma may join several questions or sit inside a label, so both the
    # whole field and its first part are candidates.
    candidates = {oracle_name.casefold(), first_field(oracle_name).casefold()}
    candidates = {"." if c == "<root>" else c for c in candidates}
    if not candidates & {our_name.casefold(), tshark_form(our_name).casefold()}:
        check("name", oracle_name, our_name)

    oracle_type = first_field(row["dns.qry.type"])
    our_type = question.get("type")
    number = qtype_number(our_type)
    if our_type is not None and number is None:
        differences.append(f"qtype: dnsfirst mnemonic {our_type!r} is not in the table")
    else:
        check("qtype", int(oracle_type) if oracle_type else None, number)

    check("transport", row["transport"], message.get("network", {}).get("transport"))
    if qr == 1 and row["dns.flags.rcode"]:
        # tshark's dns.flags.rcode is the header's 4 bits; dnsfirst names the
        # full 12-bit code when EDNS extends it, so compare the low 4 bits.
        ours = rcode_number(dns.get("response_code"))
        check("rcode", int(row["dns.flags.rcode"]), None if ours is None else ours & 0xF)

    if qr == 1 and row["dns.count.answers"]:
        check("answers", int(row["dns.count.answers"]), dns.get("answers_count"))
    return differences


class Tally:
    def __init__(self):
        self.udp_rows = 0
        self.udp_agree = 0
        self.known = 0
        self.unexpected = []  # (file, frame, text)
        self.tcp_rows = 0
        self.tcp_agree = 0
        self.extra = 0
        self.failed_files = []


def check_file(binary, corpus, oracle_path, known, tally, verbose):
    rel = os.path.relpath(find_capture(oracle_path), corpus)
    rows = read_oracle(oracle_path)
    by_frame, error = decode(binary, os.path.join(corpus, rel), dns_ports(rows))
    if error:
        tally.failed_files.append((rel, error))

    used = {}
    for row in rows:
        frame = int(row["frame.number"])
        # Rows of one frame match that frame's messages in order.
        index = used.get(frame, 0)
        used[frame] = index + 1
        messages = by_frame.get(frame, [])
        if index < len(messages):
            differences = compare(row, messages[index])
        else:
            differences = ["missing: dnsfirst decoded no message on this frame"]
        if row["transport"] == "tcp":
            tally.tcp_rows += 1
            if not differences:
                tally.tcp_agree += 1
                continue
        else:
            tally.udp_rows += 1
            if not differences:
                tally.udp_agree += 1
                continue
        text = "; ".join(differences)
        reason = known.get((rel, frame))
        if reason is not None:
            tally.known += 1
            if verbose:
                print(f"known    {rel} frame {frame}: {text} (known: {reason})")
        else:
            tally.unexpected.append((rel, frame, text))

    oracle_frames = {int(row["frame.number"]) for row in rows}
    for frame, messages in by_frame.items():
        if frame not in oracle_frames:
            tally.extra += len(messages)
            if verbose:
                print(f"extra    {rel} frame {frame}: dnsfirst decoded {len(messages)} "
                      f"message(s) that tshark does not list")


LIST_PER_FILE = 10


def print_limited(label, items, per_file):
    """Print "(file, frame, text)" items, at most per_file per file unless None."""
    counts = {}
    for rel, frame, text in items:
        counts[rel] = counts.get(rel, 0) + 1
        if per_file is None or counts[rel] <= per_file:
            print(f"{label} {rel} frame {frame}: {text}")
    for rel, count in counts.items():
        if per_file is not None and count > per_file:
            print(f"{label} {rel}: {count - per_file} more (--verbose lists all)")


def percent(part, whole):
    return 100.0 * part / whole if whole else 100.0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnsfirst", required=True, help="binary under test")
    parser.add_argument("--corpus", required=True, help="directory searched for *.dns.tsv")
    parser.add_argument("--known", help="known-differences file (file, frame, reason)")
    parser.add_argument("--verbose", action="store_true",
                        help="list every mismatch, known difference and extra message")
    args = parser.parse_args()

    known = read_known(args.known)
    oracles = []
    for directory, _, files in os.walk(args.corpus):
        oracles += [os.path.join(directory, f) for f in files if f.endswith(".dns.tsv")]
    oracles = sorted(o for o in oracles if find_capture(o))
    if not oracles:
        print(f"no capture with a .dns.tsv oracle under {args.corpus}")
        return 1

    tally = Tally()
    for oracle in oracles:
        check_file(args.dnsfirst, args.corpus, oracle, known, tally, args.verbose)

    for rel, error in tally.failed_files:
        print(f"error    {rel}: {error}")
    print_limited("mismatch", tally.unexpected, None if args.verbose else LIST_PER_FILE)

    compared = tally.udp_rows
    print(f"captures: {len(oracles)}, decode failures: {len(tally.failed_files)}")
    total = compared + tally.tcp_rows
    agree = tally.udp_agree + tally.tcp_agree
    print(f"udp messages: {tally.udp_agree} of {compared} agree "
          f"({percent(tally.udp_agree, compared):.1f}%)")
    print(f"tcp messages: {tally.tcp_agree} of {tally.tcp_rows} agree "
          f"({percent(tally.tcp_agree, tally.tcp_rows):.1f}%)")
    print(f"agreement: {agree} of {total} messages ({percent(agree, total):.2f}%), "
          f"{tally.known} known differences, {len(tally.unexpected)} unexpected")
    print(f"messages dnsfirst decoded on frames tshark does not list: {tally.extra}")
    return 1 if tally.unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
