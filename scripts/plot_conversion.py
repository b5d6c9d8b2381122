#!/usr/bin/python3
"""Tables and pruning curve of the conversion and tile reports of scripts/convert_experiments.

Usage: plot_conversion.py REPORT_DIR OUT.png   (prints the markdown tables on stdout)
REPORT_DIR holds one directory per seed (seed1/, seed2/, ...); every figure is the mean +- std
over the seeds that have the report (n given when a report is missing in some seed).
Needs Debian's python3-matplotlib and python3-numpy (run with /usr/bin/python3).
"""
import glob
import json
import os
import sys

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(directory, prefix="r_"):
    """{name: {seed directory: report}} over REPORT_DIR/seed*/PREFIX*.json, and the number of seeds."""
    seed_dirs = sorted(glob.glob(os.path.join(directory, "seed*")))
    if not seed_dirs:
        sys.exit(f"plot_conversion.py: no seed*/ directories in {directory} (written by scripts/convert_experiments)")
    reports = {}
    for seed_dir in seed_dirs:
        for path in sorted(glob.glob(os.path.join(seed_dir, prefix + "*.json"))):
            with open(path) as f:
                reports.setdefault(os.path.basename(path)[len(prefix):-5], {})[seed_dir] = json.load(f)
    return reports, len(seed_dirs)


def stat(values, scale=100.0, digits=2, sign=False):
    """'mean +- std' of the values (sample std), or the single value."""
    v = scale * np.asarray([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return "-"
    fmt = f"{{:{'+' if sign else ''}.{digits}f}}"
    if v.size == 1:
        return fmt.format(v[0])
    return fmt.format(v.mean()) + " +- " + f"{v.std(ddof=1):.{digits}f}"


def count(runs, seeds):
    return "" if len(runs) == seeds else f" (n={len(runs)})"


def table(reports, seeds):
    print(f"Mean +- std over {seeds} seeds (ANN training and the fit's sample).")
    print()
    print("| ANN | weights | method | ANN acc % | SNN acc % | delta | agreement % | steps | convert s | max fan-in |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, by_seed in reports.items():
        if "prune" in name:
            continue
        runs = list(by_seed.values())
        r = runs[0]
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
        fanin = max(layer["max_fanin"] for run in runs for layer in run["layers"])
        delta = [run["test_accuracy"] - run["ann_accuracy"] for run in runs]
        print(f"| {ann}{count(runs, seeds)} | {weights} | {method} | {stat(x['ann_accuracy'] for x in runs)} | "
              f"{stat(x['test_accuracy'] for x in runs)} | {stat(delta, sign=True)} | "
              f"{stat(x['agreement'] for x in runs)} | {r['latency_steps']} | "
              f"{stat((x['convert_s'] for x in runs), scale=1, digits=1)} | {fanin} |")
    print()
    sweeps = [(n, list(s.values())) for n, s in reports.items() if next(iter(s.values())).get("latency_sweep")]
    if sweeps:
        print("Latency (float weights, K unlimited): accuracy % / agreement % vs presentation time T")
        print()
        for name, runs in sweeps:
            cells = []
            for i, point in enumerate(runs[0]["latency_sweep"]):
                at = [run["latency_sweep"][i] for run in runs]
                cells.append(f"T={point['steps']}: {stat(s['test_accuracy'] for s in at)} / "
                             f"{stat(s['agreement'] for s in at)}")
            print(f"- {runs[0]['ann']} ({name}): " + ", ".join(cells))
        print()


def pruning(reports, seeds, png):
    fig, ax = plt.subplots(figsize=(6, 4))
    print("| ANN | hidden sizes | SNN acc % | ANN acc % | loss vs unpruned SNN (points) | agreement % |")
    print("|---|---|---|---|---|---|")
    for prefix, label in (("mlp_uniform", "MLP (dense-trained)"), ("mlp_k63_uniform", "MLP (trained fan-in 63)")):
        base = reports.get(prefix + "_fit")
        if base is None:
            continue
        points = [(1.0, base)]
        for name, by_seed in reports.items():
            rest = name[len(prefix) + len("_prune"):]
            if name.startswith(prefix + "_prune") and rest.replace(".", "").isdigit():
                points.append((float(rest), by_seed))
        points.sort(key=lambda p: -p[0])
        xs = [p[0] * 384 for p in points]
        accs = [100 * np.array([run["test_accuracy"] for run in p[1].values()]) for p in points]
        errs = [a.std(ddof=1) if a.size > 1 else 0.0 for a in accs]
        ax.errorbar(xs, [a.mean() for a in accs], yerr=errs, fmt="o-", capsize=3,
                    label=label + f", SNN 4-bit K=64 (mean +- std, {seeds} seeds)")
        ax.axhline(100 * np.mean([run["ann_accuracy"] for run in base.values()]), ls=":",
                   color=ax.lines[-1].get_color())
        for f, by_seed in points:
            runs = list(by_seed.values())
            sizes = ",".join(str(layer["neurons"]) for layer in runs[0]["layers"][:-1])
            # Against the unpruned SNN of the same seed: both come from the same ANN.
            loss = [base[seed]["test_accuracy"] - run["test_accuracy"] for seed, run in by_seed.items() if seed in base]
            print(f"| {label}{count(runs, seeds)} | {sizes} | {stat(r['test_accuracy'] for r in runs)} | "
                  f"{stat(r['ann_accuracy'] for r in runs)} | {stat(loss)} | {stat(r['agreement'] for r in runs)} |")
    ax.set_xlabel("hidden neurons after node pruning (256 + 128 unpruned)")
    ax.set_ylabel("test accuracy (%), full 10k test set")
    ax.set_title("Fashion-MNIST MLP -> SNN, uniform 4-bit, K = 64\n(dotted: the ANN before pruning)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)


def tile_table(directory):
    runs_by_name, seeds = load(directory, "t_")
    if not runs_by_name:
        return
    print(f"On the SystemC tile (`qrsim run --ann`), full test set, T = 64 steps, mean +- std over {seeds} seeds:")
    print()
    print("| converted network | hw | tile acc % | float SNN acc % | ANN acc % | tile/ANN agreement % | "
          "energy per inference uJ (static + dynamic) | tile memory bits | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, by_seed in runs_by_name.items():
        runs = list(by_seed.values())
        r = runs[0]
        bits = sum(r["memory_bits"].values())
        uj = lambda key: stat((x["energy_pj"][key] for x in runs), scale=1e-6)  # noqa: E731
        print(f"| {name}{count(runs, seeds)} | {r['hw']['name']} ({r['hw']['tiles']} tile, K={r['hw']['fanin']}) | "
              f"{stat(x['test_accuracy'] for x in runs)} | {stat(x['float_test_accuracy'] for x in runs)} | "
              f"{stat(x['ann_accuracy'] for x in runs)} | {stat(x['agreement_ann'] for x in runs)} | "
              f"{stat((x['energy_per_inference_pj'] for x in runs), scale=1e-6)} ({uj('static')} + {uj('dynamic')}) | "
              f"{bits:,} | {stat((x['wall_time_s'] for x in runs), scale=1, digits=0)} |")
    print()


def main():
    reports, seeds = load(sys.argv[1])
    table(reports, seeds)
    tile_table(sys.argv[1])
    pruning(reports, seeds, sys.argv[2])


if __name__ == "__main__":
    main()
