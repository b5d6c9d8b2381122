#!/usr/bin/python3
"""Tables and pruning curve of the conversion and tile reports of scripts/convert_experiments.

Usage: plot_conversion.py REPORT_DIR OUT.png   (prints the markdown table on stdout)
Needs Debian's python3-matplotlib (run with /usr/bin/python3).
"""
import glob
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(directory, prefix="r_"):
    reports = {}
    for path in sorted(glob.glob(os.path.join(directory, prefix + "*.json"))):
        with open(path) as f:
            reports[os.path.basename(path)[2:-5]] = json.load(f)
    return reports


def pct(x):
    return "-" if x is None else f"{100 * x:.2f}"


def table(reports):
    print("| ANN | weights | method | ANN acc % | SNN acc % | delta | agreement % | steps | convert s | max fan-in |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in reports.items():
        if "prune" in name:
            continue
        c = r["conversion"]
        ann = r["ann"] + (f" (trained K={c['ann_fanin']})" if c.get("ann_fanin") else "")
        if name.startswith("mlp_k63"):
            ann = "mlp (trained fan-in 63)"
        if c.get("ann_weight_bits") or name.startswith("cnn_q4"):  # a loaded ANN: known by its name
            ann += f" (trained on {c.get('ann_weight_bits') or 4}-bit levels)"
        weights = "float, K=inf" if c["constraint"] == "none" else f"{c['constraint']} 4-bit, K={c['fanin']}"
        if c["constraint"] == "dynapse2":
            weights = f"dynapse2 (4 bases + sign/mask), K={c['fanin']}"
        method = c["method"] + ("" if c["method"] == "naive" else f" ({c['solver']})")
        if c.get("bias") == "channel":
            method += ", bias as channel synapse"
        fanin = max(layer["max_fanin"] for layer in r["layers"])
        delta = 100 * (r["test_accuracy"] - r["ann_accuracy"])
        print(f"| {ann} | {weights} | {method} | {pct(r['ann_accuracy'])} | {pct(r['test_accuracy'])} | "
              f"{delta:+.2f} | {pct(r['agreement'])} | {r['latency_steps']} | {r['convert_s']:.1f} | {fanin} |")
    print()
    sweeps = [(n, r) for n, r in reports.items() if r.get("latency_sweep")]
    if sweeps:
        print("Latency (float weights, K unlimited): accuracy % / agreement % vs presentation time T")
        print()
        for name, r in sweeps:
            cells = [f"T={s['steps']}: {pct(s['test_accuracy'])} / {pct(s['agreement'])}" for s in r["latency_sweep"]]
            print(f"- {r['ann']} ({name}): " + ", ".join(cells))
        print()


def pruning(reports, png):
    fig, ax = plt.subplots(figsize=(6, 4))
    print("| ANN | hidden sizes | SNN acc % | ANN acc % | loss vs unpruned SNN (points) | agreement % |")
    print("|---|---|---|---|---|---|")
    for prefix, label in (("mlp_uniform", "MLP (dense-trained)"), ("mlp_k63_uniform", "MLP (trained fan-in 63)")):
        base = reports.get(prefix + "_fit")
        if base is None:
            continue
        points = [(1.0, base)]
        for name, r in reports.items():
            rest = name[len(prefix) + len("_prune"):]
            if name.startswith(prefix + "_prune") and rest.replace(".", "").isdigit():
                points.append((float(rest), r))
        points.sort(key=lambda p: -p[0])
        xs = [p[0] * 384 for p in points]
        ys = [100 * p[1]["test_accuracy"] for p in points]
        ax.plot(xs, ys, "o-", label=label + ", SNN 4-bit K=64")
        ax.axhline(100 * base["ann_accuracy"], ls=":", color=ax.lines[-1].get_color())
        for f, r in points:
            sizes = ",".join(str(layer["neurons"]) for layer in r["layers"][:-1])
            loss = 100 * (base["test_accuracy"] - r["test_accuracy"])
            print(f"| {label} | {sizes} | {pct(r['test_accuracy'])} | {pct(r['ann_accuracy'])} | {loss:.2f} | "
                  f"{pct(r['agreement'])} |")
    ax.set_xlabel("hidden neurons after node pruning (256 + 128 unpruned)")
    ax.set_ylabel("test accuracy (%), full 10k test set")
    ax.set_title("Fashion-MNIST MLP -> SNN, uniform 4-bit, K = 64\n(dotted: the ANN before pruning)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)


def tile_table(directory):
    runs = load(directory, "t_")
    if not runs:
        return
    print("On the SystemC tile (`qrsim run --ann`), full test set, T = 64 steps:")
    print()
    print("| converted network | hw | tile acc % | float SNN acc % | ANN acc % | tile/ANN agreement % | "
          "energy per inference uJ (static + dynamic) | tile memory bits | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in runs.items():
        bits = sum(r["memory_bits"].values())
        print(f"| {name} | {r['hw']['name']} ({r['hw']['tiles']} tile, K={r['hw']['fanin']}) | "
              f"{pct(r['test_accuracy'])} | {pct(r['float_test_accuracy'])} | {pct(r['ann_accuracy'])} | "
              f"{pct(r['agreement_ann'])} | {r['energy_per_inference_pj'] / 1e6:.2f} "
              f"({r['energy_pj']['static'] / 1e6:.2f} + {r['energy_pj']['dynamic'] / 1e6:.2f}) | {bits:,} | "
              f"{r['wall_time_s']:.0f} |")
    print()


def main():
    reports = load(sys.argv[1])
    table(reports)
    tile_table(sys.argv[1])
    pruning(reports, sys.argv[2])


if __name__ == "__main__":
    main()
