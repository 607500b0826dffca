#!/bin/bash
# Measure how long a large baseline takes to be ready to detect: import
# CLIENTS known clients (public IPv4 addresses, in key order) into a new
# baseline, then start `dnsfirst run` on a small capture three times. The
# first start has no client snapshot and reads every row; the next ones
# read the snapshot the first wrote. Each start's "loaded N clients in T
# ms" line and peak RSS are printed.
# Usage: bench/baseline_bench.sh [CLIENTS]    (default 10000000)
# Environment: DNSFIRST (default build-release/dnsfirst), WORK (default
# bench/work/baseline). Needs python3 and GNU time; about 1 GB of disk for
# ten million clients.
set -euo pipefail

BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
CLIENTS=${1:-10000000}
DNSFIRST=${DNSFIRST:-$REPO/build-release/dnsfirst}
WORK=${WORK:-$BENCH/work/baseline}
mkdir -p "$WORK"

ROWS=$WORK/clients-$CLIENTS.jsonl
STATE=$WORK/b-$CLIENTS.db
PCAP=$WORK/small.pcap

# Export lines of CLIENTS clients of one server, from 101.0.0.0 upwards,
# each learned at 2024-05-01 00:00 UTC.
if [ ! -s "$ROWS" ]; then
    python3 - "$CLIENTS" >"$ROWS" <<'PY'
import sys
count = int(sys.argv[1])
line = ('{"scope":"198.51.100.53","client":"%d.%d.%d.%d/32","first_seen":1714521600,'
        '"last_seen":1714521600,"query_count":1,"flags":1,"first_query":"www.example.com A"}\n')
out = sys.stdout
base = 101 << 24
for n in range(count):
    address = base + n
    out.write(line % (address >> 24, (address >> 16) & 255, (address >> 8) & 255, address & 255))
PY
fi

# A small capture of 1,000 generated packets.
if [ ! -s "$PCAP" ]; then
    make -s -C "$BENCH" O="$WORK/bin" "$WORK/bin/gen-capture"
    "$WORK/bin/gen-capture" --packets 1000 --clients 100 --out "$PCAP"
fi

rm -f "$STATE" "$STATE-wal" "$STATE-shm" "$STATE.clients"
start=$(date +%s%N)
"$DNSFIRST" baseline import "$ROWS" --state "$STATE" >/dev/null
end=$(date +%s%N)
echo "import of $CLIENTS clients: $(awk -v ns=$((end - start)) 'BEGIN { printf "%.1f", ns / 1e9 }') s"

for run in 1 2 3; do
    /usr/bin/time -f 'peak RSS %M KiB' -o "$WORK/time.out" \
        "$DNSFIRST" run --expiry 0 -r "$PCAP" --state "$STATE" -o /dev/null 2>"$WORK/run$run.log"
    loaded=$(grep -o 'loaded [0-9]* clients .* in [0-9]* ms' "$WORK/run$run.log" || true)
    echo "start $run: ${loaded:-no load line}, $(tail -n 1 "$WORK/time.out")"
done
echo "snapshot: $(($(stat -c %s "$STATE.clients") / 1000000)) MB"
