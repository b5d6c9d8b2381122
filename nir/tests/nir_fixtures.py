"""NIR files written from the NIR spec with h5py (Debian python3-h5py), for the CLI tests.

The layout is the one NIR's reference writer produces: /version, /node/type = "NIRGraph",
/node/nodes/<name>/{type, parameters...}, /node/edges (n x 2 strings), arrays compressed
with gzip, and the input_type/output_type groups its nodes carry. Parameter names and
equations follow NIR's primitives (Input, Affine, Linear, LIF, CubaLIF, LI, CubaLI, Output).
"""
import math

import h5py
import numpy as np

DT = 1e-3  # seconds: qrsim's default step of 1 ms


def unit_gain_r(tau, tau_syn=None):
    """The resistance at which one unit of input adds one unit per step (docs/nir.md)."""
    gain = 1 - math.exp(-DT / tau)
    if tau_syn is not None:
        gain *= 1 - math.exp(-DT / tau_syn)
    return 1 / gain


def _string(group, key, value, fixed=False):
    if fixed:  # some writers store fixed-length byte strings
        group.create_dataset(key, data=np.bytes_(value))
    else:
        group.create_dataset(key, data=value, dtype=h5py.string_dtype())


def write_graph(path, nodes, edges, version="1.0", fixed_strings=()):
    """nodes: {name: {"type": T, param: array, ...}}; edges: [(src, dst), ...]."""
    with h5py.File(path, "w") as f:
        _string(f, "version", version)
        g = f.create_group("node")
        _string(g, "type", "NIRGraph")
        ng = g.create_group("nodes")
        for name, node in nodes.items():
            n = ng.create_group(name)
            _string(n, "type", node["type"], fixed=name in fixed_strings)
            for key, value in node.items():
                if key == "type":
                    continue
                value = np.asarray(value)
                n.create_dataset(key, data=value, compression="gzip" if value.ndim else None)
            # What NIR's writer adds beside the parameters: the node's types and metadata.
            t = n.create_group("input_type")
            t.create_dataset("input", data=np.array([1], dtype=np.int64))
            m = n.create_group("metadata")
            m.create_dataset("written_by", data="nir_fixtures.py", dtype=h5py.string_dtype())
        g.create_dataset("edges", data=np.array(edges, dtype=object), dtype=h5py.string_dtype())


def recurrent_cuba(rng, n_in=12, n=16, n_out=5, dtype=np.float64, canonical=True):
    """Input -> Affine -> CubaLIF (Linear back to itself) -> Affine -> CubaLI -> Output."""
    tau_mem, tau_syn, tau_out, tau_syn_out = 0.02, 0.005, 0.01, 0.003
    r = np.full(n, unit_gain_r(tau_mem, tau_syn)) if canonical else rng.uniform(10, 30, n)
    r_out = np.full(n_out, unit_gain_r(tau_out, tau_syn_out)) if canonical else rng.uniform(50, 90, n_out)
    nodes = {
        "input": {"type": "Input", "shape": np.array([n_in], dtype=np.int64)},
        "fc_in": {"type": "Affine", "weight": rng.normal(0, 0.5, (n, n_in)), "bias": rng.normal(0, 0.02, n)},
        "lif": {"type": "CubaLIF", "tau_mem": np.full(n, tau_mem), "tau_syn": np.full(n, tau_syn), "r": r,
                "w_in": np.ones(n), "v_leak": np.zeros(n), "v_threshold": np.full(n, 0.8), "v_reset": np.zeros(n)},
        "fc_rec": {"type": "Linear", "weight": rng.normal(0, 0.3, (n, n))},
        "fc_out": {"type": "Affine", "weight": rng.normal(0, 0.5, (n_out, n)), "bias": rng.normal(0, 0.1, n_out)},
        "readout": {"type": "CubaLI", "tau_mem": np.full(n_out, tau_out), "tau_syn": np.full(n_out, tau_syn_out),
                    "r": r_out, "w_in": np.ones(n_out), "v_leak": np.zeros(n_out)},
        "output": {"type": "Output", "shape": np.array([n_out], dtype=np.int64)},
    }
    for node in nodes.values():
        for k, v in node.items():
            if isinstance(v, np.ndarray) and v.dtype == np.float64:
                node[k] = v.astype(dtype)
    edges = [("input", "fc_in"), ("fc_in", "lif"), ("lif", "fc_rec"), ("fc_rec", "lif"),
             ("lif", "fc_out"), ("fc_out", "readout"), ("readout", "output")]
    return nodes, edges


def feed_forward(rng, sizes=(20, 12, 8), n_out=4):
    """The conversion path's MLP: Input -> (Affine -> LIF) x layers -> Affine -> LI -> Output."""
    tau, tau_out = 1e3, 0.008
    nodes = {"input": {"type": "Input", "shape": np.array([sizes[0]], dtype=np.int64)}}
    edges, previous = [], "input"
    for l, (n_prev, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        nodes[f"fc{l}"] = {"type": "Affine", "weight": rng.normal(0, 0.3, (n, n_prev)), "bias": rng.normal(0, 0.05, n)}
        nodes[f"lif{l}"] = {"type": "LIF", "tau": np.full(n, tau), "r": np.full(n, unit_gain_r(tau)),
                            "v_leak": np.zeros(n), "v_threshold": np.ones(n), "v_reset": np.zeros(n)}
        edges += [(previous, f"fc{l}"), (f"fc{l}", f"lif{l}")]
        previous = f"lif{l}"
    nodes["fc_out"] = {"type": "Affine", "weight": rng.normal(0, 0.5, (n_out, sizes[-1])), "bias": rng.normal(0, 0.1, n_out)}
    nodes["li"] = {"type": "LI", "tau": np.full(n_out, tau_out), "r": np.full(n_out, unit_gain_r(tau_out)), "v_leak": np.zeros(n_out)}
    nodes["output"] = {"type": "Output", "shape": np.array([n_out], dtype=np.int64)}
    edges += [(previous, "fc_out"), ("fc_out", "li"), ("li", "output")]
    return nodes, edges


def read_graph(path):
    """{name: {"type": T, param: float64 array}} and the edges, as a NIR reader sees them."""
    with h5py.File(path, "r") as f:
        g = f["node"]
        nodes = {}
        for name, n in g["nodes"].items():
            node = {"type": n["type"][()].decode()}
            for key, ds in n.items():
                if key != "type" and isinstance(ds, h5py.Dataset):
                    node[key] = np.asarray(ds[()])
            nodes[name] = node
        edges = [(a.decode(), b.decode()) for a, b in g["edges"][()]]
    return nodes, edges


def roles(nodes, edges):
    """Node names by their place in the chain: input, proj0, hidden0, rec0?, ..., proj_out, readout, output."""
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    out = {}
    cur = next(n for n, v in nodes.items() if v["type"] == "Input")
    out["input"] = cur
    layer = 0
    while True:
        proj = succ[cur][0] if len(succ[cur]) == 1 else None
        if cur != out["input"]:
            forward = [p for p in succ[cur] if succ[p] != [cur]]
            back = [p for p in succ[cur] if succ[p] == [cur]]
            if back:
                out[f"rec{layer - 1}"] = back[0]
            proj = forward[0]
        target = succ[proj][0]
        if nodes[target]["type"] in ("LI", "CubaLI"):
            out["proj_out"], out["readout"] = proj, target
            out["output"] = succ[target][0]
            return out
        out[f"proj{layer}"], out[f"hidden{layer}"] = proj, target
        cur, layer = target, layer + 1
