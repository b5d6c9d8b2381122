#!/usr/bin/env bash
# Bad NIR files and bad uses of import-nir / export-nir (README "Bad input" and "NIR
# interchange"): each case exits with the documented code and one clear error line, leaves
# no output behind and its inputs intact. The files come from nir/tests/nir_bad_files.py.
# Usage: nir_errors.sh QRSIM_BINARY SOURCE_DIR
set -euo pipefail
qrsim=$(realpath "$1")
src=$(realpath "$2")
python=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$(dirname "$0")/expect_lib.sh"
export QRSIM_SOURCE_DIR=$src
bad=$tmp/bad
mkdir -p "$bad"
"$python" "$src/nir/tests/nir_bad_files.py" "$bad"

echo "== bad NIR files (exit 1)"
expect 1 'not_hdf5\.nir: not an HDF5 file' import-nir "$bad/not_hdf5.nir" --checkpoint "$out/x.json"
expect 1 'no_node\.nir: missing group /node' import-nir "$bad/no_node.nir" --checkpoint "$out/x.json"
expect 1 "node 'lif' has the unknown NIR type 'Spiky'" import-nir "$bad/unknown_type.nir" --checkpoint "$out/x.json"
expect 1 "node 'fc_rec' \(Conv2d\): Conv2d is not supported" import-nir "$bad/unsupported_type.nir" --checkpoint "$out/x.json"
expect 1 "node 'fc_out' \(Affine\): weight is 3 x 5, its input has 6 values" import-nir "$bad/bad_shape.nir" --checkpoint "$out/x.json"
expect 1 "closes a cycle qrsim cannot hold" import-nir "$bad/cycle.nir" --checkpoint "$out/x.json"
expect 1 '/node/nodes/lif/tau_syn\[2\] is not finite' import-nir "$bad/nan.nir" --checkpoint "$out/x.json"
expect 1 '/node/nodes/fc_in/weight\[5\] is not finite' import-nir "$bad/inf_weight.nir" --checkpoint "$out/x.json"
expect 1 "names no node 'nowhere'" import-nir "$bad/missing_edge_node.nir" --checkpoint "$out/x.json"
expect 1 "node 'lif' \(CubaLIF\): v_reset != 0 is not supported" import-nir "$bad/v_reset.nir" --checkpoint "$out/x.json"
expect 1 'is a subgraph' import-nir "$bad/subgraph.nir" --checkpoint "$out/x.json"
expect 1 'truncated\.nir: HDF5 cannot read it' import-nir "$bad/truncated.nir" --checkpoint "$out/x.json"
expect 1 'cannot read NIR file .*missing\.nir' import-nir "$bad/missing.nir" --checkpoint "$out/x.json"
expect 1 'cannot read NIR file .*bad: is a directory, not a file' import-nir "$bad" --checkpoint "$out/x.json"

echo "== paths and flags (exit 2)"
PROTECT="$bad/good.nir" expect 2 '--checkpoint .*good\.nir is the same file as FILE\.nir' \
    import-nir "$bad/good.nir" --checkpoint "$bad/good.nir"
expect 2 '--constraint' import-nir "$bad/good.nir" --checkpoint "$out/x.json" --constraint loihi
expect 2 '--dt' import-nir "$bad/good.nir" --checkpoint "$out/x.json" --dt -1

echo "== export-nir"
"$qrsim" import-nir "$bad/good.nir" --checkpoint "$tmp/good.json" >/dev/null
PROTECT="$tmp/good.json" expect 2 'OUT\.nir .*good\.json is the same file as NET\.json' export-nir "$tmp/good.json" "$tmp/good.json"
"$python" -c "import json; cp = json.load(open('$tmp/good.json')); cp['params']['n_alif'] = 2; json.dump(cp, open('$tmp/alif.json', 'w'))"
expect 1 'ALIF neurons, and NIR has no neuron with an adaptive threshold' export-nir "$tmp/alif.json" "$out/x.nir"
expect 1 'cannot read checkpoint .*nothing\.json' export-nir "$tmp/nothing.json" "$out/x.nir"
check "a good file imports" test -s "$tmp/good.json"

echo "== an imported network on the tile"
"$qrsim" import-nir "$bad/cuba_fmnist.nir" --checkpoint "$tmp/cuba_u4.json" --constraint uniform >/dev/null
"$qrsim" import-nir "$bad/lif_fmnist.nir" --checkpoint "$tmp/lif_u4.json" --constraint uniform >/dev/null
expect 1 "synaptic current filters .*the tile's neuron core models LIF/ALIF neurons and a leaky readout without them" \
    run --hw uniform4 --hw-set neuron.reset=zero --net "$tmp/cuba_u4.json" --test-samples 4
expect 1 'the network resets to zero, the tile uniform4 by subtraction: add --hw-set neuron.reset=zero' \
    run --hw uniform4 --net "$tmp/lif_u4.json" --test-samples 4
finish
