#!/usr/bin/env python3
"""Check `dnsfirst decode` against the outputs that Zeek and Suricata ship.

Some captures of the corpus come with a Zeek dns.log baseline
(NAME.zeek-dns.log) or a suricata-verify test (NAME.suricata.yaml). Each
such capture is decoded with `dnsfirst decode -r CAPTURE`, and then:

Zeek: every dns.log record needs a decoded message that agrees with it. A
record with qtype set needs a query from id.orig_h:id.orig_p to
id.resp_h:id.resp_p with the same transport, DNS id, name (case folded) and
type number (NetBIOS names on port 137 are compared in the decoded form
that Zeek logs). A record with rcode set needs a response in the other direction
with the same transport, id, name and 4-bit rcode. When ts is set (Zeek's test
baselines mask it), it must equal the time of the query, or of the response
when Zeek saw no query, to the microsecond.

Suricata: every `filter` check on DNS events is evaluated against the decoded
messages, each message standing for one EVE dns event, and the number of
matches must equal the check's count. Suricata 8 names (request, response)
and the older ones (query, answer) both map to our query and answer. A check
is skipped, and counted as skipped, when it is a shell check, reads another
output file, targets Suricata before 8, concerns other event types (alert,
flow, stats, anomaly) or uses a key with no counterpart in our record (answer
data, the Z bit, further questions).

Mismatches listed in the known-differences file (tab separated: file, key,
reason; file relative to the corpus root, key "row N" or "check N", counted
from 1) are reported but do not fail the run.

Exit status: 0 when every mismatch is a known difference, 1 otherwise.
"""

import argparse
import json
import os
import re
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_diff import (  # noqa: E402  (needs the path set above)
    CAPTURE_EXTENSIONS, address, dns_ports, qtype_number, rcode_number, read_oracle,
    timestamp_us)

ZEEK_SUFFIX = ".zeek-dns.log"
SURICATA_SUFFIX = ".suricata.yaml"

# DNS OPCODE numbers (IANA "DNS OPCODEs") for our op_code mnemonics.
OPCODE_NUMBERS = {"QUERY": 0, "IQUERY": 1, "STATUS": 2, "NOTIFY": 4, "UPDATE": 5, "DSO": 6}

# EVE keys that record Suricata's own bookkeeping (transaction counters, the
# EVE DNS format version, the packet source) and describe nothing of the DNS
# message, so they are left out of the match instead of skipping the check.
SURICATA_IGNORED_KEYS = {"dns.version", "dns.tx_id", "tx_id", "pkt_src"}


# ---------------------------------------------------------------- decoding

def find_capture(peer_path, suffix):
    base = peer_path[: -len(suffix)]
    for ext in CAPTURE_EXTENSIONS:
        if os.path.exists(base + ext):
            return base + ext
    return None


def capture_ports(capture, extra_ports):
    """DNS ports for the decoder: those of the tshark oracle plus the peer's."""
    ports = set(extra_ports) | {53}
    base = os.path.splitext(capture)[0]
    if os.path.exists(base + ".dns.tsv"):
        ports |= set(dns_ports(read_oracle(base + ".dns.tsv")))
    return sorted(ports)


def decode(binary, capture, ports):
    """Run dnsfirst decode; return (list of messages, error text or None)."""
    command = [binary, "decode", "-r", capture]
    for port in ports:
        command += ["--dns-port", str(port)]
    result = subprocess.run(command, capture_output=True, timeout=300)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip().splitlines()
        return [], f"dnsfirst decode exited {result.returncode}: {' | '.join(stderr[-3:])}"
    messages = []
    for number, line in enumerate(result.stdout.decode(errors="surrogateescape").splitlines(), 1):
        if not line.strip():
            continue
        try:
            messages.append(json.loads(line))
        except ValueError as e:
            return messages, f"output line {number} is not JSON: {e}"
    return messages, None


# ------------------------------------------------------ fields of a message

def message_type(message):
    return message.get("dns", {}).get("type")


def message_question(message):
    return message.get("dns", {}).get("question") or {}


def message_time_us(message):
    try:
        return timestamp_us(message.get("@timestamp", ""))
    except ValueError:
        return None


