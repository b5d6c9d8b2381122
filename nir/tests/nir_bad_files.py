"""Bad NIR files for apps/tests/nir_errors.sh, each written into DIR as <case>.nir.

Usage: nir_bad_files.py DIR
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nir_fixtures as fx  # noqa: E402

out = sys.argv[1]
rng = np.random.default_rng(5)


def graph(edit=None, edges_edit=None):
    nodes, edges = fx.recurrent_cuba(rng, n_in=4, n=6, n_out=3)
    if edit:
        edit(nodes)
    if edges_edit:
        edges = edges_edit(edges)
    return nodes, edges


def write(name, nodes, edges):
    fx.write_graph(os.path.join(out, name + ".nir"), nodes, edges)


write("good", *graph())
with open(os.path.join(out, "not_hdf5.nir"), "w") as f:
    f.write('{"format": "qrsim-rsnn"}\n')
with h5py.File(os.path.join(out, "no_node.nir"), "w") as f:
    f.create_dataset("version", data="1.0", dtype=h5py.string_dtype())
    f.create_group("graph")
write("unknown_type", *graph(lambda n: n["lif"].update(type="Spiky")))
write("unsupported_type", *graph(lambda n: n["fc_rec"].update(type="Conv2d")))
write("bad_shape", *graph(lambda n: n["fc_out"].update(weight=np.zeros((3, 5)))))
write("cycle", *graph(edges_edit=lambda e: e + [("readout", "fc_in")]))
write("nan", *graph(lambda n: n["lif"]["tau_syn"].__setitem__(2, np.nan)))
write("inf_weight", *graph(lambda n: n["fc_in"]["weight"].__setitem__((1, 1), np.inf)))
write("missing_edge_node", *graph(edges_edit=lambda e: e + [("lif", "nowhere")]))
write("v_reset", *graph(lambda n: n["lif"].update(v_reset=np.full(6, 0.5))))
with h5py.File(os.path.join(out, "subgraph.nir"), "w") as f:
    f.create_dataset("version", data="1.0", dtype=h5py.string_dtype())
    g = f.create_group("node")
    g.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
    sub = g.create_group("nodes").create_group("inner")
    sub.create_dataset("type", data="NIRGraph", dtype=h5py.string_dtype())
    g.create_dataset("edges", data=np.array([("inner", "inner")], dtype=object), dtype=h5py.string_dtype())
good = open(os.path.join(out, "good.nir"), "rb").read()
with open(os.path.join(out, "truncated.nir"), "wb") as f:
    f.write(good[: len(good) // 2])

# Networks of fmnist-rows' sizes (224 inputs, 10 classes) the tile must refuse as they are.
nodes, edges = fx.recurrent_cuba(rng, n_in=224, n=16, n_out=10)
write("cuba_fmnist", nodes, edges)
nodes, edges = fx.feed_forward(rng, sizes=(224, 16), n_out=10)
write("lif_fmnist", nodes, edges)
