#!/bin/bash
# Build the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer. Not part of the meson build.
#
# Usage: tests/fuzz/build.sh [OUT_DIR]   (default: build-fuzz in the repository)
# Needs clang and libclang-rt-14-dev (which provides -fsanitize=fuzzer on
# Debian 12), libldns-dev for the differential target, libfstrm-dev for
# the dnstap frame target and libpcap-dev for the pcap map target.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-fuzz}
CC=${FUZZ_CC:-clang}
mkdir -p "$OUT"

CFLAGS=(-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -I"$ROOT/src")
WIRE=("$ROOT/src/decode/dns_wire.c" "$ROOT/src/decode/dns_text.c" "$ROOT/src/util/addr.c")
DECODER=("$ROOT"/src/decode/*.c "$ROOT/src/util/addr.c")
INTEL=("$ROOT/src/enrich/intel_domains.c" "$ROOT/src/enrich/intel_addresses.c"
       "$ROOT/src/decode/dns_text.c" "$ROOT/src/util/addr.c" "$ROOT/src/util/error.c")

"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_dns_wire" "$ROOT/tests/fuzz/fuzz_dns_wire.c" "${WIRE[@]}"
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_decoder" "$ROOT/tests/fuzz/fuzz_decoder.c" "${DECODER[@]}"
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_dns_differential" "$ROOT/tests/fuzz/fuzz_dns_differential.c" \
    "${WIRE[@]}" "$ROOT/src/decode/dns_answers.c" -lldns
# fuzz_dnstap_frames.c includes src/input/dnstap_listen.c itself.
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_dnstap_frames" "$ROOT/tests/fuzz/fuzz_dnstap_frames.c" \
    "$ROOT/src/input/dnstap_frame.c" "$ROOT/src/util/addr.c" -lfstrm
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_intel_lists" "$ROOT/tests/fuzz/fuzz_intel_lists.c" "${INTEL[@]}"
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_metrics_request" "$ROOT/tests/fuzz/fuzz_metrics_request.c" \
    "$ROOT/src/daemon/metrics.c" "$ROOT/src/util/error.c" -lpthread
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_pcap_map" "$ROOT/tests/fuzz/fuzz_pcap_map.c" \
    "$ROOT/src/input/pcap_map.c" "$ROOT/src/util/error.c" -lpcap
echo "fuzz targets built in $OUT"
