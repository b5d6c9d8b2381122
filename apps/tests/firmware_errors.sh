#!/usr/bin/env bash
# Firmware images the tile's core cannot run: each gives exactly one "qrsim: error:" line
# naming the image and what is wrong with it, exit code 1 (a bad input file, like a corrupt
# checkpoint), and no report. The cases are made from the example rule's image.
# Usage: firmware_errors.sh QRSIM_BINARY SOURCE_DIR EXAMPLE_RULE_ELF
# Exit 77 (a ctest skip) without the cross compiler.
set -euo pipefail
qrsim=$1 src=$2 good=$3
command -v riscv64-unknown-elf-gcc >/dev/null || { echo "SKIPPED: riscv64-unknown-elf-gcc not found"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/expect_lib.sh"
export SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1

learn() {
    local code=$1 regex=$2 elf=$3
    shift 3
    expect "$code" "$regex" run --learn --hw dynapse2 --train-samples 2 --test-samples 2 --hw-set "learn.firmware=$elf" "$@" \
        --report "$out/r.json"
}

# The good image runs (so each case below fails for its own reason).
learn_ok=$("$qrsim" run --learn --hw dynapse2 --train-samples 2 --test-samples 2 --hw-set "learn.firmware=$good" 2>&1 | grep -c 'on-chip test accuracy' || true)
check "the example image runs" test "$learn_ok" = 1

echo "just text" >"$tmp/text.elf"
learn 1 'text\.elf: not a usable firmware image: not an ELF file' "$tmp/text.elf"
head -c 4000 "$good" >"$tmp/truncated.elf"
learn 1 'truncated\.elf: not a usable firmware image: .*lies outside the file' "$tmp/truncated.elf"
cp /bin/true "$tmp/x86.elf"
learn 1 'x86\.elf: not a usable firmware image: built for another architecture \(e_machine 62, not RISC-V 243\)' "$tmp/x86.elf"
printf '.globl _start\n_start: j _start\n' >"$tmp/rv64.S"
riscv64-unknown-elf-gcc -march=rv64imac -mabi=lp64 -nostdlib "$tmp/rv64.S" -o "$tmp/rv64.elf"
learn 1 'rv64\.elf: not a usable firmware image: a 64-bit RISC-V ELF: the learning core is rv32imc' "$tmp/rv64.elf"
# rv32imc, but no hook entry: linked without the SDK's startup code.
printf '.globl _start\n_start: j _start\n' >"$tmp/bare.S"
riscv64-unknown-elf-gcc -march=rv32imc -mabi=ilp32 -nostdlib -T "$src/firmware/rv32/link.ld" "$tmp/bare.S" -o "$tmp/bare.elf"
learn 1 'bare\.elf: not a usable firmware image: no entry point qrsim_hook_entry' "$tmp/bare.elf"
# The SDK's startup code and dispatcher, but no rule registered.
printf '// no rule\n' >"$tmp/norule.cpp"
"$src/scripts/build_rule" "$tmp/norule.cpp" -o "$tmp/norule.elf" >/dev/null
learn 1 'norule\.elf: not a usable firmware image: it registers no rule \(QRSIM_RULE' "$tmp/norule.elf"
# Built against another SDK: the descriptor's ABI word changed.
/usr/bin/python3 - "$good" "$tmp/old_sdk.elf" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
abi = struct.pack("<I", 0x51520003)
assert data.count(abi) >= 1, "no descriptor ABI word"
i = data.index(abi)
data[i:i + 4] = struct.pack("<I", 0x51520002)
open(sys.argv[2], "wb").write(data)
PY
learn 1 'old_sdk\.elf: not a usable firmware image: built against another firmware SDK \(ABI 0x51520002, this qrsim 0x51520003\): rebuild it with scripts/build_rule' "$tmp/old_sdk.elf"
# Too large for the core the config declares.
learn 1 'sign_readout\.elf: firmware image needs [0-9]+ bytes of ROM .*learn\.rom_bytes = 4096' "$good" --hw-set learn.rom_bytes=4096
learn 1 'sign_readout\.elf: the firmware needs [0-9]+ bytes of RAM \(stack, data\) \+ [0-9]+ of working buffers, learn\.ram_bytes = 4096' \
    "$good" --hw-set learn.ram_bytes=4096
learn 1 'nope\.elf: firmware image not found' "$tmp/nope.elf"

finish
