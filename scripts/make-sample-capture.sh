#!/bin/bash
# Record tests/data/sample.pcap: real DNS traffic between clients and an
# unbound server in two network namespaces joined by a veth pair.
#
# Usage (as root): scripts/make-sample-capture.sh [OUTPUT]   (default tests/data/sample.pcap)
# Needs: iproute2, unbound, tcpdump, dig (bind9-dnsutils).
#
# The server namespace holds three server addresses on its veth end; the client
# namespace holds every client address on the other end. unbound serves only the
# local zone example.test, rejects every other name (local-zone "." refuse) and
# never recurses or forwards, so no packet leaves the two namespaces. tcpdump
# records port 53 on the server side of the link. The queries below are the
# plan from which tests/data/sample.expected was written by hand: change one,
# change the other.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$REPO/tests/data/sample.pcap}

if [ "$(id -u)" -ne 0 ]; then
    echo "error: $0 needs root (network namespaces, tcpdump)" >&2
    exit 1
fi
for tool in ip unbound tcpdump dig; do
    if ! command -v "$tool" >/dev/null; then
        echo "error: $tool not found; install iproute2 unbound tcpdump bind9-dnsutils" >&2
        exit 1
    fi
done

# Names unique to this run; link names must stay within 15 characters.
RUN_ID=$(printf '%04x%04x' $$ "$RANDOM" | tail -c 6)
NS_SERVER=dnsf-srv-$RUN_ID
NS_CLIENT=dnsf-cli-$RUN_ID
LINK_SERVER=dfs-$RUN_ID
LINK_CLIENT=dfc-$RUN_ID
WORK=$(mktemp -d /tmp/dnsfirst-sample.XXXXXX)
TCPDUMP_PID=""
UNBOUND_PID=""

SERVER_V4_A=192.0.2.53
SERVER_V4_B=10.53.0.53
SERVER_V6=2001:db8:53::53