def message_endpoints(message):
    """Return (src ip, src port, dst ip, dst port, transport) of a message."""
    source = message.get("source", {})
    destination = message.get("destination", {})
    return (address(source.get("ip", "")), source.get("port"),
            address(destination.get("ip", "")), destination.get("port"),
            message.get("network", {}).get("transport"))


def our_name_bytes(name):
    """Read our zone-file escaped name (\\DDD, \\X) as bytes, case folded."""
    out = bytearray()
    i = 0
    while i < len(name):
        if name[i] == "\\" and re.fullmatch(r"\d{3}", name[i + 1:i + 4]):
            out.append(int(name[i + 1:i + 4]))
            i += 4
        elif name[i] == "\\" and i + 1 < len(name):
            out += name[i + 1].encode("utf-8", errors="surrogateescape")
            i += 2
        else:
            out += name[i].encode("utf-8", errors="surrogateescape")
            i += 1
    return normalise_name(bytes(out))


def peer_name_bytes(name):
    """Read a peer's name, which escapes unprintable bytes as \\xNN, as bytes."""
    out = bytearray()
    i = 0
    while i < len(name):
        if name[i] == "\\" and re.fullmatch(r"x[0-9a-fA-F]{2}", name[i + 1:i + 4]):
            out.append(int(name[i + 2:i + 4], 16))
            i += 4
        else:
            out += name[i].encode("utf-8", errors="surrogateescape")
            i += 1
    return normalise_name(bytes(out))


def normalise_name(raw):
    """Fold ASCII case and write the root as "." whatever its spelling."""
    raw = raw.lower()
    if raw in (b"", b"<root>"):
        return b"."
    if len(raw) > 1 and raw.endswith(b"."):
        raw = raw[:-1]
    return raw


def names_agree(peer_name, message):
    return peer_name_bytes(str(peer_name)) == our_name_bytes(message_question(message).get("name", ""))


def netbios_decoded(name):
    """Undo the NetBIOS first-level encoding (RFC 1001 section 14.1) of a name.

    Zeek logs NetBIOS name service queries (port 137) with the first label
    decoded, the 16th byte (the service suffix) dropped and the space padding
    trimmed, so "FHEPFCELEHFCEPFFFACACACACACACABN" reads "WORKGROUP".
    """
    first, dot, rest = name.partition(".")
    if not re.fullmatch(r"[A-Pa-p]{32}", first):
        return name
    nibbles = [ord(c) - ord("A") for c in first.upper()]
    raw = bytes((nibbles[i] << 4) | nibbles[i + 1] for i in range(0, 32, 2))
    decoded = raw[:15].rstrip(b" ").decode("latin-1")
    return decoded + dot + rest


def zeek_names_agree(record, message):
    if "137" in (record.get("id.orig_p"), record.get("id.resp_p")):
        ours = netbios_decoded(message_question(message).get("name", ""))
        return peer_name_bytes(record["query"]) == our_name_bytes(ours)
    return names_agree(record["query"], message)


def type_number(text):
    """Map a type mnemonic or a bare number ("NULL", "65534") to its number."""
    text = str(text)
    return int(text) if text.isdigit() else qtype_number(text)


# --------------------------------------------------------------------- Zeek

def read_zeek_log(path):
    """Return dns.log records as dicts; unset ("-") fields are left out."""
    fields = []
    records = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#fields"):
                fields = line.split("\t")[1:]
                continue
            if line.startswith("#") or not line:
                continue
            values = line.split("\t")
            records.append({k: v for k, v in zip(fields, values) if v != "-"})
    return records


def zeek_ts_us(record):
    """Zeek's ts in microseconds, or None when the baseline masks it."""
    ts = record.get("ts", "")
    if not re.fullmatch(r"\d+\.\d{6}", ts):
        return None
    seconds, fraction = ts.split(".")
    return int(seconds) * 1000000 + int(fraction)


