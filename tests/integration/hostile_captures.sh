#!/bin/bash
# Hostile capture files through `dnsfirst decode`. Two files are damaged: one
# is cut in the middle of a record, one has a record header that claims a
# 4 GiB packet. For those, stderr must name the file and the byte offset of
# the damage. A third file holds packets that attack the decoder: a snaplen
# shorter than the DNS header, an empty UDP payload, a compression loop and
# a TCP stream of endless garbage. Every run must end with the expected
# summary counts, without a crash or a hang.
. "$(dirname "$0")/lib.sh"

require_dnsfirst
require_tool python3 timeout

python3 - "$TMP" <<'PY' || fail "could not write the test captures"
import struct
import sys

out = sys.argv[1]


def header(snaplen=65535):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)


def record(frame, ts=1700000000, orig=None):
    orig = len(frame) if orig is None else orig
    return struct.pack("<IIII", ts, 0, len(frame), orig) + frame


def ethernet_ipv4(protocol, payload):
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, protocol, 0,
                     bytes([192, 0, 2, 1]), bytes([198, 51, 100, 53]))
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + payload


def udp(dns):
    return ethernet_ipv4(17, struct.pack(">HHHH", 40000, 53, 8 + len(dns), 0) + dns)


def tcp(seq, data):
    segment = struct.pack(">HHIIBBHHH", 40001, 53, seq, 0, 5 << 4, 0x18, 65535, 0, 0)
    return ethernet_ipv4(6, segment + data)


query = bytes.fromhex("123401000001000000000000") + b"\x03www\x07example\x03com\x00\x00\x01\x00\x01"
loop = bytes.fromhex("123401000001000000000000") + b"\xc0\x0c\x00\x01\x00\x01"

with open(f"{out}/truncated.pcap", "wb") as f:
    f.write(header() + record(udp(query)) + record(udp(query)) + record(udp(query))[:30])

with open(f"{out}/huge-record.pcap", "wb") as f:
    f.write(header() + record(udp(query)))
    f.write(struct.pack("<IIII", 1700000001, 0, 0xFFFFFFFF, 0xFFFFFFFF) + b"\0" * 64)

with open(f"{out}/hostile-packets.pcap", "wb") as f:
    f.write(header())
    short = udp(query)[:14 + 20 + 8 + 6]
    f.write(record(short, orig=len(udp(query))))  # snaplen inside the DNS header
    f.write(record(udp(b"")))                      # empty UDP payload
    f.write(record(udp(loop)))                     # compression pointer to itself
    seq = 1
    for i in range(2000):                          # a TCP stream of garbage
        f.write(record(tcp(seq, b"\xff" * 1400), ts=1700000000 + i // 100))
        seq += 1400
PY

# decode FILE: run dnsfirst decode with a time limit; sets $rc, $TMP/out, $TMP/err.
decode() {
    rc=0
    timeout 60 "$DNSFIRST" decode -r "$1" > "$TMP/out" 2> "$TMP/err" || rc=$?
    [ "$rc" -ne 124 ] || fail "decode of $1 did not finish within 60 s"
    [ "$rc" -lt 128 ] || fail "decode of $1 died from signal $((rc - 128)): $(tail -3 "$TMP/err")"
}

# summary_value LABEL: the number after LABEL in the summary on stderr.
summary_value() {
    sed -n "s/^ *$1  *\([0-9][0-9]*\)\$/\1/p" "$TMP/err"
}

expect_summary() {
    local got
    got=$(summary_value "$1")
    [ "$got" = "$2" ] || fail "$3: summary '$1' is '${got:-missing}', expected $2"
}

# A damaged capture is reported and counted, and the run goes on (exit 0).
decode "$TMP/truncated.pcap"
[ "$rc" -eq 0 ] || fail "truncated.pcap: exit status $rc, expected 0"
grep -q "truncated.pcap.*byte offset 206" "$TMP/err" \
    || fail "truncated.pcap: no message naming the file and offset 206: $(head -3 "$TMP/err")"
expect_summary "packets" 2 truncated.pcap
expect_summary "dns queries" 2 truncated.pcap
expect_summary "capture read errors" 1 truncated.pcap
note "file cut inside a record: reported at its offset, 2 packets decoded"

decode "$TMP/huge-record.pcap"
[ "$rc" -eq 0 ] || fail "huge-record.pcap: exit status $rc, expected 0"
grep -q "huge-record.pcap.*byte offset 115" "$TMP/err" \
    || fail "huge-record.pcap: no message naming the file and offset 115: $(head -3 "$TMP/err")"
expect_summary "packets" 1 huge-record.pcap
expect_summary "capture read errors" 1 huge-record.pcap
note "record header claiming 4 GiB: reported at its offset, nothing allocated for it"

decode "$TMP/hostile-packets.pcap"
[ "$rc" -eq 0 ] || fail "hostile-packets.pcap: exit status $rc, expected 0"
expect_summary "packets" 2003 hostile-packets.pcap
expect_summary "dns messages" 0 hostile-packets.pcap
expect_summary "skipped truncated" 1 hostile-packets.pcap
expect_summary "skipped malformed" 2 hostile-packets.pcap
expect_summary "skipped tcp_reassembly" 2000 hostile-packets.pcap
[ ! -s "$TMP/out" ] || fail "hostile-packets.pcap: decode printed messages: $(head -2 "$TMP/out")"
note "short snaplen, empty UDP, compression loop, endless TCP garbage: all counted skips"
