#!/bin/bash
# Measure dnsfirst's dnstap input: messages per second from a dnstap file
# (-r) and from a unix socket fed by fstrm_replay.
#
# The dnstap file comes from a synthetic capture (gen-capture) converted by
# pcap2dnstap: one CLIENT_QUERY or CLIENT_RESPONSE frame per UDP DNS message.
# Usage: bench/dnstap_bench.sh [PACKETS]    (default 1000000)
# Environment: DNSFIRST (default build/dnsfirst), WORK (default bench/work/dnstap).
# Needs: protoc-c, libfstrm-dev, libprotobuf-c-dev, libpcap-dev,
# golang-github-dnstap-golang-dnstap-dev, fstrm-bin (fstrm_replay).
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
PACKETS=${1:-1000000}
DNSFIRST=${DNSFIRST:-$REPO/build/dnsfirst}
WORK=${WORK:-$BENCH/work/dnstap}
PROTO_DIR=/usr/share/gocode/src/github.com/dnstap/golang-dnstap/dnstap.pb
mkdir -p "$WORK"

# Tools: the capture generator and the converter.
make -s -C "$BENCH" O="$WORK/bin" "$WORK/bin/gen-capture"
protoc-c --proto_path="$PROTO_DIR" --c_out="$WORK" "$PROTO_DIR/dnstap.proto"
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -I"$WORK" -o "$WORK/bin/pcap2dnstap" \
    "$BENCH/pcap2dnstap.c" "$WORK/dnstap.pb-c.c" -lfstrm -lprotobuf-c -lpcap

PCAP=$WORK/bench-$PACKETS.pcap
FILE=$WORK/bench-$PACKETS.fstrm
[ -s "$PCAP" ] || "$WORK/bin/gen-capture" --packets "$PACKETS" --out "$PCAP"
[ -s "$FILE" ] || "$WORK/bin/pcap2dnstap" "$PCAP" "$FILE"
frames=$(LC_ALL=C "$DNSFIRST" decode -r "$FILE" -o /dev/null 2>&1 |
    awk '$1 == "dnstap" && $2 == "data" { print $4 }')

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }

# 1. The file, decode only and full detection.
t0=$(now)
"$DNSFIRST" decode -r "$FILE" -o /dev/null 2>/dev/null
t1=$(now)
rm -f "$WORK/state.db"*
"$DNSFIRST" run -r "$FILE" --state "$WORK/state.db" --learning-period 0 -o /dev/null \
    2>"$WORK/run-file.log"
t2=$(now)

# 2. The socket: fstrm_replay sends the file, dnsfirst logs STOP once it has
# handled every frame before it.
SOCK=$WORK/dnstap.sock
rm -f "$WORK/state.db"*
"$DNSFIRST" run --dnstap "unix:$SOCK" --state "$WORK/state.db" --learning-period 0 \
    --log-level info -o /dev/null 2>"$WORK/run-socket.log" &
DF=$!
for i in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
t3=$(now)
fstrm_replay -t protobuf:dnstap.Dnstap -u "$SOCK" -r "$FILE"
for i in $(seq 1 6000); do
    grep -q "STOP received" "$WORK/run-socket.log" && break
    sleep 0.05
done
t4=$(now)
kill -TERM "$DF"
wait "$DF" || true
socket_messages=$(awk '$1 == "dns" && $2 == "messages" { print $3 }' "$WORK/run-socket.log")

echo "dnstap file: $FILE ($frames frames, $(stat -c %s "$FILE") bytes; from $PACKETS packets)"
echo "decode -r file:      $(rate "$frames" "$t0" "$t1") frames/s"
echo "run -r file:         $(rate "$frames" "$t1" "$t2") frames/s (detection and baseline included)"
echo "run --dnstap socket: $(rate "$frames" "$t3" "$t4") frames/s ($socket_messages messages handled)"
