#!/usr/bin/python3
"""Step-time distribution of each preset against the step period (docs/step_timing.png).

Usage: plot_step_timing.py OUT.png DIR [PRESET ...]
DIR holds PRESET_run.json (qrsim run: fmnist-rows inference) and PRESET_learn.json
(qrsim run --learn: on-chip training on the learning core's ISS) for each preset, as
scripts/energy_timing writes them. One panel per preset: the histogram of step times
(the reports' log-binned step_timing.histogram), inference and on-chip learning, the step
period as a vertical line and each run's worst step marked.
"""
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def bins(timing):
    h = timing["histogram"]
    lo, per = h["min_s"], h["bins_per_decade"]
    edges = [lo * 10 ** (i / per) for i in range(len(h["counts"]) + 1)]
    return edges, h["counts"]


def duration(s):
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s:.3g} s"


def main():
    out, folder = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    presets = sys.argv[3:] or ["dynapse2", "loihi", "reckon", "uniform4"]
    fig, axes = plt.subplots(len(presets), 1, figsize=(8, 2.3 * len(presets)), sharex=True)
    if len(presets) == 1:
        axes = [axes]
    for ax, preset in zip(axes, presets):
        run = json.loads((folder / f"{preset}_run.json").read_text())["step_timing"]
        learn = json.loads((folder / f"{preset}_learn.json").read_text())["step_timing"]["training"]
        for timing, label, color in ((run, "inference", "tab:blue"), (learn, "on-chip learning (training)", "tab:red")):
            edges, counts = bins(timing)
            total = max(1, sum(counts))
            ax.stairs([c / total for c in counts], edges, fill=True, alpha=0.45, color=color,
                      label=f"{label}: worst {duration(timing['worst']['total_s'])}, "
                            f"{timing['over_period']} of {timing['steps']} steps over")
            ax.axvline(timing["worst"]["total_s"], color=color, linestyle=":", linewidth=1)
        ax.axvline(run["period_s"], color="black", linewidth=1.5, label=f"step period {duration(run['period_s'])}")
        ax.set_xscale("log")
        ax.set_ylabel("share of steps")
        ax.set_title(preset, loc="left", fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    axes[-1].set_xlabel("step time on the tile (s): slowest core + AER routing + learning core")
    axes[-1].set_xlim(1e-7, 1)
    fig.suptitle("fmnist-rows: time a step takes on each preset's tile vs the step period", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
