#!/bin/bash
# Decode every reference capture that has a tshark oracle and compare its UDP and TCP
# messages field by field (see corpus_diff.py). Fails on any mismatch that is
# not listed in corpus_known_differences.tsv.
. "$(dirname "$0")/lib.sh"

CORPUS=${DNSFIRST_CORPUS:-$REPO/../shared/corpus}

require_dnsfirst
require_tool python3
[ -d "$CORPUS" ] || skip "capture corpus not found at $CORPUS; set DNSFIRST_CORPUS"

python3 "$REPO/tests/integration/corpus_diff.py" --dnsfirst "$DNSFIRST" --corpus "$CORPUS" \
    --known "$REPO/tests/integration/corpus_known_differences.tsv" ${CORPUS_VERBOSE:+--verbose} \
    || fail "decoded messages differ from the tshark oracles (lines starting with 'mismatch' or 'error' above)"