stop_pid() {
    local pid=$1 i
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

teardown() {
    stop_pid "$TCPDUMP_PID"
    stop_pid "$UNBOUND_PID"
    # Deleting a namespace also deletes the veth end inside it, and with it the pair.
    ip netns del "$NS_SERVER" 2>/dev/null || true
    ip netns del "$NS_CLIENT" 2>/dev/null || true
    rm -rf "$WORK"
}
trap teardown EXIT

in_server() { ip netns exec "$NS_SERVER" "$@"; }
in_client() { ip netns exec "$NS_CLIENT" "$@"; }

setup_network() {
    ip netns add "$NS_SERVER"
    ip netns add "$NS_CLIENT"
    ip link add "$LINK_SERVER" netns "$NS_SERVER" type veth peer name "$LINK_CLIENT" netns "$NS_CLIENT"
    ip -n "$NS_SERVER" link set lo up
    ip -n "$NS_CLIENT" link set lo up

    local a
    for a in "$SERVER_V4_A/32" "$SERVER_V4_B/32"; do
        ip -n "$NS_SERVER" addr add "$a" dev "$LINK_SERVER"
    done
    ip -n "$NS_SERVER" addr add "$SERVER_V6/128" dev "$LINK_SERVER" nodad

    # Client addresses: external ones from the documentation ranges, internal
    # ones from 10/8, 192.168/16 and fd00::/8.
    for a in 198.51.100.7 198.51.100.23 203.0.113.5 203.0.113.99 203.0.113.200 \
             10.1.2.3 10.20.30.40 192.168.1.10; do
        ip -n "$NS_CLIENT" addr add "$a/32" dev "$LINK_CLIENT"
    done
    for a in 2001:db8:aaaa::5 2001:db8:bbbb::7 fd00::10; do
        ip -n "$NS_CLIENT" addr add "$a/128" dev "$LINK_CLIENT" nodad
    done

    ip -n "$NS_SERVER" link set "$LINK_SERVER" up
    ip -n "$NS_CLIENT" link set "$LINK_CLIENT" up

    # Every address is a host address, so both sides need on-link routes.
    for a in 198.51.100.0/24 203.0.113.0/24 10.0.0.0/8 192.168.0.0/16; do
        ip -n "$NS_SERVER" route add "$a" dev "$LINK_SERVER"
    done
    for a in 2001:db8::/32 fd00::/8; do
        ip -n "$NS_SERVER" -6 route add "$a" dev "$LINK_SERVER"
    done
    ip -n "$NS_CLIENT" route add "$SERVER_V4_A/32" dev "$LINK_CLIENT"
    ip -n "$NS_CLIENT" route add "$SERVER_V4_B/32" dev "$LINK_CLIENT"
    ip -n "$NS_CLIENT" -6 route add "$SERVER_V6/128" dev "$LINK_CLIENT"
}

write_unbound_conf() {
    cat > "$WORK/unbound.conf" <<CONF
server:
    username: ""
    chroot: ""
    directory: "$WORK"
    pidfile: "$WORK/unbound.pid"
    do-daemonize: no
    use-syslog: no
    logfile: ""
    interface: $SERVER_V4_A@53
    interface: $SERVER_V4_B@53
    interface: $SERVER_V6@53
    do-tcp: yes
    access-control: 0.0.0.0/0 allow
    access-control: ::/0 allow
    module-config: "iterator"
    local-zone: "." refuse
    local-zone: "example.test." static
    local-data: "example.test. 3600 IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300"
    local-data: "example.test. 3600 IN NS ns.example.test."
    local-data: "ns.example.test. 3600 IN A 192.0.2.53"
    local-data: "www.example.test. 3600 IN A 192.0.2.10"
    local-data: "www.example.test. 3600 IN AAAA 2001:db8::10"
    local-data: "example.test. 3600 IN MX 10 mail.example.test."
    local-data: "mail.example.test. 3600 IN A 192.0.2.25"
    local-data: 'example.test. 3600 IN TXT "v=sample capture"'
remote-control:
    control-enable: no
CONF
    unbound-checkconf "$WORK/unbound.conf" >/dev/null
}

start_unbound() {
    in_server unbound -d -c "$WORK/unbound.conf" 2>"$WORK/unbound.log" &
    UNBOUND_PID=$!
    # Probe from inside the server namespace: that query goes over lo, not
    # over the veth link, so it never reaches the capture.
    local i
    for i in $(seq 1 50); do
        if in_server dig +short +time=1 +tries=1 @"$SERVER_V4_A" www.example.test A 2>/dev/null \
                | grep -q 192.0.2.10; then
            return 0
        fi
        sleep 0.2
    done
    echo "error: unbound did not answer within 10 s; log: $(cat "$WORK/unbound.log")" >&2
    return 1
}

start_tcpdump() {
    # -Z root: stay root so the file in the root-only work directory can be written.
    in_server tcpdump -n -U --immediate-mode -Z root -i "$LINK_SERVER" -w "$WORK/sample.pcap" \
        'port 53' 2>"$WORK/tcpdump.log" &
    TCPDUMP_PID=$!
    local i
    for i in $(seq 1 50); do
        grep -q listening "$WORK/tcpdump.log" && return 0
        sleep 0.1
    done
    echo "error: tcpdump did not start; log: $(cat "$WORK/tcpdump.log")" >&2
    return 1
}

# ask SOURCE SERVER NAME TYPE [dig options...]: one query, one try; fails
# when no response arrives, so a capture with a lost query is never kept.
ask() {
    local src=$1 server=$2 name=$3 type=$4
    shift 4
    local out
    if ! out=$(in_client dig +time=2 +tries=1 -b "$src" @"$server" "$@" "$name" "$type"); then
        echo "error: no response to $name $type from $src to $server" >&2
        return 1
    fi
    echo "$src -> $server $name $type: $(echo "$out" | grep -o 'status: [A-Z]*')"
    sleep 0.05
}

send_queries() {
    # External clients.
    ask 198.51.100.7 "$SERVER_V4_A" www.example.test A
    ask 198.51.100.7 "$SERVER_V4_A" www.example.test A
    ask 198.51.100.7 "$SERVER_V4_A" example.test MX
    ask 198.51.100.7 "$SERVER_V4_B" example.test TXT
    ask 203.0.113.5 "$SERVER_V4_A" nope.example.test A           # NXDOMAIN
    ask 203.0.113.99 "$SERVER_V4_A" www.example.test A +tcp      # TCP first ...
    ask 203.0.113.99 "$SERVER_V4_A" www.example.test AAAA        # ... then UDP
    ask 203.0.113.200 "$SERVER_V4_B" example.test ANY +notcp    # dig sends ANY over TCP unless told
    ask 198.51.100.23 "$SERVER_V4_B" www.example.com A           # REFUSED: outside the zone
    ask 2001:db8:aaaa::5 "$SERVER_V6" www.example.test AAAA
    ask 2001:db8:aaaa::5 "$SERVER_V6" www.example.test AAAA
    ask 2001:db8:bbbb::7 "$SERVER_V6" www.example.test A +noedns

    # Internal clients: never alerted with the default internal networks.
    ask 10.1.2.3 "$SERVER_V4_A" www.example.test A
    ask 10.1.2.3 "$SERVER_V4_A" www.example.test A
    ask 10.20.30.40 "$SERVER_V4_A" example.test TXT
    ask 192.168.1.10 "$SERVER_V4_B" example.test MX
    ask 192.168.1.10 "$SERVER_V4_B" missing.example.test AAAA    # NXDOMAIN
    ask fd00::10 "$SERVER_V6" www.example.test AAAA
    ask fd00::10 "$SERVER_V6" example.test ANY +notcp

    # A known external client comes back.
    ask 198.51.100.7 "$SERVER_V4_A" www.example.test AAAA
}

main() {
    setup_network
    write_unbound_conf
    start_unbound
    start_tcpdump
    send_queries
    sleep 0.5
    stop_pid "$TCPDUMP_PID"
    TCPDUMP_PID=""
    mkdir -p "$(dirname "$OUT")"
    cp "$WORK/sample.pcap" "$OUT"
    echo "wrote $OUT: $(tcpdump -n -r "$OUT" 2>/dev/null | wc -l) packets"
}

main