def zeek_query_problems(record, message):
    """Return how a query message differs from a Zeek record (empty: agrees)."""
    problems = []
    expected = (address(record["id.orig_h"]), int(record["id.orig_p"]),
                address(record["id.resp_h"]), int(record["id.resp_p"]), record["proto"])
    if message_endpoints(message) != expected:
        problems.append(f"endpoints {message_endpoints(message)}")
    if message.get("dns", {}).get("id") != int(record["trans_id"]):
        problems.append(f"id {message.get('dns', {}).get('id')}")
    if "query" in record and not zeek_names_agree(record, message):
        problems.append(f"name {message_question(message).get('name')!r}")
    if type_number(message_question(message).get("type", "")) != int(record["qtype"]):
        problems.append(f"qtype {message_question(message).get('type')}")
    ts = zeek_ts_us(record)
    if ts is not None and message_time_us(message) != ts:
        problems.append(f"time {message.get('@timestamp')}")
    return problems


def zeek_response_problems(record, message):
    """Return how a response message differs from a Zeek record (empty: agrees)."""
    problems = []
    expected = {(address(record["id.resp_h"]), int(record["id.resp_p"]),
                 address(record["id.orig_h"]), int(record["id.orig_p"]), record["proto"])}
    if "qtype" not in record:
        # Zeek saw no query, so it may orient the connection either way: it
        # logs the mDNS responses of wikipedia.pcap with the responder as originator.
        expected.add((address(record["id.orig_h"]), int(record["id.orig_p"]),
                      address(record["id.resp_h"]), int(record["id.resp_p"]), record["proto"]))
    if message_endpoints(message) not in expected:
        problems.append(f"endpoints {message_endpoints(message)}")
    if message.get("dns", {}).get("id") != int(record["trans_id"]):
        problems.append(f"id {message.get('dns', {}).get('id')}")
    if "query" in record and not zeek_names_agree(record, message):
        problems.append(f"name {message_question(message).get('name')!r}")
    rcode = rcode_number(message.get("dns", {}).get("response_code"))
    if rcode is None or rcode & 0xF != int(record["rcode"]):
        problems.append(f"rcode {message.get('dns', {}).get('response_code')}")
    ts = zeek_ts_us(record)
    if ts is not None and "qtype" not in record and message_time_us(message) != ts:
        problems.append(f"time {message.get('@timestamp')}")
    return problems


def closest(record, messages, expected_type, problems_of):
    """Return None when a message agrees, else the differences of the nearest one."""
    best = None
    best_score = None
    for message in messages:
        if message_type(message) != expected_type:
            continue
        problems = problems_of(record, message)
        if not problems:
            return None
        # Other endpoints count double, so the nearest message is one of the same flow.
        score = len(problems) + sum(p.startswith("endpoints") for p in problems)
        if best is None or score < best_score:
            best, best_score = problems, score
    if best is None:
        return f"no decoded {expected_type}"
    return "nearest decoded " + expected_type + " differs in " + ", ".join(best)


def zeek_record_problems(record, messages):
    problems = []
    if "qtype" in record:
        text = closest(record, messages, "query", zeek_query_problems)
        if text:
            problems.append(text)
    if "rcode" in record:
        text = closest(record, messages, "answer", zeek_response_problems)
        if text:
            problems.append(text)
    return problems


def describe_zeek(record):
    return (f"{record.get('id.orig_h')}:{record.get('id.orig_p')} > "
            f"{record.get('id.resp_h')}:{record.get('id.resp_p')} {record.get('proto')} "
            f"id {record.get('trans_id')} {record.get('query', '-')!r} "
            f"qtype {record.get('qtype', '-')} rcode {record.get('rcode', '-')}")


def check_zeek(binary, corpus, path, tally):
    rel = os.path.relpath(path, corpus)
    records = read_zeek_log(path)
    capture = find_capture(path, ZEEK_SUFFIX)
    if capture is None:
        tally.errors.append((rel, "no capture next to the log"))
        return
    ports = {int(r["id.resp_p"]) for r in records if r.get("id.resp_p", "").isdigit()}
    messages, error = decode(binary, capture, capture_ports(capture, ports))
    if error:
        tally.errors.append((rel, error))
    for number, record in enumerate(records, 1):
        tally.total += 1
        problems = zeek_record_problems(record, messages)
        if problems:
            tally.mismatch(rel, f"row {number}", describe_zeek(record) + ": " + "; ".join(problems))
        else:
            tally.agree += 1
        if zeek_ts_us(record) is None:
            tally.untimed += 1


