#!/bin/bash
# Command line: help on every command, exit 2 for usage and config errors,
# and a config error that names its line.
. "$(dirname "$0")/lib.sh"

require_dnsfirst

failures=0

case_fail() {
    echo "FAIL: $TEST_NAME: $*" >&2
    failures=$((failures + 1))
}

# expect_exit CODE DESCRIPTION ARGS...: run dnsfirst ARGS and check its exit code.
expect_exit() {
    local expected=$1 description=$2
    shift 2
    local rc=0
    "$DNSFIRST" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
    if [ "$rc" -ne "$expected" ]; then
        case_fail "$description: 'dnsfirst $*' exited $rc, expected $expected; stderr: $(head -c 400 "$TMP/err")"
        return 1
    fi
    return 0
}

# Help exits 0 and prints a usage text on standard output.
for args in "--help" "run --help" "decode --help" "baseline --help" "check-config --help"; do
    # shellcheck disable=SC2086 # the arguments are split on purpose
    if expect_exit 0 "help" $args; then
        grep -qi usage "$TMP/out" || case_fail "'dnsfirst $args' printed no usage text on stdout"
    fi
done

# Usage errors exit 2.
expect_exit 2 "unknown flag" run -r "$SAMPLE" --no-such-flag
expect_exit 2 "unknown command" no-such-command
expect_exit 2 "no command"
expect_exit 2 "run without -r" run --learning-period 0 --state "$TMP/x.db"
expect_exit 2 "invalid duration" run -r "$SAMPLE" --learning-period 5x --state "$TMP/x.db"
expect_exit 2 "invalid scope" run -r "$SAMPLE" --scope planet --state "$TMP/x.db"
expect_exit 2 "invalid network" run -r "$SAMPLE" --internal 10.0.0.1/8 --state "$TMP/x.db"
expect_exit 2 "unknown baseline subcommand" baseline frobnicate --state "$TMP/x.db"
[ -e "$TMP/x.db" ] && case_fail "a usage error created the state file $TMP/x.db"

# A good config file passes check-config.
cat >"$TMP/good.conf" <<'EOF'
# dnsfirst settings for the test
scope = server
learning-period = 24h
internal = 10.0.0.0/8
internal = fd00::/8
dns-port = 53
EOF
expect_exit 0 "good config" check-config -c "$TMP/good.conf"

# A bad value on line 4 is reported as FILE:4 by check-config and by run.
cat >"$TMP/bad.conf" <<'EOF'
# dnsfirst settings with a mistake
scope = server

learning-period = soon
EOF
if expect_exit 2 "bad config value" check-config -c "$TMP/bad.conf"; then
    grep -qF "$TMP/bad.conf:4" "$TMP/err" \
        || case_fail "check-config did not report $TMP/bad.conf:4; stderr: $(head -c 400 "$TMP/err")"
fi
if expect_exit 2 "run with a bad config" run -c "$TMP/bad.conf" -r "$SAMPLE" --state "$TMP/y.db"; then
    grep -qF "$TMP/bad.conf:4" "$TMP/err" \
        || case_fail "run did not report $TMP/bad.conf:4; stderr: $(head -c 400 "$TMP/err")"
fi

# An unknown key is an error on its line too.
printf 'scope = site\nno-such-setting = 1\n' >"$TMP/unknown.conf"
if expect_exit 2 "unknown config key" check-config -c "$TMP/unknown.conf"; then
    grep -qF "$TMP/unknown.conf:2" "$TMP/err" \
        || case_fail "check-config did not report $TMP/unknown.conf:2; stderr: $(head -c 400 "$TMP/err")"
fi

expect_exit 2 "missing config file" check-config -c "$TMP/absent.conf"

# The README's settings table is the output of check-config --markdown.
"$DNSFIRST" check-config --markdown >"$TMP/settings.md"
sed -n '/^<!-- settings table/,/^<!-- end of settings table/p' "$REPO/README.md" \
    | sed '1d;$d' >"$TMP/readme-settings.md"
cmp -s "$TMP/settings.md" "$TMP/readme-settings.md" \
    || case_fail "README settings table differs from 'dnsfirst check-config --markdown'; regenerate it"

# check-config without a file prints every single-value default as the table's Default column.
"$DNSFIRST" check-config >"$TMP/defaults.conf" 2>/dev/null || case_fail "check-config without a file failed"
while IFS='|' read -r _ key _ default _; do
    key=$(echo "$key" | tr -d ' `')
    default=$(echo "$default" | sed 's/^ *`//; s/` *$//; s/^ *$//')
    [ -n "$default" ] || continue
    [ "$(grep -c "^$key = " "$TMP/defaults.conf")" -eq 1 ] || continue
    printed=$(sed -n "s/^$key = //p" "$TMP/defaults.conf")
    [ "$printed" = "$default" ] \
        || case_fail "check-config prints '$key = $printed', the README table's default is '$default'"
done < <(tail -n +3 "$TMP/settings.md" | sed 's/\\|/,/g') # no escaped | splits a row

# A --state in a missing directory: the error names the directory, for run and import.
printf '' >"$TMP/empty.jsonl"
for args in "run -r $SAMPLE --learning-period 0" "baseline import $TMP/empty.jsonl"; do
    # shellcheck disable=SC2086 # the arguments are split on purpose
    if expect_exit 1 "state in a missing directory" $args --state "$TMP/nodir/x.db"; then
        grep -qF "the directory '$TMP/nodir' does not exist" "$TMP/err" \
            || case_fail "'$args' does not name the missing directory: $(head -c 400 "$TMP/err")"
        if grep -qF "run 'dnsfirst run' first" "$TMP/err"; then
            case_fail "'$args' advises running dnsfirst run for a missing directory"
        fi
    fi
done
[ -e "$TMP/nodir" ] && case_fail "a failed open created $TMP/nodir"

# prune --storm: --help and the README describe the removed clients in the same words.
storm_rule="first seen during an alert storm that have not queried again outside a storm"
"$DNSFIRST" baseline --help | tr -s ' \n' '  ' | grep -qF "$storm_rule" \
    || case_fail "baseline --help does not say prune --storm removes clients $storm_rule"
tr -s ' \n' '  ' <"$REPO/README.md" | grep -qF "$storm_rule" \
    || case_fail "README does not say prune --storm removes clients $storm_rule"

[ "$failures" -eq 0 ] || fail "$failures checks failed"
note "all checks passed"
