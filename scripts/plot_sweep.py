#!/usr/bin/python3
"""Trade-off plots of a sweep CSV written by `qrsim report`.

Draws test accuracy against memory bits and against energy per sample (inference; and per
training sample where reports have it: run --learn), as PNG and SVG:
one colour and line per method (constraint.method, split by train.rule when that varies),
one marker per weight precision; each method's line joins its own Pareto-optimal points,
and the Pareto front over all points (most accurate for its cost) is ringed in black.
Given the seed summary (`sweep_seeds.csv`: `<metric>_mean` and `<metric>_std` columns), each
point is a setting's mean over its seeds with +-1 std error bars on both axes.

Usage: /usr/bin/python3 scripts/plot_sweep.py SWEEP.csv OUT_DIR
(Debian's python3 with python3-matplotlib; the python3 first on PATH may lack matplotlib.)
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402

MARKERS = "osD^v<>pXh*"
PLOTS = [  # (column of the x axis, axis label, file stem)
    ("memory_bits", "memory (bits)", "accuracy_vs_memory"),
    ("energy_per_sample_pj", "energy per sample (pJ)", "accuracy_vs_energy"),
    ("energy_per_training_sample_pj", "energy per training sample (pJ)", "accuracy_vs_training_energy"),  # run --learn
]


def number(text):
    try:
        x = float(text)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def value(row, key):
    """A metric of a row: its mean over seeds in a seed summary, else the single value."""
    return number(row.get(key + "_mean", row.get(key)))


def spread(row, key):
    return number(row.get(key + "_std")) or 0.0


def label(row, keys):
    parts = [row.get(k, "") for k in keys if row.get(k, "")]
    return " / ".join(parts) if parts else "all points"


def precision(row):
    kind = row.get("constraint.kind", "")
    if kind == "uniform" and row.get("constraint.weight_bits"):
        return f"uniform {row['constraint.weight_bits']}-bit"
    return {"none": "float"}.get(kind, kind)


def pareto(points):
    """Points (x, accuracy) no other point beats: less or equal cost and higher accuracy."""
    front, best = [], -math.inf
    for x, acc in sorted(points, key=lambda p: (p[0], -p[1])):
        if acc > best:
            front.append((x, acc))
            best = acc
    return front


def plot(rows, columns, x_key, x_label, stem, out_dir):
    data = [(value(r, x_key), value(r, "test_accuracy"), r) for r in rows]
    data = [(x, acc, r) for x, acc, r in data if x is not None and acc is not None]
    if not data:
        why = "train reports have none; run and run --learn reports do" if x_key.startswith("energy") else "no report has it"
        print(f"plot_sweep: no {x_key} in the CSV ({why}): {stem} not drawn")
        return
    series_keys = [k for k in ("command", "constraint.method", "train.rule") if k in columns]
    series = sorted({label(r, series_keys) for _, _, r in data})
    precisions = sorted({precision(r) for _, _, r in data})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    fig, ax = plt.subplots(figsize=(7.5, 5))
    for i, name in enumerate(series):
        color = colors[i % len(colors)]
        mine = [(x, acc, r) for x, acc, r in data if label(r, series_keys) == name]
        for j, prec in enumerate(precisions):
            pts = [(x, 100 * acc, spread(r, x_key), 100 * spread(r, "test_accuracy"))
                   for x, acc, r in mine if precision(r) == prec]
            if pts:
                xs, ys, xerr, yerr = zip(*pts)
                ax.scatter(xs, ys, color=color, marker=MARKERS[j % len(MARKERS)], alpha=0.55, s=28)
                if any(xerr) or any(yerr):
                    ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="none", ecolor=color, alpha=0.55, lw=0.8, capsize=2)
        front = pareto([(x, 100 * acc) for x, acc, _ in mine])
        ax.plot(*zip(*front), color=color, lw=1.5, label=name)
    overall = pareto([(x, 100 * acc) for x, acc, _ in data])
    ax.step(*zip(*overall), where="post", color="black", lw=0.8, ls="--")
    ax.scatter(*zip(*overall), facecolors="none", edgecolors="black", s=110, lw=1.2, label="Pareto front")
    if len(precisions) > 1:  # marker legend: precision
        for j, prec in enumerate(precisions):
            ax.scatter([], [], color="grey", marker=MARKERS[j % len(MARKERS)], label=prec or "?")
    xs = [x for x, _, _ in data]
    if min(xs) > 0 and max(xs) / min(xs) > 10:
        ax.set_xscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel("test accuracy (%)")
    seeds = f", mean +- std over seeds" if "test_accuracy_mean" in columns else ""
    ax.set_title(f"test accuracy vs {x_label.split(' (')[0]}, {len(data)} points{seeds}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    for ext in ("png", "svg"):
        path = os.path.join(out_dir, f"{stem}.{ext}")
        fig.savefig(path, dpi=150)
        print(f"plot: {path}")
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[2])
    csv_path, out_dir = sys.argv[1:]
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        rows, columns = list(reader), reader.fieldnames or []
    os.makedirs(out_dir, exist_ok=True)
    plt.rcParams["svg.hashsalt"] = "qrsim"  # reproducible SVG ids
    for x_key, x_label, stem in PLOTS:
        plot(rows, columns, x_key, x_label, stem, out_dir)


if __name__ == "__main__":
    main()