# ----------------------------------------------------------------- Suricata

def flag_matcher(flag):
    return lambda m, v: (flag in m.get("dns", {}).get("header_flags", [])) == bool(v)


def direction_matcher(value):
    kind = {"request": "query", "query": "query", "response": "answer", "answer": "answer"}
    return kind.get(str(value))


def rcode_matches(message, value):
    ours = rcode_number(message.get("dns", {}).get("response_code"))
    return message_type(message) == "answer" and ours is not None and ours == rcode_number(str(value))


def opcode_matches(message, value):
    name = message.get("dns", {}).get("op_code", "")
    number = OPCODE_NUMBERS.get(name)
    if number is None and name.startswith("OPCODE") and name[6:].isdigit():
        number = int(name[6:])
    return number == int(value)


# Each EVE key with a counterpart in our record, and how to compare it.
SURICATA_MATCHERS = {
    "event_type": lambda m, v: v == "dns",
    "app_proto": lambda m, v: v == "dns",
    "src_ip": lambda m, v: message_endpoints(m)[0] == address(str(v)),
    "src_port": lambda m, v: message_endpoints(m)[1] == int(v),
    "dest_ip": lambda m, v: message_endpoints(m)[2] == address(str(v)),
    "dest_port": lambda m, v: message_endpoints(m)[3] == int(v),
    "proto": lambda m, v: (message_endpoints(m)[4] or "").upper() == str(v).upper(),
    "pcap_cnt": lambda m, v: m.get("dnsfirst", {}).get("input", {}).get("packet") == int(v),
    "dns.type": lambda m, v: message_type(m) == direction_matcher(v),
    "dns.id": lambda m, v: m.get("dns", {}).get("id") == int(v),
    "dns.opcode": opcode_matches,
    "dns.qr": lambda m, v: (message_type(m) == "answer") == bool(v),
    "dns.aa": flag_matcher("AA"),
    "dns.tc": flag_matcher("TC"),
    "dns.rd": flag_matcher("RD"),
    "dns.ra": flag_matcher("RA"),
    "dns.rcode": rcode_matches,
    "dns.rrname": lambda m, v: names_agree(v, m),
    "dns.queries[0].rrname": lambda m, v: names_agree(v, m),
    "dns.rrtype": lambda m, v: type_number(message_question(m).get("type", "")) == type_number(v),
    "dns.queries[0].rrtype": lambda m, v: type_number(message_question(m).get("type", "")) == type_number(v),
    "dns.answers.__len": lambda m, v: m.get("dns", {}).get("answers_count", 0) == int(v),
}


def suricata_skip_reason(check):
    """Return why a check cannot be evaluated against our record, or None."""
    if "filter" not in check:
        return "not a filter check: " + ", ".join(check)
    spec = check["filter"]
    if spec.get("filename", "eve.json") != "eve.json":
        return f"reads {spec['filename']}, an output with its own type filter"
    if "lt-version" in (spec.get("requires") or {}):
        return "written for Suricata before version 8"
    match = spec.get("match") or {}
    if match.get("event_type", "dns") != "dns":
        return f"event_type {match['event_type']}"
    if "event_type" not in match and not any(k.startswith("dns.") for k in match):
        return "matches no DNS field"
    unmapped = [k for k in match if k not in SURICATA_MATCHERS and k not in SURICATA_IGNORED_KEYS]
    if unmapped:
        return "no counterpart for " + ", ".join(unmapped)
    return None


def suricata_count(match, messages):
    keys = [k for k in match if k not in SURICATA_IGNORED_KEYS]
    return sum(1 for m in messages if all(SURICATA_MATCHERS[k](m, match[k]) for k in keys))


