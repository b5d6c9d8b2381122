#!/usr/bin/env bash
# One on-chip update mode must learn: trains the dynapse2 tile on chip (native core,
# bit-exact with the ISS) on 3,000 fmnist-rows images and asserts the test accuracy on 1,000
# test images is above FLOOR (chance is 10 %). Floors are a measured run minus a margin
# (apps/CMakeLists.txt), so a mode that stops learning fails.
# Usage: onchip_learns.sh QRSIM SOURCE_DIR FLOOR_PERCENT HW_SET_OR_--FLAG=VALUE...
set -euo pipefail
qrsim=$1
cd "$2"
floor=$3
shift 3
sets=()
for s in "$@"; do
    if [[ $s == --* ]]; then sets+=("$s"); else sets+=(--hw-set "$s"); fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$qrsim" run --learn --hw dynapse2 --hw-set learn.core=native "${sets[@]}" --train-samples 3000 --test-samples 1000 \
    --report "$work/report.json" > "$work/log" 2>&1 || { cat "$work/log"; exit 1; }
/usr/bin/python3 - "$work/report.json" "$floor" "$*" <<'PY'
import json, sys
acc = 100 * json.load(open(sys.argv[1]))["test_accuracy"]
floor = float(sys.argv[2])
print(f"on-chip learning ({sys.argv[3]}): test accuracy {acc:.2f} % (floor {floor} %)")
sys.exit(0 if acc >= floor else 1)
PY
