#!/usr/bin/env bash
# A tiny end-to-end run: train writes a complete report and a checkpoint that eval reads
# back to the same test accuracy; every shipped experiment config is accepted.
# Usage: cli_smoke.sh QRSIM_BINARY SOURCE_DIR
set -euo pipefail
qrsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python=/usr/bin/python3  # Debian's python: the one on PATH may lack the standard setup

"$qrsim" train --train-samples 64 --test-samples 64 --epochs 1 --batch 16 \
    --report "$tmp/r.json" --checkpoint "$tmp/net.json"
"$qrsim" eval --net "$tmp/net.json" --report "$tmp/e.json"

"$python" - "$tmp/r.json" "$tmp/e.json" <<'PY'
import json, sys
train, ev = (json.load(open(p)) for p in sys.argv[1:3])
shared = ["test_accuracy", "train_accuracy", "train_samples_per_s", "epochs", "seed",
          "wall_time_s", "config", "epoch_history"]
for name, report in (("train", train), ("eval", ev)):
    missing = [k for k in shared if k not in report]
    assert not missing, f"{name} report lacks {missing}"
assert train["epochs"] == 1 and len(train["epoch_history"]) == 1, train["epoch_history"]
assert train["test_samples"] == 64 and ev["test_samples"] == 64
assert 0 <= train["test_accuracy"] <= 1 and train["train_samples_per_s"] > 0
assert set(train["config"]) == {"task", "network", "train", "constraint"}
assert train["config"]["network"]["neurons"] == 128 and train["config"]["task"]["name"] == "fmnist-rows"
assert ev["test_accuracy"] == train["test_accuracy"], (ev["test_accuracy"], train["test_accuracy"])
print(f"smoke ok: test accuracy {train['test_accuracy']:.3f}, {train['train_samples_per_s']:.0f} samples/s")
PY

# Constrained training: the report says how the constraint held.
for method in qr deepr prune-round; do
    "$qrsim" train --train-samples 64 --test-samples 32 --epochs 1 --batch 16 --method "$method" \
        --constraint dynapse2 --fanin 16 --report "$tmp/$method.json" --checkpoint "$tmp/$method-net.json" >/dev/null
    "$python" - "$tmp/$method.json" "$method" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["constraint_violations"] == 0, r["constraint_violations"]
assert 0 < r["max_fanin"] <= 16, r["max_fanin"]
if sys.argv[2] != "prune-round":
    assert r["constraint_updates_checked"] == 4, r["constraint_updates_checked"]
bits = r["memory_bits"]
# 128 neurons x 16 entries x (ceil(log2(224 + 128)) = 9 address + 5 code bits) + 4 bases x 32
assert bits["hidden.cam_address_bits"] == 128 * 16 * 9 and bits["hidden.cam_weight_bits"] == 128 * 16 * 5, bits
assert bits["total"] == sum(v for k, v in bits.items() if k != "total"), bits
print(f"constrained ok: {sys.argv[2]}, max fan-in {r['max_fanin']}, {bits['total']} bits")
PY
done

for config in "$src"/configs/experiments/*.toml; do
    "$qrsim" train --config "$config" --train-samples 4 --test-samples 4 --epochs 1 --batch 4 \
        --report "$tmp/$(basename "$config" .toml).json" >/dev/null 2>"$tmp/stderr" \
        || { cat "$tmp/stderr" >&2; echo "FAIL: $config" >&2; exit 1; }
    echo "ok   $config"
done
