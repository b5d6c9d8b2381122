#!/usr/bin/env bash
# The bad-input campaign's findings as regression tests (README "Bad input"): outputs that
# would overwrite inputs, inputs that crashed qrsim by signal, ate memory or blocked, and
# values checked too late. Each case: the documented exit code, one clear error line, no
# output left behind, and the input files byte for byte intact.
# Usage: bad_input.sh QRSIM_BINARY SOURCE_DIR
set -euo pipefail
qrsim=$(realpath "$1")
src=$(realpath "$2")
data=${QRSIM_DATA:-/usr/share/datasets/fashion-mnist}
python=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/expect_lib.sh"
export QRSIM_SOURCE_DIR=$src

small=(--neurons 8 --train-samples 32 --test-samples 16 --epochs 1)
"$qrsim" train "${small[@]}" --checkpoint "$tmp/net.json" --report "$tmp/report.json" >/dev/null 2>&1
cp "$src/configs/hw/uniform4.toml" "$tmp/hw.toml"
sed -i "s|^table = .*|table = \"$src/configs/energy/digital28.toml\"|" "$tmp/hw.toml"
printf '[network]\nneurons = 8\n[task]\ntrain_samples = 32\ntest_samples = 16\n' >"$tmp/exp.toml"
# A network the tile can run: net.json with a uniform constraint on levels of 1/8.
"$python" - "$tmp/net.json" "$tmp/tile_net.json" <<'PY'
import json, sys
cp = json.load(open(sys.argv[1]))
for m in cp["weights"].values():
    m["data"] = [round(x * 8) / 8 if abs(x) < 0.8 else 0.0 for x in m["data"]]
cp["extra"] = {"constraint": {"kind": "uniform", "fanin": 256, "weight_bits": 4,
               "groups": {"hidden": {"scale": 0.125}, "readout": {"scale": 0.125}}}}
json.dump(cp, open(sys.argv[2], "w"))
PY
# checkpoint EDIT.py OUT: tile_net.json edited by a Python statement on `cp`.
checkpoint() {
    "$python" -c "import json, sys; cp = json.load(open('$tmp/tile_net.json')); $1; json.dump(cp, open('$2', 'w'))"
}

echo "== 1: an output never overwrites an input (exit 2)"
PROTECT="$tmp/net.json" expect 2 '--report .*net\.json is the same file as --net .*net\.json' \
    eval --net "$tmp/net.json" --report "$tmp/net.json"
PROTECT="$tmp/hw.toml" expect 2 '--report .*hw\.toml is the same file as --hw' \
    run --hw "$tmp/hw.toml" --net "$tmp/tile_net.json" --report "$tmp/hw.toml"
PROTECT="$tmp/exp.toml" expect 2 '--report .*exp\.toml is the same file as --config' \
    train --config "$tmp/exp.toml" --report "$tmp/exp.toml"
