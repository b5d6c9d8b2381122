#!/usr/bin/python3
"""The fan-in x precision trade-off of the sweep configs/sweeps/fanin_precision.toml: test
accuracy against the fan-in limit K for every weight precision, one panel per training
method and rule (PNG), and the same numbers as Markdown tables (stdout).

Usage: /usr/bin/python3 scripts/plot_fanin_precision.py SWEEP.csv OUT.png
(SWEEP.csv from `qrsim report out/sweeps/fanin_precision`: sweep.csv, one run per point, or
sweep_seeds.csv, mean +- std over seeds: error bars, and "mean +- std" cells.)
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FANINS = [8, 16, 32, 64, 0]  # 0: no fan-in limit
PRECISIONS = [("uniform", "2", "2-bit"), ("uniform", "4", "4-bit"), ("dynapse1", None, "dynapse1"),
              ("dynapse2", None, "dynapse2"), ("none", None, "float")]
METHODS = [("qr", "Quantized Rewiring"), ("deepr", "DEEP R"), ("prune-round", "dense, then prune-and-round")]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot_fanin_precision.py SWEEP.csv OUT.png")
    rows = list(csv.DictReader(open(sys.argv[1])))
    if not rows:
        sys.exit(f"plot_fanin_precision.py: {sys.argv[1]} has no rows")
    rules = sorted({r.get("train.rule", "") or "bptt" for r in rows})

    key = "test_accuracy_mean" if "test_accuracy_mean" in rows[0] else "test_accuracy"

    def acc(rule, method, kind, bits, k):
        """(mean, std) in %; std is 0 for a single run."""
        for r in rows:
            if ((r.get("train.rule", "") or "bptt") == rule and r["constraint.method"] == method
                    and r["constraint.kind"] == kind and int(r["constraint.fanin"]) == k
                    and (bits is None or r.get("constraint.weight_bits") == bits) and r[key]):
                return 100 * float(r[key]), 100 * float(r.get("test_accuracy_std") or 0)
        return None

    fig, axes = plt.subplots(len(rules), len(METHODS), figsize=(4.2 * len(METHODS), 3.4 * len(rules)),
                             sharey=True, squeeze=False)
    xs = list(range(len(FANINS)))
    for i, rule in enumerate(rules):
        print(f"\n**{rule}** (test accuracy %, full test set; K = fan-in entries per neuron)\n")
        print("| method | precision | " + " | ".join(f"K={k}" if k else "dense" for k in FANINS) + " |")
        print("|---|---|" + "---|" * len(FANINS))
        for j, (method, title) in enumerate(METHODS):
            ax = axes[i][j]
            for kind, bits, name in PRECISIONS:
                ys = [acc(rule, method, kind, bits, k) for k in FANINS]
                cells = ["-" if y is None else f"{y[0]:.1f} +- {y[1]:.1f}" if key.endswith("_mean") else f"{y[0]:.1f}"
                         for y in ys]
                print(f"| {method} | {name} | " + " | ".join(cells) + " |")
                pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
                if pts:
                    ax.errorbar([p[0] for p in pts], [p[1][0] for p in pts], yerr=[p[1][1] for p in pts],
                                marker="o", capsize=2, label=name)
            ax.set_title(f"{title} ({rule})", fontsize=10)
            ax.set_xticks(xs, [str(k) if k else "dense" for k in FANINS])
            ax.grid(alpha=0.3)
            if i == len(rules) - 1:
                ax.set_xlabel("fan-in limit K")
            if j == 0:
                ax.set_ylabel("test accuracy (%)")
    axes[0][0].legend(fontsize=8, title="weights", title_fontsize=8)
    fig.suptitle("fmnist-rows, 128 LIF: accuracy vs fan-in limit and weight precision", fontsize=11)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    print(f"\nplot: {sys.argv[2]}", file=sys.stderr)


if __name__ == "__main__":
    main()
