#!/bin/bash
# Install the Debian 12 packages that building and testing dnsfirst need.
# Runs apt-get only when a package is missing, and only as root; otherwise
# prints the apt-get command to run.
set -euo pipefail

PACKAGES=(
    build-essential meson ninja-build pkg-config
    libpcap-dev libsqlite3-dev libinih-dev libjson-c-dev libcmocka-dev
    sqlite3 python3 jq tcpdump
    libfstrm-dev libprotobuf-c-dev protobuf-c-compiler golang-github-dnstap-golang-dnstap-dev
    libmaxminddb-dev libpsl-dev publicsuffix tzdata knot knot-dnsutils
    clang libclang-rt-14-dev libldns-dev
)
# Only for scripts/make-sample-capture.sh, which regenerates the shipped capture.
if [ "${WITH_CAPTURE_TOOLS:-0}" = 1 ]; then
    PACKAGES+=(iproute2 unbound bind9-dnsutils)
fi
# Only for the dnstap integration tests and bench/dnstap_bench.sh.
if [ "${WITH_DNSTAP_SERVERS:-0}" = 1 ]; then
    PACKAGES+=(unbound knot knot-module-dnstap bind9 bind9-dnsutils fstrm-bin)
fi
# Only for the live capture tests (tests/integration/live_*.sh) and bench/live_bench.sh.
if [ "${WITH_LIVE_TOOLS:-0}" = 1 ]; then
    PACKAGES+=(iproute2 unbound bind9-dnsutils tcpreplay curl)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]}" >&2
    echo "run as root: apt-get update && $command" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
$command
