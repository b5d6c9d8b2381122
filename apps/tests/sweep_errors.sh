#!/usr/bin/env bash
# A bad sweep spec is refused before any point runs: exit code 2, exactly one
# "qrsim: error:" line naming the key, and no sweep directory created.
# Usage: sweep_errors.sh QRSIM_BINARY SOURCE_DIR
set -euo pipefail
qrsim=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect NAME REGEX SPEC_TEXT: the spec must fail with one error line matching REGEX.
expect() {
    local name=$1 regex=$2
    printf '%b' "$3" >"$tmp/$name.toml"
    local code=0
    "$qrsim" sweep "$tmp/$name.toml" --out "$tmp/out-$name" >/dev/null 2>"$tmp/stderr" || code=$?
    local problem=""
    if [[ $code -ne 2 ]]; then problem="exit code $code, expected 2"
    elif [[ $(wc -l <"$tmp/stderr") -ne 1 ]]; then problem="stderr is not exactly one line"
    elif ! grep -q '^qrsim: error: ' "$tmp/stderr"; then problem="no 'qrsim: error:' line"
    elif ! grep -Eq -- "$regex" "$tmp/stderr"; then problem="error does not match /$regex/"
    elif [[ -e $tmp/out-$name ]]; then problem="created the sweep directory"
    fi
    if [[ -n $problem ]]; then
        echo "FAIL $name: $problem" >&2
        sed 's/^/  stderr: /' "$tmp/stderr" >&2
        failures=$((failures + 1))
    else
        echo "ok   $name: $(cat "$tmp/stderr")"
    fi
}

ok='command = "train"\n[fixed]\ntask.train_samples = 8\n'
expect unknown_key 'toml:5 \[grid\]: unknown key constraint\.fanni' "$ok[grid]\nconstraint.fanni = [8, 16]\n"
expect unknown_table 'unknown table \[netwrk\]' "$ok[grid]\nnetwrk.neurons = [8]\n"
expect empty_grid 'grid constraint\.fanin is empty' "$ok[grid]\nconstraint.fanin = []\n"
expect not_a_list 'grid constraint\.fanin must be a list' "$ok[grid]\nconstraint.fanin = 8\n"
expect out_of_range 'constraint\.fanin = -3 is out of range' "$ok[grid]\nconstraint.fanin = [8, -3]\n"
expect bad_name 'constraint\.kind = "dynapse3" is out of range' "$ok[grid]\nconstraint.kind = [\"uniform\", \"dynapse3\"]\n"
expect bad_type 'train\.epochs must be an integer' "$ok[grid]\ntrain.epochs = [1, \"two\"]\n"
expect two_keys 'network\.alif = 200 is out of range' "$ok[grid]\nnetwork.alif = [0, 200]\n"
expect in_list 'toml:7 \[points\]: constraint\.method = "qrr" is out of range' "$ok[[points]]\nconstraint.method = \"qr\"\n[[points]]\nconstraint.method = \"qrr\"\n"
expect set_twice 'task\.train_samples is already set at' "$ok[grid]\ntask.train_samples = [8, 16]\n"
expect unknown_flag 'qrsim train has no flag --hw' "$ok[grid]\n\"--hw\" = [\"dynapse2\"]\n"
expect reserved_flag '--report is set by the sweep' "$ok\"--report\" = \"x.json\"\n"
expect no_command 'command is missing' '[grid]\nconstraint.fanin = [8]\n'
expect bad_command 'command = "trian" is not a qrsim command' 'command = "trian"\n'
expect unknown_section 'unknown key gird' "$ok[gird]\nconstraint.fanin = [8]\n"
expect syntax 'toml:2:6: ' 'command = "train"\n[grid\n'
expect seeds_and_seed 'toml:2 \[seeds\]: train\.seed is already set at .*toml:4 \[fixed\]' 'command = "train"\nseeds = [1, 2]\n[fixed]\ntrain.seed = 3\n'
expect seeds_empty 'seeds must be a non-empty list of integers' 'command = "train"\nseeds = []\n'
expect seeds_text 'seeds must be a non-empty list of integers >= 0' 'command = "train"\nseeds = [1, "two"]\n'
code=0
"$qrsim" sweep "$tmp/no-such-spec.toml" 2>"$tmp/stderr" || code=$?
if [[ $code -ne 2 ]] || ! grep -q '^qrsim: error: cannot read sweep spec' "$tmp/stderr"; then
    echo "FAIL missing_file: exit code $code: $(cat "$tmp/stderr")" >&2
    failures=$((failures + 1))
fi

[[ $failures -eq 0 ]] || { echo "$failures failure(s)" >&2; exit 1; }
