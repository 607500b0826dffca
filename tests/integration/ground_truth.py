#!/usr/bin/env python3
"""Check dnsfirst alerts against the ground truth of a synthetic capture.

The capture generator writes FILE.truth.json with external_pairs_first_seen:
every (server, client) pair with an external client, in order of first
appearance, with the 1-based packet number of its first query. From it and
the packet timestamps this script derives the alerts `dnsfirst run` must give:

  scope server: one alert per pair whose first query comes at or after the
                server's learning end. That end is the first query to that
                server plus the learning period.
  scope site:   one alert per client whose first query to any server comes at
                or after the site's learning end. That end is the first query
                of the capture plus the learning period.

A scope's learning period starts at its first query. Whether that is the
first query of any client or of an external client is not fixed here, so a
pair that falls between the two candidate ends is left out of the comparison
and counted as undecided. So is a pair within 1 s of either end, because a
learning end may be kept in whole seconds.

Client keys are compared as full-length prefixes (/32 and /128): run dnsfirst
with --client-prefix-v4 32 --client-prefix-v6 128.
"""

import argparse
import ipaddress
import json
import struct
import sys

ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = 0x8100
LINKTYPE_ETHERNET = 1
BORDER_US = 1000000


def read_pcap(path):
    """Yield (timestamp in microseconds, frame bytes) for each record of a classic pcap."""
    with open(path, "rb") as f:
        header = f.read(24)
        magic = header[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            sys.exit(f"{path}: not a classic pcap file")
        nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
        linktype = struct.unpack(endian + "I", header[20:24])[0]
        if linktype != LINKTYPE_ETHERNET:
            sys.exit(f"{path}: link type {linktype}, expected Ethernet")
        while True:
            record = f.read(16)
            if len(record) < 16:
                return
            sec, frac, caplen, _ = struct.unpack(endian + "IIII", record)
            us = sec * 1000000 + (frac // 1000 if nano else frac)
            yield us, f.read(caplen)


def dns_query(frame):
    """Return (server, client) when the frame carries a DNS query to port 53, else None."""
    ethertype = struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
    offset = 14
    while ethertype == ETHERTYPE_VLAN and len(frame) >= offset + 4:
        ethertype = struct.unpack("!H", frame[offset + 2:offset + 4])[0]
        offset += 4
    if ethertype == ETHERTYPE_IPV4 and len(frame) >= offset + 20:
        ihl = (frame[offset] & 0x0F) * 4
        proto = frame[offset + 9]
        if struct.unpack("!H", frame[offset + 6:offset + 8])[0] & 0x1FFF:
            return None
        src = ipaddress.IPv4Address(frame[offset + 12:offset + 16])
        dst = ipaddress.IPv4Address(frame[offset + 16:offset + 20])
        offset += ihl
    elif ethertype == ETHERTYPE_IPV6 and len(frame) >= offset + 40:
        proto = frame[offset + 6]
        src = ipaddress.IPv6Address(frame[offset + 8:offset + 24])
        dst = ipaddress.IPv6Address(frame[offset + 24:offset + 40])
        offset += 40
    else:
        return None

    if proto == 17 and len(frame) >= offset + 8:
        dport = struct.unpack("!H", frame[offset + 2:offset + 4])[0]
        payload = frame[offset + 8:]
    elif proto == 6 and len(frame) >= offset + 20:
        dport = struct.unpack("!H", frame[offset + 2:offset + 4])[0]
        payload = frame[offset + (frame[offset + 12] >> 4) * 4 + 2:]
    else:
        return None
    if dport != 53 or len(payload) < 12 or payload[2] & 0x80:
        return None
    return str(dst), str(src)


def load_capture(path):
    """Return the packet timestamps (index 0 is packet 1) and the queries in order."""
    times = []
    queries = []
    for us, frame in read_pcap(path):
        times.append(us)
        query = dns_query(frame)
        if query:
            queries.append((us, query[0], query[1]))
    return times, queries


def host_key(address):
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


def expected_alerts(truth, times, queries, scope, learning_us):
    """Return (expected keys, undecided keys); a key is (scope key, client key)."""
    pairs = truth.get("external_pairs_first_seen")
    if pairs is None:
        sys.exit("truth file has no external_pairs_first_seen: generate with --truth-pairs")
    external = {(p["server"], p["client"]) for p in pairs}

    def scope_of(server):
        return str(ipaddress.ip_address(server)) if scope == "server" else "site"

    start_any = {}
    start_external = {}
    for us, server, client in queries:
        start_any.setdefault(scope_of(server), us)
        if (server, client) in external:
            start_external.setdefault(scope_of(server), us)

    expected = set()
    undecided = set()
    decided = set()
    for p in pairs:
        key = (scope_of(p["server"]), host_key(p["client"]))
        # Under scope site only a client's first pair counts: later ones are
        # the same client querying another server.
        if key in decided:
            continue
        decided.add(key)
        us = times[p["packet"] - 1]
        end_early = start_any[key[0]] + learning_us
        end_late = start_external.get(key[0], start_any[key[0]]) + learning_us
        if learning_us == 0 or us >= end_late + BORDER_US:
            expected.add(key)
        elif us >= end_early - BORDER_US:
            undecided.add(key)
    return expected, undecided


def read_alerts(paths, scope):
    keys = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    alert = json.loads(line)
                except ValueError as e:
                    sys.exit(f"{path}:{number}: not JSON ({e}): {line[:120]!r}")
                d = alert.get("dnsfirst", {})
                if "client_key" not in d or "scope_key" not in d:
                    rule = alert.get("rule", {}).get("id")
                    sys.exit(f"{path}:{number}: alert of rule {rule!r} has no dnsfirst.client_key "
                             f"or scope_key; only single new-client alerts are expected")
                scope_key = str(ipaddress.ip_address(d["scope_key"])) if scope == "server" else "site"
                client = str(ipaddress.ip_network(d["client_key"], strict=False))
                keys.append((scope_key, client))
    return keys


def show(keys, limit=20):
    lines = [f"  {s} {c}" for s, c in sorted(keys)[:limit]]
    if len(keys) > limit:
        lines.append(f"  ... and {len(keys) - limit} more")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pcap", required=True)
    parser.add_argument("--truth", required=True)
    parser.add_argument("--scope", choices=("server", "site"), required=True)
    parser.add_argument("--learning-seconds", type=int, default=0)
    parser.add_argument("--allow-repeats", action="store_true",
                        help="compare the set of alerts (after a crash an alert may repeat)")
    parser.add_argument("alerts", nargs="+", help="alert JSON-lines files")
    args = parser.parse_args()

    with open(args.truth, encoding="utf-8") as f:
        truth = json.load(f)
    times, queries = load_capture(args.pcap)
    expected, undecided = expected_alerts(truth, times, queries, args.scope,
                                          args.learning_seconds * 1000000)
    got_list = read_alerts(args.alerts, args.scope)
    got = set(got_list)

    failed = False
    repeats = len(got_list) - len(got)
    if repeats and not args.allow_repeats:
        print(f"{repeats} alerts repeat an earlier (scope, client)")
        failed = True
    missing = expected - got
    extra = got - expected - undecided
    if missing:
        print(f"{len(missing)} expected alerts missing (scope_key client_key):\n{show(missing)}")
        failed = True
    if extra:
        print(f"{len(extra)} alerts not expected (scope_key client_key):\n{show(extra)}")
        failed = True
    print(f"scope {args.scope}, learning {args.learning_seconds}s: expected {len(expected)}, "
          f"got {len(got)} distinct ({len(got_list)} lines), {len(undecided)} undecided at the "
          f"learning end, {len(missing)} missing, {len(extra)} extra")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
