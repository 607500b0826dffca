#!/bin/bash
# Build the libFuzzer targets with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer. Not part of the meson build.
#
# Usage: tests/fuzz/build.sh [OUT_DIR]   (default: build-fuzz in the repository)
# Needs clang and libclang-rt-14-dev (which provides -fsanitize=fuzzer on
# Debian 12), and libldns-dev for the differential target.
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

"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_dns_wire" "$ROOT/tests/fuzz/fuzz_dns_wire.c" "${WIRE[@]}"
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_decoder" "$ROOT/tests/fuzz/fuzz_decoder.c" "${DECODER[@]}"
"$CC" "${CFLAGS[@]}" -o "$OUT/fuzz_dns_differential" "$ROOT/tests/fuzz/fuzz_dns_differential.c" \
    "${WIRE[@]}" -lldns
echo "fuzz targets built in $OUT"
