#!/bin/bash
# client_key_ptr.sh - client-key ptr-domain with reverse names seen in
# traffic. A capture holds the answers to two PTR queries (for 198.51.100.10
# and 198.51.100.20, names under resolvers.example.net) followed by one
# query from each address. With ptr-domain both addresses are the client
# "example.net": one alert. By default they are two clients: two alerts. A
# second run on the ptr-domain baseline loads the domain key back, so a
# third address under example.net raises no alert.
. "$(dirname "$0")/lib.sh"
require_dnsfirst
require_tool python3 jq

python3 - "$TMP" <<'PY' || fail "could not write the test captures"
import struct
import sys

out = sys.argv[1]
SERVER = "10.0.0.53"
ASKER = "10.0.0.7"


def ip_bytes(text):
    return bytes(int(part) for part in text.split("."))


def checksum(data):
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(src, dst, sport, dport, dns):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(dns), 0) + dns
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     ip_bytes(src), ip_bytes(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    ethernet = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return ethernet + ip + udp


def name(text):
    wire = b""
    for label in text.rstrip(".").split("."):
        wire += bytes([len(label)]) + label.encode()
    return wire + b"\x00"


def ptr_response(address, target, ttl=3600):
    """Response with the question, then a PTR answer whose owner points at it."""
    qname = name(".".join(reversed(address.split("."))) + ".in-addr.arpa")
    header = struct.pack("!HHHHHH", 0x4242, 0x8180, 1, 1, 0, 0)
    question = qname + struct.pack("!HH", 12, 1)
    rdata = name(target)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, ttl, len(rdata)) + rdata
    return header + question + answer


def query(qname):
    return struct.pack("!HHHHHH", 0x1111, 0x0100, 1, 0, 0, 0) + name(qname) + \
        struct.pack("!HH", 1, 1)


def write(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, data in packets:
            f.write(struct.pack("<IIII", ts, 0, len(data), len(data)) + data)


T = 1700000000
write(out + "/first.pcap", [
    (T, frame(SERVER, ASKER, 53, 40001,
              ptr_response("198.51.100.10", "a.resolvers.example.net"))),
    (T + 1, frame(SERVER, ASKER, 53, 40002,
                  ptr_response("198.51.100.20", "B.Resolvers.Example.NET."))),
    (T + 2, frame("198.51.100.10", SERVER, 5353, 53, query("www.example.com"))),
    (T + 3, frame("198.51.100.20", SERVER, 5354, 53, query("www.example.org"))),
])
write(out + "/second.pcap", [
    (T + 100, frame(SERVER, ASKER, 53, 40003,
                    ptr_response("198.51.100.30", "c.resolvers.example.net"))),
    (T + 101, frame("198.51.100.30", SERVER, 5355, 53, query("www.example.net"))),
])
PY

run() {
    local state=$1 pcap=$2 out=$3
    shift 3
    "$DNSFIRST" run -r "$TMP/$pcap" --state "$TMP/$state" --learning-period 0 "$@" \
        >"$TMP/$out" 2>"$TMP/$out.err" \
        || fail "run on $pcap exited $? ($(cat "$TMP/$out.err"))"
}

# ptr-domain: one client, keyed by the registrable domain; source.ip stays the address.
run domain.db first.pcap domain.json --client-key ptr-domain
count=$(jq -s 'length' "$TMP/domain.json")
[ "$count" = 1 ] || fail "ptr-domain: expected 1 alert, got $count: $(cat "$TMP/domain.json")"
alert=$(cat "$TMP/domain.json")
[ "$(jq -r '.dnsfirst.client_key' <<<"$alert")" = example.net ] \
    || fail "ptr-domain: wrong client_key: $alert"
[ "$(jq -r '.source.ip' <<<"$alert")" = 198.51.100.10 ] \
    || fail "ptr-domain: wrong source.ip: $alert"
[ "$(jq -r '.source.domain' <<<"$alert")" = a.resolvers.example.net ] \
    || fail "ptr-domain: source.domain should be the name seen in traffic: $alert"
grep -Eq 'ptr names from traffic +2$' "$TMP/domain.json.err" \
    || fail "ptr-domain: summary does not count 2 names from traffic"

# Default client key: each address is a client of its own.
run address.db first.pcap address.json
count=$(jq -s 'length' "$TMP/address.json")
[ "$count" = 2 ] || fail "address: expected 2 alerts, got $count: $(cat "$TMP/address.json")"
keys=$(jq -r '.dnsfirst.client_key' "$TMP/address.json" | sort | tr '\n' ' ')
[ "$keys" = "198.51.100.10/32 198.51.100.20/32 " ] || fail "address: wrong client keys: $keys"

# The domain key is stored as text and loaded back: a third address under it is known.
run domain.db second.pcap again.json --client-key ptr-domain
[ ! -s "$TMP/again.json" ] || fail "loaded domain key: unexpected alert: $(cat "$TMP/again.json")"
"$DNSFIRST" baseline list --state "$TMP/domain.db" >"$TMP/list.txt" 2>&1 \
    || fail "baseline list exited $? ($(cat "$TMP/list.txt"))"
grep -q 'example\.net' "$TMP/list.txt" || fail "baseline list has no example.net row: $(cat "$TMP/list.txt")"

note "ok"
