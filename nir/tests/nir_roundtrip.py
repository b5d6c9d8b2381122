"""A NIR file written by the fixtures -> qrsim import-nir -> qrsim export-nir keeps every
parameter: the same node types in the same places, the same parameter names, and every
value bit for bit (the fixtures use the unit-gain resistance, docs/nir.md). A file with
other resistances, float32 arrays and a leak keeps the network: the exported effective
weights r (1 - alpha) W equal the fixture's.

Usage: nir_roundtrip.py QRSIM_BINARY
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nir_fixtures as fx  # noqa: E402

qrsim = sys.argv[1]
failures = []


def run(*args):
    p = subprocess.run([qrsim, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"qrsim {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(name)


def round_trip(tmp, name, nodes, edges, **kw):
    src, net, back = (os.path.join(tmp, f"{name}.{ext}") for ext in ("nir", "json", "out.nir"))
    fx.write_graph(src, nodes, edges, **kw)
    run("import-nir", src, "--checkpoint", net)
    run("export-nir", net, back)
    return fx.read_graph(src), fx.read_graph(back), net


def compare_exact(name, a, b):
    ra, rb = fx.roles(*a), fx.roles(*b)
    check(f"{name}: the same chain of nodes", sorted(ra) == sorted(rb), f"{sorted(ra)} vs {sorted(rb)}")
    for role in ra:
        na, nb = a[0][ra[role]], b[0][rb.get(role, "")] if role in rb else {}
        check(f"{name}: {role} is a {na['type']}", nb.get("type") == na["type"], f"exported {nb.get('type')}")
        keys_a = sorted(k for k in na if k != "type")
        keys_b = sorted(k for k in nb if k != "type")
        check(f"{name}: {role} has the parameters {keys_a}", keys_a == keys_b, f"exported {keys_b}")
        for k in keys_a:
            if k not in nb:
                continue
            va, vb = np.asarray(na[k], dtype=np.float64), np.asarray(nb[k], dtype=np.float64)
            same = va.shape == vb.shape and np.array_equal(va, vb)
            check(f"{name}: {role}.{k} bit for bit", same,
                  f"shape {va.shape} vs {vb.shape}, max |diff| {np.max(np.abs(va - vb)) if va.shape == vb.shape else '-'}")


with tempfile.TemporaryDirectory() as tmp:
    rng = np.random.default_rng(19)
    a, b, _ = round_trip(tmp, "recurrent_cuba", *fx.recurrent_cuba(rng), fixed_strings=("fc_rec",))
    compare_exact("recurrent CubaLIF", a, b)
    a, b, _ = round_trip(tmp, "feed_forward", *fx.feed_forward(rng))
    compare_exact("feed-forward LIF layers", a, b)

    # Other resistances, float32, a leak on the readout: the effective weights are kept.
    nodes, edges = fx.recurrent_cuba(rng, dtype=np.float32, canonical=False)
    nodes["readout"] = {"type": "LI", "tau": np.full(5, 0.01, dtype=np.float32),
                        "r": rng.uniform(50, 90, 5).astype(np.float32), "v_leak": np.full(5, 0.125, dtype=np.float32)}
    a, b, net = round_trip(tmp, "scaled", nodes, edges)
    ra, rb = fx.roles(*a), fx.roles(*b)

    def effective(graph, r):
        nodes = graph[0]
        h, o = nodes[r["hidden0"]], nodes[r["readout"]]
        dt = fx.DT
        g_h = (np.float64(h["r"]) * (1 - np.exp(-dt / np.float64(h["tau_mem"]))) * np.float64(h["w_in"])
               * (1 - np.exp(-dt / np.float64(h["tau_syn"]))))
        g_o = np.float64(o["r"]) * (1 - np.exp(-dt / np.float64(o["tau"])))
        w = lambda role: np.asarray(nodes[r[role]]["weight"], dtype=np.float64)
        return {"w_in": g_h[:, None] * w("proj0"), "w_rec": g_h[:, None] * w("rec0"), "w_out": g_o[:, None] * w("proj_out"),
                "b_out": g_o * np.float64(nodes[r["proj_out"]]["bias"]) + (1 - np.exp(-dt / np.float64(o["tau"]))) * np.float64(o["v_leak"])}

    ea, eb = effective(a, ra), effective(b, rb)
    for k in ea:
        rel = np.max(np.abs(ea[k] - eb[k])) / np.max(np.abs(ea[k]))
        check(f"other resistances: effective {k} kept", rel < 1e-12, f"relative difference {rel:.3g}")
    for role, key in (("hidden0", "tau_mem"), ("hidden0", "tau_syn"), ("readout", "tau")):
        check(f"other resistances: {role}.{key} kept", np.array_equal(np.float64(a[0][ra[role]][key]), b[0][rb[role]][key]))
    cp = json.load(open(net))
    h = a[0][ra["hidden0"]]
    gain = (float(h["r"][0]) * (1 - math.exp(-fx.DT / float(h["tau_mem"][0]))) * float(h["w_in"][0])
            * (1 - math.exp(-fx.DT / float(h["tau_syn"][0]))))
    w0 = float(a[0][ra["proj0"]]["weight"][0][0])
    check("the checkpoint's w_in is r (1 - alpha)(1 - alpha_syn) W", abs(cp["weights"]["w_in"]["data"][0] - gain * w0) <= 1e-12 * abs(gain * w0),
          f"{cp['weights']['w_in']['data'][0]} vs {gain * w0}")

if failures:
    print(f"{len(failures)} check(s) failed", file=sys.stderr)
    sys.exit(1)
print("all NIR round-trip checks passed")
