#!/bin/bash
# Install the Debian 12 packages that building and testing dnsfirst need.
# Runs apt-get only when a package is missing, and only as root; otherwise
# prints the apt-get command to run.
set -euo pipefail

# Usage: scripts/install-deps.sh [build|test]
#   build: what compiling dnsfirst and running the demo need
#   test:  also the DNS servers, capture and replay tools and fuzzing
#          toolchain that the test suite starts (the default)
MODE=${1:-test}

PACKAGES=(
    build-essential meson ninja-build pkg-config
    libpcap-dev libsqlite3-dev libinih-dev libjson-c-dev libcmocka-dev
    libfstrm-dev libprotobuf-c-dev protobuf-c-compiler golang-github-dnstap-golang-dnstap-dev
    libmaxminddb-dev libpsl-dev publicsuffix tzdata
)
if [ "$MODE" = test ]; then
    PACKAGES+=(
        sqlite3 python3 python3-yaml jq tcpdump util-linux
        clang libclang-rt-14-dev libldns-dev
        iproute2 tcpreplay curl
        unbound knot knot-dnsutils knot-module-dnstap bind9 bind9-dnsutils fstrm-bin
    )
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
