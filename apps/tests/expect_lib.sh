# Shared by the CLI error tests (sourced): `expect` runs qrsim on bad input and checks
# what the README promises for it. Needs $qrsim, $tmp; sets $out (the outputs' folder).
#
#   expect CODE REGEX ARGS...
#       exit code CODE; stderr exactly one line "qrsim: error: ..." matching REGEX, at most
#       1000 characters, without library text (json.exception, std::, stoi, bad_alloc) or
#       NaN shown as null; nothing left in $out; every file named in $PROTECT (a
#       space-separated list) byte for byte as before.
out=$tmp/out
failures=0

expect() {
    local want=$1 regex=$2
    shift 2
    rm -rf "$out" && mkdir -p "$out"
    local -a protected=()
    [[ -n ${PROTECT:-} ]] && read -r -a protected <<<"$PROTECT"
    local before="" after=""
    [[ ${#protected[@]} -gt 0 ]] && before=$(sha256sum "${protected[@]}" 2>&1)
    local code=0
    # The timeout turns a hang (e.g. blocking on a FIFO) into a failure instead of a stuck CI.
    timeout "${QRSIM_TEST_TIMEOUT:-300}" "$qrsim" "$@" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null || code=$?
    [[ ${#protected[@]} -gt 0 ]] && after=$(sha256sum "${protected[@]}" 2>&1)
    local problem=""
    if [[ $code -ne $want ]]; then problem="exit code $code, expected $want"
    elif [[ $(wc -l <"$tmp/stderr") -ne 1 ]]; then problem="stderr is not exactly one line"
    elif ! grep -q '^qrsim: error: ' "$tmp/stderr"; then problem="no 'qrsim: error:' line"
    elif ! grep -Eq -- "$regex" "$tmp/stderr"; then problem="error does not match /$regex/"
    elif [[ $(wc -c <"$tmp/stderr") -gt 1100 ]]; then problem="error line longer than 1000 characters"
    elif grep -Eq 'json\.exception|std::|stoi|bad_alloc|= null' "$tmp/stderr"; then problem="error shows library text"
    elif [[ -n $(ls -A "$out") ]]; then problem="left files behind: $(ls -A "$out" | tr '\n' ' ')"
    elif [[ $before != "$after" ]]; then problem="an input file changed: $PROTECT"
    fi
    if [[ -n $problem ]]; then
        echo "FAIL qrsim $*: $problem" >&2
        head -c 2000 "$tmp/stderr" | sed 's/^/  stderr: /' >&2
        failures=$((failures + 1))
    else
        echo "ok   $(head -c 300 "$tmp/stderr")"
    fi
}

# check NAME CONDITION-COMMAND...: a test of its own (outside `expect`).
check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
    else
        echo "FAIL $name" >&2
        failures=$((failures + 1))
    fi
}

finish() {
    if [[ $failures -ne 0 ]]; then
        echo "$failures case(s) failed" >&2
        exit 1
    fi
    echo "all error cases passed"
}