mkdir -p "$tmp/data"
cp "$data"/*.gz "$tmp/data/"
PROTECT="$tmp/data/train-labels-idx1-ubyte.gz" expect 2 '--checkpoint .*train-labels-idx1-ubyte\.gz is the same file as the dataset folder' \
    train "${small[@]}" --data "$tmp/data" --checkpoint "$tmp/data/train-labels-idx1-ubyte.gz"
echo '{"format": "qrsim-ann"}' >"$tmp/ann.json"
PROTECT="$tmp/ann.json" expect 2 '--checkpoint .*ann\.json is the same file as --ann-load' \
    convert --ann-load "$tmp/ann.json" --checkpoint "$tmp/ann.json"
mkdir -p "$tmp/reports/a"
cp "$tmp/report.json" "$tmp/reports/a/report.json"
PROTECT="$tmp/reports/a/report.json" expect 2 '--csv .*report\.json is the same file as report' \
    report "$tmp/reports" --csv "$tmp/reports/a/report.json" --no-plots
cd "$tmp"  # relative spellings of one file
expect 2 '--report out/x\.json and --checkpoint \./out/\.\./out/\./x\.json name the same file' \
    train "${small[@]}" --report out/x.json --checkpoint ./out/../out/./x.json
PROTECT="$tmp/net.json" expect 2 '--report \./net\.json is the same file as --net net\.json' \
    eval --net net.json --report ./net.json
cd - >/dev/null
ln "$tmp/exp.toml" "$tmp/hardlink.toml"
ln -s "$tmp/exp.toml" "$tmp/symlink.toml"
PROTECT="$tmp/exp.toml" expect 2 '--report .*hardlink\.toml is the same file as --config' \
    train --config "$tmp/exp.toml" --report "$tmp/hardlink.toml"
PROTECT="$tmp/exp.toml" expect 2 '--checkpoint .*symlink\.toml is the same file as --config' \
    train --config "$tmp/exp.toml" --checkpoint "$tmp/symlink.toml"
PROTECT="$tmp/hw.toml" expect 2 'hw config vcd\.file .*hw\.toml is the same file as --hw' \
    run --hw "$tmp/hw.toml" --hw-set vcd.file="$tmp/hw.toml" --net "$tmp/tile_net.json"

echo "== 2: no crash by signal"
touch "$tmp/a_file"
expect 2 'hw config vcd\.file .*a_file/x\.vcd: .*a_file is not a folder' \
    run --hw "$tmp/hw.toml" --net "$tmp/tile_net.json" --hw-set vcd.file="$tmp/a_file/x.vcd" --report "$out/r.json"
expect 2 '--vcd .*a_file/x\.vcd: .*a_file is not a folder' \
    run --hw "$tmp/hw.toml" --net "$tmp/tile_net.json" --vcd "$tmp/a_file/x.vcd" --report "$out/r.json"
checkpoint 'cp["extra"]["constraint"]["groups"]["layers"] = [{"first": 2147483600, "neurons": 100, "scale": 0.125}]' "$tmp/layers.json"
PROTECT="$tmp/layers.json" expect 1 'extra\.constraint\.groups\.layers\[0\]\.first is out of range' \
    run --hw "$tmp/hw.toml" --net "$tmp/layers.json" --report "$out/r.json"
checkpoint 'cp["extra"]["constraint"]["groups"]["layers"] = [{"first": 0, "neurons": 2147483647, "scale": 0.125}]' "$tmp/layers2.json"
expect 1 'extra\.constraint\.groups\.layers\[0\]\.neurons is out of range' \
    run --hw "$tmp/hw.toml" --net "$tmp/layers2.json" --report "$out/r.json"
"$python" -c "print('{\"format\": ' + '[' * 100000 + ']' * 100000 + '}')" >"$tmp/deep.json"
PROTECT="$tmp/deep.json" expect 1 'checkpoint .*deep\.json: nested deeper than 32 levels' eval --net "$tmp/deep.json" --report "$out/r.json"
"$python" -c "print('{\"format\": \"' + 'x' * 1000000 + '\"}')" >"$tmp/long.json"
expect 1 'checkpoint .*long\.json: format is not "qrsim-rsnn"' eval --net "$tmp/long.json" --report "$out/r.json"
mkdir -p "$tmp/deep_reports/good" "$tmp/deep_reports/deep"
cp "$tmp/report.json" "$tmp/deep_reports/good/report.json"
"$python" - "$tmp/report.json" "$tmp/deep_reports/deep/report.json" <<'PY'
import sys
text = open(sys.argv[1]).read().rstrip().rstrip("}")
open(sys.argv[2], "w").write(text + ', "memory_bits": ' + '{"a": ' * 50000 + '1' + '}' * 50000 + '}')
PY
code=0
"$qrsim" report "$tmp/deep_reports" --no-plots --csv "$tmp/deep.csv" >"$tmp/stdout" 2>"$tmp/stderr" || code=$?
check "report skips a report nested 50000 levels deep (exit $code)" \
    bash -c "[[ $code -eq 0 ]] && grep -q 'nested deeper than 32 levels' '$tmp/stderr' && [[ \$(wc -l <'$tmp/deep.csv') -eq 2 ]]"

echo "== 3: inputs that were memory errors under ASan"
"$python" - "$tmp/ann_huge.json" <<'PY'
import json, sys
layer = {"kind": "dense", "n_in": 784, "n_out": 10,
         "w": {"rows": 10, "cols": 784, "data": [1e308] * 7840}, "b": [0.0] * 10}
json.dump({"format": "qrsim-ann", "version": 1, "name": "huge", "layers": [layer]}, open(sys.argv[1], "w"))
PY
PROTECT="$tmp/ann_huge.json" expect 1 'ann_huge\.json: ann file: layers\[0\]\.w\.data\[0\] is outside \+-1e6' \
    convert --ann-load "$tmp/ann_huge.json" --report "$out/r.json"
checkpoint 'cp["weights"]["w_in"]["data"][0] = 1e300' "$tmp/huge_weight.json"
expect 1 'weight 1e\+300 is not representable as uniform entries' run --hw "$tmp/hw.toml" --net "$tmp/huge_weight.json" --report "$out/r.json"
checkpoint 'cp["params"]["refractory"] = 2**63 + 5' "$tmp/u64.json"
expect 1 'params\.refractory = 9223372036854775813 is out of range' eval --net "$tmp/u64.json" --report "$out/r.json"

echo "== 4: bounded memory, regular files only"
printf '{"format": "qrsim-rsnn", "version": 1, "params": {"n_in": 50000, "n_rec": 50000, "n_alif": 0, "n_out": 10, "tau_m": 20, "tau_a": 200, "tau_out": 20, "v_th": 1, "beta": 1, "refractory": 2, "gamma": 0.3, "dt": 1}, "weights": {"w_in": {"rows": 50000, "cols": 50000, "data": [0]}}}' >"$tmp/huge.json"
PROTECT="$tmp/huge.json" expect 1 'weights\.w_in\.data has 1 values, expected 2500000000' \
    eval --net "$tmp/huge.json" --report "$out/r.json"
# Refused before the 20 GB the params claim are allocated: time and peak memory measured.
start=$(date +%s%N)
/usr/bin/time -f %M -o "$tmp/rss" "$qrsim" eval --net "$tmp/huge.json" >/dev/null 2>&1 || true
ms=$(( ($(date +%s%N) - start) / 1000000 ))
rss_mb=$(( $(tail -1 "$tmp/rss") / 1024 ))
check "a checkpoint claiming 50000 x 50000 weights is refused in ${ms} ms (< 3000), peak RSS ${rss_mb} MB (< 300)" \
    test "$ms" -lt 3000 -a "$rss_mb" -lt 300
expect 1 'cannot read checkpoint /dev/zero: is a device, not a regular file' eval --net /dev/zero --report "$out/r.json"
expect 2 'cannot read energy table .*/dev/urandom: is a device' \
    run --hw "$tmp/hw.toml" --hw-set energy.table=/dev/urandom --net "$tmp/tile_net.json" --report "$out/r.json"
