#!/usr/bin/env bash
# A rule written out of tree: the example rule's folder (one .cpp file, nothing else) copied
# into a temporary folder, built there with scripts/build_rule, loaded by the tile's core
# with learn.firmware and trained on a small subset; it must learn above chance, and the
# report must name the rule, its update and its settings as the image declares them.
# Usage: rule_out_of_tree.sh QRSIM_BINARY SOURCE_DIR FLOOR_PERCENT
# Exit 77 (a ctest skip) without the cross compiler.
set -euo pipefail
qrsim=$1 src=$2 floor=$3
command -v riscv64-unknown-elf-g++ >/dev/null || { echo "SKIPPED: riscv64-unknown-elf-g++ not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

cp -r "$src/examples/rules/sign_readout" "$tmp/my_rule"
files=$(ls -A "$tmp/my_rule")
[[ $files == rule.cpp ]] || { echo "FAIL: the example's folder holds more than rule.cpp: $files" >&2; exit 1; }
cd "$tmp/my_rule"
"$src/scripts/build_rule" rule.cpp -o my_rule.elf
[[ -s my_rule.elf ]] || { echo "FAIL: no image" >&2; exit 1; }

# The listing comes from the image itself.
"$qrsim" rules --firmware my_rule.elf >rules.txt
grep -q '^sign-readout$' rules.txt || { echo "FAIL: qrsim rules --firmware does not list sign-readout" >&2; cat rules.txt >&2; exit 1; }
grep -q 'learn.sign-readout.step  integer, default 32, range \[1, 256\]' rules.txt ||
    { echo "FAIL: qrsim rules does not show the step setting" >&2; cat rules.txt >&2; exit 1; }

"$qrsim" run --learn --hw dynapse2 --hw-set learn.firmware=my_rule.elf --hw-set learn.batch=16 \
    --train-samples 800 --test-samples 300 --report r.json >out.txt 2>err.txt ||
    { cat err.txt >&2; exit 1; }
/usr/bin/python3 - r.json "$floor" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
floor = float(sys.argv[2]) / 100
l = r["learn"]
print(f"out-of-tree sign-readout: test accuracy {100 * r['test_accuracy']:.2f} % on {r['test_samples']} images "
      f"(floor {100 * floor:.0f} %, chance 10 %), {l['updates']} updates, firmware {l['firmware']}")
problems = []
if r["test_accuracy"] < floor: problems.append(f"test accuracy {r['test_accuracy']:.3f} below {floor}")
if l["rule"] != "sign-readout": problems.append(f"rule {l['rule']}")
if l["update"] != "sign": problems.append(f"update {l['update']} (the rule implements sign only)")
if l["settings"] != {"step": 32, "bias_step": 32, "rewire": True}: problems.append(f"settings {l['settings']}")
if not l["firmware"].endswith("my_rule.elf"): problems.append(f"firmware {l['firmware']}")
if l["refused_writes"] != 0: problems.append(f"{l['refused_writes']} refused writes")
if r["memory_bits"]["learning"]["learn.syn_traces"] != 0: problems.append("per-synapse traces counted")
if problems:
    sys.exit("FAIL: " + "; ".join(problems))
PY
