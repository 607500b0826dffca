# Helpers for the dnstap tests: local DNS servers that answer one test zone
# on loopback, send dnstap to dnsfirst's socket, and nothing else. Every
# wait loop is bounded. Source lib.sh first.

ZONE_A=192.0.2.10

# Wait until the server at $1 port $2 answers www.example.test.
wait_dns() {
    local i
    for i in $(seq 1 50); do
        dig +short +time=1 +tries=1 @"$1" -p "$2" -b 127.0.0.2 www.example.test A 2>/dev/null |
            grep -q "$ZONE_A" && return 0
        sleep 0.2
    done
    return 1
}

wait_socket() {
    local i
    for i in $(seq 1 50); do
        [ -S "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# Wait until file $1 contains a line matching $2 (at most 10 s).
wait_grep() {
    local i
    for i in $(seq 1 100); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

stop_pid() {
    kill -TERM "$1" 2>/dev/null || return 0
    local i
    for i in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# Queries from 127.0.0.2 (internal in these tests), three external IPv4
# sources, ::1 and TCP from 127.0.0.9, all to port $1.
send_queries() {
    local port=$1 s
    for s in 127.0.0.2 127.0.0.3 127.1.2.3; do
        dig +short +time=2 +tries=1 @127.0.0.1 -p "$port" -b "$s" www.example.test A >/dev/null
    done
    dig +short +time=2 +tries=1 @::1 -p "$port" -b ::1 www.example.test AAAA >/dev/null
    dig +tcp +short +time=2 +tries=1 @127.0.0.1 -p "$port" -b 127.0.0.9 www.example.test A \
        >/dev/null
}

write_zone() {
    printf '%s\n' '$ORIGIN example.test.' '$TTL 3600' \
        '@ SOA ns admin 1 3600 600 86400 300' '@ NS ns' 'ns A 192.0.2.53' \
        "www A $ZONE_A" 'www AAAA 2001:db8::10' > "$1"
}

# unbound_config DIR PORT SOCKET IDENTITY: an unbound that answers only
# example.test (no recursion: every other name is refused).
unbound_config() {
    cat > "$1/unbound.conf" <<CONF
server:
    username: ""
    chroot: ""
    directory: "$1"
    pidfile: "$1/unbound.pid"
    do-daemonize: no
    use-syslog: no
    logfile: ""
    interface: 127.0.0.1@$2
    interface: ::1@$2
    access-control: 127.0.0.0/8 allow
    access-control: ::1/128 allow
    module-config: "iterator"
    local-zone: "." refuse
    local-zone: "example.test." static
    local-data: "example.test. 3600 IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 300"
    local-data: "www.example.test. 3600 IN A $ZONE_A"
    local-data: "www.example.test. 3600 IN AAAA 2001:db8::10"
remote-control:
    control-enable: no
dnstap:
    dnstap-enable: yes
    dnstap-bidirectional: yes
    dnstap-socket-path: "$3"
    dnstap-send-identity: yes
    dnstap-identity: "$4"
    dnstap-send-version: yes
    dnstap-log-client-query-messages: yes
    dnstap-log-client-response-messages: yes
CONF
}

# knot_config DIR PORT SOCKET IDENTITY: knotd with the example.test zone and
# mod-dnstap; its control socket stays in DIR.
knot_config() {
    write_zone "$1/example.test.zone"
    cat > "$1/knot.conf" <<CONF
server:
    rundir: "$1"
    listen: [ 127.0.0.1@$2, ::1@$2 ]
database:
    storage: "$1/db"
mod-dnstap:
  - id: tap
    sink: "unix:$3"
    identity: "$4"
    log-queries: on
    log-responses: on
template:
  - id: default
    storage: "$1"
    global-module: mod-dnstap/tap
zone:
  - domain: example.test
    file: "example.test.zone"
CONF
}

# bind_config DIR PORT SOCKET IDENTITY: named, authoritative only.
bind_config() {
    write_zone "$1/example.test.zone"
    cat > "$1/named.conf" <<CONF
options {
    directory "$1"; pid-file "$1/named.pid"; session-keyfile "$1/session.key";
    managed-keys-directory "$1";
    listen-on port $2 { 127.0.0.1; }; listen-on-v6 port $2 { ::1; };
    recursion no; notify no; dnssec-validation no; allow-query { any; };
    dnstap { all; }; dnstap-output unix "$3"; dnstap-identity "$4";
};
controls { };
zone "example.test" { type primary; file "$1/example.test.zone"; };
CONF
}

# start_dnsfirst DIR ENDPOINT...: run dnsfirst on the endpoints in the
# background with 127.0.0.2 as the only internal address; sets DF_PID.
start_dnsfirst() {
    local dir=$1 args=() e
    shift
    for e in "$@"; do
        args+=(--dnstap "$e")
    done
    "$DNSFIRST" run "${args[@]}" --state "$dir/state.db" --internal 127.0.0.2/32 \
        --learning-period 0 --log-level info -o "$dir/alerts.json" 2>"$dir/dnsfirst.log" &
    DF_PID=$!
}

# Print "client transport observer" for each alert in file $1, sorted.
alert_table() {
    jq -r '[.source.ip, .network.transport, (.observer.name // "-")] | join(" ")' "$1" | sort
}

# check_alerts FILE EXPECTED: compare the alert table with the expected lines.
check_alerts() {
    local got
    got=$(alert_table "$1")
    if [ "$got" != "$2" ]; then
        echo "expected alerts:"; echo "$2"; echo "got:"; echo "$got"
        return 1
    fi
}

# server_case PORT IDENTITY WAIT_S COMMAND...: start dnsfirst on $TMP/dnstap.sock,
# then the server COMMAND, send the queries twice, wait WAIT_S seconds for
# the server's buffered dnstap, stop both, and check the alerts: the four
# external clients once each, with their transport and the server identity.
server_case() {
    local port=$1 identity=$2 wait_s=$3
    shift 3
    start_dnsfirst "$TMP" "unix:$TMP/dnstap.sock"
    wait_socket "$TMP/dnstap.sock" || fail "dnsfirst did not create the dnstap socket"
    "$@" >"$TMP/server.log" 2>&1 &
    SRV=$!
    trap 'stop_pid $SRV; stop_pid $DF_PID; cleanup_tmp' EXIT

    wait_dns 127.0.0.1 "$port" || { cat "$TMP/server.log"; fail "server does not answer"; }
    wait_grep "$TMP/dnsfirst.log" "connected" || fail "the server never connected"
    send_queries "$port"
    send_queries "$port"
    sleep "$wait_s"
    stop_pid "$SRV"
    stop_pid "$DF_PID"

    local expected="127.0.0.3 udp $identity
127.0.0.9 tcp $identity
127.1.2.3 udp $identity
::1 udp $identity"
    check_alerts "$TMP/alerts.json" "$expected" || {
        cat "$TMP/dnsfirst.log"
        fail "wrong alerts"
    }
    jq -e 'select(.dnsfirst.input.name != "dnstap:unix:'"$TMP/dnstap.sock"'")' \
        "$TMP/alerts.json" >/dev/null && fail "alert input name is not the dnstap socket"
    return 0
}
