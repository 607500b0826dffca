# Helpers for the live capture tests (live_*.sh); source lib.sh first.
#
# netns_up builds two network namespaces joined by a veth pair, with names
# unique to this run and torn down by the EXIT trap:
#   $NS_SRV  server side: $VETH_SRV with 192.0.2.1/24 and 2001:db8:53::1/64
#   $NS_CLI  client side: $VETH_CLI with 192.0.2.11-.14 and 2001:db8:53::11-14
# Tests skip (exit 77) when they are not root or namespaces cannot be made.

NS_SRV=dnsf-s$$
NS_CLI=dnsf-c$$
VETH_SRV=dfv$$s
VETH_CLI=dfv$$c
LIVE_PIDS=()

netns_down() {
    local pid
    for pid in "${LIVE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${LIVE_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    ip netns del "$NS_SRV" 2>/dev/null
    ip netns del "$NS_CLI" 2>/dev/null
    cleanup_tmp
}

netns_up() {
    [ "$(id -u)" -eq 0 ] || skip "needs root for network namespaces"
    require_tool ip
    if ! ip netns add "$NS_SRV" 2>/dev/null; then
        skip "'ip netns add' failed: no network namespaces here"
    fi
    trap netns_down EXIT
    ip netns add "$NS_CLI" || fail "ip netns add $NS_CLI failed"
    ip link add "$VETH_SRV" type veth peer name "$VETH_CLI" || fail "cannot create veth pair"
    ip link set "$VETH_SRV" netns "$NS_SRV"
    ip link set "$VETH_CLI" netns "$NS_CLI"
    ip -n "$NS_SRV" link set lo up
    ip -n "$NS_CLI" link set lo up
    ip -n "$NS_SRV" addr add 192.0.2.1/24 dev "$VETH_SRV"
    ip -n "$NS_SRV" addr add 2001:db8:53::1/64 dev "$VETH_SRV" nodad
    local h
    for h in 11 12 13 14; do
        ip -n "$NS_CLI" addr add "192.0.2.$h/24" dev "$VETH_CLI"
        ip -n "$NS_CLI" addr add "2001:db8:53::$h/64" dev "$VETH_CLI" nodad
    done
    ip -n "$NS_SRV" link set "$VETH_SRV" up
    ip -n "$NS_CLI" link set "$VETH_CLI" up
}

# unbound_up: serve the zone example.test on port 53 of the server namespace.
unbound_up() {
    require_tool unbound
    cat > "$TMP/unbound.conf" <<EOF
server:
    interface: 192.0.2.1
    interface: 2001:db8:53::1
    port: 53
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "$TMP"
    pidfile: ""
    use-syslog: no
    logfile: ""
    access-control: 192.0.2.0/24 allow
    access-control: 2001:db8:53::/64 allow
    local-zone: "example.test." static
    local-data: "www.example.test. 300 IN A 192.0.2.10"
    local-data: "www.example.test. 300 IN AAAA 2001:db8:53::10"
remote-control:
    control-enable: no
EOF
    ip netns exec "$NS_SRV" unbound -d -c "$TMP/unbound.conf" 2>"$TMP/unbound.log" &
    LIVE_PIDS+=($!)
    local i
    for i in $(seq 1 50); do
        if ip netns exec "$NS_CLI" dig +short +time=1 +tries=1 @192.0.2.1 -b 192.0.2.14 \
            ready.example.test >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    fail "unbound did not answer; see $TMP/unbound.log"
}

# dnsfirst_up LOG ARGS...: start dnsfirst run -i $VETH_SRV in the server
# namespace and wait until it captures. Sets DNSFIRST_PID.
dnsfirst_up() {
    local log=$1
    shift
    ip netns exec "$NS_SRV" "$DNSFIRST" run -i "$VETH_SRV" "$@" 2>"$log" &
    DNSFIRST_PID=$!
    LIVE_PIDS+=("$DNSFIRST_PID")
    local i
    for i in $(seq 1 100); do
        grep -q "sensor started" "$log" && return 0
        kill -0 "$DNSFIRST_PID" 2>/dev/null || fail "dnsfirst exited at start: $(cat "$log")"
        sleep 0.05
    done
    fail "dnsfirst did not start: $(cat "$log")"
}

# wait_for_line FILE PATTERN SECONDS: poll until FILE has a line matching
# PATTERN; prints the milliseconds it took, fails after SECONDS.
wait_for_line() {
    local file=$1 pattern=$2 limit_ms=$(($3 * 1000))
    local start now
    start=$(date +%s%3N)
    while :; do
        if [ -f "$file" ] && grep -q -- "$pattern" "$file"; then
            now=$(date +%s%3N)
            echo $((now - start))
            return 0
        fi
        now=$(date +%s%3N)
        [ $((now - start)) -le "$limit_ms" ] || return 1
        sleep 0.02
    done
}

# stop_dnsfirst SIGNAL: send SIGNAL and wait for the exit; sets DNSFIRST_RC.
stop_dnsfirst() {
    kill -"$1" "$DNSFIRST_PID"
    DNSFIRST_RC=0
    wait "$DNSFIRST_PID" || DNSFIRST_RC=$?
}

# scrape_metrics PORT: print the metrics text served in the server namespace.
scrape_metrics() {
    ip netns exec "$NS_SRV" curl -sf --max-time 2 "http://127.0.0.1:$1/metrics"
}
