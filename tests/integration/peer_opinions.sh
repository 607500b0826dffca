#!/bin/bash
# Decode every capture of the corpus that comes with a Zeek dns.log or a
# suricata-verify test and check our messages against those peer outputs (see
# peer_opinions.py). Prints one agreement figure per peer and fails on any
# mismatch that is not listed in peer_known_differences.tsv.
. "$(dirname "$0")/lib.sh"

CORPUS=${DNSFIRST_CORPUS:-$REPO/../shared/corpus}

require_dnsfirst
require_tool python3
# Debian's python3-yaml serves /usr/bin/python3, which may not be first on PATH.
PYTHON=python3
if ! "$PYTHON" -c 'import yaml' 2>/dev/null && /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    PYTHON=/usr/bin/python3
fi
"$PYTHON" -c 'import yaml' 2>/dev/null || skip "python3 module yaml not installed (Debian package python3-yaml)"
[ -d "$CORPUS" ] || skip "capture corpus not found at $CORPUS; set DNSFIRST_CORPUS"

"$PYTHON" "$REPO/tests/integration/peer_opinions.py" --dnsfirst "$DNSFIRST" --corpus "$CORPUS" \
    --known "$REPO/tests/integration/peer_known_differences.tsv" ${PEER_VERBOSE:+--verbose} \
    || fail "decoded messages differ from Zeek or Suricata outputs (lines starting with 'mismatch' or 'error' above)"
