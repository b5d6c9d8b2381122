#!/usr/bin/env bash
# A sweep killed midway resumes where it stopped. Runs a 6-point sweep uninterrupted, then
# again in a fresh directory, killed (SIGKILL or SIGINT) as soon as its first point is done,
# then resumed. Checks: no point process outlives the kill, points finished before the kill
# are not run again (one attempt in their log, report untouched), no report is partial or
# corrupt, no temporary file is left, and the final CSV equals the uninterrupted one
# (timing columns aside: results are deterministic for a seed and thread count).
# Usage: sweep_kill.sh QRSIM_BINARY SOURCE_DIR KILL|INT
set -euo pipefail
qrsim=$1
signal=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python=/usr/bin/python3

cat >"$tmp/spec.toml" <<'TOML'
command = "train"
[fixed]
task.train_samples = 256
task.test_samples = 32
train.batch_size = 32
train.threads = 1
[grid]
constraint.method = ["qr", "prune-round"]
[[points]]
constraint.kind = "uniform"
constraint.weight_bits = 2
constraint.fanin = 8
[[points]]
constraint.kind = "dynapse1"
constraint.fanin = 16
[[points]]
constraint.kind = "none"
constraint.fanin = 32
TOML

"$qrsim" sweep "$tmp/spec.toml" --out "$tmp/reference" --jobs 2 2>/dev/null >/dev/null
"$qrsim" report "$tmp/reference" --no-plots >/dev/null

# Interrupted run: one point at a time, stopped right after the first report appears.
"$qrsim" sweep "$tmp/spec.toml" --out "$tmp/run" --jobs 1 >/dev/null 2>"$tmp/killed.err" &
sweep=$!
for _ in $(seq 600); do
    compgen -G "$tmp/run/points/*/report.json" >/dev/null && break
    sleep 0.05
done
kill -s "$signal" "$sweep"
code=0
wait "$sweep" || code=$?
[[ $code -ne 0 ]] || { echo "FAIL: the killed sweep exited 0 (it finished before the kill)" >&2; exit 1; }
if [[ $signal == INT ]]; then
    grep -q 'interrupted' "$tmp/killed.err" || { cat "$tmp/killed.err" >&2; exit 1; }
fi
sleep 0.5  # SIGKILL: the kernel kills the children (PR_SET_PDEATHSIG); give it a moment
if pgrep -f -- "$tmp/run/" >/dev/null; then
    echo "FAIL: point processes survived the $signal of the sweep:" >&2
    pgrep -a -f -- "$tmp/run/" >&2
    exit 1
fi

"$python" - "$tmp/run" before >"$tmp/before.json" <<'PY'
import glob, json, os, sys
done = {p: os.stat(p).st_mtime_ns for p in glob.glob(f"{sys.argv[1]}/points/*/report.json")}
json.dump(done, sys.stdout)
PY

"$qrsim" sweep "$tmp/spec.toml" --out "$tmp/run" --jobs 2 >/dev/null 2>"$tmp/resume.err" \
    || { cat "$tmp/resume.err" >&2; exit 1; }
"$qrsim" report "$tmp/run" --no-plots >/dev/null

"$python" - "$tmp" "$signal" <<'PY'
import csv, glob, json, os, sys
tmp, signal = sys.argv[1:]
before = json.load(open(f"{tmp}/before.json"))
reports = glob.glob(f"{tmp}/run/points/*/report.json")
assert 1 <= len(before) < 6, f"the kill did not land midway: {len(before)} of 6 points were done"
assert len(reports) == 6, reports
for path in reports:
    report = json.load(open(path))  # every report is complete JSON
    assert report["command"] == "train" and report["test_accuracy"] is not None, path
    attempts = open(os.path.join(os.path.dirname(path), "log.txt")).read().count("=== qrsim sweep: attempt")
    if path in before:
        assert os.stat(path).st_mtime_ns == before[path], f"finished point rewritten: {path}"
        assert attempts == 1, f"finished point run again ({attempts} attempts): {path}"
    else:
        assert attempts in (1, 2), (path, attempts)
leftovers = [p for p in glob.glob(f"{tmp}/run/points/*/*") if ".tmp." in p]
assert not leftovers, leftovers
timing = {"train_samples_per_s", "wall_time_s"}
def table(path):
    rows = list(csv.DictReader(open(path)))
    return sorted(tuple((k, v) for k, v in r.items() if k not in timing) for r in rows)
ref, got = table(f"{tmp}/reference/sweep.csv"), table(f"{tmp}/run/sweep.csv")
assert len(ref) == 6 and ref == got, "CSV after resume differs from the uninterrupted run"
print(f"kill ({signal}) ok: {len(before)} of 6 points done at the kill, not redone; CSV equals the uninterrupted run's")
PY