mkfifo "$tmp/fifo"
expect 2 'cannot read config .*fifo: is a FIFO' train --config "$tmp/fifo" --report "$out/r.json"
expect 1 'cannot read checkpoint .*fifo: is a FIFO' eval --net "$tmp/fifo" --report "$out/r.json"
expect 2 'cannot read hw config .*fifo: is a FIFO' run --hw "$tmp/fifo" --net "$tmp/tile_net.json" --report "$out/r.json"
mkdir -p "$tmp/confdir.toml"
expect 2 'cannot read config .*confdir\.toml: is a directory' train --config "$tmp/confdir.toml" --report "$out/r.json"
head -c 2000000 /dev/zero | tr '\0' '#' >"$tmp/big.toml"
expect 2 'cannot read config .*big\.toml: is 1\.9 MiB, more than the 1\.0 MiB' train --config "$tmp/big.toml" --report "$out/r.json"
mkdir -p "$tmp/big_idx"
cp "$data"/*.gz "$tmp/big_idx/"
truncate -s 300M "$tmp/big_idx/train-images-idx3-ubyte.gz"  # sparse: no disk used
expect 1 'train-images-idx3-ubyte\.gz: is 300\.0 MiB, more than the 256\.0 MiB' train "${small[@]}" --data "$tmp/big_idx" --report "$out/r.json"
rm -rf "$tmp/big_idx"

echo "== 5: exit codes as documented, messages in our words"
expect 2 "unknown subcommand 'trian' \(did you mean train\?\)" trian --epochs 1
expect 2 'train\.learning_rate = nan is out of range' train --lr nan --report "$out/r.json"
printf '[network]\ntau_m = inf\n' >"$tmp/inf.toml"
expect 2 'network\.tau_m = inf is out of range' train --config "$tmp/inf.toml" --report "$out/r.json"
printf '{"format": "qrsim-rsnn", "version": 1, "params": {"n_in": 1e400}}' >"$tmp/overflow.json"
expect 1 'checkpoint .*overflow\.json: holds a number too large for a double' eval --net "$tmp/overflow.json" --report "$out/r.json"
checkpoint 'cp["config"] = {"network": {"neurons": [[1]]}}' "$tmp/cfgtype.json"
expect 2 'network\.neurons must be an integer, got a JSON array' eval --net "$tmp/cfgtype.json" --report "$out/r.json"
# Found by fuzz_experiment_toml: a long value cut inside a UTF-8 character made the
# message itself throw (json type_error 316) instead of naming the key.
long_name=$(printf 'a%.0s' $(seq 79))é
expect 2 'task\.name = "a+\.\.\." is out of range' train --set "task.name=$long_name" --report "$out/r.json"
echo "== 5: every bad hw config and --hw-set exits 2 naming the file or the flag"
hw() {  # hw REGEX SED-EXPRESSION: the preset edited, then run on it
    sed "$2" "$tmp/hw.toml" >"$tmp/bad_hw.toml"
    expect 2 "$1" run --hw "$tmp/bad_hw.toml" --net "$tmp/tile_net.json" --report "$out/r.json"
}
hw 'bad_hw\.toml: tile\.cores = 0 out of range \[1, 64\]' 's/^cores = 1/cores = 0/'
hw 'bad_hw\.toml: unknown key synapse\.fanout' 's/^fanin = 256/fanin = 256\nfanout = 2/'
hw 'bad_hw\.toml: synapse\.fanin must be an integer' 's/^fanin = 256/fanin = "256"/'
hw 'bad_hw\.toml: missing required key synapse\.kind' '/^kind = /d'
hw 'bad_hw\.toml:[0-9]+: TOML syntax error' 's/^fanin = 256/fanin = /'
hw 'bad_hw\.toml: neuron\.rounding = "up" is not one of: nearest, stochastic' 's/^rounding = .*/rounding = "up"/'
hw 'bad_hw\.toml: learn\.lr_decay = nan out of range' 's/^\[memory\]/[learn]\nlr_decay = nan\n[memory]/'
hw 'cannot read energy table .*nope\.toml' "s|^table = .*|table = \"$tmp/nope.toml\"|"
expect 2 "unknown hw preset 'dynapse3'" run --hw dynapse3 --net "$tmp/tile_net.json" --report "$out/r.json"
expect 2 'cannot read hw config .*missing\.toml' run --hw "$tmp/missing.toml" --net "$tmp/tile_net.json" --report "$out/r.json"
# Energy tables and their figure book: every bad price is one line naming the file and the key.
energy_case() {  # regex, file name, sed script on the table (its figures: $tmp/figures.toml)
    sed "s|^figures = .*|figures = \"$tmp/figures.toml\"|; $3" "$src/configs/energy/digital28.toml" >"$tmp/$2"
    expect 2 "$1" run --hw "$tmp/hw.toml" --hw-set energy.table="$tmp/$2" --net "$tmp/tile_net.json" --report "$out/r.json"
    expect 2 "$1" run --learn --hw "$tmp/hw.toml" --hw-set energy.table="$tmp/$2" "${small[@]}" --report "$out/r.json"
}
sed '0,/^value = /s/^value = .*/value = nan/' "$src/configs/energy/figures.toml" >"$tmp/figures.toml"
energy_case 'figures\.toml: figures\.loihi_sop\.value must be a finite number' nan_energy.toml ''
cp "$src/configs/energy/figures.toml" "$tmp/figures.toml"
energy_case "no_action\.toml: energy table has no entry for action 'core_instr'" no_action.toml \
    '/^\[actions\.core_instr\]/,/^basis/d'
