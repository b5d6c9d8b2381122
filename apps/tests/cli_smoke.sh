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

# dynapse1 bases chosen by Nelder-Mead: the report shows them, the ladder's differ.
for bases in ladder optimised; do
    "$qrsim" train --train-samples 64 --test-samples 32 --epochs 1 --batch 16 --method qr --constraint dynapse1 \
        --fanin 16 --bases "$bases" --report "$tmp/bases-$bases.json" >/dev/null
done
"$python" - "$tmp/bases-ladder.json" "$tmp/bases-optimised.json" <<'PY'
import json, sys
ladder, opt = (json.load(open(p)) for p in sys.argv[1:3])
assert ladder["constraint_levels"]["bases"] == "ladder" and opt["constraint_levels"]["bases"] == "optimised"
for group in ("hidden", "readout"):
    l, o = ladder["constraint_levels"][group], opt["constraint_levels"][group]
    assert l["exc_ratio"] == 4 and l["inh_ratio"] == 4 and "base_choice" not in l, l
    assert o["exc_small"] == l["exc_small"] and o["inh_small"] == o["exc_small"], (l, o)  # the ladder's small base
    assert o["exc_ratio"] > 1 and o["inh_ratio"] > 1 and (o["exc_ratio"], o["inh_ratio"]) != (4, 4), o
    assert o["base_choice"]["cost"] < o["base_choice"]["ladder_cost"], o
assert opt["constraint_violations"] == 0 and 0 < opt["max_fanin"] <= 16, opt["max_fanin"]
h = opt["constraint_levels"]["hidden"]
print(f"bases ok: optimised hidden ratios {h['exc_ratio']:.3f} / {h['inh_ratio']:.3f}, 0 violations")
PY

for config in "$src"/configs/experiments/*.toml; do
    "$qrsim" train --config "$config" --train-samples 4 --test-samples 4 --epochs 1 --batch 4 \
        --report "$tmp/$(basename "$config" .toml).json" >/dev/null 2>"$tmp/stderr" \
        || { cat "$tmp/stderr" >&2; echo "FAIL: $config" >&2; exit 1; }
    echo "ok   $config"
done
