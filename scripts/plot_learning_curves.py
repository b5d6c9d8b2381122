#!/usr/bin/python3
"""Learning curves of qrsim runs side by side: accuracy and loss of the predictions made while
learning (each report's train_curve: windows of about a twentieth of an epoch) against the
training samples seen, with the test figures of epoch_history as markers.

    scripts/plot_learning_curves.py -o docs/learning_curves.png \\
        "on chip (rv32 firmware)=out/demo/learn.json" "float e-prop=out/demo/float.json"

Each argument is LABEL=REPORT (or a report alone: its command names it). Reports from
`qrsim train` and `qrsim run --learn` have the same keys.
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(arg):
    label, _, path = arg.rpartition("=")
    with open(path) as f:
        report = json.load(f)
    if not report.get("train_curve"):
        sys.exit(f"plot_learning_curves: {path} has no train_curve (a report of qrsim train or run --learn)")
    return label or report.get("command", path), report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reports", nargs="+", metavar="LABEL=REPORT")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--title", default="")
    args = ap.parse_args()

    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, arg in enumerate(args.reports):
        label, r = load(arg)
        colour = f"C{i}"
        curve = r["train_curve"]
        x = [p["samples"] for p in curve]
        acc_ax.plot(x, [100 * p["train_accuracy"] for p in curve], color=colour, label=f"{label}: train (while learning)")
        if all(p.get("train_loss") is not None for p in curve):
            loss_ax.plot(x, [p["train_loss"] for p in curve], color=colour, label=f"{label}: train")
        seen = 0
        for e in r["epoch_history"]:
            seen = max((p["samples"] for p in curve if p["epoch"] == e["epoch"]), default=seen)
            if e.get("test_accuracy") is not None:
                acc_ax.plot([seen], [100 * e["test_accuracy"]], "o", color=colour, markersize=7,
                            label=f"{label}: test {100 * e['test_accuracy']:.1f} % (epoch {e['epoch']})")
            if e.get("test_loss") is not None:
                loss_ax.plot([seen], [e["test_loss"]], "o", color=colour, markersize=7)
    acc_ax.axhline(10, color="grey", linestyle=":", linewidth=1, label="chance (10 classes)")
    acc_ax.set_xlabel("training samples seen")
    acc_ax.set_ylabel("accuracy (%)")
    acc_ax.grid(alpha=0.3)
    acc_ax.legend(fontsize=8)
    loss_ax.set_xlabel("training samples seen")
    loss_ax.set_ylabel("cross-entropy loss (readout window)")
    loss_ax.grid(alpha=0.3)
    loss_ax.legend(fontsize=8)
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"plot_learning_curves: {args.output}")


if __name__ == "__main__":
    main()