energy_case "unknown_name\.toml: actions\.sop\.energy: formula \"reckon_sop \* nope\": unknown name 'nope'" unknown_name.toml \
    's/^energy = "reckon_sop"/energy = "reckon_sop * nope"/'
energy_case 'per_event\.toml: actions\.sram_read_bits\.energy comes out in J, it must be J/bit' per_event.toml \
    '/^\[actions\.sram_read_bits\]/,/^basis/s/^energy = .*/energy = "reckon_sop"/'
energy_case 'free_cam\.toml: actions\.cam_search\.energy = "0": a CAM that is searched costs energy' free_cam.toml \
    's/^energy = "cam_search_event_core"/energy = "0"\nincluded_in = "sop"/'
energy_case 'no_figures\.toml: figures missing' no_figures.toml '/^figures = /d'
# SETTING|REGEX: the error must start with "--hw-set SETTING: " and match REGEX.
for case in 'tile.cores=0|tile\.cores = 0 out of range' 'synapse.fanin=x|synapse\.fanin must be an integer' \
            'synapse.nope=1|unknown key synapse\.nope' 'learn.update=fast|learn\.update = "fast" is not one of' \
            'traces.bits=[99]|traces\.bits entry 99 out of range' 'nodot=1|expected TABLE\.KEY=VALUE' \
            'name.x=1|name is not a table' 'vcd.neurons=[-1]|vcd\.neurons entry -1 out of range'; do
    setting=${case%%|*}
    quoted=$(printf '%s' "$setting" | sed 's/[].[]/\\&/g')
    expect 2 "^qrsim: error: --hw-set $quoted: ${case#*|}" \
        run --hw "$tmp/hw.toml" --hw-set "$setting" --net "$tmp/tile_net.json" --report "$out/r.json"
    expect 2 "^qrsim: error: --hw-set $quoted: ${case#*|}" \
        run --learn --hw "$tmp/hw.toml" --hw-set "$setting" "${small[@]}" --report "$out/r.json"
