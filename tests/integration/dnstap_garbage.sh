#!/bin/bash
# Peers that send garbage on the dnstap socket are closed, each with one log
# line naming the peer and the reason, while a real unbound on the same
# socket goes on: its clients still alert.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dnstap_lib.sh"
require_dnsfirst
require_tool unbound dig jq python3

PORT=25358
SOCK=$TMP/dnstap.sock
unbound_config "$TMP" "$PORT" "$SOCK" ub-test
start_dnsfirst "$TMP" "unix:$SOCK"
wait_socket "$SOCK" || fail "dnsfirst did not create $SOCK"
unbound -d -c "$TMP/unbound.conf" 2>"$TMP/unbound.log" &
SRV=$!
trap 'stop_pid $SRV; stop_pid $DF_PID; cleanup_tmp' EXIT
wait_dns 127.0.0.1 "$PORT" || fail "unbound does not answer"
dig +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" -b 127.0.0.3 www.example.test A >/dev/null

# Three bad peers; each must see its connection closed by dnsfirst.
python3 - "$SOCK" <<'PY' || fail "a bad peer was not disconnected"
import socket, struct, sys

CT = b"protobuf:dnstap.Dnstap"
START = struct.pack(">II", 2, 1) + struct.pack(">I", len(CT)) + CT
START_FRAME = struct.pack(">II", 0, len(START)) + START

cases = {
    "data before START": b"\x00\x00\x00\x05hello",
    "bad protobuf": START_FRAME + struct.pack(">I", 6) + b"\xff\xff\xff\xff\xff\xff",
    "frame too large": START_FRAME + struct.pack(">I", 0x7FFFFFF0),
}
for name, data in cases.items():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    s.sendall(data)
    try:
        closed = s.recv(100) == b""
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        closed = False
    s.close()
    if not closed:
        sys.exit(name + ": connection still open")
PY

dig +short +time=2 +tries=1 @127.0.0.1 -p "$PORT" -b 127.1.2.3 www.example.test A >/dev/null
sleep 2
stop_pid "$SRV"
stop_pid "$DF_PID"

LOG=$TMP/dnsfirst.log
grep -q "closed the connection of pid .*(data frame before START)" "$LOG" ||
    { cat "$LOG"; fail "no log line for the data frame before START"; }
grep -q "closed the connection of pid .*(malformed dnstap protobuf" "$LOG" ||
    fail "no log line for the malformed protobuf"
grep -q "closed the connection of pid .*is over the maximum" "$LOG" ||
    fail "no log line for the frame that is too large"
grep -Eq "dnstap connection errors +3$" "$LOG" || fail "connection errors are not 3"
EXPECTED="127.0.0.3 udp ub-test
127.1.2.3 udp ub-test"
check_alerts "$TMP/alerts.json" "$EXPECTED" || fail "wrong alerts"
note "3 bad peers closed, unbound's clients alerted"
