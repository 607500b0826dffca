#!/bin/bash
# dnstap files with -r. A file that fstrm_capture wrote from unbound alerts
# as the socket does, and decodes. A truncated copy logs an error with the
# byte offset and still yields its complete frames. Captures and dnstap
# files in one run are a usage error.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/dnstap_lib.sh"
require_dnsfirst
require_tool unbound fstrm_capture dig jq

PORT=25359
SOCK=$TMP/dnstap.sock
FILE=$TMP/unbound.fstrm
unbound_config "$TMP" "$PORT" "$SOCK" ub-file
fstrm_capture -t protobuf:dnstap.Dnstap -u "$SOCK" -w "$FILE" 2>"$TMP/capture.log" &
CAP=$!
wait_socket "$SOCK" || fail "fstrm_capture did not create $SOCK"
unbound -d -c "$TMP/unbound.conf" 2>"$TMP/unbound.log" &
SRV=$!
trap 'stop_pid $SRV; kill -INT $CAP 2>/dev/null; cleanup_tmp' EXIT
wait_dns 127.0.0.1 "$PORT" || fail "unbound does not answer"
send_queries "$PORT"
sleep 2
stop_pid "$SRV"
kill -INT "$CAP"
wait "$CAP"

# The whole file.
EXPECTED="127.0.0.3 udp ub-file
127.0.0.9 tcp ub-file
127.1.2.3 udp ub-file
::1 udp ub-file"
"$DNSFIRST" run -r "$FILE" --state "$TMP/full.db" --internal 127.0.0.2/32 \
    --learning-period 0 -o "$TMP/full.json" 2>"$TMP/full.log" || fail "run -r failed"
check_alerts "$TMP/full.json" "$EXPECTED" || { cat "$TMP/full.log"; fail "wrong alerts"; }
jq -e --arg f "$FILE" 'select(.dnsfirst.input.name != $f)' "$TMP/full.json" >/dev/null &&
    fail "alert input name is not the file name"

"$DNSFIRST" decode -r "$FILE" -o "$TMP/decode.json" 2>"$TMP/decode.log" || fail "decode failed"
queries=$(jq -r 'select(.dns.type == "query") | .source.ip' "$TMP/decode.json" | wc -l)
answers=$(jq -r 'select(.dns.type == "answer") | .source.ip' "$TMP/decode.json" | wc -l)
[ "$queries" -ge 6 ] && [ "$queries" -eq "$answers" ] ||
    fail "decode wrote $queries queries and $answers answers"

# Cut the file inside its last frames: the frames before the cut still count.
size=$(stat -c %s "$FILE")
head -c $((size - 40)) "$FILE" > "$TMP/cut.fstrm"
"$DNSFIRST" run -r "$TMP/cut.fstrm" --state "$TMP/cut.db" --internal 127.0.0.2/32 \
    --learning-period 0 -o "$TMP/cut.json" 2>"$TMP/cut.log"
grep -q "cut.fstrm: file truncated inside the frame at offset [0-9]*" "$TMP/cut.log" ||
    { cat "$TMP/cut.log"; fail "no truncation error with the offset"; }
got=$(alert_table "$TMP/cut.json" | wc -l)
[ "$got" -ge 3 ] || fail "truncated file gave $got alerts, expected at least 3"

# A capture and a dnstap file together.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
    > "$TMP/empty.pcap"
rc=0
"$DNSFIRST" decode -r "$FILE" -r "$TMP/empty.pcap" >/dev/null 2>"$TMP/mixed.log" || rc=$?
[ "$rc" -eq 2 ] || fail "mixed inputs: exit $rc, expected 2"
grep -q "dnstap and the others captures" "$TMP/mixed.log" || fail "no message for mixed inputs"
note "dnstap file: alerts, decode, truncation and mixed inputs as expected"