done

echo "== 6: checked before any work"
expect 2 "--latency-sweep 1e3: '1e3' is not a whole number" convert --latency-sweep 1e3 --report "$out/r.json"
expect 2 "--prune-to x: 'x' is not a whole number" convert --prune-to x --report "$out/r.json"
expect 2 '--prune-to 999: hidden layer 0 has 256 neurons' convert --prune-to 999 --ann-epochs 1 --report "$out/r.json"
expect 2 '--test-samples 0: give -1 \(all\) or at least 1' convert --test-samples 0 --report "$out/r.json"
expect 2 '--report .*a_file/r\.json: .*a_file is not a folder' \
    train "${small[@]}" --checkpoint "$out/net.json" --report "$tmp/a_file/r.json"
expect 2 "--vcd-neurons -1: '-1' is not a neuron index" run --hw "$tmp/hw.toml" --net "$tmp/tile_net.json" --vcd "$out/x.vcd" --vcd-neurons -1
expect 2 "--vcd-neurons 1x: '1x' is not a neuron index" run --hw "$tmp/hw.toml" --net "$tmp/tile_net.json" --vcd "$out/x.vcd" --vcd-neurons 1x
expect 2 '--vcd-neurons 0,5000: neuron 5000 does not exist \(the network has neurons 0\.\.17' \
    run --hw "$tmp/hw.toml" --net "$tmp/tile_net.json" --vcd "$out/x.vcd" --vcd-neurons 0,5000
mkdir -p "$tmp/crc"
cp "$data"/*.gz "$tmp/crc/"
# The gzip trailer's CRC of the training images corrupted: reading 32 of 60000 images
# decompresses only the start, so only checking the whole stream shows it.
"$python" - "$tmp/crc/train-images-idx3-ubyte.gz" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-8] ^= 0xff
open(sys.argv[1], "wb").write(b)
PY
expect 1 'train-images-idx3-ubyte\.gz is corrupt \(incorrect data check\)' train "${small[@]}" --data "$tmp/crc" --report "$out/r.json"

echo "== 7: no leftovers"
expect 1 "$tmp/nope" train "${small[@]}" --data "$tmp/nope" --report "$out/sub/dir/r.json" --checkpoint "$out/sub/net.json"
expect 2 '--plots .*a_file: is a file, not a folder' report "$tmp/reports" --csv "$out/s.csv" --plots "$tmp/a_file"
# A temporary of a killed writer (its pid no longer exists) is removed by the next write.
sleep 0 & dead=$!
wait "$dead"
mkdir -p "$tmp/stale"
touch "$tmp/stale/r.json.tmp.$dead" "$tmp/stale/x.vcd.tmp.$dead.vcd"
"$qrsim" run --hw "$tmp/hw.toml" --net "$tmp/tile_net.json" --test-samples 4 --vcd "$tmp/stale/x.vcd" \
    --report "$tmp/stale/r.json" >/dev/null 2>&1
check "stale temporaries removed, VCD and report in place" \
    test "$(ls "$tmp/stale" | tr '\n' ' ')" = "r.json x.vcd "
# A run killed while it traces leaves no VCD under the final name.
"$qrsim" run --hw "$tmp/hw.toml" --net "$tmp/tile_net.json" --test-samples 2000 --vcd "$tmp/killed/x.vcd" \
    >/dev/null 2>&1 & pid=$!
for _ in $(seq 100); do
    compgen -G "$tmp/killed/x.vcd.tmp.*" >/dev/null && break
    sleep 0.1
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
check "kill -9 while tracing leaves no x.vcd, only its temporary" \
    bash -c "[[ ! -e '$tmp/killed/x.vcd' ]] && compgen -G '$tmp/killed/x.vcd.tmp.*' >/dev/null"

finish
