#!/usr/bin/env bash
# qrsim sweep end to end on configs/sweeps/smoke.toml (4 tiny train points): every point
# writes a complete report, `qrsim report` makes one CSV row per point and both plot
# formats, and a rerun finds everything done and starts nothing.
# Usage: sweep_smoke.sh QRSIM_BINARY SOURCE_DIR
set -euo pipefail
qrsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python=/usr/bin/python3  # Debian's, with matplotlib
export QRSIM_SOURCE_DIR=$src  # where `qrsim report` finds scripts/plot_sweep.py

"$qrsim" sweep "$src/configs/sweeps/smoke.toml" --out "$tmp/sweep" --jobs 2 2>"$tmp/stderr" \
    || { cat "$tmp/stderr" >&2; exit 1; }
grep -q 'all 4 points done' "$tmp/stderr"

# A rerun starts no point: each log still has exactly one attempt.
"$qrsim" sweep "$src/configs/sweeps/smoke.toml" --out "$tmp/sweep" 2>"$tmp/stderr2"
grep -q '4 already done, 0 to run' "$tmp/stderr2" || { cat "$tmp/stderr2" >&2; exit 1; }
"$qrsim" sweep "$src/configs/sweeps/smoke.toml" --out "$tmp/sweep" --dry-run >"$tmp/plan"
[[ $(grep -c ' done ' "$tmp/plan") -eq 4 ]] || { cat "$tmp/plan" >&2; exit 1; }

"$qrsim" report "$tmp/sweep" >"$tmp/report.out"
"$python" - "$tmp/sweep" <<'PY'
import csv, glob, json, os, sys
root = sys.argv[1]
logs = sorted(glob.glob(f"{root}/points/*/log.txt"))
assert len(logs) == 4, logs
for log in logs:
    attempts = open(log).read().count("=== qrsim sweep: attempt")
    assert attempts == 1, (log, attempts)
rows = list(csv.DictReader(open(f"{root}/sweep.csv")))
assert len(rows) == 4, rows
swept = {"constraint.method", "constraint.kind", "constraint.fanin", "constraint.weight_bits"}
assert swept <= set(rows[0]), rows[0].keys()
assert {(r["constraint.method"], r["constraint.kind"], r["constraint.fanin"]) for r in rows} == {
    (m, k, f) for m in ("qr", "prune-round") for k, f in (("uniform", "8"), ("dynapse2", "16"))}, rows
for r in rows:
    report = json.load(open(f"{root}/{r['point']}/report.json"))
    assert float(r["test_accuracy"]) == report["test_accuracy"]
    assert int(r["memory_bits"]) == report["memory_bits"]["total"] > 0
    assert r["constraint_violations"] == "0" and int(r["max_fanin"]) <= int(r["constraint.fanin"])
    assert os.path.exists(f"{root}/{r['point']}/net.json"), "the {dir} placeholder names the point's folder"
for ext in ("png", "svg"):
    assert os.path.getsize(f"{root}/plots/accuracy_vs_memory.{ext}") > 1000
print("sweep smoke ok:", len(rows), "points")
PY

# seeds = [...]: every setting once per seed; `qrsim report` adds the mean and the sample
# standard deviation over the seeds of each setting (checked against Python's statistics).
cat >"$tmp/seeds.toml" <<'TOML'
command = "train"
seeds = [1, 2, 3]
[fixed]
task.train_samples = 32
task.test_samples = 32
train.epochs = 1
train.batch_size = 16
train.threads = 1
[grid]
constraint.method = ["qr", "prune-round"]
TOML
"$qrsim" sweep "$tmp/seeds.toml" --out "$tmp/seeds" --jobs 2 2>"$tmp/stderr" || { cat "$tmp/stderr" >&2; exit 1; }
grep -q 'all 6 points done' "$tmp/stderr" || { cat "$tmp/stderr" >&2; exit 1; }
"$qrsim" report "$tmp/seeds" >"$tmp/report.out"
"$python" - "$tmp/seeds" <<'PY'
import csv, json, statistics, sys
root = sys.argv[1]
runs = list(csv.DictReader(open(f"{root}/sweep.csv")))
summary = list(csv.DictReader(open(f"{root}/sweep_seeds.csv")))
assert len(runs) == 6 and {r["train.seed"] for r in runs} == {"1", "2", "3"}, runs
assert len(summary) == 2 and "train.seed" not in summary[0], summary
for row in summary:
    acc = [json.load(open(f"{root}/{r['point']}/report.json"))["test_accuracy"]
           for r in runs if r["constraint.method"] == row["constraint.method"]]
    assert row["seeds"] == "3" and len(acc) == 3, (row, acc)
    assert abs(float(row["test_accuracy_mean"]) - statistics.mean(acc)) < 1e-12, (row, acc)
    assert abs(float(row["test_accuracy_std"]) - statistics.stdev(acc)) < 1e-12, (row, acc)
    print(f"seeds ok: {row['constraint.method']}: {statistics.mean(acc):.4f} +- {statistics.stdev(acc):.4f} over {acc}")
PY
