# Shared helpers for the integration tests; each test sources this file.
#
# Environment:
#   DNSFIRST         the binary under test (default: build/dnsfirst in the repository)
#   DNSFIRST_CORPUS  the directory of reference captures (default: ../shared/corpus
#                    next to the repository)
#   KEEP_TMP=1       keep each test's temporary directory for inspection
#
# Exit codes follow the Automake convention that meson also uses: 0 pass,
# 77 skip, anything else fail.

set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_NAME=$(basename "$0" .sh)

DNSFIRST=${DNSFIRST:-$REPO/build/dnsfirst}
case "$DNSFIRST" in
    /*) ;;
    *) DNSFIRST=$REPO/$DNSFIRST ;;
esac
SAMPLE=$REPO/tests/data/sample.pcap
SAMPLE_EXPECTED=$REPO/tests/data/sample.expected
GEN_DNS_PCAP=${GEN_DNS_PCAP:-$REPO/../shared/tools/gen-dns-pcap}

TMP=$(mktemp -d "/tmp/dnsfirst-$TEST_NAME.XXXXXX")
cleanup_tmp() {
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "$TEST_NAME: kept $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup_tmp EXIT

skip() {
    echo "SKIP: $TEST_NAME ($*)"
    exit 77
}

fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    exit 1
}

note() {
    echo "$TEST_NAME: $*"
}

require_dnsfirst() {
    [ -x "$DNSFIRST" ] || skip "dnsfirst binary not found at $DNSFIRST; build it or set DNSFIRST"
}

require_tool() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || skip "$tool not installed"
    done
}

require_generator() {
    [ -f "$GEN_DNS_PCAP" ] || skip "capture generator not found at $GEN_DNS_PCAP"
    require_tool python3
}

# gen_capture OUT ARGS...: write a synthetic capture and OUT.truth.json.
gen_capture() {
    local out=$1
    shift
    python3 "$GEN_DNS_PCAP" --out "$out" --truth-pairs --quiet "$@" \
        || fail "capture generator failed with: $*"
}

# sha256_of FILE: print the file's SHA-256, or "absent".
sha256_of() {
    if [ -e "$1" ]; then
        sha256sum "$1" | cut -d' ' -f1
    else
        echo absent
    fi
}

# alert_keys FILE...: print "scope_key client_key" for every alert line, sorted.
# Fails the test when a line is not a JSON object, so a torn write is caught.
alert_keys() {
    python3 - "$@" <<'PY' || fail "alert output is not valid JSON lines: $*"
import json
import sys

keys = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                alert = json.loads(line)
            except ValueError as e:
                sys.exit(f"{path}:{number}: not JSON ({e}): {line[:120]!r}")
            d = alert["dnsfirst"]
            keys.append(f"{d['scope_key']} {d['client_key']}")
print("\n".join(sorted(keys)))
PY
}