def check_suricata(binary, corpus, path, tally):
    rel = os.path.relpath(path, corpus)
    with open(path, encoding="utf-8") as f:
        test = yaml.safe_load(f) or {}
    capture = find_capture(path, SURICATA_SUFFIX)
    if capture is None:
        tally.errors.append((rel, "no capture next to the test"))
        return
    messages, error = decode(binary, capture, capture_ports(capture, ()))
    if error:
        tally.errors.append((rel, error))
    for number, check in enumerate(test.get("checks") or [], 1):
        reason = suricata_skip_reason(check)
        if reason:
            tally.skipped += 1
            tally.skip_reasons.append((rel, f"check {number}", reason))
            continue
        tally.total += 1
        spec = check["filter"]
        match = spec.get("match") or {}
        got = suricata_count(match, messages)
        expected = spec.get("count")
        if (expected is None and got > 0) or got == expected:
            tally.agree += 1
            continue
        expected_text = "at least 1" if expected is None else expected
        tally.mismatch(rel, f"check {number}",
                       f"{json.dumps(match, default=str)}: Suricata expects {expected_text}, "
                       f"dnsfirst decoded {got}")


# ------------------------------------------------------------------- report

class Tally:
    def __init__(self, known):
        self.known_map = known
        self.total = 0
        self.agree = 0
        self.skipped = 0
        self.untimed = 0
        self.known = []       # (file, key, text, reason)
        self.unexpected = []  # (file, key, text)
        self.errors = []      # (file, text)
        self.skip_reasons = []

    def mismatch(self, rel, key, text):
        reason = self.known_map.get((rel, key))
        if reason is None:
            self.unexpected.append((rel, key, text))
        else:
            self.known.append((rel, key, text, reason))


def read_known(path):
    known = {}
    if not path or not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3 or not re.fullmatch(r"(row|check) \d+", fields[1]) or not fields[2]:
                sys.exit(f"{path}:{number}: expected 'file<TAB>row N or check N<TAB>reason'")
            known[(fields[0], fields[1])] = fields[2]
    return known


def find_peer_files(corpus, suffix):
    found = []
    for directory, _, files in os.walk(corpus):
        found += [os.path.join(directory, f) for f in files if f.endswith(suffix)]
    return sorted(found)


def print_tally(peer, tally, verbose):
    for rel, text in tally.errors:
        print(f"error    {peer} {rel}: {text}")
    for rel, key, text in tally.unexpected:
        print(f"mismatch {peer} {rel} {key}: {text}")
    for rel, key, text, reason in tally.known:
        print(f"known    {peer} {rel} {key}: {text} (known: {reason})")
    if verbose:
        for rel, key, reason in tally.skip_reasons:
            print(f"skipped  {peer} {rel} {key}: {reason}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dnsfirst", required=True, help="binary under test")
    parser.add_argument("--corpus", required=True, help="directory searched for peer outputs")
    parser.add_argument("--known", help="known-differences file (file, key, reason)")
    parser.add_argument("--verbose", action="store_true", help="also list every skipped check")
    args = parser.parse_args()

    known = read_known(args.known)
    zeek_logs = find_peer_files(args.corpus, ZEEK_SUFFIX)
    suricata_tests = find_peer_files(args.corpus, SURICATA_SUFFIX)
    if not zeek_logs and not suricata_tests:
        print(f"no {ZEEK_SUFFIX} or {SURICATA_SUFFIX} file under {args.corpus}")
        return 1

    zeek = Tally(known)
    for path in zeek_logs:
        check_zeek(args.dnsfirst, args.corpus, path, zeek)
    suricata = Tally(known)
    for path in suricata_tests:
        check_suricata(args.dnsfirst, args.corpus, path, suricata)

    print_tally("zeek", zeek, args.verbose)
    print_tally("suricata", suricata, args.verbose)
    seen = {(rel, key) for t in (zeek, suricata) for rel, key, _, _ in t.known}
    for rel, key in sorted(set(known) - seen):
        print(f"stale    {rel} {key}: listed as a known difference but agrees now")

    print(f"zeek: {zeek.agree} of {zeek.total} records agree "
          f"({len(zeek_logs)} logs, {zeek.untimed} records with a masked ts compared without time), "
          f"{len(zeek.known)} known differences, {len(zeek.unexpected)} unexpected")
    print(f"suricata: {suricata.agree} of {suricata.total} checks agree, {suricata.skipped} skipped "
          f"({len(suricata_tests)} tests), {len(suricata.known)} known differences, "
          f"{len(suricata.unexpected)} unexpected")
    failed = zeek.unexpected or suricata.unexpected or zeek.errors or suricata.errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
