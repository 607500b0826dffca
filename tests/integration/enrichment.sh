#!/bin/bash
# enrichment.sh - "dnsfirst run" on the sample capture with intel lists, an
# allow rule, business hours and, when knotd is installed, PTR names from a
# local authoritative server on loopback. Asserts the alert fields.
. "$(dirname "$0")/lib.sh"
require_dnsfirst
require_tool jq

cat > "$TMP/domains.txt" <<'LIST'
# hosts file and adblock lines in one list
0.0.0.0 nope.example.test
||www.example.com^
LIST
cat > "$TMP/drop.txt" <<'LIST'
; Spamhaus DROP layout
203.0.113.0/25 ; SBL000001
2001:db8:aaaa::/48 ; SBL000002
LIST

# Knot serves only 113.0.203.in-addr.arpa on 127.0.0.1, on an unusual port.
PTR_ARGS=()
KNOT_PORT=53917
if command -v knotd >/dev/null; then
    mkdir -p "$TMP/knot"
    cat > "$TMP/knot/113.0.203.in-addr.arpa.zone" <<'ZONE'
$ORIGIN 113.0.203.in-addr.arpa.
$TTL 300
@   SOA ns.test. admin.test. 1 3600 600 86400 300
@   NS  ns.test.
5   PTR host5.partner.example.co.uk.
99  PTR gw.customer.test.
ZONE
    cat > "$TMP/knot/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$KNOT_PORT
    rundir: $TMP/knot
database:
    storage: $TMP/knot
zone:
  - domain: 113.0.203.in-addr.arpa
    file: $TMP/knot/113.0.203.in-addr.arpa.zone
CONF
    knotd -c "$TMP/knot/knot.conf" >"$TMP/knot/log" 2>&1 &
    KNOT_PID=$!
    trap 'kill "$KNOT_PID" 2>/dev/null; wait "$KNOT_PID" 2>/dev/null; cleanup_tmp' EXIT
    for _ in $(seq 50); do
        kdig -p "$KNOT_PORT" @127.0.0.1 -x 203.0.113.5 +short 2>/dev/null | grep -q host5 && break
        sleep 0.1
    done
    PTR_ARGS=(--ptr-resolver "127.0.0.1:$KNOT_PORT" --ptr-timeout 1s
              --allow "customers: name:*.customer.test")
else
    note "knotd not installed: PTR fields not tested"
fi

"$DNSFIRST" run -r "$SAMPLE" --state "$TMP/state.db" --learning-period 0 \
    --intel-domains "blocklist=$TMP/domains.txt" --intel-addresses "drop=$TMP/drop.txt" \
    --intel-severity drop=high \
    --allow "partner-x: 198.51.100.23/32" \
    --business-hours "UTC Mon-Sun 00:00-24:00" \
    "${PTR_ARGS[@]}" >"$TMP/alerts.json" 2>"$TMP/err.txt" \
    || fail "run exited $? ($(cat "$TMP/err.txt"))"

alert() { jq -c "select(.source.ip == \"$1\")" "$TMP/alerts.json" | head -1; }

# The allow rule suppresses 198.51.100.23, and the summary counts it by name.
[ -z "$(alert 198.51.100.23)" ] || fail "198.51.100.23 alerted despite its allow rule"
grep -Eq 'suppressed by partner-x +1$' "$TMP/err.txt" || fail "no count for partner-x"

# 203.0.113.5 asked for nope.example.test: both lists match.
a=$(alert 203.0.113.5)
[ -n "$a" ] || fail "no alert for 203.0.113.5"
[ "$(jq -r '.threat.enrichments | length' <<<"$a")" = 2 ] || fail "expected 2 matches: $a"
[ "$(jq -r '.threat.enrichments[0].matched.atomic' <<<"$a")" = nope.example.test ] \
    || fail "wrong domain indicator: $a"
[ "$(jq -r '.threat.enrichments[0].matched.field' <<<"$a")" = dns.question.name ] \
    || fail "wrong domain field: $a"
[ "$(jq -r '.threat.enrichments[1].matched.atomic' <<<"$a")" = 203.0.113.0/25 ] \
    || fail "wrong address indicator: $a"
[ "$(jq -r '.threat.enrichments[1].indicator.provider' <<<"$a")" = drop ] \
    || fail "wrong provider: $a"
[ "$(jq -r '.threat.enrichments[1].indicator.confidence' <<<"$a")" = High ] \
    || fail "wrong confidence: $a"
[ "$(jq -r '.dnsfirst.business_hours' <<<"$a")" = true ] || fail "business hours: $a"

# 203.0.113.200 lies outside 203.0.113.0/25; 2001:db8:aaaa::5 inside the /48.
[ "$(alert 203.0.113.200 | jq -r '.threat // "none"')" = none ] \
    || fail "203.0.113.200 matched the /25"
[ "$(alert 2001:db8:aaaa::5 | jq -r '.threat.enrichments[0].indicator.type')" = ipv6-addr ] \
    || fail "2001:db8:aaaa::5 did not match as ipv6-addr"

if [ "${#PTR_ARGS[@]}" -gt 0 ]; then
    [ "$(jq -r '.source.domain' <<<"$a")" = host5.partner.example.co.uk ] \
        || fail "source.domain missing or wrong: $a"
    [ "$(jq -r '.source.registered_domain' <<<"$a")" = example.co.uk ] \
        || fail "source.registered_domain wrong: $a"
    [ -z "$(alert 203.0.113.99)" ] || fail "203.0.113.99 alerted despite its name rule"
    grep -Eq 'suppressed by customers +1$' "$TMP/err.txt" || fail "no count for customers"
fi

# A list that does not parse stops the run with FILE:LINE and exit 2.
printf 'ok.example\nbad..example\n' > "$TMP/broken.txt"
"$DNSFIRST" run -r "$SAMPLE" --state "$TMP/state2.db" --intel-domains "$TMP/broken.txt" \
    >/dev/null 2>"$TMP/err2.txt"
rc=$?
[ "$rc" = 2 ] || fail "broken list: exit $rc, expected 2"
grep -q "broken.txt:2: invalid domain name 'bad..example'" "$TMP/err2.txt" \
    || fail "no FILE:LINE in: $(cat "$TMP/err2.txt")"

# GeoIP with the MaxMind test databases, when present.
MMDB=${DNSFIRST_CORPUS:-$REPO/../shared/corpus}/mmdb
if [ -f "$MMDB/GeoIP2-City-Test.mmdb" ]; then
    "$DNSFIRST" run -r "$SAMPLE" --state "$TMP/state3.db" --learning-period 0 \
        --geoip-city "$MMDB/GeoIP2-City-Test.mmdb" --geoip-asn "$MMDB/GeoLite2-ASN-Test.mmdb" \
        >"$TMP/geo.json" 2>"$TMP/err3.txt" || fail "geoip run exited $?"
    [ "$(wc -l <"$TMP/geo.json")" -ge 6 ] || fail "geoip run wrote too few alerts"
    "$DNSFIRST" run -r "$SAMPLE" --state "$TMP/state4.db" \
        --geoip-city "$MMDB/MaxMind-DB-test-broken-pointers-24.mmdb" >/dev/null 2>"$TMP/err4.txt"
    rc=$?
    [ "$rc" = 2 ] || fail "broken database: exit $rc, expected 2"
    grep -q "broken-pointers-24.mmdb" "$TMP/err4.txt" || fail "error does not name the file"
else
    note "MaxMind test databases not found in $MMDB: GeoIP run not tested"
fi
note "ok"
