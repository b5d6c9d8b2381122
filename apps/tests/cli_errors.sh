#!/usr/bin/env bash
# Bad input must give a non-zero exit, exactly one "qrsim: error:" line on stderr naming
# the problem, and no report, checkpoint or temporary file left behind.
# Usage: cli_errors.sh QRSIM_BINARY SOURCE_DIR [EXAMPLE_RULE_ELF]
# (the example rule's image, examples/rules/sign_readout, for the integer-setting cases)
set -euo pipefail
qrsim=$1
src=$2
example_elf=${3:-}
data=${QRSIM_DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/expect_lib.sh"

outputs=(--report "$out/r.json" --checkpoint "$out/net.json")
train() { expect "$1" "$2" train "${@:3}" "${outputs[@]}"; }

# Config file errors (exit 2).
printf '[network]\nnuerons = 64\n' >"$tmp/unknown_key.toml"
train 2 'unknown_key\.toml:2: unknown key network\.nuerons \(allowed in \[network\]: neurons, alif' \
    --config "$tmp/unknown_key.toml"
printf '[netwrk]\nneurons = 64\n' >"$tmp/unknown_table.toml"
train 2 'unknown table \[netwrk\] \(allowed: task, network, train, constraint\)' --config "$tmp/unknown_table.toml"
printf '[network]\ntau_m = -1.5\n' >"$tmp/range.toml"
train 2 'network\.tau_m = -1\.5 is out of range \(allowed: > 0' --config "$tmp/range.toml"
printf '[train]\nepochs = "ten"\n' >"$tmp/type.toml"
train 2 'train\.epochs must be an integer, got "ten"' --config "$tmp/type.toml"
printf '[train]\nepochs = \n' >"$tmp/syntax.toml"
train 2 'syntax\.toml:2:' --config "$tmp/syntax.toml"
train 2 'cannot read config .*missing\.toml' --config "$tmp/missing.toml"

# Flag errors (exit 2).
train 2 'network\.neurons = 5000 is out of range \(allowed: 1\.\.4096\)' --neurons 5000
train 2 'network\.alif = 20 is out of range \(allowed: 0\.\.network\.neurons = 10\)' --neurons 10 --alif 20
train 2 'train\.batch_size = 0 is out of range \(allowed: 1\.\.4096\)' --batch 0
train 2 'train\.learning_rate must be a number, got .abc.' --lr abc
train 2 'train\.rule = "hebb" is out of range \(allowed: one of bptt, eprop\)' --rule hebb
train 2 'train\.feedback = "x" is out of range' --feedback x
train 2 'train\.threads = 65 is out of range \(allowed: 1\.\.64\)' --threads 65
train 2 'task\.test_samples = 0 is out of range' --test-samples 0
train 2 'task\.name = "mnist" is out of range \(allowed: one of fmnist-rows' --task mnist
train 2 'unknown key train\.nope' --set train.nope=1
train 2 'constraint\.bases = "learned" is out of range \(allowed: one of ladder, optimised\)' --bases learned
train 2 '^qrsim: error: --bases: constraint\.bases = "optimised" is for constraint\.kind = dynapse1 or dynapse2 \(got uniform\)$' \
    --method qr --constraint uniform --fanin 16 --bases optimised
train 2 '^qrsim: error: --bases: constraint\.bases = "optimised" is for constraint\.method = qr only \(got deepr\)' \
    --method deepr --constraint dynapse1 --fanin 16 --bases optimised
printf '[constraint]\nmethod = "qr"\nkind = "uniform"\nbases = "optimised"\n' >"$tmp/bases.toml"
train 2 'bases\.toml:4: constraint\.bases = "optimised" is for constraint\.kind = dynapse1 or dynapse2 \(got uniform\)$' \
    --config "$tmp/bases.toml"
train 2 'bogus' --bogus
expect 2 'subcommand' "${outputs[@]:0:2}"
expect 2 'net' eval --report "$out/r.json"
expect 2 'name the same file' train --report "$out/same.json" --checkpoint "$out/same.json"
mkdir -p "$tmp/adir"
expect 2 'adir: is a directory' train --report "$tmp/adir"
expect 2 'ann-weight-bits 1: use 0 \(float weights\) or 2\.\.16 bits' convert --ann mlp --ann-weight-bits 1 --report "$out/r.json"
expect 2 '--bias: bogus not in \{register,channel\}' convert --ann mlp --bias bogus --report "$out/r.json"
expect 2 '--lut-frac-bits: Value 31 not in range 0 to 30' convert --ann mlp --lut-frac-bits 31 --report "$out/r.json"

# Dataset errors (exit 1): detected before training starts.
train 1 "$tmp/nope" --data "$tmp/nope"
mkdir -p "$tmp/truncated" "$tmp/wrong"
cp "$data"/*.gz "$tmp/truncated/"
head -c 2000 "$data/train-images-idx3-ubyte.gz" >"$tmp/truncated/train-images-idx3-ubyte.gz"
train 1 'train-images-idx3-ubyte\.gz' --data "$tmp/truncated"
cp "$data"/*.gz "$tmp/wrong/"
echo "not an IDX file" | gzip >"$tmp/wrong/train-labels-idx1-ubyte.gz"
train 1 'train-labels-idx1-ubyte\.gz' --data "$tmp/wrong"

# A corrupt checkpoint (exit 1).
echo '{"format": "qrsim-rsnn", "version": 1, "params": {}}' >"$tmp/corrupt.json"
expect 1 'checkpoint .*corrupt\.json: missing field params\.n_in' eval --net "$tmp/corrupt.json" --report "$out/r.json"

# qrsim run (inference) applies --hw-set before anything else: a bad override is named.
"$qrsim" train --neurons 8 --train-samples 32 --test-samples 16 --epochs 1 --checkpoint "$tmp/small.json" >/dev/null 2>&1
expect 2 '^qrsim: error: --hw-set tile\.cores=0: tile\.cores = 0 out of range' run --hw uniform4 --hw-set tile.cores=0 --net "$tmp/small.json" --report "$out/r.json"
# --ann compares with the ANN a converted network came from: only for the rate task.
expect 2 'ann compares .* needs --task fmnist-rate' run --hw uniform4 --net "$tmp/small.json" --ann "$tmp/small.json" --report "$out/r.json"

# Programmed dynapse2 bases run on the tile, but the learning firmware steps codes on the ladder.
"$qrsim" train --neurons 8 --train-samples 32 --test-samples 16 --epochs 1 --method qr --constraint dynapse2 \
    --fanin 16 --bases optimised --checkpoint "$tmp/bases.json" >/dev/null 2>&1
expect 1 "^qrsim: error: learn: the network's hidden dynapse2 bases \(.* LSB\) are not the ladder s, 2s, 4s, 8s .*constraint\.bases = \"ladder\"" \
    run --learn --hw dynapse2 --net "$tmp/bases.json" --train-samples 2 --test-samples 2 --report "$out/r.json"

# A flag that does nothing in the chosen mode is refused, not ignored.
expect 2 '^qrsim: error: --ann: compares a converted network with its ANN during inference; drop --learn' \
    run --learn --hw dynapse2 --ann "$tmp/small.json" --report "$out/r.json"
expect 2 '^qrsim: error: --threads: run --learn simulates the tile on one thread' run --learn --hw dynapse2 --threads 2 --report "$out/r.json"
expect 2 '^qrsim: error: --epochs: passes of on-chip training: only with --learn' run --hw uniform4 --net "$tmp/small.json" --epochs 2 --report "$out/r.json"
expect 2 '^qrsim: error: --train-samples: on-chip training samples: only with --learn' run --hw uniform4 --net "$tmp/small.json" --train-samples 8 --report "$out/r.json"
expect 2 "^qrsim: error: --neurons: the network's size comes from --net" run --learn --hw dynapse2 --net "$tmp/small.json" --neurons 16 --report "$out/r.json"
expect 2 '^qrsim: error: --vcd-neurons needs --vcd FILE' run --learn --hw dynapse2 --vcd-neurons 0,1 --report "$out/r.json"
expect 2 "^qrsim: error: --vcd-neurons 0,500: neuron 500 does not exist" run --learn --hw dynapse2 --test-samples 2 --train-samples 2 --vcd "$out/l.vcd" --vcd-neurons 0,500 --report "$out/r.json"
expect 1 "^qrsim: error: .*dynapse2.toml: 8 ALIF neurons learn on chip with traces.placement = \"synapse\" only" run --learn --hw dynapse2 --alif 8 --train-samples 2 --test-samples 2 --report "$out/r.json"
expect 2 '^qrsim: error: --eval-every-epoch: tests between epochs of on-chip training: only with --learn' run --hw uniform4 --net "$tmp/small.json" --eval-every-epoch --report "$out/r.json"

# qrsim rules: every built-in rule with its description and settings, on stdout.
"$qrsim" rules >"$tmp/rules.txt" 2>&1
check "qrsim rules lists eprop and readout-delta with their settings" \
    grep -Pzq '(?s)^rules of qrsim.s built-in rules.*\neprop\n  e-prop .*learn\.eprop\.hidden  true\|false, default true: .*\nreadout-delta\n.*learn\.feedback: random;.*no settings of its own' "$tmp/rules.txt"
"$qrsim" run --help >"$tmp/run_help.txt" 2>&1
check "run --help lists the on-chip rules and their settings" grep -q 'learn\.eprop\.hidden  true|false' "$tmp/run_help.txt"
expect 1 'nope\.elf: firmware image not found' rules --firmware "$tmp/nope.elf"
expect 2 'firmware' rules --firmware

# Per-rule settings (learn.<rule>.<key>): validated like every other key, before training.
learn() { expect "$1" "$2" run --learn --hw dynapse2 --train-samples 2 --test-samples 2 "${@:3}" --report "$out/r.json"; }
learn 2 '^qrsim: error: --hw-set learn\.eprop\.hiden=false: unknown key learn\.eprop\.hiden \(rule eprop.s settings: hidden; qrsim rules lists them\)' \
    --hw-set learn.eprop.hiden=false
learn 2 '^qrsim: error: --hw-set learn\.eprop\.hidden=2: learn\.eprop\.hidden must be true or false' --hw-set learn.eprop.hidden=2
# Momentum lives in the accumulators of the sign and accumulate updates.
learn 2 '^qrsim: error: --hw-set learn\.momentum=1: learn\.momentum = 1\.000000 out of range \[0, 0\.99\]' --hw-set learn.momentum=1
learn 1 '^qrsim: error: .*dynapse2\.toml: learn\.momentum = 0\.500000 needs learn\.update = "sign" or "accumulate", whose accumulators carry it' \
    --hw-set learn.momentum=0.5
# Device mismatch: spreads are relative (std / mean), the table has three of them.
learn 2 '^qrsim: error: --hw-set mismatch\.weights=0\.6: mismatch\.weights = 0\.600000 out of range \[0, 0\.5\] \(a relative spread' \
    --hw-set mismatch.weights=0.6
learn 2 '^qrsim: error: --hw-set mismatch\.spread=0\.1: unknown key mismatch\.spread' --hw-set mismatch.spread=0.1
learn 2 '^qrsim: error: --hw-set learn\.eprop\.hidden=yes: learn\.eprop\.hidden must be an integer or true/false' --hw-set learn.eprop.hidden=yes
learn 2 '^qrsim: error: --hw-set learn\.eprp\.hidden=true: learn\.eprp\.hidden: .*qrsim_firmware\.elf has no rule eprp \(it has: ' \
    --hw-set learn.eprp.hidden=true
learn 2 '^qrsim: error: --hw-set learn\.eprop\.hidden=false: learn\.eprop\.hidden is a setting of rule eprop, but the rule is readout-delta \(set learn\.rule = "eprop" or drop the key\)' \
    --hw-set learn.rule=readout-delta --hw-set learn.eprop.hidden=false
learn 2 '^qrsim: error: --hw-set learn\.rule=hebb: learn\.rule = "hebb" is not a rule of qrsim.s built-in rules \(it has: ' \
    --hw-set learn.core=native --hw-set learn.rule=hebb
# A rule refuses a shared setting it does not implement instead of ignoring it.
learn 2 '^qrsim: error: --hw-set learn\.feedback=symmetric: learn\.feedback = "symmetric": rule readout-delta does not implement it \(it supports: random\)' \
    --hw-set learn.rule=readout-delta --hw-set learn.feedback=symmetric
printf 'name = "bad"\n[learn.eprop]\nhidden = "no"\n' >"$tmp/setting.toml"
sed -n '/^\[/,$p' "$src/configs/hw/dynapse2.toml" >>"$tmp/setting.toml"
expect 2 'setting\.toml: learn\.eprop\.hidden must be an integer or true/false' run --learn --hw "$tmp/setting.toml" \
    --train-samples 2 --test-samples 2 --report "$out/r.json"
if [[ -n $example_elf ]]; then
    learn 2 '^qrsim: error: --hw-set learn\.sign-readout\.step=0: learn\.sign-readout\.step = 0 out of range \[1, 256\]' \
        --hw-set "learn.firmware=$example_elf" --hw-set learn.sign-readout.step=0
    learn 2 '^qrsim: error: --hw-set learn\.sign-readout\.rewire=1: learn\.sign-readout\.rewire must be true or false' \
        --hw-set "learn.firmware=$example_elf" --hw-set learn.sign-readout.rewire=1
    learn 2 '^qrsim: error: --hw-set learn\.update=adam: learn\.update = "adam": rule sign-readout does not implement it \(it supports: sign\)' \
        --hw-set "learn.firmware=$example_elf" --hw-set learn.update=adam
    learn 2 'learn\.rule = "eprop" is not a rule of .*sign_readout\.elf \(it has: sign-readout; ' \
        --hw-set "learn.firmware=$example_elf" --hw-set learn.rule=eprop
fi

# convert spells the common flags like every other command.
expect 2 'data-dir' convert --ann mlp --data-dir "$tmp" --report "$out/r.json"
expect 2 '^qrsim: error: --train-samples 0: give -1 \(all\) or at least 1' convert --ann mlp --train-samples 0 --report "$out/r.json"
expect 1 "$tmp/nope" convert --ann mlp --data "$tmp/nope" --report "$out/r.json"

finish
